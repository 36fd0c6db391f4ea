import type { Db } from './store/db.js';
import { writeLastSeen, type LastSeenRow as Row } from './store/last-seen.js';

/**
 * Coalesces "last seen / battery / signal" updates: one UPDATE per second for all devices, instead of a write
 * per frame. A device whose battery and signal did not change is written again only once its last_seen moved
 * `minGapMs` past the value in the database: at 10,000 messages/s every device reported each second, and
 * rewriting 10,000 rows a second cost PostgreSQL more CPU than the gateway's whole store path. The dashboard
 * shows last-seen to the minute; silence is judged by the rule engine from memory, not from this column.
 */
export class LastSeenWriter {
  private pending = new Map<number, Row>();
  /** what the database holds, per device, after the last successful flush */
  private written = new Map<number, Row>();
  private timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    intervalMs = 1000,
    private readonly minGapMs = 30_000,
  ) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  note(deviceId: number, at: Date, battery?: number, signal?: number): void {
    const prev = this.pending.get(deviceId);
    if (!prev) {
      const w = this.written.get(deviceId);
      if (w && at.getTime() - w.at.getTime() < this.minGapMs && (battery ?? w.battery) === w.battery && (signal ?? w.signal) === w.signal) return;
    }
    this.pending.set(deviceId, {
      at: prev && prev.at > at ? prev.at : at,
      battery: battery ?? prev?.battery,
      signal: signal ?? prev?.signal,
    });
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.entries()];
    this.pending.clear();
    try {
      await writeLastSeen(this.db, rows);
    } catch (e) {
      // Keep them for the next try, newest values win.
      for (const [id, v] of rows) if (!this.pending.has(id)) this.pending.set(id, v);
      throw e;
    }
    for (const [id, v] of rows) {
      const w = this.written.get(id);
      // COALESCE in the UPDATE keeps the old battery/signal when a row carries none
      this.written.set(id, { at: w && w.at > v.at ? w.at : v.at, battery: v.battery ?? w?.battery, signal: v.signal ?? w?.signal });
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}
