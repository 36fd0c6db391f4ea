/** Call attempts (care/attempts.ts): done, retry or failed after each attempt; elders who missed days in a row. */
import { describe, expect, it } from 'vitest';
import { decideAfterAttempt, missedStreaks, type AttemptOutcome } from '../../../care/index.ts';

const at = new Date('2026-12-07T00:00:00Z');

describe('decideAfterAttempt', () => {
  it('1 pressed is ok and 2 pressed is help, on any attempt, even the last', () => {
    for (const attemptsMade of [1, 3]) {
      expect(decideAfterAttempt({ outcome: 'ok', attemptsMade, retries: 2, retryIntervalMin: 10, at })).toEqual({ final: 'ok' });
      expect(decideAfterAttempt({ outcome: 'help', attemptsMade, retries: 2, retryIntervalMin: 10, at })).toEqual({ final: 'help' });
    }
  });

  it('any other outcome retries after the interval until 1 + retries attempts are made, then fails', () => {
    for (const outcome of ['no_key', 'no_answer', 'busy', 'failed'] as AttemptOutcome[]) {
      expect(decideAfterAttempt({ outcome, attemptsMade: 1, retries: 2, retryIntervalMin: 10, at })).toEqual({ retryAt: new Date('2026-12-07T00:10:00Z') });
      expect(decideAfterAttempt({ outcome, attemptsMade: 2, retries: 2, retryIntervalMin: 15, at })).toEqual({ retryAt: new Date('2026-12-07T00:15:00Z') });
      expect(decideAfterAttempt({ outcome, attemptsMade: 3, retries: 2, retryIntervalMin: 10, at })).toEqual({ final: 'failed' });
    }
  });

  it('no retries: the first unanswered call fails the run', () => {
    expect(decideAfterAttempt({ outcome: 'no_answer', attemptsMade: 1, retries: 0, retryIntervalMin: 10, at })).toEqual({ final: 'failed' });
  });
});

describe('missedStreaks', () => {
  const run = (elderId: number, date: string, state: string) => ({ elderId, date, state });

  it('two failed run days in a row, with days without a run skipped, in any input order', () => {
    expect(missedStreaks([run(1, '2026-12-05', 'failed'), run(1, '2026-12-03', 'failed'), run(2, '2026-12-03', 'failed')])).toEqual([{ elderId: 1, days: 2, lastDate: '2026-12-05' }]);
  });

  it('an ok, help or check-in day breaks the streak; skipped and unfinished days do not', () => {
    for (const state of ['ok', 'help', 'checked_in']) {
      expect(missedStreaks([run(1, '2026-12-01', 'failed'), run(1, '2026-12-02', state), run(1, '2026-12-03', 'failed')])).toEqual([]);
    }
    for (const state of ['skipped', 'scheduled', 'calling', 'retry_wait']) {
      expect(missedStreaks([run(1, '2026-12-01', 'failed'), run(1, '2026-12-02', state), run(1, '2026-12-03', 'failed')])).toEqual([{ elderId: 1, days: 2, lastDate: '2026-12-03' }]);
    }
  });

  it('a day with a failed and a reached run (two times a day) counts as reached', () => {
    expect(missedStreaks([run(1, '2026-12-01', 'failed'), run(1, '2026-12-02', 'failed'), run(1, '2026-12-02', 'ok'), run(1, '2026-12-03', 'failed')])).toEqual([]);
    expect(missedStreaks([run(1, '2026-12-01', 'failed'), run(1, '2026-12-02', 'ok'), run(1, '2026-12-02', 'failed'), run(1, '2026-12-03', 'failed')])).toEqual([]);
  });

  it('one entry per elder: the longest streak (the latest of equal ones); minDays sets the bar', () => {
    const runs = [
      ...['2026-11-01', '2026-11-02', '2026-11-03'].map((d) => run(7, d, 'failed')),
      run(7, '2026-11-04', 'ok'),
      ...['2026-11-05', '2026-11-06'].map((d) => run(7, d, 'failed')),
      run(3, '2026-11-01', 'failed'),
      run(3, '2026-11-02', 'failed'),
      run(3, '2026-11-03', 'ok'),
      run(3, '2026-11-04', 'failed'),
      run(3, '2026-11-05', 'failed'),
    ];
    expect(missedStreaks(runs)).toEqual([
      { elderId: 3, days: 2, lastDate: '2026-11-05' },
      { elderId: 7, days: 3, lastDate: '2026-11-03' },
    ]);
    expect(missedStreaks(runs, 3)).toEqual([{ elderId: 7, days: 3, lastDate: '2026-11-03' }]);
    expect(missedStreaks(runs, 1).map((s) => s.elderId)).toEqual([3, 7]);
  });
});
