/**
 * Response schemas of the routes the dashboard reads: dashboard/src/api-types.ts is generated from them
 * (npm run api-types) and dashboard/src/types.ts derives its types from that file.
 *
 * Fastify serializes a response with fast-json-stringify, which drops properties a schema does not list and
 * coerces values to the declared type. So every object here is open (`additionalProperties: true`: fields not
 * listed are still sent, as they are), every field that may be null says so, enumerations are plain strings with
 * an `enum` for the types (fast-json-stringify does not check them, so a new state is never a 500), and a field
 * that is not always present (an installer's elder, a default agent status) is optional.
 */
import { Type, type Static, type TSchema } from '@fastify/type-provider-typebox';
import { ALARM_STATES } from '../../alarms/lifecycle.js';
import { WORK_ORDER_STATES, WORK_ORDER_TYPES } from '../../workorders/lifecycle.js';
import { AGENT_STATES } from '../store/agents.js';
import { ROLES } from '../store/users.js';

const open = { additionalProperties: true } as const;

/** T or null. */
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** A timestamp: the store's Date objects are sent as ISO 8601 strings. */
const DateTime = (description?: string) => Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
/** A string from a known set: the set is in the document (and the dashboard's types), but it is serialized (never rejected) as any string. */
const StringEnum = (values: readonly string[]) => Type.Unsafe<string>({ type: 'string', enum: [...values] });
/** A JSON object (jsonb column), sent as is. */
const JsonObject = Type.Object({}, open);
const Id = Type.Integer();

export const UserSchema = Type.Object(
  {
    id: Id,
    username: Type.String(),
    displayName: Type.String(),
    role: StringEnum(ROLES),
    extension: Type.Optional(Nullable(Type.String())),
    disabled: Type.Optional(Type.Boolean()),
    createdAt: Type.Optional(DateTime()),
    lastLoginAt: Type.Optional(Nullable(DateTime('the latest login (for /api/auth/me: usually this session’s own); null = never'))),
  },
  open,
);

/** GET /api/auth/me */
export const Me = Type.Object({ user: UserSchema, csrfToken: Type.Optional(Type.String({ description: 'with a cookie session: send it as x-csrf-token' })) }, open);

export const AgentStatusSchema = Type.Object(
  {
    userId: Id,
    extension: Nullable(Type.String()),
    state: StringEnum(AGENT_STATES),
    since: Type.Optional(DateTime()),
    idleSince: Type.Optional(Nullable(DateTime())),
    signedIn: Type.Boolean(),
    wrapUpUntil: Type.Optional(Nullable(DateTime('while in wrap-up (话后整理): when it ends by itself (自动置闲)'))),
    reason: Type.Optional(Nullable(Type.String({ description: 'why the system set this state: 置忙 after a missed hotline call (no_answer, busy, rejected, failed)' }))),
  },
  open,
);
/** GET /api/agents: each with the user's names and role. */
export const AgentRow = Type.Object(
  {
    ...AgentStatusSchema.properties,
    username: Type.String(),
    displayName: Type.String(),
    role: StringEnum(ROLES),
  },
  open,
);

export const AlarmSchema = Type.Object(
  {
    id: Id,
    kind: Type.String(),
    priority: Type.Integer(),
    alarmClass: StringEnum(['operator', 'condition']),
    state: StringEnum(ALARM_STATES),
    deviceId: Nullable(Id),
    elderId: Nullable(Id),
    sourceKey: Type.Optional(Nullable(Type.String())),
    zone: Nullable(Type.String()),
    count: Type.Integer(),
    firstAt: DateTime(),
    lastAt: DateTime(),
    ownerId: Nullable(Id),
    outcome: Nullable(Type.String()),
    detail: JsonObject,
    lat: Nullable(Type.Number()),
    lon: Nullable(Type.Number()),
    closedAt: Nullable(DateTime()),
    updatedAt: Type.Optional(DateTime()),
    presentedTo: Type.Array(Id),
    acceptedAt: Nullable(DateTime()),
    resolvedAt: Nullable(DateTime()),
    test: Type.Optional(Type.Boolean({ description: "raised during its device's activation test (设备开通): closed at once, outcome 'test', never presented" })),
  },
  open,
);

export const AlarmEventSchema = Type.Object(
  {
    id: Id,
    alarmId: Id,
    at: DateTime(),
    actor: Type.String(),
    action: Type.String(),
    fromState: Nullable(Type.String()),
    toState: Nullable(Type.String()),
    detail: JsonObject,
  },
  open,
);

