/**
 * Care programmes (关怀, issue 22, care/README.md) on the dashboard: the shapes from the generated API types, the API
 * calls (schedules, the day's runs, the agents' care calls, the report), labels and words for a recurrence, the
 * centre's dates, and the live `care_run` / `care_task` messages. Nothing here renders.
 */
import { HttpError, api, get, post } from './api';
import type { paths } from './api-types';
import { hasKey, locale, t } from './i18n';
import { fieldErrors } from './elders-admin';
import { errorText, inLocale, onWs } from './session';
import { store } from './store';

type Json<C> = C extends { content: { 'application/json': infer B } } ? B : never;
type Ok<P extends keyof paths, M extends keyof paths[P], S extends number = 200> = paths[P][M] extends { responses: { [K in S]: infer R } } ? Json<R> : never;
type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: infer R } ? Json<R> : never;

export type CareSchedule = Ok<'/api/elders/{id}/care-schedules', 'get'>[number];
export type ScheduleBody = Body<'/api/elders/{id}/care-schedules', 'post'>;
export type Recurrence = CareSchedule['recurrence'];
export type ScheduleKind = CareSchedule['kind'];
export type CareRun = Ok<'/api/care/runs', 'get'>[number];
export type CareAttempt = CareRun['attempts'][number];
export type CareTask = Ok<'/api/care/due', 'get'>[number];
export type TaskReason = Body<'/api/care/tasks', 'post'>['reason'];
export type TaskResult = Body<'/api/care/tasks/{id}/done', 'post'>['result'];
export type CareReport = Ok<'/api/care/report', 'get'>;
export type ReportRow = CareReport['rows'][number];

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['welfare_call', 'medication', 'appointment'];
export const TASK_REASONS: readonly TaskReason[] = ['birthday', 'after_hospital', 'follow_up', 'welfare_failed', 'custom'];
/** the reasons an agent picks by hand (birthdays and failed welfare calls are made by the system) */
export const HAND_REASONS: readonly TaskReason[] = ['after_hospital', 'follow_up', 'custom'];
export const RUN_STATES = ['scheduled', 'calling', 'retry_wait', 'ok', 'help', 'failed', 'checked_in', 'skipped'] as const;
export const REPORT_COLUMNS = ['made', 'answered', 'ok', 'help', 'failed', 'escalated', 'checkedIn'] as const satisfies readonly (keyof ReportRow)[];

// ---------------------------------------------------------------- labels

function lab(prefix: string, v: string): string {
  const k = `${prefix}.${v}`;
  return hasKey(k) ? t(k) : v;
}
export const scheduleKindLabel = (v: string) => lab('care.kind', v);
export const channelLabel = (v: string) => lab('care.channel', v);
export const runStateLabel = (v: string) => lab('care.runState', v);
export const attemptOutcomeLabel = (v: string | null) => (v ? lab('care.outcome', v) : t('care.outcome.pending'));
export const reasonLabel = (v: string) => lab('care.reason', v);
/** A task's note; the system's own (a birthday's "85 岁生日 / 85th birthday") in the user's language. */
export const taskNoteText = (x: { reason: string; note: string }) => (x.reason === 'birthday' ? inLocale(x.note) : x.note);
export const resultLabel = (v: string | null) => (v ? lab('care.result', v) : '—');
export const weekdayLabel = (d: number) => lab('care.wd', String(d));

/** "每天" / "工作日" / "每周一三五" / "每 3 天（自 2026-12-01 起）" */
export function recurrenceText(r: Recurrence): string {
  switch (r.kind) {
    case 'daily':
      return t('care.rec.daily');
    case 'weekdays':
      return t('care.rec.weekdays');
    case 'days':
      return t('care.rec.days', { days: [...r.days].sort((a, b) => a - b).map(weekdayLabel).join(locale() === 'en' ? ', ' : '') });
    case 'every':
      return t('care.rec.every', { n: r.n, from: r.from });
  }
}

/** "每天 09:00、18:00" */
export const scheduleWhenText = (s: Pick<CareSchedule, 'recurrence' | 'times'>) => `${recurrenceText(s.recurrence)} ${s.times.join(locale() === 'en' ? ', ' : '、')}`;

// ---------------------------------------------------------------- the centre's dates and times

export const centreZone = () => store.get().config.timezone || undefined;

/** The local date (yyyy-mm-dd) of an instant in the centre's time zone. */
export function centreDate(at: Date | string | number = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: centreZone(), year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(at));
  const get1 = (k: string) => parts.find((p) => p.type === k)?.value ?? '';
  return `${get1('year')}-${get1('month')}-${get1('day')}`;
}

