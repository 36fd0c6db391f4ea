import type { Db } from './store/db.js';

/**
 * Coalesces "last seen / battery / signal" updates: one UPDATE per second for all devices,
 * instead of a write per frame.
 */
export class LastSeenWriter {
  private pending = new Map<number, { at: Date; battery?: number; signal?: number }>();
  private timer: NodeJS.Timeout;

  constructor(private readonly db: Db, intervalMs = 1000) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  note(deviceId: number, at: Date, battery?: number, signal?: number): void {
    const prev = this.pending.get(deviceId);
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
      await this.db.query(
        `UPDATE devices d SET last_seen = GREATEST(COALESCE(d.last_seen, v.at), v.at),
           battery = COALESCE(v.battery, d.battery), signal = COALESCE(v.signal, d.signal),
           state = CASE WHEN d.state = 'registered' THEN 'active' ELSE d.state END
         FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[]) AS v(id, at, battery, signal) WHERE d.id = v.id`,
        [rows.map((r) => r[0]), rows.map((r) => r[1].at), rows.map((r) => r[1].battery ?? null), rows.map((r) => r[1].signal ?? null)],
      );
    } catch (e) {
      // Keep them for the next try, newest values win.
      for (const [id, v] of rows) if (!this.pending.has(id)) this.pending.set(id, v);
      throw e;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}
