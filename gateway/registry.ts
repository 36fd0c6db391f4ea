import { LRUCache } from 'lru-cache';
import type { Db } from './store/db.js';
import { getDeviceByIdentifier, getDevicesByIdentifiers, noteUnknownDevice, trimUnknownDevices, type Device } from './store/devices.js';

/** A background refresh of one device, told apart from a later one of the same device. */
type Refresh = object;

/** A cache entry: lru-cache holds objects, and an unknown (or disabled) device is remembered as null. */
interface Entry {
  device: Device | null;
}

/**
 * Device registry with a short cache: the hot path looks devices up per frame.
 * Unknown devices are remembered briefly too, so a flood from one does not hammer the database.
 *
 * A known device whose entry is due is answered from the cache while a background query refreshes it
 * (stale-while-revalidate). Without that, every device of a fleet that logged in together expired together 30 s
 * later, and the next burst of frames queued one query per frame on the pool until they timed out (bench: 1,340
 * frames dropped in 2 s at 5,000 messages/s), with alarm commits waiting behind them. The refreshes are batched:
 * the devices found due in one turn of the event loop are read in one query (at most `refreshBatch` of them), and at
 * most `maxRefreshes` such queries run at once; devices found due meanwhile wait for the next one. One query per
 * due device was 333 queries a second for a fleet of 10,000, each a round trip on the gateway's loop (issue 25).
 * Concurrent lookups of one identifier share one query.
 *
 * The cache is an `lru-cache` with a `fetchMethod` (which shares the query among concurrent lookups), `max`
 * entries (identifiers made up by unknown devices cannot grow it without bound: past `max` the least recently
 * used go) and a `ttl` per entry (`ttlMs` for a known device, `unknownTtlMs` for an unknown one). A due entry
 * stays in the cache, so a known device can be served stale while it is refreshed; a due unknown device waits
 * for the database, so a new registration is seen at once. A TTL of 0 means "due at once" here (lru-cache's 0
 * means "never"). Times come from Date.now(), as before.
 */
