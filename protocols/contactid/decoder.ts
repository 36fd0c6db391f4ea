/**
 * Contact ID decoding (protocols.md §3).
 *
 * Two inputs:
 * - the 16-digit DTMF message `ACCT MT Q XYZ GG CCC S`, whose check digit we verify (§3.1, §3.2);
 * - a receiver's serial output line (§3.4), which carries no check digit (the receiver verified it):
 *     MLR2 / MLR2E       `5RRL 18AAAAQXYZGGCCC`            (L: 1-char line)
 *     SG automation      `5RRLLL 18AAAAQXYZGGCCC`          (line width configurable; the space may be absent)
 *     SG 10-digit acct   `QRRLLL 58AAAAAAAAAAQXYZGGCCC`    (leading `Q` is the protocol id)
 *     heartbeat          `1RRL` / `1RR000` + spaces + `@` + spaces
 *   each terminated by DC4 (the framer strips it; a trailing DC4 is tolerated here too).
 *
 * The line is parsed from its fixed-length tail (`18AAAAQXYZGGCCC` is always 15 characters), so the line
 * number's width need not be configured; when `lineWidth` is given it is enforced.
 *
 * Nothing here throws on input: every failure is a reason string.
 */
import type { DecodeContext, DecodeOutcome, DeviceMessage } from '../message.ts';
import { classifyEvent, type QualifierLetter } from './codes.ts';
import { contactIdDigitSum, encodeAck } from './encoder.ts';

export type { QualifierLetter } from './codes.ts';

/** Which receiver output form a line was in (`dtmf`: a bare 16-digit message with its check digit). */
export type ReceiverLineForm = 'mlr2' | 'sg' | 'sg10' | 'dtmf';

export interface ReceiverHeartbeat {
  type: 'heartbeat';
  receiver: string;
  line: string;
  raw: string;
}

export interface ReceiverEvent {
  type: 'event';
  form: ReceiverLineForm;
  /** `5`, `Q`, or '' for a bare DTMF message */
  protocolId: string;
  /** 2-char receiver number; absent for a bare DTMF message */
  receiver?: string;
  /** line (card) number as printed; absent for a bare DTMF message */
  line?: string;
  account: string;
  /** `18`, `98` (or `58` in the 10-digit form) */
  messageType: string;
  qualifier: QualifierLetter;
  code: string;
  group: string;
  zone: string;
  raw: string;
}

export interface ReceiverInvalid {
  type: 'invalid';
  reason: string;
  raw: string;
}

export type ReceiverLine = ReceiverHeartbeat | ReceiverEvent | ReceiverInvalid;

export interface ParseOptions {
  /** configured line-number width (MLR2 = 1, SG System I/II/III default 3); enforced on event lines when set */
  lineWidth?: number;
}

/** A parsed 16-digit DTMF message. */
export interface ContactIdMessage {
  account: string;
  messageType: '18' | '98';
  /** the digit as sent: 1 new, 3 restore, 6 still present */
  qualifierDigit: '1' | '3' | '6';
  qualifier: QualifierLetter;
  code: string;
  group: string;
  zone: string;
  checksum: string;
}

export type ContactIdParse = { ok: true; message: ContactIdMessage } | { ok: false; reason: string };

const QUALIFIERS: Record<string, QualifierLetter> = { E: 'E', R: 'R', P: 'P', '1': 'E', '3': 'R', '6': 'P' };

/** True when all 16 digits are Contact ID digits and their values sum to a multiple of 15. */
export function isContactIdChecksumValid(digits: string): boolean {
  if (digits.length !== 16) return false;
  const sum = contactIdDigitSum(digits);
  return sum !== undefined && sum % 15 === 0;
}

const DTMF_RE = /^[0-9B-F]{16}$/;

/** Parse and verify a 16-digit Contact ID message (no spaces). */
export function parseContactId(input: string): ContactIdParse {
  const digits = input.toUpperCase();
  if (!DTMF_RE.test(digits)) return { ok: false, reason: 'bad_format' };
  if (!isContactIdChecksumValid(digits)) return { ok: false, reason: 'bad_checksum' };
  const mt = digits.slice(4, 6);
  if (mt !== '18' && mt !== '98') return { ok: false, reason: 'bad_message_type' };
  const q = digits[6]!;
  if (q !== '1' && q !== '3' && q !== '6') return { ok: false, reason: 'bad_qualifier' };
  return {
    ok: true,
    message: {
      account: digits.slice(0, 4),
      messageType: mt,
      qualifierDigit: q,
      qualifier: QUALIFIERS[q]!,
      code: digits.slice(7, 10),
      group: digits.slice(10, 12),
      zone: digits.slice(12, 15),
      checksum: digits[15]!,
    },
  };
}

// Tail after the message type: account, qualifier, code, group, zone.
const TAIL4 = '([0-9A-F]{4})([A-Z0-9])([0-9A-F]{3})([0-9A-F]{2})([0-9A-F]{3})';
const TAIL10 = '([0-9A-F]{10})([A-Z0-9])([0-9A-F]{3})([0-9A-F]{2})([0-9A-F]{3})';
/** `5` RR line spaces* (18|98) tail — the line is everything between the receiver number and the spaces. */
const EVENT4_RE = new RegExp(`^5([0-9A-F]{2})([0-9A-F]+?)( *)(18|98)${TAIL4}$`);
/** `Q` RR line spaces* 58 tail (18/98 accepted too: only `58` is documented, see protocols.md §3.4). */
const EVENT10_RE = new RegExp(`^Q([0-9A-F]{2})([0-9A-F]+?)( *)(58|18|98)${TAIL10}$`);
const HEARTBEAT_RE = /^1([0-9A-F]{2})([0-9A-F]*) +@ *$/;

