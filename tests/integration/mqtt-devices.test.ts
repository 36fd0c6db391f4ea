/**
 * MQTT devices against the real server: per-device login (mqtt.js and mosquitto_pub), the ACL, a fall that
 * becomes a committed alarm and bus events an integrator (mosquitto_sub) sees, the ack after the commit,
 * invalid payloads answered on the error topic, the packet size cap, keep-alive, TLS, and Zigbee2MQTT
 * sensors published by a bridge account on the embedded broker.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import argon2 from 'argon2';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { DeviceMessage } from '../../protocols/message.js';
import { NativeFallSensor, type ServerReply } from '../../simulators/fall-sensor/native.js';
import { Zigbee2MqttBridgeSim } from '../../simulators/fall-sensor/zigbee.js';
import { login, startTestApp } from '../helpers/app.js';
import { missingTools, run, Running } from '../helpers/tools.js';

const noMosquitto = missingTools(['mosquitto_pub', 'mosquitto_sub'], 'mosquitto-clients');
const noOpenssl = missingTools(['openssl'], 'openssl');
const INTEGRATOR = { name: 'city-platform', password: 'integrator-pass-123' };
const BRIDGE = { name: 'z2m', password: 'bridge-pass-12345' };
const MAX_PACKET = 4096;

let app: App;
let auth: { authorization: string };
let elderId: number;
let url: string;
let ca: Buffer | undefined;
let caPath = '';
const closers: (() => Promise<unknown>)[] = [];

async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what = 'condition'): Promise<T> {
  // polls until true; the bound only turns a hang into a readable failure
  const end = Date.now() + 10_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not met`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function metric(name: string, label = ''): Promise<number> {
  const text = await app.metrics.registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(label))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

async function register(identifier: string, protocol: string, model?: string): Promise<{ id: number; mqttSecret?: string }> {
  const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier, protocol, elderId, kind: 'fall_sensor', ...(model ? { model } : {}) } });
  if (r.statusCode !== 201) throw new Error(`register ${identifier}: ${r.statusCode} ${r.body}`);
  return r.json();
}

async function sensor(id: string, secret: string): Promise<NativeFallSensor> {
  const s = new NativeFallSensor({ url, deviceId: id, secret, alarmRetryMs: 60_000 });
  s.on('error', () => undefined);
  await s.connect();
  closers.push(() => s.close());
  return s;
}

const nextReply = (s: NativeFallSensor, event: 'ack' | 'server_error', pred: (r: ServerReply) => boolean = () => true) =>
  new Promise<ServerReply>((resolve) => {
    const on = (r: ServerReply) => {
      if (!pred(r)) return;
      s.off(event, on);
      resolve(r);
    };
    s.on(event, on);
  });

/** A self-signed certificate for 127.0.0.1, made with openssl. */
function makeCert(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'anxin-mqtt-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

beforeAll(async () => {
  const env: Record<string, string> = {
    MQTT_INTEGRATORS: `${INTEGRATOR.name}:${await argon2.hash(INTEGRATOR.password)}`,
    ZIGBEE2MQTT_BRIDGES: `${BRIDGE.name}:${await argon2.hash(BRIDGE.password)}`,
    MQTT_MAX_PACKET_BYTES: String(MAX_PACKET),
  };
  if (!noOpenssl) {
    const t = makeCert();
    Object.assign(env, { MQTT_TLS_CERT: t.cert, MQTT_TLS_KEY: t.key, MQTT_TLS_PORT: '0' });
    ca = readFileSync(t.cert);
    caPath = t.cert;
  }
  app = await startTestApp({}, env);
  url = `mqtt://127.0.0.1:${app.broker.port}`;
  auth = await login(app);
  elderId = (await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '王桂兰' } })).json().id;
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await app?.stop();
});

