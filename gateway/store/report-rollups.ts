/**
 * The reports' hourly rollups (issue 23, 0017_report_rollups.sql): per UTC hour, the sums the reports need, so a
 * year is ~9,000 hours × a few dimensions instead of millions of rows. Triggers append the hours a write touches to
 * report_dirty; refreshRollups recomputes exactly those hours from the base rows. The SELECTs that compute an hour
 * are the same text for the refresh and for the part of a report read straight from the base rows (the last hours),
 * so the two cannot drift apart.
 */
import pg from 'pg';
import type { Db, Queryable } from './db.js';

/** pg_advisory_xact_lock key: one refresh at a time ('23' the issue, '0017' the migration). */
const LOCK = 230_017;

/** An hour's alarm figures over `alarms a`, named as report_alarm_hours' columns. */
export const ALARM_MEASURES = `count(*)::int AS alarms,
  count(a.accepted_at)::int AS answered,
  count(*) FILTER (WHERE a.accepted_at - a.first_at <= interval '60 seconds')::int AS within60,
  count(*) FILTER (WHERE a.accepted_at - a.first_at <= interval '180 seconds')::int AS within180,
  sum(extract(epoch FROM a.accepted_at - a.first_at)) AS accept_sum,
  count(a.resolved_at)::int AS resolve_n, sum(extract(epoch FROM a.resolved_at - a.first_at)) AS resolve_sum,
  count(a.closed_at)::int AS close_n, sum(extract(epoch FROM a.closed_at - a.first_at)) AS close_sum,
  max(extract(epoch FROM a.accepted_at - a.first_at)) AS accept_max, max(extract(epoch FROM a.resolved_at - a.first_at)) AS resolve_max,
  max(extract(epoch FROM a.closed_at - a.first_at)) AS close_max`;
export const ALARM_COLS = 'alarms, answered, within60, within180, accept_sum, resolve_n, resolve_sum, close_n, close_sum, accept_max, resolve_max, close_max';

/** An hour's figures of the calls with the outside world, over `calls c`, named as report_call_hours' columns. */
export const CALL_MEASURES = `count(*)::int AS calls,
  count(*) FILTER (WHERE CASE WHEN c.queue_result IS NOT NULL THEN c.queue_result = 'answered' ELSE c.answered_at IS NOT NULL END)::int AS answered,
  count(*) FILTER (WHERE c.queue_result = 'abandoned')::int AS abandoned,
  count(c.queue_wait_ms)::int AS wait_n, sum(c.queue_wait_ms)::bigint AS wait_sum`;
export const CALL_COLS = 'calls, answered, abandoned, wait_n, wait_sum';

export const hourOf = (col: string) => `date_trunc('hour', ${col}, 'UTC')`;

/** The agents on the call `c` (an outside leg): its own agent and the agents of every leg of its flow, once each. */
export const AGENTS_ON_FLOW = `SELECT c.agent_id AS user_id WHERE c.agent_id IS NOT NULL
  UNION SELECT x.agent_id FROM calls x WHERE c.flow_id IS NOT NULL AND x.flow_id = c.flow_id AND x.agent_id IS NOT NULL`;

const HOURS = `unnest($1::timestamptz[]) h(hour)`;
const alarmsIn = `JOIN alarms a ON a.first_at >= h.hour AND a.first_at < h.hour + interval '1 hour' AND NOT a.test`;
const callsIn = `JOIN calls c ON c.created_at >= h.hour AND c.created_at < h.hour + interval '1 hour'`;

