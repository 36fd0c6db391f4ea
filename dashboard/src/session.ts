/**
 * The session: login, the live connection and what each pushed message does to the store, the alarm and
 * agent actions, calls. Components call these functions and read the store; nothing here renders.
 */
import { AlarmSound, onSoundBlocked, speak, unlockSound } from './alerts';
import { HttpError, get, mayHaveSession, post, setCsrfToken, whenUnauthenticated, wsUrl } from './api';
import { label, locale, setLocale, t, type Locale } from './i18n';
import { askNotificationPermission, attend, stopAttention } from './attention';
import { putCall, resetCalls, restoreLiveCalls } from './calls';
import { Live } from './live';
import { notify, store, type OpenFile } from './store';
import { raiseSupervisorAlert } from './supervisor-alerts';
import { OPEN_STATES, type AgentStatus, type Alarm, type AlarmDetail, type ElderFull, type OutcomeInfo, type ServerConfig, type User, type WsMessage } from './types';

let live: Live | null = null;
let sound: AlarmSound | null = null;
let firstSnapshot = true;
/** alarms the supervisor was alerted about (they beep for supervisors until accepted) */
const escalated = new Set<number>();
/** alarm id → when it was last announced, so a re-presentation does not talk over the agent */
const announced = new Map<number, number>();
let openNonce = 0;

/** In the live queue: not yet resolved. */
export const isOpenAlarm = (a: Alarm) => OPEN_STATES.includes(a.state);
/** Kept by the server until closed: resolved alarms wait for their follow-up call (回访) and closing. */
export const isAfterCare = (a: Alarm) => a.state === 'resolved' || a.state === 'followed_up';
export const isWaiting = (a: Alarm) => (a.state === 'raised' || a.state === 'presented') && a.ownerId === null;
export const isLead = (u: User | null) => u?.role === 'supervisor' || u?.role === 'admin';

/** Priority first, then age (oldest first), then id: the order of the queue. */
export function byPriorityThenAge(a: Alarm, b: Alarm): number {
  return a.priority - b.priority || a.firstAt.localeCompare(b.firstAt) || a.id - b.id;
}

export function elderName(id: number | null): string | null {
  if (id === null) return null;
  const e = store.get().elders.get(id);
  return e && typeof e === 'object' ? e.name : null;
}

/** "坐席 #3" / "me", or the display name when the supervisor list knows it. */
export function actorName(actor: string | number | null): string {
  if (actor === null) return '—';
  const s = store.get();
  const id = typeof actor === 'number' ? actor : /^user:(\d+)$/.exec(actor)?.[1];
  if (id !== undefined) {
    const n = Number(id);
    if (n === s.user?.id) return t('actor.me');
    const a = s.agents.get(n);
    return a?.displayName || a?.username || t('actor.agent', { id: n });
  }
  if (actor === 'system') return t('actor.system');
  if (actor === 'device') return t('actor.device');
  if (typeof actor === 'string' && actor.startsWith('telephony')) return t('actor.telephony');
  return String(actor);
}

// ---------------------------------------------------------------- login and session

/**
 * On page load: the session cookie (HttpOnly, unseen by this script) may still be good. GET /api/auth/me says who
 * we are and gives the session's CSRF token again, so a reload keeps the user logged in.
 */
export async function restoreSession(): Promise<void> {
  // Never logged in in this browser (or logged out): no request, so a fresh page does not log a 401.
  if (!mayHaveSession()) return;
  try {
    const { user, csrfToken } = await get<{ user: User; csrfToken?: string }>('/api/auth/me');
    setCsrfToken(csrfToken ?? null, user.id);
    await startSession(user);
  } catch (e) {
    // A refused session: the login, saying why. A network error leaves the hint for the next try.
    if (e instanceof HttpError && e.status === 401) sessionEnded();
  }
}

export async function login(username: string, password: string): Promise<void> {
  unlockSound();
  // Asked on the click of 登录 (a user gesture), never on page load: a P1 in a background tab notifies.
  askNotificationPermission();
  // cookie: true: the session goes into an HttpOnly cookie; the answer carries only its CSRF token.
  const r = await post<{ user: User; csrfToken: string; expiresAt: string }>('/api/auth/login', { username, password, cookie: true });
  setCsrfToken(r.csrfToken, r.user.id);
  store.set({ loginNotice: null });
  await startSession(r.user);
}

export async function logout(): Promise<void> {
  // The server closes our live stream as it ends the session (4401): that close is ours, not a revocation.
  live?.stop();
  live = null;
  await post('/api/auth/logout').catch(() => undefined);
  endSession();
  store.set({ loginNotice: null });
}

