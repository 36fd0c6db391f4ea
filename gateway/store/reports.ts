/**
 * Reports (统计报表, issue 23): every figure is a SQL aggregate; JavaScript only names the columns. A range is two
 * local dates [from, to] of the centre's time zone, both included: the instants from `from` 00:00 to `to + 1` 00:00
 * local, so a range condition stays a plain range over an indexed timestamptz column (0015_reports.sql). Buckets are
 * `date_trunc(day | week | month, ts AT TIME ZONE tz)` (ISO weeks, Monday first), given by their first local date.
 * Over long ranges the sums come from hourly rollups (report-rollups.ts, 0017_report_rollups.sql), refreshed before
 * reading and exactly equal to the same aggregate over the base rows, which `direct: true` (and every case the
 * rollups cannot answer: a half-hour zone, the owner filter, the calls' agent filter with an area) still reads.
 */
import type { Queryable } from './db.js';
import { AGENTS_ON_FLOW, ALARM_COLS, ALARM_MEASURES, CALL_COLS, CALL_MEASURES, hourOf, rollupsReady, wholeHourZone } from './report-rollups.js';
import { camel } from './rows.js';

export type GroupBy = 'day' | 'week' | 'month';

export interface ReportFilter {
  /** yyyy-mm-dd, local, included */
  from: string;
  /** yyyy-mm-dd, local, included */
  to: string;
  /** the centre's IANA time zone */
  tz: string;
  groupBy: GroupBy;
  /** elders.area (片区/社区) */
  area?: string;
  /** alarms: the owner; calls: an agent on the call; agents: that agent's row only */
  agentId?: number;
  kind?: string;
  priority?: number;
  /** the clock: open intervals end here, and an unanswered alarm is decided once its window has passed by it */
  now: Date;
  /** read the base rows only, never the hourly rollups (the tests' and the bench's reference) */
  direct?: boolean;
}

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

/** The answering targets of an alarm-receiving centre: within 60 s and within 180 s. */
export const ANSWER_TARGETS = { rate60: 0.975, rate180: 0.99 } as const;

/** $n parameters, numbered as first used (PostgreSQL refuses a parameter a statement does not use). */
class Params {
  readonly values: unknown[] = [];
  private readonly named = new Map<string, string>();
  constructor(private readonly f: ReportFilter) {}
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
  private once(key: string, v: unknown, cast: string): string {
    let s = this.named.get(key);
    if (!s) this.named.set(key, (s = `${this.add(v)}::${cast}`));
    return s;
  }
  get from() { return this.once('from', this.f.from, 'date'); }
  get to() { return this.once('to', this.f.to, 'date'); }
  get tz() { return this.once('tz', this.f.tz, 'text'); }
  get unit() { return this.once('unit', this.f.groupBy, 'text'); }
  get now() { return this.once('now', this.f.now, 'timestamptz'); }
  /** the range's first instant: `from` 00:00 local */
  get lo() { return `((${this.from})::timestamp AT TIME ZONE ${this.tz})`; }
  /** the instant after the range: `to + 1` 00:00 local */
  get hi() { return `((${this.to} + 1)::timestamp AT TIME ZONE ${this.tz})`; }
  /**
   * Where the rollups end and the base rows take over: the hour of `now` less 3 minutes (an alarm's answering
   * figures are final 180 s after it is raised), kept within the range.
   */
  get cut() { return `GREATEST(${this.lo}, LEAST(${this.hi}, date_trunc('hour', ${this.now} - interval '3 minutes', 'UTC')))`; }
  inRange(col: string): string {
    return `${col} >= ${this.lo} AND ${col} < ${this.hi}`;
  }
  bucketOf(col: string): string {
    return `date_trunc(${this.unit}, ${col} AT TIME ZONE ${this.tz})::date`;
  }
  /** every bucket of the range, empty ones too */
  get buckets(): string {
    return `SELECT gs::date AS bucket FROM generate_series(date_trunc(${this.unit}, (${this.from})::timestamp), (${this.to})::timestamp, ('1 ' || ${this.unit})::interval) gs`;
  }
}

const secs = (expr: string) => `round((${expr})::numeric, 1)::float8`;

/** The alarm filters (area, owner, kind, priority) over `alarms a LEFT JOIN elders e`. */
function alarmWhere(f: ReportFilter, p: Params): string {
  const w = [p.inRange('a.first_at'), 'NOT a.test'];
  if (f.area !== undefined) w.push(`e.area = ${p.add(f.area)}`);
  if (f.agentId !== undefined) w.push(`a.owner_id = ${p.add(f.agentId)}`);
  if (f.kind !== undefined) w.push(`a.kind = ${p.add(f.kind)}`);
  if (f.priority !== undefined) w.push(`a.priority = ${p.add(f.priority)}`);
  return w.join(' AND ');
}