/** Per source: each rollup table (a source's own rows where several share one) and how its dirty hours are rebuilt. */
const REFRESH: Record<'alarms' | 'calls' | 'states', { table: string; only?: string; insert: string }[]> = {
  alarms: [
    {
      table: 'report_alarm_hours',
      insert: `INSERT INTO report_alarm_hours (hour, kind, priority, alarm_class, ${ALARM_COLS})
        SELECT h.hour, a.kind, a.priority, a.alarm_class, ${ALARM_MEASURES} FROM ${HOURS} ${alarmsIn} GROUP BY h.hour, a.kind, a.priority, a.alarm_class`,
    },
    {
      table: 'report_alarm_area_hours',
      insert: `INSERT INTO report_alarm_area_hours (hour, area, kind, priority, alarm_class, ${ALARM_COLS})
        SELECT h.hour, e.area, a.kind, a.priority, a.alarm_class, ${ALARM_MEASURES} FROM ${HOURS} ${alarmsIn} JOIN elders e ON e.id = a.elder_id
         GROUP BY h.hour, e.area, a.kind, a.priority, a.alarm_class`,
    },
    {
      table: 'report_agent_hours',
      only: 'alarms',
      insert: `INSERT INTO report_agent_hours (hour, user_id, source, what, n)
        SELECT h.hour, a.owner_id, 'alarms', 'alarms', count(*) FROM ${HOURS} ${alarmsIn} WHERE a.owner_id IS NOT NULL GROUP BY h.hour, a.owner_id`,
    },
  ],
  calls: [
    {
      table: 'report_call_hours',
      insert: `INSERT INTO report_call_hours (hour, direction, ${CALL_COLS})
        SELECT h.hour, c.direction, ${CALL_MEASURES} FROM ${HOURS} ${callsIn} WHERE c.party <> 'agent' GROUP BY h.hour, c.direction`,
    },
    {
      table: 'report_call_area_hours',
      insert: `INSERT INTO report_call_area_hours (hour, area, direction, ${CALL_COLS})
        SELECT h.hour, e.area, c.direction, ${CALL_MEASURES} FROM ${HOURS} ${callsIn} JOIN elders e ON e.id = c.elder_id
         WHERE c.party <> 'agent' GROUP BY h.hour, e.area, c.direction`,
    },
    {
      // per agent on the flow (0019): each outside leg once per agent on any leg of its flow (or on the leg itself)
      table: 'report_call_agent_hours',
      // set-based (the legs of the hours joined to their flows at once, not a subquery per leg)
      insert: `INSERT INTO report_call_agent_hours (hour, user_id, direction, ${CALL_COLS})
        WITH c AS MATERIALIZED (SELECT h.hour, c.* FROM ${HOURS} ${callsIn} WHERE c.party <> 'agent'),
        u AS (SELECT c.id, c.agent_id AS user_id FROM c WHERE c.agent_id IS NOT NULL
              UNION
              SELECT c.id, x.agent_id FROM c JOIN calls x ON x.flow_id = c.flow_id WHERE x.agent_id IS NOT NULL)
        SELECT c.hour, u.user_id, c.direction, ${CALL_MEASURES} FROM c JOIN u ON u.id = c.id GROUP BY c.hour, u.user_id, c.direction`,
    },
    {
      table: 'report_agent_hours',
      only: 'calls',
      insert: `INSERT INTO report_agent_hours (hour, user_id, source, what, n, seconds)
        SELECT h.hour, c.agent_id, 'calls', 'calls', count(*), sum(extract(epoch FROM c.ended_at - c.answered_at))
          FROM ${HOURS} ${callsIn} WHERE c.party = 'agent' AND c.agent_id IS NOT NULL AND c.answered_at IS NOT NULL GROUP BY h.hour, c.agent_id`,
    },
  ],
  states: [
    {
      table: 'report_agent_hours',
      only: 'states',
      // each closed interval cut at the hour's edges; the pieces of one interval add up to it exactly (numeric)
      insert: `INSERT INTO report_agent_hours (hour, user_id, source, what, n, seconds)
        SELECT h.hour, s.user_id, 'states', s.state, count(*), sum(extract(epoch FROM LEAST(s.ended_at, h.hour + interval '1 hour') - GREATEST(s.started_at, h.hour)))
          FROM ${HOURS} JOIN agent_state_history s ON tstzrange(s.started_at, s.ended_at) && tstzrange(h.hour, h.hour + interval '1 hour') AND s.ended_at IS NOT NULL
         GROUP BY h.hour, s.user_id, s.state`,
    },
  ],
};
const DAYS = `(SELECT DISTINCT date_trunc('day', x, 'UTC') AS day FROM unnest($1::timestamptz[]) x)`;

