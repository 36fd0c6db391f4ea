/**
 * Reconnect delays for the SMS links (sms.md A7: exponential with jitter, 1–60 s). The gateway has one in
 * gateway/backoff.ts without jitter; sms/ imports nothing from gateway/ (like telephony/), so it keeps this copy.
 */
export class JitterBackoff {
  private failures = 0;

  constructor(
    readonly firstMs = 1000,
    readonly maxMs = 60_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** firstMs × 2^n capped at maxMs, then ±20 % so many clients do not reconnect in step */
  next(): number {
    const base = Math.min(this.maxMs, this.firstMs * 2 ** Math.min(this.failures++, 30));
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }
}
