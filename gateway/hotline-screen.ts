/**
 * Screen-pop for hotline calls (issue 19, 来电弹屏): while an agent's phone rings the agent (only that agent's
 * dashboards) gets `incoming_call` with the caller's file: whose elder, which contact, open alarms, recent calls.
 * `hotline_missed`, `hotline_answered` and `hotline_done` update or close it for every agent it popped at.
 * Personal data goes to the dashboard only, never into the log.
 */
import type { AgentRing, CallAction, HotlineAnswered, HotlineCallInfo, HotlineDone, HotlineMissed, HotlineQueued, Telephony } from '../telephony/index.js';
import { callSummary } from './store/call-log.js';
import type { Bus } from './bus.js';
import type { Logger } from './log.js';
import type { Db } from './store/db.js';
import { openAlarmsOfElder, recentCalls } from './store/callers.js';
import { wire, type HotlineDoneMessage, type HotlineWsMessage, type IncomingCallMatch, type IncomingCallMessage } from './ws-messages.js';

export type { HotlineWsMessage, IncomingCallMessage } from './ws-messages.js';

const idOf = (s?: string) => (s === undefined || s === '' ? undefined : Number(s));

function matchOf(call: HotlineCallInfo): IncomingCallMatch | null {
  const m = call.match;
  if (!m?.elder && !m?.contact) return null;
  const out: IncomingCallMatch = {};
  const elderId = idOf(m.elder?.elderId);
  if (m.elder && elderId !== undefined) {
    const deviceId = idOf(m.elder.deviceId);
    out.elder = { id: elderId, ...(m.elder.name !== undefined && { name: m.elder.name }), ...(deviceId !== undefined && { deviceId }) };
  }
  const contactId = idOf(m.contact?.contactId);
  if (m.contact && contactId !== undefined) out.contact = { id: contactId, ...(m.contact.name !== undefined && { name: m.contact.name }), ...(m.contact.relation !== undefined && { relation: m.contact.relation }) };
  return out;
}

/** What the pop shows of the caller's file: read once per caller and ring (see CallerFiles). */
type CallerFile = Pick<IncomingCallMessage, 'openAlarms' | 'recentCalls'>;

async function callerFile(db: Db, call: HotlineCallInfo): Promise<CallerFile> {
  const elderId = matchOf(call)?.elder?.id;
  const [openAlarms, recent] = await Promise.all([
    elderId !== undefined ? openAlarmsOfElder(db, elderId) : Promise.resolve([]),
    recentCalls(db, { ...(elderId !== undefined && { elderId }), number: call.callerNumber, exceptFlow: call.entryId }),
  ]);
  return { openAlarms: openAlarms.map(wire), recentCalls: recent.map(wire) };
}

export function incomingCallOf(r: AgentRing, file: CallerFile): IncomingCallMessage {
  const call = r.call;
  return {
    type: 'incoming_call', entryId: call.entryId, channelId: r.channelId, callerNumber: call.callerNumber, did: call.did, hotline: call.hotline,
    language: call.language, priority: call.priority, ivrChoice: call.ivrChoice ?? null, arrivedAt: call.arrivedAt.toISOString(),
    match: matchOf(call), ...file,
  };
}

/**
 * The caller's file is read when the caller enters the queue, so that the pop goes out as soon as an agent's
 * phone rings (the ring → pop time is what an agent feels). A read older than FRESH_MS is done again at the
 * ring: a caller who waited may have a new alarm or call since.
 */
const FRESH_MS = 5000;
class CallerFiles {
  private files = new Map<string, { at: number; file: Promise<CallerFile> }>();
  constructor(private readonly db: Db) {}
  prefetch(call: HotlineCallInfo): void {
    const file = callerFile(this.db, call);
    file.catch(() => undefined); // read again at the ring
    this.files.set(call.entryId, { at: Date.now(), file });
  }
  async get(call: HotlineCallInfo): Promise<CallerFile> {
    const f = this.files.get(call.entryId);
    if (f && Date.now() - f.at < FRESH_MS) {
      const file = await f.file.catch(() => undefined);
      if (file) return file;
    }
    this.prefetch(call);
    return this.files.get(call.entryId)!.file;
  }
  forget(entryId: string): void {
    this.files.delete(entryId);
  }
}

