/**
 * History (历史查询, issue 23): alarms and the audit log searched by date range and the screen's filters, newest
 * first, a page at a time. Filtering, counting and ordering are SQL's; the indexes are in 0018_audit_source.sql and
 * 0015_reports.sql. Calls are the call log's search (call-log.ts), which already has these filters.
 *
 * Paging is keyset on (time, id): a cursor is "<µs since the epoch>_<id>" of the last row of the page before, so a
 * page is stable while new rows arrive and no row is lost or repeated between pages. Microseconds because
 * PostgreSQL keeps them and a JavaScript Date does not.
 */
import type { Queryable } from './db.js';
import { camel } from './rows.js';

export const CURSOR_PATTERN = '^[0-9]{1,17}_[0-9]{1,18}$';

export interface Page<T> {
  items: T[];
  /** the cursor of the next page, null on the last */
  nextCursor: string | null;
  /** rows matching the search, every page together */
  total: number;
}

interface Where {
  sql: string[];
  p: unknown[];
  arg: (v: unknown) => string;
}
function where(): Where {
  const p: unknown[] = [];
  return { sql: [], p, arg: (v) => `$${p.push(v)}` };
}
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (x) => `\\${x}`)}%`;

/** Rows older than the cursor's (time, id), and the page's query: count and rows in one round trip each. */
async function page<T>(c: Queryable, w: Where, o: { select: string; from: string; time: string; id: string; cursor?: string; limit: number }, map: (row: Record<string, unknown>) => T): Promise<Page<T>> {
  const filters = w.sql.length ? w.sql.join(' AND ') : 'true';
  const countArgs = [...w.p];
  const keyset = o.cursor ? (() => {
    const [us, id] = o.cursor.split('_');
    return ` AND (${o.time}, ${o.id}) < (timestamptz 'epoch' + ${w.arg(us)}::bigint * interval '1 microsecond', ${w.arg(id)}::bigint)`;
  })() : '';
  const [rows, count] = await Promise.all([
    c.query(
      `SELECT ${o.select}, (extract(epoch FROM ${o.time}) * 1000000)::bigint::text || '_' || ${o.id} AS _cursor
         FROM ${o.from} WHERE ${filters}${keyset}
        ORDER BY ${o.time} DESC, ${o.id} DESC LIMIT ${w.arg(o.limit + 1)}`,
      w.p,
    ),
    c.query(`SELECT count(*)::int AS n FROM ${o.from} WHERE ${filters}`, countArgs),
  ]);
  const more = rows.rows.length > o.limit;
  const kept = rows.rows.slice(0, o.limit);
  return { items: kept.map(({ _cursor, ...r }) => map(r)), nextCursor: more ? String(kept[kept.length - 1]!._cursor) : null, total: Number(count.rows[0].n) };
}

// ---------------------------------------------------------------- alarms

export interface AlarmHistoryFilter {
  from?: Date;
  /** exclusive */
  to?: Date;
  elderId?: number;
  deviceId?: number;
  /** the device's identifier (IMEI, account) or the caller number the alarm came from */
  source?: string;
  /** the agent who owned (accepted, handled) it */
  agentId?: number;
  kind?: string;
  priority?: number;
  state?: string;
  outcome?: string;
  /** the elder's area (片区/社区) */
  area?: string;
  cursor?: string;
  limit: number;
}

export interface AlarmHistoryRow {
  id: number;
  kind: string;
  priority: number;
  state: string;
  outcome: string | null;
  test: boolean;
  count: number;
  firstAt: Date;
  acceptedAt: Date | null;
  resolvedAt: Date | null;
  closedAt: Date | null;
  elderId: number | null;
  elderName: string | null;
  area: string | null;
  deviceId: number | null;
  deviceIdentifier: string | null;
  sourceKey: string | null;
  agentId: number | null;
  agentName: string | null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function searchAlarmHistory(c: Queryable, f: AlarmHistoryFilter): Promise<Page<AlarmHistoryRow>> {
  const w = where();
  if (f.from) w.sql.push(`a.first_at >= ${w.arg(f.from)}`);
  if (f.to) w.sql.push(`a.first_at < ${w.arg(f.to)}`);
  if (f.elderId !== undefined) w.sql.push(`a.elder_id = ${w.arg(f.elderId)}`);
  if (f.deviceId !== undefined) w.sql.push(`a.device_id = ${w.arg(f.deviceId)}`);
  if (f.source !== undefined) {
    const s = w.arg(f.source);
    w.sql.push(`(a.source_key = ${s} OR d.identifier = ${s})`);
  }
  if (f.agentId !== undefined) w.sql.push(`a.owner_id = ${w.arg(f.agentId)}`);
  if (f.kind !== undefined) w.sql.push(`a.kind = ${w.arg(f.kind)}`);
  if (f.priority !== undefined) w.sql.push(`a.priority = ${w.arg(f.priority)}`);
  if (f.state !== undefined) w.sql.push(`a.state = ${w.arg(f.state)}`);
  if (f.outcome !== undefined) w.sql.push(`a.outcome = ${w.arg(f.outcome)}`);
  if (f.area !== undefined) w.sql.push(`e.area = ${w.arg(f.area)}`);
  return page(
    c,
    w,
    {
      select: `a.id, a.kind, a.priority, a.state, a.outcome, a.test, a.count, a.first_at, a.accepted_at, a.resolved_at, a.closed_at,
               a.elder_id, e.name AS elder_name, NULLIF(e.area, '') AS area, a.device_id, d.identifier AS device_identifier, a.source_key,
               a.owner_id AS agent_id, COALESCE(NULLIF(u.display_name, ''), u.username) AS agent_name`,
      from: `alarms a LEFT JOIN elders e ON e.id = a.elder_id LEFT JOIN devices d ON d.id = a.device_id LEFT JOIN users u ON u.id = a.owner_id`,
      time: 'a.first_at',
      id: 'a.id',
      ...(f.cursor ? { cursor: f.cursor } : {}),
      limit: f.limit,
    },
    (r) => {
      const x = camel<AlarmHistoryRow>(r);
      return { ...x, id: Number(x.id), elderId: num(x.elderId), deviceId: num(x.deviceId), agentId: num(x.agentId) };
    },
  );
}

// ---------------------------------------------------------------- audit log

export interface AuditFilter {
  from?: Date;
  /** exclusive */
  to?: Date;
  /** the actor as stored: 'user:12', 'system', 'staff:3', 'anonymous' … */
  actor?: string;
  /** a console user's username (their actor is user:<id>) */
  username?: string;
  /** actions starting with this (care_schedule_ finds every care schedule change) */
  action?: string;
  /** the target as stored: 'alarm:12', 'user:3' … */
  target?: string;
  ip?: string;
  cursor?: string;
  limit: number;
}

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  /** the console user behind a user:<id> actor */
  userId: number | null;
  username: string | null;
  displayName: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
}

export function searchAudit(c: Queryable, f: AuditFilter): Promise<Page<AuditRow>> {
  const w = where();
  if (f.from) w.sql.push(`l.at >= ${w.arg(f.from)}`);
  if (f.to) w.sql.push(`l.at < ${w.arg(f.to)}`);
  if (f.actor !== undefined) w.sql.push(`l.actor = ${w.arg(f.actor)}`);
  // a username no one has matches nothing (not every row)
  if (f.username !== undefined) w.sql.push(`l.actor = (SELECT 'user:' || id FROM users WHERE username = ${w.arg(f.username)})`);
  if (f.action !== undefined) w.sql.push(`l.action LIKE ${w.arg(likePrefix(f.action))}`);
  if (f.target !== undefined) w.sql.push(`l.target = ${w.arg(f.target)}`);
  if (f.ip !== undefined) w.sql.push(`l.ip = ${w.arg(f.ip)}`);
  return page(
    c,
    w,
    {
      select: `l.id, l.at, l.actor, u.id AS user_id, u.username, NULLIF(u.display_name, '') AS display_name, l.action, l.target, l.detail, l.ip, l.user_agent`,
      from: `audit_log l LEFT JOIN users u ON u.id = CASE WHEN l.actor ~ '^user:[0-9]{1,18}$' THEN substr(l.actor, 6)::bigint END`,
      time: 'l.at',
      id: 'l.id',
      ...(f.cursor ? { cursor: f.cursor } : {}),
      limit: f.limit,
    },
    (r) => {
      const x = camel<AuditRow>(r);
      return { ...x, id: Number(x.id), userId: num(x.userId) };
    },
  );
}
