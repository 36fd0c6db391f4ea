import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterCovers, SubscriberInterest } from '../../../gateway/transports/mqtt-interest.js';
import { until } from '../../helpers/until.js';

const FAMILY = 'anxin/devices/+/events';

describe('filterCovers', () => {
  it.each([
    ['#', true],
    ['anxin/#', true],
    ['anxin/devices/#', true],
    ['anxin/devices/+/events', true],
    ['anxin/devices/86000001/events', true],
    ['+/devices/+/+', true],
    ['anxin/devices/+/events/#', true], // '#' also matches the parent level (MQTT 3.1.1 §4.7.1.2)
    ['anxin/alarms/#', false],
    ['anxin/devices/+', false],
    ['anxin/devices/+/events/x', false],
    ['Anxin/devices/+/events', false],
    ['$SYS/#', false],
  ])('%s → %s', (filter, covers) => {
    expect(filterCovers(filter, FAMILY)).toBe(covers);
  });

  it('wildcards in the first level do not reach $-topics', () => {
    expect(filterCovers('#', '$SYS/x')).toBe(false);
    expect(filterCovers('$SYS/#', '$SYS/x')).toBe(true);
  });
});

describe('SubscriberInterest over a real aedes', () => {
  let aedes: Aedes;
  let server: Server;
  let url: string;
  let interest: SubscriberInterest;

  beforeAll(async () => {
    aedes = await Aedes.createBroker();
    // refuse one filter, as Anxin's ACL does for topics a client may not read
    aedes.authorizeSubscribe = (_c, sub, cb) => cb(null, sub.topic === 'anxin/devices/forbidden/events' ? null : sub);
    interest = new SubscriberInterest(aedes, FAMILY);
    server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('follows subscribe, unsubscribe and disconnect; ignores other topics and refused filters', async () => {
    expect(interest.any).toBe(false);
    const a = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    await a.subscribeAsync('anxin/alarms/#');
    await expect(a.subscribeAsync('anxin/devices/forbidden/events')).rejects.toThrow(/Subscribe error/);
    expect(interest.any).toBe(false);
    await a.subscribeAsync('anxin/devices/+/events');
    expect(interest.any).toBe(true);
    await a.unsubscribeAsync('anxin/devices/+/events');
    expect(interest.any).toBe(false);

    const b = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    await b.subscribeAsync('#');
    expect(interest.any).toBe(true);
    await b.endAsync();
    await until(() => !interest.any);
    await a.endAsync();
  });

  it('counts a persistent session restored on reconnect', async () => {
    const opts = { reconnectPeriod: 0, clientId: 'integrator-1', clean: false } as const;
    const c1 = await mqtt.connectAsync(url, opts);
    await c1.subscribeAsync('anxin/devices/+/events', { qos: 1 });
    await c1.endAsync();
    await until(() => !interest.any);
    const c2 = await mqtt.connectAsync(url, opts);
    await until(() => interest.any);
    await c2.endAsync();
  });
});
