/**
 * 统计报表 (issue 23) on the dashboard: the query a screen holds, its URL for GET /api/reports/:report and for the
 * export download, the quick date ranges in the centre's time zone, and how one cell of a report is written. The
 * report's own `columns` (zh, en) name the table, so one table serves every report. Nothing here renders.
 */
import { get } from './api';
import type { paths } from './api-types';
import { fmtDuration, hasKey, label, locale, t } from './i18n';

type Route = paths['/api/reports/{report}']['get'];
export type ReportName = Route['parameters']['path']['report'];
export type ReportQuery = NonNullable<Route['parameters']['query']>;
export type AlarmKind = NonNullable<ReportQuery['kind']>;
export type GroupBy = NonNullable<ReportQuery['groupBy']>;
export type Report = Route['responses'][200]['content']['application/json'];
export type Cell = Report['rows'][number][string];
export type Row = Report['rows'][number];
export type Column = Report['columns'][number];

export const REPORTS: readonly ReportName[] = ['alarms', 'answering', 'agents', 'calls', 'work-orders', 'devices'];

/** The kinds the API takes (the kind filter's choices; each has a kind.* label). */
export const ALARM_KINDS = [
  'sos', 'fall', 'one_key_emergency', 'medical', 'fire', 'smoke', 'gas', 'geofence_exit', 'vitals_abnormal', 'inactivity', 'help_requested',
  'welfare_check_failed', 'removed', 'power_cut', 'tamper', 'device_clone_suspected', 'device_silent', 'test_missed', 'low_battery', 'receiver_silent', 'one_key_service',
] as const satisfies readonly AlarmKind[];
// a kind added to the API and not here fails `tsc -p dashboard`
const _everyKind: Exclude<AlarmKind, (typeof ALARM_KINDS)[number]> extends never ? true : false = true;
void _everyKind;

/** What a screen asks for; empty strings are "all". */
export interface ReportState {
  report: ReportName;
  from: string;
  to: string;
  groupBy: GroupBy;
  area: string;
  agentId: string;
  kind: '' | AlarmKind;
  priority: string;
}

type Param = 'range' | 'groupBy' | 'area' | 'agentId' | 'kind' | 'priority';
/** The parameters each report reads (the others are left out of its URL and its filter bar). */
export const PARAMS: Record<ReportName, readonly Param[]> = {
  alarms: ['range', 'groupBy', 'area', 'agentId', 'kind', 'priority'],
  answering: ['range', 'groupBy', 'area', 'agentId', 'kind', 'priority'],
  agents: ['range', 'area', 'agentId', 'kind', 'priority'],
  calls: ['range', 'groupBy', 'area', 'agentId'],
  'work-orders': ['range', 'area', 'agentId', 'priority'],
  devices: ['area'],
};
export const uses = (r: ReportName, p: Param) => PARAMS[r].includes(p);

export function reportSearch(s: ReportState): URLSearchParams {
  const q = new URLSearchParams();
  if (uses(s.report, 'range')) {
    q.set('from', s.from);
    q.set('to', s.to);
  }
  if (uses(s.report, 'groupBy')) q.set('groupBy', s.groupBy);
  if (uses(s.report, 'area') && s.area.trim()) q.set('area', s.area.trim());
  if (uses(s.report, 'agentId') && s.agentId) q.set('agentId', s.agentId);
  if (uses(s.report, 'kind') && s.kind) q.set('kind', s.kind);
  if (uses(s.report, 'priority') && s.priority) q.set('priority', s.priority);
  return q;
}

export const reportPath = (s: ReportState) => `/api/reports/${s.report}?${reportSearch(s).toString()}`;
export const fetchReport = (s: ReportState) => get<Report>(reportPath(s));

/** The download: a same-origin GET link, so the session cookie goes with it (a GET needs no CSRF token). */
export function exportUrl(s: ReportState, format: 'xlsx' | 'csv'): string {
  const q = reportSearch(s);
  q.set('format', format);
  return `/api/reports/${s.report}/export?${q.toString()}`;
}

// ---------------------------------------------------------------- dates (local dates of the centre)

/** Today in the centre's zone, yyyy-mm-dd. */
export function todayIn(tz: string | undefined, now = new Date()): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  } catch {
    return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  }
}

