/**
 * The agent's side of the hotline (issue 19). The incoming-call pop (来电弹屏): `incoming_call` while my phone
 * rings, closed by `hotline_missed` (I did not answer: the server set me 置忙), by `hotline_answered` for someone
 * else and by `hotline_done`, kept as the in-call header when I answered. And the in-call controls (通话控制) of
 * my current call: hold, mute, DTMF, transfer (blind or attended), three-way call, the dial pad. The server
 * pushes no hold/mute state, so what the page asked for (and the server accepted) is kept here per call.
 * Components read it through useHotline(); nothing here renders.
 */
import { useEffect, useState } from 'preact/hooks';
import { HttpError, get, post } from './api';
import { nameCall, putCall } from './calls';
import { t } from './i18n';
import { closeFile, errorText, inLocale, isOpenAlarm, onWs, openFile } from './session';
import { notify, store } from './store';
import type { IncomingCall, LiveCall } from './types';

export interface Pop {
  call: IncomingCall;
  /** ringing: my phone rings; answered: I took it (the pop is the in-call header) */
  status: 'ringing' | 'answered';
  /** the file this pop opened (its nonce), closed again when the call goes elsewhere */
  openedNonce: number | null;
}

/** What the page knows of my call's controls. */
export interface Controls {
  callId: string;
  held: boolean;
  muted: boolean;
  /** an attended transfer is consulting this channel (完成转接 / 取消转接) */
  consult: string | null;
  /** a third party added to the call (三方通话) */
  third: string | null;
  /** the request in flight */
  busy: string | null;
  /** the DTMF digits sent in this call (shown on the pad) */
  digits: string;
}

export interface HotlineState {
  pop: Pop | null;
  controls: Controls | null;
}

let state: HotlineState = { pop: null, controls: null };
const listeners = new Set<() => void>();

function set(patch: Partial<HotlineState>): void {
  state = { ...state, ...patch };
  for (const l of listeners) l();
}

export const hotlineState = (): HotlineState => state;