export const ContactSchema = Type.Object(
  {
    id: Id,
    elderId: Id,
    position: Type.Integer({ description: 'call order, 1 first' }),
    name: Type.String(),
    relation: Nullable(Type.String()),
    phone: Type.String(),
    notes: Nullable(Type.String()),
    altPhones: Type.Optional(Type.Array(Type.String())),
    keyHolder: Type.Optional(Type.Boolean()),
    nextOfKin: Type.Optional(Type.Boolean()),
    maySms: Type.Optional(Type.Boolean()),
  },
  open,
);

export const DeviceSchema = Type.Object(
  {
    id: Id,
    identifier: Type.String(),
    protocol: Type.String(),
    model: Nullable(Type.String()),
    kind: Type.String(),
    simPhone: Nullable(Type.String()),
    elderId: Nullable(Id),
    state: Type.String(),
    lastSeen: Nullable(DateTime()),
    battery: Nullable(Type.Number()),
    signal: Nullable(Type.Number()),
    meta: Type.Optional(JsonObject),
    createdAt: Type.Optional(DateTime()),
    activatedAt: Type.Optional(Nullable(DateTime('设备开通: when its activation test was signed off; null until then'))),
    activatedBy: Type.Optional(Nullable(Id)),
    testUntil: Type.Optional(Nullable(DateTime('end of its activation test window: until then its alarms are test alarms'))),
    hasKey: Type.Optional(Type.Boolean({ description: 'a symmetric key is set (DC-09 AES key); the key itself is never returned' })),
    online: Type.Optional(Type.Boolean({ description: 'on /api/devices routes: a live TCP or MQTT session right now' })),
  },
  open,
);

/** An elder as a role may see it: installers get no health, access or identity details, so most fields are optional. */
export const ElderSchema = Type.Object(
  {
    id: Id,
    name: Type.String(),
    gender: Type.Optional(Nullable(StringEnum(['male', 'female', 'other']))),
    idNumber: Type.Optional(Nullable(Type.String({ description: 'masked to the last 4 characters but for admins' }))),
    birthDate: Type.Optional(Nullable(Type.String({ description: 'YYYY-MM-DD' }))),
    phone: Type.Optional(Nullable(Type.String())),
    address: Type.Optional(Nullable(Type.String())),
    lat: Type.Optional(Nullable(Type.Number())),
    lon: Type.Optional(Nullable(Type.Number())),
    conditions: Type.Optional(Nullable(Type.String())),
    medications: Type.Optional(Nullable(Type.String())),
    allergies: Type.Optional(Nullable(Type.String())),
    dialect: Type.Optional(Nullable(Type.String())),
    livesAlone: Type.Optional(Nullable(Type.Boolean())),
    accessNotes: Type.Optional(Nullable(Type.String())),
    rules: Type.Optional(JsonObject),
    responsePlan: Type.Optional(Nullable(JsonObject)),
    externalKey: Type.Optional(Nullable(Type.String({ description: "the centre's own key (外部编号)" }))),
    area: Type.Optional(Type.String()),
    categories: Type.Optional(Type.Array(Type.String(), { description: 'disabled 失能, living_alone 独居, empty_nest 空巢, advanced_age 高龄' })),
    doctor: Type.Optional(Type.String()),
    hasPhoto: Type.Optional(Type.Boolean({ description: 'GET /api/elders/:id/photo has an image' })),
    createdAt: Type.Optional(DateTime()),
    updatedAt: Type.Optional(DateTime()),
  },
  open,
);

/** GET /api/elders/:id: installers get no contacts. */
export const ElderFullSchema = Type.Object(
  {
    ...ElderSchema.properties,
    contacts: Type.Optional(Type.Array(ContactSchema)),
    devices: Type.Array(DeviceSchema),
  },
  open,
);

export const CallRecordSchema = Type.Object(
  {
    id: Id,
    alarmId: Nullable(Id),
    direction: StringEnum(['inbound', 'outbound']),
    party: Type.String(),
    number: Nullable(Type.String()),
    agentId: Nullable(Id),
    channelId: Type.Optional(Nullable(Type.String())),
    createdAt: DateTime(),
    answeredAt: Nullable(DateTime()),
    endedAt: Nullable(DateTime()),
    durationS: Nullable(Type.Number()),
    cause: Type.Optional(Nullable(Type.Number())),
    outcome: Nullable(Type.String()),
    flow: Type.Optional(Nullable(Type.String())),
    flowId: Type.Optional(Nullable(Type.String({ description: 'the flow (one click-to-call, callback or cascade): the id of its live call' }))),
    elderId: Type.Optional(Nullable(Id)),
    contactId: Type.Optional(Nullable(Id)),
    liveState: Type.Optional(Type.String({ description: "'ringing' | 'up' while the call is live, 'ended' after" })),
  },
  open,
);

