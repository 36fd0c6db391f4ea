/**
 * An accepted DC-09 message in the gateway's terms: the `kind`, `alarms`, `restores`, `zone` and `event` fields a
 * DeviceMessage (protocols/message.ts) carries, and the DeviceMessage itself (`toDeviceMessage`).
 */
import type { AlarmKind, DeviceMessage, MessageKind } from '../message.js';
import type { Dc09Message } from './decoder.js';

export interface Dc09Normalised {
  /** `heartbeat` for NULL (supervision), `test` for a test report, `alarm`, or `status` (restores, other codes) */
  kind: MessageKind;
  alarms: AlarmKind[];
  restores: AlarmKind[];
  /** Contact ID zone/user or the SIA number after the code */
  zone?: string;
  /** a test report (RP/RX/RY, Contact ID 601/602/608…): refreshes supervision, raises nothing */
  test: boolean;
  /** as DeviceMessage.event: the code for the audit trail; `known: false` for a code no table lists */
  event?: { code: string; qualifier?: string; group?: string; label?: string; known: boolean };
}

/** What the message means for Anxin. Every valid message also refreshes the account's last-heard time (§6). */
export function normaliseDc09(m: Dc09Message): Dc09Normalised {
  const ev = m.event;
  if (!ev) return { kind: 'heartbeat', alarms: [], restores: [], test: false };
  if (ev.format === 'unparsed') {
    // never dropped (§4 step 9): raised as an unknown event with its text
    return { kind: 'status', alarms: [], restores: [], test: false, event: { code: '', label: `${m.token} data not understood: ${ev.text}`, known: false } };
  }
  if (ev.format === 'cid') {
    const c = ev.classification;
    const letter = ev.qualifier === 'new' ? 'E' : ev.qualifier === 'restore' ? 'R' : 'P';
    return {
      kind: c.kind,
      alarms: c.alarms ?? [],
      restores: c.restores ?? [],
      zone: ev.zone,
      test: c.kind === 'test',
      event: { code: ev.code, qualifier: letter, group: ev.group, label: c.meaning.label, known: c.meaning.known },
    };
  }
  const out: Dc09Normalised = { kind: 'status', alarms: [], restores: [], test: false };
  if (ev.number !== '') out.zone = ev.number;
  const group = ev.modifiers.ri;
  const entry = ev.entry;
  if (!entry) {
    out.event = { code: ev.code, label: `Unknown SIA code ${ev.code}`, known: false };
  } else {
    out.event = { code: ev.code, label: entry.en, known: true };
    if (entry.test) {
      out.kind = 'test';
      out.test = true;
    } else if (entry.kind && entry.restore) {
      out.restores = [entry.kind];
    } else if (entry.kind) {
      out.kind = 'alarm';
      out.alarms = [entry.kind];
    }
  }
  if (group !== undefined) out.event.group = group;
  return out;
}

/** A resend of the same message within this long is the same message (§4 step 8: "~10 min"). */
export const DC09_REPEAT_WINDOW_S = 600;

/**
 * The accepted message as the pipeline takes it. The device is the account, upper case (the registry's form).
 * `raw` is the frame's region R in clear (decrypted content for an encrypted one: the audit trail shows what was
 * said, not ciphertext). `repeat` is the §4 step 8 key: a resend re-encrypted with a new pad, or re-stamped after
 * a NAK, is still the same message, and raises nothing twice.
 */
export function toDeviceMessage(m: Dc09Message, receivedAt: Date): DeviceMessage {
  const n = normaliseDc09(m);
  const head = m.raw.slice(0, m.raw.indexOf('[') + 1);
  const msg: DeviceMessage = {
    deviceId: m.account.toUpperCase(),
    protocol: 'dc09',
    kind: n.kind,
    receivedAt,
    raw: m.encrypted ? head + m.content : m.raw,
    repeat: { key: m.dedupKey, windowS: DC09_REPEAT_WINDOW_S },
  };
  if (m.timestamp) msg.deviceTime = m.timestamp;
  if (n.alarms.length) msg.alarms = n.alarms;
  if (n.restores.length) msg.restores = n.restores;
  if (n.zone !== undefined) msg.zone = n.zone;
  if (n.event) msg.event = n.event;
  return msg;
}
