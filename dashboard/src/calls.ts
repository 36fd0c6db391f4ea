/**
 * Calls: click-to-call, hang-up, the pushed call states, and the signed-in user's live calls restored from the
 * server (GET /api/calls/live) at start and after every snapshot, so a reload or a new login during a call
 * shows the call, its timer and 挂机 again. While one of my calls is live, no second call can be started.
 */
import { unlockSound } from './alerts';
import { HttpError, get, post } from './api';
import { hasKey, t, type MsgKey } from './i18n';
import { elderName, ensureElder, pokeAlarm, screenPop } from './session';
import { store } from './store';
import type { LiveCall } from './types';

export const CALL_ACTIVE = new Set(['ringing_agent', 'agent_answered', 'dialing', 'connected', 'ringing', 'up', 'answered']);

/** Calls this agent placed (click-to-call) or that ring this agent: only these go to the status bar. */
const myCalls = new Set<string>();
/** A name for the far party of my calls ("张秀英", "李明（儿子）"); the pushed state only says elder/contact. */
const callNames = new Map<string, string>();

/** Calls this supervisor listens to, whispers into or barged into (call-log.ts supervise()): their legs there are not their own calls. */
export const supervisedFlows = new Set<string>();

export function resetCalls(): void {
  supervisedFlows.clear();
  myCalls.clear();
  callNames.clear();
}

/** Names the far party of a call (the hotline pop knows the caller before the call is answered). */
export function nameCall(id: string, name: string): void {
  callNames.set(id, name);
}

export function callPartyName(c: LiveCall): string {
  const name = callNames.get(String(c.id));
  if (name) return name;
  // After a reload the name is gone: the elder's comes from the file, a contact's is the party.
  if (c.party === 'elder' && c.elderId) return elderName(c.elderId) ?? t('callParty.elder');
  if (c.party && c.party !== 'agent') return hasKey(`callParty.${c.party}`) ? t(`callParty.${c.party}` as MsgKey) : c.party;
  return c.number || t('call.unknownParty');
}

/** My live call, if any (the status bar's call while it is not ended). */
export function myLiveCall(s = store.get()): LiveCall | undefined {
  for (const [key, c] of s.calls) if (myCalls.has(key) && CALL_ACTIVE.has(String(c.state))) return c;
  return undefined;
}

/** A live call on this alarm, by anyone. */
export function liveCallOfAlarm(alarmId: number, s = store.get()): LiveCall | undefined {
  for (const c of s.calls.values()) if (c.alarmId === alarmId && CALL_ACTIVE.has(String(c.state))) return c;
  return undefined;
}

export function putCall(c: LiveCall): void {
  const key = String(c.id);
  const s = store.get();
  const prev = s.calls.get(key);
  // My supervisor leg (监听 / 耳语 / 强插) on another agent's call is not my call: its 挂机 would end theirs.
  if (c.party === 'agent' && c.agentId === s.user?.id && supervisedFlows.has(key)) return;
  const wasMine = myCalls.has(key);
  // Another agent's leg of my call (a transfer or conference target, or an agent the hotline rang before me):
  // its ringing and hang-up are not my call's state.
  if (wasMine && prev && c.party === 'agent' && c.agentId !== undefined && c.agentId !== null && c.agentId !== s.user?.id) return;
  // My own agent leg of a flow I was not on yet (the hotline rang someone else first): a new call for me.
  const myNewLeg = !wasMine && c.party === 'agent' && c.agentId !== undefined && c.agentId !== null && c.agentId === s.user?.id;
  // One flow, two legs: updates of the agent's leg must not replace the far party.
  const merged: LiveCall = { ...prev, ...c, party: c.party === 'agent' ? (prev?.party ?? null) : (c.party ?? prev?.party ?? null), number: c.party === 'agent' ? (prev?.number ?? null) : (c.number ?? prev?.number ?? null) };
  if (c.party === 'agent') merged.answeredAt = prev?.answeredAt ?? null;
  merged.startedAt = prev?.startedAt ?? c.startedAt ?? new Date().toISOString();
  if (merged.state === 'connected' && !merged.answeredAt) merged.answeredAt = new Date().toISOString();
  // Once ended, a late update of the other leg does not bring the call back.
  if (prev?.state === 'ended' && c.state !== 'ended' && !myNewLeg) merged.state = 'ended';
  // A hotline caller is answered by the hub before any agent: my leg answering is the call connecting.
  if (merged.flow === 'hotline' && c.party === 'agent' && c.agentId === s.user?.id && c.state === 'agent_answered') {
    merged.state = 'connected';
    merged.answeredAt = prev?.state === 'connected' ? (prev.answeredAt ?? null) : new Date().toISOString();
  }
  if (myNewLeg) merged.startedAt = c.startedAt ?? new Date().toISOString();
  // Nor does a late agent-leg update take a connected call back to "agent answered".
  if (prev?.state === 'connected' && c.state === 'agent_answered') merged.state = 'connected';
  if (c.agentId !== undefined && c.agentId !== null && c.agentId === s.user?.id) myCalls.add(key);
  const mine = myCalls.has(key);
  const calls = new Map(s.calls).set(key, merged);
  let currentCallId = s.currentCallId;
  if (mine && CALL_ACTIVE.has(String(merged.state))) currentCallId = key;
  store.set({ calls, currentCallId });
  // An ended call stays in the status bar a little while, then goes by itself.
  if (merged.state === 'ended' && prev?.state !== 'ended') {
    setTimeout(() => {
      const now = store.get();
      if (now.currentCallId === key && now.calls.get(key)?.state === 'ended') store.set({ currentCallId: null });
    }, 8000);
  }
  // An inbound call ringing this agent: the elder's file opens by itself.
  if (mine && c.direction === 'inbound' && c.state === 'ringing_agent' && !prev) {
    if (c.alarmId) screenPop({ alarmId: c.alarmId, reason: 'call' }, 1);
    else if (c.elderId) screenPop({ elderId: c.elderId, reason: 'call' }, 1);
  }
  if (merged.alarmId) pokeAlarm(merged.alarmId);
}

