/**
 * The work-order (工单) lifecycle, pure: whether an action is legal in a state, what it needs, and what it changes.
 * The caller (gateway/workorders/) holds the row lock, writes the timeline row and the audit entry.
 *
 *   received → dispatched → accepted → on_site → done → replied → followed_up → archived
 *   - cancel from any state that is not final (archived, cancelled), with a reason;
 *   - reassign from dispatched or accepted: to another responder (→ dispatched), or back to the pool (→ received);
 *   - an enquiry or complaint may be done straight from received: the agent answers it on the phone (no responder).
 * Clocks come in as arguments.
 */

export const WORK_ORDER_TYPES = ['emergency', 'service', 'enquiry', 'complaint'] as const;
export type WorkOrderType = (typeof WORK_ORDER_TYPES)[number];

export const WORK_ORDER_STATES = ['received', 'dispatched', 'accepted', 'on_site', 'done', 'replied', 'followed_up', 'archived', 'cancelled'] as const;
export type WorkOrderState = (typeof WORK_ORDER_STATES)[number];

export const WORK_ORDER_ACTIONS = ['dispatch', 'accept', 'arrive', 'done', 'reply', 'follow_up', 'archive', 'cancel', 'reassign'] as const;
export type WorkOrderAction = (typeof WORK_ORDER_ACTIONS)[number];

/** Labels as data, for error messages and the dashboard. */
export const STATE_LABELS: Record<WorkOrderState, { zh: string; en: string }> = {
  received: { zh: '已受理', en: 'received' },
  dispatched: { zh: '已派单', en: 'dispatched' },
  accepted: { zh: '已接单', en: 'accepted' },
  on_site: { zh: '已到达现场', en: 'on site' },
  done: { zh: '已完成', en: 'done' },
  replied: { zh: '已回复', en: 'replied' },
  followed_up: { zh: '已回访', en: 'followed up' },
  archived: { zh: '已归档', en: 'archived' },
  cancelled: { zh: '已取消', en: 'cancelled' },
};
export const ACTION_LABELS: Record<WorkOrderAction, { zh: string; en: string }> = {
  dispatch: { zh: '派单', en: 'dispatch' },
  accept: { zh: '接单', en: 'accept' },
  arrive: { zh: '到达现场', en: 'mark arrived' },
  done: { zh: '完成', en: 'complete' },
  reply: { zh: '回复', en: 'reply to' },
  follow_up: { zh: '回访', en: 'follow up' },
  archive: { zh: '归档', en: 'archive' },
  cancel: { zh: '取消', en: 'cancel' },
  reassign: { zh: '改派', en: 'reassign' },
};

export const FINAL_STATES: readonly WorkOrderState[] = ['archived', 'cancelled'];
const FINAL: ReadonlySet<WorkOrderState> = new Set(FINAL_STATES);

type Row = Partial<Record<WorkOrderAction, readonly WorkOrderState[]>>;
/** Every edge. reassign has two targets: which one depends on whether a responder is given. */
export const TRANSITIONS: Readonly<Record<WorkOrderState, Row>> = {
  received: { dispatch: ['dispatched'], cancel: ['cancelled'] },
  dispatched: { accept: ['accepted'], reassign: ['dispatched', 'received'], cancel: ['cancelled'] },
  accepted: { arrive: ['on_site'], reassign: ['dispatched', 'received'], cancel: ['cancelled'] },
  on_site: { done: ['done'], cancel: ['cancelled'] },
  done: { reply: ['replied'], cancel: ['cancelled'] },
  replied: { follow_up: ['followed_up'], cancel: ['cancelled'] },
  followed_up: { archive: ['archived'], cancel: ['cancelled'] },
  archived: {},
  cancelled: {},
};
/** Answered by the agent on the phone: no responder to send. */
const DESK_TYPES: ReadonlySet<WorkOrderType> = new Set<WorkOrderType>(['enquiry', 'complaint']);

/** The state's time column, stamped when the order enters the state. */
export const STATE_TIME = {
  received: 'receivedAt',
  dispatched: 'dispatchedAt',
  accepted: 'acceptedAt',
  on_site: 'onSiteAt',
  done: 'doneAt',
  replied: 'repliedAt',
  followed_up: 'followedUpAt',
  archived: 'archivedAt',
  cancelled: 'cancelledAt',
} as const satisfies Record<WorkOrderState, string>;
export type StateTimeField = (typeof STATE_TIME)[WorkOrderState];

/** What the lifecycle reads and writes of an order. */
export interface OrderSnapshot {
  type: WorkOrderType;
  state: WorkOrderState;
  stationId: number | null;
  staffId: number | null;
  result: string | null;
  satisfaction: number | null;
}

