/** The registry's cache bounds and TTLs (lru-cache, issue 16); behaviour tests are in registry.test.ts. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from '../../../gateway/registry.js';
import type { Db } from '../../../gateway/store/db.js';

/** A database that answers device lookups when told to, and counts them. */
function fakeDb() {
  const rows = new Map<string, Record<string, unknown>>();
  const waiting: { resolve: () => void }[] = [];
  let queries = 0;
  const db = {
    query: (_sql: string, params: unknown[]) => {
      queries++;
      // one identifier (a lookup), or several (a background refresh)
      const ids = Array.isArray(params[0]) ? (params[0] as string[]) : [String(params[0])];
      return new Promise((resolve) => {
        waiting.push({ resolve: () => resolve({ rows: ids.filter((id) => rows.has(id)).map((id) => ({ ...rows.get(id) })) }) });
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
    answer() {
      for (const w of waiting.splice(0)) w.resolve();
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
const device = (identifier: string, state = 'active') => ({ id: 1, identifier, protocol: 'watch', state, elder_id: 7 });

/** looks up and answers at once */
async function settled(f: ReturnType<typeof fakeDb>, r: Registry, id: string) {
  const p = r.lookup(id);
  await tick();
  f.answer();
  return p;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Registry cache (lru-cache)', () => {
  it('serves a known device for ttlMs, then stale while one refresh runs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const f = fakeDb();
    f.rows.set('860001', device('860001'));
    const r = new Registry(f.db, 30_000);
    expect((await settled(f, r, '860001'))?.identifier).toBe('860001');
    vi.advanceTimersByTime(29_000);
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    expect(f.queries).toBe(1);
    vi.advanceTimersByTime(2_000);
    expect((await r.lookup('860001'))?.identifier).toBe('860001'); // due: stale answer, refresh sent after this turn
    await tick();
    expect(f.waiting).toBe(1);
    f.answer();
    await tick();
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    expect(f.queries).toBe(2); // fresh again
  });

  it('remembers an unknown device for unknownTtlMs (3 s), then asks the database again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const f = fakeDb();
    const r = new Registry(f.db);
    expect(await settled(f, r, 'nobody')).toBeNull();
    vi.advanceTimersByTime(2_900);
    expect(await r.lookup('nobody')).toBeNull();
    expect(f.queries).toBe(1);
    vi.advanceTimersByTime(200);
    f.rows.set('nobody', device('nobody'));
    const again = r.lookup('nobody'); // not served stale: waits for the database
    await tick();
    expect(f.waiting).toBe(1);
    f.answer();
    expect((await again)?.identifier).toBe('nobody');
  });

  it('is bounded: a flood of made-up identifiers evicts the least recently used entries', async () => {
    const f = fakeDb();
    f.rows.set('860001', device('860001'));
    const r = new Registry(f.db, 60_000, 60_000, 4, 100);
    await settled(f, r, '860001');
    for (let i = 0; i < 500; i++) await settled(f, r, `made-up-${i}`);
    expect((r as unknown as { cache: { size: number } }).cache.size).toBe(100);
    const before = f.queries;
    expect((await settled(f, r, '860001'))?.identifier).toBe('860001'); // evicted: looked up again
    expect(f.queries).toBe(before + 1);
  });

  it('invalidate() during a background refresh: the refresh answer is not cached', async () => {
    const f = fakeDb();
    f.rows.set('860001', device('860001'));
    const r = new Registry(f.db, 0);
    await settled(f, r, '860001');
    expect((await r.lookup('860001'))?.identifier).toBe('860001'); // refresh in flight
    r.invalidate('860001');
    f.answer();
    await tick();
    f.rows.set('860001', device('860001', 'disabled'));
    expect(await settled(f, r, '860001')).toBeNull();
  });

  it('invalidate() without an identifier drops every entry', async () => {
    const f = fakeDb();
    for (const id of ['a', 'b']) f.rows.set(id, device(id));
    const r = new Registry(f.db, 60_000);
    await settled(f, r, 'a');
    await settled(f, r, 'b');
    r.invalidate();
    await settled(f, r, 'a');
    await settled(f, r, 'b');
    expect(f.queries).toBe(4);
  });

  it('the unknown-device log and note maps are bounded', () => {
    const r = new Registry(undefined as never);
    r.maxUnknownLogsPerMin = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 100_050; i++) r.shouldLogUnknown(`id-${i}`, 3_600_000);
    const maps = r as unknown as { lastLogged: { size: number } };
    expect(maps.lastLogged.size).toBe(100_000);
    // the most recent stay remembered (an LRU, no longer cleared all at once)
    expect(r.shouldLogUnknown('id-100049', 3_600_000)).toBe(false);
  });
});
