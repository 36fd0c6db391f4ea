/**
 * Commits alarms. Every alarm-bearing message goes: rules → journal line (its fsync shared by concurrent commits and
 * run beside the transaction) → one PostgreSQL transaction keyed for de-duplication (commit-tx.ts, on the commit
 * thread) → journal "done" → bus events. The device is acknowledged only after the COMMIT, so a retransmission never
 * creates a second alarm, and a crash or outage never loses one.
 */
import { createHash } from 'node:crypto';
import { isAlarmKind, type AlarmKind, type DeviceMessage } from '../../protocols/message.js';
import type { Bus } from '../bus.js';
import { FairGate, GateFull } from './fair-gate.js';
import type { Journal } from './journal.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { AlarmSink } from '../pipeline.js';
import type { RuleEngine } from './rule-engine.js';
import { ALARM_POOL, pgCode, type Db } from '../store/db.js';
import { addEvent, type Alarm } from '../store/alarms.js';
import { commitInDb, type AlarmCandidate, type CommitOutcome, type JournalPayload } from './commit-tx.js';
import type { Device } from '../store/devices.js';

/**
 * Same frame from the same device = same key. Frames without a device time repeat legitimately, so they get a window.
 * A protocol whose resends differ in their bytes names what makes them the same (`repeat`, with its own window).
 */
export function dedupKey(msg: Pick<DeviceMessage, 'protocol' | 'deviceId' | 'zone' | 'raw' | 'deviceTime' | 'repeat'>): { key: string; windowS: number | null } {
  const h = createHash('sha1').update(msg.repeat?.key ?? msg.raw).digest('hex');
  const windowS = msg.repeat ? msg.repeat.windowS : msg.deviceTime ? null : 120;
  return { key: `${msg.protocol}:${msg.deviceId}:${msg.zone ?? ''}:${h}`, windowS };
}

export type { AlarmCandidate } from './commit-tx.js';

/**
 * Where an alarm comes from: a registered device, or (id null) a source that is not a device row, such as an
 * alarm receiver's own supervision (`receiver:<name>`); alarms.device_id is nullable for that.
 */
export type AlarmSource = Pick<Device, 'identifier' | 'elderId' | 'protocol'> & { id: number | null };

/** Runs a message's transaction: on the commit thread (commit-thread.ts), or in-process (commit-tx.ts). */
export type Committer = (key: string, payload: JournalPayload) => Promise<CommitOutcome>;

