/**
 * The WebSocket messages the call centre pushes (issue 19), as they travel: one definition for the gateway that
 * sends them (bus `ws.push`) and the dashboard that reads them (`dashboard/src/types.ts` re-exports these).
 * No imports on purpose: the dashboard type-checks this file without Node's types. Times are ISO strings.
 */

export interface IncomingCallMatch {
  elder?: { id: number; name?: string; deviceId?: number };
  contact?: { id: number; name?: string; relation?: string };
}

/** An open alarm of the caller's elder (unhandled or in hand), most urgent first. */
export interface OpenAlarmBrief {
  id: number;
  kind: string;
  priority: number;
  state: string;
  firstAt: string;
}

/** A recent call with the elder or from the number, newest first. */
export interface RecentCallBrief {
  id: number;
  flow: string | null;
  direction: string;
  party: string;
  outcome: string | null;
  createdAt: string;
  talkS: number | null;
  agentId: number | null;
}

/**
 * The hotline screen-pop (来电弹屏), to the ringing agent only. `match` null: an unknown caller ("new caller"
 * card, create-elder shortcut). hotline_missed / hotline_answered / hotline_done update or close it.
 */
export interface IncomingCallMessage {
  type: 'incoming_call';
  entryId: string;
  /** the agent's ringing leg */
  channelId: string;
  callerNumber: string;
  did: string;
  hotline: string;
  language: string;
  priority: boolean;
  ivrChoice: 'emergency' | 'services' | null;
  arrivedAt: string;
  match: IncomingCallMatch | null;
  openAlarms: OpenAlarmBrief[];
  recentCalls: RecentCallBrief[];
}

/** This agent's ring ended unanswered (no_answer, refused…): the pop closes for them. */
export interface HotlineMissedMessage {
  type: 'hotline_missed';
  entryId: string;
  reason: string;
}

export interface HotlineAnsweredMessage {
  type: 'hotline_answered';
  entryId: string;
  /** who took it: the pop stays open for them and closes for the others */
  userId: number;
  bridgeId: string;
  waitMs: number;
}

export interface HotlineDoneMessage {
  type: 'hotline_done';
  entryId: string;
  result: string;
  waitMs: number;
  agentId: number | null;
}

/** To supervisors: a caller overflowed the queue (waited too long, or nobody is signed in). */
export interface QueueAlertMessage {
  type: 'queue_alert';
  reason: 'queue_overflow';
  overflow: 'max_wait' | 'no_agents';
  to: 'night' | 'voicemail' | 'hangup';
  entryId: string;
  did: string;
  callerNumber: string;
  priority: boolean;
  elderId: number | null;
  waitMs: number;
}

/** A row of the call-back list: a caller who hung up in the queue, or left a voicemail. */
export interface CallbackListRow {
  id: number;
  reason: 'abandoned' | 'voicemail';
  entryId: string;
  callerNumber: string;
  did: string;
  elderId: number | null;
  contactId: number | null;
  priority: boolean;
  waitMs: number;
  position: number | null;
  recording: string | null;
  createdAt: string;
  handledAt: string | null;
  handledBy: number | null;
}

/** To agents and supervisors: a caller was put on the call-back list. */
export interface CallbackRequestMessage {
  type: 'callback_request';
  request: CallbackListRow;
}

/**
 * An action on a live call's timeline (hold, mute, transfer, conference, supervisor …), to the call's agents and to
 * supervisors: every tab and a reloaded page show the call's real state (held, muted), not what it last asked for.
 */
export interface CallActionMessage {
  type: 'call_action';
  callId: string;
  action: string;
  /** a user id, or 'system' */
  by: string;
  channelId: string | null;
  at: string;
  /** the action's detail without what must not spread (DTMF digits) */
  detail: Record<string, unknown>;
}

/** A work order (工单) as it travels: the row, times as ISO strings (more fields may ride along). */
export interface WorkOrderBrief {
  id: number;
  type: string;
  state: string;
  priority: number;
  elderId: number | null;
  alarmId: number | null;
  callId: string | null;
  title: string;
  stationId: number | null;
  staffId: number | null;
  receivedAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

/** To agents, supervisors and admins: a work order was opened (action 'open') or went through an action (issue 21). */
export interface WorkOrderMessage {
  type: 'work_order';
  action: string;
  order: WorkOrderBrief;
}

/**
 * To agents, supervisors and admins: an SMS's delivery state changed (queued, submitted, delivered, failed, a reply in).
 * Only what a list needs to refresh; the number and the text are fetched by whoever may see them (GET /api/sms).
 */
export interface SmsStateMessage {
  type: 'sms';
  sms: { id: number; direction: 'out' | 'in'; state: string; workOrderId: number | null; alarmId: number | null; elderId: number | null };
}

/** To agents, supervisors and admins: a care run (平安呼叫, reminder) changed, or a care task was made or done (issue 22). */
export interface CareRunMessage {
  type: 'care_run';
  run: Record<string, unknown>;
}
export interface CareTaskMessage {
  type: 'care_task';
  task: Record<string, unknown>;
}

/** To the wallboard kiosk (大屏) instead of the rows it may not see: something changed, reload GET /api/wallboard. */
export interface WallboardNudgeMessage {
  type: 'wallboard';
  topic: 'alarm' | 'agent' | 'call' | 'resync';
  /** topic alarm: the alarm as GET /api/wallboard shows it (name masked, position rounded), so it is on the wall at once */
  alarm?: WallAlarm;
}

/** An alarm row on the wallboard: no phone, no address, the elder's name masked (张*兰), the position rounded. */
export interface WallAlarm {
  id: number;
  kind: string;
  priority: number;
  state: string;
  firstAt: string;
  elderName: string | null;
  area: string;
  ownerName: string | null;
  lat: number | null;
  lon: number | null;
}

export type HotlineWsMessage = IncomingCallMessage | HotlineMissedMessage | HotlineAnsweredMessage | HotlineDoneMessage;

/** Everything sent through bus `ws.push` (some dashboards only); the WebSocket adds seq and at. */
export type PushMessage = HotlineWsMessage | QueueAlertMessage | CallbackRequestMessage | CallActionMessage | WorkOrderMessage | SmsStateMessage | CareRunMessage | CareTaskMessage | WallboardNudgeMessage;

/** Wire form of a row: Dates become ISO strings, as JSON.stringify sends them. */
export type Wire<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

/** Turns a row's Date fields into ISO strings (what JSON.stringify would do), so the type says what is sent. */
export function wire<T extends object>(row: T): Wire<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out as Wire<T>;
}
