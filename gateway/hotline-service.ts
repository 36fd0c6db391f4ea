/**
 * The hotline's ports (issue 19, telephony/hotline-ports.ts) against PostgreSQL, the alarm engine and agent
 * states: who is calling (elder, contact of an elder, unknown; priority with an open P1/P2 alarm), the IVR's
 * emergency digit raises an alarm, abandoned and voicemail callers go on the call-back list, an overflow
 * alerts the supervisors, and the ACD picks the longest-idle ready agent, who goes 振铃 (ringing) and, not
 * answering, 置忙 (not_ready) with the reason, audited. No personal data in the log: ids only.
 */
import type { AcdPort, HotlineCallInfo, HotlinePort, Telephony } from '../telephony/index.js';
import type { AgentStates } from './alarms/agent-states.js';
import type { AlarmService } from './alarms/alarm-service.js';
import type { Bus } from './bus.js';
import type { Logger } from './log.js';
import type { Registry } from './registry.js';
import { anyAgentSignedIn, endStaleRinging, longestIdleForCall } from './store/agents.js';
import { audit } from './store/audit.js';
import { addCallbackRequest, type NewCallbackRequest } from './store/callbacks.js';
import { linkCallToAlarm } from './store/calls.js';
import { matchCallerNumber, openAlarmsOfElder, type CallerRow } from './store/callers.js';
import type { Db } from './store/db.js';
import { getElder } from './store/elders.js';
import { wire } from './ws-messages.js';

export interface HotlineDeps {
  db: Db;
  bus: Bus;
  alarms: AlarmService;
  registry: Registry;
  agents: AgentStates;
  log: Logger;
}

const DEFAULT_LANGUAGE = 'zh-CN';
const num = (s?: string) => (s === undefined || s === '' ? null : Number(s));

/** elders.dialect is free text (上海话, 粤语…); only an English speaker gets other prompts today. */
function languageOf(dialect: string): string {
  return /^(en|english|英语)\b/i.test(dialect.trim()) ? 'en' : DEFAULT_LANGUAGE;
}

/** The caller's own file or a contact's elder; else a phone-protocol device registered under the number. */
async function findCaller(d: HotlineDeps, number: string): Promise<CallerRow | undefined> {
  const row = await matchCallerNumber(d.db, number);
  if (row) return row;
  const device = await d.registry.lookup(number);
  const elder = device?.elderId ? await getElder(d.db, device.elderId) : undefined;
  return elder ? { elder: { id: elder.id, name: elder.name, dialect: elder.dialect ?? '', deviceId: device!.id } } : undefined;
}

function callbackOf(e: HotlineCallInfo, reason: NewCallbackRequest['reason'], at: Date, extra: Partial<NewCallbackRequest>): NewCallbackRequest {
  return {
    reason, entryId: e.entryId, callerNumber: e.callerNumber, did: e.did, priority: e.priority, waitMs: 0, createdAt: at,
    elderId: num(e.match?.elder?.elderId), contactId: num(e.match?.contact?.contactId), ...extra,
  };
}

