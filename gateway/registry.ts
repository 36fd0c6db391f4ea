import type { Db } from './store/db.js';
import { getDeviceByIdentifier, noteUnknownDevice, type Device } from './store/devices.js';

/**
 * Device registry with a short cache: the hot path looks devices up per frame.
 * Unknown devices are remembered briefly too, so a flood from one does not hammer the database.
 */
export class Registry {
  private cache = new Map<string, { device: Device | null; until: number }>();
  private lastLogged = new Map<string, number>();
  private lastNoted = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 30_000,
    private readonly unknownTtlMs = 3_000,
  ) {}

  async lookup(identifier: string): Promise<Device | null> {
    const hit = this.cache.get(identifier);
    const now = Date.now();
    if (hit && hit.until > now) return hit.device;
    const device = (await getDeviceByIdentifier(this.db, identifier)) ?? null;
    const usable = device && device.state !== 'disabled' ? device : null;
    this.cache.set(identifier, { device: usable, until: now + (usable ? this.ttlMs : this.unknownTtlMs) });
    return usable;
  }

  invalidate(identifier?: string): void {
    if (identifier === undefined) this.cache.clear();
    else this.cache.delete(identifier);
  }

  /** True when this unknown device should be logged now (once per interval per device). */
  shouldLogUnknown(identifier: string, intervalMs: number): boolean {
    const now = Date.now();
    const last = this.lastLogged.get(identifier);
    if (last !== undefined && now - last < intervalMs) return false;
    this.lastLogged.set(identifier, now);
    if (this.lastLogged.size > 100_000) this.lastLogged.clear();
    return true;
  }

  /** Lists it as "awaiting registration"; the row is refreshed at most every 10 s per device. */
  async noteUnknown(identifier: string, protocol: string, remote?: string): Promise<void> {
    const now = Date.now();
    const last = this.lastNoted.get(identifier);
    if (last !== undefined && now - last < 10_000) return;
    this.lastNoted.set(identifier, now);
    if (this.lastNoted.size > 100_000) this.lastNoted.clear();
    await noteUnknownDevice(this.db, identifier, protocol, remote);
  }
}