/** "09:00" in the centre's time zone. */
export function centreHm(at: string | Date): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: centreZone(), hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(at));
}

/** "今天 09:00" / "明天 09:00" / "12-09 周三 09:00", in the centre's time zone. */
export function nextRunText(at: string | null, now = new Date()): string {
  if (!at) return t('care.next.none');
  const d = centreDate(at);
  const today = centreDate(now);
  const tomorrow = centreDate(new Date(now.getTime() + 86_400_000));
  const hm = centreHm(at);
  if (d === today) return t('care.next.today', { time: hm });
  if (d === tomorrow) return t('care.next.tomorrow', { time: hm });
  const dow = new Date(`${d}T12:00:00Z`).getUTCDay() || 7;
  return t('care.next.date', { date: d.slice(5), day: weekdayLabel(dow), time: hm });
}

/** A date plus n days (yyyy-mm-dd, calendar arithmetic). */
export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- the API

const id = (n: number) => Math.trunc(n);
export const listSchedules = (elderId: number) => get<CareSchedule[]>(`/api/elders/${id(elderId)}/care-schedules`);
export const createSchedule = (elderId: number, b: ScheduleBody) => post<CareSchedule>(`/api/elders/${id(elderId)}/care-schedules`, b);
export const patchSchedule = (sid: number, b: Partial<ScheduleBody>) => api<CareSchedule>('PATCH', `/api/care-schedules/${id(sid)}`, b);
export const deleteSchedule = (sid: number) => api<void>('DELETE', `/api/care-schedules/${id(sid)}`);

export function listRuns(q: { date?: string; elderId?: number; state?: string } = {}): Promise<CareRun[]> {
  const p = new URLSearchParams();
  if (q.date) p.set('date', q.date);
  if (q.elderId !== undefined) p.set('elderId', String(id(q.elderId)));
  if (q.state) p.set('state', q.state);
  const qs = p.toString();
  return get<CareRun[]>(`/api/care/runs${qs ? `?${qs}` : ''}`);
}
export const listDue = (date?: string) => get<CareTask[]>(`/api/care/due${date ? `?date=${encodeURIComponent(date)}` : ''}`);
export const addTask = (b: { elderId: number; reason: TaskReason; dueDate: string; note?: string }) => post<CareTask>('/api/care/tasks', b);
export const doneTask = (tid: number, b: { result: TaskResult; note?: string }) => post<CareTask>(`/api/care/tasks/${id(tid)}/done`, b);
export function careReport(q: { from: string; to: string; groupBy: 'day' | 'area' }): Promise<CareReport> {
  return get<CareReport>(`/api/care/report?${new URLSearchParams(q).toString()}`);
}

/**
 * A 400's field errors keyed as the form names its fields: the schema says `body/recurrence/n`, the rule check
 * `body/recurrence.n`; both become `recurrence.n` (and `times/1` → `times`).
 */
export function careFieldErrors(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fieldErrors(e))) {
    const key = k.replace(/\//g, '.').replace(/^times\.\d+$/, 'times').replace(/^checkinWindow\..*$/, 'checkinWindow').replace(/^recurrence\.days\.\d+$/, 'recurrence.days');
    // the schema's own messages ("must be <= 5") are English only: said to be invalid first, in the user's language
    out[key] ??= /[\u4e00-\u9fff]/.test(v) ? inLocale(v) : t('care.form.invalid', { message: v });
  }
  return out;
}

/** The server's refusal in the user's language. */
export function careErrorText(e: unknown): string {
  if (e instanceof HttpError && e.status === 409) return t('care.error.conflict', { message: inLocale(e.message) });
  return errorText(e);
}


// ---------------------------------------------------------------- live

/** Every pushed run change (the push carries no elder name: keep the one the list had). */
export const onCareRun = (fn: (r: CareRun) => void) => onWs('care_run', (m) => fn(m.run as unknown as CareRun));
/** Every pushed care task (made or done). */
export const onCareTask = (fn: (x: CareTask) => void) => onWs('care_task', (m) => fn(m.task as unknown as CareTask));

/** The list with one pushed row merged in place (fields the push lacks are kept); null when the row is new. */
export function mergeRow<T extends { id: number }>(list: T[], row: T): T[] | null {
  const i = list.findIndex((x) => x.id === row.id);
  if (i < 0) return null;
  const out = list.slice();
  out[i] = { ...list[i]!, ...Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) } as T;
  return out;
}
