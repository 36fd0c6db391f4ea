/**
 * Contact ID bytes we send or build (protocols.md §3).
 *
 * - ACK 0x06 / NAK 0x15: the automation computer's answer to every receiver line, heartbeats included (§3.4).
 * - The 16-digit DTMF message and its checksum (§3.1, §3.2), used by our tests and by anything that must
 *   produce a raw Contact ID message. Simulators build their own lines from the facts and do not import this.
 * - Receiver output lines (Sur-Gard MLR2 and SG automation forms), for tests.
 */

export const ACK = 0x06;
export const NAK = 0x15;
/** Receiver line terminator (DC4). */
export const DC4 = 0x14;

/** The one byte that acknowledges a receiver line (within 4 s, or the receiver retransmits). */
export function encodeAck(): Buffer {
  return Buffer.from([ACK]);
}

/** The one byte that rejects a receiver line: the receiver retransmits it (up to 3 more times). */
export function encodeNak(): Buffer {
  return Buffer.from([NAK]);
}

/**
 * Value of one Contact ID digit for the checksum: 1–9 as is, `0` counts as 10, B–F = 11–15.
 * `A` is not used in Contact ID and anything else is not a digit: both give undefined.
 */
export function contactIdDigitValue(ch: string): number | undefined {
  if (ch.length !== 1) return undefined;
  if (ch === '0') return 10;
  if (ch >= '1' && ch <= '9') return ch.charCodeAt(0) - 0x30;
  const up = ch.toUpperCase();
  if (up >= 'B' && up <= 'F') return up.charCodeAt(0) - 0x41 + 10;
  return undefined;
}

/** Sum of the digit values, or undefined when a character is not a Contact ID digit. */
export function contactIdDigitSum(digits: string): number | undefined {
  let sum = 0;
  for (const ch of digits) {
    const v = contactIdDigitValue(ch);
    if (v === undefined) return undefined;
    sum += v;
  }
  return sum;
}

/**
 * The check digit S for the first 15 digits: S = 15 − (sum mod 15); 15 is sent as `F`, 10 as `0`.
 * Throws on a wrong length or a non-digit (this is a builder for our own inputs, not a decoder).
 */
export function contactIdChecksum(first15: string): string {
  if (first15.length !== 15) throw new RangeError(`Contact ID: need 15 digits before the checksum, got ${first15.length}`);
  const sum = contactIdDigitSum(first15);
  if (sum === undefined) throw new RangeError(`Contact ID: not a Contact ID digit string: ${JSON.stringify(first15)}`);
  const s = 15 - (sum % 15);
  if (s === 15) return 'F';
  if (s === 10) return '0';
  return s < 10 ? String(s) : 'BCDEF'[s - 11]!;
}

export type QualifierInput = 'E' | 'R' | 'P' | '1' | '3' | '6';

const QUALIFIER_DIGIT: Record<QualifierInput, '1' | '3' | '6'> = { E: '1', R: '3', P: '6', '1': '1', '3': '3', '6': '6' };
const QUALIFIER_LETTER: Record<QualifierInput, 'E' | 'R' | 'P'> = { E: 'E', R: 'R', P: 'P', '1': 'E', '3': 'R', '6': 'P' };

export interface ContactIdFields {
  /** 4 digits (0-9, B-F) */
  account: string;
  /** `18` (preferred) or `98` */
  messageType?: '18' | '98';
  qualifier: QualifierInput;
  /** 3-digit event code, e.g. `101` */
  code: string | number;
  /** 2-digit group / partition; default `00` */
  group?: string | number;
  /** 3-digit zone or user; default `000` */
  zone?: string | number;
}

function pad(v: string | number, width: number, what: string): string {
  const s = typeof v === 'number' ? String(v).padStart(width, '0') : v;
  if (s.length !== width) throw new RangeError(`Contact ID: ${what} must be ${width} digits, got ${JSON.stringify(s)}`);
  return s.toUpperCase();
}

/** The 16-digit message `ACCT MT Q XYZ GG CCC S` (no spaces), with its check digit. */
export function buildContactId(f: ContactIdFields): string {
  const first15 =
    pad(f.account, 4, 'account') +
    (f.messageType ?? '18') +
    QUALIFIER_DIGIT[f.qualifier] +
    pad(f.code, 3, 'event code') +
    pad(f.group ?? 0, 2, 'group') +
    pad(f.zone ?? 0, 3, 'zone');
  return first15 + contactIdChecksum(first15);
}

export interface ReceiverLineFields extends Omit<ContactIdFields, 'account'> {
  /** 4 digits, or 10 digits for the SG 10-digit-account form */
  account: string;
  /** 2-digit receiver number; default `01` */
  receiver?: string;
  /** line number as printed; its length is the line width (MLR2: 1 char, SG: 3 by default); default `1` */
  line?: string;
  /** separator between the line and `18`; default one space */
  separator?: string;
  /** append the DC4 terminator (default true) */
  terminator?: boolean;
}

/**
 * A receiver output line: `5RRL 18AAAAQXYZGGCCC` (MLR2), `5RRLLL 18AAAAQXYZGGCCC` (SG), or with a 10-digit
 * account `QRRLLL 58AAAAAAAAAAQXYZGGCCC`. Receiver lines carry no checksum digit.
 */
export function buildReceiverLine(f: ReceiverLineFields): Buffer {
  const ten = f.account.length === 10;
  const protocolId = ten ? 'Q' : '5';
  const mt = ten ? '58' : (f.messageType ?? '18');
  const text =
    protocolId +
    (f.receiver ?? '01') +
    (f.line ?? '1') +
    (f.separator ?? ' ') +
    mt +
    pad(f.account, ten ? 10 : 4, 'account') +
    QUALIFIER_LETTER[f.qualifier] +
    pad(f.code, 3, 'event code') +
    pad(f.group ?? 0, 2, 'group') +
    pad(f.zone ?? 0, 3, 'zone');
  return Buffer.from(f.terminator === false ? text : text + '\x14', 'latin1');
}

/** Heartbeat `1RRL` + 11 spaces + `@` + 4 spaces + DC4 (MLR2), or `1RR000…` for the SG form (line `000`). */
export function buildHeartbeatLine(opts: { receiver?: string; line?: string; terminator?: boolean } = {}): Buffer {
  const text = '1' + (opts.receiver ?? '01') + (opts.line ?? '1') + ' '.repeat(11) + '@' + ' '.repeat(4);
  return Buffer.from(opts.terminator === false ? text : text + '\x14', 'latin1');
}
