/**
 * Runs the pure rules of alarms/ for every device: keeps each device's rule state (persisted every few
 * seconds, so durations and silences survive a restart), and resolves each elder's rule overrides.
 */
import { DEFAULT_RULES, cloneRuleState, createRuleState, evaluateMessage, evaluateTick, resolveRules, type Raise, type RuleSet, type RuleState } from '../../alarms/index.js';
import { protocolModule } from '../../protocols/index.js';
import type { AlarmKind, DeviceMessage } from '../../protocols/message.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { Device } from '../store/devices.js';
import { devicesForRules, elderRules, loadRuleStates, ruleStatesOf, ruleStatesSince, saveRuleStates, type SavedRuleState } from '../store/rule-state.js';
import { mergeRuleState } from './rule-merge.js';

/**
 * Heartbeat interval of a device: its own `meta.supervisionS` where its registration sets one (a DC-09 account's
 * NULL poll interval, which each panel's installer chooses), else its protocol's (the "model's interval", the
 * module's silentIntervalS); 600 s for a protocol not listed. 0 = never silent.
 */
function silentIntervalS(protocol: string, meta?: Record<string, unknown>): number {
  const own = meta?.supervisionS;
  if (typeof own === 'number' && Number.isInteger(own) && own >= 0) return own;
  return protocolModule(protocol)?.silentIntervalS ?? 600;
}

export interface RuleOutcome {
  raise: Raise[];
  clear: AlarmKind[];
}

interface Tracked {
  identifier: string;
  protocol: string;
  /** its silence interval in seconds (silentIntervalS) */
  silentS: number;
  elderId: number | null;
  state: RuleState;
  /** a copy of the state as last saved (the live state is evolved in place) */
  saved?: RuleState;
  /** when the row this node last wrote or read for the device was written (`updated_at`, epoch ms) */
  rowAt?: number;
}

/**
 * Time fields are saved once they moved this far past the saved copy. Silence, inactivity and test periods are
 * judged in minutes to hours, so a crash loses at most a minute of them; saving on every message cost one
 * JSONB upsert per device every 5 s (10,000 rows a pass at 10,000 messages/s in the bench).
 */
const TIME_SLACK_MS = 60_000;
/** rule states per upsert statement (persist) */
const PERSIST_CHUNK = 500;

/**
 * Cluster mode (issue 24): a node that evaluated one of the device's messages this recently is its authority; the
 * leader's merge keeps its own copy of such a device as the base. Longer than a pass (5 s), shorter than any silence.
 */
const AUTHORITY_MS = 30_000;
/** The merge re-reads rows written this long before its last one: an upsert commits a little after its now(). */
const MERGE_OVERLAP_MS = 10_000;

const sameTracks = <T extends object>(a: Partial<Record<string, T>>, b: Partial<Record<string, T>>, keys: (keyof T)[]): boolean => {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && keys.every((f) => a[k]![f] === b[k]![f]));
};
const moved = (saved: number | undefined, now: number | undefined): boolean => now !== undefined && (saved === undefined || now - saved >= TIME_SLACK_MS);

/** Whether `s` differs from the saved copy in what a restart must not lose. */
export function worthSaving(saved: RuleState | undefined, s: RuleState): boolean {
  if (!saved) return true;
  if (saved.active.length !== s.active.length || saved.active.some((k, i) => k !== s.active[i])) return true;
  if (saved.createdAt !== s.createdAt || saved.lastTestAt !== s.lastTestAt || saved.testMissedReported !== s.testMissedReported) return true;
  // a fence's distance changes with every fix; only its side and whether it was reported matter after a restart
  if (!sameTracks(saved.vitals, s.vitals, ['since', 'reported']) || !sameTracks(saved.fences, s.fences, ['outside', 'reported'])) return true;
  return moved(saved.lastSeenAt, s.lastSeenAt) || moved(saved.lastActivityAt, s.lastActivityAt);
}

