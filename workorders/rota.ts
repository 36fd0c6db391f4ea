/**
 * Duty rotas (排班): who is on duty at an instant, in the centre's time zone. Pure: `now` is an argument.
 *
 * An entry is for a weekday (1 = Monday … 7 = Sunday, ISO) or for one date (YYYY-MM-DD), from `start` to `end`
 * local time. A shift whose end is not after its start runs over midnight into the next day (22:00–06:00); equal
 * start and end is a 24-hour shift. A staff member is on duty when any of their entries covers the instant.
 */
import { parseHHMM } from '../alarms/rules/schedule.ts';

export interface RotaEntry {
  staffId: number;
  /** 1 = Monday … 7 = Sunday; null when `date` is set */
  weekday: number | null;
  /** YYYY-MM-DD; null when `weekday` is set */
  date: string | null;
  /** HH:MM local */
  start: string;
  /** HH:MM local, or 24:00 */
  end: string;
}

export interface LocalDay {
  date: string;
  weekday: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The local date, ISO weekday and minute of the day of `now` in `timeZone`. */
export function localDay(now: Date, timeZone: string): LocalDay {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    formatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(now)) p[x.type] = x.value;
  return { date: `${p.year}-${p.month}-${p.day}`, weekday: WEEKDAYS[p.weekday ?? ''] ?? 0, minute: (Number(p.hour) % 24) * 60 + Number(p.minute) };
}

/** The calendar day before (date arithmetic only, no time zone involved). */
export function dayBefore(d: LocalDay): { date: string; weekday: number } {
  const t = new Date(`${d.date}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() - 1);
  return { date: t.toISOString().slice(0, 10), weekday: d.weekday === 1 ? 7 : d.weekday - 1 };
}

/** Minutes after midnight of a shift boundary; 24:00 is the end of the day. */
export function shiftMinute(s: string): number {
  return s === '24:00' ? 1440 : parseHHMM(s);
}

const onDay = (e: RotaEntry, day: { date: string; weekday: number }) => (e.date !== null ? e.date === day.date : e.weekday === day.weekday);

/** Whether this entry covers the local instant. */
export function covers(e: RotaEntry, at: LocalDay): boolean {
  const start = shiftMinute(e.start);
  const end = shiftMinute(e.end);
  if (start < end) return onDay(e, at) && at.minute >= start && at.minute < end;
  // Over midnight: the evening part on its own day, the morning part on the next.
  return (onDay(e, at) && at.minute >= start) || (onDay(e, dayBefore(at)) && at.minute < end);
}

/** The ids of the staff on duty at `now`. */
export function onDutyStaff(rotas: readonly RotaEntry[], now: Date, timeZone: string): Set<number> {
  const at = localDay(now, timeZone);
  const out = new Set<number>();
  for (const e of rotas) if (covers(e, at)) out.add(e.staffId);
  return out;
}

/** A rota entry's problem, or undefined when it is valid (used by the HTTP layer to name the field). */
export function rotaProblem(e: Omit<RotaEntry, 'staffId'>): { field: 'weekday' | 'date' | 'start' | 'end'; message: string } | undefined {
  if ((e.weekday === null) === (e.date === null)) return { field: 'weekday', message: 'give either a weekday (1–7) or a date, not both' };
  if (e.weekday !== null && !(Number.isInteger(e.weekday) && e.weekday >= 1 && e.weekday <= 7)) return { field: 'weekday', message: 'weekday is 1 (Monday) … 7 (Sunday)' };
  if (e.date !== null && (!/^\d{4}-\d{2}-\d{2}$/.test(e.date) || Number.isNaN(Date.parse(`${e.date}T00:00:00Z`)) || new Date(`${e.date}T00:00:00Z`).toISOString().slice(0, 10) !== e.date)) {
    return { field: 'date', message: 'date is YYYY-MM-DD' };
  }
  for (const f of ['start', 'end'] as const) {
    try {
      if (f === 'start' && e[f] === '24:00') throw new RangeError('24:00 start');
      shiftMinute(e[f]);
    } catch {
      return { field: f, message: `${f} is HH:MM (00:00–23:59${f === 'end' ? ', or 24:00' : ''})` };
    }
  }
  return undefined;
}
