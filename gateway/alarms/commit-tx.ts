/**
 * An alarm message's one PostgreSQL transaction: the de-duplication claim, clears, raises (or test alarms), and the
 * key's alarm ids. Pure of the bus and the event loop it runs on: the commit thread (commit-thread.ts) runs it on a
 * loop of its own, so its round trips never wait behind device traffic (issue 25); the gateway runs the same code
 * in-process when the thread is off (ALARM_COMMIT_THREAD=false).
 */
import { DEFAULT_ESCALATION_PLAN, alarmClassOf, planSteps, resolveEscalationPlan, type EscalationPlan } from '../../alarms/index.js';
import { ALARM_PRIORITY, type AlarmKind } from '../../protocols/message.js';
import { tx, type Db } from '../store/db.js';
import { claimForCommit, clearOpen, insertTestAlarm, noteRestore, raiseOrRepeat, recordMessageAlarms, type Alarm } from '../store/alarms.js';

export interface AlarmCandidate {
  kind: AlarmKind;
  detail?: Record<string, unknown>;
}

/** What the journal keeps: enough to commit the message again without the device. */
export interface JournalPayload {
  device: { id: number | null; identifier: string; elderId: number | null; protocol: string };
  msg: { protocol: string; deviceId: string; zone?: string; raw: string; deviceTime?: string; receivedAt: string; lat?: number; lon?: number; callbackNumber?: string };
  raise: AlarmCandidate[];
  clear: AlarmKind[];
  windowS: number | null;
}

/** What the transaction changed; `done` is false for a message already committed (a retransmission). */
export interface CommitOutcome {
  done: boolean;
  changes: { alarm: Alarm; action: 'cleared' | 'restore_received' | 'raised' | 'repeated' }[];
  tests: Alarm[];
}

/**
 * Kinds judged about a device as a whole (its silence, its missed tests, the elder's activity, vitals and
 * geofences): one alarm per device, whichever zone the message came from. Without this a Contact ID line from
 * zone 001 or 000 could never clear the device_silent or test_missed the rule timer raised for the account.
 * Other kinds are per sensor: `identifier#zone` when the message names a zone (Contact ID).
 */
const DEVICE_LEVEL: ReadonlySet<AlarmKind> = new Set<AlarmKind>(['device_silent', 'receiver_silent', 'test_missed', 'inactivity', 'vitals_abnormal', 'geofence_exit']);

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

/**
 * The payload with every NUL taken out of its text. PostgreSQL's text and jsonb cannot hold U+0000 (22P05), and a
 * device may put one in any text it sends (a SIA `^text^`, a SCAIP `<dte>`): the alarm must still commit. Found by
 * the fuzz bench (issue 26). Applied here, so lines journaled before this are committed the same way.
 */
export function withoutNul<T>(v: T): T {
  if (typeof v === 'string') return (v.includes('\u0000') ? v.replaceAll('\u0000', '\uFFFD') : v) as T;
  if (Array.isArray(v)) return v.map(withoutNul) as T;
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[withoutNul(k)] = withoutNul(x);
    return out as T;
  }
  return v;
}

export async function commitInDb(db: Db, key: string, payload: JournalPayload): Promise<CommitOutcome> {
  const p = withoutNul(payload);
  const zoned = p.msg.zone ? `${p.device.identifier}#${p.msg.zone}` : p.device.identifier;
  const sourceKeyOf = (kind: AlarmKind) => (DEVICE_LEVEL.has(kind) ? p.device.identifier : zoned);
  const receivedAt = new Date(p.msg.receivedAt);
  const deviceTime = p.msg.deviceTime ? new Date(p.msg.deviceTime) : undefined;
  // A device clock far off (unset RTC, old buffered frame) must not make a fresh alarm look a day old.
  const at = deviceTime && Math.abs(deviceTime.getTime() - receivedAt.getTime()) < 10 * 60_000 ? deviceTime : receivedAt;
  const changes: CommitOutcome['changes'] = [];
  const tests: Alarm[] = [];
  const done = await tx(db, async (c) => {
    // one round trip: the claim, the activation test and the elder's plan
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
        detail: { ...r.detail, protocol: p.msg.protocol, raw: p.msg.raw.slice(0, 500), ...(p.msg.callbackNumber ? { callbackNumber: p.msg.callbackNumber } : {}) },
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
  return done ? { done, changes, tests } : { done, changes: [], tests: [] };
}
