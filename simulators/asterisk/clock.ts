/**
 * Timers for simulated time. Real setTimeout, with every scripted duration multiplied by `timeScale`
 * (0.1 runs ten times faster). Keeps track of every pending timer so stop/reset can clear them.
 */
export class Scheduler {
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(public timeScale: number) {}

  /** Runs `fn` after `seconds` of simulated time. */
  after(seconds: number, fn: () => void): NodeJS.Timeout {
    return this.afterMs(Math.max(0, seconds) * 1000 * this.timeScale, fn);
  }

  /** Runs `fn` after `ms` of real time (not scaled). */
  afterMs(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.pending.delete(t);
      try {
        fn();
      } catch (err) {
        console.error('[asterisk-sim] timer callback failed:', err);
      }
    }, Math.max(0, ms));
    this.pending.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.pending.delete(t);
  }

  clearAll(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}
