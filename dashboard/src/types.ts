/**
 * The gateway's JSON shapes as the dashboard reads them (dates arrive as ISO strings).
 *
 * Where a route declares its schema, the type is derived from `api-types.ts`, generated from the gateway's
 * OpenAPI document (`npm run api-types`; a unit test fails when it is out of date): the response schemas are in
 * gateway/http/responses.ts. The rest are still written by hand here, because their routes (or WebSocket
 * messages) declare no response schema yet; see the note at each.
 */
import type { IncomingCallMessage, PushMessage } from '../../gateway/ws-messages';
import type { paths } from './api-types';

type Json<C> = C extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body of a route's 200 answer, from the generated OpenAPI types. */
type Answer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: infer R } } ? Json<R> : never;
/** The JSON body a route accepts. */
type RequestBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: infer R } ? Json<R> : never;

/**
 * The response schemas are open (additionalProperties: the gateway sends fields they do not list), so the generated
 * objects carry an index signature `[key: string]: unknown`. Closed<T> drops it, at every depth, so a misspelt field
 * is a compile error again; an object that is nothing but an index signature (a JSON column such as `detail`) stays.
 */
type Strip<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
type Closed<T> = T extends readonly (infer E)[] ? Closed<E>[] : T extends object ? ([keyof Strip<T>] extends [never] ? T : { [K in keyof Strip<T>]: Closed<Strip<T>[K]> }) : T;

/** A derived type that became `never` (a route or field renamed) fails `tsc -p dashboard` here instead of type-checking everything. */
type Derived<T> = [T] extends [never] ? false : true;

/** From POST /api/users. */
export type Role = RequestBody<'/api/users', 'post'>['role'];

/** GET /api/auth/me → user. */
export type User = Closed<Answer<'/api/auth/me', 'get'>['user']>;

/** The states an agent may choose (POST /api/agents/me/state); on_call and ringing (振铃, a hotline call) are set by telephony, handling by accepting an alarm. */
export type SettableState = RequestBody<'/api/agents/me/state', 'post'>['state'];
export type AgentState = SettableState | 'on_call' | 'handling' | 'ringing';
export const SETTABLE_STATES = ['ready', 'not_ready', 'away', 'wrap_up'] as const satisfies readonly SettableState[];
// every settable state is listed (a compile error here when the gateway adds one)
const _everySettable: Record<SettableState, true> = { ready: true, not_ready: true, away: true, wrap_up: true };
void _everySettable;

/** GET /api/agents/me; GET /api/agents adds each agent's names and role (as does the WebSocket's agent list). */
type AgentRow = Closed<Answer<'/api/agents', 'get'>[number]>;
export type AgentStatus = Closed<Answer<'/api/agents/me', 'get'>> & Partial<Pick<AgentRow, 'username' | 'displayName' | 'role'>>;
// the gateway's agent states are exactly the settable ones and on_call / handling (a compile error here when they drift)
const _agentStates: [AgentState extends AgentStatus['state'] ? true : false, AgentStatus['state'] extends AgentState ? true : false] = [true, true];
void _agentStates;

/** GET /api/alarms (each); the same shape in GET /api/alarms/:id and the WebSocket's alarm messages. */
export type Alarm = Closed<Answer<'/api/alarms', 'get'>[number]>;
export type AlarmState = Alarm['state'];
export const OPEN_STATES: readonly string[] = ['raised', 'presented', 'accepted', 'in_progress'] satisfies readonly AlarmState[];

/** GET /api/alarms/:id, as generated (its elder is refined below, see Elder). */
type AlarmDetailAnswer = Closed<Answer<'/api/alarms/{id}', 'get'>>;
export type AlarmEvent = AlarmDetailAnswer['timeline'][number];
export type Contact = AlarmDetailAnswer['contacts'][number];
export type Device = AlarmDetailAnswer['devices'][number];

export interface LatLon {
  lat: number;
  lon: number;
}
export interface Geofence {
  id: string;
  name: string;
  shape: { type: 'circle'; center: LatLon; radiusM: number } | { type: 'polygon'; points: LatLon[] };
}

/** The rules' geofences, as the gateway validates them (the response schema types rules as any JSON object). */
type ElderRules = { geofences?: Geofence[] } & Record<string, unknown>;