describe('MQTT device login', () => {
  let secret: string;
  beforeAll(async () => {
    secret = (await register('fs-login', 'mqtt-json')).mqttSecret!;
  });

  it('registration issues a secret; the device logs in with id = username = client id', async () => {
    expect(secret).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const s = await sensor('fs-login', secret);
    expect(s.client!.connected).toBe(true);
    await s.close();
  });

  it('a wrong secret, an unknown id, or another client id is refused, and counted', async () => {
    const before = await metric('anxin_mqtt_denials_total');
    const attempt = (o: mqtt.IClientOptions) => mqtt.connectAsync(url, { reconnectPeriod: 0, ...o }).then((c) => c.endAsync().then(() => 'connected'), (e: Error) => e.message);
    expect(await attempt({ clientId: 'fs-login', username: 'fs-login', password: 'wrong-secret' })).toMatch(/bad user ?name or password/i);
    expect(await attempt({ clientId: 'nobody', username: 'nobody', password: secret })).toMatch(/bad user ?name or password/i);
    expect(await attempt({ clientId: 'someone-else', username: 'fs-login', password: secret })).toMatch(/identifier rejected/i);
    expect(await attempt({ clientId: 'fs-login' })).toMatch(/bad user ?name or password/i);
    expect(await metric('anxin_mqtt_denials_total')).toBe(before + 4);
    expect(await metric('anxin_mqtt_denials_total', 'reason="client_id"')).toBeGreaterThanOrEqual(1);
  });

  it('an integrator account cannot take a device\'s client id', async () => {
    const r = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: 'fs-login', username: INTEGRATOR.name, password: INTEGRATOR.password }).then(
      (c) => c.endAsync().then(() => 'connected'),
      (e: Error) => e.message,
    );
    expect(r).toMatch(/identifier rejected/i);
  });

  it('keep-alive is required: 0 (never time out) is refused', async () => {
    const before = await metric('anxin_mqtt_denials_total', 'reason="keepalive"');
    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: 'fs-login', username: 'fs-login', password: secret, keepalive: 0 })).rejects.toThrow();
    await until(async () => (await metric('anxin_mqtt_denials_total', 'reason="keepalive"')) === before + 1, 'keepalive denial counted');
  });

  it.skipIf(noMosquitto)('mosquitto_pub: accepted with the secret, refused without it', async () => {
    const base = ['-h', '127.0.0.1', '-p', String(app.broker.port), '-i', 'fs-login', '-u', 'fs-login', '-t', 'anxin/up/fs-login/heartbeat', '-q', '1', '-m', '{"battery":77}'];
    const good = await run('mosquitto_pub', [...base, '-P', secret]);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    await until(async () => (await app.db.query(`SELECT battery FROM devices WHERE identifier = 'fs-login'`)).rows[0]?.battery === 77, 'battery from mosquitto_pub');
    const bad = await run('mosquitto_pub', [...base, '-P', 'wrong-secret']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/not authori[sz]ed|bad user name or password/i);
  });

  it.skipIf(noOpenssl)('MQTT over TLS with the configured certificate', async () => {
    expect(app.broker.tlsPort).toBeGreaterThan(0);
    const s = new NativeFallSensor({ url: `mqtts://127.0.0.1:${app.broker.tlsPort}`, deviceId: 'fs-login', secret, ca });
    await s.connect();
    closers.push(() => s.close());
    const acked = nextReply(s, 'ack', (r) => r.body.msgId === 'tls-1');
    await s.send('heartbeat', { msgId: 'tls-1' });
    expect((await acked).body).toEqual({ msgId: 'tls-1', ok: true });
    await s.close();
    if (noMosquitto) return;
    const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(app.broker.tlsPort), '--cafile', caPath, '-i', 'fs-login', '-u', 'fs-login', '-P', secret, '-t', 'anxin/up/fs-login/heartbeat', '-q', '1', '-m', '{}']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('the ACL', () => {
  let secret: string;
  beforeAll(async () => {
    secret = (await register('fs-acl', 'mqtt-json')).mqttSecret!;
  });

  it('publishing on another device\'s topic closes the connection, and is counted', async () => {
    const before = await metric('anxin_mqtt_denials_total', 'reason="acl_publish"');
    const s = await sensor('fs-acl', secret);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.client!.publish('anxin/up/fs-login/alarm', JSON.stringify({ alarms: ['sos'] }), { qos: 1 });
    await closed;
    expect(await metric('anxin_mqtt_denials_total', 'reason="acl_publish"')).toBe(before + 1);
    expect((await app.db.query(`SELECT count(*)::int AS n FROM alarms WHERE source_key = 'fs-login'`)).rows[0].n).toBe(0);
  });

  it('subscribing outside anxin/down/{id}/# gets a failure SUBACK; the connection stays', async () => {
    const before = await metric('anxin_mqtt_denials_total', 'reason="acl_subscribe"');
    const s = await sensor('fs-acl', secret);
    // mqtt.js rejects a SUBACK holding any failure code, and hands over the packet with the codes
    const suback = await s.client!.subscribeAsync(['anxin/alarms/#', 'anxin/down/fs-login/#', 'anxin/down/fs-acl/ack']).then(
      () => null,
      (e: { packet?: { granted: number[] } }) => e.packet,
    );
    expect(suback?.granted).toEqual([128, 128, 0]);
    expect(s.client!.connected).toBe(true);
    expect(await metric('anxin_mqtt_denials_total', 'reason="acl_subscribe"')).toBe(before + 2);
  });

  it.skipIf(noMosquitto)('mosquitto_sub: an integrator may not read anxin/#', async () => {
    const r = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(app.broker.port), '-u', INTEGRATOR.name, '-P', INTEGRATOR.password, '-t', 'anxin/#', '-C', '1']);
    expect(r.stderr + r.stdout).toMatch(/subscription requests were denied/i);
  });
});

