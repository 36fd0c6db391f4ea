import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localSecondsOfDay } from '../../../alarms/rules/schedule.ts';

/** The uncached answer: the zone's wall clock formatted for this very instant. */
function formatted(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return (n('hour') % 24) * 3600 + n('minute') * 60 + n('second');
}

const ZONES = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'UTC'];

describe('localSecondsOfDay (formatted once per zone per UTC minute)', () => {
  it('matches the formatted wall clock at any instant, in zones with DST and with odd offsets', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }), fc.constantFrom(...ZONES), (ms, zone) => {
        // twice in the same minute: the second answer comes from the cache
        const first = new Date(ms - (ms % 60_000));
        expect(localSecondsOfDay(first, zone)).toBe(formatted(first, zone));
        expect(localSecondsOfDay(new Date(ms), zone)).toBe(formatted(new Date(ms), zone));
      }),
      { numRuns: 2000 },
    );
  });

  it('is right on both sides of a DST change, second by second', () => {
    // New York, 2026-03-08 02:00 EST → 03:00 EDT (07:00 UTC); Lord Howe moves by 30 minutes (2026-04-05 02:00 → 01:30)
    for (const [zone, at] of [['America/New_York', Date.UTC(2026, 2, 8, 7)], ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 15)]] as const) {
      for (let s = -90; s <= 90; s++) {
        const d = new Date(at + s * 1000);
        expect(localSecondsOfDay(d, zone), `${zone} ${d.toISOString()}`).toBe(formatted(d, zone));
      }
    }
  });
});