/** GET /api/calls/live: one per flow, as the WebSocket sends them. */
export const LiveCallSchema = Type.Object(
  {
    id: Type.String({ description: 'the flow id' }),
    state: Type.String({ description: 'ringing_agent, dialing, connected, ended' }),
    channelId: Type.Optional(Nullable(Type.String())),
    flow: Type.Optional(Nullable(Type.String())),
    party: Type.Optional(Nullable(Type.String())),
    leg: Type.Optional(Nullable(Type.String({ description: "the leg's own state: ringing, up, ended" }))),
    alarmId: Type.Optional(Nullable(Id)),
    agentId: Type.Optional(Nullable(Id)),
    elderId: Type.Optional(Nullable(Id)),
    startedAt: Type.Optional(Nullable(DateTime())),
    answeredAt: Type.Optional(Nullable(DateTime())),
    liveState: Type.Optional(Type.String()),
  },
  open,
);
export type LiveFlow = Static<typeof LiveCallSchema>;

/** GET /api/alarms/:id */
export const AlarmDetailSchema = Type.Object(
  {
    alarm: AlarmSchema,
    timeline: Type.Array(AlarmEventSchema),
    elder: Nullable(ElderSchema),
    contacts: Type.Array(ContactSchema),
    devices: Type.Array(DeviceSchema),
    device: Nullable(DeviceSchema),
    calls: Type.Array(CallRecordSchema),
  },
  open,
);

/** GET /api/config */
export const ServerConfigSchema = Type.Object(
  {
    mapTileUrl: Type.String(),
    mapTileAttribution: Type.String(),
    timezone: Type.String(),
    centreName: Type.Optional(Type.String()),
    wrapUpS: Type.Number({ description: 'seconds of wrap-up (话后整理) before the agent is ready again by itself' }),
    features: Type.Object(
      {
        calls: Type.Boolean(),
        callList: Type.Boolean(),
        track: Type.Boolean(),
        lastPositions: Type.Boolean(),
      },
      { ...open, description: 'routes other parts provide; absent ones are never called' },
    ),
  },
  open,
);

/** GET /api/call-log: one row per far leg (the agent is named on it), newest first. */
export const CallLogEntrySchema = Type.Object(
  {
    id: Id,
    flowId: Nullable(Type.String({ description: 'the call (flow) id: GET /api/calls/{flowId}/recording' })),
    flow: Nullable(Type.String()),
    direction: StringEnum(['inbound', 'outbound']),
    party: Type.String(),
    number: Nullable(Type.String()),
    outcome: Nullable(Type.String()),
    createdAt: DateTime(),
    answeredAt: Nullable(DateTime()),
    endedAt: Nullable(DateTime()),
    durationS: Nullable(Type.Number()),
    talkS: Nullable(Type.Number()),
    alarmId: Nullable(Id),
    elderId: Nullable(Id),
    elderName: Nullable(Type.String()),
    contactId: Nullable(Id),
    agentId: Nullable(Id),
    agentName: Nullable(Type.String()),
    recording: Nullable(Type.String()),
    hasRecording: Type.Boolean(),
  },
  open,
);
export const CallLogPageSchema = Type.Object({ items: Type.Array(CallLogEntrySchema), nextCursor: Nullable(Type.Integer({ description: 'pass as cursor for the next page; null on the last' })) }, open);

/** GET /api/call-log/:id: one call's legs (the agents' too) and its timeline (every in-call action, in order). */
export const CallDetailSchema = Type.Object(
  {
    flowId: Type.String(),
    legs: Type.Array(CallLogEntrySchema),
    actions: Type.Array(
      Type.Object(
        {
          id: Id,
          action: Type.String({ description: 'connected, hold, unhold, mute, transfer_blind, consult, conference_add, listen, recording_started, ended …' }),
          byUser: Type.String({ description: "a user id, or 'system'" }),
          byName: Nullable(Type.String()),
          at: DateTime(),
          channelId: Nullable(Type.String()),
          detail: Type.Record(Type.String(), Type.Unknown()),
        },
        open,
      ),
    ),
    hasRecording: Type.Boolean(),
  },
  open,
);