const rows = async (c: Queryable, sql: string, values: unknown[]): Promise<Row[]> => (await c.query(sql, values)).rows.map((x) => camel<Row>(x));

/**
 * Whether this report reads the hourly rollups (report-rollups.ts): not asked to read the base rows, a zone whose
 * hours are whole UTC hours over the range, and the rollups up to date (refreshed here if anything is dirty, so a
 * report is never behind the live data).
 */
async function rolled(c: Queryable, f: ReportFilter): Promise<boolean> {
  return !f.direct && (await wholeHourZone(c, f.tz, f.from, f.to)) && (await rollupsReady(c));
}

/**
 * `hrs`: the alarms (not test) of the range per UTC hour × kind, priority, class (and area when filtered by area):
 * the rollup up to p.cut, the base rows after it. decided60/180 (answered, or the window over by `now`): every alarm
 * of a rollup hour is decided (the cut is 3 minutes before now); the last hours count them against `now`.
 */
function alarmHours(f: ReportFilter, p: Params, name = 'hrs'): string {
  const byArea = f.area !== undefined;
  return `${name} AS (
    SELECT hour, kind, priority, alarm_class, ${byArea ? 'area' : 'NULL::text AS area'}, ${ALARM_COLS}, alarms AS decided60, alarms AS decided180
      FROM ${byArea ? 'report_alarm_area_hours' : 'report_alarm_hours'} WHERE hour >= ${p.lo} AND hour < ${p.cut}
    UNION ALL
    SELECT ${hourOf('a.first_at')}, a.kind, a.priority, a.alarm_class, e.area, ${ALARM_MEASURES},
           count(*) FILTER (WHERE a.accepted_at IS NOT NULL OR ${p.now} - a.first_at > interval '60 seconds')::int,
           count(*) FILTER (WHERE a.accepted_at IS NOT NULL OR ${p.now} - a.first_at > interval '180 seconds')::int
      FROM alarms a LEFT JOIN elders e ON e.id = a.elder_id
     WHERE a.first_at >= ${p.cut} AND a.first_at < ${p.hi} AND NOT a.test
     GROUP BY 1, 2, 3, 4, 5)`;
}

/** The alarm filters over hrs x (the owner filter never reads the rollups). */
function alarmHoursWhere(f: ReportFilter, p: Params): string {
  const w = ['true'];
  if (f.area !== undefined) w.push(`x.area = ${p.add(f.area)}`);
  if (f.kind !== undefined) w.push(`x.kind = ${p.add(f.kind)}`);
  if (f.priority !== undefined) w.push(`x.priority = ${p.add(f.priority)}`);
  return w.join(' AND ');
}

/**
 * `hrs`: the calls with the outside world per UTC hour × direction (and area), as alarmHours. With an agent (and no
 * area): the calls that agent was on (any leg of the flow), report_call_agent_hours up to the cut.
 */
function callHours(f: ReportFilter, p: Params): string {
  if (f.agentId !== undefined) {
    const id = p.add(f.agentId);
    return `hrs AS (
    SELECT hour, direction, NULL::text AS area, ${CALL_COLS}
      FROM report_call_agent_hours WHERE user_id = ${id} AND hour >= ${p.lo} AND hour < ${p.cut}
    UNION ALL
    SELECT ${hourOf('c.created_at')}, c.direction, NULL::text, ${CALL_MEASURES}
      FROM calls c
     WHERE c.created_at >= ${p.cut} AND c.created_at < ${p.hi} AND c.party <> 'agent'
       AND EXISTS (SELECT 1 FROM (${AGENTS_ON_FLOW}) u WHERE u.user_id = ${id})
     GROUP BY 1, 2, 3)`;
  }
  const byArea = f.area !== undefined;
  return `hrs AS (
    SELECT hour, direction, ${byArea ? 'area' : 'NULL::text AS area'}, ${CALL_COLS}
      FROM ${byArea ? 'report_call_area_hours' : 'report_call_hours'} WHERE hour >= ${p.lo} AND hour < ${p.cut}
    UNION ALL
    SELECT ${hourOf('c.created_at')}, c.direction, e.area, ${CALL_MEASURES}
      FROM calls c LEFT JOIN elders e ON e.id = c.elder_id
     WHERE c.created_at >= ${p.cut} AND c.created_at < ${p.hi} AND c.party <> 'agent'
     GROUP BY 1, 2, 3)`;
}

