/**
 * Reports (统计报表, issue 23): every figure is a SQL aggregate; JavaScript only names the columns. A range is two
 * local dates [from, to] of the centre's time zone, both included: the instants from `from` 00:00 to `to + 1` 00:00
 * local, so a range condition stays a plain range over an indexed timestamptz column (0015_reports.sql). Buckets are
 * `date_trunc(day | week | month, ts AT TIME ZONE tz)` (ISO weeks, Monday first), given by their first local date.
 */
import type { Queryable } from './db.js';
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
  const [byKind, heatmap, falseByDevice, falseByElder] = await Promise.all([
    run((p, where) => `SELECT ${p.bucketOf('a.first_at')}::text AS bucket, a.kind, a.priority::int AS priority, count(*)::int AS count ${from} WHERE ${where} GROUP BY 1, 2, 3 ORDER BY 1, 3, 2`),
    run(
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
              ${secs(`percentile_cont(0.9) WITHIN GROUP (ORDER BY ${accept})`)} AS p90_accept_s,
              ${secs(`avg(${resolve})`)} AS avg_resolve_s,
              ${secs(`percentile_cont(0.9) WITHIN GROUP (ORDER BY ${resolve})`)} AS p90_resolve_s,
              ${secs(`avg(${close})`)} AS avg_close_s,
              ${secs(`percentile_cont(0.9) WITHIN GROUP (ORDER BY ${close})`)} AS p90_close_s
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

/** The states an agent's time is split into (agent_status.state). */
export const AGENT_STATES = ['ready', 'not_ready', 'away', 'wrap_up', 'on_call', 'handling', 'ringing'] as const;

/**
 * Per agent: alarms handled (owned, first raised in the range, with the alarm filters), calls talked on (their own
 * legs, party 'agent', answered) with the talk time (answered → ended), and the time in each state from
 * agent_state_history, each interval clipped to the range and to `now` (an open interval runs until now).
 * Agents (role agent, not disabled) are listed even with nothing to show; other users when they have figures.
 * A range in the future is empty (clipped to now).
 */
export async function agentsReport(c: Queryable, f: ReportFilter): Promise<Row[]> {
  const p = new Params(f);
  const where = alarmWhere({ ...f, agentId: undefined }, p);
  const one = f.agentId !== undefined ? p.add(f.agentId) : undefined;
  const stateCols = AGENT_STATES.map((s) => `${secs(`COALESCE(sum(s) FILTER (WHERE state = '${s}'), 0)`)} AS ${s}_s`).join(',\n            ');
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
     sp AS (SELECT user_id, ${secs('sum(s)')} AS signed_in_s,
            ${stateCols}
              FROM st GROUP BY user_id)
     SELECT u.id AS agent_id, u.username, u.display_name AS name,
            COALESCE(al.alarms, 0) AS alarms, COALESCE(ca.calls, 0) AS calls, ${secs('COALESCE(ca.talk_s, 0)')} AS talk_s,
            COALESCE(sp.signed_in_s, 0) AS signed_in_s,
            ${AGENT_STATES.map((s) => `COALESCE(sp.${s}_s, 0) AS ${s}_s`).join(', ')}
       FROM users u LEFT JOIN al ON al.user_id = u.id LEFT JOIN ca ON ca.user_id = u.id LEFT JOIN sp ON sp.user_id = u.id
      WHERE ((u.role = 'agent' AND NOT u.disabled) OR al.user_id IS NOT NULL OR ca.user_id IS NOT NULL OR sp.user_id IS NOT NULL)
            ${one ? `AND u.id = ${one}` : ''}
      ORDER BY u.id`,
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
  const p = new Params(f);
  const w = [p.inRange('c.created_at'), `c.party <> 'agent'`];
  if (f.area !== undefined) w.push(`e.area = ${p.add(f.area)}`);
  if (f.agentId !== undefined) {
    const id = p.add(f.agentId);
    w.push(`(c.agent_id = ${id} OR (c.flow_id IS NOT NULL AND EXISTS (SELECT 1 FROM calls x WHERE x.flow_id = c.flow_id AND x.agent_id = ${id})))`);
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
