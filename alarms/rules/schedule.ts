/**
 * Daily time windows in a named timezone (Intl.DateTimeFormat, no clock: `now` is an argument).
 */

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** 'HH:MM' (00:00–23:59) to minutes after midnight; throws RangeError on anything else. */
export function parseHHMM(s: string): number {
  const m = HHMM.exec(s);
  if (!m) throw new RangeError(`not a HH:MM time: ${JSON.stringify(s)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Per time zone, the UTC minute last formatted and its local second of day at that minute's start. */
const minuteCache = new Map<string, { minute: number; local: number }>();

/**
 * Seconds since local midnight of `now` in `timeZone` (0 … 86399). Formatting is the slow part (issue 25's
 * profile: 2 % of the gateway's CPU at 10,000 messages/s), so it is done once per zone per UTC minute: offsets
 * change only on a minute boundary, so within the minute the local time moves with the UTC time.
 */
export function localSecondsOfDay(now: Date, timeZone: string): number {
  const ms = now.getTime();
  const minute = Math.floor(ms / 60_000);
  const intoMinute = Math.floor((ms - minute * 60_000) / 1000);
  const hit = minuteCache.get(timeZone);
  if (hit && hit.minute === minute) return (hit.local + intoMinute) % 86_400;
  const local = formattedSecondsOfDay(new Date(minute * 60_000), timeZone);
  if (minuteCache.size > 64) minuteCache.clear();
  minuteCache.set(timeZone, { minute, local });
  return (local + intoMinute) % 86_400;
}

function formattedSecondsOfDay(at: Date, timeZone: string): number {
  let h = 0;
  let m = 0;
  let s = 0;
  for (const p of formatter(timeZone).formatToParts(at)) {
    if (p.type === 'hour') h = Number(p.value) % 24;
    else if (p.type === 'minute') m = Number(p.value);
    else if (p.type === 'second') s = Number(p.value);
  }
  return h * 3600 + m * 60 + s;
}

/**
 * Whether `now` falls inside the daily window [from, to) in `timeZone`.
 * A window with from > to runs across midnight (22:00–07:00). from === to means the whole day.
 */
export function inWindow(now: Date, from: string, to: string, timeZone: string): boolean {
  const f = parseHHMM(from) * 60;
  const t = parseHHMM(to) * 60;
  if (f === t) return true;
  const s = localSecondsOfDay(now, timeZone);
  return f < t ? s >= f && s < t : s >= f || s < t;
}

/**
 * The instant the current occurrence of the window began, or null when `now` is outside it.
 * (Computed from the local time of day; on a DST change day it can be off by the DST shift.)
 */
export function windowStart(now: Date, from: string, to: string, timeZone: string): Date | null {
  if (!inWindow(now, from, to, timeZone)) return null;
  const f = parseHHMM(from) * 60;
  const s = localSecondsOfDay(now, timeZone);
  const sinceStart = (s - f + 86400) % 86400;
  return new Date(Math.floor(now.getTime() / 1000) * 1000 - sinceStart * 1000);
}