export interface AlarmsReport {
  rows: Row[];
  heatmap: Row[];
  falseByDevice: Row[];
  falseByElder: Row[];
}

/** Alarms by bucket × kind × priority; the weekday × hour heat map; false alarms (误按) per device and per elder, top 20. */
export async function alarmsReport(c: Queryable, f: ReportFilter): Promise<AlarmsReport> {
  const from = `FROM alarms a LEFT JOIN elders e ON e.id = a.elder_id`;
  const run = (build: (p: Params, where: string) => string) => {
    const p = new Params(f);
    const sql = build(p, alarmWhere(f, p));
    return rows(c, sql, p.values);
  };
  const hours = (build: (p: Params, where: string) => string) => {
    const p = new Params(f);
    const head = alarmHours(f, p);
    const sql = build(p, alarmHoursWhere(f, p));
    return rows(c, `WITH ${head} ${sql}`, p.values);
  };
  const fast = f.agentId === undefined && (await rolled(c, f));
  const [byKind, heatmap, falseByDevice, falseByElder] = await Promise.all([
    fast
      ? hours((p, where) => `SELECT ${p.bucketOf('x.hour')}::text AS bucket, x.kind, x.priority::int AS priority, sum(x.alarms)::int AS count FROM hrs x WHERE ${where} GROUP BY 1, 2, 3 ORDER BY 1, 3, 2`)
      : run((p, where) => `SELECT ${p.bucketOf('a.first_at')}::text AS bucket, a.kind, a.priority::int AS priority, count(*)::int AS count ${from} WHERE ${where} GROUP BY 1, 2, 3 ORDER BY 1, 3, 2`),
    fast
      ? hours(
          (p, where) => `SELECT extract(isodow FROM x.hour AT TIME ZONE ${p.tz})::int AS weekday, extract(hour FROM x.hour AT TIME ZONE ${p.tz})::int AS hour, sum(x.alarms)::int AS count
             FROM hrs x WHERE ${where} GROUP BY 1, 2 ORDER BY 1, 2`,
        )
      : run(
          (p, where) => `SELECT extract(isodow FROM a.first_at AT TIME ZONE ${p.tz})::int AS weekday, extract(hour FROM a.first_at AT TIME ZONE ${p.tz})::int AS hour, count(*)::int AS count
             ${from} WHERE ${where} GROUP BY 1, 2 ORDER BY 1, 2`,
        ),
    run(
      (_p, where) => `SELECT a.device_id, d.identifier, d.kind AS device_kind, d.elder_id, de.name AS elder_name, count(*)::int AS count
         ${from} JOIN devices d ON d.id = a.device_id LEFT JOIN elders de ON de.id = d.elder_id
        WHERE ${where} AND a.outcome = 'accidental_press'
        GROUP BY a.device_id, d.identifier, d.kind, d.elder_id, de.name ORDER BY count(*) DESC, a.device_id LIMIT 20`,
    ),
    run(
      (_p, where) => `SELECT a.elder_id, e.name AS elder_name, e.area, count(*)::int AS count
         ${from} WHERE ${where} AND a.outcome = 'accidental_press' AND a.elder_id IS NOT NULL
        GROUP BY a.elder_id, e.name, e.area ORDER BY count(*) DESC, a.elder_id LIMIT 20`,
    ),
  ]);
  return { rows: byKind, heatmap, falseByDevice, falseByElder };
}

/**
 * Answering per bucket, and the totals (bucket null): operator alarms (not test), answered = accepted. An alarm
 * counts towards a rate once decided (as answerRates in store/alarms.ts): accepted, or its window over by `now`.
 * Times from first_at, in seconds: to accept, to resolve, to close (closing waits for the follow-up call).
 */
