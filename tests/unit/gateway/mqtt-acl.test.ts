import { describe, expect, it } from 'vitest';
import { checkPrefix, filterWithin, mayPublish, maySubscribe, parseAccounts, type Account } from '../../../gateway/transports/mqtt-acl.js';
import { PacketSizeGuard } from '../../../gateway/transports/mqtt-limits.js';

const device: Account = { role: 'device', name: 'fs-1' };
const integrator: Account = { role: 'integrator', name: 'city-platform' };
const bridge: Account = { role: 'bridge', name: 'z2m' };

describe('filterWithin: a subscription is allowed only inside the allowed filter', () => {
  it.each([
    ['anxin/alarms/#', 'anxin/alarms/#', true],
    ['anxin/alarms/42', 'anxin/alarms/#', true],
    ['anxin/alarms', 'anxin/alarms/#', true],
    ['anxin/alarms/+/x', 'anxin/alarms/#', true],
    ['anxin/#', 'anxin/alarms/#', false],
    ['#', 'anxin/alarms/#', false],
    ['+/alarms/1', 'anxin/alarms/#', false],
    ['anxin/devices/+/events', 'anxin/devices/+/events', true],
    ['anxin/devices/fs-1/events', 'anxin/devices/+/events', true],
    ['anxin/devices/#', 'anxin/devices/+/events', false],
    ['anxin/devices/+/+', 'anxin/devices/+/events', false],
    ['anxin/devices/fs-1/events/x', 'anxin/devices/+/events', false],
    ['anxin/devices/fs-1', 'anxin/devices/+/events', false],
    ['$SYS/#', '#', false],
  ])('%s within %s: %s', (filter, allowed, want) => {
    expect(filterWithin(filter, allowed)).toBe(want);
  });
});

describe('the ACL', () => {
  it('a device publishes only under anxin/up/{id}/# and subscribes only under anxin/down/{id}/#', () => {
    expect(mayPublish(device, 'anxin/up/fs-1/alarm', 'zigbee2mqtt')).toBe(true);
    expect(mayPublish(device, 'anxin/up/fs-2/alarm', 'zigbee2mqtt')).toBe(false);
    expect(mayPublish(device, 'anxin/up/fs-10/alarm', 'zigbee2mqtt')).toBe(false);
    expect(mayPublish(device, 'anxin/alarms/1', 'zigbee2mqtt')).toBe(false);
    expect(maySubscribe(device, 'anxin/down/fs-1/#', 'zigbee2mqtt')).toBe(true);
    expect(maySubscribe(device, 'anxin/down/fs-1', 'zigbee2mqtt')).toBe(true);
    expect(maySubscribe(device, 'anxin/down/+/#', 'zigbee2mqtt')).toBe(false);
    expect(maySubscribe(device, 'anxin/up/fs-1/#', 'zigbee2mqtt')).toBe(false);
  });
  it('an integrator reads events and alarms, and nothing else; it publishes nothing', () => {
    expect(maySubscribe(integrator, 'anxin/devices/+/events', 'zigbee2mqtt')).toBe(true);
    expect(maySubscribe(integrator, 'anxin/alarms/#', 'zigbee2mqtt')).toBe(true);
    expect(maySubscribe(integrator, 'anxin/up/+/#', 'zigbee2mqtt')).toBe(false);
    expect(maySubscribe(integrator, 'anxin/#', 'zigbee2mqtt')).toBe(false);
    expect(maySubscribe(integrator, 'zigbee2mqtt/#', 'zigbee2mqtt')).toBe(false);
    expect(mayPublish(integrator, 'anxin/alarms/1', 'zigbee2mqtt')).toBe(false);
  });
  it('a Zigbee2MQTT bridge stays under its prefix', () => {
    expect(mayPublish(bridge, 'zigbee2mqtt/bedroom', 'zigbee2mqtt')).toBe(true);
    expect(mayPublish(bridge, 'zigbee2mqtt/bridge/state', 'zigbee2mqtt')).toBe(true);
    expect(maySubscribe(bridge, 'zigbee2mqtt/#', 'zigbee2mqtt')).toBe(true);
    expect(mayPublish(bridge, 'anxin/up/fs-1/alarm', 'zigbee2mqtt')).toBe(false);
    expect(maySubscribe(bridge, '#', 'zigbee2mqtt')).toBe(false);
  });
});

describe('accounts from configuration', () => {
  const hash = '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g';
  it('reads name:hash entries separated by spaces or semicolons (hashes contain commas)', () => {
    const r = parseAccounts(`a:${hash}; b:${hash}\n c:${hash}`, 'MQTT_INTEGRATORS');
    expect(r.problems).toEqual([]);
    expect([...r.accounts.keys()]).toEqual(['a', 'b', 'c']);
    expect(r.accounts.get('a')).toBe(hash);
    expect(parseAccounts(undefined, 'X').accounts.size).toBe(0);
  });
  it('reports bad entries without echoing them (they may be pasted passwords)', () => {
    const r = parseAccounts(`a:${hash} b:hunter2 nocolon a:${hash}`, 'MQTT_INTEGRATORS');
    expect(r.problems).toHaveLength(3);
    expect(r.problems.join(' ')).not.toContain('hunter2');
    expect(r.problems[2]).toContain('listed twice');
  });
  it('checks the Zigbee2MQTT prefix', () => {
    expect(checkPrefix('zigbee2mqtt', 'P')).toEqual([]);
    expect(checkPrefix('home/z2m', 'P')).toEqual([]);
    for (const bad of ['z/#', '+', '/z', 'z/', '$SYS']) expect(checkPrefix(bad, 'P')).toHaveLength(1);
  });
});

describe('PacketSizeGuard', () => {
  /** MQTT 3.1.1 §2.2 and §3.3 by hand: 0x30, remaining length (7 bits a byte, low first), topic, payload. */
  const publish = (bytes: number) => {
    const topic = Buffer.from('anxin/up/fs-1/status');
    const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.alloc(bytes, 0x20)]);
    const len: number[] = [];
    let n = body.length;
    do {
      len.push((n % 128) | (n >= 128 ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    return Buffer.concat([Buffer.from([0x30, ...len]), body]);
  };
  const pingreq = Buffer.from([0xc0, 0x00]);

  it('lets packets up to the limit through, however the bytes are split', () => {
    const stream = Buffer.concat([publish(10), publish(900), publish(100), pingreq]);
    for (const step of [1, 2, 3, 7, 64, stream.length]) {
      const g = new PacketSizeGuard(() => 1000);
      for (let i = 0; i < stream.length; i += step) expect(g.push(stream.subarray(i, i + step))).toBe(0);
    }
  });

  it('refuses a packet over the limit from its header alone', () => {
    const big = publish(5000);
    const g = new PacketSizeGuard(() => 1000);
    expect(g.push(publish(10))).toBe(0);
    expect(g.push(big.subarray(0, 4))).toBe(big.length);
  });

  it('refuses a malformed five-byte length', () => {
    expect(new PacketSizeGuard(() => 1000).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(Number.POSITIVE_INFINITY);
  });

  it('reads the limit per packet (a bridge may send more after login)', () => {
    let limit = 1000;
    const g = new PacketSizeGuard(() => limit);
    expect(g.push(publish(10))).toBe(0);
    limit = 10_000;
    expect(g.push(publish(5000))).toBe(0);
  });
});