/** GET /api/alarms/:id → elder. Installers get no health notes, access notes or ID number (optional fields): read defensively. */
export type Elder = Omit<NonNullable<AlarmDetailAnswer['elder']>, 'rules'> & { rules?: ElderRules };

/** GET /api/elders/:id. Installers get no contacts (nor health notes, access notes or ID number): read defensively. */
export type ElderFull = Omit<Closed<Answer<'/api/elders/{id}', 'get'>>, 'rules'> & { rules?: ElderRules };

/** A call record as stored (GET /api/calls, GET /api/alarms/:id → calls). */
export type CallRecord = Closed<Answer<'/api/calls', 'get'>[number]>;

/** GET /api/call-log (a page: items newest first, nextCursor) and GET /api/call-log/:id (one call's legs and timeline). */
export type CallLogPage = Closed<Answer<'/api/call-log', 'get'>>;
export type CallLogEntry = CallLogPage['items'][number];
export type CallDetail = Closed<Answer<'/api/call-log/{id}', 'get'>>;
export type CallAction = CallDetail['actions'][number];
/** GET /api/callbacks (each): the call-back list (回拨列表). */
export type CallbackRequest = Closed<Answer<'/api/callbacks', 'get'>[number]>;
/** POST /api/calls/:id/listen | whisper | barge. */
export type SuperviseMode = 'listen' | 'whisper' | 'barge';

export type CallState = 'ringing_agent' | 'dialing' | 'connected' | 'ended';

/**
 * A live call (POST /api/calls, GET /api/calls/live, WS {type:'call'}). Written by hand: POST /api/calls and the
 * WebSocket declare no schema; GET /api/calls/live's generated type must fit it (checked below).
 * Fields beyond id and state are optional: read defensively.
 */
export interface LiveCall {
  id: number | string;
  state: CallState | string;
  party?: string | null;
  number?: string | null;
  alarmId?: number | null;
  elderId?: number | null;
  contactId?: number | null;
  direction?: 'inbound' | 'outbound' | string;
  agentId?: number | null;
  startedAt?: string | null;
  answeredAt?: string | null;
  endedAt?: string | null;
  cause?: number | string | null;
  /** the leg's own state (ringing, up, ended) and channel, from GET /api/calls/live and the WebSocket */
  leg?: string | null;
  channelId?: string | null;
  flow?: string | null;
}

/** GET /api/alarms/:id */
export type AlarmDetail = Omit<AlarmDetailAnswer, 'elder'> & { elder: Elder | null };

/** GET /api/alarms/outcomes: code → labels. */
export type OutcomeInfo = Answer<'/api/alarms/outcomes', 'get'>[string];
/** The outcome codes an alarm may be resolved with (POST /api/alarms/:id/resolve). */
export type OutcomeCode = NonNullable<NonNullable<RequestBody<'/api/alarms/{id}/resolve', 'post'>>['outcome']>;

/** GET /api/alarms/stats. */
export type Stats = Answer<'/api/alarms/stats', 'get'>;

/** GET /api/telemetry/last-positions, /api/elders/:id/track and /vitals. */
export type TelemetryRow = Answer<'/api/telemetry/last-positions', 'get'>[number];

/** GET /api/config. features: routes other parts provide; absent ones are never called (no 404s in the console). */
export type ServerConfig = Closed<Answer<'/api/config', 'get'>>;

/** The call centre's pushed messages: one definition, in the gateway (gateway/ws-messages.ts). */
export type { CallbackListRow, HotlineAnsweredMessage, HotlineDoneMessage, HotlineMissedMessage, OpenAlarmBrief, QueueAlertMessage, RecentCallBrief } from '../../gateway/ws-messages';
export type IncomingCall = IncomingCallMessage;
type Seq = { seq: number; at: string };

/** Messages pushed over /api/ws; every one has seq and at. */
export type WsMessage =
  | { type: 'hello'; user: User; seq: number; at: string }
  | { type: 'snapshot'; alarms: Alarm[]; seq: number; at: string }
  | { type: 'alarm'; action: string; actor: string; alarm: Alarm; seq: number; at: string }
  | { type: 'present'; alarm: Alarm; step: string; seq: number; at: string }
  | { type: 'supervisor_alert'; alarm: Alarm; reason: string; seq: number; at: string }
  | { type: 'agent'; userId: number; state: AgentState; extension: string | null; wrapUpUntil?: string | null; reason?: string | null; seq: number; at: string }
  | (PushMessage & Seq)
  | { type: 'call'; call: LiveCall; seq: number; at: string }
  | { type: 'pong' | 'error'; message?: string; seq: number; at: string };