export async function answeringReport(c: Queryable, f: ReportFilter): Promise<{ rows: Row[]; totals: Row }> {
  if (f.agentId === undefined && (await rolled(c, f))) return answeringRolled(c, f);
  const p = new Params(f);
  const where = alarmWhere(f, p);
  const t60 = p.add(ANSWER_TARGETS.rate60);
  const t180 = p.add(ANSWER_TARGETS.rate180);
  const accept = `extract(epoch FROM a.accepted_at - a.first_at)`;
  const resolve = `extract(epoch FROM a.resolved_at - a.first_at)`;
  const close = `extract(epoch FROM a.closed_at - a.first_at)`;
  const all = await rows(
    c,
    `WITH a AS (
       SELECT ${p.bucketOf('a.first_at')} AS bucket, a.id, a.first_at, a.accepted_at, a.resolved_at, a.closed_at
         FROM alarms a LEFT JOIN elders e ON e.id = a.elder_id WHERE ${where} AND a.alarm_class = 'operator'
     ), g AS (
       SELECT GROUPING(b.bucket) = 1 AS total, b.bucket::text AS bucket,
              count(a.id)::int AS alarms,
              count(a.id) FILTER (WHERE a.accepted_at IS NOT NULL)::int AS answered,
              count(a.id) FILTER (WHERE a.accepted_at IS NOT NULL OR ${p.now} - a.first_at > interval '60 seconds')::int AS decided60,
              count(a.id) FILTER (WHERE a.accepted_at IS NOT NULL OR ${p.now} - a.first_at > interval '180 seconds')::int AS decided180,
              count(a.id) FILTER (WHERE a.accepted_at - a.first_at <= interval '60 seconds')::int AS within60,
              count(a.id) FILTER (WHERE a.accepted_at - a.first_at <= interval '180 seconds')::int AS within180,
              ${secs(`avg(${accept})`)} AS avg_accept_s,
              ${secs(`max(${accept})`)} AS max_accept_s,
              ${secs(`avg(${resolve})`)} AS avg_resolve_s,
              ${secs(`max(${resolve})`)} AS max_resolve_s,
              ${secs(`avg(${close})`)} AS avg_close_s,
              ${secs(`max(${close})`)} AS max_close_s
         FROM (${p.buckets}) b LEFT JOIN a ON a.bucket = b.bucket
        GROUP BY ROLLUP (b.bucket)
     )
     SELECT g.*,
            round(within60::numeric / NULLIF(decided60, 0), 4)::float8 AS rate60,
            round(within180::numeric / NULLIF(decided180, 0), 4)::float8 AS rate180,
            CASE WHEN decided60 > 0 THEN within60::float8 / decided60 >= ${t60}::float8 END AS met60,
            CASE WHEN decided180 > 0 THEN within180::float8 / decided180 >= ${t180}::float8 END AS met180
       FROM g ORDER BY total, bucket`,
    p.values,
  );
  const totals = all.find((r) => r.total === true)!;
  const strip = ({ total: _t, ...r }: Row) => r;
  return { rows: all.filter((r) => r.total !== true).map(strip), totals: strip({ ...totals, bucket: null }) };
}

/**
 * answeringReport from the rollups: counts and averages summed per hour (sum of seconds / count, as avg() on the
 * base rows) and the longest times as the max of the hours' maxima. (Not a p90: it cannot be summed from hours, and
 * percentile_cont over a year's 0.9 M operator alarms took 3.2 s; see 0020_report_answer_max.sql.)
 */
async function answeringRolled(c: Queryable, f: ReportFilter): Promise<{ rows: Row[]; totals: Row }> {
  const p = new Params(f);
  const where = alarmHoursWhere(f, p);
  const t60 = p.add(ANSWER_TARGETS.rate60);
  const t180 = p.add(ANSWER_TARGETS.rate180);
  const avg = (sum: string, n: string) => secs(`sum(a.${sum}) / NULLIF(sum(a.${n}), 0)`);
  const all = await rows(
    c,
    `WITH ${alarmHours(f, p)},
     a AS (SELECT ${p.bucketOf('x.hour')} AS bucket, x.* FROM hrs x WHERE ${where} AND x.alarm_class = 'operator'),
     g AS (
       SELECT GROUPING(b.bucket) = 1 AS total, b.bucket::text AS bucket,
              COALESCE(sum(a.alarms), 0)::int AS alarms, COALESCE(sum(a.answered), 0)::int AS answered,
              COALESCE(sum(a.decided60), 0)::int AS decided60, COALESCE(sum(a.decided180), 0)::int AS decided180,
              COALESCE(sum(a.within60), 0)::int AS within60, COALESCE(sum(a.within180), 0)::int AS within180,
              ${avg('accept_sum', 'answered')} AS avg_accept_s, ${secs('max(a.accept_max)')} AS max_accept_s,
              ${avg('resolve_sum', 'resolve_n')} AS avg_resolve_s, ${secs('max(a.resolve_max)')} AS max_resolve_s,
              ${avg('close_sum', 'close_n')} AS avg_close_s, ${secs('max(a.close_max)')} AS max_close_s
         FROM (${p.buckets}) b LEFT JOIN a ON a.bucket = b.bucket
        GROUP BY ROLLUP (b.bucket)
     )
     SELECT g.*,
            round(within60::numeric / NULLIF(decided60, 0), 4)::float8 AS rate60,
            round(within180::numeric / NULLIF(decided180, 0), 4)::float8 AS rate180,
            CASE WHEN decided60 > 0 THEN within60::float8 / decided60 >= ${t60}::float8 END AS met60,
            CASE WHEN decided180 > 0 THEN within180::float8 / decided180 >= ${t180}::float8 END AS met180
       FROM g ORDER BY g.total, g.bucket`,
    p.values,
  );
  const totals = all.find((r) => r.total === true)!;
  const strip = ({ total: _t, ...r }: Row) => r;
  return { rows: all.filter((r) => r.total !== true).map(strip), totals: strip({ ...totals, bucket: null }) };
}