const toUtc = (d: string) => Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)));
const fromUtc = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const addDays = (d: string, n: number) => fromUtc(toUtc(d) + n * 86_400_000);
/** The first and last day of the month `yyyy-mm`. */
export function monthRange(ym: string): { from: string; to: string } {
  const y = Number(ym.slice(0, 4));
  const m = Number(ym.slice(5, 7));
  return { from: `${ym}-01`, to: fromUtc(Date.UTC(y, m, 0)) };
}
/** The month before `yyyy-mm`. */
export function previousMonth(ym: string): string {
  return fromUtc(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)) - 2, 1)).slice(0, 7);
}

export const QUICK = ['today', 'week', 'month', 'lastMonth', 'last30', 'year'] as const;
export type Quick = (typeof QUICK)[number];

/** A quick pick's range: whole weeks (ISO, Monday first), months and years. */
export function quickRange(q: Quick, today: string): { from: string; to: string } {
  switch (q) {
    case 'today':
      return { from: today, to: today };
    case 'week': {
      const dow = (new Date(toUtc(today)).getUTCDay() + 6) % 7; // Monday 0
      const from = addDays(today, -dow);
      return { from, to: addDays(from, 6) };
    }
    case 'month':
      return monthRange(today.slice(0, 7));
    case 'lastMonth':
      return monthRange(previousMonth(today.slice(0, 7)));
    case 'last30':
      return { from: addDays(today, -29), to: today };
    case 'year':
      return { from: `${today.slice(0, 4)}-01-01`, to: `${today.slice(0, 4)}-12-31` };
  }
}

// ---------------------------------------------------------------- cells

/** Keys whose numbers are seconds (shown mm:ss or h:mm:ss). */
export const isSeconds = (key: string) => /S$/.test(key) && key !== 'silentH';
export const isRate = (key: string) => key === 'rate60' || key === 'rate180';

const nf = () => new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 });

/** A period's first day as the period: the day, ISO week (from its Monday) or month. */
export function bucketText(bucket: string, groupBy: string): string {
  if (groupBy === 'month') return bucket.slice(0, 7);
  if (groupBy === 'week') return t('reports.weekOf', { date: bucket });
  return bucket;
}

/** One cell as text, in the locale: counts grouped, seconds as durations, rates as %, codes as their labels. */
export function cellText(key: string, v: Cell | undefined, groupBy = 'day'): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return t(v ? 'reports.met' : 'reports.missed');
  if (key === 'bucket' && typeof v === 'string') return bucketText(v, groupBy);
  if (key === 'kind') return label('kind', v);
  if (key === 'type' || key === 'state') {
    const k = `order.${key}.${String(v)}`;
    if (hasKey(k)) return t(k);
  }
  if (key === 'deviceKind') return label('deviceKind', v);
  if (typeof v !== 'number') return v;
  if (isRate(key)) return `${(v * 100).toFixed(1)}%`;
  if (isSeconds(key)) return fmtDuration(v);
  if (key === 'agentId' || key === 'priority') return String(v);
  return nf().format(v);
}

/** The column title in the dashboard's language; on screen seconds show as durations, so "(秒)" / "(s)" goes. */
export function columnTitle(c: Column): string {
  const title = locale() === 'en' ? c.en : c.zh;
  return isSeconds(c.key) ? title.replace(/\s*\((秒|s)\)$/, '') : title;
}

/** Every period of a range (the first day of each), empty ones too: ISO weeks from their Monday. */
export function periods(from: string, to: string, groupBy: string): string[] {
  const out: string[] = [];
  if (groupBy === 'month') {
    for (let m = from.slice(0, 7); m <= to.slice(0, 7) && out.length < 1200; m = nextMonth(m)) out.push(`${m}-01`);
    return out;
  }
  const step = groupBy === 'week' ? 7 : 1;
  const first = groupBy === 'week' ? addDays(from, -((new Date(toUtc(from)).getUTCDay() + 6) % 7)) : from;
  for (let d = first; d <= to && out.length < 1200; d = addDays(d, step)) out.push(d);
  return out;
}
const nextMonth = (ym: string) => fromUtc(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)), 1)).slice(0, 7);