/** A command sent to a device (GET /api/elders/:id/timeline → entries of kind 'command'). */
export interface DeviceCommand {
  id: number;
  deviceId: number;
  /** as sent: {type: 'UPLOAD', seconds: 600}, {type: 'custom', content: '…'} */
  command: Record<string, unknown>;
  keyword: string;
  state: 'queued' | 'sent' | 'acknowledged' | 'expired' | 'failed' | string;
  createdBy: number | null;
  createdAt: string;
  expiresAt?: string;
  sentAt?: string | null;
  ackedAt?: string | null;
  result: string | null;
  reason: string | null;
  /** a raw or dangerous command (admin-only, with a reason) */
  dangerous: boolean;
  elderId: number | null;
  /** who sent it (display name, else username) */
  createdByName?: string | null;
}

/** GET /api/elders/:id/timeline: the elder's alarms and the commands sent to their devices, newest first. */
export type ElderTimelineEntry =
  | { at: string; kind: 'alarm'; alarmId: number; alarmKind: string; priority: number; state: string; deviceId: number | null; count: number }
  | { at: string; kind: 'command'; command: DeviceCommand; deviceIdentifier: string | null };

export interface ElderTimeline {
  elderId: number;
  entries: ElderTimelineEntry[];
}

/** Work orders (工单, issue 21): GET /api/work-orders (each), GET /api/work-orders/:id (the order, its timeline, the actions its state allows). */
export type WorkOrder = Closed<Answer<'/api/work-orders', 'get'>[number]>;
export type WorkOrderDetail = Closed<Answer<'/api/work-orders/{id}', 'get'>>;
export type WorkOrderEvent = WorkOrderDetail['timeline'][number];
export type WorkOrderType = WorkOrder['type'];
export type WorkOrderState = WorkOrder['state'];
/** GET /api/work-orders/:id/suggest: on-duty stations and staff, the elder's area first, then nearest. */
export type Suggestions = Closed<Answer<'/api/work-orders/{id}/suggest', 'get'>>;
/** POST /api/work-orders. */
export type OpenOrderBody = RequestBody<'/api/work-orders', 'post'>;
/** 服务站 and their staff (GET /api/stations, /api/staff), and a staff member's rota (GET /api/staff/:id/rota). */
export type Station = Closed<Answer<'/api/stations', 'get'>[number]>;
export type Staff = Closed<Answer<'/api/staff', 'get'>[number]>;
export type RotaEntry = Closed<Answer<'/api/staff/{id}/rota', 'get'>[number]>;
export type StationBody = RequestBody<'/api/stations', 'post'>;
export type StaffBody = RequestBody<'/api/staff', 'post'>;
export type RotaBody = RequestBody<'/api/staff/{id}/rota', 'put'>;
const _derivedOrders: [Derived<WorkOrder>, Derived<WorkOrderDetail>, Derived<Suggestions>, Derived<OpenOrderBody>, Derived<Station>, Derived<Staff>, Derived<RotaEntry>, Derived<StationBody>, Derived<StaffBody>, Derived<RotaBody>] = [true, true, true, true, true, true, true, true, true, true];
void _derivedOrders;

const _derived: [Derived<Role>, Derived<SettableState>, Derived<OutcomeInfo>, Derived<OutcomeCode>, Derived<Stats>, Derived<TelemetryRow>] = [true, true, true, true, true, true];
void _derived;
const _derivedAnswers: [
  Derived<User>, Derived<AgentStatus>, Derived<Alarm>, Derived<AlarmEvent>, Derived<Contact>, Derived<Device>,
  Derived<Elder>, Derived<ElderFull>, Derived<CallRecord>, Derived<AlarmDetail>, Derived<ServerConfig>,
  Derived<CallLogEntry>, Derived<CallDetail>, Derived<CallbackRequest>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void _derivedAnswers;
/** GET /api/calls/live answers LiveCalls. */
const _liveFits: Closed<Answer<'/api/calls/live', 'get'>>[number] extends LiveCall ? true : false = true;
void _liveFits;