/** The states an agent's time is split into (agent_status.state). */
export const AGENT_STATES = ['ready', 'not_ready', 'away', 'wrap_up', 'on_call', 'handling', 'ringing'] as const;

/**
 * The agents report's last part, the same whether the CTEs al (alarms), ca (calls) and st (state seconds) come from
 * the base rows or the rollups: seconds per state, then one row per agent. `one`: the agent filter's parameter.
 */
function agentRows(one: string | undefined): string {
  const stateCols = AGENT_STATES.map((s) => `${secs(`COALESCE(sum(s) FILTER (WHERE state = '${s}'), 0)`)} AS ${s}_s`).join(',\n            ');
  return `sp AS (SELECT user_id, ${secs('sum(s)')} AS signed_in_s,
            ${stateCols}
              FROM st GROUP BY user_id)
     SELECT u.id AS agent_id, u.username, u.display_name AS name,
            COALESCE(al.alarms, 0) AS alarms, COALESCE(ca.calls, 0) AS calls, ${secs('COALESCE(ca.talk_s, 0)')} AS talk_s,
            COALESCE(sp.signed_in_s, 0) AS signed_in_s,
            ${AGENT_STATES.map((s) => `COALESCE(sp.${s}_s, 0) AS ${s}_s`).join(', ')}
       FROM users u LEFT JOIN al ON al.user_id = u.id LEFT JOIN ca ON ca.user_id = u.id LEFT JOIN sp ON sp.user_id = u.id
      WHERE ((u.role = 'agent' AND NOT u.disabled) OR al.user_id IS NOT NULL OR ca.user_id IS NOT NULL OR sp.user_id IS NOT NULL)
            ${one ? `AND u.id = ${one}` : ''}
      ORDER BY u.id`;
}

/**
 * Per agent: alarms handled (owned, first raised in the range, with the alarm filters), calls talked on (their own
 * legs, party 'agent', answered) with the talk time (answered → ended), and the time in each state from
 * agent_state_history, each interval clipped to the range and to `now` (an open interval runs until now).
 * Agents (role agent, not disabled) are listed even with nothing to show; other users when they have figures.
 * A range in the future is empty (clipped to now).
 */
export async function agentsReport(c: Queryable, f: ReportFilter): Promise<Row[]> {
  if (await rolled(c, f)) return agentsRolled(c, f);
  const p = new Params(f);
  const where = alarmWhere({ ...f, agentId: undefined }, p);
  const one = f.agentId !== undefined ? p.add(f.agentId) : undefined;
  return rows(
    c,
    `WITH r0 AS (SELECT ${p.lo} AS lo, LEAST(${p.hi}, ${p.now}) AS hi),
     r AS (SELECT lo, GREATEST(lo, hi) AS hi FROM r0),
     al AS (SELECT a.owner_id AS user_id, count(*)::int AS alarms FROM alarms a LEFT JOIN elders e ON e.id = a.elder_id
             WHERE ${where} AND a.owner_id IS NOT NULL${one ? ` AND a.owner_id = ${one}` : ''} GROUP BY 1),
     ca AS (SELECT c.agent_id AS user_id, count(*)::int AS calls, COALESCE(sum(extract(epoch FROM c.ended_at - c.answered_at)) FILTER (WHERE c.ended_at IS NOT NULL), 0) AS talk_s
              FROM calls c WHERE ${p.inRange('c.created_at')} AND c.party = 'agent' AND c.agent_id IS NOT NULL${one ? ` AND c.agent_id = ${one}` : ''} AND c.answered_at IS NOT NULL GROUP BY 1),
     st AS (SELECT h.user_id, h.state, extract(epoch FROM LEAST(COALESCE(h.ended_at, ${p.now}), r.hi) - GREATEST(h.started_at, r.lo)) AS s
              FROM agent_state_history h, r
             WHERE tstzrange(h.started_at, h.ended_at) && tstzrange(r.lo, r.hi) AND h.started_at < r.hi AND COALESCE(h.ended_at, ${p.now}) > r.lo${one ? ` AND h.user_id = ${one}` : ''}),
     ${agentRows(one)}`,
    p.values,
  );
}

