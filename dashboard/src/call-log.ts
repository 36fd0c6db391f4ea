/**
 * The call centre's records on the dashboard (issue 19): the call log (通话记录) and one call's detail, the
 * recording URL (played through Anxin, never from Asterisk), the call-back list (回拨列表, live on
 * `callback_request`), the queue-overflow alert to supervisors (`queue_alert`), and the supervisor's controls on a
 * live call (监听 / 耳语 / 强插, one session at a time) and on an agent's state. Nothing here renders.
 */
import { useEffect, useState } from 'preact/hooks';
import { HttpError, get, post } from './api';
import { supervisedFlows } from './calls';
import { fmtDuration, t } from './i18n';
import { elderName, isLead, onWs } from './session';
import { notify, store } from './store';
import type { CallbackRequest, CallDetail, CallLogPage, CallRecord, SettableState, SuperviseMode } from './types';

// ---------------------------------------------------------------- call log

export interface CallLogQuery {
  number?: string;
  elderId?: number;
  agentId?: number;
  direction?: 'inbound' | 'outbound';
  outcome?: string;
  /** ISO date-times; `to` is exclusive */
  from?: string;
  to?: string;
  limit?: number;
  cursor?: number;
}

/** The outcomes a call record can have (the filter's choices; each has a callOutcome.* label). */
export const CALL_OUTCOMES = ['answered', 'no_answer', 'busy', 'rejected', 'failed', 'cancelled', 'abandoned', 'unreachable', 'congestion', 'accepted_by_dtmf', 'not_accepted'] as const;

export function callLogPath(q: CallLogQuery): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '' && v !== null) p.set(k, String(v));
  const qs = p.toString();
  return `/api/call-log${qs ? `?${qs}` : ''}`;
}

export const searchCalls = (q: CallLogQuery) => get<CallLogPage>(callLogPath(q));
export const callDetail = (flowId: string) => get<CallDetail>(`/api/call-log/${encodeURIComponent(flowId)}`);

/** What a player plays: a call's recording, or a call-back row's voicemail. */
export type RecordingOf = { flowId: string } | { callbackId: number };

/** Same-origin path of a recording (audio/wav with Range; the session cookie goes with it; each playback is audited). */
export function recordingUrl(of: RecordingOf): string {
  return 'flowId' in of ? `/api/calls/${encodeURIComponent(of.flowId)}/recording` : `/api/callbacks/${Math.trunc(of.callbackId)}/recording`;
}

/** A far leg (GET /api/alarms/:id → calls) whose flow has a stored recording (the field is sent though the schema does not list it). */
export function recordedFlow(c: CallRecord): string | null {
  const x = c as CallRecord & { recording?: string | null; recordingState?: string | null };
  return c.flowId && c.party !== 'agent' && c.answeredAt && x.recording && x.recordingState !== 'deleted' ? c.flowId : null;
}

// ---------------------------------------------------------------- call-back list

let callbacks: CallbackRequest[] | null = null;
const cbListeners = new Set<() => void>();
const emitCallbacks = () => cbListeners.forEach((f) => f());

/** Priority first (an elder with an open alarm, a P1 caller), then the longest waiting. */
export function byCallbackOrder(a: CallbackRequest, b: CallbackRequest): number {
  return Number(b.priority) - Number(a.priority) || a.createdAt.localeCompare(b.createdAt) || a.id - b.id;
}

function setCallbacks(list: CallbackRequest[]): void {
  callbacks = list.filter((r) => !r.handledAt).sort(byCallbackOrder);
  emitCallbacks();
}

export async function refreshCallbacks(): Promise<void> {
  const list = await get<CallbackRequest[]>('/api/callbacks?open=true');
  setCallbacks(list);
}

export async function callbackDone(id: number): Promise<void> {
  try {
    await post(`/api/callbacks/${id}/done`);
  } catch (e) {
    // someone else marked it done meanwhile: gone either way
    if (!(e instanceof HttpError && e.status === 404)) throw e;
  }
  if (callbacks) setCallbacks(callbacks.filter((r) => r.id !== id));
}

/** The open call-back list, loaded on first use and kept live by the WebSocket. null while it loads. */
export function useCallbacks(): CallbackRequest[] | null {
  const [, bump] = useState(0);
  useEffect(() => {
    const f = () => bump((n) => n + 1);
    cbListeners.add(f);
    if (callbacks === null) void refreshCallbacks().catch(() => undefined);
    return () => void cbListeners.delete(f);
  }, []);
  return callbacks;
}

onWs('callback_request', (m) => {
  const r = m.request;
  if (callbacks === null) return; // loaded on first use
  setCallbacks([...callbacks.filter((x) => x.id !== r.id), r]);
});

onWs('snapshot', () => {
  // after a reconnect: what changed while away
  if (callbacks !== null) void refreshCallbacks().catch(() => undefined);
});

onWs('hello', (m) => {
  // a new session (another user): forget the list and the supervision of the one before
  if (lastUser !== null && lastUser !== m.user.id) {
    callbacks = null;
    setSupervision(null);
    if (cbListeners.size) void refreshCallbacks().catch(() => undefined);
  }
  lastUser = m.user.id;
});
let lastUser: number | null = null;

