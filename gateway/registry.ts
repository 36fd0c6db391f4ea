import type { Db } from './store/db.js';
import { getDeviceByIdentifier, noteUnknownDevice, trimUnknownDevices, type Device } from './store/devices.js';

/**
 * Device registry with a short cache: the hot path looks devices up per frame.
 * Unknown devices are remembered briefly too, so a flood from one does not hammer the database.
 *
 * A known device whose entry is due is answered from the cache while one background query refreshes it
 * (stale-while-revalidate), and at most `maxRefreshes` such refreshes run at once. Without that, every device
 * of a fleet that logged in together expired together 30 s later, and the next burst of frames queued one
 * query per frame on the pool until they timed out (bench: 1,340 frames dropped in 2 s at 5,000 messages/s),
 * with alarm commits waiting behind them. Concurrent lookups of one identifier share one query.
 */
export class Registry {
  private cache = new Map<string, { device: Device | null; until: number }>();
  /** the query in flight per identifier; invalidate() drops it, so its answer is not cached */
  private inflight = new Map<string, Promise<Device | null>>();
  private refreshing = 0;
  private lastLogged = new Map<string, number>();
  private lastNoted = new Map<string, number>();
  /** global budget of unknown-device log lines: 100,000 made-up ids once gave 20 MB of log (issue 15) */
  private logWindow = { start: 0, lines: 0, suppressed: 0 };
  private notedSinceTrim = 0;
  /** called with how many of the oldest "awaiting registration" rows were dropped to keep the table bounded */
  onEvicted?: (n: number) => void;
  /** most rows kept in unknown_devices */
  maxUnknown = 10_000;
  /** most unknown-device log lines per minute, across all devices */
  maxUnknownLogsPerMin = 20;

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 30_000,
    private readonly unknownTtlMs = 3_000,
    private readonly maxRefreshes = 4,
  ) {}

  async lookup(identifier: string): Promise<Device | null> {
    const hit = this.cache.get(identifier);
    if (hit && hit.until > Date.now()) return hit.device;
    if (hit?.device) {
      if (!this.inflight.has(identifier) && this.refreshing < this.maxRefreshes) {
        this.refreshing++;
        void this.fetch(identifier)
          .catch(() => undefined) // the entry stays; a later frame tries again
          .finally(() => this.refreshing--);
      }
      return hit.device;
    }
    return this.fetch(identifier);
  }

  private fetch(identifier: string): Promise<Device | null> {
    const running = this.inflight.get(identifier);
    if (running) return running;
    const mine = () => this.inflight.get(identifier) === p;
    const p: Promise<Device | null> = getDeviceByIdentifier(this.db, identifier).then(
      (device) => {
        const usable = device && device.state !== 'disabled' ? device : null;
        if (mine()) {
          this.inflight.delete(identifier);
          this.cache.set(identifier, { device: usable, until: Date.now() + (usable ? this.ttlMs : this.unknownTtlMs) });
        }
        return usable;
      },
      (e: unknown) => {
        if (mine()) this.inflight.delete(identifier);
        throw e;
      },
    );
    this.inflight.set(identifier, p);
    return p;
  }

  invalidate(identifier?: string): void {
    if (identifier === undefined) {
      this.cache.clear();
      this.inflight.clear();
    } else {
      this.cache.delete(identifier);
      this.inflight.delete(identifier);
    }
  }

  /**
   * Whether this unknown device should be logged now: once per interval per device, and at most
   * `maxUnknownLogsPerMin` lines a minute overall. Returns false, or how many lines were held back before it.
   */
  shouldLogUnknown(identifier: string, intervalMs: number): false | { suppressed: number } {
    const now = Date.now();
    const last = this.lastLogged.get(identifier);
    if (last !== undefined && now - last < intervalMs) return false;
    const w = this.logWindow;
    if (now - w.start >= 60_000) Object.assign(w, { start: now, lines: 0 });
    if (w.lines >= this.maxUnknownLogsPerMin) {
      w.suppressed++;
      return false;
    }
    w.lines++;
    this.lastLogged.set(identifier, now);
    if (this.lastLogged.size > 100_000) this.lastLogged.clear();
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return { suppressed };
  }

  /** Lists it as "awaiting registration"; the row is refreshed at most every 10 s per device. */
  async noteUnknown(identifier: string, protocol: string, remote?: string): Promise<void> {
    const now = Date.now();
    const last = this.lastNoted.get(identifier);
    if (last !== undefined && now - last < 10_000) return;
    this.lastNoted.set(identifier, now);
    if (this.lastNoted.size > 100_000) this.lastNoted.clear();
    await noteUnknownDevice(this.db, identifier, protocol, remote);
    // Bounded: past maxUnknown rows the least recently seen go (checked every 100 new notes).
    if (++this.notedSinceTrim >= 100) {
      this.notedSinceTrim = 0;
      const n = await trimUnknownDevices(this.db, this.maxUnknown);
      if (n) this.onEvicted?.(n);
    }
  }
}
