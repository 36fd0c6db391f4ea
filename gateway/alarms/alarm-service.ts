/**
 * Commits alarms. Every alarm-bearing message goes: rules → journal (fsync, shared by concurrent commits) → one PostgreSQL transaction
 * keyed for de-duplication → journal "done" → bus events. The device is acknowledged only after this resolves,
 * so a retransmission never creates a second alarm, and a crash or outage never loses one.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_ESCALATION_PLAN, alarmClassOf, planSteps, resolveEscalationPlan, type EscalationPlan } from '../../alarms/index.js';
import { ALARM_PRIORITY, isAlarmKind, type AlarmKind, type DeviceMessage } from '../../protocols/message.js';
import type { Bus } from '../bus.js';
import { FairGate, GateFull } from './fair-gate.js';
import type { Journal } from './journal.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { AlarmSink } from '../pipeline.js';
import type { RuleEngine } from './rule-engine.js';
import { tx, type Db } from '../store/db.js';
import { addEvent, claimForCommit, clearOpen, insertTestAlarm, noteRestore, raiseOrRepeat, recordMessageAlarms, type Alarm } from '../store/alarms.js';
import type { Device } from '../store/devices.js';

/** Same frame from the same device = same key. Frames without a device time repeat legitimately, so they get a window. */
export function dedupKey(msg: Pick<DeviceMessage, 'protocol' | 'deviceId' | 'zone' | 'raw' | 'deviceTime'>): { key: string; windowS: number | null } {
  const h = createHash('sha1').update(msg.raw).digest('hex');
  return { key: `${msg.protocol}:${msg.deviceId}:${msg.zone ?? ''}:${h}`, windowS: msg.deviceTime ? null : 120 };
}

export interface AlarmCandidate {
  kind: AlarmKind;
  detail?: Record<string, unknown>;
}

/**
 * Where an alarm comes from: a registered device, or (id null) a source that is not a device row, such as an
 * alarm receiver's own supervision (`receiver:<name>`); alarms.device_id is nullable for that.
 */
export type AlarmSource = Pick<Device, 'identifier' | 'elderId' | 'protocol'> & { id: number | null };

/**
 * Kinds judged about a device as a whole (its silence, its missed tests, the elder's activity, vitals and
 * geofences): one alarm per device, whichever zone the message came from. Without this a Contact ID line from
 * zone 001 or 000 could never clear the device_silent or test_missed the rule timer raised for the account.
 * Other kinds are per sensor: `identifier#zone` when the message names a zone (Contact ID).
 */
const DEVICE_LEVEL: ReadonlySet<AlarmKind> = new Set<AlarmKind>(['device_silent', 'receiver_silent', 'test_missed', 'inactivity', 'vitals_abnormal', 'geofence_exit']);

/** What the journal keeps: enough to commit the message again without the device. */
interface JournalPayload {
  device: AlarmSource;
  msg: { protocol: string; deviceId: string; zone?: string; raw: string; deviceTime?: string; receivedAt: string; lat?: number; lon?: number };
  raise: AlarmCandidate[];
  clear: AlarmKind[];
  windowS: number | null;
}

/** The elder's own response plan (elders.response_plan, read with the claim), or the default. */
function planOf(elderId: number | null, responsePlan: unknown): EscalationPlan {
  if (!elderId || !responsePlan) return DEFAULT_ESCALATION_PLAN;
  const r = resolveEscalationPlan(DEFAULT_ESCALATION_PLAN, responsePlan);
  return r.ok ? r.plan : DEFAULT_ESCALATION_PLAN;
}

/** Only emergencies reach the automatic callback; lower priorities are presented, not phoned (P1–P2 keep the whole plan). */
function planFor(priority: number, plan: EscalationPlan): EscalationPlan {
  return priority <= 2 ? plan : { ...plan, steps: plan.steps.filter((s) => s.action !== 'callback_and_cascade') };
}