/** GET /api/callbacks: the call-back list (abandoned callers, voicemails). */
export const CallbackRequestSchema = Type.Object(
  {
    id: Id,
    reason: StringEnum(['abandoned', 'voicemail']),
    entryId: Type.String(),
    callerNumber: Type.String(),
    did: Type.String(),
    elderId: Nullable(Id),
    contactId: Nullable(Id),
    priority: Type.Boolean(),
    waitMs: Type.Integer(),
    position: Nullable(Type.Integer()),
    recording: Nullable(Type.String()),
    createdAt: DateTime(),
    handledAt: Nullable(DateTime()),
    handledBy: Nullable(Id),
  },
  open,
);

/** Work orders (工单, issue 21). */
export const WorkOrderSchema = Type.Object(
  {
    id: Id,
    type: StringEnum(WORK_ORDER_TYPES),
    state: StringEnum(WORK_ORDER_STATES),
    priority: Type.Integer(),
    elderId: Nullable(Id),
    alarmId: Nullable(Id),
    callId: Nullable(Type.String({ description: "the call's flow id, as the call log names it" })),
    title: Type.String(),
    description: Type.String(),
    stationId: Nullable(Id),
    staffId: Nullable(Id),
    result: Nullable(Type.String()),
    satisfaction: Nullable(Type.Integer({ description: '满意度 1-5, from the follow-up call' })),
    followUpComment: Nullable(Type.String()),
    cancelReason: Nullable(Type.String()),
    createdBy: Nullable(Id),
    followUpAgentId: Nullable(Id),
    dueFollowUpAt: Nullable(DateTime('when the follow-up call (回访) is due')),
    receivedAt: DateTime(),
    dispatchedAt: Nullable(DateTime()),
    acceptedAt: Nullable(DateTime()),
    onSiteAt: Nullable(DateTime()),
    doneAt: Nullable(DateTime()),
    repliedAt: Nullable(DateTime()),
    followedUpAt: Nullable(DateTime()),
    archivedAt: Nullable(DateTime()),
    cancelledAt: Nullable(DateTime()),
    updatedAt: DateTime(),
  },
  open,
);

export const WorkOrderEventSchema = Type.Object(
  {
    id: Id,
    orderId: Id,
    at: DateTime(),
    actor: Type.String(),
    action: Type.String(),
    fromState: Nullable(Type.String()),
    toState: Nullable(Type.String()),
    detail: JsonObject,
  },
  open,
);

/** GET /api/work-orders/:id */
export const WorkOrderDetailSchema = Type.Object({ order: WorkOrderSchema, timeline: Type.Array(WorkOrderEventSchema), allowedActions: Type.Array(Type.String()) }, open);

export const StationSchema = Type.Object(
  { id: Id, name: Type.String(), area: Type.String(), lat: Nullable(Type.Number()), lon: Nullable(Type.Number()), phone: Nullable(Type.String()), active: Type.Boolean(), createdAt: DateTime(), updatedAt: DateTime() },
  open,
);

export const StaffSchema = Type.Object(
  {
    id: Id,
    name: Type.String(),
    phone: Type.String(),
    skills: Type.Array(Type.String()),
    stationId: Nullable(Id),
    userId: Nullable(Id),
    active: Type.Boolean(),
    createdAt: DateTime(),
    updatedAt: DateTime(),
  },
  open,
);

export const RotaEntrySchema = Type.Object({ weekday: Nullable(Type.Integer()), date: Nullable(Type.String()), start: Type.String(), end: Type.String() }, open);

/** GET /api/work-orders/:id/suggest */
export const SuggestionsSchema = Type.Object(
  {
    orderId: Id,
    elderId: Nullable(Id),
    basis: Type.Object({ area: Type.Boolean(), position: Type.Boolean() }, open),
    stations: Type.Array(
      Type.Object({ id: Id, name: Type.String(), area: Type.String(), areaMatch: Type.Boolean(), distanceM: Nullable(Type.Number()), onDutyStaffIds: Type.Array(Id) }, open),
    ),
    staff: Type.Array(
      Type.Object({ id: Id, name: Type.String(), stationId: Nullable(Id), skills: Type.Array(Type.String()), areaMatch: Type.Boolean(), distanceM: Nullable(Type.Number()) }, open),
    ),
  },
  open,
);
