/**
 * The alarm lifecycle state machine (architecture.md, "Alarm lifecycle").
 *
 * Pure: `transition` only answers whether an action is legal in a state and what the next
 * state is. The caller (gateway/) writes the timeline row (who, when, note, outcome) and holds
 * the row lock that makes `accept` exclusive.
 *
 * Operator path:  raised → presented → accepted → in_progress → resolved → followed_up → closed
 *   - present on presented: re-presentation (escalation), state unchanged;
 *   - release on accepted / in_progress: back to presented (someone else may take it);
 *   - note (any non-terminal state): keeps the state, except that a note on an accepted alarm moves it to in_progress;
 *   - resolve: only from in_progress, and needs an outcome code;
 *   - close on resolved: only when no follow-up is required (`opts.followUpRequired === false`).
 * Condition alarms additionally clear by themselves from raised / presented (`clear` → cleared).
 * closed and cleared are terminal: every action on them is refused.
 */
import { ALARM_PRIORITY, type AlarmKind } from '../protocols/message.ts';

export const ALARM_STATES = [
  'raised',
  'presented',
  'accepted',
  'in_progress',
  'resolved',
  'followed_up',
  'closed',
  'cleared',
] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export const ACTIONS = ['present', 'accept', 'release', 'start', 'note', 'resolve', 'follow_up', 'close', 'clear'] as const;
export type AlarmAction = (typeof ACTIONS)[number];

/** 'operator': only a person ends it. 'condition': may also clear by itself when the condition restores. */
export type AlarmClass = 'operator' | 'condition';

export interface OutcomeInfo {
  zh: string;
  en: string;
  /** Whether a resolved alarm with this outcome needs a follow-up call (回访) before it may close. */
  followUp: boolean;
}

/** Outcome codes recorded when an alarm is resolved, with labels as data. */
export const OUTCOME_CODES = {
  accidental_press: { zh: '误按（误报）', en: 'Accidental press (false alarm)', followUp: false },
  elder_ok: { zh: '回拨确认老人安好', en: 'Elder fine after the call', followUp: false },
  contact_attended: { zh: '紧急联系人已到场', en: 'Emergency contact attended', followUp: true },
  service_dispatched: { zh: '已派服务人员', en: 'Service staff dispatched', followUp: true },
  ambulance_120: { zh: '已呼叫120急救', en: 'Ambulance called (120)', followUp: true },
  police_110: { zh: '已报警110', en: 'Police called (110)', followUp: true },
  visit_dispatched: { zh: '无人接听，已派人上门', en: 'No answer: visit dispatched', followUp: true },
  test: { zh: '测试', en: 'Test', followUp: false },
} as const satisfies Record<string, OutcomeInfo>;
export type OutcomeCode = keyof typeof OUTCOME_CODES;

export function isOutcomeCode(v: unknown): v is OutcomeCode {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(OUTCOME_CODES, v);
}

export interface TransitionOptions {
  alarmClass: AlarmClass;
  /** Required by 'resolve'. */
  outcome?: string;
  /** Free text for the caller's timeline; the state machine does not need it. */
  note?: string;
  /**
   * For 'close' from resolved: the alarm may skip follow-up only when this is false.
   * Default true (closing a resolved alarm without follow-up is refused).
   * Tip: pass `!OUTCOME_CODES[storedOutcome].followUp`.
   */
  followUpRequired?: boolean;
}

export type TransitionError = 'illegal_transition' | 'outcome_required' | 'bad_outcome';
export type TransitionResult =
  | { ok: true; next: AlarmState }
  | { ok: false; code: TransitionError; message: string };

type Table = Partial<Record<AlarmState, Partial<Record<AlarmAction, AlarmState>>>>;

/** Edges shared by both classes. */
const OPERATOR_TABLE: Table = {
  raised: { present: 'presented', note: 'raised' },
  presented: { present: 'presented', accept: 'accepted', note: 'presented' },
  accepted: { start: 'in_progress', note: 'in_progress', release: 'presented' },
  in_progress: { note: 'in_progress', release: 'presented', resolve: 'resolved' },
  resolved: { note: 'resolved', follow_up: 'followed_up', close: 'closed' },
  followed_up: { note: 'followed_up', close: 'closed' },
};

/** Condition alarms: the operator path plus self-clearing before anyone owns them. */
const CONDITION_TABLE: Table = {
  ...OPERATOR_TABLE,
  raised: { ...OPERATOR_TABLE.raised, clear: 'cleared' },
  presented: { ...OPERATOR_TABLE.presented, clear: 'cleared' },
};

const TERMINAL: ReadonlySet<AlarmState> = new Set<AlarmState>(['closed', 'cleared']);
const OPEN: ReadonlySet<AlarmState> = new Set<AlarmState>(['raised', 'presented', 'accepted', 'in_progress']);

function fail(code: TransitionError, message: string): TransitionResult {
  return { ok: false, code, message };
}

export function transition(state: AlarmState, action: AlarmAction, opts: TransitionOptions): TransitionResult {
  const table = opts.alarmClass === 'condition' ? CONDITION_TABLE : OPERATOR_TABLE;
  const next = table[state]?.[action];
  if (next === undefined) {
    const why = TERMINAL.has(state) ? ` (${state} is terminal)` : '';
    return fail('illegal_transition', `cannot ${action} a ${opts.alarmClass} alarm in state ${state}${why}`);
  }
  if (action === 'resolve') {
    if (opts.outcome === undefined || opts.outcome === '') return fail('outcome_required', 'resolve needs an outcome code');
    if (!isOutcomeCode(opts.outcome)) {
      return fail('bad_outcome', `unknown outcome code ${JSON.stringify(opts.outcome)}; expected one of ${Object.keys(OUTCOME_CODES).join(', ')}`);
    }
  }
  if (action === 'close' && state === 'resolved' && opts.followUpRequired !== false) {
    return fail('illegal_transition', 'cannot close a resolved alarm that requires follow-up; follow_up first (or pass followUpRequired: false)');
  }
  return { ok: true, next };
}

/** Actions that may be legal in a state (close from resolved still depends on followUpRequired). */
export function allowedActions(state: AlarmState, alarmClass: AlarmClass): AlarmAction[] {
  const row = (alarmClass === 'condition' ? CONDITION_TABLE : OPERATOR_TABLE)[state] ?? {};
  return ACTIONS.filter((a) => row[a] !== undefined);
}

/**
 * Open = not yet resolved: raised, presented, accepted, in_progress. This is the de-duplication
 * test: a repeat of (device, kind) while an open alarm exists bumps its count instead of making a new one.
 */
export function isOpen(state: AlarmState): boolean {
  return OPEN.has(state);
}

/** closed and cleared accept no further action. */
export function isTerminal(state: AlarmState): boolean {
  return TERMINAL.has(state);
}

export const CONDITION_KINDS = [
  'low_battery',
  'device_silent',
  'power_cut',
  'receiver_silent',
  'geofence_exit',
  'vitals_abnormal',
  'inactivity',
  'test_missed',
] as const satisfies readonly AlarmKind[];

const CONDITION_SET: ReadonlySet<AlarmKind> = new Set<AlarmKind>(CONDITION_KINDS);

export function alarmClassOf(kind: AlarmKind): AlarmClass {
  return CONDITION_SET.has(kind) ? 'condition' : 'operator';
}

/** Default priority of a kind (1 = most urgent), re-exported for convenience. */
export function priorityOf(kind: AlarmKind): 1 | 2 | 3 | 4 | 5 {
  return ALARM_PRIORITY[kind];
}
