/**
 * The JSON uplink schema of MQTT-native devices (protocol `mqtt-json`), one TypeBox schema per kind.
 * Topic `anxin/up/{deviceId}/{kind}`; the payload is one JSON object. Unknown fields are refused, so a typo
 * (`alarm` for `alarms`) is reported to the device instead of silently dropped. README "MQTT devices" shows it.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ALARM_KINDS } from '../message.js';
import type { UplinkKind } from './frame.js';

const closed = { additionalProperties: false } as const;

/**
 * Kinds only the gateway judges (a device's silence, a receiver's, missed tests, a cloned identity): a device
 * reporting one of them is refused, so it cannot fake or hide the gateway's own findings.
 */
export const GATEWAY_ONLY_KINDS: readonly string[] = ['device_silent', 'receiver_silent', 'test_missed', 'device_clone_suspected'];

export const AlarmKindSchema = Type.Union(ALARM_KINDS.filter((k) => !GATEWAY_ONLY_KINDS.includes(k)).map((k) => Type.Literal(k)));

/** RFC 3339 with a zone, e.g. 2026-08-01T09:30:00+08:00 or 2026-08-01T01:30:00.000Z. */
const RFC3339 = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';

/** Fields every kind may carry. */
const common = {
  msgId: Type.Optional(
    Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })], {
      description: 'set it to get an ack on anxin/down/{id}/ack once the message is committed; alarms should always carry one',
    }),
  ),
  time: Type.Optional(Type.String({ pattern: RFC3339, description: 'device time, RFC 3339 with a zone' })),
  battery: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'percent' })),
  signal: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'percent' })),
};

export const PositionSchema = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    source: Type.Optional(Type.Union([Type.Literal('gps'), Type.Literal('lbs'), Type.Literal('wifi')], { description: 'default gps' })),
    valid: Type.Optional(Type.Boolean({ description: 'default true' })),
    speed: Type.Optional(Type.Number({ minimum: 0, description: 'km/h' })),
    course: Type.Optional(Type.Number({ minimum: 0, maximum: 360, description: 'degrees' })),
    altitude: Type.Optional(Type.Number({ description: 'metres' })),
    satellites: Type.Optional(Type.Integer({ minimum: 0, maximum: 99 })),
    accuracy: Type.Optional(Type.Number({ minimum: 0, description: 'metres' })),
  },
  closed,
);

export const HealthSchema = Type.Object(
  {
    heartRate: Type.Optional(Type.Number({ minimum: 0, maximum: 300 })),
    spo2: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    systolic: Type.Optional(Type.Number({ minimum: 0, maximum: 300 })),
    diastolic: Type.Optional(Type.Number({ minimum: 0, maximum: 300 })),
    temperature: Type.Optional(Type.Number({ minimum: 25, maximum: 45, description: '°C' })),
    steps: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { ...closed, minProperties: 1 },
);

/** State names are plain snake_case words: `presence`, `occupancy`, `charging`. */
const StatesSchema = Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }), Type.Boolean(), { ...closed, maxProperties: 32 });
const AlarmListSchema = Type.Array(AlarmKindSchema, { minItems: 1, maxItems: 8, uniqueItems: true });

export const UPLINK_SCHEMAS = {
  heartbeat: Type.Object({ ...common }, closed),
  position: Type.Object({ ...common, position: PositionSchema }, closed),
  alarm: Type.Object({ ...common, alarms: AlarmListSchema, position: Type.Optional(PositionSchema) }, closed),
  health: Type.Object({ ...common, health: HealthSchema }, closed),
  status: Type.Object({ ...common, states: Type.Optional(StatesSchema), restores: Type.Optional(AlarmListSchema) }, closed),
} satisfies Record<UplinkKind, TSchema>;

export type Uplink = { [K in UplinkKind]: Static<(typeof UPLINK_SCHEMAS)[K]> };