export function useHotline<T>(select: (s: HotlineState) => T): T {
  const [value, setValue] = useState(() => select(state));
  useEffect(() => {
    const update = () => setValue(() => select(state));
    update();
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return value;
}

/** "李芳（女儿）", "张秀英", or the number. */
export function callerName(c: IncomingCall): string {
  const m = c.match;
  if (m?.contact) return `${m.contact.name ?? c.callerNumber}${m.contact.relation ? `（${m.contact.relation}）` : ''}`;
  if (m?.elder?.name) return m.elder.name;
  return c.callerNumber || t('hotline.withheld');
}

/** A ringing pop for me (the state buttons wait while it rings). */
export const isRinging = (s = state) => s.pop?.status === 'ringing';

// ---------------------------------------------------------------- the pop

/** The agent is working an alarm (accepted, in progress, theirs): a call does not take the file away. */
function workingAlarm(): boolean {
  const s = store.get();
  const cur = s.open?.alarmId !== undefined ? s.alarms.get(s.open.alarmId) : undefined;
  return !!cur && isOpenAlarm(cur) && cur.ownerId === s.user?.id;
}

/** Opens the caller's elder's file (the desk's ElderFile), unless the agent is working an alarm. */
export function openCallerFile(c: IncomingCall, force = false): number | null {
  const elderId = c.match?.elder?.id;
  if (elderId === undefined) return null;
  const s = store.get();
  // already on screen: nothing opened (and nothing to close when the call goes elsewhere)
  if (!force && s.open?.elderId === elderId && s.open.alarmId === undefined) return null;
  if (!force && workingAlarm()) return null;
  openFile({ elderId, reason: 'call' });
  if (s.view !== 'desk' && s.user?.role !== 'supervisor' && s.user?.role !== 'admin') store.set({ view: 'desk' });
  return store.get().open?.nonce ?? null;
}

/** Closes the pop; the file it opened closes too when the call did not stay with me. */
function closePop(entryId: string, closeItsFile: boolean): void {
  const p = state.pop;
  if (!p || p.call.entryId !== entryId) return;
  if (closeItsFile && p.openedNonce !== null && store.get().open?.nonce === p.openedNonce) closeFile();
  set({ pop: null });
}

onWs('incoming_call', (m) => {
  nameCall(m.entryId, callerName(m));
  // A new caller: a file a previous call left open must not pass for theirs.
  const left = store.get().open;
  if (!m.match?.elder && left?.reason === 'call' && left.alarmId === undefined) closeFile();
  const openedNonce = openCallerFile(m);
  set({ pop: { call: m, status: 'ringing', openedNonce } });
});

onWs('hotline_missed', (m) => {
  if (state.pop?.call.entryId !== m.entryId) return;
  closePop(m.entryId, true);
  notify('alert', t('hotline.missed'), { ms: 0 });
});

onWs('hotline_answered', (m) => {
  const p = state.pop;
  if (!p || p.call.entryId !== m.entryId) return;
  if (m.userId === store.get().user?.id) set({ pop: { ...p, status: 'answered' } });
  else closePop(m.entryId, true);
});

onWs('hotline_done', (m) => {
  const p = state.pop;
  if (!p || p.call.entryId !== m.entryId) return;
  closePop(m.entryId, p.status !== 'answered');
});

// My call ended (hung up, transferred away) or a new session: the in-call header and the controls go.
store.subscribe(() => {
  const s = store.get();
  if (!s.user) {
    if (state.pop || state.controls) set({ pop: null, controls: null });
    return;
  }
  const p = state.pop;
  if (p?.status === 'answered' && s.calls.get(p.call.entryId)?.state === 'ended') set({ pop: null });
  const c = state.controls;
  if (c && (s.currentCallId !== c.callId || s.calls.get(c.callId)?.state === 'ended')) set({ controls: null });
});

// ---------------------------------------------------------------- in the call

function controlsOf(callId: string): Controls {
  const c = state.controls;
  return c && c.callId === callId ? c : { callId, held: false, muted: false, consult: null, third: null, busy: null, digits: '' };
}

function patchControls(callId: string, patch: Partial<Controls>): void {
  set({ controls: { ...controlsOf(callId), ...patch } });
}

/**
 * What the server did on my call (hold, mute … from this tab, another tab, or a supervisor): the buttons follow the
 * call's real state, also after a reload.
 */
const FOLLOWS: Record<string, Partial<Controls>> = { hold: { held: true }, unhold: { held: false }, mute: { muted: true }, unmute: { muted: false }, transfer_complete: { consult: null }, transfer_cancel: { consult: null } };
onWs('call_action', (m) => {
  const patch = FOLLOWS[m.action];
  if (patch && store.get().currentCallId === m.callId) patchControls(m.callId, patch);
});
// A call that becomes mine on screen (a reload, a new login mid-call): its state so far, from its timeline.
let followed: string | null = null;
store.subscribe(() => {
  const id = store.get().currentCallId;
  if (id === followed) return;
  followed = id;
  if (!id) return;
  void get<{ actions: { action: string }[] }>(`/api/call-log/${encodeURIComponent(id)}`)
    .then((d) => {
      if (store.get().currentCallId !== id) return;
      const patch = d.actions.reduce<Partial<Controls>>((acc, a) => ({ ...acc, ...FOLLOWS[a.action] }), {});
      if (Object.keys(patch).length) patchControls(id, patch);
    })
    .catch(() => undefined); // a call placed a moment ago has no record yet: nothing to restore
});

/** The gateway's call-control errors come as "中文 / English (detail)": the half in the locale, else the usual text. */
export function controlError(e: unknown): string {
  if (e instanceof HttpError && e.status !== 0 && e.status !== 403 && / \/ /.test(e.message) && /[\u4e00-\u9fff]/.test(e.message)) return inLocale(e.message);
  return errorText(e);
}

/** Runs one control request; the buttons wait while it is in flight; an error is shown. */
async function run<T>(callId: string, name: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (controlsOf(callId).busy) return undefined;
  patchControls(callId, { busy: name });
  try {
    return await fn();
  } catch (e) {
    // the consultation ended by itself (the target hung up): the page stops showing it
    if (name === 'transfer' && e instanceof HttpError && e.status === 409 && state.controls?.consult) patchControls(callId, { consult: null });
    notify('error', controlError(e));
    return undefined;
  } finally {
    if (state.controls?.callId === callId) patchControls(callId, { busy: null });
  }
}

const path = (callId: string, action: string) => `/api/calls/${encodeURIComponent(callId)}/${action}`;

export async function setHold(callId: string, on: boolean): Promise<void> {
  const ok = await run(callId, 'hold', () => post(path(callId, on ? 'hold' : 'unhold')).then(() => true));
  if (ok) patchControls(callId, { held: on });
}

export async function setMute(callId: string, on: boolean): Promise<void> {
  const ok = await run(callId, 'mute', () => post(path(callId, on ? 'mute' : 'unmute')).then(() => true));
  if (ok) patchControls(callId, { muted: on });
}

/** DTMF keys go one after another (a quick typist must not lose a digit to a request in flight). */
let dtmfChain: Promise<unknown> = Promise.resolve();
export function sendDtmf(callId: string, digits: string): void {
  patchControls(callId, { digits: (controlsOf(callId).digits + digits).slice(-24) });
  dtmfChain = dtmfChain.then(() => post(path(callId, 'dtmf'), { digits }).catch((e: unknown) => notify('error', controlError(e))));
}

export type Target = { extension: string } | { number: string };

interface TransferAnswer {
  ok: boolean;
  status: 'transferred' | 'consulting' | 'not_reached';
  channelId: string;
}

export async function transfer(callId: string, mode: 'blind' | 'attended', target: Target): Promise<boolean> {
  const r = await run(callId, 'transfer', () => post<TransferAnswer>(path(callId, 'transfer'), { mode, target }));
  if (!r) return false;
  if (r.status === 'consulting') patchControls(callId, { consult: r.channelId, held: true });
  else if (r.status === 'not_reached') {
    // attended: the agent is back, the caller still held (the agent takes them back with 取回)
    if (mode === 'attended') patchControls(callId, { consult: null, held: true });
    notify('error', t('ctl.notReached'));
  } else notify('info', t('ctl.transferred'));
  return r.status !== 'not_reached';
}

export async function completeTransfer(callId: string): Promise<void> {
  const ok = await run(callId, 'transfer', () => post(path(callId, 'transfer/complete')).then(() => true));
  if (ok) {
    patchControls(callId, { consult: null, held: false });
    notify('info', t('ctl.transferred'));
  }
}

export async function cancelTransfer(callId: string): Promise<void> {
  const ok = await run(callId, 'transfer', () => post(path(callId, 'transfer/cancel')).then(() => true));
  if (ok) patchControls(callId, { consult: null, held: false });
}

export async function addParty(callId: string, target: Target): Promise<boolean> {
  const r = await run(callId, 'conference', () => post<TransferAnswer>(path(callId, 'conference'), { target }));
  if (!r) return false;
  if (r.status === 'not_reached') {
    notify('error', t('ctl.notReached'));
    return false;
  }
  patchControls(callId, { third: r.channelId });
  return true;
}

export async function removeParty(callId: string): Promise<void> {
  const third = controlsOf(callId).third;
  if (!third) return;
  const ok = await run(callId, 'conference', () => post(path(callId, 'conference/remove'), { party: third }).then(() => true));
  if (ok) patchControls(callId, { third: null });
}

/** 拨号盘: rings my extension, then dials a number not in the file (POST /api/calls/dial-pad). */
export async function dialPad(number: string, alarmId?: number): Promise<void> {
  const r = await post<{ call: LiveCall }>('/api/calls/dial-pad', { number, ...(alarmId !== undefined ? { alarmId } : {}) });
  const key = String(r.call.id);
  nameCall(key, number);
  const known = store.get().calls.get(key);
  putCall({ startedAt: new Date().toISOString(), ...r.call, ...(known ? { state: known.state } : {}), agentId: store.get().user?.id ?? null, number });
  store.set({ currentCallId: key });
}
