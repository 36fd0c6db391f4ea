import { describe, expect, it } from 'vitest';
import { LastSeenWriter } from '../../../gateway/last-seen.js';

/** Records each UPDATE's rows; fails on demand. */
function fakeDb() {
  const db = {
    fail: false,
    updates: [] as { id: number; at: number; battery: number | null }[][],
    query: async (_sql: string, p: [number[], Date[], (number | null)[], (number | null)[]]) => {
      if (db.fail) throw new Error('connection refused');
      db.updates.push(p[0].map((id, i) => ({ id, at: p[1][i]!.getTime(), battery: p[2][i]! })));
      return { rows: [], rowCount: p[0].length };
    },
  };
  return db;
}

describe('LastSeenWriter', () => {
  it('coalesces per device, and rewrites an unchanged device only after the gap', async () => {
    const db = fakeDb();
    const w = new LastSeenWriter(db as never, 60_000, 30_000);
    w.note(1, new Date(1000), 80);
    w.note(1, new Date(2000));
    w.note(2, new Date(1500));
    await w.flush();
    expect(db.updates).toEqual([[{ id: 1, at: 2000, battery: 80 }, { id: 2, at: 1500, battery: null }]]);
    w.note(1, new Date(20_000)); // same battery, 18 s later: skipped
    w.note(2, new Date(20_000), 55); // battery changed: written
    await w.flush();
    expect(db.updates[1]).toEqual([{ id: 2, at: 20_000, battery: 55 }]);
    w.note(1, new Date(32_000), 80); // 30 s after the written value
    await w.flush();
    expect(db.updates[2]).toEqual([{ id: 1, at: 32_000, battery: 80 }]);
    await w.close();
  });

  it('keeps rows for the next try when the database is down', async () => {
    const db = fakeDb();
    const w = new LastSeenWriter(db as never, 60_000, 30_000);
    w.note(7, new Date(1000), 40);
    db.fail = true;
    await expect(w.flush()).rejects.toThrow(/refused/);
    w.note(7, new Date(3000));
    db.fail = false;
    await w.flush();
    expect(db.updates).toEqual([[{ id: 7, at: 3000, battery: 40 }]]);
    await w.close();
  });
});
