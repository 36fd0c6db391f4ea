/**
 * Issue 25: Mosquitto as the broker, with Anxin as its authentication and ACL backend (MQTT_BROKER_URL,
 * plugins/mosquitto, POST /api/mqtt/authn). Real Mosquitto 2.0 from Debian with the plugin built from source, and
 * a real Anxin: a device's fall becomes a committed alarm and its ack; a wrong secret and another device's topic are
 * refused on Anxin's answer; an integrator reads alarm events; and an alarm sent while Anxin restarts is kept by the
 * broker and committed when Anxin is back.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import argon2 from 'argon2';
import Fastify from 'fastify';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { installErrorHandler } from '../../gateway/http/errors.js';
import { mqttAuthRoutes } from '../../gateway/http/mqtt-auth.js';
import { createMetrics } from '../../gateway/metrics.js';
import { NativeFallSensor } from '../../simulators/fall-sensor/native.js';
import { freePort } from '../../testkit/free-port.js';
import { MOSQUITTO_BIN, startMosquitto, type Mosquitto } from '../../testkit/mosquitto.js';
import { createTestDatabase } from '../helpers/db.js';
import { login, startTestApp } from '../helpers/app.js';
import { metricValue, until } from '../helpers/until.js';

const APT = 'mosquitto mosquitto-dev libmosquitto-dev libcjson-dev libcurl4-openssl-dev';
const noMosquitto = (() => {
  if (existsSync(MOSQUITTO_BIN) && existsSync('/usr/include/mosquitto_broker.h') && existsSync('/usr/include/cjson/cJSON.h')) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true but Mosquitto or its plugin headers are not installed (apt-get install ${APT})`);
  console.warn(`skipping the external broker tests: apt-get install ${APT}`);
  return true;
})();

const TOKEN = randomBytes(16).toString('hex');
const SERVICE = { user: 'anxin', password: 'svc-pass-123' };
const INTEGRATOR = { name: 'city-platform', password: 'integrator-pass-123' };

let mosq: Mosquitto;
let app: App;
let httpPort: number;
let databaseUrl: string;
let auth: { authorization: string };
let elderId: number;
let brokerUrl: string;
const closers: (() => Promise<unknown>)[] = [];

async function startAnxin(): Promise<App> {
  const a = await startTestApp(
    { databaseUrl },
    {
      HTTP_PORT: String(httpPort),
      MQTT_BROKER_URL: `mqtt://${SERVICE.user}:${SERVICE.password}@127.0.0.1:${mosq.port}`,
      MQTT_AUTH_TOKEN: TOKEN,
      MQTT_INTEGRATORS: `${INTEGRATOR.name}:${await argon2.hash(INTEGRATOR.password)}`,
    },
  );
  // Anxin logs in to Mosquitto, which asks Anxin: the first try may come before Anxin's HTTP listens
  await until(() => a.mqttExternal?.connected, 20_000);
  return a;
}

async function register(identifier: string): Promise<string> {
  const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier, protocol: 'mqtt-json', elderId, kind: 'fall_sensor' } });
  if (r.statusCode !== 201) throw new Error(`register ${identifier}: ${r.statusCode} ${r.body}`);
  return r.json().mqttSecret;
}

async function sensor(id: string, secret: string): Promise<NativeFallSensor> {
  const s = new NativeFallSensor({ url: brokerUrl, deviceId: id, secret, alarmRetryMs: 60_000 });
  s.on('error', () => undefined);
  await s.connect();
  closers.push(() => s.close());
  return s;
}

const alarmsOf = async (key: string) => (await app.db.query(`SELECT kind, count, state FROM alarms WHERE source_key = $1 ORDER BY id`, [key])).rows;

beforeAll(async () => {
  if (noMosquitto) return;
  httpPort = await freePort();
  databaseUrl = await createTestDatabase('mqttext');
  mosq = await startMosquitto({ auth: { authnUrl: `http://127.0.0.1:${httpPort}/api/mqtt/authn`, token: TOKEN } });
  brokerUrl = `mqtt://127.0.0.1:${mosq.port}`;
  app = await startAnxin();
  auth = await login(app);
  elderId = (await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '赵秀英' } })).json().id;
}, 60_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await app?.stop();
  await mosq?.stop();
});

describe.skipIf(noMosquitto)('Mosquitto with Anxin as its authentication and ACL backend', () => {
  it('a fall through Mosquitto becomes one committed alarm and is acknowledged; its resend and a second fall make no second alarm', async () => {
    const s = await sensor('fs-ext-1', await register('fs-ext-1'));
    // the same message twice (a device that missed the ack): acknowledged each time, one alarm
    const body = { msgId: 'dup-1', time: new Date().toISOString(), alarms: ['fall'] };
    for (let i = 0; i < 2; i++) {
      const acked = new Promise((r) => s.once('ack', r));
      await s.send('alarm', body);
      await acked;
    }
    expect(await alarmsOf('fs-ext-1')).toEqual([{ kind: 'fall', count: 1, state: expect.any(String) }]);
    // a new fall while the first is open: folded into it and counted, never absorbed silently
    const second = await s.fall();
    expect(second.attempts).toBe(1);
    expect(await alarmsOf('fs-ext-1')).toEqual([{ kind: 'fall', count: 2, state: expect.any(String) }]);
  });

  it("a wrong secret is refused on Anxin's answer, and counted there", async () => {
    await register('fs-ext-2');
    const before = await metricValue(app.metrics.registry, 'anxin_mqtt_denials_total', 'reason="auth"');
    const r = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0, clientId: 'fs-ext-2', username: 'fs-ext-2', password: 'wrong-secret' }).then(
      (c) => c.endAsync().then(() => 'connected'),
      (e: Error) => e.message,
    );
    expect(r).toMatch(/not authori[sz]ed/i);
    expect(await metricValue(app.metrics.registry, 'anxin_mqtt_denials_total', 'reason="auth"')).toBe(before + 1);
    const other = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0, clientId: 'someone-else', username: 'fs-ext-2', password: 'x' }).then(
      (c) => c.endAsync().then(() => 'connected'),
      (e: Error) => e.message,
    );
    expect(other).toMatch(/not authori[sz]ed/i);
  });

  it("a device cannot publish as another device, nor read another's downlinks", async () => {
    const a = await sensor('fs-ext-3', await register('fs-ext-3'));
    await register('fs-ext-4');
    await a.client!.publishAsync('anxin/up/fs-ext-4/alarm', JSON.stringify({ msgId: 'forged', alarms: ['sos'] }), { qos: 1 });
    // Mosquitto answers the refused filter with 128 in its SUBACK, which mqtt.js turns into an error
    await expect(a.client!.subscribeAsync('anxin/down/fs-ext-4/#', { qos: 1 })).rejects.toThrow(/subscribe error/i);
    // its own message after the forged one is handled: had the forged one gone through, it would have come first
    const acked = new Promise((r) => a.once('ack', r));
    await a.send('heartbeat', { msgId: 'own-1' });
    await acked;
    expect(await alarmsOf('fs-ext-4')).toEqual([]);
  });

  it('an integrator reads alarm events through Mosquitto and may not publish to devices', async () => {
    const s = await sensor('fs-ext-5', await register('fs-ext-5'));
    const integrator = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0, clientId: 'city-1', username: INTEGRATOR.name, password: INTEGRATOR.password });
    closers.push(() => integrator.endAsync());
    expect((await integrator.subscribeAsync('anxin/alarms/#', { qos: 0 }))[0]!.qos).toBe(0);
    await expect(integrator.subscribeAsync('anxin/#', { qos: 0 })).rejects.toThrow(/subscribe error/i);
    const seen: string[] = [];
    integrator.on('message', (_t, p) => seen.push(p.toString()));
    await s.alarm(['sos']);
    await until(() => seen.some((m) => m.includes('"sos"')));
    // a downlink forged by the integrator never reaches the device
    await integrator.publishAsync('anxin/down/fs-ext-5/ack', JSON.stringify({ msgId: 'forged', ok: true }), { qos: 1 });
    const acked = new Promise((r) => s.once('ack', r));
    await s.send('heartbeat', { msgId: 'own-2' });
    await acked;
    expect(s.replies.map((r) => r.body.msgId)).not.toContain('forged');
  });

  it('an alarm sent while Anxin restarts is kept by Mosquitto and committed when Anxin is back', async () => {
    const s = await sensor('fs-ext-6', await register('fs-ext-6'));
    await app.stop();
    // Anxin is down; the device is still connected to Mosquitto and raises its alarm
    const result = s.alarm(['sos']);
    await new Promise((r) => setTimeout(r, 300));
    app = await startAnxin();
    auth = await login(app);
    const r = await result;
    expect(r.attempts).toBe(1); // not resent: the broker kept the first one for Anxin's session
    expect(await alarmsOf('fs-ext-6')).toEqual([{ kind: 'sos', count: 1, state: expect.any(String) }]);
  }, 60_000);
});

describe.skipIf(noMosquitto)('the authentication hook itself', () => {
  const call = (url: string, payload: unknown, token: string | null = TOKEN) =>
    app.http.inject({ method: 'POST', url, payload: payload as object, headers: token === null ? {} : { authorization: `Bearer ${token}` } });

  it('answers only the broker: no token or a wrong one is a 401, and says nothing about the login', async () => {
    const body = { clientid: 'fs-ext-1', username: 'fs-ext-1', password: 'x' };
    for (const t of [null, 'wrong']) {
      const r = await call('/api/mqtt/authn', body, t);
      expect(r.statusCode).toBe(401);
      expect(r.body).not.toMatch(/fs-ext-1|allow|deny/);
    }
  });

  it("answers a device's login with its rules, the last of which denies the rest; authz agrees with them", async () => {
    const secret = await register('fs-ext-7');
    const r = await call('/api/mqtt/authn', { clientid: 'fs-ext-7', username: 'fs-ext-7', password: secret, peerhost: '127.0.0.1' });
    expect(r.json()).toEqual({
      result: 'allow',
      is_superuser: false,
      acl: [
        { permission: 'allow', action: 'publish', topic: 'anxin/up/fs-ext-7/#' },
        { permission: 'allow', action: 'subscribe', topic: 'anxin/down/fs-ext-7/#' },
        { permission: 'deny', action: 'all', topic: '#' },
      ],
    });
    const authz = async (topic: string, action: string) => (await call('/api/mqtt/authz', { clientid: 'fs-ext-7', username: 'fs-ext-7', topic, action })).json().result;
    expect(await authz('anxin/up/fs-ext-7/alarm', 'publish')).toBe('allow');
    expect(await authz('anxin/up/fs-ext-1/alarm', 'publish')).toBe('deny');
    expect(await authz('anxin/down/fs-ext-7/#', 'subscribe')).toBe('allow');
    expect(await authz('anxin/down/+/ack', 'subscribe')).toBe('deny');
    expect(await authz('$SYS/broker/clients', 'subscribe')).toBe('deny');
  });

  it('is off without MQTT_AUTH_TOKEN: a 404 that says so', async () => {
    const bare = Fastify();
    installErrorHandler(bare);
    await bare.register((f) => mqttAuthRoutes(f, { book: { integrators: new Map(), bridges: new Map(), deviceSecretHash: async () => 'x' }, bridgePrefix: 'z2m', metrics: createMetrics(), log: pino({ level: 'silent' }) }));
    const r = await bare.inject({ method: 'POST', url: '/api/mqtt/authn', payload: { clientid: 'a', username: 'a', password: 'b' }, headers: { authorization: 'Bearer x' } });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'not_enabled', message: expect.stringContaining('MQTT_AUTH_TOKEN') });
    await bare.close();
  });

  it('a database that is down is a 503, never a wrong password', async () => {
    const bare = Fastify();
    installErrorHandler(bare);
    const down = async (): Promise<string> => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    };
    await bare.register((f) => mqttAuthRoutes(f, { token: 't', book: { integrators: new Map(), bridges: new Map(), deviceSecretHash: down }, bridgePrefix: 'z2m', metrics: createMetrics(), log: pino({ level: 'silent' }) }));
    const r = await bare.inject({ method: 'POST', url: '/api/mqtt/authn', payload: { clientid: 'fs-1', username: 'fs-1', password: 'right-or-wrong' }, headers: { authorization: 'Bearer t' } });
    expect(r.statusCode).toBe(503);
    expect(r.body).not.toMatch(/deny|allow/);
    await bare.close();
  });

  it('an over-long login is denied, not a 400 (which the broker would take for Anxin being down)', async () => {
    for (const body of [
      { clientid: 'x'.repeat(300), username: 'x'.repeat(300), password: 'p' },
      { clientid: 'fs-ext-1', username: 'fs-ext-1', password: 'p'.repeat(2000) },
    ]) {
      const r = await call('/api/mqtt/authn', body);
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ result: 'deny' });
    }
  });

  it('a bad body is a 400 naming the field, and never echoes the password', async () => {
    const r = await call('/api/mqtt/authn', { username: 'x', password: 'p4ssw0rd-in-body' });
    expect(r.statusCode).toBe(400);
    expect(r.json().fields).toEqual([{ field: 'body/clientid', message: expect.any(String) }]);
    expect(r.body).not.toContain('p4ssw0rd-in-body');
  });
});