/**
 * agentsReport from the rollups: per agent, the whole UTC days of the range from report_agent_days and the hours at
 * its ends from report_agent_hours, up to the hour of `now` (r.cut); after it, the closed state intervals, alarms and
 * calls from the base rows, and every open interval from the base rows. Alarms under an area, kind or priority
 * filter: the base rows.
 */
async function agentsRolled(c: Queryable, f: ReportFilter): Promise<Row[]> {
  const p = new Params(f);
  const filtered = f.area !== undefined || f.kind !== undefined || f.priority !== undefined;
  const where = alarmWhere({ ...f, agentId: undefined }, p);
  const one = f.agentId !== undefined ? p.add(f.agentId) : undefined;
  const only = (col: string) => (one ? ` AND ${col} = ${one}` : '');
  return rows(
    c,
    `WITH r0 AS (SELECT ${p.lo} AS lo, LEAST(${p.hi}, ${p.now}) AS hi),
     r1 AS (SELECT lo, GREATEST(lo, hi) AS hi FROM r0),
     r2 AS (SELECT lo, hi, GREATEST(lo, LEAST(hi, date_trunc('hour', ${p.now}, 'UTC'))) AS cut FROM r1),
     -- dlo: the first UTC midnight at or after lo; dhi: the last at or before cut
     r AS (SELECT lo, hi, cut, date_trunc('day', lo - interval '1 microsecond', 'UTC') + interval '1 day' AS dlo, date_trunc('day', cut, 'UTC') AS dhi FROM r2),
     roll AS (SELECT x.user_id, x.source, x.what, x.n, x.seconds FROM report_agent_days x, r WHERE x.day >= r.dlo AND x.day < r.dhi${only('x.user_id')}
              UNION ALL
              SELECT x.user_id, x.source, x.what, x.n, x.seconds FROM report_agent_hours x, r
               WHERE ((x.hour >= r.lo AND x.hour < LEAST(r.dlo, r.cut)) OR (x.hour >= GREATEST(r.dhi, r.dlo) AND x.hour < r.cut))${only('x.user_id')}),
     al AS (${
       filtered
         ? `SELECT a.owner_id AS user_id, count(*)::int AS alarms FROM alarms a LEFT JOIN elders e ON e.id = a.elder_id
             WHERE ${where} AND a.owner_id IS NOT NULL${only('a.owner_id')} GROUP BY 1`
         : `SELECT user_id, sum(n)::int AS alarms FROM (
              SELECT user_id, n FROM roll WHERE source = 'alarms'
              UNION ALL
              SELECT a.owner_id, 1 FROM alarms a, r WHERE a.first_at >= r.cut AND a.first_at < ${p.hi} AND NOT a.test AND a.owner_id IS NOT NULL${only('a.owner_id')}
            ) x GROUP BY 1`
     }),
     ca AS (SELECT user_id, sum(n)::int AS calls, COALESCE(sum(seconds), 0) AS talk_s FROM (
              SELECT user_id, n, seconds FROM roll WHERE source = 'calls'
              UNION ALL
              SELECT c.agent_id, 1, extract(epoch FROM c.ended_at - c.answered_at) FROM calls c, r
               WHERE c.created_at >= r.cut AND c.created_at < ${p.hi} AND c.party = 'agent' AND c.agent_id IS NOT NULL AND c.answered_at IS NOT NULL${only('c.agent_id')}
            ) x GROUP BY 1),
     st AS (SELECT user_id, what AS state, seconds AS s FROM roll WHERE source = 'states'
            UNION ALL
            SELECT h.user_id, h.state, extract(epoch FROM LEAST(h.ended_at, r.hi) - GREATEST(h.started_at, r.cut))
              FROM agent_state_history h, r WHERE h.ended_at IS NOT NULL AND tstzrange(h.started_at, h.ended_at) && tstzrange(r.cut, r.hi)${only('h.user_id')}
            UNION ALL
            SELECT h.user_id, h.state, extract(epoch FROM r.hi - GREATEST(h.started_at, r.lo))
              FROM agent_state_history h, r WHERE h.ended_at IS NULL AND h.started_at < r.hi AND r.hi > r.lo${only('h.user_id')}),
     ${agentRows(one)}`,
    p.values,
  );
}

/**
 * Calls per bucket: the calls with the outside world (every leg but the agents' own, party 'agent'). Answered: a
 * queued hotline call answered by an agent (queue_result), any other call once picked up. Abandoned: the caller
 * hung up in the queue. Wait: the hotline queue wait, where one was recorded. Filters: the elder's area, an agent
 * on the call (any leg of its flow).
 */
