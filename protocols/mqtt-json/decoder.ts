/**
 * mqtt-json publish (topic + payload) → DeviceMessage, or a refusal the device is told about.
 * Pure; never throws on device input. The `reply` is the ack (sent only after the pipeline has committed the
 * message) or, on refusal, the error payload for anxin/down/{id}/error.
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ValueError } from '@sinclair/typebox/errors';
import type { DecodeContext, DeviceMessage } from '../message.js';
import { encodeAck, encodeError, type FieldProblem, type MsgId, type UplinkErrorCode } from './encoder.js';
import { MQTT_JSON_MAX_PAYLOAD, parseUplinkTopic, type UplinkKind } from './frame.js';
import { UPLINK_SCHEMAS, type Uplink } from './schema.js';

export type MqttJsonOutcome =
  | { ok: true; messages: DeviceMessage[]; msgId?: MsgId; reply?: Buffer }
  | { ok: false; reason: UplinkErrorCode; problems: FieldProblem[]; deviceId?: string; msgId?: MsgId; reply: Buffer };

const CHECKERS = Object.fromEntries(Object.entries(UPLINK_SCHEMAS).map(([k, s]) => [k, TypeCompiler.Compile(s)])) as {
  [K in UplinkKind]: ReturnType<typeof TypeCompiler.Compile<(typeof UPLINK_SCHEMAS)[K]>>;
};

/** At most this many problems go back to the device: enough to fix it, small enough to send. */
const MAX_PROBLEMS = 10;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuse(reason: UplinkErrorCode, message: string, extra: { deviceId?: string; msgId?: MsgId; problems?: FieldProblem[] } = {}): MqttJsonOutcome {
  const problems = extra.problems ?? [{ path: '', message }];
  const out: MqttJsonOutcome = { ok: false, reason, problems, reply: encodeError({ msgId: extra.msgId, error: reason, problems }) };
  if (extra.deviceId !== undefined) out.deviceId = extra.deviceId;
  if (extra.msgId !== undefined) out.msgId = extra.msgId;
  return out;
}

/** A literal union's "Expected union value" says nothing; list the allowed values instead. */
function describe(e: ValueError): string {
  const s = e.schema as TSchema & { anyOf?: (TSchema & { const?: unknown })[] };
  if (s[Kind] === 'Union' && s.anyOf?.every((x) => 'const' in x)) {
    return `expected one of: ${s.anyOf.map((x) => String(x.const)).join(', ')}`;
  }
  return e.message;
}

function msgIdOf(v: Record<string, unknown>): MsgId | undefined {
  const m = v.msgId;
  if (typeof m === 'string' && m.length > 0 && m.length <= 64) return m;
  if (typeof m === 'number' && Number.isSafeInteger(m) && m >= 0) return m;
  return undefined;
}

export function decodeMqttJson(topic: string, payload: Buffer, ctx: DecodeContext): MqttJsonOutcome {
  try {
    const addr = parseUplinkTopic(topic);
    if (!addr.ok) return refuse('bad_topic', 'topic must be anxin/up/{deviceId}/{heartbeat|position|alarm|health|status}', { deviceId: addr.deviceId });
    const { deviceId, kind } = addr;
    if (payload.length > MQTT_JSON_MAX_PAYLOAD) return refuse('too_large', `payload is ${payload.length} bytes; the limit is ${MQTT_JSON_MAX_PAYLOAD}`, { deviceId });
    let text: string;
    try {
      text = utf8.decode(payload);
    } catch {
      return refuse('not_utf8', 'payload is not UTF-8', { deviceId });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return refuse('invalid_json', `not JSON: ${(e as Error).message}`, { deviceId });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse('not_an_object', 'payload must be a JSON object', { deviceId });
    const obj = value as Record<string, unknown>;
    const msgId = msgIdOf(obj);
    const checker = CHECKERS[kind];
    if (!checker.Check(value)) {
      const problems: FieldProblem[] = [];
      for (const e of checker.Errors(value)) {
        problems.push({ path: e.path, message: describe(e) });
        if (problems.length >= MAX_PROBLEMS) break;
      }
      return refuse('invalid_payload', '', { deviceId, msgId, problems });
    }
    const msg = toMessage(deviceId, kind, obj as Uplink[typeof kind], text, ctx);
    return msgId === undefined ? { ok: true, messages: [msg] } : { ok: true, messages: [msg], msgId, reply: encodeAck(msgId) };
  } catch (e) {
    // a bug here must not take the broker down; the device hears about it like any refusal
    return refuse('invalid_payload', `internal error: ${(e as Error).message}`);
  }
}

function toMessage(deviceId: string, kind: UplinkKind, u: Uplink[UplinkKind], raw: string, ctx: DecodeContext): DeviceMessage {
  const msg: DeviceMessage = { deviceId, protocol: 'mqtt-json', kind, receivedAt: ctx.receivedAt, raw };
  if (u.time !== undefined) {
    const t = new Date(u.time);
    if (!Number.isNaN(t.getTime())) msg.deviceTime = t;
  }
  if (u.battery !== undefined) msg.battery = u.battery;
  if (u.signal !== undefined) msg.signal = u.signal;
  if ('position' in u && u.position) {
    const p = u.position;
    msg.position = { ...p, lat: p.lat, lon: p.lon, source: p.source ?? 'gps', valid: p.valid ?? true };
  }
  if ('alarms' in u) msg.alarms = [...u.alarms];
  if ('health' in u) msg.health = { ...u.health };
  if ('states' in u && u.states) msg.states = Object.fromEntries(Object.entries(u.states));
  if ('restores' in u && u.restores) msg.restores = [...u.restores];
  return msg;
}
