import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RuleEngine } from '../../../gateway/rule-engine.js';

/** A database with `n` watches last seen `silentS` ago and no stored rule state. */
function fakeDb(n: number, silentS: number) {
  const seen = new Date(Date.now() - silentS * 1000);
  return {
    query: async (sql: string) => {
      if (sql.includes('FROM device_rule_state')) return { rows: [] };
      if (sql.includes('FROM devices')) return { rows: Array.from({ length: n }, (_, k) => ({ id: k + 1, identifier: `86${k}`, protocol: 'watch', elderId: null, lastSeen: seen, createdAt: seen })) };
      return { rows: [], rowCount: 0 };
    },
  };
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
});
