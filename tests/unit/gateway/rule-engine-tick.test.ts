import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuleState, type RuleState } from '../../../alarms/index.js';
import { RuleEngine, worthSaving } from '../../../gateway/alarms/rule-engine.js';
import { createPool, type Db } from '../../../gateway/store/db.js';
import type { Device } from '../../../gateway/store/devices.js';
import type { DeviceMessage } from '../../../protocols/message.js';
import { createMigratedDatabase } from '../../helpers/db.js';

// The real PostgreSQL of the run: one migrated database for this file, emptied before each test.
let url: string;
let db: Db;
beforeAll(async () => {
  url = await createMigratedDatabase('rules');
  db = createPool(url, 5);
});
afterAll(async () => {
  await db?.end();
});
beforeEach(async () => {
  await db.query('TRUNCATE device_rule_state, devices, elders RESTART IDENTITY CASCADE');
});

const silent = pino({ level: 'silent' });

/** `n` registered watches (ids 1..n, identifiers 860, 861, ...) last seen `silentS` ago, no stored rule state. */
async function watches(n: number, silentS: number): Promise<void> {
  await db.query(
    `INSERT INTO devices (identifier, protocol, state, last_seen, created_at)
     SELECT '86' || (k - 1), 'watch', 'active', now() - make_interval(secs => $2), now() - make_interval(secs => $2)
     FROM generate_series(1, $1::int) AS k ORDER BY k`,
    [n, silentS],
  );
}

/** Counts the rule-state rows written (inserted or updated) since the last call, by their row versions. */
function savedRows() {
  const versions = new Map<number, string>();
  let saved = 0;
  return async (): Promise<number> => {
    for (const r of (await db.query('SELECT device_id, xmin::text AS v FROM device_rule_state')).rows as { device_id: number; v: string }[]) {
      if (versions.get(r.device_id) !== r.v) saved++;
      versions.set(r.device_id, r.v);
    }
    return saved;
  };
}

describe('RuleEngine.tick over many devices', () => {
  it('lets the event loop run while it walks the devices, with the same outcome', async () => {
    await watches(2500, 3 * 3600);
    const rules = new RuleEngine(db, silent);
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
    await watches(300, 60);
    const saved = savedRows();
    const rules = new RuleEngine(db, silent);
    await rules.load();
    expect(await rules.tick(new Date())).toHaveLength(0);
    await rules.persist();
    expect(await saved()).toBe(0);

    await db.query(`UPDATE devices SET last_seen = now() - interval '3 hours', created_at = now() - interval '3 hours'`);
    const r2 = new RuleEngine(db, silent);
    await r2.load();
    expect(await r2.tick(new Date())).toHaveLength(300);
    await r2.persist();
    expect(await saved()).toBe(300); // device_silent is active now: that must survive a restart
    await r2.tick(new Date());
    await r2.persist();
    expect(await saved()).toBe(300);
  });

  it('saves many states in statements of 500, so a fleet that crossed the save slack together does not hold the loop', async () => {
    await watches(1200, 60 * 60 * 3);
    const saved = savedRows();
    const statements: number[] = [];
    const counting = new Proxy(db, {
      get: (target, prop, receiver) =>
        prop === 'query'
          ? (text: unknown, ...rest: unknown[]) => {
              if (typeof text === 'string' && text.includes('INSERT INTO device_rule_state')) statements.push((rest[0] as unknown[][])[0]!.length);
              return (target.query as (...a: unknown[]) => unknown)(text, ...rest);
            }
          : Reflect.get(target, prop, receiver),
    });
    const rules = new RuleEngine(counting, silent);
    await rules.load();
    expect(await rules.tick(new Date())).toHaveLength(1200);
    await rules.persist();
    expect(statements).toEqual([500, 500, 200]);
    expect(await saved()).toBe(1200);
  });

  it('saves after a message only what a restart must not lose: state changes at once, times every minute', async () => {
    await watches(1, 10);
    const saved = savedRows();
    const rules = new RuleEngine(db, silent);
    await rules.load();
    const device = { id: 1, identifier: '860', protocol: 'watch', elderId: null } as unknown as Device;
    const t0 = Date.now();
    const msg = (s: number, over: Partial<DeviceMessage> = {}): DeviceMessage => ({ deviceId: '860', protocol: 'watch', kind: 'heartbeat', receivedAt: new Date(t0 + s * 1000), raw: 'LK', ...over });
    await rules.evaluate(device, msg(0));
    await rules.persist();
    expect(await saved()).toBe(1); // the first message: never saved before
    for (let s = 1; s < 60; s++) await rules.evaluate(device, msg(s));
    await rules.persist();
    expect(await saved()).toBe(1); // lastSeenAt moved < 60 s
    await rules.evaluate(device, msg(61));
    await rules.persist();
    expect(await saved()).toBe(2);
    await rules.evaluate(device, msg(62, { kind: 'alarm', alarms: ['power_cut'] }));
    await rules.persist();
    expect(await saved()).toBe(3); // an active condition: saved at once
    await rules.evaluate(device, msg(63));
    await rules.persist(true);
    expect(await saved()).toBe(4); // shutdown saves whatever moved
    await rules.persist(true);
    expect(await saved()).toBe(4);
  });
});

describe('RuleEngine while the database is down', () => {
  it('judges an elder whose rules were never loaded by the defaults, and reads them again once it answers', async () => {
    const elderId = (await db.query(`INSERT INTO elders (name, rules) VALUES ('周桂英', $1) RETURNING id`, [{ lowBattery: { belowPct: 50, restoreAbovePct: 60 } }])).rows[0].id as number;
    // Its own pool, opened while the database refuses connections: nothing is cached or connected beforehand.
    const admin = new URL(url);
    const name = admin.pathname.slice(1);
    admin.pathname = '/postgres';
    const allow = async (yes: boolean) => {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        await c.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${yes}`);
      } finally {
        await c.end();
      }
    };
    const own = createPool(url, 2);
    let reads = 0;
    const query = own.query.bind(own) as (...a: unknown[]) => Promise<unknown>;
    own.query = ((...a: unknown[]) => {
      reads++;
      return query(...a);
    }) as typeof own.query;
    await allow(false);
    try {
      const rules = new RuleEngine(own, silent);
      const device = { id: 9, identifier: '869', protocol: 'watch', elderId } as unknown as Device;
      const m = (over: Partial<DeviceMessage>): DeviceMessage => ({ deviceId: '869', protocol: 'watch', kind: 'alarm', receivedAt: new Date(), raw: 'AL', ...over });
      const sos = await rules.evaluate(device, m({ alarms: ['sos'] }));
      expect(sos.raise.map((r) => r.kind)).toEqual(['sos']);
      expect((await rules.evaluate(device, m({ kind: 'heartbeat', battery: 30 }))).raise).toEqual([]); // default: below 20 %
      await allow(true);
      const low = await rules.evaluate(device, m({ kind: 'heartbeat', battery: 30 }));
      expect(low.raise.map((r) => r.kind)).toEqual(['low_battery']); // the elder's own 50 % now
      expect(reads).toBe(3); // tried at each message while down, read once it answered
    } finally {
      await allow(true);
      await own.end();
    }
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
