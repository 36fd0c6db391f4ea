/**
 * Growing backoff after failed logins, per username and per address (issue 15). After `free` failures a key must
 * wait 1 s, then 2 s, 4 s … up to `maxDelayMs` before the next try is even checked; a success clears the username.
 * Bounded: the oldest keys are forgotten first, so a flood of made-up usernames cannot grow it without end.
 */
interface Entry {
  failures: number;
  lastAt: number;
}

export class LoginThrottle {
  private readonly keys = new Map<string, Entry>();

  constructor(
    private readonly free = 3,
    private readonly maxDelayMs = 15 * 60_000,
    private readonly maxKeys = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds to wait before this key may try again (0 = now). */
  waitMs(key: string): number {
    const e = this.keys.get(key);
    if (!e || e.failures < this.free) return 0;
    const delay = Math.min(this.maxDelayMs, 1000 * 2 ** (e.failures - this.free));
    return Math.max(0, e.lastAt + delay - this.now());
  }

  failed(key: string): void {
    const e = this.keys.get(key) ?? { failures: 0, lastAt: 0 };
    // A key quiet for longer than the longest delay starts afresh.
    if (this.now() - e.lastAt > this.maxDelayMs) e.failures = 0;
    e.failures++;
    e.lastAt = this.now();
    this.keys.delete(key);
    this.keys.set(key, e);
    if (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
  }

  succeeded(key: string): void {
    this.keys.delete(key);
  }
}