/** This session was ended by the server on our request (sign out everywhere): clear the page, no logout call. */
export function sessionEndedHere(): void {
  endSession();
  store.set({ loginNotice: null });
}

function endSession(): void {
  live?.stop();
  live = null;
  sound?.stop();
  sound = null;
  setCsrfToken(null);
  firstSnapshot = true;
  escalated.clear();
  announced.clear();
  resetCalls();
  stopAttention();
  store.set({
    user: null, me: null, connection: 'idle', offlineSince: null, reconnectAt: null, alarms: new Map(), elders: new Map(), open: null,
    calls: new Map(), currentCallId: null, agents: new Map(), notices: [], supAlerts: [], selectedAlarmId: null,
  });
}

/**
 * The server ended the session (expired, logged out elsewhere, account disabled, password reset, role changed): a
 * REST 401 or the live stream closed with 4401. Back to the login, which says so; no reconnecting.
 */
function sessionEnded(): void {
  endSession();
  store.set({ loginNotice: 'login.revoked' });
}

whenUnauthenticated(() => {
  if (store.get().user) sessionEnded();
});

async function startSession(user: User): Promise<void> {
  // The wallboard kiosk (大屏) shows its board only: no desk, no agent state, no calls, no sound.
  const kiosk = user.role === 'wallboard';
  store.set({ user, view: kiosk ? 'wallboard' : user.role === 'installer' ? 'activate' : isLead(user) ? 'supervisor' : 'desk' });
  onSoundBlocked((blocked) => store.set({ soundBlocked: blocked }));
  const [config, outcomes] = await Promise.all([
    get<ServerConfig>('/api/config').catch((): Partial<ServerConfig> => ({})),
    user.role === 'installer' || kiosk ? {} : get<Record<string, OutcomeInfo>>('/api/alarms/outcomes').catch(() => ({})),
  ]);
  const tile = import.meta.env.VITE_MAP_TILE_URL as string | undefined;
  store.set({ config: { ...config, mapTileUrl: config.mapTileUrl || tile || '' }, outcomes });
  // Installers get no alarm stream, calls or agent state (issue 15): their view needs none of it.
  if (user.role === 'installer') return;
  if (!kiosk) {
    await refreshMe();
    if (isLead(user)) await refreshAgents();
    await restoreLiveCalls();
  }
  // The session may have ended while this started (a 401 above): no live stream for it then.
  if (store.get().user?.id !== user.id || live) return;
  live = new Live(wsUrl, {
    message: onMessage,
    online: () => store.set({ connection: 'online', offlineSince: null, reconnectAt: null, reconnectAttempt: 0 }),
    offline: ({ attempt, retryInMs }) =>
      store.set((s) => ({
        connection: 'offline',
        offlineSince: s.offlineSince ?? Date.now(),
        reconnectAt: Date.now() + retryInMs,
        reconnectAttempt: attempt,
        drops: s.connection === 'online' ? s.drops + 1 : s.drops,
      })),
    unauthorized: sessionEnded,
    // Installers have no live stream (the server closes it with 4403); nothing to reconnect to.
    forbidden: () => {
      live = null;
      store.set({ connection: 'idle' });
    },
  });
  store.set({ connection: 'connecting' });
  live.start();
  if (kiosk) return;
  sound = new AlarmSound(waitingPriority);
  sound.start();
}

export function switchLocale(l: Locale): void {
  setLocale(l);
  store.set({ locale: l });
}

/** The most urgent alarm that should sound for this user, or null. */
function waitingPriority(): number | null {
  const s = store.get();
  if (!s.user) return null;
  const lead = isLead(s.user);
  const hearing = lead || (s.me?.signedIn && s.me.state !== 'away');
  if (!hearing) return null;
  let best: number | null = null;
  for (const a of s.alarms.values()) {
    if (!isWaiting(a)) continue;
    const mine = a.presentedTo.includes(s.user.id);
    const nobody = a.presentedTo.length === 0;
    if (mine || nobody || (lead && escalated.has(a.id))) best = best === null ? a.priority : Math.min(best, a.priority);
  }
  return best;
}

function announce(a: Alarm): void {
  const last = announced.get(a.id) ?? 0;
  if (Date.now() - last < 20_000) return;
  announced.set(a.id, Date.now());
  const say = () => {
    const name = elderName(a.elderId) ?? t('queue.unknownElder');
    speak(t('speech.alarm', { priority: label('priority', a.priority), name, kind: label('kind', a.kind) }), locale(), a.priority === 1);
  };
  if (a.elderId !== null && !elderName(a.elderId)) void ensureElder(a.elderId).then(say, say);
  else say();
}

