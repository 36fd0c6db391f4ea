import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashDeviceSecret } from '../../gateway/device-secrets.js';
import { createMetrics } from '../../gateway/metrics.js';
import { startBroker, type Broker } from '../../gateway/transports/mqtt-broker.js';
import { metricValue } from '../helpers/until.js';

// Logins past MQTT_MAX_PENDING_LOGINS are answered at once with CONNACK 3 (issue 25): the account lookups are
// held here until the test lets them go, so "pending" is exact, not a race.
const SECRET = 'pacing-secret-123';
const held: (() => void)[] = [];
let hold = true;
const metrics = createMetrics();
let broker: Broker;

beforeAll(async () => {
  broker = await startBroker({
    host: '127.0.0.1', port: 0, integrators: new Map(), bridges: new Map(), bridgePrefix: 'zigbee2mqtt',
    maxPacketBytes: 65_536, bridgeMaxPacketBytes: 65_536, maxConnections: 100, keepaliveMaxS: 600, maxPendingLogins: 2,
    auth: {
      deviceSecretHash: async (id) => {
        if (hold) await new Promise<void>((r) => held.push(r));
        return id.startsWith('pace-') ? hashDeviceSecret(SECRET) : undefined;
      },
    },
    log: pino({ level: 'silent' }),
    metrics,
  });
});
afterAll(async () => broker?.close());

const connect = (id: string) => {
  const c = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: id, username: id, password: SECRET, reconnectPeriod: 0, connectTimeout: 5000 });
  const outcome = new Promise<{ ok: true } | { ok: false; code: number | undefined }>((resolve) => {
    c.once('connect', () => resolve({ ok: true }));
    c.once('error', (e) => resolve({ ok: false, code: (e as { code?: number }).code }));
  });
  return { c, outcome };
};

describe('MQTT login pacing (reconnect storms)', () => {
  it('answers logins past the limit at once with CONNACK 3, counts them, and lets the ones being checked in', async () => {
    const a = connect('pace-a');
    const b = connect('pace-b');
    while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
    const busyBefore = await metricValue(metrics.registry, 'anxin_mqtt_denials_total', 'reason="busy"');
    const c = connect('pace-c');
    expect(await c.outcome).toEqual({ ok: false, code: 3 }); // while a and b are still being checked
    expect(await metricValue(metrics.registry, 'anxin_mqtt_denials_total', 'reason="busy"')).toBe(busyBefore + 1);
    hold = false;
    for (const r of held.splice(0)) r();
    expect(await a.outcome).toEqual({ ok: true });
    expect(await b.outcome).toEqual({ ok: true });
    // the storm is over: the refused device's next try gets in, and a wrong secret is still refused as such
    const again = connect('pace-c');
    expect(await again.outcome).toEqual({ ok: true });
    const wrong = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'pace-d', username: 'pace-d', password: 'nope', reconnectPeriod: 0 });
    const code = await new Promise<number | undefined>((r) => wrong.once('error', (e) => r((e as { code?: number }).code)));
    expect(code).toBe(4);
    for (const x of [a.c, b.c, c.c, again.c, wrong]) x.end(true);
  });
});
