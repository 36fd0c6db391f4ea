import pg from 'pg';

export type Db = pg.Pool;
export type Queryable = pg.Pool | pg.PoolClient;

// bigint ids come back as strings by default; our ids stay well inside 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
// int8[] (oid 1016, not in pg's TypeId list) likewise: alarm id lists, presented_to.
const setParser = pg.types.setTypeParser as (oid: number, fn: (v: string) => unknown) => void;
const parseInt8Array = (pg.types.getTypeParser as (oid: number) => (v: string) => unknown)(1016);
setParser(1016, (v) => (parseInt8Array(v) as string[]).map(Number));

/** Connections for alarm commits (the store part's alarm pool, or the commit thread's): as many as commits in flight. */
export const ALARM_POOL = 6;

/** `name` shows as the connections' application_name in pg_stat_activity (which pool holds what). */
export function createPool(url: string, max = 20, name?: string): Db {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000, ...(name ? { application_name: name } : {}) });
  // A dropped connection must not crash the process: the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs fn in one transaction. */
export async function tx<T>(db: Db, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** Postgres error codes we turn into API answers. */
export const PG_UNIQUE = '23505';
export const PG_FK = '23503';
/** The health check: throws when PostgreSQL does not answer. */
export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}

export function pgCode(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}