export class AlarmService implements AlarmSink {
  /** fair turns for commits; as many slots as the alarm pool has connections (store part: 6) */
  private readonly gate = new FairGate(6);
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
  ) {}

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

  /** Journal first (fsync), then the transaction. Throws if not committed: the caller must not acknowledge. */
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
      },
      raise,
      clear,
      windowS,
    };
    // the line is written (pending) at once; the commit starts only once it is on disk
    const durable = this.journal.add(key, payload);
    this.metrics.journalDepth.set(this.journal.depth);
    this.inFlight.add(key);
    try {
      await durable;
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
      await this.commitPayload(e.key, e.payload);
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
    const zoned = p.msg.zone ? `${p.device.identifier}#${p.msg.zone}` : p.device.identifier;
    const sourceKeyOf = (kind: AlarmKind) => (DEVICE_LEVEL.has(kind) ? p.device.identifier : zoned);
    const receivedAt = new Date(p.msg.receivedAt);
    const deviceTime = p.msg.deviceTime ? new Date(p.msg.deviceTime) : undefined;
    // A device clock far off (unset RTC, old buffered frame) must not make a fresh alarm look a day old.
    const at = deviceTime && Math.abs(deviceTime.getTime() - receivedAt.getTime()) < 10 * 60_000 ? deviceTime : receivedAt;
    const changes: { alarm: Alarm; action: string }[] = [];
    const tests: Alarm[] = [];
    const done = await tx(this.db, async (c) => {
      // one round trip: the claim, the activation test and the elder's plan (each is an epoll turn of waiting
      // when the loop is busy with device traffic)
      const claim = await claimForCommit(c, key, p.windowS, { deviceId: p.device.id, identifier: p.device.identifier, elderId: p.device.elderId });
      if (claim.seen) return false;
      const ids: number[] = [];
      // In its activation test (设备开通) a device's alarms are test alarms, closed at once (store/alarms.ts
      // insertTestAlarm); its restores clear nothing, so a real alarm still open stays with its agent.
      const testing = p.device.id !== null && claim.testing;
      // Clear before raise: one message may end a condition and start it again.
      for (const k of testing ? [] : p.clear) {
        const cleared = await clearOpen(c, sourceKeyOf(k), k);
        if (cleared) changes.push({ alarm: cleared, action: 'cleared' });
        else {
          const noted = await noteRestore(c, sourceKeyOf(k), k);
          if (noted) changes.push({ alarm: noted, action: 'restore_received' });
        }
      }
      for (const r of p.raise) {
        const priority = ALARM_PRIORITY[r.kind];
        const input = {
          kind: r.kind, priority, alarmClass: alarmClassOf(r.kind), deviceId: p.device.id, elderId: p.device.elderId, sourceKey: sourceKeyOf(r.kind),
          zone: p.msg.zone ?? null, at, lat: p.msg.lat ?? null, lon: p.msg.lon ?? null,
          detail: { ...r.detail, protocol: p.msg.protocol, raw: p.msg.raw.slice(0, 500) },
        };
        if (testing) {
          const t = await insertTestAlarm(c, input);
          ids.push(t.id);
          tests.push(t);
          continue;
        }
        // an alarm raised by hand (POST /api/alarms) is the agent's on its timeline, not a device's
        const by = r.detail?.manual === true && typeof r.detail.by === 'number' ? `user:${r.detail.by}` : 'device';
        const plan = planFor(priority, planOf(p.device.elderId, claim.responsePlan));
        const start = { plan: plan as unknown as Record<string, unknown>, escStartedAt: receivedAt, nextStepAt: planSteps(plan, receivedAt)[0]?.dueAt ?? null };
        const { alarm, created } = await raiseOrRepeat(c, input, by, start);
        ids.push(alarm.id);
        changes.push({ alarm, action: created ? 'raised' : 'repeated' });
      }
      // a key claimed just now holds no ids yet: nothing to write when the message raised nothing
      if (ids.length || claim.seen !== null) await recordMessageAlarms(c, key, ids);
      return true;
    });
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
