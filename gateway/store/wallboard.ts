/**
 * The wallboard's figures (大屏, issue 23). The screen hangs where visitors see it, so nothing here carries a phone
 * number, an ID number or an address: elder names are masked by the caller, positions are rounded to ~100 m and
 * the elders' layer is counts per rounded point, never a person.
 */
import type { Queryable } from './db.js';

/** Unhandled or in hand: the queue on the wall (resolved alarms wait for a follow-up call, not for an agent). */
const QUEUE_STATES = `('raised', 'presented', 'accepted', 'in_progress')`;
/** 3 decimals of a degree: ~110 m north-south, less east-west; enough for a map on a wall, not for a door. */
const ROUND = (col: string) => `round((${col})::numeric, 3)::float8`;

export interface BoardAlarm {
  id: number;
  kind: string;
  priority: number;
  state: string;
  firstAt: Date;
  elderName: string | null;
  area: string;
  ownerName: string | null;
  lat: number | null;
  lon: number | null;
}

const ALARM_COLS = `a.id, a.kind, a.priority, a.state, a.first_at, e.name AS elder_name, COALESCE(e.area, '') AS area,
  NULLIF(COALESCE(NULLIF(u.display_name, ''), u.username), '') AS owner_name,
  ${ROUND('COALESCE(a.lat, e.lat)')} AS lat, ${ROUND('COALESCE(a.lon, e.lon)')} AS lon`;
const ALARM_FROM = `alarms a LEFT JOIN elders e ON e.id = a.elder_id LEFT JOIN users u ON u.id = a.owner_id`;

const toAlarm = (r: Record<string, unknown>): BoardAlarm => ({
  id: Number(r.id), kind: String(r.kind), priority: Number(r.priority), state: String(r.state), firstAt: r.first_at as Date,
  elderName: (r.elder_name as string | null) ?? null, area: String(r.area ?? ''), ownerName: (r.owner_name as string | null) ?? null,
  lat: r.lat === null ? null : Number(r.lat), lon: r.lon === null ? null : Number(r.lon),
});

/** The open alarms, most urgent first then oldest (the desk's queue order). */
export async function boardQueue(c: Queryable, limit = 50): Promise<BoardAlarm[]> {
  const r = await c.query(`SELECT ${ALARM_COLS} FROM ${ALARM_FROM} WHERE a.state IN ${QUEUE_STATES} AND NOT a.test ORDER BY a.priority, a.first_at, a.id LIMIT $1`, [limit]);
  return r.rows.map(toAlarm);
}

/** One alarm as the wall shows it (for the kiosk's push), or undefined for a test alarm or none. */
export async function boardAlarm(c: Queryable, id: number): Promise<BoardAlarm | undefined> {
  const r = await c.query(`SELECT ${ALARM_COLS} FROM ${ALARM_FROM} WHERE a.id = $1 AND NOT a.test`, [id]);
  return r.rows[0] ? toAlarm(r.rows[0]) : undefined;
}

/** Today's latest alarms, newest first (test alarms of a device being set up are not the centre's work). */
export async function boardLatest(c: Queryable, since: Date, limit = 10): Promise<BoardAlarm[]> {
  const r = await c.query(`SELECT ${ALARM_COLS} FROM ${ALARM_FROM} WHERE a.first_at >= $1 AND NOT a.test ORDER BY a.first_at DESC, a.id DESC LIMIT $2`, [since, limit]);
  return r.rows.map(toAlarm);
}

/** Today's figures the answer rates do not give: open now, mean answer time, callers waiting in the hotline queue. */
export async function boardCounts(c: Queryable, since: Date, now: Date): Promise<{ open: number; waiting: number; avgAnswerS: number | null; callsWaiting: number }> {
  const r = await c.query(
    `SELECT (SELECT count(*)::int FROM alarms WHERE state IN ${QUEUE_STATES} AND NOT test) AS open,
            (SELECT count(*)::int FROM alarms WHERE state IN ('raised', 'presented') AND owner_id IS NULL AND NOT test) AS waiting,
            (SELECT avg(extract(epoch FROM accepted_at - first_at))::float8 FROM alarms
              WHERE first_at >= $1 AND first_at <= $2 AND accepted_at IS NOT NULL AND alarm_class = 'operator' AND NOT test) AS avg_answer_s,
            -- a caller still ringing in the queue: inbound, neither answered nor ended (an hour caps a lost hang-up)
            (SELECT count(*)::int FROM calls WHERE direction = 'inbound' AND answered_at IS NULL AND ended_at IS NULL
              AND created_at > $2::timestamptz - interval '1 hour') AS calls_waiting`,
    [since, now],
  );
  const x = r.rows[0];
  return { open: x.open, waiting: x.waiting, avgAnswerS: x.avg_answer_s === null ? null : Number(x.avg_answer_s), callsWaiting: x.calls_waiting };
}

/** Where elders live, as counts per rounded point (the density layer); no names, no ids. */
export async function elderDensity(c: Queryable): Promise<{ lat: number; lon: number; n: number }[]> {
  const r = await c.query(
    `SELECT ${ROUND('lat')} AS lat, ${ROUND('lon')} AS lon, count(*)::int AS n FROM elders WHERE lat IS NOT NULL AND lon IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return r.rows.map((x) => ({ lat: Number(x.lat), lon: Number(x.lon), n: x.n }));
}

/** The devices in service (not disabled) with what the online check needs. */
export async function boardDevices(c: Queryable, recentMin: number): Promise<{ identifier: string; protocol: string; recent: boolean }[]> {
  const r = await c.query(
    `SELECT identifier, protocol, COALESCE(last_seen > now() - make_interval(mins => $1), false) AS recent FROM devices WHERE state <> 'disabled'`,
    [recentMin],
  );
  return r.rows;
}
