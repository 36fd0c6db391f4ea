/**
 * Scale-out (issue 24): an external Zigbee2MQTT broker (ZIGBEE2MQTT_URL) is read by one node at a time. Two apps on
 * one database: one subscribes, the other stands by (its /healthz says so); a fall is one alarm, handled by the
 * reading node only; when that node stops, the other subscribes and the next fall is handled there.
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { Zigbee2MqttBridgeSim } from '../../simulators/fall-sensor/zigbee.js';
import { login, startTestApp } from '../helpers/app.js';
import { metricValue, until } from '../helpers/until.js';

let external: Aedes;
let server: Server;
let url: string;
let a: App;
let b: App;
let bridge: Zigbee2MqttBridgeSim;
/** subscriptions to the state topic on the external broker, by client id */
const subscribers = new Set<string>();

const frames = (app: App) => metricValue(app.metrics.registry, 'anxin_frames_total', 'protocol="zigbee2mqtt"');
const reader = async () => {
  const h = await Promise.all([a, b].map(async (x) => (await x.http.inject({ url: '/healthz' })).json().parts.zigbee2mqtt.state as string));
  return h;
};

beforeAll(async () => {
  external = await Aedes.createBroker();
  external.on('subscribe', (subs, client) => subs.some((s) => s.topic === 'home/z2m/+') && client && subscribers.add(client.id));
  external.on('clientDisconnect', (client) => subscribers.delete(client.id));
  server = createServer(external.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  const env = { ZIGBEE2MQTT_URL: url, ZIGBEE2MQTT_PREFIX: 'home/z2m', LEADER_TAKEOVER_S: '2' };
  a = await startTestApp({}, { ...env, NODE_ID: 'z-a' });
  b = await startTestApp({ databaseUrl: a.databaseUrl }, { ...env, NODE_ID: 'z-b' });
  const auth = await login(a);
  const e = await a.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '赵淑珍' } });
  const d = await a.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: 'kitchen', protocol: 'zigbee2mqtt', model: 'OWON FDS315', kind: 'fall_sensor', elderId: e.json().id } });
  expect(d.statusCode).toBe(201);
  bridge = new Zigbee2MqttBridgeSim({ url, prefix: 'home/z2m', qos: 1 });
  await bridge.connect();
});

afterAll(async () => {
  await bridge?.close().catch(() => undefined);
  await b?.stop();
  await a?.stop();
  await new Promise<void>((r) => external?.close(() => r()));
  await new Promise<void>((r) => server?.close(() => r()));
});

describe('Zigbee2MQTT from an external broker, two nodes', () => {
  it('one node reads it and the other stands by; a fall is one alarm, handled once', async () => {
    await until(() => subscribers.size === 1);
    expect((await reader()).sort()).toEqual(['disabled', 'up']);
    const [fa, fb] = [await frames(a), await frames(b)];
    await bridge.normal('kitchen', 'owon');
    await bridge.fall('kitchen', 'owon');
    await until(async () => (await a.db.query(`SELECT id FROM alarms WHERE source_key = 'kitchen'`)).rows.length === 1);
    // the two state messages were handled on one node only
    await until(async () => (await frames(a)) - fa + ((await frames(b)) - fb) === 2);
    expect([(await frames(a)) - fa, (await frames(b)) - fb].sort()).toEqual([0, 2]);
    expect(subscribers.size).toBe(1);
  });

  it('when the reading node stops, the other subscribes and handles the next fall', async () => {
    const states = await reader();
    const [holder, other] = states[0] === 'up' ? [a, b] : [b, a];
    await holder.stop();
    await until(async () => (await other.http.inject({ url: '/healthz' })).json().parts.zigbee2mqtt.state === 'up', 20_000);
    await until(() => subscribers.size === 1);
    const before = await frames(other);
    await bridge.fall('kitchen', 'owon');
    // handled by the node that took over (the stopped one reads nothing any more)
    await until(async () => (await frames(other)) > before);
  });
});
