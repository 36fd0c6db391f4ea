/**
 * Zigbee2MQTT state → DeviceMessage, through the mapping table (mappings.ts). Pure: the caller passes the
 * values it saw last time (`previous`) and keeps the returned `watched` for next time.
 *
 * Alarms are raised on a change into the alarm value, not on every message: Zigbee2MQTT's `cache_state`
 * (on by default) repeats the last `fall_down_status: "fall"` in every later state publish, and without
 * edges each linkquality update would re-raise a fall an agent has already resolved. The first message after
 * a restart counts as a change, so a fall is never lost to a restart (a repeat folds into the open alarm).
 */
import type { AlarmKind, DeviceMessage } from '../message.js';
import { ZIGBEE_MAPPINGS, type Scalar, type ZigbeeMapping } from './mappings.js';

export type MappingChoice = { ok: true; mapping: ZigbeeMapping; by: 'model' | 'reported_model' | 'detected' } | { ok: false; reason: 'unknown_model' | 'no_mapping' };

export interface ZigbeeInput {
  /** the registered identifier (friendly name or IEEE address) */
  identifier: string;
  payload: Readonly<Record<string, unknown>>;
  /** the payload text, for the audit trail */
  raw: string;
  /** the registered device's model; '' or undefined = none given */
  model?: string;
  previous?: Readonly<Record<string, unknown>>;
  receivedAt: Date;
}

export type ZigbeeOutcome =
  | { ok: true; mapping: ZigbeeMapping; by: 'model' | 'reported_model' | 'detected'; message: DeviceMessage; watched: Record<string, unknown> }
  | { ok: false; reason: 'unknown_model' | 'no_mapping' };

const norm = (s: string) => s.trim().toLowerCase();

/** The entry whose id or model list names this model text (whole text, or any one word of it). */
export function mappingForModel(model: string): ZigbeeMapping | undefined {
  const whole = norm(model);
  const words = new Set([whole, ...whole.split(/\s+/)]);
  return ZIGBEE_MAPPINGS.find((m) => [m.id, ...m.models].some((x) => words.has(norm(x))));
}

/** The entry whose `detect` property carries one of its known values. */
export function detectMapping(payload: Readonly<Record<string, unknown>>): ZigbeeMapping | undefined {
  return ZIGBEE_MAPPINGS.find((m) => m.detect && m.detect.oneOf.includes(payload[m.detect.key] as Scalar));
}

export function selectMapping(model: string | undefined, payload: Readonly<Record<string, unknown>>): MappingChoice {
  if (model && model.trim()) {
    const m = mappingForModel(model);
    return m ? { ok: true, mapping: m, by: 'model' } : { ok: false, reason: 'unknown_model' };
  }
  // include_device_information: true adds {"device": {"model": ...}} to every state message
  const dev = payload.device;
  const reported = typeof dev === 'object' && dev !== null ? (dev as Record<string, unknown>).model : undefined;
  if (typeof reported === 'string' && reported.trim()) {
    const m = mappingForModel(reported);
    return m ? { ok: true, mapping: m, by: 'reported_model' } : { ok: false, reason: 'unknown_model' };
  }
  const d = detectMapping(payload);
  return d ? { ok: true, mapping: d, by: 'detected' } : { ok: false, reason: 'no_mapping' };
}

/** The IEEE address Zigbee2MQTT adds with include_device_information, if any. */
export function reportedIeee(payload: Readonly<Record<string, unknown>>): string | undefined {
  const dev = payload.device;
  const ieee = typeof dev === 'object' && dev !== null ? (dev as Record<string, unknown>).ieeeAddr : undefined;
  return typeof ieee === 'string' && /^0x[0-9a-f]{16}$/i.test(ieee) ? ieee.toLowerCase() : undefined;
}

/**
 * Zigbee2MQTT's `last_seen` (advanced.last_seen: ISO_8601, ISO_8601_local or epoch ms). Worth enabling:
 * with a device time, two identical state payloads are two events, not a retransmission (alarm-service
 * de-duplicates payloads without one for 120 s).
 */
function lastSeen(v: unknown): Date | undefined {
  const d = typeof v === 'number' && v > 1e12 ? new Date(v) : typeof v === 'string' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

/** True when the property just became `value` (absent before = it did). */
const became = (now: unknown, before: unknown, value: Scalar) => now === value && before !== value;

export function decodeZigbee2mqtt(input: ZigbeeInput): ZigbeeOutcome {
  const choice = selectMapping(input.model, input.payload);
  if (!choice.ok) return choice;
  const { mapping } = choice;
  const p = input.payload;
  const prev = input.previous ?? {};
  const alarms: AlarmKind[] = [];
  const restores: AlarmKind[] = [];
  const watched: Record<string, unknown> = {};
  for (const r of mapping.alarms) {
    // a property missing from this message keeps its last value (Zigbee2MQTT may send partial states)
    const now = r.key in p ? p[r.key] : prev[r.key];
    watched[r.key] = now;
    if (became(now, prev[r.key], r.when) && !alarms.includes(r.alarm)) alarms.push(r.alarm);
    if (r.restoreWhen !== undefined && became(now, prev[r.key], r.restoreWhen) && !restores.includes(r.alarm)) restores.push(r.alarm);
  }
  const states: Record<string, boolean> = {};
  for (const s of mapping.states) {
    const v = p[s.key];
    if (s.falseWhen) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') states[s.state] = !s.falseWhen.includes(v);
    } else if (typeof v === 'boolean') {
      states[s.state] = v;
    }
  }
  const message: DeviceMessage = {
    deviceId: input.identifier,
    protocol: 'zigbee2mqtt',
    kind: alarms.length ? 'alarm' : 'status',
    receivedAt: input.receivedAt,
    raw: input.raw,
  };
  const seen = lastSeen(p.last_seen);
  if (seen) message.deviceTime = seen;
  if (alarms.length) message.alarms = alarms;
  if (restores.length) message.restores = restores;
  if (Object.keys(states).length) message.states = states;
  if (typeof p.battery === 'number' && p.battery >= 0 && p.battery <= 100) message.battery = p.battery;
  // linkquality is 0-255 (LQI); the message's signal is a percentage
  if (typeof p.linkquality === 'number' && p.linkquality >= 0 && p.linkquality <= 255) message.signal = Math.round((p.linkquality / 255) * 100);
  return { ok: true, mapping, by: choice.by, message, watched };
}
