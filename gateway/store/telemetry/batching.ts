import type { TelemetryPoint, TelemetryWriter } from './types.js';

export interface BatchingOptions {
  maxBatch: number;
  flushMs: number;
  maxBuffer: number;
  /** backoff after a failed write, doubling up to maxBackoffMs */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onBatch?: (result: 'ok' | 'error', size: number, ms: number) => void;
  onDrop?: (n: number) => void;
}

/**
 * Batches points by size and time, bounded. Overflow policy: drop the OLDEST telemetry and count it
 * (alarms never pass through here). While the sink fails, batches stay buffered and are retried with backoff.
 */
export class BatchingWriter implements TelemetryWriter {
  private buf: TelemetryPoint[] = [];
  private timer: NodeJS.Timeout;
  private inflight: Promise<void> | null = null;
  private backoffMs = 0;
  private nextTryAt = 0;
  private dropped = 0;
  private written = 0;
  private lastError?: string;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly sink: (batch: TelemetryPoint[]) => Promise<void>,
    private readonly o: BatchingOptions,
  ) {
    this.timer = setInterval(() => void this.flushOnce(), o.flushMs);
    this.timer.unref();
  }

  write(points: TelemetryPoint[]): void {
    if (this.closed || points.length === 0) return;
    this.buf.push(...points);
    const over = this.buf.length - this.o.maxBuffer;
    if (over > 0) {
      this.buf.splice(0, over);
      this.dropped += over;
      this.o.onDrop?.(over);
    }
    if (this.buf.length >= this.o.maxBatch && !this.inflight) void this.flushOnce();
  }

  /** Writes one batch if the backoff allows. */
  private flushOnce(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.buf.length === 0 || Date.now() < this.nextTryAt) return Promise.resolve();
    const batch = this.buf.slice(0, this.o.maxBatch);
    const t0 = Date.now();
    this.inflight = this.sink(batch)
      .then(() => {
        // Only now remove them: a failed write keeps them for the retry.
        this.buf.splice(0, Math.min(batch.length, this.buf.length));
        this.written += batch.length;
        this.backoffMs = 0;
        this.nextTryAt = 0;
        this.lastError = undefined;
        this.o.onBatch?.('ok', batch.length, Date.now() - t0);
      })
      .catch((e: unknown) => {
        this.lastError = (e as Error).message;
        this.backoffMs = Math.min(this.o.maxBackoffMs ?? 30_000, Math.max(this.o.minBackoffMs ?? 250, this.backoffMs * 2));
        this.nextTryAt = Date.now() + this.backoffMs;
        this.o.onBatch?.('error', batch.length, Date.now() - t0);
      })
      .finally(() => {
        this.inflight = null;
        if (this.buf.length >= this.o.maxBatch && this.backoffMs === 0) void this.flushOnce();
      });
    return this.inflight;
  }

  /** Flushes everything buffered (stops early while the sink is failing). */
  async flush(): Promise<void> {
    if (this.inflight) await this.inflight;
    this.nextTryAt = 0;
    while (this.buf.length > 0) {
      const before = this.written;
      await this.flushOnce();
      if (this.written === before) break;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
    this.closed = true;
  }

  stats() {
    return { buffered: this.buf.length, dropped: this.dropped, written: this.written, failing: this.lastError !== undefined, lastError: this.lastError };
  }
}
