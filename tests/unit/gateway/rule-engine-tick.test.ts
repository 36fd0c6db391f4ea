import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createRuleState, type RuleState } from '../../../alarms/index.js';
import { RuleEngine, worthSaving } from '../../../gateway/rule-engine.js';
import type { Device } from '../../../gateway/store/devices.js';
import type { DeviceMessage } from '../../../protocols/message.js';

/** A database with `n` watches last seen `silentS` ago and no stored rule state; counts rule-state rows saved. */
function fakeDb(n: number, silentS: number) {
  const seen = new Date(Date.now() - silentS * 1000);
  const db = {
    saved: 0,
    query: async (sql: string, params?: unknown[][]) => {
      if (sql.includes('INSERT INTO device_rule_state')) {
        db.saved += params?.[0]?.length ?? 0;
        return { rows: [], rowCount: 0 };
      }
      if (sql.includes('FROM device_rule_state')) return { rows: [] };
      if (sql.includes('FROM devices')) return { rows: Array.from({ length: n }, (_, k) => ({ id: k + 1, identifier: `86${k}`, protocol: 'watch', elderId: null, lastSeen: seen, createdAt: seen })) };
      return { rows: [], rowCount: 0 };
    },
  };
  return db;
}

describe('RuleEngine.tick over many devices', () => {
  it('lets the event loop run while it walks the devices, with the same outcome', async () => {
    const rules = new RuleEngine(fakeDb(2500, 3 * 3600) as never, pino({ level: 'silent' }));
    await rules.load();
    let ranDuring = 0;
    let done = false;
    const beat = () => {
      if (done) return;
      ranDuring++;
      setImmediate(beat);
    };
    setImmediate(beat);
    const out = await rules.tick(new Date(), 500);
    done = true;
    expect(ranDuring).toBeGreaterThanOrEqual(4); // at least once per 500 devices
    // every device is long silent: each gets its device_silent, once
    expect(out).toHaveLength(2500);
    expect(new Set(out.flatMap((o) => o.outcome.raise.map((r) => r.kind)))).toEqual(new Set(['device_silent']));
    expect(await rules.tick(new Date(), 500)).toHaveLength(0);
  });

  it('saves the rule state of the devices a tick raised or cleared for, not of every device', async () => {
    const quiet = fakeDb(300, 60);
    const rules = new RuleEngine(quiet as never, pino({ level: 'silent' }));
    await rules.load();
    expect(await rules.tick(new Date())).toHaveLength(0);
    await rules.persist();
    expect(quiet.saved).toBe(0);

    const silent = fakeDb(300, 3 * 3600);
    const r2 = new RuleEngine(silent as never, pino({ level: 'silent' }));
    await r2.load();
    expect(await r2.tick(new Date())).toHaveLength(300);
    await r2.persist();
    expect(silent.saved).toBe(300); // device_silent is active now: that must survive a restart
    await r2.tick(new Date());
    await r2.persist();
    expect(silent.saved).toBe(300);
  });

  it('saves after a message only what a restart must not lose: state changes at once, times every minute', async () => {
    const db = fakeDb(1, 10);
    const rules = new RuleEngine(db as never, pino({ level: 'silent' }));
    await rules.load();
    const device = { id: 1, identifier: '860', protocol: 'watch', elderId: null } as unknown as Device;
    const t0 = Date.now();
    const msg = (s: number, over: Partial<DeviceMessage> = {}): DeviceMessage => ({ deviceId: '860', protocol: 'watch', kind: 'heartbeat', receivedAt: new Date(t0 + s * 1000), raw: 'LK', ...over });
    await rules.evaluate(device, msg(0));
    await rules.persist();
    expect(db.saved).toBe(1); // the first message: never saved before
    for (let s = 1; s < 60; s++) await rules.evaluate(device, msg(s));
    await rules.persist();
    expect(db.saved).toBe(1); // lastSeenAt moved < 60 s
    await rules.evaluate(device, msg(61));
    await rules.persist();
    expect(db.saved).toBe(2);
    await rules.evaluate(device, msg(62, { kind: 'alarm', alarms: ['power_cut'] }));
    await rules.persist();
    expect(db.saved).toBe(3); // an active condition: saved at once
    await rules.evaluate(device, msg(63));
    await rules.persist(true);
    expect(db.saved).toBe(4); // shutdown saves whatever moved
    await rules.persist(true);
    expect(db.saved).toBe(4);
  });
});

describe('RuleEngine while the database is down', () => {
  it('judges an elder whose rules were never loaded by the defaults, and reads them again once it answers', async () => {
    let down = true;
    let reads = 0;
    const db = {
      query: async (sql: string) => {
        if (sql.includes('FROM elders')) {
          reads++;
          if (down) throw new Error('connect ECONNREFUSED');
          return { rows: [{ rules: { lowBattery: { belowPct: 50, restoreAbovePct: 60 } }, responsePlan: null }] };
        }
        return { rows: [], rowCount: 0 };
      },
    };
    const rules = new RuleEngine(db as never, pino({ level: 'silent' }));
    const device = { id: 9, identifier: '869', protocol: 'watch', elderId: 3 } as unknown as Device;
    const m = (over: Partial<DeviceMessage>): DeviceMessage => ({ deviceId: '869', protocol: 'watch', kind: 'alarm', receivedAt: new Date(), raw: 'AL', ...over });
    const sos = await rules.evaluate(device, m({ alarms: ['sos'] }));
    expect(sos.raise.map((r) => r.kind)).toEqual(['sos']);
    expect((await rules.evaluate(device, m({ kind: 'heartbeat', battery: 30 }))).raise).toEqual([]); // default: below 20 %
    down = false;
    const low = await rules.evaluate(device, m({ kind: 'heartbeat', battery: 30 }));
    expect(low.raise.map((r) => r.kind)).toEqual(['low_battery']); // the elder's own 50 % now
    expect(reads).toBe(3);
  });
});

describe('worthSaving', () => {
  const base = (): RuleState => ({ ...createRuleState(new Date(0)), lastSeenAt: 1000, fences: { home: { outside: false, reported: false, distanceM: -50 } }, vitals: { heartRate: { since: 5, reported: false } } });
  it.each<[string, (s: RuleState) => void, boolean]>([
    ['nothing', () => undefined, false],
    ['lastSeenAt +59 s', (s) => (s.lastSeenAt = 60_000), false],
    ['lastSeenAt +60 s', (s) => (s.lastSeenAt = 61_000), true],
    ['first activity', (s) => (s.lastActivityAt = 1), true],
    ['fence distance only', (s) => (s.fences.home!.distanceM = -20), false],
    ['fence side', (s) => (s.fences.home!.outside = true), true],
    ['fence added', (s) => (s.fences.park = { outside: false, reported: false, distanceM: 0 }), true],
    ['vital reported', (s) => (s.vitals.heartRate!.reported = true), true],
    ['vital series ended', (s) => delete s.vitals.heartRate, true],
    ['active kind', (s) => s.active.push('low_battery'), true],
    ['test seen', (s) => (s.lastTestAt = 2), true],
    ['steps only', (s) => (s.lastSteps = 100), false],
  ])('%s → %s', (_what, edit, expected) => {
    const saved = base();
    const now = structuredClone(saved);
    edit(now);
    expect(worthSaving(saved, now)).toBe(expected);
  });
});
