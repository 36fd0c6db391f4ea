import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aclRules, checkPrefix, compileAcl, rulesAllow, serviceAclRules, filterWithin, mayPublish, maySubscribe, parseAccounts, withinChecker, type Account } from '../../../gateway/transports/mqtt-acl.js';
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
    expect(withinChecker(allowed)(filter)).toBe(want);
  });
});

describe('the ACL compiled at login gives the same answers as the rules', () => {
  const dev = compileAcl(device, 'zigbee2mqtt');
  const integ = compileAcl(integrator, 'zigbee2mqtt');
  const z2m = compileAcl(bridge, 'home/z2m');

  it('a device publishes under anxin/up/{id} exactly: its own level, case-sensitive, empty levels kept', () => {
    for (const t of ['anxin/up/fs-1/alarm', 'anxin/up/fs-1', 'anxin/up/fs-1/', 'anxin/up/fs-1//x', 'anxin/up/fs-1/a/b/c']) {
      expect(dev.mayPublish(t), t).toBe(true);
    }
    for (const t of ['anxin/up/fs-10/alarm', 'anxin/up/fs-1x', 'anxin/up/fs-', 'anxin/up/FS-1/alarm', 'Anxin/up/fs-1/alarm', 'anxin/up//fs-1/alarm', 'anxin//up/fs-1/alarm', '/anxin/up/fs-1/alarm', 'anxin/up', 'anxin/up/', 'anxin/down/fs-1/x', '$anxin/up/fs-1/x', '']) {
      expect(dev.mayPublish(t), t).toBe(false);
    }
  });

  it('a device subscribes under anxin/down/{id}, wildcards only below its own level', () => {
    for (const f of ['anxin/down/fs-1/#', 'anxin/down/fs-1/+', 'anxin/down/fs-1', 'anxin/down/fs-1/', 'anxin/down/fs-1/+/x', 'anxin/down/fs-1//#']) {
      expect(dev.maySubscribe(f), f).toBe(true);
    }
    for (const f of ['anxin/down/+/ack', 'anxin/down/+', 'anxin/down/#', 'anxin/#', '#', '+/down/fs-1/x', 'anxin/+/fs-1/ack', 'anxin/down/fs-1#', 'anxin/down/fs-1+', 'anxin/down/FS-1/#', 'anxin/down/fs-10/#', 'anxin/up/fs-1/#', '$SYS/#']) {
      expect(dev.maySubscribe(f), f).toBe(false);
    }
    expect(dev.mayPublish('anxin/down/fs-1/ack')).toBe(false);
  });

  it('an integrator reads only the event and alarm topics, and publishes nothing', () => {
    for (const f of ['anxin/devices/+/events', 'anxin/devices/fs-1/events', 'anxin/devices//events', 'anxin/alarms/#', 'anxin/alarms', 'anxin/alarms/+', 'anxin/alarms/42/x']) {
      expect(integ.maySubscribe(f), f).toBe(true);
    }
    for (const f of ['anxin/devices/+/events/#', 'anxin/devices/+/+', 'anxin/devices/#', 'anxin/Alarms/#', 'anxin/alarmsx/#', 'anxin/#', '+/alarms/#', '#', '$SYS/anxin/alarms/#']) {
      expect(integ.maySubscribe(f), f).toBe(false);
    }
    expect(integ.mayPublish('anxin/alarms/1')).toBe(false);
    expect(integ.mayPublish('anxin/devices/fs-1/events')).toBe(false);
  });

  it('a bridge stays under its prefix, level by level', () => {
    for (const t of ['home/z2m', 'home/z2m/bedroom', 'home/z2m/bridge/state', 'home/z2m/']) expect(z2m.mayPublish(t), t).toBe(true);
    for (const t of ['home/z2mx/bedroom', 'home/z2', 'home', 'home/Z2M/bedroom', 'zigbee2mqtt/bedroom', 'home//z2m/x']) expect(z2m.mayPublish(t), t).toBe(false);
    expect(z2m.maySubscribe('home/z2m/#')).toBe(true);
    expect(z2m.maySubscribe('home/z2m/+/set')).toBe(true);
    expect(z2m.maySubscribe('home/+/bedroom')).toBe(false);
    expect(z2m.maySubscribe('home/#')).toBe(false);
  });

  /** Every combination of a few levels (wildcards, empty, `$`, other case) up to four deep, against the rules. */
  const levels = ['anxin', 'ANXIN', 'up', 'down', 'alarms', 'events', 'fs-1', 'FS-1', 'fs-10', '', '+', '#', '$SYS', 'home', 'z2m'];
  const topics: string[] = [];
  const gen = (prefix: string[]) => {
    if (prefix.length) topics.push(prefix.join('/'));
    if (prefix.length < 4) for (const l of levels) gen([...prefix, l]);
  };
  gen([]);
  topics.push('', 'anxin/up/fs-1x', 'anxin/up/fs-1/#x', 'anxin/alarms#', '$anxin/up/fs-1/x');
  // names with levels and wildcards in them take the general path and must agree too
  const names = ['fs-1', 'FS-1', 'fs', '', '+', '#', 'a/b', 'fs-1/+', '$x', 'a+b'];
  const prefixes = ['zigbee2mqtt', 'home/z2m', '', 'a//b', '+', 'z/#', 'a/+/b', '#'];

  it.each(names.map((name) => [name]))('a device named %j: the same answer as mayPublish/maySubscribe for every topic', (name) => {
    const acct: Account = { role: 'device', name };
    const acl = compileAcl(acct, 'zigbee2mqtt');
    for (const t of topics) {
      if (acl.mayPublish(t) !== mayPublish(acct, t, 'zigbee2mqtt')) expect.fail(`publish ${JSON.stringify(t)}`);
      if (acl.maySubscribe(t) !== maySubscribe(acct, t, 'zigbee2mqtt')) expect.fail(`subscribe ${JSON.stringify(t)}`);
    }
  });

  it.each(prefixes.map((p) => [p]))('bridges under %j and integrators: the same answers as the rules for every topic', (prefix) => {
    for (const acct of [bridge, integrator]) {
      const acl = compileAcl(acct, prefix);
      for (const t of topics) {
        if (acl.mayPublish(t) !== mayPublish(acct, t, prefix)) expect.fail(`${acct.role} publish ${JSON.stringify(t)}`);
        if (acl.maySubscribe(t) !== maySubscribe(acct, t, prefix)) expect.fail(`${acct.role} subscribe ${JSON.stringify(t)}`);
      }
    }
  });

  it('withinChecker agrees with filterWithin for every pair of these filters', () => {
    const short = topics.filter((t) => t.split('/').length <= 3);
    const alloweds = [...short.filter((_, i) => i % 5 === 0), '#', '+', '+/#', '/#', '//#', 'a/#/b', '#/a', 'anxin/up/+/#', 'anxin/up//#', 'anxin/up/fs-1/#', 'home/z2m/#'];
    let allowedPairs = 0;
    for (const a of alloweds) {
      const within = withinChecker(a);
      for (const f of short) {
        const want = filterWithin(f, a);
        if (within(f) !== want) expect.fail(`${JSON.stringify(f)} within ${JSON.stringify(a)}`);
        if (want) allowedPairs++;
      }
    }
    expect(allowedPairs).toBeGreaterThan(1000); // the comparison covers allowed answers, not only refusals
  });

  it('remembering the last topic it allowed changes no answer, whatever comes before or after it', () => {
    const dev = compileAcl(device, 'zigbee2mqtt');
    const near = ['anxin/up/fs-10/alarm', 'anxin/up/fs-1x', 'anxin/up/fs-', 'anxin/up', '$anxin/up/fs-1/alarm', 'anxin/up/fs-2/alarm', ''];
    for (let round = 0; round < 3; round++) {
      for (const t of near) {
        expect(dev.mayPublish('anxin/up/fs-1/alarm'), t).toBe(true);
        expect(dev.mayPublish(t), t).toBe(false);
        expect(dev.mayPublish(t), t).toBe(false);
        // the same text built anew (not the same string object) is still allowed
        expect(dev.mayPublish(['anxin', 'up', 'fs-1', 'alarm'].join('/'))).toBe(true);
      }
    }
    // a long topic is checked, not remembered: the answers stay the same either way
    const long = `anxin/up/fs-1/${'x'.repeat(300)}`;
    expect([dev.mayPublish(long), dev.mayPublish(long), dev.mayPublish(`anxin/up/fs-2/${'x'.repeat(300)}`)]).toEqual([true, true, false]);
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

  it('allows a packet of exactly the limit and refuses one byte more, with a multi-byte length', () => {
    const p = publish(300); // remaining length > 127: two length bytes
    expect(new PacketSizeGuard(() => p.length).push(p)).toBe(0);
    expect(new PacketSizeGuard(() => p.length - 1).push(p)).toBe(p.length);
    // a four-byte length (the largest MQTT allows) is oversize, not malformed
    expect(new PacketSizeGuard(() => 1000).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]))).toBe(5 + 268_435_455);
  });

  it('reads the limit per packet (a bridge may send more after login)', () => {
    let limit = 1000;
    const g = new PacketSizeGuard(() => limit);
    expect(g.push(publish(10))).toBe(0);
    limit = 10_000;
    expect(g.push(publish(5000))).toBe(0);
  });
});