export async function callsReport(c: Queryable, f: ReportFilter): Promise<{ rows: Row[]; totals: Row }> {
  // an agent on the call is a property of the whole flow, not of one leg: report_call_agent_hours (0019) has it per
  // agent; with an area too, the base rows
  if ((f.agentId === undefined || f.area === undefined) && (await rolled(c, f))) return callsRolled(c, f);
  const p = new Params(f);
  const w = [p.inRange('c.created_at'), `c.party <> 'agent'`];
  if (f.area !== undefined) w.push(`e.area = ${p.add(f.area)}`);
  if (f.agentId !== undefined) {
    // the agent's own legs and every leg of their flows, found from the agent (calls_agent_created_idx, calls_flow_idx)
    const id = p.add(f.agentId);
    w.push(`c.id IN (SELECT x.id FROM calls x WHERE x.agent_id = ${id}
                     UNION ALL SELECT y.id FROM calls x JOIN calls y ON y.flow_id = x.flow_id WHERE x.agent_id = ${id} AND x.flow_id IS NOT NULL)`);
  }
  const all = await rows(
    c,
    `WITH c AS (
       SELECT ${p.bucketOf('c.created_at')} AS bucket, c.id, c.direction, c.answered_at, c.queue_result, c.queue_wait_ms
         FROM calls c LEFT JOIN elders e ON e.id = c.elder_id WHERE ${w.join(' AND ')}
     )
     SELECT GROUPING(b.bucket) = 1 AS total, b.bucket::text AS bucket,
            count(c.id)::int AS calls,
            count(c.id) FILTER (WHERE c.direction = 'inbound')::int AS inbound,
            count(c.id) FILTER (WHERE c.direction = 'outbound')::int AS outbound,
            count(c.id) FILTER (WHERE CASE WHEN c.queue_result IS NOT NULL THEN c.queue_result = 'answered' ELSE c.answered_at IS NOT NULL END)::int AS answered,
            count(c.id) FILTER (WHERE c.queue_result = 'abandoned')::int AS abandoned,
            ${secs('avg(c.queue_wait_ms) / 1000.0')} AS avg_wait_s
       FROM (${p.buckets}) b LEFT JOIN c ON c.bucket = b.bucket
      GROUP BY ROLLUP (b.bucket)
      ORDER BY 1, 2`,
    p.values,
  );
  const strip = ({ total: _t, ...r }: Row) => r;
  return { rows: all.filter((r) => r.total !== true).map(strip), totals: strip({ ...all.find((r) => r.total === true)!, bucket: null }) };
}

/** callsReport from the rollups (the agent filter without an area, or no agent filter). */
async function callsRolled(c: Queryable, f: ReportFilter): Promise<{ rows: Row[]; totals: Row }> {
  const p = new Params(f);
  const area = f.area !== undefined ? ` AND x.area = ${p.add(f.area)}` : '';
  const all = await rows(
    c,
    `WITH ${callHours(f, p)},
     c AS (SELECT ${p.bucketOf('x.hour')} AS bucket, x.* FROM hrs x WHERE true${area})
     SELECT GROUPING(b.bucket) = 1 AS total, b.bucket::text AS bucket,
            COALESCE(sum(c.calls), 0)::int AS calls,
            COALESCE(sum(c.calls) FILTER (WHERE c.direction = 'inbound'), 0)::int AS inbound,
            COALESCE(sum(c.calls) FILTER (WHERE c.direction = 'outbound'), 0)::int AS outbound,
            COALESCE(sum(c.answered), 0)::int AS answered,
            COALESCE(sum(c.abandoned), 0)::int AS abandoned,
            ${secs('sum(c.wait_sum)::numeric / NULLIF(sum(c.wait_n), 0) / 1000.0')} AS avg_wait_s
       FROM (${p.buckets}) b LEFT JOIN c ON c.bucket = b.bucket
      GROUP BY ROLLUP (b.bucket)
      ORDER BY 1, 2`,
    p.values,
  );
  const strip = ({ total: _t, ...r }: Row) => r;
  return { rows: all.filter((r) => r.total !== true).map(strip), totals: strip({ ...all.find((r) => r.total === true)!, bucket: null }) };
}

/**
 * Work orders received in the range, by type × state: SLA met (no sla_overdue on its timeline, so far) or missed,
 * and the average satisfaction (满意度 1-5) of those rated. Filters: area, priority, agentId (who opened it).
 */