// ---------------------------------------------------------------- pushed messages

/** Stores an alarm; `notify` tells the open file to reload its timeline (not for the file's own reload). */
function putAlarm(a: Alarm, notify = true): void {
  store.set((s) => {
    const alarms = new Map(s.alarms);
    if (isOpenAlarm(a) || isAfterCare(a)) alarms.set(a.id, a);
    else alarms.delete(a.id);
    return { alarms };
  });
  if (a.elderId !== null) void ensureElder(a.elderId);
  if (!isWaiting(a)) {
    escalated.delete(a.id);
    // "a new alarm is waiting" notices go once someone has taken it
    if (store.get().notices.some((n) => n.alarmId === a.id && n.kind === 'alert')) store.set((st) => ({ notices: st.notices.filter((n) => n.alarmId !== a.id) }));
  }
  sound?.poke();
  if (notify) alarmListeners.forEach((fn) => fn(a));
}

const alarmListeners = new Set<(a: Alarm) => void>();
export function onAlarmUpdate(fn: (a: Alarm) => void): () => void {
  alarmListeners.add(fn);
  return () => void alarmListeners.delete(fn);
}
/** Something about the alarm changed elsewhere (a call on it): the open file reloads its timeline. */
const pokeTimers = new Map<number, ReturnType<typeof setTimeout>>();
export function pokeAlarm(id: number): void {
  clearTimeout(pokeTimers.get(id));
  pokeTimers.set(
    id,
    setTimeout(() => {
      const a = store.get().alarms.get(id);
      if (a) alarmListeners.forEach((fn) => fn(a));
    }, 300),
  );
}

type WsType = WsMessage['type'];
type WsOf<T extends WsType> = Extract<WsMessage, { type: T }>;
const wsListeners = new Map<WsType, Set<(m: WsMessage) => void>>();
/**
 * Listen to one pushed message type (the hotline pop, the call-back list…): a screen registers here instead of
 * growing the switch below. Each listener runs on its own; one that throws does not stop the others.
 */
export function onWs<T extends WsType>(type: T, fn: (m: WsOf<T>) => void): () => void {
  let set = wsListeners.get(type);
  if (!set) wsListeners.set(type, (set = new Set()));
  const f = fn as (m: WsMessage) => void;
  set.add(f);
  return () => void set.delete(f);
}

function onMessage(m: WsMessage): void {
  for (const fn of wsListeners.get(m.type) ?? []) {
    try {
      fn(m);
    } catch (e) {
      console.error(`ws listener for ${m.type} failed`, e);
    }
  }
  const s = store.get();
  switch (m.type) {
    case 'hello':
      // The cookie is shared by the browser's tabs: if another tab logged in as someone else, this page's session
      // is over; it must not go on as the other user.
      if (s.user && m.user.id !== s.user.id) {
        sessionEnded();
        return;
      }
      store.set({ user: { ...s.user, ...m.user } });
      break;
    case 'snapshot': {
      const alarms = new Map<number, Alarm>();
      for (const a of m.alarms) alarms.set(a.id, a);
      const first = firstSnapshot;
      const fresh = m.alarms.filter((a) => isWaiting(a) && (first || !s.alarms.has(a.id))).sort(byPriorityThenAge);
      firstSnapshot = false;
      store.set({ alarms });
      void restoreLiveCalls();
      for (const a of m.alarms) if (a.elderId !== null) void ensureElder(a.elderId);
      for (const a of m.alarms) alarmListeners.forEach((fn) => fn(a));
      if (!first) for (const a of fresh.slice(0, 3)) announce(a);
      // An alarm presented to this agent while the connection was down (or before a reload) pops now.
      const missed = fresh.find((a) => s.user && a.presentedTo.includes(s.user.id));
      if (missed) {
        screenPop({ alarmId: missed.id, elderId: missed.elderId ?? undefined, reason: 'present' }, missed.priority);
        attendTo(missed);
      }
      // If the alarm on screen was closed while we were away, say so.
      const open = s.open?.alarmId;
      if (open !== undefined && !alarms.has(open)) void refreshAlarm(open);
      sound?.poke();
      break;
    }
    case 'alarm':
      putAlarm(m.alarm);
      if (m.action === 'raised') announce(m.alarm);
      break;
    case 'present':
      putAlarm(m.alarm);
      announce(m.alarm);
      screenPop({ alarmId: m.alarm.id, elderId: m.alarm.elderId ?? undefined, reason: 'present' }, m.alarm.priority);
      attendTo(m.alarm);
      break;
    case 'supervisor_alert':
      putAlarm(m.alarm);
      if (isWaiting(m.alarm)) escalated.add(m.alarm.id);
      sound?.poke();
      raiseSupervisorAlert(m.alarm, m.reason);
      announce(m.alarm);
      break;
    case 'agent': {
      const agents = new Map(s.agents);
      const prev = agents.get(m.userId);
      const wrapUpUntil = m.wrapUpUntil ?? null;
      agents.set(m.userId, { ...(prev ?? { userId: m.userId, signedIn: true }), userId: m.userId, state: m.state, extension: m.extension, wrapUpUntil, since: prev?.state === m.state ? prev.since : m.at, signedIn: m.extension !== null });
      const me = m.userId === s.user?.id ? { ...(s.me ?? { userId: m.userId, signedIn: true }), state: m.state, extension: m.extension, wrapUpUntil, since: s.me?.state === m.state ? s.me.since : m.at, signedIn: m.extension !== null } : s.me;
      store.set({ agents, me: me as AgentStatus | null });
      if (isLead(s.user) && !prev) void refreshAgents();
      break;
    }
    case 'call':
      putCall(m.call);
      break;
    default:
      break;
  }
}

