/** One small observable store for the whole app; components subscribe through useStore(selector). */
import { useEffect, useState } from 'preact/hooks';
import type { AgentStatus, Alarm, ElderFull, LiveCall, OutcomeInfo, ServerConfig, User } from './types';
import type { Locale, MsgKey } from './i18n';

export type Connection = 'idle' | 'connecting' | 'online' | 'offline';

/** What the right-hand panel shows: an alarm (with its elder) or an elder alone (inbound call without alarm). */
export interface OpenFile {
  alarmId?: number;
  elderId?: number;
  /** why it opened: 'present' (screen-pop), 'call' (inbound call rings), 'click' */
  reason: 'present' | 'call' | 'click';
  /** bumps on every re-presentation, so the panel can flash */
  nonce: number;
}

export interface Notice {
  id: number;
  kind: 'error' | 'info' | 'alert';
  text: string;
  /** optional alarm to open from the notice */
  alarmId?: number;
}

/** A supervisor alert (an alarm not accepted in time, contacts exhausted, no agent ready): stays until acknowledged. */
export interface SupAlert {
  id: number;
  alarmId: number;
  kind: string;
  priority: number;
  elderId: number | null;
  reason: string;
  /** how many times it came (the same alarm and reason) */
  count: number;
  at: number;
}

export interface State {
  locale: Locale;
  user: User | null;
  me: AgentStatus | null;
  /** GET /api/config; {} until it answers, and when it fails: read defensively */
  config: Partial<ServerConfig>;
  outcomes: Record<string, OutcomeInfo>;
  connection: Connection;
  /** when the connection was lost; drives the banner */
  offlineSince: number | null;
  reconnectAt: number | null;
  reconnectAttempt: number;
  /** times the live connection dropped since the page loaded (shown to supervisors, read by tests) */
  drops: number;
  /** every alarm the server keeps open (not closed or cleared): the live queue and the after-care list */
  alarms: Map<number, Alarm>;
  /** elders by id, for names in the queue and the file */
  elders: Map<number, ElderFull | 'loading' | 'missing'>;
  open: OpenFile | null;
  calls: Map<string, LiveCall>;
  /** the call shown in the status bar */
  currentCallId: string | null;
  agents: Map<number, AgentStatus>;
  notices: Notice[];
  supAlerts: SupAlert[];
  /** the AudioContext is suspended until a click: show the "enable sound" prompt */
  soundBlocked: boolean;
  view: 'desk' | 'supervisor' | 'calls' | 'history' | 'orders' | 'care' | 'reports' | 'users' | 'import' | 'elders' | 'devices' | 'activate' | 'account' | 'wallboard';
  selectedAlarmId: number | null;
  /** why the login shows (the session ended); a key, so it follows a language switch */
  loginNotice: MsgKey | null;
}

type Listener = () => void;

function createStore<S extends object>(initial: S) {
  let state = initial;
  const listeners = new Set<Listener>();
  return {
    get: () => state,
    set(patch: Partial<S> | ((s: S) => Partial<S>)) {
      const p = typeof patch === 'function' ? patch(state) : patch;
      state = { ...state, ...p };
      for (const l of listeners) l();
    },
    subscribe(l: Listener) {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
  };
}

const savedLocale = localStorage.getItem('anxin.locale');

export const store = createStore<State>({
  locale: savedLocale === 'en' ? 'en' : 'zh-CN',
  user: null,
  me: null,
  config: {},
  outcomes: {},
  connection: 'idle',
  offlineSince: null,
  reconnectAt: null,
  reconnectAttempt: 0,
  drops: 0,
  alarms: new Map(),
  elders: new Map(),
  open: null,
  calls: new Map(),
  currentCallId: null,
  agents: new Map(),
  notices: [],
  supAlerts: [],
  soundBlocked: false,
  view: 'desk',
  selectedAlarmId: null,
  loginNotice: null,
});

export function useStore<T>(select: (s: State) => T): T {
  const [value, setValue] = useState(() => select(store.get()));
  useEffect(() => {
    const update = () => setValue(() => select(store.get()));
    update();
    // The selector is re-created on each render; subscribing once per mount is enough.
    return store.subscribe(update);
  }, []);
  return value;
}

let noticeId = 0;
export function notify(kind: Notice['kind'], text: string, opts: { alarmId?: number; ms?: number } = {}): void {
  const n: Notice = { id: ++noticeId, kind, text, alarmId: opts.alarmId };
  store.set((s) => ({ notices: [...s.notices.slice(-3), n] }));
  const ms = opts.ms ?? (kind === 'error' ? 12000 : 8000);
  if (ms > 0) setTimeout(() => dismiss(n.id), ms);
}
export function dismiss(id: number): void {
  store.set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

/** A ticking clock for the age and state timers: one interval for the whole page, aligned to the second. */
const tickers = new Set<(now: number) => void>();
let tickTimer: ReturnType<typeof setTimeout> | undefined;
function tick() {
  const now = Date.now();
  for (const f of tickers) f(now);
  tickTimer = tickers.size ? setTimeout(tick, 1000 - (now % 1000) + 5) : undefined;
}
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    tickers.add(setNow);
    if (!tickTimer) tickTimer = setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
    return () => void tickers.delete(setNow);
  }, []);
  return now;
}
