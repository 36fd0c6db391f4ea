import { describe, expect, it } from 'vitest';
import { Registry } from '../../../gateway/registry.js';
import type { Db } from '../../../gateway/store/db.js';

/** A database that answers device lookups when told to, and counts them. */
function fakeDb() {
  const rows = new Map<string, Record<string, unknown>>();
  const waiting: { identifier: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  let queries = 0;
  const db = {
    query: (_sql: string, params: unknown[]) => {
      queries++;
      const identifier = String(params[0]);
      return new Promise((resolve, reject) => {
        waiting.push({ identifier, resolve: () => resolve({ rows: rows.has(identifier) ? [{ ...rows.get(identifier) }] : [] }), reject });
      });
    },
  };
  return {
    db: db as unknown as Db,
    rows,
    get queries() {
      return queries;
    },
    get waiting() {
      return waiting.length;
    },
    /** answers every query waiting so far */
    answer() {
      for (const w of waiting.splice(0)) w.resolve();
    },
    fail() {
      for (const w of waiting.splice(0)) w.reject(new Error('timeout exceeded when trying to connect'));
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
const device = (identifier: string, state = 'active') => ({ id: 1, identifier, protocol: 'watch', state, elder_id: 7 });

describe('Registry', () => {
  it('caches a device for the TTL: one query for many frames', async () => {
    const f = fakeDb();
    f.rows.set('860001', device('860001'));
    const r = new Registry(f.db, 60_000);
    const first = r.lookup('860001');
    f.answer();
    expect((await first)?.elderId).toBe(7);
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    expect(f.queries).toBe(1);
  });

  it('shares one query among concurrent lookups of one identifier', async () => {
    const f = fakeDb();
    f.rows.set('860001', device('860001'));
    const r = new Registry(f.db);
    const all = Promise.all([r.lookup('860001'), r.lookup('860001'), r.lookup('860001')]);
    await tick();
    expect(f.queries).toBe(1);
    f.answer();
    expect((await all).map((d) => d?.identifier)).toEqual(['860001', '860001', '860001']);
  });

  it('answers a known device from the cache once due, and refreshes it in the background', async () => {
    const f = fakeDb();
    f.rows.set('860001', device('860001'));
    const r = new Registry(f.db, 0); // every entry is due at once
    const first = r.lookup('860001');
    f.answer();
    await first;
    f.rows.set('860001', device('860001', 'disabled'));
    // due: answered at once from the cache, without waiting for the database
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    expect(f.waiting).toBe(1);
    // a second frame meanwhile does not start a second query
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    expect(f.queries).toBe(2);
    f.answer();
    await tick();
    // the refresh saw it disabled: from now on it is refused (and looked up again, as unknown devices are)
    const next = r.lookup('860001');
    f.answer();
    expect(await next).toBeNull();
  });

  it('keeps a known device when its refresh fails, and tries again on a later frame', async () => {
    const f = fakeDb();
    f.rows.set('860001', device('860001'));
    const r = new Registry(f.db, 0);
    const first = r.lookup('860001');
    f.answer();
    await first;
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    f.fail();
    await tick();
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    expect(f.queries).toBe(3);
  });

  it('runs at most maxRefreshes background refreshes at once', async () => {
    const f = fakeDb();
    const ids = ['a1', 'a2', 'a3', 'a4'];
    for (const id of ids) f.rows.set(id, device(id));
    const r = new Registry(f.db, 0, 3_000, 2);
    const loads = Promise.all(ids.map((id) => r.lookup(id)));
    f.answer();
    await loads;
    for (const id of ids) expect((await r.lookup(id))?.identifier).toBe(id);
    expect(f.waiting).toBe(2);
    f.answer();
    await tick();
    await tick();
    for (const id of ids) await r.lookup(id);
    expect(f.waiting).toBe(2);
  });

  it('still waits for the database for a device it has not found (a new registration is seen at once)', async () => {
    const f = fakeDb();
    const r = new Registry(f.db, 60_000, 0);
    const first = r.lookup('860009');
    f.answer();
    expect(await first).toBeNull();
    f.rows.set('860009', device('860009'));
    const again = r.lookup('860009');
    f.answer();
    expect((await again)?.identifier).toBe('860009');
  });

  it('does not cache the answer of a query that an invalidate() overtook', async () => {
    const f = fakeDb();
    f.rows.set('860001', device('860001'));
    const r = new Registry(f.db, 60_000);
    const before = r.lookup('860001');
    await tick();
    r.invalidate('860001'); // the device is being changed while the query runs: its answer is already old
    f.answer();
    expect((await before)?.identifier).toBe('860001');
    f.rows.set('860001', device('860001', 'disabled'));
    const after = r.lookup('860001');
    await tick();
    expect(f.queries).toBe(2);
    f.answer();
    expect(await after).toBeNull();
  });
});