/** Bytes → text, without the DC4 terminator and without CR/LF/NUL padding at either end. */
export function receiverLineText(line: Buffer | string): string {
  const s = typeof line === 'string' ? line : line.toString('latin1');
  let start = 0;
  let end = s.length;
  if (end > start && s.charCodeAt(end - 1) === 0x14) end--;
  while (end > start && isPad(s.charCodeAt(end - 1))) end--;
  while (start < end && isPad(s.charCodeAt(start))) start++;
  return s.slice(start, end);
}

function isPad(c: number): boolean {
  return c === 0x0d || c === 0x0a || c === 0x00;
}

/** Parse one receiver output line (with or without its DC4). Never throws. */
export function parseReceiverLine(input: Buffer | string, opts: ParseOptions = {}): ReceiverLine {
  const raw = receiverLineText(input);
  const invalid = (reason: string): ReceiverInvalid => ({ type: 'invalid', reason, raw });
  if (raw.length === 0) return invalid('empty');
  // printable ASCII only
  if (!/^[\x20-\x7e]*$/.test(raw)) return invalid('bad_format');

  if (DTMF_RE.test(raw)) {
    const p = parseContactId(raw);
    if (!p.ok) return invalid(p.reason);
    const m = p.message;
    return {
      type: 'event',
      form: 'dtmf',
      protocolId: '',
      account: m.account,
      messageType: m.messageType,
      qualifier: m.qualifier,
      code: m.code,
      group: m.group,
      zone: m.zone,
      raw,
    };
  }

  const id = raw[0]!;
  if (id === '1') {
    const h = HEARTBEAT_RE.exec(raw);
    if (!h) return invalid('bad_format');
    return { type: 'heartbeat', receiver: h[1]!, line: h[2]!, raw };
  }
  if (id !== '5' && id !== 'Q') return invalid('unknown_form');

  const m = (id === '5' ? EVENT4_RE : EVENT10_RE).exec(raw);
  if (!m) return invalid('bad_format');
  const [, receiver, line, , messageType, account, q, code, group, zone] = m as unknown as string[];
  const qualifier = QUALIFIERS[q!];
  if (!qualifier) return invalid('bad_qualifier');
  if (opts.lineWidth !== undefined && line!.length !== opts.lineWidth) return invalid('bad_line_width');
  return {
    type: 'event',
    form: id === 'Q' ? 'sg10' : line!.length === 1 ? 'mlr2' : 'sg',
    protocolId: id,
    receiver: receiver!,
    line: line!,
    account: account!,
    messageType: messageType!,
    qualifier,
    code: code!,
    group: group!,
    zone: zone!,
    raw,
  };
}

export interface ReceiverDecodeOptions extends ParseOptions {
  /** panel vendor for the code table (`climax`, `vesta`, `sia`, `default`) */
  vendor?: string;
  /** the registry's device type for an account (e.g. `one_key_caller`), to pick the alarm for code 101 */
  deviceTypeOf?: (account: string) => string | undefined;
}

export type ReceiverDecodeContext = DecodeContext & ReceiverDecodeOptions;

/**
 * One receiver line → DeviceMessage. `reply` is ACK (0x06) for every line that parsed, heartbeats included;
 * the caller sends it after handling (for alarms: after the alarm row is committed). On `ok: false` the
 * transport answers NAK (0x15) and the receiver retransmits.
 */
export function decodeReceiverLine(line: Buffer, ctx: ReceiverDecodeContext): DecodeOutcome {
  let parsed: ReceiverLine;
  try {
    parsed = parseReceiverLine(line, ctx);
  } catch {
    return { ok: false, reason: 'bad_format' };
  }
  if (parsed.type === 'invalid') return { ok: false, reason: parsed.reason };
  if (parsed.type === 'heartbeat') {
    const msg: DeviceMessage = {
      deviceId: `receiver:${parsed.receiver}`,
      protocol: 'contactid',
      kind: 'heartbeat',
      receivedAt: ctx.receivedAt,
      raw: parsed.raw,
    };
    return { ok: true, messages: [msg], reply: encodeAck() };
  }
  let deviceType: string | undefined;
  try {
    deviceType = ctx.deviceTypeOf?.(parsed.account);
  } catch {
    deviceType = undefined;
  }
  const c = classifyEvent(parsed.code, parsed.qualifier, { vendor: ctx.vendor, deviceType });
  const msg: DeviceMessage = {
    deviceId: parsed.account,
    protocol: 'contactid',
    kind: c.kind,
    receivedAt: ctx.receivedAt,
    zone: parsed.zone,
    event: { code: parsed.code, qualifier: parsed.qualifier, group: parsed.group, label: c.meaning.label, known: c.meaning.known },
    raw: parsed.raw,
  };
  if (c.alarms) msg.alarms = c.alarms;
  if (c.restores) msg.restores = c.restores;
  return { ok: true, messages: [msg], reply: encodeAck() };
}
