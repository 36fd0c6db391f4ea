/**
 * A care schedule's recurrence as data, and its runs as instants in the centre's time zone (issue 22).
 * Pure: the clock and the holidays are arguments. Local time comes from Intl via the helpers alarms/ and
 * workorders/ already have; the one thing they lack, local wall time → instant, is `localToInstant` below.
 */
import { inWindow as inDailyWindow, parseHHMM } from '../alarms/rules/schedule.ts';
import { localDay } from '../workorders/rota.ts';

export type Recurrence =
  | { kind: 'daily' }
  | { kind: 'weekdays' } // Monday to Friday
  | { kind: 'days'; days: number[] } // ISO weekdays 1 = Monday … 7 = Sunday
  | { kind: 'every'; n: number; from: string }; // every n days counted from the local date `from` (yyyy-mm-dd)

export interface ScheduleRule {
  recurrence: Recurrence;
  /** local 'HH:MM', 1–6 a day */
  times: string[];
  /** the centre's holidays have no run */
  skipHolidays: boolean;
}

export interface Occurrence {
  /** local yyyy-mm-dd the run belongs to */
  date: string;
  /** local 'HH:MM' from the rule */
  time: string;
  at: Date;
}

export interface RuleProblem {
  field: string;
  message: string;
}

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a yyyy-mm-dd (NaN when it is not a real date): calendar arithmetic, no time zone. */
export function dayNumber(date: string): number {
  const m = YMD.exec(date);
  if (!m) return NaN;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 2026-02-30 over to March: a round trip catches it
  return new Date(t).toISOString().slice(0, 10) === date ? t / DAY_MS : NaN;
}

export const isLocalDate = (s: unknown): s is string => typeof s === 'string' && !Number.isNaN(dayNumber(s));
export const dateOfDay = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);
/** ISO weekday (1 = Monday) of a day number; 1970-01-01 was a Thursday. */
const weekdayOfDay = (n: number): number => ((((n + 3) % 7) + 7) % 7) + 1;

/** Sorted and without repeats: the stored form of `times`. */
export function normaliseTimes(times: readonly string[]): string[] {
  return [...new Set(times)].sort();
}

/** Every problem with a rule (empty when valid), messages "中文 / English" for the form. */
export function validateRule(rule: ScheduleRule): RuleProblem[] {
  const out: RuleProblem[] = [];
  const add = (field: string, message: string) => out.push({ field, message });
  const times: unknown = rule?.times;
  if (!Array.isArray(times) || times.length < 1 || times.length > 6) add('times', '每天 1–6 个时间 / 1–6 times a day');
  if (Array.isArray(times)) {
    const seen = new Set<string>();
    for (const t of times) {
      if (typeof t !== 'string' || !HHMM.test(t)) add('times', `时间格式为 HH:MM（00:00–23:59）：${String(t)} / times are HH:MM (00:00–23:59): ${String(t)}`);
      else if (seen.has(t)) add('times', `时间重复：${t} / time given twice: ${t}`);
      else seen.add(t);
    }
  }
  if (typeof rule?.skipHolidays !== 'boolean') add('skipHolidays', '节假日设置须为是或否 / skipHolidays is true or false');
  // Typed loosely: the rule may be a request body the schema let through with odd values.
  const r = (rule?.recurrence ?? {}) as { kind?: unknown; days?: unknown; n?: unknown; from?: unknown };
  if (r.kind === 'days') {
    const days = r.days;
    if (!Array.isArray(days) || days.length === 0) add('recurrence.days', '至少选择一天 / pick at least one day');
    else {
      if (!days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7)) add('recurrence.days', '星期为 1（周一）到 7（周日）/ days are 1 (Monday) … 7 (Sunday)');
      if (new Set(days).size !== days.length) add('recurrence.days', '星期重复 / a day is given twice');
    }
  } else if (r.kind === 'every') {
    if (!(typeof r.n === 'number' && Number.isInteger(r.n) && r.n >= 1 && r.n <= 365)) add('recurrence.n', '间隔天数为 1–365 的整数 / n is a whole number of days, 1–365');
    if (!isLocalDate(r.from)) add('recurrence.from', '起始日期格式为 yyyy-mm-dd / from is a date, yyyy-mm-dd');
  } else if (r.kind !== 'daily' && r.kind !== 'weekdays') {
    add('recurrence.kind', '重复方式为 daily、weekdays、days 或 every / recurrence is daily, weekdays, days or every');
  }
  return out;
}

/** Whether the recurrence has a run on this local date (holidays aside). */
export function runsOn(recurrence: Recurrence, date: string): boolean {
  const day = dayNumber(date);
  switch (recurrence.kind) {
    case 'daily':
      return true;
    case 'weekdays':
      return weekdayOfDay(day) <= 5;
    case 'days':
      return recurrence.days.includes(weekdayOfDay(day));
    case 'every': {
      const since = day - dayNumber(recurrence.from);
      return since >= 0 && since % recurrence.n === 0;
    }
  }
}

