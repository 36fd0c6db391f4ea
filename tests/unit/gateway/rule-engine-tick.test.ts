import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RuleEngine } from '../../../gateway/rule-engine.js';

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
});
