/** What one call attempt's outcome means for the day's run, and the missed-days report (issue 22). Pure. */

export type AttemptOutcome = 'ok' | 'help' | 'no_key' | 'no_answer' | 'busy' | 'failed';
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ['ok', 'help', 'no_key', 'no_answer', 'busy', 'failed'];

export type AttemptDecision = { final: 'ok' | 'help' | 'failed' } | { retryAt: Date };

/**
 * After attempt number `attemptsMade` (1 = the first call) ended with `outcome`: the run is done, or is tried again
 * at `at` + the interval. `retries` counts the extra attempts, so a run makes at most 1 + retries calls.
 */
export function decideAfterAttempt(input: { outcome: AttemptOutcome; attemptsMade: number; retries: number; retryIntervalMin: number; at: Date }): AttemptDecision {
  const { outcome, attemptsMade, retries, retryIntervalMin, at } = input;
  if (outcome === 'ok' || outcome === 'help') return { final: outcome };
  if (attemptsMade <= retries) return { retryAt: new Date(at.getTime() + retryIntervalMin * 60_000) };
  return { final: 'failed' };
}

export interface MissedStreak {
  elderId: number;
  /** consecutive welfare days that ended failed */
  days: number;
  /** the local date of the streak's last day */
  lastDate: string;
}

const REACHED = new Set(['ok', 'help', 'checked_in']);

/**
 * Elders whose welfare runs failed on at least `minDays` consecutive run days, one entry each: the longest streak
 * (the latest of equal ones), ordered by elder. A day with any ok/help/checked_in run breaks a streak; a day with
 * no finished run (none scheduled, a holiday `skipped`, still calling) neither breaks nor extends it, because
 * "2 days in a row" means two calls in a row nobody answered.
 */
export function missedStreaks(runs: readonly { elderId: number; date: string; state: string }[], minDays = 2): MissedStreak[] {
  // elder → date → 'reached' | 'failed'; a reached run wins over a failed one the same day
  const days = new Map<number, Map<string, 'reached' | 'failed'>>();
  for (const r of runs) {
    const kind = REACHED.has(r.state) ? 'reached' : r.state === 'failed' ? 'failed' : undefined;
    if (!kind) continue;
    let byDate = days.get(r.elderId);
    if (!byDate) days.set(r.elderId, (byDate = new Map()));
    if (byDate.get(r.date) !== 'reached') byDate.set(r.date, kind);
  }
  const out: MissedStreak[] = [];
  for (const [elderId, byDate] of days) {
    let best: MissedStreak | undefined;
    let run = 0;
    // yyyy-mm-dd sorts as text in date order
    for (const date of [...byDate.keys()].sort()) {
      run = byDate.get(date) === 'failed' ? run + 1 : 0;
      if (run >= minDays && (!best || run >= best.days)) best = { elderId, days: run, lastDate: date };
    }
    if (best) out.push(best);
  }
  return out.sort((a, b) => a.elderId - b.elderId);
}