export function hotlinePort(d: HotlineDeps): HotlinePort {
  const { db, bus } = d;
  const listed = async (n: NewCallbackRequest) => {
    const request = await addCallbackRequest(db, n);
    bus.emit('hotline.callback', { request });
    bus.emit('ws.push', { to: { roles: ['agent', 'supervisor', 'admin'] }, message: { type: 'callback_request', request: wire(request) } });
  };
  return {
    async matchCaller(number) {
      const row = await findCaller(d, number);
      if (!row) return undefined;
      const open = await openAlarmsOfElder(db, row.elder.id);
      return {
        elder: { elderId: String(row.elder.id), name: row.elder.name, ...(row.elder.deviceId !== null && { deviceId: String(row.elder.deviceId) }) },
        ...(row.contact && { contact: { contactId: String(row.contact.id), name: row.contact.name, relation: row.contact.relation } }),
        language: languageOf(row.elder.dialect),
        priority: open.some((a) => a.priority <= 2),
        alarmIds: open.map((a) => String(a.id)),
      };
    },

    // As a one-key red press (telephony-service.ts raiseOneKey): an alarm for the elder, or an unknown-caller alarm.
    async emergency(e) {
      const elderId = num(e.match?.elder?.elderId);
      const deviceId = num(e.match?.elder?.deviceId);
      const identifier = elderId !== null ? `hotline:${e.callerNumber}` : `unknown:${e.callerNumber || 'withheld'}`;
      const caller = e.match?.contact ? 'contact' : elderId !== null ? 'elder' : 'unknown_caller';
      const raised = await d.alarms.commit(
        { deviceId: identifier, protocol: 'phone', kind: 'call', receivedAt: e.at, raw: `hotline:${e.entryId}:emergency`, call: { caller: e.callerNumber, dialled: e.did } },
        { id: deviceId, identifier, elderId, protocol: 'phone' },
        [{ kind: 'one_key_emergency', detail: { via: 'hotline', did: e.did, digit: e.digit, caller, contactId: num(e.match?.contact?.contactId), entryId: e.entryId } }],
        [],
      );
      // The caller's call record belongs to the alarm: it shows on the alarm's calls.
      if (raised[0]) await linkCallToAlarm(db, e.entryId, raised[0].id);
    },

    abandoned: (e) => listed(callbackOf(e, 'abandoned', e.at, { waitMs: e.waitMs, position: e.position })),

    async overflow(e) {
      const elderId = num(e.match?.elder?.elderId);
      await audit(db, 'system', 'hotline_overflow', `call:${e.entryId}`, { did: e.did, reason: e.reason, to: e.to, waitMs: e.waitMs, elderId });
      bus.emit('hotline.overflow', { entryId: e.entryId, did: e.did, reason: e.reason, to: e.to, waitMs: e.waitMs, priority: e.priority, elderId, at: e.at });
      bus.emit('ws.push', {
        to: { roles: ['supervisor', 'admin'] },
        message: { type: 'queue_alert', reason: 'queue_overflow', overflow: e.reason, to: e.to, entryId: e.entryId, did: e.did, callerNumber: e.callerNumber, priority: e.priority, elderId, waitMs: e.waitMs },
      });
    },

    voicemail: (v) => listed(callbackOf(v, 'voicemail', v.at, { recording: v.recording })),
  };
}

export function acdPort(d: HotlineDeps): AcdPort {
  const ids = (list: string[]) => list.map(Number).filter((n) => Number.isSafeInteger(n));
  return {
    async pickAgent({ exclude }) {
      const a = await longestIdleForCall(d.db, ids(exclude));
      return a?.extension ? { userId: String(a.userId), extension: a.extension, name: a.displayName } : undefined;
    },
    anySignedIn: () => anyAgentSignedIn(d.db),
    async ringing(r) {
      await d.agents.ringing(Number(r.userId));
    },
    async missed(userId, reason, r) {
      const s = await d.agents.missed(Number(userId), reason);
      await audit(d.db, 'system', 'agent_missed_call', `user:${userId}`, { reason, entryId: r.call.entryId, extension: r.extension, setNotReady: !!s });
    },
  };
}

/**
 * The hotline side of call-leg ends: an agent's leg that rang and was cancelled (the caller hung up, or was
 * taken by overflow) puts the agent back to ready. A missed ring is `agents.missed`; an answered one is the phone.
 */
export async function hotlineLegEnded(d: HotlineDeps, rec: { flow: string | null; party: string; agentId: number | null }, outcome: string): Promise<void> {
  if (rec.flow === 'hotline' && rec.party === 'agent' && rec.agentId && outcome === 'cancelled') await d.agents.ringCancelled(rec.agentId);
}

/** At start: nobody's phone rings with a hotline call yet, whatever the last run left in agent_status. */
export async function resetRinging(d: HotlineDeps): Promise<void> {
  for (const s of await endStaleRinging(d.db)) d.agents.emit(s);
}

/** An agent became ready (signed in, 置闲, wrap-up over, a cancelled ring): the ACD runs now, not at its next poll. */
/**
 * `bus`: agents' changes on every node (the cluster's fan-out bus, issue 24): an agent made ready on another node
 * is offered the waiting callers here, where telephony runs. Returns the unsubscribe.
 */
export function wireAcd(tel: Telephony, bus: Bus): () => void {
  return bus.on('agent.changed', (a) => {
    if (a.state === 'ready') tel.hotline.agentsChanged();
  });
}