export async function workOrdersReport(c: Queryable, f: ReportFilter): Promise<{ rows: Row[]; totals: Row }> {
  const p = new Params(f);
  const w = [p.inRange('w.received_at')];
  if (f.area !== undefined) w.push(`e.area = ${p.add(f.area)}`);
  if (f.priority !== undefined) w.push(`w.priority = ${p.add(f.priority)}`);
  if (f.agentId !== undefined) w.push(`w.created_by = ${p.add(f.agentId)}`);
  const all = await rows(
    c,
    `SELECT GROUPING(w.type, w.state) <> 0 AS total, w.type, w.state, count(*)::int AS orders,
            count(*) FILTER (WHERE s.missed IS NULL)::int AS sla_met,
            count(*) FILTER (WHERE s.missed)::int AS sla_missed,
            count(w.satisfaction)::int AS rated,
            round(avg(w.satisfaction), 2)::float8 AS avg_satisfaction
       FROM work_orders w LEFT JOIN elders e ON e.id = w.elder_id
       LEFT JOIN LATERAL (SELECT true AS missed FROM work_order_events x WHERE x.order_id = w.id AND x.action = 'sla_overdue' LIMIT 1) s ON true
      WHERE ${w.join(' AND ')}
      GROUP BY GROUPING SETS ((w.type, w.state), ())
      ORDER BY 1, 2, 3`,
    p.values,
  );
  const strip = ({ total: _t, ...r }: Row) => r;
  const totals = all.find((r) => r.total === true) ?? { orders: 0, slaMet: 0, slaMissed: 0, rated: 0, avgSatisfaction: null };
  return { rows: all.filter((r) => r.total !== true).map(strip), totals: strip({ ...totals, type: null, state: null }) };
}

/**
 * Devices now (not over the range), by the elder's area: online (heard from within `silentH` hours of now), silent
 * (not heard from since, or never), low battery (< 20 %), never activated (设备开通 not done). Disabled devices are
 * left out.
 */
export async function devicesReport(c: Queryable, f: { area?: string; now: Date; silentH: number }): Promise<{ rows: Row[]; totals: Row }> {
  const values: unknown[] = [f.now, f.silentH];
  const w = [`d.state <> 'disabled'`];
  if (f.area !== undefined) {
    values.push(f.area);
    w.push(`e.area = $3`);
  }
  const all = await rows(
    c,
    `WITH d AS (
       SELECT COALESCE(NULLIF(e.area, ''), '—') AS area, d.last_seen, d.battery, d.activated_at
         FROM devices d LEFT JOIN elders e ON e.id = d.elder_id WHERE ${w.join(' AND ')}
     )
     SELECT GROUPING(area) = 1 AS total, area, count(*)::int AS devices,
            count(*) FILTER (WHERE last_seen >= $1::timestamptz - make_interval(hours => $2::int))::int AS online,
            count(*) FILTER (WHERE last_seen IS NULL OR last_seen < $1::timestamptz - make_interval(hours => $2::int))::int AS silent,
            count(*) FILTER (WHERE battery < 20)::int AS low_battery,
            count(*) FILTER (WHERE activated_at IS NULL)::int AS never_activated
       FROM d GROUP BY ROLLUP (area) ORDER BY 1, 2`,
    values,
  );
  const strip = ({ total: _t, ...r }: Row) => r;
  return { rows: all.filter((r) => r.total !== true).map(strip), totals: strip({ ...all.find((r) => r.total === true)!, area: null }) };
}

/**
 * One agent state change in one statement: the agent's open interval ends at `at`, and, while signed in, the new
 * state's interval starts there.
 */
export async function recordAgentState(c: Queryable, s: { userId: number; state: string; extension: string | null; reason: string | null; at: Date; open: boolean }): Promise<void> {
  await c.query(
    `WITH closed AS (
       UPDATE agent_state_history SET ended_at = GREATEST($5::timestamptz, started_at) WHERE user_id = $1::bigint AND ended_at IS NULL RETURNING id
     )
     INSERT INTO agent_state_history (user_id, state, extension, reason, started_at)
     SELECT $1::bigint, $2::text, $3::text, $4::text, $5::timestamptz WHERE $6::boolean`,
    [s.userId, s.state, s.extension, s.reason, s.at, s.open],
  );
}

/** An agent's state intervals, oldest first. */
export async function agentStateHistory(c: Queryable, userId: number): Promise<{ state: string; extension: string | null; reason: string | null; startedAt: Date; endedAt: Date | null }[]> {
  const r = await c.query(`SELECT state, extension, reason, started_at, ended_at FROM agent_state_history WHERE user_id = $1 ORDER BY started_at, id`, [userId]);
  return r.rows.map((x) => camel(x));
}
