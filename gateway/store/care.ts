/** Care programmes (issue 22, care/README.md): schedules, runs, holidays, check-ins and care tasks. SQL only. */
import type { Recurrence } from '../../care/index.js';
import type { Queryable } from './db.js';
import { camel, setClause } from './rows.js';

export interface CareScheduleRow {
  id: number;
  elderId: number;
  kind: 'welfare_call' | 'medication' | 'appointment';
  channel: 'call' | 'sms';
  recurrence: Recurrence;
  times: string[];
  skipHolidays: boolean;
  retries: number;
  retryIntervalMin: number;
  activityCheckin: boolean;
  checkinWindow: { from: string; to: string } | null;
  note: string;
  active: boolean;
  nextAt: Date | null;
  createdBy: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CareAttempt {
  n: number;
  at: string;
  outcome: string | null;
  callId: string | null;
}

export interface CareRun {
  id: number;
  scheduleId: number;
  elderId: number;
  kind: string;
  channel: string;
  localDate: string;
  dueAt: Date;
  state: string;
  attempts: CareAttempt[];
  nextAttemptAt: Date | null;
  alarmId: number | null;
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CareTask {
  id: number;
  elderId: number;
  reason: string;
  dueDate: string;
  note: string;
  state: 'open' | 'done';
  result: string | null;
  resultNote: string | null;
  doneBy: number | null;
  doneAt: Date | null;
  createdBy: number | null;
  createdAt: Date;
}

const SCHEDULE_FIELDS = ['kind', 'channel', 'recurrence', 'times', 'skipHolidays', 'retries', 'retryIntervalMin', 'activityCheckin', 'checkinWindow', 'note', 'active', 'nextAt'] as const;
export type ScheduleFields = Partial<Pick<CareScheduleRow, (typeof SCHEDULE_FIELDS)[number]>>;

const json = (v: unknown) => (v === undefined ? undefined : v === null ? null : JSON.stringify(v));

export async function listSchedules(c: Queryable, elderId: number): Promise<CareScheduleRow[]> {
  const r = await c.query('SELECT * FROM care_schedules WHERE elder_id = $1 ORDER BY id', [elderId]);
  return r.rows.map((x) => camel<CareScheduleRow>(x));
}

export async function getSchedule(c: Queryable, id: number, forUpdate = false): Promise<CareScheduleRow | undefined> {
  const r = await c.query(`SELECT * FROM care_schedules WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? camel<CareScheduleRow>(r.rows[0]) : undefined;
}

export async function activeSchedules(c: Queryable): Promise<CareScheduleRow[]> {
  const r = await c.query('SELECT * FROM care_schedules WHERE active ORDER BY id');
  return r.rows.map((x) => camel<CareScheduleRow>(x));
}

export async function insertSchedule(c: Queryable, elderId: number, f: ScheduleFields & Pick<CareScheduleRow, 'kind' | 'recurrence' | 'times'>, by: number | null): Promise<CareScheduleRow> {
  const r = await c.query(
    `INSERT INTO care_schedules (elder_id, kind, channel, recurrence, times, skip_holidays, retries, retry_interval_min, activity_checkin, checkin_window, note, active, created_by)
     VALUES ($1, $2, COALESCE($3, 'call'), $4, $5, COALESCE($6, false), COALESCE($7, 2), COALESCE($8, 10), COALESCE($9, false), $10, COALESCE($11, ''), COALESCE($12, true), $13) RETURNING *`,
    [elderId, f.kind, f.channel ?? null, JSON.stringify(f.recurrence), f.times, f.skipHolidays ?? null, f.retries ?? null, f.retryIntervalMin ?? null, f.activityCheckin ?? null, json(f.checkinWindow) ?? null, f.note ?? null, f.active ?? null, by],
  );
  return camel<CareScheduleRow>(r.rows[0]);
}

export async function updateSchedule(c: Queryable, id: number, f: ScheduleFields): Promise<CareScheduleRow | undefined> {
  const patch: Record<string, unknown> = { ...f };
  if ('recurrence' in f) patch.recurrence = json(f.recurrence);
  if ('checkinWindow' in f) patch.checkinWindow = f.checkinWindow === null ? null : json(f.checkinWindow);
  const { sql, values } = setClause(patch, SCHEDULE_FIELDS, 2);
  const r = await c.query(`UPDATE care_schedules SET ${sql ? `${sql}, ` : ''}updated_at = now() WHERE id = $1 RETURNING *`, [id, ...values]);
  return r.rows[0] ? camel<CareScheduleRow>(r.rows[0]) : undefined;
}

export async function deleteSchedule(c: Queryable, id: number): Promise<boolean> {
  return ((await c.query('DELETE FROM care_schedules WHERE id = $1', [id])).rowCount ?? 0) > 0;
}

export async function listHolidays(c: Queryable): Promise<string[]> {
  const r = await c.query(`SELECT date::text AS date FROM care_holidays ORDER BY date`);
  return r.rows.map((x) => String(x.date));
}

export async function replaceHolidays(c: Queryable, dates: string[]): Promise<void> {
  await c.query('DELETE FROM care_holidays');
  if (dates.length) await c.query('INSERT INTO care_holidays (date) SELECT unnest($1::date[]) ON CONFLICT DO NOTHING', [dates]);
}

// ---------------------------------------------------------------- runs

const RUN_COLS = `id, schedule_id, elder_id, kind, channel, local_date::text AS local_date, due_at, state, attempts, next_attempt_at, alarm_id, reason, created_at, updated_at`;

/** A run for one occurrence, once: answers it when new (the caller then starts its first attempt's job). */
export async function insertRun(c: Queryable, r: { scheduleId: number; elderId: number; kind: string; channel: string; localDate: string; dueAt: Date }): Promise<CareRun | undefined> {
  const q = await c.query(
    `INSERT INTO care_runs (schedule_id, elder_id, kind, channel, local_date, due_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (schedule_id, due_at) DO NOTHING RETURNING ${RUN_COLS}`,
    [r.scheduleId, r.elderId, r.kind, r.channel, r.localDate, r.dueAt],
  );
  return q.rows[0] ? camel<CareRun>(q.rows[0]) : undefined;
}

export async function getRun(c: Queryable, id: number, forUpdate = false): Promise<CareRun | undefined> {
  const r = await c.query(`SELECT ${RUN_COLS} FROM care_runs WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? camel<CareRun>(r.rows[0]) : undefined;
}

export async function updateRun(c: Queryable, id: number, p: { state?: string; attempts?: CareAttempt[]; nextAttemptAt?: Date | null; alarmId?: number | null; reason?: string | null }): Promise<CareRun> {
  const patch: Record<string, unknown> = { ...p, ...(p.attempts ? { attempts: JSON.stringify(p.attempts) } : {}) };
  const { sql, values } = setClause(patch, ['state', 'attempts', 'nextAttemptAt', 'alarmId', 'reason'], 2);
  const r = await c.query(`UPDATE care_runs SET ${sql ? `${sql}, ` : ''}updated_at = now() WHERE id = $1 RETURNING ${RUN_COLS}`, [id, ...values]);
  return camel<CareRun>(r.rows[0]);
}

/** Runs still waiting on a day (scheduled or between attempts) of an elder: a check-in cancels them. */
export async function pendingRunsOf(c: Queryable, elderId: number, localDate: string, kind = 'welfare_call'): Promise<CareRun[]> {
  const r = await c.query(`SELECT ${RUN_COLS} FROM care_runs WHERE elder_id = $1 AND local_date = $2 AND kind = $3 AND state IN ('scheduled', 'retry_wait') FOR UPDATE`, [elderId, localDate, kind]);
  return r.rows.map((x) => camel<CareRun>(x));
}

/** Runs left `calling` longer than a call can last: their process died mid-call. */
export async function staleCallingRuns(c: Queryable, before: Date): Promise<CareRun[]> {
  const r = await c.query(`SELECT ${RUN_COLS} FROM care_runs WHERE state = 'calling' AND updated_at < $1 ORDER BY id`, [before]);
  return r.rows.map((x) => camel<CareRun>(x));
}

/** Future runs of a schedule not started yet: removed when the schedule changes (the planner makes them again). */
export async function dropFutureRuns(c: Queryable, scheduleId: number, after: Date): Promise<number> {
  const r = await c.query(`DELETE FROM care_runs WHERE schedule_id = $1 AND state = 'scheduled' AND due_at > $2 AND attempts = '[]'::jsonb`, [scheduleId, after]);
  return r.rowCount ?? 0;
}

export interface RunListRow extends CareRun {
  elderName: string;
  area: string | null;
}

export async function listRuns(c: Queryable, f: { date: string; elderId?: number; state?: string }): Promise<RunListRow[]> {
  const where = ['r.local_date = $1'];
  const values: unknown[] = [f.date];
  if (f.elderId !== undefined) where.push(`r.elder_id = $${values.push(f.elderId)}`);
  if (f.state !== undefined) where.push(`r.state = $${values.push(f.state)}`);
  const r = await c.query(
    `SELECT ${RUN_COLS.split(', ').map((x) => `r.${x}`).join(', ')}, e.name AS elder_name, e.area
       FROM care_runs r JOIN elders e ON e.id = r.elder_id WHERE ${where.join(' AND ')} ORDER BY r.due_at, r.id LIMIT 1000`,
    values,
  );
  return r.rows.map((x) => camel<RunListRow>(x));
}

export async function runsOfElder(c: Queryable, elderId: number, limit = 50): Promise<CareRun[]> {
  const r = await c.query(`SELECT ${RUN_COLS} FROM care_runs WHERE elder_id = $1 AND state NOT IN ('scheduled') ORDER BY due_at DESC LIMIT $2`, [elderId, limit]);
  return r.rows.map((x) => camel<CareRun>(x));
}

// ---------------------------------------------------------------- check-ins

export async function insertCheckin(c: Queryable, k: { elderId: number; source: string; deviceId: number | null; at: Date; localDate: string }): Promise<void> {
  await c.query('INSERT INTO care_checkins (elder_id, source, device_id, at, local_date) VALUES ($1, $2, $3, $4, $5)', [k.elderId, k.source, k.deviceId, k.at, k.localDate]);
}

export async function checkedInOn(c: Queryable, elderId: number, localDate: string): Promise<{ source: string; at: Date } | undefined> {
  const r = await c.query('SELECT source, at FROM care_checkins WHERE elder_id = $1 AND local_date = $2 ORDER BY at LIMIT 1', [elderId, localDate]);
  return r.rows[0] as { source: string; at: Date } | undefined;
}

/** The elder's devices heard from (any message) since: device activity as a check-in. */
export async function deviceActiveSince(c: Queryable, elderId: number, since: Date): Promise<{ deviceId: number; at: Date } | undefined> {
  const r = await c.query('SELECT id, last_seen FROM devices WHERE elder_id = $1 AND last_seen >= $2 ORDER BY last_seen DESC LIMIT 1', [elderId, since]);
  return r.rows[0] ? { deviceId: Number(r.rows[0].id), at: r.rows[0].last_seen as Date } : undefined;
}

// ---------------------------------------------------------------- tasks

const TASK_COLS = `id, elder_id, reason, due_date::text AS due_date, note, state, result, result_note, done_by, done_at, created_by, created_at`;

export async function insertTask(c: Queryable, t: { elderId: number; reason: string; dueDate: string; note?: string; createdBy: number | null; sourceKey?: string }): Promise<CareTask | undefined> {
  const r = await c.query(
    `INSERT INTO care_tasks (elder_id, reason, due_date, note, created_by, source_key) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (source_key) DO NOTHING RETURNING ${TASK_COLS}`,
    [t.elderId, t.reason, t.dueDate, t.note ?? '', t.createdBy, t.sourceKey ?? null],
  );
  return r.rows[0] ? camel<CareTask>(r.rows[0]) : undefined;
}

export async function getTask(c: Queryable, id: number, forUpdate = false): Promise<CareTask | undefined> {
  const r = await c.query(`SELECT ${TASK_COLS} FROM care_tasks WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? camel<CareTask>(r.rows[0]) : undefined;
}

export async function finishTask(c: Queryable, id: number, d: { result: string; note: string | null; by: number }): Promise<CareTask> {
  const r = await c.query(`UPDATE care_tasks SET state = 'done', result = $2, result_note = $3, done_by = $4, done_at = now() WHERE id = $1 RETURNING ${TASK_COLS}`, [id, d.result, d.note, d.by]);
  return camel<CareTask>(r.rows[0]);
}

export interface DueTaskRow extends CareTask {
  elderName: string;
  elderPhone: string | null;
  area: string | null;
}

/** The agents' list for a local date: open tasks due on or before it, and those done that day (in the centre's zone). */
export async function dueTasks(c: Queryable, date: string, timeZone: string): Promise<DueTaskRow[]> {
  const r = await c.query(
    `SELECT ${TASK_COLS.split(', ').map((x) => `t.${x}`).join(', ')}, e.name AS elder_name, e.phone AS elder_phone, e.area
       FROM care_tasks t JOIN elders e ON e.id = t.elder_id
      WHERE (t.state = 'open' AND t.due_date <= $1) OR (t.state = 'done' AND (t.done_at AT TIME ZONE $2)::date = $1)
      ORDER BY t.state, t.due_date, t.id LIMIT 500`,
    [date, timeZone],
  );
  return r.rows.map((x) => camel<DueTaskRow>(x));
}

export async function eldersWithBirthDates(c: Queryable): Promise<{ id: number; birthDate: string | null }[]> {
  const r = await c.query(`SELECT id, birth_date::text AS birth_date FROM elders WHERE birth_date IS NOT NULL`);
  return r.rows.map((x) => ({ id: Number(x.id), birthDate: x.birth_date as string | null }));
}

// ---------------------------------------------------------------- report

export interface CareReportRow {
  key: string;
  made: number;
  answered: number;
  ok: number;
  help: number;
  failed: number;
  escalated: number;
  checkedIn: number;
}

/**
 * Welfare calls between two local dates, by day or by the elder's area. `made` counts attempts that dialled,
 * `answered` those answered (ok, help, no key), `escalated` runs that raised an alarm (help or failed).
 */
export async function careReport(c: Queryable, f: { from: string; to: string; groupBy: 'day' | 'area' }): Promise<CareReportRow[]> {
  const key = f.groupBy === 'day' ? `r.local_date::text` : `COALESCE(NULLIF(e.area, ''), '—')`;
  const r = await c.query(
    `SELECT ${key} AS key,
            COALESCE(sum((SELECT count(*) FROM jsonb_array_elements(r.attempts) a WHERE a->>'outcome' IS DISTINCT FROM 'not_placed')), 0)::int AS made,
            COALESCE(sum((SELECT count(*) FROM jsonb_array_elements(r.attempts) a WHERE a->>'outcome' IN ('ok', 'help', 'no_key'))), 0)::int AS answered,
            count(*) FILTER (WHERE r.state = 'ok')::int AS ok,
            count(*) FILTER (WHERE r.state = 'help')::int AS help,
            count(*) FILTER (WHERE r.state = 'failed')::int AS failed,
            count(*) FILTER (WHERE r.alarm_id IS NOT NULL)::int AS escalated,
            count(*) FILTER (WHERE r.state = 'checked_in')::int AS checked_in
       FROM care_runs r JOIN elders e ON e.id = r.elder_id
      WHERE r.kind = 'welfare_call' AND r.local_date BETWEEN $1 AND $2
      GROUP BY 1 ORDER BY 1`,
    [f.from, f.to],
  );
  return r.rows.map((x) => camel<CareReportRow>(x));
}

/** Final welfare runs per elder and day in a range (for the missed-days flag). */
export async function finalWelfareRuns(c: Queryable, from: string, to: string): Promise<{ elderId: number; date: string; state: string }[]> {
  const r = await c.query(
    `SELECT elder_id, local_date::text AS date, state FROM care_runs
      WHERE kind = 'welfare_call' AND local_date BETWEEN $1 AND $2 AND state IN ('ok', 'help', 'failed', 'checked_in') ORDER BY elder_id, local_date, due_at`,
    [from, to],
  );
  return r.rows.map((x) => ({ elderId: Number(x.elder_id), date: String(x.date), state: String(x.state) }));
}