export const localDate = (at: Date, timeZone: string): string => localDay(at, timeZone).date;

export function localTime(at: Date, timeZone: string): string {
  const { minute } = localDay(at, timeZone);
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** Local wall clock minus UTC at instant `t` (ms), to the minute: every zone's offset is whole minutes since 1972. */
function offsetAt(t: number, timeZone: string): number {
  const d = localDay(new Date(t), timeZone);
  return dayNumber(d.date) * DAY_MS + d.minute * MIN_MS - Math.floor(t / MIN_MS) * MIN_MS;
}

/**
 * The instant of local `date` `time` in `timeZone`. An ambiguous time (the repeated hour when clocks go back) is its
 * first instant; a time that does not exist (skipped when clocks go forward) is the instant the gap ends, so the
 * run is late by the least possible rather than lost.
 */
export function localToInstant(date: string, time: string, timeZone: string): Date {
  const wall = dayNumber(date) * DAY_MS + parseHHMM(time) * MIN_MS;
  if (Number.isNaN(wall)) throw new RangeError(`not a yyyy-mm-dd date: ${JSON.stringify(date)}`);
  // The offsets a day either side bracket any transition near `wall` (no zone moves by more than a day).
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const fits = [wall - before, wall - after].filter((t) => t + offsetAt(t, timeZone) === wall).sort((a, b) => a - b);
  if (fits[0] !== undefined) return new Date(fits[0]);
  // In a gap: local time jumps over `wall` between lo and hi; find the first minute past the jump.
  let lo = wall - after;
  let hi = wall - before;
  if (hi <= lo) return new Date(hi); // two transitions within two days: not in any zone's rules, but never loop
  while (hi - lo > MIN_MS) {
    const mid = lo + Math.floor((hi - lo) / 2 / MIN_MS) * MIN_MS;
    if (mid + offsetAt(mid, timeZone) >= wall) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}

export interface Clock {
  holidays: ReadonlySet<string>;
  timeZone: string;
}

function assertValid(rule: ScheduleRule): void {
  const problems = validateRule(rule);
  if (problems.length) throw new RangeError(`invalid schedule rule: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
}

function collect(rule: ScheduleRule, { holidays, timeZone }: Clock, from: number, to: number): Occurrence[] {
  const times = normaliseTimes(rule.times);
  const out: Occurrence[] = [];
  const seen = new Set<number>();
  // A day either side: a gap at midnight can move a run onto the next local date.
  const first = dayNumber(localDate(new Date(from), timeZone)) - 1;
  const last = dayNumber(localDate(new Date(to), timeZone)) + 1;
  for (let day = first; day <= last; day++) {
    const date = dateOfDay(day);
    if (!runsOn(rule.recurrence, date) || (rule.skipHolidays && holidays.has(date))) continue;
    for (const time of times) {
      const at = localToInstant(date, time, timeZone);
      const t = at.getTime();
      // Two times in one gap land on one instant; a run is unique per (schedule, due_at), so keep the first.
      if (t < from || t >= to || seen.has(t)) continue;
      seen.add(t);
      out.push({ date, time, at });
    }
  }
  return out.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Every run in [from, to), in time order. Throws RangeError on an invalid rule. */
export function occurrences(rule: ScheduleRule, opts: Clock & { from: Date; to: Date }): Occurrence[] {
  assertValid(rule);
  if (!(opts.from.getTime() < opts.to.getTime())) return [];
  return collect(rule, opts, opts.from.getTime(), opts.to.getTime());
}

const SEARCH_DAYS = 400;
const CHUNK_DAYS = 8; // more than a week, so a weekly rule is found in the first look

/** The first run strictly after `after`, within 400 days; undefined when there is none (e.g. every day a holiday). */
export function nextOccurrence(rule: ScheduleRule, opts: Clock & { after: Date }): Occurrence | undefined {
  assertValid(rule);
  const limit = opts.after.getTime() + SEARCH_DAYS * DAY_MS;
  // In chunks: most rules have a run within days, and each candidate costs a few Intl calls.
  for (let from = opts.after.getTime() + 1; from < limit; from += CHUNK_DAYS * DAY_MS) {
    const found = collect(rule, opts, from, Math.min(from + CHUNK_DAYS * DAY_MS, limit))[0];
    if (found) return found;
  }
  return undefined;
}

/**
 * Whether `at` is inside the local daily window [from, to); from > to runs past midnight (22:00–02:00), from === to
 * is the whole day. No window (null) contains nothing: without one, nothing is cancelled by a check-in.
 */
export function inWindow(window: { from: string; to: string } | null, at: Date, timeZone: string): boolean {
  return window !== null && inDailyWindow(at, window.from, window.to, timeZone);
}