export class RuleEngine {
  private devices = new Map<number, Tracked>();
  private rules = new Map<number, RuleSet>();
  private dirty = new Set<number>();
  private byInterval = new WeakMap<RuleSet, Map<number, RuleSet>>();
  private readonly defaults: RuleSet;
  private rulesWarnedAt = 0;
  /**
   * Cluster mode (issue 24, REDIS_URL set): the devices' messages are evaluated on several nodes and the time-based
   * rules on the leader only, so states saved by the other nodes are merged in: the leader's before each tick, one
   * device's when this node starts handling it. Off (one node): exactly the single-node behaviour.
   */
  shared = false;
  /** cluster mode: when this node last evaluated a message of each device it handles (Date.now()) */
  private handledAt = new Map<number, number>();
  /** cluster mode: one reload per device at a time (a burst's second message waits for the first's) */
  private reloading = new Map<number, Promise<RuleOutcome['clear']>>();
  /** devices whose saved rows the next batched read fetches (savedRow) */
  private wanted: { id: number; resolve(row: SavedRuleState | undefined): void; reject(e: unknown): void }[] = [];
  private reloadWarnedAt = 0;
  /** cluster mode: the latest `updated_at` the leader's merge has read (epoch ms, the database's clock) */
  private mergedTo = 0;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly timezone = 'Asia/Shanghai',
  ) {
    this.defaults = { ...DEFAULT_RULES, timezone: this.timezone } as RuleSet;
  }

  /** Loads every registered device with its saved state (or a fresh one counting from its last message). */
  async load(now = new Date()): Promise<void> {
    const saved = await loadRuleStates(this.db);
    for (const row of saved.values()) this.mergedTo = Math.max(this.mergedTo, row.at);
    for (const d of await devicesForRules(this.db)) {
      const row = saved.get(d.id);
      const st = (row?.state as RuleState | undefined) ?? this.fresh(d.lastSeen ?? d.createdAt ?? now, d.lastSeen);
      this.devices.set(d.id, { identifier: d.identifier, protocol: d.protocol, silentS: silentIntervalS(d.protocol, d.meta), elderId: d.elderId, state: st, saved: row ? cloneRuleState(st) : undefined, rowAt: row?.at });
    }
  }

  private fresh(since: Date, lastSeen: Date | null): RuleState {
    const s = createRuleState(since);
    if (lastSeen) s.lastSeenAt = lastSeen.getTime();
    return s;
  }

  /** The rules for the elder's device when they need no database: the defaults, or the elder's, loaded already. */
  private cachedRules(elderId: number | null, silentS: number): RuleSet | undefined {
    const base = elderId ? this.rules.get(elderId) : this.defaults;
    return base && this.withInterval(base, silentS);
  }

  private async rulesFor(elderId: number | null, silentS: number): Promise<RuleSet> {
    const cached = this.cachedRules(elderId, silentS);
    if (cached || !elderId) return cached ?? this.withInterval(this.defaults, silentS);
    let row: Awaited<ReturnType<typeof elderRules>>;
    try {
      row = await elderRules(this.db, elderId);
    } catch (e) {
      // The database is down and this elder's rules were never loaded (e.g. its earlier reports were shed):
      // judge by the defaults rather than fail, so the alarm still reaches the journal. Not cached: the
      // elder's own rules are read again once the database answers.
      if (Date.now() - this.rulesWarnedAt > 60_000) {
        this.rulesWarnedAt = Date.now(); // once a minute, not once per message of an outage
        this.log.warn({ err: e, elderId }, 'elder rules unavailable; judging by the default rules');
      }
      return this.withInterval(this.defaults, silentS);
    }
    let base = this.defaults;
    const r = resolveRules(base, row?.rules ?? {});
    if (r.ok) base = r.rules;
    else this.log.warn({ elderId, errors: r.errors }, 'stored rule override is invalid; using defaults');
    this.rules.set(elderId, base);
    return this.withInterval(base, silentS);
  }

  /** One copy per rule set and silence interval, not one per message. */
  private withInterval(base: RuleSet, intervalS: number): RuleSet {
    let byInterval = this.byInterval.get(base);
    if (!byInterval) this.byInterval.set(base, (byInterval = new Map()));
    let r = byInterval.get(intervalS);
    if (!r) {
      // Devices that never report on a schedule (landline callers) are never "silent".
      r = { ...base, silent: { ...base.silent, intervalS: intervalS === 0 ? 10 * 365 * 86400 : intervalS } };
      byInterval.set(intervalS, r);
    }
    return r;
  }

  invalidateElder(elderId?: number): void {
    if (elderId === undefined) this.rules.clear();
    else this.rules.delete(elderId);
  }

  private track(device: Device, now: Date): Tracked {
    let t = this.devices.get(device.id);
    if (!t) {
      t = { identifier: device.identifier, protocol: device.protocol, silentS: silentIntervalS(device.protocol, device.meta), elderId: device.elderId, state: createRuleState(now) };
      this.devices.set(device.id, t);
    }
    t.elderId = device.elderId;
    t.silentS = silentIntervalS(device.protocol, device.meta);
    return t;
  }

  async evaluate(device: Device, msg: DeviceMessage): Promise<RuleOutcome> {
    const merged = this.shared ? await this.takeOver(device) : [];
    const rules = await this.rulesFor(device.elderId, silentIntervalS(device.protocol, device.meta));
    return this.apply(device, msg, rules, merged);
  }

  /**
   * The same as evaluate, without waiting, when nothing needs the database: the elder's rules are loaded and (in
   * cluster mode) the device's saved state was merged already. Undefined otherwise: then evaluate. The pipeline's
   * routine lane runs reports this way, so a slice of them is timed as the CPU it really takes.
   */
  evaluateNow(device: Device, msg: DeviceMessage): RuleOutcome | undefined {
    if (this.shared && (this.reloading.has(device.id) || !this.handledAt.has(device.id))) return undefined;
    const rules = this.cachedRules(device.elderId, silentIntervalS(device.protocol, device.meta));
    if (!rules) return undefined;
    if (this.shared) this.handledAt.set(device.id, Date.now());
    return this.apply(device, msg, rules, []);
  }

  private apply(device: Device, msg: DeviceMessage, rules: RuleSet, merged: AlarmKind[]): RuleOutcome {
    const t = this.track(device, msg.receivedAt);
    const r = evaluateMessage(rules, t.state, msg, msg.receivedAt, { inPlace: true });
    t.state = r.state;
    if (worthSaving(t.saved, r.state)) this.dirty.add(device.id);
    if (merged.length) for (const k of merged) if (!r.clear.includes(k)) r.clear.unshift(k);
    return { raise: r.raise, clear: r.clear };
  }

  /**
   * Cluster mode: the device connected to this node (bus `device.online`); it may come from another node, so its
   * saved state is read again before its next message is evaluated.
   */
  arrived(deviceId: number): void {
    if (this.shared) this.handledAt.delete(deviceId);
  }

  /**
   * Cluster mode, before a message: a device this node has not handled since it started (or since it connected
   * again) may have been handled by another node, and the leader may have raised for it (device_silent): its saved
   * row (one, by primary key) is merged in first, so this message clears what the leader raised. Answers the
   * kinds the merge found over.
   */
  private async takeOver(device: Device): Promise<RuleOutcome['clear']> {
    const pending = this.reloading.get(device.id);
    if (pending) {
      // the first message of the burst reported what the merge found over
      await pending;
      return [];
    }
    if (this.handledAt.has(device.id)) {
      this.handledAt.set(device.id, Date.now());
      return [];
    }
    const p = this.reload(device)
      .catch((e) => {
        // once a minute, not once per device of a storm while the database is slow
        if (Date.now() - this.reloadWarnedAt > 60_000) {
          this.reloadWarnedAt = Date.now();
          this.log.warn({ err: e }, 'saved rule states not read; judging by this node\'s copies');
        }
        return [];
      })
      .finally(() => {
        this.reloading.delete(device.id);
        this.handledAt.set(device.id, Date.now());
      });
    this.reloading.set(device.id, p);
    return p;
  }

  private async reload(device: Device): Promise<RuleOutcome['clear']> {
    const row = await this.savedRow(device.id);
    if (!row) return [];
    // unsaved changes: this node evaluated the device moments ago (it reconnected here), its copy is the latest
    return this.mergeRow(device.id, row, this.dirty.has(device.id), device);
  }

  /**
   * A device's saved row, read together with every other device whose first message arrives in the same turn of the
   * event loop: a reconnect storm of 6,000 devices is a few queries, not 6,000 (the bench's cluster scenario
   * exhausted the pool with one query each).
   */
  private savedRow(id: number): Promise<SavedRuleState | undefined> {
    return new Promise((resolve, reject) => {
      this.wanted.push({ id, resolve, reject });
      if (this.wanted.length > 1) return;
      setImmediate(() => {
        const batch = this.wanted.splice(0);
        ruleStatesOf(this.db, [...new Set(batch.map((w) => w.id))]).then(
          (rows) => batch.forEach((w) => w.resolve(rows.get(w.id))),
          (e: unknown) => batch.forEach((w) => w.reject(e)),
        );
      });
    });
  }

  /** Merges a saved row into this node's copy; answers the kinds found over (to clear). */
  private mergeRow(id: number, row: SavedRuleState, authority: boolean, d: { identifier: string; protocol: string; elderId: number | null }): RuleOutcome['clear'] {
    const t = this.devices.get(id);
    if (t?.rowAt !== undefined && row.at <= t.rowAt) return []; // this node wrote it, or merged it already
    const saved = row.state as RuleState;
    const m = mergeRuleState(t?.state, saved, authority);
    const next: Tracked = t ?? { identifier: d.identifier, protocol: d.protocol, silentS: silentIntervalS(d.protocol), elderId: d.elderId, state: m.state };
    next.state = m.state;
    next.saved = cloneRuleState(saved);
    next.rowAt = row.at;
    if (!t) this.devices.set(id, next);
    if (worthSaving(next.saved, next.state)) this.dirty.add(id);
    return m.clear;
  }

  /**
   * Cluster mode, the leader before a tick: merges the states the other nodes saved since the last merge, so it
   * judges silence and inactivity by what they saw, and clears what it raised that their states show over.
   */
  private async mergeSaved(): Promise<Map<number, RuleOutcome['clear']>> {
    const cleared = new Map<number, RuleOutcome['clear']>();
    const rows = await ruleStatesSince(this.db, this.mergedTo - MERGE_OVERLAP_MS);
    const now = Date.now();
    for (const row of rows) {
      this.mergedTo = Math.max(this.mergedTo, row.at);
      const authority = now - (this.handledAt.get(row.deviceId) ?? -Infinity) < AUTHORITY_MS;
      const clear = this.mergeRow(row.deviceId, row, authority, row);
      if (clear.length) cleared.set(row.deviceId, clear);
    }
    return cleared;
  }

  /**
   * Time-based rules for every device: silent, inactivity, missed periodic test. It walks every registered
   * device (bench: 30 ms per 10,000 on this machine, 0.5 s per 120,000), so it lets the event loop run every
   * `yieldEvery` devices: frames and alarm commits are not held up behind the whole walk.
   */
  async tick(now: Date, yieldEvery = 1000): Promise<{ deviceId: number; identifier: string; protocol: string; elderId: number | null; outcome: RuleOutcome }[]> {
    const out = [];
    let n = 0;
    const merged = this.shared ? await this.mergeSaved() : undefined;
    for (const [id, t] of this.devices) {
      if (++n % yieldEvery === 0) await new Promise<void>((r) => setImmediate(r));
      const rules = await this.rulesFor(t.elderId, t.silentS);
      const r = evaluateTick(rules, t.state, now, { inPlace: true });
      const over = merged?.get(id);
      if (over) for (const k of over) if (!r.clear.includes(k)) r.clear.unshift(k);
      // Saved only when the tick raised or cleared: saving every device each pass upserted 10,000 rows every
      // 5 s in the bench (the steady scenario's slowest alarm commits all fell on those passes). A tick's other
      // edits (reconcile's clean-up after a rule change) are made again by the next tick.
      if (r.raise.length || r.clear.length) this.dirty.add(id);
      t.state = r.state;
      if (r.raise.length || r.clear.length) out.push({ deviceId: id, identifier: t.identifier, protocol: t.protocol, elderId: t.elderId, outcome: { raise: r.raise, clear: r.clear } });
    }
    return out;
  }

  forget(deviceId: number): void {
    this.devices.delete(deviceId);
    this.handledAt.delete(deviceId);
  }

  /** Saves the states worth saving; `all` (at shutdown) saves every state that moved since its last save. */
  async persist(all = false): Promise<void> {
    if (all) {
      // once, at shutdown: anything that differs from its saved copy
      for (const [id, t] of this.devices) if (!t.saved || JSON.stringify(t.saved) !== JSON.stringify(t.state)) this.dirty.add(id);
    }
    if (!this.dirty.size) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    // In statements of PERSIST_CHUNK states, one after the other: a fleet that logged in together crosses the
    // save slack together, and copying, serialising and sending 10,000 states at once held the event loop for most
    // of a second (issue 25: the alarms read meanwhile waited that long).
    for (let i = 0; i < ids.length; i += PERSIST_CHUNK) {
      const chunk = ids.slice(i, i + PERSIST_CHUNK);
      try {
        await this.persistChunk(chunk);
      } catch (e) {
        for (const id of ids.slice(i)) this.dirty.add(id);
        throw e;
      }
    }
  }

  private async persistChunk(ids: number[]): Promise<void> {
    // copies taken now: the live states keep moving while the upsert is under way
    const rows: [number, RuleState][] = [];
    for (const id of ids) {
      const st = this.devices.get(id)?.state;
      if (st) rows.push([id, cloneRuleState(st)]);
    }
    const written = await saveRuleStates(this.db, rows, this.shared);
    for (const [id, st] of rows) {
      const t = this.devices.get(id);
      if (t) {
        t.saved = st;
        const at = written.get(id);
        if (at !== undefined) t.rowAt = Math.max(t.rowAt ?? at, at);
      }
    }
  }

}
