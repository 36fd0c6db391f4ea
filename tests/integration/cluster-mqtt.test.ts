/**
 * The MQTT cluster (issue 24): gateway nodes sharing one PostgreSQL and one real Redis (redis-server), their aedes
 * brokers joined by mqemitter-redis and aedes-persistence-redis. Retained messages and persistent sessions (their
 * subscriptions and QoS 1 messages queued while offline) outlive the node that took them, whether it stops or is
 * cut off from Redis; a device's uplink runs the pipeline once, on the node it is connected to.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import argon2 from 'argon2';
import type { AedesPublishPacket } from 'aedes';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { NativeFallSensor } from '../../simulators/fall-sensor/native.js';
import { login, startTestApp } from '../helpers/app.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { missingTools } from '../helpers/tools.js';

const noRedis = missingTools(['redis-server'], 'redis-server');
const INTEGRATOR = { name: 'city-platform', password: 'integrator-pass-123' };
const BRIDGE = { name: 'z2m', password: 'bridge-pass-12345' };

let redis: TestRedis;
let env: Record<string, string>;
let a: App | undefined;
let b: App;
let auth: { authorization: string };
let elderId: number;
const closers: (() => Promise<unknown>)[] = [];

async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string): Promise<T> {
  // polls until true; the bound only turns a hang into a readable failure
  const end = Date.now() + 15_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not met`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function metric(app: App, name: string, label = ''): Promise<number> {
  const text = await app.metrics.registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(label))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

const urlOf = (app: App) => `mqtt://127.0.0.1:${app.broker.port}`;

/** An MQTT client whose messages are recorded from the start (queued ones arrive right after the CONNACK). */
async function client(app: App, o: IClientOptions): Promise<{ c: MqttClient; connack: IConnackPacket; got: mqtt.IPublishPacket[] }> {
  const c = mqtt.connect(urlOf(app), { reconnectPeriod: 0, ...o });
  const got: mqtt.IPublishPacket[] = [];
  c.on('message', (_t, _p, packet) => got.push(packet));
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  closers.push(() => c.endAsync(true));
  return { c, connack, got };
}

async function register(identifier: string): Promise<string> {
  const r = await b.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier, protocol: 'mqtt-json', elderId, kind: 'fall_sensor' } });
  if (r.statusCode !== 201) throw new Error(`register ${identifier}: ${r.statusCode} ${r.body}`);
  return r.json().mqttSecret;
}

/** A QoS 1 publish by the node itself (as a command to a device is sent), resolved once aedes has stored and sent it. */
function publishOn(app: App, topic: string, body: string): Promise<void> {
  const packet = { cmd: 'publish', topic, payload: Buffer.from(body), qos: 1, retain: false, dup: false } as AedesPublishPacket;
  return new Promise((resolve, reject) => app.broker.aedes.publish(packet, (e) => (e ? reject(e) : resolve())));
}

