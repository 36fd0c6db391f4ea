import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../../../gateway/registry.js';
import { createPool, type Db } from '../../../gateway/store/db.js';
import { createMigratedDatabase } from '../../helpers/db.js';
import { until } from '../../helpers/until.js';

// The real PostgreSQL of the run: one migrated database for this file, emptied before each test.
let url: string;
let admin: Db;
let elderId: number;
beforeAll(async () => {
  url = await createMigratedDatabase('registry');
  admin = createPool(url, 2);
});
afterAll(async () => {
  await admin?.end();
});
beforeEach(async () => {
  await admin.query('TRUNCATE devices, elders RESTART IDENTITY CASCADE');
  elderId = (await admin.query(`INSERT INTO elders (name) VALUES ('陈玉兰') RETURNING id`)).rows[0].id;
});

const opened: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close().catch(() => undefined);
});

/**
 * The database as the registry sees it, with the test holding the answers back: a transaction of the test's
 * own keeps the devices table locked, so every device query waits at the lock until `answer()` commits it
 * (and locks the table again). Rows are written inside that transaction: a query answered later sees them.
 */
async function database() {
  const db = createPool(url, 10);
  let queries = 0;
  let pending = 0;
  const query = db.query.bind(db) as (...a: unknown[]) => Promise<unknown>;
  db.query = ((...a: unknown[]) => {
    queries++;
    pending++;
    const p = query(...a);
    p.then(
      () => pending--,
      () => pending--,
    );
    return p;
  }) as typeof db.query;
  const gate = new pg.Client({ connectionString: url });
  await gate.connect();
  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
  const hold = async () => {
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE devices IN ACCESS EXCLUSIVE MODE');
  };
  await hold();
  opened.push(async () => {
    await gate.query('ROLLBACK').catch(() => undefined);
    await gate.end();
    await monitor.end();
    await db.end();
  });
  /** queries of other sessions waiting at the lock */
  const blocked = async (): Promise<number> =>
    (await monitor.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`, [(gate as unknown as { processID: number }).processID])).rows[0].n;
  /** waits until every query sent so far has reached the database and waits at the lock */
  const arrived = () => until(async () => (await blocked()) === pending);
  return {
    db,
    /** device queries sent */
    get queries() {
      return queries;
    },
    /** device queries not answered yet */
    get waiting() {
      return pending;
    },
    blocked,
    /** registers (or updates) a device, seen by the queries answered from now on */
    async set(identifier: string, state = 'active') {
      await gate.query(
        `INSERT INTO devices (identifier, protocol, state, elder_id) VALUES ($1, 'watch', $2, $3)
         ON CONFLICT (identifier) DO UPDATE SET state = EXCLUDED.state`,
        [identifier, state, elderId],
      );
    },
    /** answers every query waiting so far */
    async answer() {
      await arrived();
      await gate.query('COMMIT');
      await until(() => pending === 0);
      await hold();
    },
    /** fails every query waiting so far (cancelled by the server, as a statement timeout would) */
    async fail() {
      await arrived();
      await monitor.query(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`, [(gate as unknown as { processID: number }).processID]);
      await until(() => pending === 0);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Registry', () => {
  it('caches a device for the TTL: one query for many frames', async () => {
    const f = await database();
    await f.set('860001');
    const r = new Registry(f.db, 60_000);
    const first = r.lookup('860001');
    await f.answer();
    expect((await first)?.elderId).toBe(elderId);
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    expect(f.queries).toBe(1);
  });

  it('shares one query among concurrent lookups of one identifier', async () => {
    const f = await database();
    await f.set('860001');
    const r = new Registry(f.db);
    const all = Promise.all([r.lookup('860001'), r.lookup('860001'), r.lookup('860001')]);
    await until(async () => (await f.blocked()) === 1);
    await tick();
    expect(f.queries).toBe(1);
    await f.answer();
    expect((await all).map((d) => d?.identifier)).toEqual(['860001', '860001', '860001']);
  });

  it('answers a known device from the cache once due, and refreshes it in the background', async () => {
    const f = await database();
    await f.set('860001');
    const r = new Registry(f.db, 0); // every entry is due at once
    const first = r.lookup('860001');
    await f.answer();
    await first;
    await f.set('860001', 'disabled');
    // due: answered at once from the cache, while the refresh (sent after this turn) waits for the database
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    await tick();
    expect(f.waiting).toBe(1);
    // a second frame meanwhile does not start a second query
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    expect(f.queries).toBe(2);
    await f.answer();
    await tick();
    // the refresh saw it disabled: from now on it is refused (and looked up again, as unknown devices are)
    const next = r.lookup('860001');
    await f.answer();
    expect(await next).toBeNull();
  });

  it('keeps a known device when its refresh fails, and tries again on a later frame', async () => {
    const f = await database();
    await f.set('860001');
    const r = new Registry(f.db, 0);
    const first = r.lookup('860001');
    await f.answer();
    await first;
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    await tick();
    await f.fail();
    await tick();
    expect((await r.lookup('860001'))?.identifier).toBe('860001');
    await tick();
    expect(f.queries).toBe(3);
  });

  it('refreshes the devices found due in one turn in one query, refreshBatch at a time, at most maxRefreshes queries at once', async () => {
    const f = await database();
    const ids = ['a1', 'a2', 'a3', 'a4', 'a5'];
    for (const id of ids) await f.set(id);
    // every entry due at once; batches of 2, at most 2 of them in flight
    const r = new Registry(f.db, 0, 3_000, 2, 200_000, 2);
    const loads = Promise.all(ids.map((id) => r.lookup(id)));
    await f.answer();
    await loads;
    expect(f.queries).toBe(5);
    await f.set('a5', 'disabled');
    // one turn finds all five due: answered from the cache, and three queries of at most two devices each
    for (const id of ids) expect((await r.lookup(id))?.identifier).toBe(id);
    await until(async () => (await f.blocked()) === 2);
    expect(f.waiting).toBe(2);
    // frames meanwhile start nothing more for devices already waiting for a refresh
    for (const id of ids) await r.lookup(id);
    await tick();
    expect(f.queries).toBe(5 + 2);
    await f.answer();
    // the third goes out once one of the two is answered (it may slip through before the test locks the table again)
    await until(() => f.queries === 5 + 3);
    if (f.waiting) await f.answer();
    await until(() => f.waiting === 0);
    // the last batch saw a5 disabled: it is refused from now on, remembered as unknown devices are (no query)
    expect(await r.lookup('a5')).toBeNull();
    expect((await r.lookup('a1'))?.identifier).toBe('a1');
    expect(f.queries).toBe(5 + 3);
  });

  it('still waits for the database for a device it has not found (a new registration is seen at once)', async () => {
    const f = await database();
    const r = new Registry(f.db, 60_000, 0);
    const first = r.lookup('860009');
    await f.answer();
    expect(await first).toBeNull();
    await f.set('860009');
    const again = r.lookup('860009');
    await f.answer();
    expect((await again)?.identifier).toBe('860009');
  });

  it('does not cache the answer of a query that an invalidate() overtook', async () => {
    const f = await database();
    await f.set('860001');
    const r = new Registry(f.db, 60_000);
    const before = r.lookup('860001');
    await until(async () => (await f.blocked()) === 1);
    r.invalidate('860001'); // the device is being changed while the query runs: its answer is already old
    await f.answer();
    expect((await before)?.identifier).toBe('860001');
    await f.set('860001', 'disabled');
    const after = r.lookup('860001');
    await until(async () => (await f.blocked()) === 1);
    expect(f.queries).toBe(2);
    await f.answer();
    expect(await after).toBeNull();
  });
});
