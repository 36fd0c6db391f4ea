/**
 * Exponential backoff, the one copy for the gateway (issue 16): the first delay, doubled after each failure up
 * to a cap, back to the first after a success. Used by the serial alarm receivers (reopen) and the telemetry
 * batcher (retry). Libraries such as `exponential-backoff` wrap a promise in a retry loop; these callers are
 * event-driven (a timer to reopen a port, a time before which a batch is not tried), so they need only the delay.
 * Telephony keeps its own (jittered) copy in telephony/ari.ts: telephony may not import the gateway.
 */
export class Backoff {
  private failures = 0;

  constructor(
    readonly firstMs: number,
    readonly maxMs: number,
  ) {}

  /** The delay before the next attempt after one more failure: firstMs, 2 × firstMs, … up to maxMs. */
  next(): number {
    const ms = Math.min(this.maxMs, this.firstMs * 2 ** Math.min(this.failures, 40));
    this.failures++;
    return ms;
  }

  /** After a success: the next failure waits firstMs again. */
  reset(): void {
    this.failures = 0;
  }

  /** Whether the last attempt failed (no success since the last failure). */
  get failing(): boolean {
    return this.failures > 0;
  }
}
