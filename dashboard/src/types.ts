/**
 * The gateway's JSON shapes as the dashboard reads them (dates arrive as ISO strings).
 *
 * Where a route declares its schema, the type is derived from `api-types.ts`, generated from the gateway's
 * OpenAPI document (`npm run api-types`; a unit test fails when it is out of date). The rest are still written
 * by hand here, because their routes declare no response schema yet (a route without one is answered as is,
 * and adding one changes what is sent: fields it omits are dropped); see the note at each.
 */
import type { paths } from './api-types';

type Json<C> = C extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body of a route's 200 answer, from the generated OpenAPI types. */
type Answer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: infer R } } ? Json<R> : never;
/** The JSON body a route accepts. */
type RequestBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: infer R } ? Json<R> : never;

/** A derived type that became `never` (a route or field renamed) fails `tsc -p dashboard` here instead of type-checking everything. */
type Derived<T> = [T] extends [never] ? false : true;

/** From POST /api/users. */
export type Role = RequestBody<'/api/users', 'post'>['role'];

export interface User {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  extension?: string | null;
  disabled?: boolean;
}

/** The states an agent may choose (POST /api/agents/me/state); on_call is set by telephony, handling by accepting an alarm. */
export type SettableState = RequestBody<'/api/agents/me/state', 'post'>['state'];
export type AgentState = SettableState | 'on_call' | 'handling';
export const SETTABLE_STATES = ['ready', 'not_ready', 'away', 'wrap_up'] as const satisfies readonly SettableState[];
// every settable state is listed (a compile error here when the gateway adds one)
const _everySettable: Record<SettableState, true> = { ready: true, not_ready: true, away: true, wrap_up: true };
void _everySettable;

export interface AgentStatus {
  userId: number;
  extension: string | null;
  state: AgentState;
  since: string;
  idleSince?: string | null;
  /** while in wrap-up (话后整理): when it ends by itself and the agent is ready again (自动置闲) */
  wrapUpUntil?: string | null;
  signedIn: boolean;
  username?: string;
  displayName?: string;
  role?: string;
}

export type AlarmState = 'raised' | 'presented' | 'accepted' | 'in_progress' | 'resolved' | 'followed_up' | 'closed' | 'cleared';
export const OPEN_STATES: readonly string[] = ['raised', 'presented', 'accepted', 'in_progress'];

export interface Alarm {
  id: number;
  kind: string;
  priority: number;
  alarmClass?: 'operator' | 'condition';
  state: AlarmState;
  deviceId: number | null;
  elderId: number | null;
  zone?: string | null;
  count: number;
  firstAt: string;
  lastAt: string;
  ownerId: number | null;
  outcome: string | null;
  detail?: Record<string, unknown>;
  lat: number | null;
  lon: number | null;
  presentedTo: number[];
  acceptedAt?: string | null;
  resolvedAt?: string | null;
  closedAt?: string | null;
}

export interface AlarmEvent {
  id: number;
  alarmId: number;
  at: string;
  actor: string;
  action: string;
  fromState: string | null;
  toState: string | null;
  detail: Record<string, unknown>;
}

export interface Contact {
  id: number;
  elderId: number;
  position: number;
  name: string;
  relation: string | null;
  phone: string;
  notes: string | null;
}

export interface Device {
  id: number;
  identifier: string;
  protocol: string;
  model: string | null;
  kind: string;
  simPhone: string | null;
  elderId: number | null;
  state: string;
  lastSeen: string | null;
  battery: number | null;
  signal: number | null;
}

export interface LatLon {
  lat: number;
  lon: number;
}
export interface Geofence {
  id: string;
  name: string;
  shape: { type: 'circle'; center: LatLon; radiusM: number } | { type: 'polygon'; points: LatLon[] };
}

export interface Elder {
  id: number;
  name: string;
  gender?: 'male' | 'female' | 'other' | null;
  idNumber?: string | null;
  birthDate?: string | null;
  phone?: string | null;
  address?: string | null;
  lat?: number | null;
  lon?: number | null;
  conditions?: string | null;
  medications?: string | null;
  allergies?: string | null;
  dialect?: string | null;
  livesAlone?: boolean | null;
  accessNotes?: string | null;
  rules?: { geofences?: Geofence[] } & Record<string, unknown>;
}

/** GET /api/elders/:id. Installers get no contacts (nor health notes, access notes or ID number): read defensively. */
export interface ElderFull extends Elder {
  contacts?: Contact[];
  devices: Device[];
}

/** A call record as stored (GET /api/alarms/:id → calls). */
export interface CallRecord {
  id: number;
  alarmId: number | null;
  direction: 'inbound' | 'outbound';
  party: string;
  number: string | null;
  agentId: number | null;
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  durationS: number | null;
  outcome: string | null;
  /** the flow (one click-to-call, callback or cascade): the id of its live call in the store */
  flowId?: string | null;
  /** 'ringing' | 'up' while the call is live, 'ended' after */
  liveState?: 'ringing' | 'up' | 'ended' | string;
}

export type CallState = 'ringing_agent' | 'dialing' | 'connected' | 'ended';

/** A live call (POST /api/calls, WS {type:'call'}). Fields beyond id and state are optional: read defensively. */
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

export interface AlarmDetail {
  alarm: Alarm;
  timeline: AlarmEvent[];
  elder: Elder | null;
  contacts: Contact[];
  devices: Device[];
  device: Device | null;
  calls: CallRecord[];
}

/** GET /api/alarms/outcomes: code → labels. */
export type OutcomeInfo = Answer<'/api/alarms/outcomes', 'get'>[string];
/** The outcome codes an alarm may be resolved with (POST /api/alarms/:id/resolve). */
export type OutcomeCode = NonNullable<NonNullable<RequestBody<'/api/alarms/{id}/resolve', 'post'>>['outcome']>;

/** GET /api/alarms/stats. */
export type Stats = Answer<'/api/alarms/stats', 'get'>;

/** GET /api/telemetry/last-positions, /api/elders/:id/track and /vitals. */
export type TelemetryRow = Answer<'/api/telemetry/last-positions', 'get'>[number];

export interface ServerConfig {
  mapTileUrl?: string;
  mapTileAttribution?: string;
  timezone?: string;
  centreName?: string;
  /** seconds of wrap-up (话后整理) before the agent is ready again by itself */
  wrapUpS?: number;
  /** routes other parts provide; absent ones are never called (no 404s in the console) */
  features?: { calls?: boolean; callList?: boolean; track?: boolean; lastPositions?: boolean };
}

/** Messages pushed over /api/ws; every one has seq and at. */
export type WsMessage =
  | { type: 'hello'; user: User; seq: number; at: string }
  | { type: 'snapshot'; alarms: Alarm[]; seq: number; at: string }
  | { type: 'alarm'; action: string; actor: string; alarm: Alarm; seq: number; at: string }
  | { type: 'present'; alarm: Alarm; step: string; seq: number; at: string }
  | { type: 'supervisor_alert'; alarm: Alarm; reason: string; seq: number; at: string }
  | { type: 'agent'; userId: number; state: AgentState; extension: string | null; wrapUpUntil?: string | null; seq: number; at: string }
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

const _derived: [Derived<Role>, Derived<SettableState>, Derived<OutcomeInfo>, Derived<OutcomeCode>, Derived<Stats>, Derived<TelemetryRow>] = [true, true, true, true, true, true];
void _derived;