/**
 * Opens a file by itself (screen-pop), except over something that matters as much: an alarm this agent is
 * working (accepted, in progress) is never replaced, and an alarm still waiting only by a more urgent one.
 * Then a notice with an "open" button says a new alarm is waiting.
 */
export function screenPop(target: Omit<OpenFile, 'nonce'>, priority: number): void {
  const s = store.get();
  const cur = s.open?.alarmId !== undefined ? s.alarms.get(s.open.alarmId) : undefined;
  const same = cur?.id === target.alarmId;
  const working = cur && !same && isOpenAlarm(cur) && cur.ownerId === s.user?.id;
  const moreUrgentWaiting = cur && !same && isWaiting(cur) && cur.priority <= priority;
  if (working || moreUrgentWaiting) {
    notify('alert', t('pop.waiting', { kind: label('kind', priorityKind(target.alarmId)), name: elderName(target.elderId ?? null) ?? '' }), { alarmId: target.alarmId, ms: 0 });
    return;
  }
  openFile(target);
  // an agent reading the call log: the pop must be seen
  if (store.get().view === 'calls') store.set({ view: 'desk' });
}

/** After the agent resolved or closed an alarm: the most urgent one presented to them and still waiting pops. */
function popNextWaiting(): void {
  const s = store.get();
  const next = [...s.alarms.values()].filter((a) => isWaiting(a) && s.user && a.presentedTo.includes(s.user.id)).sort(byPriorityThenAge)[0];
  if (next) openFile({ alarmId: next.id, elderId: next.elderId ?? undefined, reason: 'present' });
}

/** A P1 presented to this agent while the page is hidden: a system notification and a flashing title. */
function attendTo(a: Alarm): void {
  const s = store.get();
  if (a.priority !== 1 || !s.user || !a.presentedTo.includes(s.user.id) || !isWaiting(a)) return;
  const go = () =>
    attend({ alarmId: a.id, title: () => t('attention.title', { kind: label('kind', a.kind), name: elderName(a.elderId) ?? '' }).trim(), body: t('attention.body') }, () => {
      openFile({ alarmId: a.id, elderId: a.elderId ?? undefined, reason: 'present' });
      store.set({ view: 'desk' });
    });
  if (a.elderId !== null && !elderName(a.elderId)) void ensureElder(a.elderId).then(go, go);
  else go();
}

function priorityKind(id: number | undefined): string {
  return (id !== undefined && store.get().alarms.get(id)?.kind) || 'sos';
}

export function openFile(target: Omit<OpenFile, 'nonce'>): void {
  store.set({ open: { ...target, nonce: ++openNonce }, selectedAlarmId: target.alarmId ?? store.get().selectedAlarmId });
  if (target.elderId !== undefined) void ensureElder(target.elderId);
}

export function closeFile(): void {
  store.set({ open: null });
}

// ---------------------------------------------------------------- reads

