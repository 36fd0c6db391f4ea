/**
 * Rules as data: per-elder thresholds, geofences, silence timeouts, schedules, quiet hours.
 * `resolveRules` merges a per-elder override onto the defaults and validates the result.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ALARM_KINDS, ALARM_PRIORITY, type AlarmKind } from '../../protocols/message.ts';
import { mergeAndValidate, type FieldError } from '../merge.ts';
import { isValidTimeZone } from './schedule.ts';

const closed = { additionalProperties: false } as const;

/** 'HH:MM', 00:00–23:59. */
export const HHMMSchema = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'a local time HH:MM (00:00–23:59)' });

export const AlarmKindSchema = Type.Union(ALARM_KINDS.map((k) => Type.Literal(k)));

/** A vital sign is out of range when value < min or value > max; it alarms after forSeconds out of range. */
export const VitalRuleSchema = Type.Object(
  {
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    forSeconds: Type.Number({ minimum: 0 }),
  },
  closed,
);

export const VITAL_NAMES = ['heartRate', 'spo2', 'temperature', 'systolic', 'diastolic'] as const;
export type VitalName = (typeof VITAL_NAMES)[number];

/** Each vital is optional: absent (or set to null in an override) means not checked. */
export const VitalsSchema = Type.Object(
  {
    heartRate: Type.Optional(VitalRuleSchema),
    spo2: Type.Optional(VitalRuleSchema),
    temperature: Type.Optional(VitalRuleSchema),
    systolic: Type.Optional(VitalRuleSchema),
    diastolic: Type.Optional(VitalRuleSchema),
  },
  closed,
);

export const LatLonSchema = Type.Object(
  { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
  closed,
);

export const CircleSchema = Type.Object(
  { type: Type.Literal('circle'), center: LatLonSchema, radiusM: Type.Number({ exclusiveMinimum: 0 }) },
  closed,
);
export const PolygonSchema = Type.Object(
  { type: Type.Literal('polygon'), points: Type.Array(LatLonSchema, { minItems: 3 }) },
  closed,
);

export const GeofenceSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    /** shown on agents' maps; bounded so a hostile or mistaken name cannot bury the map */
    name: Type.String({ maxLength: 200 }),
    shape: Type.Union([CircleSchema, PolygonSchema]),
    /** Border band (m) a track must cross beyond to change side. Default 30. */
    hysteresisM: Type.Optional(Type.Number({ minimum: 0, default: 30 })),
  },
  closed,
);

export const QuietHoursSchema = Type.Object(
  { from: HHMMSchema, to: HHMMSchema, kinds: Type.Array(AlarmKindSchema) },
  closed,
);

export const RuleSetSchema = Type.Object(
  {
    vitals: VitalsSchema,
    geofences: Type.Array(GeofenceSchema),
    /** A fix counts for geofences only if valid and, when it reports accuracy, accuracy ≤ this (m); without accuracy only GPS fixes count. */
    geofenceAccuracyM: Type.Number({ exclusiveMinimum: 0, default: 100 }),
    silent: Type.Object(
      {
        /** The device model's reporting interval (s). */
        intervalS: Type.Number({ exclusiveMinimum: 0 }),
        graceS: Type.Number({ minimum: 0 }),
        /** Kind raised when silent: device_silent (default) or receiver_silent (alarm receivers, panels). */
        kind: Type.Optional(Type.Union([Type.Literal('device_silent'), Type.Literal('receiver_silent')])),
      },
      closed,
    ),
    lowBattery: Type.Object(
      {
        belowPct: Type.Number({ minimum: 0, maximum: 100 }),
        restoreAbovePct: Type.Number({ minimum: 0, maximum: 100 }),
      },
      closed,
    ),
    inactivity: Type.Object(
      {
        enabled: Type.Boolean(),
        hours: Type.Number({ exclusiveMinimum: 0 }),
        schedule: Type.Object({ from: HHMMSchema, to: HHMMSchema }, closed),
      },
      closed,
    ),
    periodicTest: Type.Object(
      {
        enabled: Type.Boolean(),
        intervalH: Type.Number({ exclusiveMinimum: 0 }),
        graceH: Type.Number({ minimum: 0 }),
      },
      closed,
    ),
    quietHours: Type.Array(QuietHoursSchema),
    /** IANA timezone for schedules and quiet hours. */
    timezone: Type.String({ default: 'Asia/Shanghai' }),
  },
  closed,
);

export type VitalRule = Static<typeof VitalRuleSchema>;
export type Geofence = Static<typeof GeofenceSchema>;
export type QuietHours = Static<typeof QuietHoursSchema>;
export type RuleSet = Static<typeof RuleSetSchema>;

export type { FieldError };
export type ResolveRulesResult = { ok: true; rules: RuleSet } | { ok: false; errors: FieldError[] };

/** Checks a schema cannot express. */
function semanticErrors(r: RuleSet): FieldError[] {
  const errors: FieldError[] = [];
  for (const name of VITAL_NAMES) {
    const v = r.vitals[name];
    if (!v) continue;
    if (v.min === undefined && v.max === undefined) {
      errors.push({ path: `/vitals/${name}`, message: 'needs min or max (set the vital to null to turn it off)' });
    } else if (v.min !== undefined && v.max !== undefined && v.min >= v.max) {
      errors.push({ path: `/vitals/${name}/max`, message: `max (${v.max}) must be greater than min (${v.min})` });
    }
  }
  const ids = new Set<string>();
  r.geofences.forEach((g, i) => {
    if (ids.has(g.id)) errors.push({ path: `/geofences/${i}/id`, message: `duplicate geofence id ${JSON.stringify(g.id)}` });
    ids.add(g.id);
  });
  if (r.lowBattery.restoreAbovePct < r.lowBattery.belowPct) {
    errors.push({
      path: '/lowBattery/restoreAbovePct',
      message: `restoreAbovePct (${r.lowBattery.restoreAbovePct}) must not be below belowPct (${r.lowBattery.belowPct})`,
    });
  }
  r.quietHours.forEach((q, i) => {
    q.kinds.forEach((k: AlarmKind, j) => {
      if (ALARM_PRIORITY[k] === 1) {
        errors.push({ path: `/quietHours/${i}/kinds/${j}`, message: `${k} is a P1 kind and can never be suppressed by quiet hours` });
      }
    });
  });
  if (!isValidTimeZone(r.timezone)) errors.push({ path: '/timezone', message: `unknown timezone ${JSON.stringify(r.timezone)}` });
  return errors;
}

/**
 * Deep-merge a per-elder override (partial RuleSet; JSON Merge Patch: objects merge, arrays replace,
 * null deletes) onto `defaults`, fill schema defaults (hysteresisM 30, timezone Asia/Shanghai),
 * and validate. Errors carry the JSON pointer of the offending field.
 */
export function resolveRules(defaults: RuleSet, override: unknown): ResolveRulesResult {
  const r = mergeAndValidate(RuleSetSchema, defaults, override, semanticErrors);
  return r.ok ? { ok: true, rules: r.value } : r;
}
