/** Care schedules (care/schedule.ts): validation, runs in a time zone with holidays and DST, the next run. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inWindow, localDate, localTime, localToInstant, nextOccurrence, normaliseTimes, occurrences, validateRule, type Recurrence, type ScheduleRule } from '../../../care/index.ts';

const SH = 'Asia/Shanghai';
const NY = 'America/New_York';
const LON = 'Europe/London';
const none = new Set<string>();
const rule = (recurrence: Recurrence, times: string[], skipHolidays = false): ScheduleRule => ({ recurrence, times, skipHolidays });
const runs = (r: ScheduleRule, from: string, to: string, timeZone = SH, holidays: ReadonlySet<string> = none) =>
  occurrences(r, { holidays, timeZone, from: new Date(from), to: new Date(to) }).map((o) => `${o.date} ${o.time} ${o.at.toISOString()}`);

describe('validateRule', () => {
  it('accepts each recurrence kind', () => {
    expect(validateRule(rule({ kind: 'daily' }, ['08:00']))).toEqual([]);
    expect(validateRule(rule({ kind: 'weekdays' }, ['00:00', '23:59']))).toEqual([]);
    expect(validateRule(rule({ kind: 'days', days: [1, 7] }, ['09:30']))).toEqual([]);
    expect(validateRule(rule({ kind: 'every', n: 365, from: '2024-02-29' }, ['01:00']))).toEqual([]);
  });

  it('names every problem with a bilingual message', () => {
    const fields = (r: unknown) => validateRule(r as ScheduleRule).map((p) => p.field);
    expect(fields(rule({ kind: 'daily' }, []))).toEqual(['times']);
    expect(fields(rule({ kind: 'daily' }, ['1', '2', '3', '4', '5', '6', '7'].map((h) => `0${h}:00`)))).toEqual(['times']);
    expect(fields(rule({ kind: 'daily' }, ['24:00', '8:00', '08:60']))).toEqual(['times', 'times', 'times']);
    expect(fields(rule({ kind: 'daily' }, ['08:00', '08:00']))).toEqual(['times']);
    expect(fields(rule({ kind: 'days', days: [] }, ['08:00']))).toEqual(['recurrence.days']);
    expect(fields(rule({ kind: 'days', days: [0, 8] }, ['08:00']))).toEqual(['recurrence.days']);
    expect(fields(rule({ kind: 'days', days: [2, 2] }, ['08:00']))).toEqual(['recurrence.days']);
    expect(fields(rule({ kind: 'every', n: 0, from: '2026-02-30' }, ['08:00']))).toEqual(['recurrence.n', 'recurrence.from']);
    expect(fields(rule({ kind: 'every', n: 366, from: '2026-01-01' }, ['08:00']))).toEqual(['recurrence.n']);
    expect(fields(rule({ kind: 'every', n: 1.5, from: '2026-1-1' }, ['08:00']))).toEqual(['recurrence.n', 'recurrence.from']);
    expect(fields({ recurrence: { kind: 'monthly' }, times: ['08:00'], skipHolidays: 'yes' })).toEqual(['skipHolidays', 'recurrence.kind']);
    for (const p of validateRule(rule({ kind: 'every', n: 0, from: 'x' }, ['99:99']))) expect(p.message).toMatch(/^[^/]*[\u4e00-\u9fff][^/]* \/ [A-Za-z]/);
  });

  it('normaliseTimes sorts and drops repeats', () => {
    expect(normaliseTimes(['18:00', '08:00', '18:00', '12:30'])).toEqual(['08:00', '12:30', '18:00']);
  });

  it('occurrences and nextOccurrence refuse an invalid rule', () => {
    expect(() => occurrences(rule({ kind: 'daily' }, ['25:00']), { holidays: none, timeZone: SH, from: new Date(0), to: new Date(1e9) })).toThrow(RangeError);
    expect(() => nextOccurrence(rule({ kind: 'days', days: [] }, ['08:00']), { holidays: none, timeZone: SH, after: new Date(0) })).toThrow(RangeError);
  });
});

describe('occurrences (Asia/Shanghai, UTC+8 all year)', () => {
  it('daily times in order, in [from, to), local dates not UTC dates', () => {
    expect(runs(rule({ kind: 'daily' }, ['20:00', '08:00']), '2026-12-06T00:00:01Z', '2026-12-07T12:00:01Z')).toEqual([
      '2026-12-06 20:00 2026-12-06T12:00:00.000Z',
      '2026-12-07 08:00 2026-12-07T00:00:00.000Z',
      '2026-12-07 20:00 2026-12-07T12:00:00.000Z',
    ]);
    // 00:30 in Shanghai is still the previous day in UTC
    expect(runs(rule({ kind: 'daily' }, ['00:30']), '2026-12-06T12:00:00Z', '2026-12-07T12:00:00Z')).toEqual(['2026-12-07 00:30 2026-12-06T16:30:00.000Z']);
    // from is inclusive, to exclusive
    expect(runs(rule({ kind: 'daily' }, ['08:00']), '2026-12-07T00:00:00Z', '2026-12-08T00:00:00Z')).toEqual(['2026-12-07 08:00 2026-12-07T00:00:00.000Z']);
    expect(runs(rule({ kind: 'daily' }, ['08:00']), '2026-12-07T00:00:00Z', '2026-12-07T00:00:00Z')).toEqual([]);
  });

  it('weekdays and chosen days (ISO: 1 = Monday, 7 = Sunday)', () => {
    // 2026-12-07 is a Monday
    const dates = (r: Recurrence) => occurrences(rule(r, ['09:00']), { holidays: none, timeZone: SH, from: new Date('2026-12-06T16:00:00Z'), to: new Date('2026-12-13T16:00:00Z') }).map((o) => o.date);
    expect(dates({ kind: 'weekdays' })).toEqual(['2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11']);
    expect(dates({ kind: 'days', days: [7, 3] })).toEqual(['2026-12-09', '2026-12-13']);
  });

  it('every n days counts from its start across month, year and leap-day ends', () => {
    const dates = (n: number, start: string, from: string, to: string) =>
      occurrences(rule({ kind: 'every', n, from: start }, ['10:00']), { holidays: none, timeZone: SH, from: new Date(from), to: new Date(to) }).map((o) => o.date);
    expect(dates(3, '2026-12-27', '2026-12-20T00:00:00Z', '2027-01-10T00:00:00Z')).toEqual(['2026-12-27', '2026-12-30', '2027-01-02', '2027-01-05', '2027-01-08']);
    expect(dates(2, '2028-02-26', '2028-02-01T00:00:00Z', '2028-03-05T00:00:00Z')).toEqual(['2028-02-26', '2028-02-28', '2028-03-01', '2028-03-03']);
    expect(dates(7, '2026-01-31', '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z')).toEqual(['2026-01-31', '2026-02-07', '2026-02-14', '2026-02-21', '2026-02-28']);
  });

  it('skips the centre holidays only when the rule says so', () => {
    const holidays = new Set(['2027-01-01']);
    const r = (skip: boolean) => runs(rule({ kind: 'daily' }, ['08:00'], skip), '2026-12-31T00:00:00Z', '2027-01-02T12:00:00Z', SH, holidays).map((s) => s.slice(0, 10));
    expect(r(true)).toEqual(['2026-12-31', '2027-01-02']);
    expect(r(false)).toEqual(['2026-12-31', '2027-01-01', '2027-01-02']);
  });
});

describe('occurrences across DST', () => {
  it('New York spring forward: 02:30 does not exist and runs when the gap ends (03:00 EDT); a second time in the gap is not repeated', () => {
    expect(runs(rule({ kind: 'daily' }, ['01:30', '02:30', '03:00', '02:00']), '2026-03-08T05:00:00Z', '2026-03-08T12:00:00Z', NY)).toEqual([
      '2026-03-08 01:30 2026-03-08T06:30:00.000Z',
      '2026-03-08 02:00 2026-03-08T07:00:00.000Z',
    ]);
  });

  it('New York fall back: 01:30 happens twice and runs the first time (EDT)', () => {
    expect(runs(rule({ kind: 'daily' }, ['01:30', '08:00']), '2026-11-01T04:00:00Z', '2026-11-01T16:00:00Z', NY)).toEqual([
      '2026-11-01 01:30 2026-11-01T05:30:00.000Z',
      '2026-11-01 08:00 2026-11-01T13:00:00.000Z',
    ]);
  });

  it('London: the offset changes between runs, the local time does not', () => {
    expect(runs(rule({ kind: 'daily' }, ['08:00']), '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z', LON)).toEqual([
      '2026-03-28 08:00 2026-03-28T08:00:00.000Z',
      '2026-03-29 08:00 2026-03-29T07:00:00.000Z',
    ]);
    expect(localToInstant('2026-03-29', '01:15', LON).toISOString()).toBe('2026-03-29T01:00:00.000Z'); // gap 01:00–02:00
    expect(localToInstant('2026-10-25', '01:15', LON).toISOString()).toBe('2026-10-25T00:15:00.000Z'); // first of two 01:15s (BST)
  });
});

describe('nextOccurrence', () => {
  const daily = rule({ kind: 'daily' }, ['08:00', '20:00']);
  const next = (r: ScheduleRule, after: string, holidays: ReadonlySet<string> = none, timeZone = SH) => nextOccurrence(r, { holidays, timeZone, after: new Date(after) })?.at.toISOString();

  it('is strictly after: a run exactly at `after` is the one just made', () => {
    expect(next(daily, '2026-12-07T00:00:00Z')).toBe('2026-12-07T12:00:00.000Z');
    expect(next(daily, '2026-12-06T23:59:59.999Z')).toBe('2026-12-07T00:00:00.000Z');
    expect(next(daily, '2026-12-07T12:00:00Z')).toBe('2026-12-08T00:00:00.000Z');
  });

  it('looks past holidays and far ahead (every 300 days), and gives up after 400 days', () => {
    const holidays = new Set(['2026-12-08', '2026-12-09']);
    expect(next(rule({ kind: 'daily' }, ['08:00'], true), '2026-12-07T00:00:00Z', holidays)).toBe('2026-12-10T00:00:00.000Z');
    expect(next(rule({ kind: 'every', n: 300, from: '2026-01-01' }, ['08:00']), '2026-01-01T00:00:00Z')).toBe('2026-10-28T00:00:00.000Z');
    expect(next(rule({ kind: 'every', n: 1, from: '2028-01-01' }, ['08:00']), '2026-01-01T00:00:00Z')).toBeUndefined();
    const allYear = new Set<string>();
    for (let d = new Date('2026-12-01T00:00:00Z'); d < new Date('2028-03-01T00:00:00Z'); d = new Date(d.getTime() + 86_400_000)) allYear.add(d.toISOString().slice(0, 10));
    expect(next(rule({ kind: 'daily' }, ['08:00'], true), '2026-12-07T00:00:00Z', allYear)).toBeUndefined();
  });

  it('gives the date, the rule time and the instant', () => {
    expect(nextOccurrence(rule({ kind: 'days', days: [6] }, ['09:15']), { holidays: none, timeZone: NY, after: new Date('2026-12-07T00:00:00Z') })).toEqual({
      date: '2026-12-12',
      time: '09:15',
      at: new Date('2026-12-12T14:15:00Z'),
    });
  });
});

describe('local time helpers and windows', () => {
  it('localDate and localTime in the zone', () => {
    const at = new Date('2026-12-06T16:30:00Z');
    expect([localDate(at, SH), localTime(at, SH)]).toEqual(['2026-12-07', '00:30']);
    expect([localDate(at, NY), localTime(at, NY)]).toEqual(['2026-12-06', '11:30']);
  });

  it('inWindow: half-open, past midnight, whole day when from = to, nothing without a window', () => {
    const sh = (hhmm: string) => new Date(`2026-12-07T${hhmm}:00+08:00`);
    const w = { from: '07:00', to: '09:00' };
    expect([inWindow(w, sh('06:59'), SH), inWindow(w, sh('07:00'), SH), inWindow(w, sh('08:59'), SH), inWindow(w, sh('09:00'), SH)]).toEqual([false, true, true, false]);
    const night = { from: '22:00', to: '02:00' };
    expect([inWindow(night, sh('23:30'), SH), inWindow(night, sh('01:59'), SH), inWindow(night, sh('02:00'), SH), inWindow(night, sh('12:00'), SH)]).toEqual([true, true, false, false]);
    expect(inWindow({ from: '00:00', to: '00:00' }, sh('12:00'), SH)).toBe(true);
    expect(inWindow(null, sh('12:00'), SH)).toBe(false);
  });
});

describe('occurrences (property, Asia/Shanghai)', () => {
  const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const recurrence: fc.Arbitrary<Recurrence> = fc.oneof(
    fc.constant({ kind: 'daily' as const }),
    fc.constant({ kind: 'weekdays' as const }),
    fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }).map((days) => ({ kind: 'days' as const, days })),
    fc.record({ n: fc.integer({ min: 1, max: 365 }), from: fc.integer({ min: 0, max: 600 }).map((d) => new Date(Date.UTC(2025, 6, 1) + d * 86_400_000).toISOString().slice(0, 10)) }).map((r) => ({ kind: 'every' as const, ...r })),
  );
  const dayMs = 86_400_000;
  const start = Date.UTC(2026, 0, 1);

  it('every run is in [from, to), in order, on an allowed day, not a holiday when skipped, at the rule time', () => {
    fc.assert(
      fc.property(
        recurrence,
        fc.uniqueArray(time, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 365 * dayMs }),
        fc.integer({ min: 0, max: 40 * dayMs }),
        fc.uniqueArray(fc.integer({ min: 0, max: 420 }), { maxLength: 30 }),
        (rec, times, skip, fromOff, len, holidayDays) => {
          const holidays = new Set(holidayDays.map((d) => new Date(start + d * dayMs).toISOString().slice(0, 10)));
          const from = new Date(start + fromOff);
          const to = new Date(from.getTime() + len);
          const r = rule(rec, times, skip);
          const got = occurrences(r, { holidays, timeZone: SH, from, to });
          let prev = -Infinity;
          for (const o of got) {
            const t = o.at.getTime();
            expect(t >= from.getTime() && t < to.getTime()).toBe(true);
            expect(t).toBeGreaterThan(prev);
            prev = t;
            expect(localDate(o.at, SH)).toBe(o.date);
            expect(localTime(o.at, SH)).toBe(o.time);
            expect(times).toContain(o.time);
            if (skip) expect(holidays.has(o.date)).toBe(false);
            const weekday = ((new Date(`${o.date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
            if (rec.kind === 'weekdays') expect(weekday).toBeLessThanOrEqual(5);
            if (rec.kind === 'days') expect(rec.days).toContain(weekday);
            if (rec.kind === 'every') expect((Date.parse(o.date) - Date.parse(rec.from)) / dayMs % rec.n).toBe(0);
          }
          // none is missed: every run of a daily rule without holidays is there (times × local days in range)
          if (rec.kind === 'daily' && !skip) {
            let expected = 0;
            for (let d = Date.parse(localDate(from, SH)) - dayMs; d <= to.getTime() + dayMs; d += dayMs)
              for (const tm of times) {
                const at = Date.parse(`${new Date(d).toISOString().slice(0, 10)}T${tm}:00+08:00`);
                if (at >= from.getTime() && at < to.getTime()) expected++;
              }
            expect(got.length).toBe(expected);
          }
          // nextOccurrence agrees with occurrences
          if (got.length) expect(nextOccurrence(r, { holidays, timeZone: SH, after: new Date(from.getTime() - 1) })).toEqual(got[0]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('occurrences (property, DST zones)', () => {
  it('runs are in range and in order; each is at its local time, or just after it when that time was skipped', () => {
    const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 59)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(fc.constantFrom(NY, LON), fc.uniqueArray(time, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 730 }), (tz, times, d) => {
        const from = new Date(Date.UTC(2026, 0, 1) + d * 86_400_000);
        const to = new Date(from.getTime() + 3 * 86_400_000);
        const got = occurrences(rule({ kind: 'daily' }, times), { holidays: none, timeZone: tz, from, to });
        for (const [i, o] of got.entries()) {
          expect(o.at >= from && o.at < to).toBe(true);
          if (i > 0) expect(o.at.getTime()).toBeGreaterThan(got[i - 1]!.at.getTime());
          expect(localDate(o.at, tz)).toBe(o.date);
          const local = localTime(o.at, tz);
          // a skipped time runs when the gap ends: later on the clock, at the gap's first real minute
          if (local !== o.time) {
            expect(local > o.time).toBe(true);
            expect(localToInstant(o.date, local, tz)).toEqual(o.at);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