/** A supervisor alert for a caller the queue gave up on (overflow to voicemail, the night number or hang-up). */
onWs('queue_alert', (m) => {
  if (!isLead(store.get().user)) return;
  const who = (m.elderId !== null ? elderName(m.elderId) : null) ?? m.callerNumber;
  notify('alert', t('queueAlert.text', { who, wait: fmtDuration(m.waitMs / 1000), why: t(m.overflow === 'no_agents' ? 'queueAlert.noAgents' : 'queueAlert.maxWait'), to: t(`queueAlert.to.${m.to}`) }), { ms: 0 });
});

// ---------------------------------------------------------------- supervisor

export interface Supervision {
  callId: string;
  sessionId: string;
  mode: SuperviseMode;
  /** the agent whose call it is */
  agentId: number;
  status: 'connected' | 'not_reached' | string;
}

let supervision: Supervision | null = null;
const supListeners = new Set<() => void>();
function setSupervision(s: Supervision | null): void {
  supervision = s;
  supListeners.forEach((f) => f());
}

/** The supervisor's one session (listen, whisper or barge), or null. */
export function useSupervision(): Supervision | null {
  const [, bump] = useState(0);
  useEffect(() => {
    const f = () => bump((n) => n + 1);
    supListeners.add(f);
    return () => void supListeners.delete(f);
  }, []);
  return supervision;
}

/** Rings the supervisor's phone (their signed-in extension, or `extension`) and joins the call in `mode`. */
export async function supervise(callId: string, agentId: number, mode: SuperviseMode, extension?: string): Promise<Supervision> {
  if (supervision) await endSupervision();
  // before the request: the supervisor's leg is pushed while it rings, before the answer comes back
  supervisedFlows.add(callId);
  const r = await post<{ sessionId: string; status: string }>(`/api/calls/${encodeURIComponent(callId)}/${mode}`, extension ? { extension } : {});
  const s: Supervision = { callId, sessionId: r.sessionId, mode, agentId, status: r.status };
  // nobody answered the supervisor's phone: no session to end
  setSupervision(r.status === 'not_reached' ? null : s);
  return s;
}

/** Switches the running session to another mode (listen ↔ whisper ↔ barge) without ringing the supervisor again. */
export async function switchSupervision(mode: SuperviseMode): Promise<void> {
  const s = supervision;
  if (!s || s.mode === mode) return;
  await post(`/api/calls/${encodeURIComponent(s.callId)}/supervision/${encodeURIComponent(s.sessionId)}/mode`, { mode });
  if (supervision === s) setSupervision({ ...s, mode });
}

export async function endSupervision(): Promise<void> {
  const s = supervision;
  if (!s) return;
  try {
    await post(`/api/calls/${encodeURIComponent(s.callId)}/supervision/${encodeURIComponent(s.sessionId)}/end`);
  } catch (e) {
    // the supervisor's leg or the call is gone already
    if (!(e instanceof HttpError && (e.status === 404 || e.status === 409))) throw e;
  }
  if (supervision === s) setSupervision(null);
}

onWs('call', (m) => {
  const s = supervision;
  if (!s || String(m.call.id) !== s.callId) return;
  // the supervisor's own leg hung up, or the whole call ended
  if ((m.call.channelId === s.sessionId && (m.call.leg === 'ended' || m.call.state === 'ended')) || (m.call.party !== 'agent' && m.call.state === 'ended')) setSupervision(null);
});

/** 置闲 / 置忙 / 离席 / 话后整理 for another agent, with the reason (kept in audit_log). */
export function forceAgentState(userId: number, state: SettableState, reason: string): Promise<unknown> {
  return post(`/api/agents/${userId}/state`, { state, reason });
}

/** A live call (flow) as the supervisor sees it: who is on it and whether it is bridged. */
export interface LiveFlowBrief {
  flowId: string;
  agentIds: number[];
  up: boolean;
  number: string | null;
  party: string | null;
  elderId: number | null;
  since: string;
}

/** The live calls from the records (GET /api/calls: each leg with its liveState), by flow. */
export async function liveFlows(): Promise<LiveFlowBrief[]> {
  const rows = await get<CallRecord[]>('/api/calls?limit=300');
  const flows = new Map<string, LiveFlowBrief>();
  for (const r of rows) {
    if (!r.flowId || r.endedAt || !(r.liveState === 'up' || r.liveState === 'ringing')) continue;
    const f = flows.get(r.flowId) ?? { flowId: r.flowId, agentIds: [], up: false, number: null, party: null, elderId: null, since: r.createdAt };
    if (r.party === 'agent' && r.agentId !== null && !f.agentIds.includes(r.agentId)) f.agentIds.push(r.agentId);
    if (r.party !== 'agent') {
      f.number ??= r.number;
      f.party ??= r.party;
      if (r.liveState === 'up') f.up = true;
    }
    f.elderId ??= r.elderId ?? null;
    if (r.createdAt < f.since) f.since = r.createdAt;
    flows.set(r.flowId, f);
  }
  return [...flows.values()];
}