/** Pushes each in-call action to the call's agents and to supervisors (bus `ws.push`, `call_action`). */
export function wireCallActions(tel: Telephony, o: { db: Db; bus: Bus; log: Logger }): void {
  tel.on('call_action', (a: CallAction) => {
    void callSummary(o.db, a.callId)
      .then((call) => {
        const { digits: _secret, ...detail } = a.detail ?? {};
        o.bus.emit('ws.push', {
          to: { userIds: call?.agentIds ?? [], roles: ['supervisor', 'admin'] },
          message: { type: 'call_action', callId: a.callId, action: a.action, by: a.by, channelId: a.channelId ?? null, at: a.at.toISOString(), detail },
        });
      })
      .catch((err: unknown) => o.log.warn({ err, callId: a.callId }, 'call action push failed'));
  });
}

/** Wires the hotline events to the WebSocket pushes (bus `ws.push`). */
export function wireScreenPop(tel: Telephony, o: { db: Db; bus: Bus; log: Logger }): void {
  /** entry → the agents it popped at, so each of them sees it close */
  const popped = new Map<string, Set<number>>();
  const files = new CallerFiles(o.db);
  tel.on('hotline_queued', (q: HotlineQueued) => files.prefetch(q.call));
  /**
   * Pushes of one entry in event order: the pop is built from the database, and a quick miss or hang-up must
   * not overtake it (the pop would never close).
   */
  const chains = new Map<string, Promise<void>>();
  const inOrder = (entryId: string, fn: () => Promise<HotlineWsMessage | undefined>, to: () => Iterable<number>, last = false) => {
    const next = (chains.get(entryId) ?? Promise.resolve())
      .then(fn)
      .then((m) => {
        if (m) o.bus.emit('ws.push', { to: { userIds: [...to()] }, message: m });
      })
      .catch((err: unknown) => o.log.warn({ err, entryId }, 'hotline screen-pop push failed'));
    chains.set(entryId, next);
    if (last) void next.finally(() => chains.get(entryId) === next && chains.delete(entryId));
  };
  tel.on('hotline_ringing', (r: AgentRing) => {
    const userId = Number(r.userId);
    let set = popped.get(r.call.entryId);
    if (!set) popped.set(r.call.entryId, (set = new Set()));
    set.add(userId);
    inOrder(r.call.entryId, async () => incomingCallOf(r, await files.get(r.call)), () => [userId]);
  });
  tel.on('hotline_missed', (m: HotlineMissed) =>
    inOrder(m.ring.call.entryId, async () => ({ type: 'hotline_missed', entryId: m.ring.call.entryId, reason: m.reason }), () => [Number(m.ring.userId)]),
  );
  tel.on('hotline_answered', (a: HotlineAnswered) => {
    const to = [...(popped.get(a.call.entryId) ?? [Number(a.userId)])];
    inOrder(a.call.entryId, async () => ({ type: 'hotline_answered', entryId: a.call.entryId, userId: Number(a.userId), bridgeId: a.bridgeId, waitMs: a.waitMs }), () => to);
  });
  tel.on('hotline_done', (d: HotlineDone) => {
    const to = [...(popped.get(d.call.entryId) ?? [])];
    popped.delete(d.call.entryId);
    files.forget(d.call.entryId);
    if (!to.length) return;
    const done: HotlineDoneMessage = { type: 'hotline_done', entryId: d.call.entryId, result: d.summary.result, waitMs: d.summary.waitMs, agentId: idOf(d.summary.agentId) ?? null };
    inOrder(d.call.entryId, async () => done, () => to, true);
  });
}