export interface RefreshResult {
  /** hours recomputed per source */
  hours: Record<string, number>;
  ms: number;
}

/**
 * Recomputes the dirty hours, in one transaction under an advisory lock (so refreshes never interleave, and a
 * crash rolls back to the dirty rows still there). Only the report_dirty rows this transaction saw are deleted: a
 * write committing meanwhile has added its own, which the next refresh takes. `wait`: how long to wait for a
 * refresh already running (ms; 0 = do not wait); null when it did not get the lock.
 */
export async function refreshRollups(db: Db, o: { waitMs: number }): Promise<RefreshResult | null> {
  const t0 = performance.now();
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    if (o.waitMs > 0) {
      await c.query(`SELECT set_config('lock_timeout', $1, true)`, [`${o.waitMs}ms`]);
      try {
        await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK]);
      } catch (e) {
        if ((e as { code?: string }).code !== '55P03') throw e; // lock_not_available
        await c.query('ROLLBACK');
        return null;
      }
      await c.query(`SELECT set_config('lock_timeout', '0', true)`);
    } else if (!(await c.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [LOCK])).rows[0].ok) {
      await c.query('ROLLBACK');
      return null;
    }
    const hours: Record<string, number> = {};
    for (const [source, r] of Object.entries(REFRESH)) {
      const d = await c.query(`WITH d AS (DELETE FROM report_dirty WHERE source = $1 RETURNING hour) SELECT COALESCE(array_agg(DISTINCT hour), '{}') AS hours FROM d`, [source]);
      const list = d.rows[0].hours as Date[];
      hours[source] = list.length;
      if (!list.length) continue;
      for (const t of r) {
        await c.query(`DELETE FROM ${t.table} WHERE hour = ANY($1::timestamptz[])${t.only ? ` AND source = '${t.only}'` : ''}`, [list]);
        await c.query(t.insert, [list]);
      }
      // the days of those hours, from the hours
      await c.query(`DELETE FROM report_agent_days WHERE source = $2 AND day IN (SELECT day FROM ${DAYS} d)`, [list, source]);
      await c.query(
        `INSERT INTO report_agent_days (day, user_id, source, what, n, seconds)
         SELECT d.day, x.user_id, x.source, x.what, sum(x.n)::int, sum(x.seconds)
           FROM ${DAYS} d, generate_series(d.day, d.day + interval '23 hours', interval '1 hour') g(hour)
           JOIN report_agent_hours x ON x.hour = g.hour AND x.source = $2
          GROUP BY d.day, x.user_id, x.source, x.what`,
        [list, source],
      );
    }
    await c.query('COMMIT');
    return { hours, ms: performance.now() - t0 };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/**
 * Before a report reads the rollups: nothing dirty, or refreshed now. False when they cannot be brought up to date
 * quickly (another refresh holds the lock longer than `waitMs`, or `c` is a client inside someone's transaction):
 * the report then reads the base rows, exact but slower.
 */
export async function rollupsReady(c: Queryable, waitMs = 5000): Promise<boolean> {
  if (!(c instanceof pg.Pool)) return false;
  const dirty = (await c.query('SELECT EXISTS (SELECT 1 FROM report_dirty) AS d')).rows[0].d as boolean;
  if (!dirty) return true;
  return (await refreshRollups(c, { waitMs })) !== null;
}

/**
 * Whether UTC hours regroup exactly into the zone's local hours over [from, to]: its offset is whole hours on every
 * day of the range (Asia/Shanghai: always). Half-hour zones (Asia/Kolkata) read the base rows.
 */
export async function wholeHourZone(c: Queryable, tz: string, from: string, to: string): Promise<boolean> {
  const r = await c.query(
    `SELECT bool_and(extract(epoch FROM (t AT TIME ZONE $1::text) - (t AT TIME ZONE 'UTC'))::numeric % 3600 = 0) AS ok
       FROM generate_series(($2::date - 1)::timestamp AT TIME ZONE 'UTC', ($3::date + 2)::timestamp AT TIME ZONE 'UTC', interval '1 day') t`,
    [tz, from, to],
  );
  return r.rows[0].ok === true;
}