/** A TCP relay to Redis that can be cut: the node behind it loses Redis at once, and cannot reconnect. */
async function relay(port: number): Promise<{ url: string; cut(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((down) => {
    const up = createConnection({ host: '127.0.0.1', port });
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (down.destroy(), up.destroy(), sockets.delete(s)));
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe.skipIf(noRedis)('MQTT cluster over Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
    env = {
      REDIS_URL: redis.url,
      MQTT_INTEGRATORS: `${INTEGRATOR.name}:${await argon2.hash(INTEGRATOR.password)}`,
      ZIGBEE2MQTT_BRIDGES: `${BRIDGE.name}:${await argon2.hash(BRIDGE.password)}`,
    };
    a = await startTestApp({}, { ...env, NODE_ID: 'node-a' });
    b = await startTestApp({ databaseUrl: a.databaseUrl }, { ...env, NODE_ID: 'node-b' });
    auth = await login(b);
    elderId = (await b.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '王桂兰' } })).json().id;
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await a?.stop();
    await b?.stop();
    await redis?.destroy();
  });

  it('each node is a distinct cluster member, and says so in /healthz', async () => {
    const ids = [a!, b].map((app) => app.broker.cluster?.id);
    expect(ids[0]).toMatch(/^node-a\.[0-9a-f]{6}$/);
    expect(ids[1]).toMatch(/^node-b\.[0-9a-f]{6}$/);
    const h = (await b.http.inject({ method: 'GET', url: '/healthz' })).json();
    expect(h.parts.mqtt).toMatchObject({ state: 'up', detail: expect.stringMatching(/^cluster via redis, node node-b, \d+ clients$/) });
  });

  it('a retained message published on node A reaches a client subscribing on node B', async () => {
    const pub = await client(a!, { clientId: 'z2m-on-a', username: BRIDGE.name, password: BRIDGE.password });
    const devices = JSON.stringify([{ friendly_name: 'bathroom', ieee_address: '0x00124b0012345678' }]);
    await pub.c.publishAsync('zigbee2mqtt/bridge/devices', devices, { qos: 1, retain: true });
    const sub = await client(b, { clientId: 'z2m-on-b', username: BRIDGE.name, password: BRIDGE.password });
    await sub.c.subscribeAsync('zigbee2mqtt/bridge/devices', { qos: 1 });
    const m = await until(() => sub.got[0], 'retained message on B');
    expect(m).toMatchObject({ topic: 'zigbee2mqtt/bridge/devices', retain: true });
    expect(m.payload.toString()).toBe(devices);
  });

  it('a fall sent to node B raises one alarm; node A runs no pipeline for it, and its integrator sees it once', async () => {
    const secret = await register('fs-fall');
    const integrator = await client(a!, { username: INTEGRATOR.name, password: INTEGRATOR.password });
    await integrator.c.subscribeAsync(['anxin/alarms/#', 'anxin/devices/+/events']);
    // B builds device events only once it knows someone listens on another node (A's heartbeat, sent on subscribe)
    await until(() => b.cluster.presence.eventsWantedElsewhere(), 'B knows of the integrator on A');
    const framesA = await metric(a!, 'anxin_frames_total', 'protocol="mqtt-json"');
    const framesB = await metric(b, 'anxin_frames_total', 'protocol="mqtt-json"');

    const s = new NativeFallSensor({ url: urlOf(b), deviceId: 'fs-fall', secret, alarmRetryMs: 60_000 });
    s.on('error', () => undefined);
    await s.connect();
    closers.push(() => s.close());
    expect((await s.fall()).attempts).toBe(1);

    const rows = (await b.db.query(`SELECT id FROM alarms WHERE source_key = 'fs-fall' AND kind = 'fall'`)).rows;
    expect(rows).toHaveLength(1);
    const alarmTopic = `anxin/alarms/${rows[0].id}`;
    // The event reaches A although no client on B subscribes to it (B must not skip building it).
    await until(() => integrator.got.find((p) => p.topic === 'anxin/devices/fs-fall/events'), 'event on A');
    // B publishes a marker after the alarm; Redis delivers one publisher's messages in order, so once A's
    // integrator has the marker it has everything B published before it.
    await publishOn(b, 'anxin/alarms/marker', '{}');
    await until(() => integrator.got.find((p) => p.topic === 'anxin/alarms/marker'), 'marker on A');
    const raised = integrator.got.filter((p) => p.topic === alarmTopic && JSON.parse(p.payload.toString()).action === 'raised');
    expect(raised).toHaveLength(1);
    expect((await b.db.query(`SELECT count(*)::int AS n FROM alarms WHERE source_key = 'fs-fall'`)).rows[0].n).toBe(1);
    // the uplink was decoded on B only: A's copy of it went to MQTT subscribers (none), never to A's pipeline
    expect(await metric(b, 'anxin_frames_total', 'protocol="mqtt-json"')).toBe(framesB + 1);
    expect(await metric(a!, 'anxin_frames_total', 'protocol="mqtt-json"')).toBe(framesA);
    expect(await metric(a!, 'anxin_mqtt_publishes_total', 'role="device"')).toBe(0);
  });

  /** A device with a persistent session on `from`; `lose` takes `from` away; the device comes back on node B. */
  async function sessionSurvives(id: string, from: App, lose: (device: MqttClient) => Promise<void>): Promise<void> {
    const secret = await register(id);
    const login = { clientId: id, username: id, password: secret, clean: false };
    const first = await client(from, login);
    expect(first.connack.sessionPresent).toBe(false);
    await first.c.subscribeAsync(`anxin/down/${id}/#`, { qos: 1 });
    // B learns of the subscription through Redis (aedes' $SYS/sub/add); the queueing below needs it known there
    const persistence = (b.broker.aedes as unknown as { persistence: unknown }).persistence as { subscriptionsByTopic(t: string): Promise<{ clientId: string }[]> };
    await until(async () => (await persistence.subscriptionsByTopic(`anxin/down/${id}/command`)).some((x) => x.clientId === id), 'subscription known on B');
    await lose(first.c);

    // queued for the offline session by B, in Redis
    await publishOn(b, `anxin/down/${id}/command`, '{"cmd":"locate"}');
    // back on B without subscribing again: the session, its subscription and the queued message were in Redis
    const again = await client(b, login);
    expect(again.connack.sessionPresent).toBe(true);
    const queued = await until(() => again.got.find((p) => p.topic === `anxin/down/${id}/command`), 'queued message after reconnecting');
    expect(queued).toMatchObject({ qos: 1 });
    expect(queued.payload.toString()).toBe('{"cmd":"locate"}');
    // and the subscription is live on B
    await publishOn(b, `anxin/down/${id}/command`, '{"cmd":"reboot"}');
    await until(() => again.got.find((p) => p.payload.toString() === '{"cmd":"reboot"}'), 'live message on B');
    expect(again.got.filter((p) => p.payload.toString() === '{"cmd":"locate"}')).toHaveLength(1);
  }

  it('a persistent session outlives its node when the node stops: subscription and offline QoS 1 messages', async () => {
    const node = a!;
    await sessionSurvives('fs-stop', node, async (device) => {
      const closed = new Promise<void>((r) => device.once('close', () => r()));
      a = undefined;
      await node.stop();
      await closed;
    });
  });

  it('… and when its node just loses Redis (cut off, its connections dropped); that node still stops', async () => {
    const link = await relay(redis.port);
    const c = await startTestApp({ databaseUrl: b.databaseUrl }, { ...env, REDIS_URL: link.url, NODE_ID: 'node-c' });
    let stopped = false;
    closers.push(() => (stopped ? Promise.resolve() : c.stop()));
    await sessionSurvives('fs-cut', c, async (device) => {
      link.cut();
      // the node sees it: its Redis connections are down
      await until(async () => (await c.http.inject({ method: 'GET', url: '/healthz' })).json().parts.mqtt.state === 'degraded', 'node C degraded');
      // and the device's connection to it dies with it
      (device.stream as Socket).destroy();
      await new Promise<void>((r) => (device.connected ? device.once('close', () => r()) : r()));
    });
    // with Redis unreachable, stopping gives up on it instead of waiting for ever
    await c.stop();
    stopped = true;
  });
});
