/**
 * Zigbee2MQTT read from an external broker (ZIGBEE2MQTT_URL): here a plain aedes broker started by the test,
 * with the simulated bridge publishing to it. Also the embedded broker's connection limit.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { Zigbee2MqttBridgeSim } from '../../simulators/fall-sensor/zigbee.js';
import { login, startTestApp } from '../helpers/app.js';

let external: Aedes;
let externalServer: Server;
let externalPort: number;
let app: App;
let bridge: Zigbee2MqttBridgeSim;
let auth: { authorization: string };

async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string): Promise<T> {
  const end = Date.now() + 10_000; // only turns a hang into a readable failure
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

beforeAll(async () => {
  external = await Aedes.createBroker();
  externalServer = createServer(external.handle);
  await new Promise<void>((r) => externalServer.listen(0, '127.0.0.1', () => r()));
  externalPort = (externalServer.address() as { port: number }).port;
  const gatewaySubscribed = new Promise<void>((resolve) => external.on('subscribe', (subs) => subs.some((s) => s.topic === 'home/z2m/+') && resolve()));
  app = await startTestApp({}, { ZIGBEE2MQTT_URL: `mqtt://127.0.0.1:${externalPort}`, ZIGBEE2MQTT_PREFIX: 'home/z2m', MQTT_MAX_CONNECTIONS: '2' });
  auth = await login(app);
  await gatewaySubscribed;
  bridge = new Zigbee2MqttBridgeSim({ url: `mqtt://127.0.0.1:${externalPort}`, prefix: 'home/z2m', qos: 1 });
  await bridge.connect();
});

afterAll(async () => {
  await bridge?.close().catch(() => undefined);
  await app?.stop();
  await new Promise<void>((r) => external?.close(() => r()));
  await new Promise<void>((r) => externalServer?.close(() => r()));
});

describe('Zigbee2MQTT from an external broker', () => {
  it('an OWON fall under a custom prefix becomes an alarm; health shows the link', async () => {
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '李建国' } });
    await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: 'bathroom', protocol: 'zigbee2mqtt', model: 'OWON FDS315', kind: 'fall_sensor', elderId: e.json().id } });
    await bridge.normal('bathroom', 'owon');
    await bridge.fall('bathroom', 'owon');
    const rows = await until(async () => (await app.db.query(`SELECT kind, priority FROM alarms WHERE source_key = 'bathroom'`)).rows.at(0), 'alarm committed');
    expect(rows).toEqual({ kind: 'fall', priority: 1 });
    const h = await app.http.inject({ url: '/healthz' });
    expect(h.json().parts.zigbee2mqtt).toMatchObject({ state: 'up', mode: 'external' });
  });

  it('bridge topics and other-level topics are not device state', async () => {
    const before = await metric('anxin_frames_total', 'protocol="zigbee2mqtt"');
    await bridge.client!.publishAsync('home/z2m/bridge/state', '{"state":"online"}', { qos: 1 });
    await bridge.client!.publishAsync('home/z2m/bathroom/availability', '{"state":"online"}', { qos: 1 });
    // a last, counted message: once it is counted, the two before it were seen and skipped
    await bridge.client!.publishAsync('home/z2m/bathroom', 'online', { qos: 1 });
    await until(async () => (await metric('anxin_zigbee2mqtt_ignored_total', 'reason="not_json"')) >= 1, 'not_json counted');
    expect(await metric('anxin_frames_total', 'protocol="zigbee2mqtt"')).toBe(before);
  });
});

describe('the embedded broker connection limit', () => {
  it('refuses a connection over MQTT_MAX_CONNECTIONS, and counts it', async () => {
    const before = await metric('anxin_mqtt_denials_total', 'reason="max_connections"');
    const open = async () => {
      const s = connect(app.broker.port, '127.0.0.1');
      s.on('error', () => undefined); // a refused connection may be reset
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    const held: Socket[] = [await open(), await open()];
    await until(async () => (await metric('anxin_connections{', 'protocol="mqtt"')) === 2, 'two connections open');
    const third = await open();
    await new Promise<void>((r) => third.once('close', () => r()));
    expect(await metric('anxin_mqtt_denials_total', 'reason="max_connections"')).toBe(before + 1);
    for (const s of held) s.destroy();
  });
});
