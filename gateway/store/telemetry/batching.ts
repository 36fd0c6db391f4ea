import { Backoff } from '../../backoff.js';
import { isolateRefused, RejectedBatch } from './isolate.js';
import type { TelemetryPoint, TelemetryWriter } from './types.js';

// a refused batch is split until its refused points stand alone (isolate.ts)
export { RejectedBatch };

export interface BatchingOptions {
  maxBatch: number;
  flushMs: number;
  maxBuffer: number;
  /** backoff after a failed write, doubling up to maxBackoffMs */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onBatch?: (result: 'ok' | 'error', size: number, ms: number, error?: string) => void;
  onDrop?: (n: number) => void;
  /** points the store refused for good, isolated from their batch, by reason */
  onRefused?: (n: number, reason: string) => void;
  /** buffer depth (buffered + in flight), reported every flushMs and after each batch, for a gauge */
  onDepth?: (n: number) => void;
}

/**
 * Batches points by size and time, bounded. `encode` turns each point into what the sink sends (InfluxDB: its line)
 * as it is written, so the buffer holds that and not the point's objects: a buffered point outlives several
 * young-generation collections, and at 30,000 points/s copying them was most of each scavenge (issue 25). Overflow policy: drop the OLDEST telemetry and count it
 * (alarms never pass through here). While the sink fails, batches stay buffered and are retried with backoff.
 * The bound is on points waiting; the one batch in flight (at most maxBatch) comes on top, because it cannot be
 * taken back from the sink. If it fails it goes back to the front, and the oldest points are shed first.
 */
export class BatchingWriter<T = TelemetryPoint> implements TelemetryWriter {
  private buf = new Fifo<T>();
  /** the batch being written; kept apart so overflow never removes points from under the sink */
  private sending: T[] = [];
  private timer: NodeJS.Timeout;
  private inflight: Promise<void> | null = null;
  private readonly backoff: Backoff;
  private nextTryAt = 0;
  private dropped = 0;
  private refused = 0;
  private written = 0;
  private lastError?: string;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly sink: (batch: T[]) => Promise<void>,
    private readonly o: BatchingOptions,
    /** null: nothing to write (a point with no field the store can take) */
    private readonly encode: (p: TelemetryPoint) => T | null = (p) => p as T,
  ) {
    this.backoff = new Backoff(o.minBackoffMs ?? 250, o.maxBackoffMs ?? 30_000);
    this.timer = setInterval(() => {
      void this.flushOnce();
      this.o.onDepth?.(this.depth());
    }, o.flushMs);
    this.timer.unref();
  }

  write(points: TelemetryPoint[]): void {
    if (this.closed || points.length === 0) return;
    for (const p of points) {
      const e = this.encode(p);
      if (e !== null) this.buf.push(e);
    }
    this.shed();
    if (this.buf.length >= this.o.maxBatch && !this.inflight) void this.flushOnce();
  }

  private depth(): number {
    return this.buf.length + this.sending.length;
  }

  /** The overflow policy: beyond maxBuffer the oldest points waiting are dropped. */
  private shed(): void {
    const over = this.buf.length - this.o.maxBuffer;
    if (over <= 0) return;
    this.buf.dropFront(over);
    this.dropped += over;
    this.o.onDrop?.(over);
  }

  /** Writes one batch if the backoff allows. */
  private flushOnce(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.buf.length === 0 || Date.now() < this.nextTryAt) return Promise.resolve();
    const batch = this.buf.takeFront(this.o.maxBatch);
    this.sending = batch;
    const t0 = Date.now();
    this.inflight = this.sink(batch)
      .then(() => {
        this.sending = [];
        this.written += batch.length;
        this.backoff.reset();
        this.nextTryAt = 0;
        this.lastError = undefined;
        this.o.onBatch?.('ok', batch.length, Date.now() - t0);
      })
      .catch((e: unknown) => {
        this.sending = [];
        this.lastError = (e as Error).message;
        if (e instanceof RejectedBatch) return this.isolate(batch, e, t0);
        this.retryLater(batch, t0);
      })
      .finally(() => {
        this.inflight = null;
        this.o.onDepth?.(this.depth());
        if (this.buf.length >= this.o.maxBatch && !this.backoff.failing) void this.flushOnce();
      });
    return this.inflight;
  }

  /** The good points of a refused batch written, the refused ones counted (isolate.ts); `sending` holds them meanwhile. */
  private async isolate(batch: T[], e: RejectedBatch, t0: number): Promise<void> {
    this.sending = batch;
    const r = await isolateRefused(batch, e, this.sink);
    this.sending = [];
    this.written += r.written;
    for (const [reason, n] of r.refused) {
      this.refused += n;
      this.o.onRefused?.(n, reason);
    }
    if (r.retry.length) {
      this.lastError = (r.retryError as Error).message;
      return this.retryLater(r.retry, t0);
    }
    // the store answers: no backoff; the batch counts as an error when something in it was refused
    this.backoff.reset();
    this.nextTryAt = 0;
    this.lastError = r.refused.size ? e.message : undefined;
    if (r.refused.size) this.o.onBatch?.('error', batch.length, Date.now() - t0, e.message);
    else this.o.onBatch?.('ok', batch.length, Date.now() - t0);
  }

  /** A failed batch goes back to the front for the retry; newer points may have filled the bound meanwhile. */
  private retryLater(batch: T[], t0: number): void {
    this.buf.putFront(batch);
    this.shed();
    this.nextTryAt = Date.now() + this.backoff.next();
    this.o.onBatch?.('error', batch.length, Date.now() - t0, this.lastError);
  }

  /**
   * Flushes everything buffered, the batch in flight included; tries at once, whatever the backoff, and stops
   * at the first failed batch. (A success chains the next full batch, so the loop waits on that one too.)
   */
  async flush(): Promise<void> {
    if (this.inflight) await this.inflight;
    this.nextTryAt = 0;
    while (this.depth() > 0) {
      const before = this.written;
      await (this.inflight ?? this.flushOnce());
      if (this.written === before && !this.inflight) break;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
    this.closed = true;
  }

  stats() {
    return { buffered: this.depth(), dropped: this.dropped, refused: this.refused, written: this.written, failing: this.lastError !== undefined, lastError: this.lastError };
  }
}

/**
 * FIFO with cheap removal from the front. Array#splice(0, n) moves every element: measured 0.2 ms per call
 * at 100 000 points, which would stall the event loop exactly when overload sheds a point per write.
 */
class Fifo<T> {
  private a: T[] = [];
  private head = 0;

  get length(): number {
    return this.a.length - this.head;
  }

  push(item: T): void {
    this.a.push(item);
  }

  dropFront(n: number): void {
    this.head += Math.min(n, this.length);
    this.compact();
  }

  takeFront(n: number): T[] {
    const out = this.a.slice(this.head, this.head + n);
    this.head += out.length;
    this.compact();
    return out;
  }

  putFront(items: T[]): void {
    this.a = items.concat(this.a.slice(this.head));
    this.head = 0;
  }

  /** Amortised O(1): copies the live part only once the dead prefix outgrows it (memory stays under 2× the bound). */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.a.length) {
      this.a = this.a.slice(this.head);
      this.head = 0;
    } else if (this.head === this.a.length) {
      this.a = [];
      this.head = 0;
    }
  }
}
