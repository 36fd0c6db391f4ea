import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashDeviceSecret } from '../../gateway/device-secrets.js';
import { createMetrics } from '../../gateway/metrics.js';
import { startBroker, type Broker } from '../../gateway/transports/mqtt-broker.js';
import { metricValue } from '../helpers/until.js';

// The broker's publish path (authorizePublish): the ACL, then the uplink hook, then the PUBACK, each outcome counted in
// anxin_mqtt_publishes_total{role,result}. The hook answers by the topic's last level, so each case is one publish.
const SECRET = 'publish-path-secret';
const metrics = createMetrics();
let broker: Broker;
const seen: { device: string; topic: string; payload: string }[] = [];

beforeAll(async () => {
  broker = await startBroker({
    host: '127.0.0.1', port: 0, integrators: new Map(), bridges: new Map(), bridgePrefix: 'zigbee2mqtt',
    maxPacketBytes: 65_536, bridgeMaxPacketBytes: 65_536, maxConnections: 100, keepaliveMaxS: 600,
    auth: { deviceSecretHash: async (id) => (id.startsWith('pp-') ? hashDeviceSecret(SECRET) : undefined) },
    log: pino({ level: 'silent' }),
    metrics,
  });
});
afterAll(async () => broker?.close());

const hookAnswers = () => {
  broker.hooks.device = async (acct, topic, payload) => {
    seen.push({ device: acct.name, topic, payload: payload.toString() });
    if (topic.endsWith('/boom')) throw new Error('pipeline down');
    return !topic.endsWith('/no');
  };
};

const count = (role: string, result: string) => metricValue(metrics.registry, 'anxin_mqtt_publishes_total', `role="${role}",result="${result}"`);

async function device(id: string) {
  const c = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: id, username: id, password: SECRET, reconnectPeriod: 0, connectTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

/** Publishes at QoS 1: 'acked' when the PUBACK came, 'closed' when the broker closed the connection instead. */
async function publish(c: mqtt.MqttClient, topic: string): Promise<'acked' | 'closed'> {
  const closed = new Promise<'closed'>((r) => c.once('close', () => r('closed')));
  const acked = c.publishAsync(topic, '{"battery":80}', { qos: 1 }).then(
    () => 'acked' as const,
    () => closed,
  );
  const r = await Promise.race([acked, closed]);
  c.end(true);
  return r;
}

describe('the publish path', () => {
  it('acknowledges a device\'s publish on its own topics after the hook, every time, and counts each', async () => {
    hookAnswers();
    const before = await count('device', 'handled');
    const c = await device('pp-ok');
    // the same topic again (the ACL keeps the last topic it allowed) and another of its own topics
    for (const t of ['anxin/up/pp-ok/heartbeat', 'anxin/up/pp-ok/heartbeat', 'anxin/up/pp-ok/event']) await c.publishAsync(t, '{"battery":80}', { qos: 1 });
    c.end(true);
    expect(await count('device', 'handled')).toBe(before + 3);
    expect(seen.filter((s) => s.device === 'pp-ok').map((s) => s.topic)).toEqual(['anxin/up/pp-ok/heartbeat', 'anxin/up/pp-ok/heartbeat', 'anxin/up/pp-ok/event']);
    expect(seen.find((s) => s.device === 'pp-ok')?.payload).toBe('{"battery":80}');
  });

  it('refuses another device\'s topic after the device\'s own topic was allowed: closed, no hook, counted', async () => {
    hookAnswers();
    const denied = await count('device', 'denied');
    const acl = await metricValue(metrics.registry, 'anxin_mqtt_denials_total', 'reason="acl_publish"');
    const c = await device('pp-acl');
    await c.publishAsync('anxin/up/pp-acl/heartbeat', '{}', { qos: 1 });
    expect(await publish(c, 'anxin/up/pp-other/heartbeat')).toBe('closed');
    expect(await count('device', 'denied')).toBe(denied + 1);
    expect(await metricValue(metrics.registry, 'anxin_mqtt_denials_total', 'reason="acl_publish"')).toBe(acl + 1);
    expect(seen.some((s) => s.topic === 'anxin/up/pp-other/heartbeat')).toBe(false);
  });

  it('closes without a PUBACK when the hook answers false, throws, or is not set yet; each counted', async () => {
    hookAnswers();
    const notCommitted = await count('device', 'not_committed');
    const errors = await count('device', 'error');
    expect(await publish(await device('pp-no'), 'anxin/up/pp-no/no')).toBe('closed');
    expect(await publish(await device('pp-boom'), 'anxin/up/pp-boom/boom')).toBe('closed');
    delete broker.hooks.device;
    expect(await publish(await device('pp-early'), 'anxin/up/pp-early/heartbeat')).toBe('closed');
    expect(await count('device', 'not_committed')).toBe(notCommitted + 2);
    expect(await count('device', 'error')).toBe(errors + 1);
  });
});