const STATE_RANK: Record<string, number> = { ringing_agent: 1, agent_answered: 2, dialing: 3, connected: 4 };

/**
 * GET /api/calls/live: my calls the server still has up. One row per leg; the legs of one flow become one call
 * (the far party's state when it is further on, its answer time for the timer). A call I showed as live that
 * the server no longer has ended meanwhile.
 */
export async function restoreLiveCalls(): Promise<void> {
  const s = store.get();
  if (!s.user || s.user.role === 'installer' || s.config.features?.calls === false) return;
  const rows = await get<LiveCall[] | { calls?: LiveCall[] }>('/api/calls/live').catch(() => null);
  if (!rows) return;
  const list = Array.isArray(rows) ? rows : (rows.calls ?? []);
  const flows = new Map<string, LiveCall[]>();
  for (const r of list) flows.set(String(r.id), [...(flows.get(String(r.id)) ?? []), r]);
  for (const [key, legs] of flows) {
    const far = legs.find((l) => l.party !== 'agent');
    const best = legs.reduce((a, b) => ((STATE_RANK[String(b.state)] ?? 0) > (STATE_RANK[String(a.state)] ?? 0) ? b : a));
    const startedAt = legs.map((l) => l.startedAt).filter((x): x is string => !!x).sort()[0] ?? null;
    const call: LiveCall = { ...legs[0]!, ...(far ?? {}), state: best.state, startedAt, answeredAt: far?.answeredAt ?? null, agentId: legs.find((l) => l.agentId)?.agentId ?? s.user.id };
    // a hotline call: my leg up is the call connected (the caller was answered by the hub long before)
    if (call.flow === 'hotline' && call.state === 'agent_answered') Object.assign(call, { state: 'connected', answeredAt: legs[0]!.answeredAt ?? null });
    // only my own leg came back (its number is my extension): name the call by its line until the caller is known
    if (call.flow === 'hotline' && !far) {
      call.number = null;
      if (!callNames.has(key)) callNames.set(key, t('hotline.inCall'));
    }
    myCalls.add(key);
    if (call.elderId) void ensureElder(call.elderId);
    const known = store.get().calls.get(key);
    store.set((st) => ({ calls: new Map(st.calls).set(key, { ...known, ...call, party: far?.party ?? known?.party ?? null, answeredAt: call.answeredAt ?? known?.answeredAt ?? null }) }));
    if (CALL_ACTIVE.has(String(call.state))) store.set({ currentCallId: key });
  }
  // Mine and shown as live, but gone on the server: it ended while we were away. (Not a call just placed: its
  // record may not be written yet.)
  for (const [key, c] of store.get().calls) {
    const young = c.startedAt && Date.now() - new Date(c.startedAt).getTime() < 15_000;
    if (myCalls.has(key) && CALL_ACTIVE.has(String(c.state)) && !flows.has(key) && !young) putCall({ id: key, state: 'ended' });
  }
}

export async function startCall(target: { alarmId?: number; elderId?: number; contactId?: number; number?: string }, name?: string): Promise<LiveCall> {
  unlockSound();
  const me = store.get().me;
  if (store.get().config.features?.calls === false) throw new Error(t('call.unavailable'));
  if (!me?.signedIn || !me.extension) throw new Error(t('call.signInFirst'));
  if (myLiveCall()) throw new Error(t('call.inProgress'));
  try {
    const r = await post<{ call: LiveCall } | LiveCall>('/api/calls', target);
    const call = 'call' in r ? r.call : r;
    const key = String(call.id);
    myCalls.add(key);
    if (name) callNames.set(key, name);
    // The response may come after the first pushed states: only fill in what is not known yet.
    const known = store.get().calls.get(key);
    putCall({ startedAt: new Date().toISOString(), ...call, ...(known ? { state: known.state } : {}), agentId: call.agentId ?? store.get().user?.id, alarmId: call.alarmId ?? target.alarmId ?? null, elderId: call.elderId ?? target.elderId ?? null });
    store.set({ currentCallId: key });
    return call;
  } catch (e) {
    // A 404 without our error code: the route itself is missing (telephony not installed).
    if (e instanceof HttpError && e.status === 404 && e.code !== 'not_found') throw new Error(t('call.unavailable'));
    if (e instanceof HttpError && e.code === 'not_signed_in') throw new Error(t('call.signInFirst'));
    if (e instanceof HttpError && e.code === 'call_in_progress') {
      void restoreLiveCalls();
      throw new Error(t('call.inProgress'));
    }
    if (e instanceof HttpError && (e.code === 'telephony_off' || e.code === 'telephony_down')) throw new Error(t(e.code === 'telephony_off' ? 'call.unavailable' : 'call.down'));
    throw e;
  }
}

export async function hangup(callId: string): Promise<void> {
  try {
    await post(`/api/calls/${encodeURIComponent(callId)}/hangup`);
  } catch (e) {
    // Already gone on the server: show it as ended.
    if (e instanceof HttpError && e.status === 404) putCall({ id: callId, state: 'ended' });
    else throw e;
  }
}

export function dismissCall(): void {
  store.set({ currentCallId: null });
}