const elderRequests = new Map<number, Promise<ElderFull | null>>();
export function ensureElder(id: number, force = false): Promise<ElderFull | null> {
  const cached = store.get().elders.get(id);
  if (!force && cached && typeof cached === 'object') return Promise.resolve(cached);
  const pending = elderRequests.get(id);
  if (pending && !force) return pending;
  const p = get<ElderFull>(`/api/elders/${id}`)
    .then((e) => {
      store.set((s) => ({ elders: new Map(s.elders).set(id, e) }));
      return e;
    })
    .catch((e: unknown) => {
      if (e instanceof HttpError && e.status === 404) store.set((s) => ({ elders: new Map(s.elders).set(id, 'missing') }));
      return null;
    })
    .finally(() => elderRequests.delete(id));
  elderRequests.set(id, p);
  return p;
}

export async function refreshAlarm(id: number): Promise<AlarmDetail | null> {
  try {
    const d = await get<AlarmDetail>(`/api/alarms/${id}`);
    putAlarm(d.alarm, false);
    return d;
  } catch {
    return null;
  }
}

export async function refreshMe(): Promise<void> {
  const me = await get<AgentStatus>('/api/agents/me').catch(() => null);
  if (me) store.set({ me });
}

/** Every agent's state (supervisors); agents who never signed in come from the user list, as signed out. */
export async function refreshAgents(): Promise<void> {
  const [list, users] = await Promise.all([get<AgentStatus[]>('/api/agents').catch(() => null), get<User[]>('/api/users?role=agent').catch(() => [] as User[])]);
  if (!list) return;
  const agents = new Map(list.map((a) => [a.userId, a]));
  for (const u of users) {
    if (!agents.has(u.id) && !u.disabled) agents.set(u.id, { userId: u.id, username: u.username, displayName: u.displayName, role: u.role, state: 'away', signedIn: false, extension: null, since: '' });
  }
  store.set({ agents });
}

// ---------------------------------------------------------------- actions

export type AlarmActionName = 'accept' | 'release' | 'note' | 'resolve' | 'follow-up' | 'close';

/** Localised message for an error from the gateway. */
export function errorText(e: unknown): string {
  if (e instanceof HttpError) {
    if (e.code === 'already_accepted') {
      const owner = /by user (\d+)/.exec(e.message)?.[1];
      return t('error.alreadyAccepted', { owner: owner ? actorName(Number(owner)) : '—' });
    }
    if (e.code === 'not_owner') return t('error.notOwner');
    if (e.code === 'illegal_transition') return t('error.illegal', { message: e.message });
    if (e.code === 'outcome_required') return t('error.outcomeRequired');
    if (e.status === 0) return t('error.network');
    if (e.status === 403) return t('error.forbidden');
    return t('error.server', { status: e.status, message: e.message });
  }
  return String((e as Error)?.message ?? e);
}

/** The server's plain messages come as "中文 / English": the half in the locale. */
export function inLocale(message: string): string {
  const parts = message.split(' / ');
  if (parts.length !== 2 || !/[\u4e00-\u9fff]/.test(parts[0]!)) return message;
  return (locale() === 'en' ? parts[1] : parts[0])!.trim();
}

export async function alarmAction(id: number, action: AlarmActionName, body: { note?: string; outcome?: string; satisfaction?: number } = {}): Promise<Alarm> {
  unlockSound();
  try {
    const a = await post<Alarm>(`/api/alarms/${id}/${action}`, body);
    putAlarm(a);
    if (!isOpenAlarm(a)) popNextWaiting();
    return a;
  } catch (e) {
    if (e instanceof HttpError && e.status === 409) void refreshAlarm(id);
    throw e;
  }
}

export async function signIn(extension: string): Promise<void> {
  unlockSound();
  askNotificationPermission();
  const me = await post<AgentStatus>('/api/agents/me/sign-in', { extension });
  store.set({ me });
  localStorage.setItem('anxin.extension', extension);
}
export async function signOut(): Promise<void> {
  const me = await post<AgentStatus>('/api/agents/me/sign-out');
  store.set({ me });
}
export async function setAgentState(state: string): Promise<void> {
  unlockSound();
  try {
    const me = await post<AgentStatus>('/api/agents/me/state', { state });
    store.set({ me });
  } catch (e) {
    // e.g. ready while still holding an accepted alarm: the server says why, in plain words
    if (e instanceof HttpError && e.status === 409) throw new Error(inLocale(e.message) || t('agent.stateRefused'));
    throw e;
  }
}

/** Expose a little state to tests and to the support desk (window.__anxin). */
export function debugHandle(): Record<string, unknown> {
  return {
    get connection() {
      return store.get().connection;
    },
    get drops() {
      return store.get().drops;
    },
    get open() {
      return store.get().open;
    },
    get me() {
      return store.get().me;
    },
    get alarms() {
      return [...store.get().alarms.values()].map((a) => ({ id: a.id, kind: a.kind, state: a.state }));
    },
  };
}