describe('a fall, end to end', () => {
  let secret: string;
  let deviceId: number;
  beforeAll(async () => {
    const d = await register('fs-0001', 'mqtt-json');
    secret = d.mqttSecret!;
    deviceId = d.id;
  });

  it('is acknowledged only after the alarm is committed; integrators see the event and the alarm', async () => {
    const s = await sensor('fs-0001', secret);
    const pubacks: unknown[] = [];
    s.on('puback', (p) => pubacks.push(p));

    // An integrator (a real mosquitto_sub, else mqtt.js) reading both bus topics.
    const seen: string[] = [];
    let sub: Running | undefined;
    if (!noMosquitto) {
      // mosquitto_sub's own output is buffered until a message arrives, so ask the broker when it has subscribed
      const subscribed = new Promise<void>((resolve) => {
        const on = (subs: { topic: string }[]) => {
          if (!subs.some((x) => x.topic === 'anxin/alarms/#')) return;
          app.broker.aedes.off('subscribe', on);
          resolve();
        };
        app.broker.aedes.on('subscribe', on);
      });
      sub = Running.start('mosquitto_sub', ['-v', '-h', '127.0.0.1', '-p', String(app.broker.port), '-u', INTEGRATOR.name, '-P', INTEGRATOR.password, '-t', 'anxin/devices/+/events', '-t', 'anxin/alarms/#']);
      closers.push(() => sub!.stop());
      await subscribed;
    } else {
      const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, username: INTEGRATOR.name, password: INTEGRATOR.password });
      closers.push(() => c.endAsync());
      c.on('message', (t, p) => seen.push(`${t} ${p.toString()}`));
      expect((await c.subscribeAsync(['anxin/devices/+/events', 'anxin/alarms/#'])).map((g) => g.qos)).toEqual([0, 0]);
    }
    const lines = () => (sub ? sub.lines : seen);

    // Hold the alarms table: the commit cannot happen until we let go.
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    const fall = s.fall();
    // the pipeline is now waiting for that lock (a fact, not a guess about time)
    await until(async () => (await blocker.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'alarms' AND NOT l.granted`)).rows[0].n > 0, 'pipeline blocked on alarms');
    expect(s.replies.filter((r) => r.topic.endsWith('/ack'))).toEqual([]);
    expect(pubacks).toEqual([]); // the QoS 1 PUBACK waits for the commit too
    await blocker.query('COMMIT');
    await blocker.end();

    const r = await fall;
    const rows = await app.db.query(`SELECT id, kind, priority, state, device_id FROM alarms WHERE source_key = 'fs-0001'`);
    expect(rows.rows).toEqual([{ id: expect.anything(), kind: 'fall', priority: 1, state: 'raised', device_id: deviceId }]);
    expect(r.attempts).toBe(1);
    await until(() => pubacks.length === 1, 'puback');

    const alarmId = String(rows.rows[0].id);
    const event = await until(() => lines().find((l) => l.startsWith('anxin/devices/fs-0001/events ') && l.includes('"alarms":["fall"]')), 'event seen');
    expect(JSON.parse(event.slice(event.indexOf(' ') + 1))).toMatchObject({ deviceId: 'fs-0001', protocol: 'mqtt-json', kind: 'alarm', device: deviceId });
    const alarm = await until(() => lines().find((l) => l.startsWith(`anxin/alarms/${alarmId} `)), 'alarm seen');
    expect(JSON.parse(alarm.slice(alarm.indexOf(' ') + 1))).toMatchObject({ action: 'raised', alarm: { kind: 'fall' } });
    await sub?.stop();
  });

  it('the same fall sent again is the same alarm, and is acknowledged again', async () => {
    const s = await sensor('fs-0001', secret);
    const body = { msgId: 'dup-1', time: '2026-08-01T10:00:00+08:00', alarms: ['fall'] };
    for (let i = 0; i < 2; i++) {
      const acked = nextReply(s, 'ack', (r) => r.body.msgId === 'dup-1');
      await s.send('alarm', body);
      await acked;
    }
    const rows = await app.db.query(`SELECT count FROM alarms WHERE source_key = 'fs-0001' AND kind = 'fall'`);
    expect(rows.rows).toHaveLength(1);
  });
});

describe('bad input', () => {
  let secret: string;
  beforeAll(async () => {
    secret = (await register('fs-bad', 'mqtt-json')).mqttSecret!;
  });

  it('invalid JSON is answered on anxin/down/{id}/error; the connection and the server carry on', async () => {
    const s = await sensor('fs-bad', secret);
    const before = await metric('anxin_bad_frames_total', 'protocol="mqtt-json"');
    const err = nextReply(s, 'server_error');
    await s.sendRaw('alarm', '{"alarms": [fall]}');
    expect((await err).body).toMatchObject({ error: 'invalid_json', problems: [{ path: '' }] });
    const err2 = nextReply(s, 'server_error');
    await s.send('alarm', { msgId: 'bad-2', alarms: ['falling'] });
    expect((await err2).body).toMatchObject({ msgId: 'bad-2', error: 'invalid_payload', problems: [{ path: '/alarms/0' }] });
    expect(await metric('anxin_bad_frames_total', 'protocol="mqtt-json"')).toBe(before + 2);
    // the same connection is still served
    const ok = nextReply(s, 'ack', (r) => r.body.msgId === 'after-bad');
    await s.send('status', { msgId: 'after-bad', states: { presence: true } });
    expect((await ok).body).toEqual({ msgId: 'after-bad', ok: true });
    expect(s.client!.connected).toBe(true);
  });

  it('an oversized packet closes the connection and is counted; the next connection works', async () => {
    const before = await metric('anxin_mqtt_denials_total', 'reason="packet_too_large"');
    const s = await sensor('fs-bad', secret);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.client!.publish('anxin/up/fs-bad/status', Buffer.alloc(MAX_PACKET * 4, 0x20), { qos: 0 });
    await closed;
    expect(await metric('anxin_mqtt_denials_total', 'reason="packet_too_large"')).toBe(before + 1);
    const again = await sensor('fs-bad', secret);
    const ok = nextReply(again, 'ack', (r) => r.body.msgId === 'after-big');
    await again.send('heartbeat', { msgId: 'after-big' });
    await ok;
  });

  it.skipIf(noMosquitto)('mosquitto_pub: an oversized message is refused too', async () => {
    const before = await metric('anxin_mqtt_denials_total', 'reason="packet_too_large"');
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(app.broker.port), '-i', 'fs-bad', '-u', 'fs-bad', '-P', secret, '-t', 'anxin/up/fs-bad/status', '-q', '1', '-s'], 'x'.repeat(MAX_PACKET * 2));
    await until(async () => (await metric('anxin_mqtt_denials_total', 'reason="packet_too_large"')) === before + 1, 'oversize from mosquitto_pub counted');
  });
});

describe('Zigbee2MQTT sensors through a bridge account', () => {
  let bridge: Zigbee2MqttBridgeSim;
  const messages: DeviceMessage[] = [];
  beforeAll(async () => {
    await register('bedroom-radar', 'zigbee2mqtt', 'MIR-HE200-TY');
    await register('hall-sensor', 'zigbee2mqtt', 'SNZB-03');
    await register('0x00158d0001a2b3c4', 'zigbee2mqtt', 'HS2FD-EF1-3.0');
    await register('living-cube', 'zigbee2mqtt', 'MFKZQ01LM');
    app.bus.on('device.message', ({ msg }) => void messages.push(msg));
    // QoS 1, so each publish resolves after the gateway has handled it (PUBACK after the pipeline)
    bridge = new Zigbee2MqttBridgeSim({ url, username: BRIDGE.name, password: BRIDGE.password, qos: 1 });
    await bridge.connect();
    closers.push(() => bridge.close());
  });

  const alarmsOf = async (key: string) => (await app.db.query(`SELECT kind, count FROM alarms WHERE source_key = $1 ORDER BY id`, [key])).rows;

  it('presence feeds the message states; a Tuya fall becomes one alarm, its cached repeats do not', async () => {
    await bridge.normal('bedroom-radar', 'tuya', true);
    expect(messages.at(-1)).toMatchObject({ deviceId: 'bedroom-radar', kind: 'status', states: { presence: true, occupancy: true } });
    await bridge.fall('bedroom-radar', 'tuya');
    await bridge.publishVendor('bedroom-radar', 'tuya', { alarm: true, present: true }, { linkquality: 77 });
    expect(await alarmsOf('bedroom-radar')).toEqual([{ kind: 'fall', count: 1 }]);
  });

  it('a device registered by IEEE address is found through include_device_information', async () => {
    await bridge.publishVendor('hallway-heiman', 'heiman', { alarm: true, present: true }, { device: { ieeeAddr: '0x00158D0001A2B3C4', friendlyName: 'hallway-heiman' } });
    expect(await alarmsOf('0x00158d0001a2b3c4')).toEqual([{ kind: 'fall', count: 1 }]);
  });

  it('an unknown Zigbee model is ignored, and counted', async () => {
    const before = await metric('anxin_zigbee2mqtt_ignored_total', 'reason="unknown_model"');
    await bridge.fall('hall-sensor', 'tuya');
    expect(await metric('anxin_zigbee2mqtt_ignored_total', 'reason="unknown_model"')).toBe(before + 1);
    expect(await alarmsOf('hall-sensor')).toEqual([]);
  });

  it('the Aqara cube dropping is not a fall, registered or not', async () => {
    const before = await metric('anxin_zigbee2mqtt_ignored_total', 'reason="unregistered"');
    await bridge.fall('living-cube', 'cube');
    await bridge.fall('other-cube', 'cube');
    expect(await alarmsOf('living-cube')).toEqual([]);
    expect(await metric('anxin_zigbee2mqtt_ignored_total', 'reason="unregistered"')).toBe(before + 1);
  });

  it('an unregistered fall sensor is refused and listed as awaiting registration', async () => {
    await bridge.fall('new-owon', 'owon');
    const list = await app.http.inject({ url: '/api/devices/unregistered', headers: auth });
    expect(list.json()).toContainEqual(expect.objectContaining({ identifier: 'new-owon', protocol: 'zigbee2mqtt' }));
    expect(await alarmsOf('new-owon')).toEqual([]);
  });
});