export class AlarmService implements AlarmSink {
  /** fair turns for commits; as many slots as the alarm pool has connections */
  private readonly gate = new FairGate(ALARM_POOL);
  /** journal keys whose first commit is still running (replay leaves them alone) */
  private readonly inFlight = new Set<string>();
  /**
   * Care programmes (issue 22): the green key pressed in an elder's check-in window is a check-in (平安签到), not a
   * service request. The hook commits the check-in and answers true, or false when no window is open; it throws when
   * it cannot commit, so the device is not acknowledged and sends it again.
   */
  private checkinHook: ((elderId: number, deviceId: number | null, at: Date) => Promise<boolean>) | undefined;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly journal: Journal<JournalPayload>,
    private readonly rules: RuleEngine | undefined,
    private readonly log: Logger,
    committer?: Committer,
  ) {
    this.committer = committer ?? ((key, p) => commitInDb(db, key, p));
  }

  private readonly committer: Committer;

  async handle(msg: DeviceMessage, device: Device): Promise<void> {
    const r = this.rules ? await this.rules.evaluate(device, msg) : undefined;
    await this.outcome(msg, device, r);
  }

  /**
   * handle, done at once when it can be: undefined when the message raised and cleared nothing and its rules
   * needed no database (most reports); otherwise the promise of the rest (the commit, or evaluate).
   */
  handleNow(msg: DeviceMessage, device: Device): Promise<void> | undefined {
    if (!this.rules) return this.outcome(msg, device, undefined);
    const r = this.rules.evaluateNow(device, msg);
    return r ? this.outcome(msg, device, r) : this.handle(msg, device);
  }

  private outcome(msg: DeviceMessage, device: Device, r: { raise: AlarmCandidate[]; clear: string[] } | undefined): Promise<void> | undefined {
    const raise = r ? r.raise.filter((x) => isAlarmKind(x.kind)) : (msg.alarms ?? []).filter(isAlarmKind).map((kind) => ({ kind }));
    const clear = r ? r.clear.filter(isAlarmKind) : (msg.restores ?? []).filter(isAlarmKind);
    if (!raise.length && !clear.length) return undefined;
    return this.commit(msg, device, raise, clear).then(() => undefined);
  }

  /** Sets the check-in hook (the care part). */
  onCheckin(hook: (elderId: number, deviceId: number | null, at: Date) => Promise<boolean>): void {
    this.checkinHook = hook;
  }

  /** Journal line first, then the transaction. Resolves once committed; throws if not: the caller must not acknowledge. */
  async commit(msg: DeviceMessage, device: AlarmSource, raise: AlarmCandidate[], clear: AlarmKind[]): Promise<Alarm[]> {
    // a device's green key (any transport: MQTT, a receiver, the one-key line), never one raised by hand
    if (this.checkinHook && device.elderId !== null && raise.some((x) => x.kind === 'one_key_service' && x.detail?.manual !== true)) {
      if (await this.checkinHook(device.elderId, device.id, msg.receivedAt)) raise = raise.filter((x) => x.kind !== 'one_key_service');
      if (!raise.length && !clear.length) return [];
    }
    const { key, windowS } = dedupKey(msg);
    const payload: JournalPayload = {
      device: { id: device.id, identifier: device.identifier, elderId: device.elderId, protocol: device.protocol },
      msg: {
        protocol: msg.protocol, deviceId: msg.deviceId, zone: msg.zone, raw: msg.raw,
        deviceTime: msg.deviceTime?.toISOString(), receivedAt: msg.receivedAt.toISOString(),
        ...(msg.position?.valid ? { lat: msg.position.lat, lon: msg.position.lon } : {}),
        ...(msg.callbackNumber ? { callbackNumber: msg.callbackNumber } : {}),
      },
      raise,
      clear,
      windowS,
    };
    // The line is written (pending) at once, before the transaction starts, and its fsync neither waits for the
    // transaction nor holds the acknowledgement (issue 25: the fsync shares the disk with InfluxDB and PostgreSQL and
    // took up to 118 ms under 10,000 reports/s). The device is acknowledged once the alarm is committed in
    // PostgreSQL, which is durable by itself (synchronous_commit on). The journal is for the commit that fails: that
    // alarm is not acknowledged (the device sends it again) and waits in the journal for the replay; the
    // de-duplication key makes the replay or the retransmission land once.
    const durable = this.journal.add(key, payload);
    durable.catch((e: unknown) => this.log.error({ err: e }, 'alarm journal fsync failed'));
    this.metrics.journalDepth.set(this.journal.depth);
    this.inFlight.add(key);
    try {
      // Registered devices take turns ahead of unregistered sources; one commit in flight per source (fair-gate.ts).
      const source = device.id !== null ? `d:${device.id}` : `u:${device.identifier}`;
      const out = await this.gate.run(source, device.id !== null, () => this.commitPayload(key, payload));
      this.journal.done(key);
      return out;
    } catch (e) {
      // Refused before it reached the database: not acknowledged, so the device sends it again; nothing to replay.
      if (e instanceof GateFull) this.journal.done(key);
      throw e;
    } finally {
      this.inFlight.delete(key);
      this.metrics.journalDepth.set(this.journal.depth);
    }
  }

  /** Commits pending journal entries (after a crash, or when PostgreSQL is back). Returns how many landed. */
  async replay(): Promise<number> {
    let n = 0;
    for (const e of this.journal.entries()) {
      if (this.inFlight.has(e.key)) continue; // its own commit is still running
      try {
        await this.commitPayload(e.key, e.payload);
      } catch (err) {
        // PostgreSQL refuses the entry's data (class 22 or 23), not its own absence: set it aside, go on with the rest
        const code = pgCode(err) ?? '';
        if (!/^2[23]/.test(code)) throw err;
        this.journal.reject(e.key, `postgres ${code}`);
        this.metrics.journalRejected.inc();
        this.log.error({ code, protocol: e.payload.msg.protocol, device: e.payload.device.id }, 'alarm journal entry refused by PostgreSQL for its data: set aside in rejected.jsonl beside the journal');
        continue;
      }
      this.journal.done(e.key);
      n++;
    }
    this.metrics.journalDepth.set(this.journal.depth);
    if (n) this.log.info({ replayed: n }, 'alarm journal replayed');
    return n;
  }

  get journalDepth(): number {
    return this.journal.depth;
  }

  private async commitPayload(key: string, p: JournalPayload): Promise<Alarm[]> {
    const { done, changes, tests } = await this.committer(key, p);
    if (!done) {
      this.metrics.duplicates.inc({ protocol: p.msg.protocol });
      return [];
    }
    for (const ch of changes) {
      if (ch.action === 'raised') this.metrics.alarmsRaised.inc({ kind: ch.alarm.kind });
      if (ch.action === 'repeated') this.metrics.alarmsRepeated.inc({ kind: ch.alarm.kind });
      this.bus.emit('alarm.changed', { alarm: ch.alarm, action: ch.action, actor: 'device' });
    }
    const raised = changes.filter((c) => c.action === 'raised').map((c) => c.alarm);
    if (raised.length) this.bus.emit('alarm.raised', { alarms: raised });
    // Test alarms go to neither alarm.changed nor alarm.raised: no screen-pop, escalation or agents' WebSocket.
    for (const alarm of tests) this.bus.emit('device.test_alarm', { alarm });
    return [...changes.map((c) => c.alarm), ...tests];
  }

  /** Records a note on an open alarm from the system (e.g. a restore of an operator alarm). */
  async systemNote(alarmId: number, action: string, detail: Record<string, unknown>): Promise<void> {
    await addEvent(this.db, alarmId, 'system', action, null, null, detail);
  }
}