export interface ActionInput {
  /** dispatch, reassign: a station and/or a staff member */
  stationId?: number | null;
  staffId?: number | null;
  /** done */
  result?: string;
  /** follow_up: 1–5, and an optional comment */
  satisfaction?: number;
  comment?: string;
  /** cancel */
  reason?: string;
}

export type OrderPatch = Partial<Omit<OrderSnapshot, 'type'>> & {
  followUpComment?: string | null;
  cancelReason?: string | null;
} & Partial<Record<StateTimeField, Date | null>>;

export type LifecycleError = 'illegal_transition' | 'same_responder' | 'responder_required' | 'result_required' | 'bad_satisfaction' | 'reason_required';
export type Decision =
  | { ok: true; next: WorkOrderState; patch: OrderPatch }
  | { ok: false; code: LifecycleError; message: string; field?: string };

const fail = (code: LifecycleError, message: string, field?: string): Decision => ({ ok: false, code, message, ...(field ? { field } : {}) });
const blank = (s: string | undefined | null) => s === undefined || s === null || s.trim() === '';

export function isFinal(state: WorkOrderState): boolean {
  return FINAL.has(state);
}

/** Open: not final (may still change). */
export function isOpenState(state: WorkOrderState): boolean {
  return !FINAL.has(state);
}

/** The states an action may lead to from a state for this type ([] = illegal). */
export function targets(type: WorkOrderType, state: WorkOrderState, action: WorkOrderAction): readonly WorkOrderState[] {
  if (state === 'received' && action === 'done' && DESK_TYPES.has(type)) return ['done'];
  return TRANSITIONS[state][action] ?? [];
}

export function allowedActions(type: WorkOrderType, state: WorkOrderState): WorkOrderAction[] {
  return WORK_ORDER_ACTIONS.filter((a) => targets(type, state, a).length > 0);
}

function illegal(o: OrderSnapshot, action: WorkOrderAction): Decision {
  const s = STATE_LABELS[o.state];
  const a = ACTION_LABELS[action];
  const why = isFinal(o.state) ? `; ${s.en} is final` : '';
  return fail('illegal_transition', `工单${s.zh}，不能${a.zh} / cannot ${a.en} a work order that is ${s.en}${why}`);
}

/** Decides one action on an order: the next state and the fields to write, or why not. */
export function decide(o: OrderSnapshot, action: WorkOrderAction, input: ActionInput, now: Date): Decision {
  const to = targets(o.type, o.state, action);
  if (to.length === 0) return illegal(o, action);
  const stationId = input.stationId ?? null;
  const staffId = input.staffId ?? null;
  const hasResponder = stationId !== null || staffId !== null;
  let next = to[0]!;
  const patch: OrderPatch = {};
  switch (action) {
    case 'dispatch':
      if (!hasResponder) return fail('responder_required', '派单需要服务站或人员 / dispatch needs a station or a staff member (stationId and/or staffId)', 'body/stationId');
      Object.assign(patch, { stationId, staffId });
      break;
    case 'reassign':
      if (hasResponder) {
        if (stationId === o.stationId && staffId === o.staffId) return fail('same_responder', '改派需要另一个服务站或人员 / reassign needs another responder than the current one', 'body/staffId');
        Object.assign(patch, { stationId, staffId, acceptedAt: null, onSiteAt: null });
      } else {
        // Back to the pool: nobody holds it until the next dispatch.
        next = 'received';
        Object.assign(patch, { stationId: null, staffId: null, dispatchedAt: null, acceptedAt: null });
      }
      break;
    case 'done':
      if (blank(input.result)) return fail('result_required', '完成需要处理结果 / done needs a result', 'body/result');
      patch.result = input.result!.trim();
      break;
    case 'follow_up':
      if (!Number.isInteger(input.satisfaction) || input.satisfaction! < 1 || input.satisfaction! > 5) {
        return fail('bad_satisfaction', '回访需要满意度 1–5 / follow-up needs a satisfaction score from 1 to 5', 'body/satisfaction');
      }
      Object.assign(patch, { satisfaction: input.satisfaction, followUpComment: blank(input.comment) ? null : input.comment!.trim() });
      break;
    case 'cancel':
      if (blank(input.reason)) return fail('reason_required', '取消需要原因 / cancel needs a reason', 'body/reason');
      patch.cancelReason = input.reason!.trim();
      break;
    default:
      break;
  }
  patch.state = next;
  // Back in the pool keeps its first reception time: the order's age (and its SLA) runs from when it came in.
  if (next !== 'received') patch[STATE_TIME[next]] = now;
  return { ok: true, next, patch };
}

/** The order after a decision (for callers and tests that keep a snapshot). */
export function applyPatch<T extends OrderSnapshot>(o: T, d: Extract<Decision, { ok: true }>): T {
  const out: Record<string, unknown> = { ...(o as object) };
  for (const [k, v] of Object.entries(d.patch)) if (k in o || k === 'state') out[k] = v;
  return out as T;
}