describe('the rules an external broker is given (aclRules) grant what the embedded broker grants (compileAcl)', () => {
  const level = fc.constantFrom('anxin', 'up', 'down', 'fs-1', 'fs-2', 'z2m', 'events', 'alarms', 'devices', '+', '#', '$SYS', 'x');
  const topicish = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));
  const account = fc.constantFrom<Account>({ role: 'device', name: 'fs-1' }, { role: 'integrator', name: 'city' }, { role: 'bridge', name: 'z2m' });

  it('for every account, filter and topic', () => {
    fc.assert(
      fc.property(account, topicish, (acct, t) => {
        const rules = aclRules(acct, 'z2m');
        const acl = compileAcl(acct, 'z2m');
        // a publish names a topic, never a filter: the brokers refuse wildcards in PUBLISH before any ACL
        if (!t.includes('+') && !t.includes('#')) expect(rulesAllow(rules, 'publish', t)).toBe(acl.mayPublish(t));
        expect(rulesAllow(rules, 'subscribe', t)).toBe(acl.maySubscribe(t));
      }),
      { numRuns: 3000 },
    );
  });

  it("Anxin's own account reads the uplinks and writes the downlinks and bus topics, and nothing else", () => {
    const rules = serviceAclRules('z2m');
    expect(rulesAllow(rules, 'subscribe', 'anxin/up/+/+')).toBe(true);
    expect(rulesAllow(rules, 'subscribe', 'z2m/+')).toBe(true);
    expect(rulesAllow(rules, 'publish', 'anxin/down/fs-1/ack')).toBe(true);
    expect(rulesAllow(rules, 'publish', 'anxin/alarms/7')).toBe(true);
    expect(rulesAllow(rules, 'publish', 'anxin/up/fs-1/alarm')).toBe(false);
    expect(rulesAllow(rules, 'subscribe', '#')).toBe(false);
    expect(rulesAllow(rules, 'subscribe', '$SYS/#')).toBe(false);
  });
});
