/**
 * The SQL of the singletons' leases (gateway/cluster/leader.ts): a session advisory lock on a connection of its own.
 * The two-int form `(namespace, key)` keeps these locks apart from the single-bigint locks used elsewhere
 * (report rollups): PostgreSQL files the two forms separately (pg_locks.objsubid 2, not 1).
 */
import pg from 'pg';

export type LeaseClient = pg.Client;
export type LeaseConnection = pg.ClientConfig;

/**
 * A connection of its own for a lease (never the pool's: a pooled connection goes back to the pool, and its locks
 * with it). `broken` hears 'error' and 'end', both meaning the session, and so its locks, are gone.
 */
export async function openLeaseClient(
  connection: LeaseConnection,
  o: { applicationName: string; keepaliveS: number; timeoutMs: number; created(c: LeaseClient): void; broken(c: LeaseClient, e: Error): void },
): Promise<LeaseClient> {
  // Every step bounded: a path that went dark mid-way (no FIN, no RST) must fail the round, not hang the lease.
  const c = new pg.Client({
    ...connection,
    connectionTimeoutMillis: o.timeoutMs,
    query_timeout: o.timeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: o.keepaliveS * 1000,
  });
  c.on('error', (e) => o.broken(c, e));
  c.on('end', () => o.broken(c, new Error('lease connection ended')));
  o.created(c);
  await c.connect();
  await prepareLeaseSession(c, o.applicationName, o.keepaliveS);
  return c;
}

/** Drops a lease connection now, even one that no longer answers (its socket may never say 'end'). */
export function destroyLeaseClient(c: LeaseClient): void {
  (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  void c.end().catch(() => undefined);
}

/**
 * Names the session `application_name` (so pg_stat_activity and the holder lookup show the node) and asks the server
 * to probe the connection with TCP keepalives every `keepaliveS`: a node whose machine died (no FIN, no RST) loses its
 * locks after about keepaliveS + 2 probes, not after the kernel's default two hours.
 */
async function prepareLeaseSession(c: pg.Client, applicationName: string, keepaliveS: number): Promise<void> {
  await c.query(
    `SELECT set_config('application_name', $1, false), set_config('tcp_keepalives_idle', $2, false),
            set_config('tcp_keepalives_interval', '1', false), set_config('tcp_keepalives_count', '2', false)`,
    [applicationName, String(keepaliveS)],
  );
}

/** Takes the lock if free; true when this session holds it (again: session locks stack, so callers take it once). */
export async function tryLeaderLock(c: pg.Client, [ns, key]: readonly [number, number]): Promise<boolean> {
  const r = await c.query('SELECT pg_try_advisory_lock($1::int4, $2::int4) AS ok', [ns, key]);
  return r.rows[0].ok === true;
}

export async function releaseLeaderLock(c: pg.Client, [ns, key]: readonly [number, number]): Promise<void> {
  await c.query('SELECT pg_advisory_unlock($1::int4, $2::int4)', [ns, key]);
}

/** The application_name of the session holding the lock in this database, if any holds it. */
export async function leaderLockHolder(c: pg.Client, [ns, key]: readonly [number, number]): Promise<string | undefined> {
  const r = await c.query(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1::int4::oid AND l.objid = $2::int4::oid`,
    [ns, key],
  );
  return r.rows[0]?.application_name as string | undefined;
}

/** A cheap round trip: the session (and so its locks) is still alive. */
export async function pingLease(c: pg.Client): Promise<void> {
  await c.query('SELECT 1');
}