export class Registry {
  private readonly cache: LRUCache<string, Entry>;
  /** identifiers waiting for, or in, a background refresh; invalidate() takes them out, so its answer is not kept */
  private readonly refreshing = new Map<string, Refresh>();
  /** due devices not yet in a refresh query */
  private dueQ: [string, Refresh][] = [];
  private batchesInFlight = 0;
  private batchScheduled = false;
  /** when each unknown device was last logged; bounded, the least recently logged forgotten first */
  private readonly lastLogged = new LRUCache<string, number>({ max: 100_000 });
  /** when each unknown device's "awaiting registration" row was last refreshed; bounded like lastLogged */
  private readonly lastNoted = new LRUCache<string, number>({ max: 100_000 });
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
    /** most identifiers cached, known and unknown together (a fleet of 120,000 watches fits) */
    maxEntries = 200_000,
    private readonly refreshBatch = 500,
  ) {
    this.cache = new LRUCache<string, Entry>({
      max: maxEntries,
      ttl: ttlMs,
      // Date.now, not performance.now: as before, and a test's fake Date moves it. No cached clock (its timer).
      perf: { now: () => Date.now() },
      ttlResolution: 0,
      fetchMethod: async (identifier, _stale, { options }) => {
        const device = await getDeviceByIdentifier(this.db, identifier);
        const e = this.entryOf(device);
        options.ttl = this.ttlOf(e);
        return e;
      },
      // invalidate() (delete) during a query: the callers still get its answer, but it is not cached, because
      // the entry it belonged to is gone (lru-cache writes a fetch's result only into its own entry).
      ignoreFetchAbort: true,
      // a failed refresh keeps the entry; a later frame tries again
      noDeleteOnFetchRejection: true,
    });
  }

  /** What the database's answer caches: a disabled device as an unknown one. Used by the lookup and the refresh. */
  private entryOf(device: Device | undefined): Entry {
    return { device: device && device.state !== 'disabled' ? device : null };
  }

  private ttlOf(e: Entry): number {
    return e.device ? this.ttlMs : this.unknownTtlMs;
  }

  async lookup(identifier: string): Promise<Device | null> {
    const hit = this.cache.peek(identifier, { allowStale: true });
    if (!hit) return this.load(identifier);
    if (!this.isDue(identifier, hit)) return hit.device;
    if (!hit.device) return this.load(identifier, true);
    if (!this.refreshing.has(identifier)) {
      const token: Refresh = {};
      this.refreshing.set(identifier, token);
      this.dueQ.push([identifier, token]);
      this.scheduleBatch();
    }
    return hit.device;
  }

  private scheduleBatch(): void {
    if (this.batchScheduled || this.batchesInFlight >= this.maxRefreshes || !this.dueQ.length) return;
    this.batchScheduled = true;
    // the rest of this turn's due devices join the query
    setImmediate(() => {
      this.batchScheduled = false;
      this.refreshSome();
    });
  }

  /** One query for the due devices waiting; their entries are replaced with the answer (if not invalidated since). */
  private refreshSome(): void {
    if (this.batchesInFlight >= this.maxRefreshes) return;
    const ids = this.dueQ.length <= this.refreshBatch ? this.dueQ : this.dueQ.slice(0, this.refreshBatch);
    this.dueQ = ids === this.dueQ ? [] : this.dueQ.slice(ids.length);
    // each with the token it was queued with: invalidate() drops it, and a later refresh has another
    const asked = ids.filter(([id, token]) => this.refreshing.get(id) === token);
    if (!asked.length) return this.scheduleBatch();
    this.batchesInFlight++;
    void getDevicesByIdentifiers(
      this.db,
      asked.map(([id]) => id),
    )
      .then(
        (devices) => {
          const found = new Map(devices.map((d) => [d.identifier, d]));
          for (const [id, token] of asked) {
            // invalidated while the query ran (or since): its answer is already old
            if (this.refreshing.get(id) !== token) continue;
            this.refreshing.delete(id);
            const e = this.entryOf(found.get(id));
            this.cache.set(id, e, { ttl: this.ttlOf(e) });
          }
        },
        // the entries stay; a later frame finds them due again and tries again
        () => asked.forEach(([id, token]) => this.refreshing.get(id) === token && this.refreshing.delete(id)),
      )
      .finally(() => {
        this.batchesInFlight--;
        this.scheduleBatch();
      });
    // more waiting than one query takes: the next goes out after this turn, if there is room
    this.scheduleBatch();
  }

  private isDue(identifier: string, hit: Entry): boolean {
    if ((hit.device ? this.ttlMs : this.unknownTtlMs) <= 0) return true;
    return this.cache.getRemainingTTL(identifier) <= 0;
  }

  /** The query for this identifier, shared with every lookup waiting for it (forceRefresh: even if not due). */
  private async load(identifier: string, forceRefresh = false): Promise<Device | null> {
    const entry = await this.cache.fetch(identifier, { forceRefresh, allowStale: false });
    return entry?.device ?? null;
  }

  invalidate(identifier?: string): void {
    if (identifier === undefined) {
      this.cache.clear();
      this.refreshing.clear();
    } else {
      this.cache.delete(identifier);
      this.refreshing.delete(identifier);
    }
    this.onInvalidate?.(identifier);
  }

  /** told of every invalidation: caches of other device columns (DC-09 keys) forget the device too */
  onInvalidate?: (identifier?: string) => void;

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
    await noteUnknownDevice(this.db, identifier, protocol, remote);
    // Bounded: past maxUnknown rows the least recently seen go (checked every 100 new notes).
    if (++this.notedSinceTrim >= 100) {
      this.notedSinceTrim = 0;
      const n = await trimUnknownDevices(this.db, this.maxUnknown);
      if (n) this.onEvicted?.(n);
    }
  }
}
