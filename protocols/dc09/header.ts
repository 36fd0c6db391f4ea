/**
 * Reading a DC-09 frame (dc09.md §1): the envelope (CRC and length over region R), the header, the data block,
 * extended blocks and the timestamp. Pure and total: every failure is a reason, nothing throws.
 */
import { crc16Arc } from './crc.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const QUOTE = 0x22;

/** How the frame carried its CRC: 4 ASCII hex digits, or 2 raw bytes (§8, Lupusec/Egardia). Replies use the same. */
export type CrcForm = 'hex' | 'binary';

export type EnvelopeResult =
  | { ok: true; crcForm: CrcForm; region: Buffer }
  | { ok: false; reason: 'not_a_frame' | 'bad_length' | 'bad_crc' };

const HEX4 = /^[0-9A-Fa-f]{4}$/;
/** `0LLL`: `0` then 3 hex digits (§1; the 4 KB frame cap keeps any real R below 0x1000 anyway) */
const LENGTH = /^0[0-9A-Fa-f]{3}$/;

/**
 * Check LF … CR (trailing NULs stripped, §8), then the length and the CRC over exactly region R, the bytes from
 * the token's opening `"` to the last one before CR (§1). Either failure means no reply (§4 step 1).
 */
export function openFrame(frame: Buffer): EnvelopeResult {
  let end = frame.length;
  while (end > 0 && frame[end - 1] === NUL) end--;
  if (end < 2 || frame[0] !== LF || frame[end - 1] !== CR) return { ok: false, reason: 'not_a_frame' };
  // LF crc(4) 0LLL(4) `"`  or, binary CRC, LF crc(2) 0LLL(4) `"`
  let crcForm: CrcForm;
  let start: number;
  if (frame[9] === QUOTE && HEX4.test(frame.toString('latin1', 1, 5))) {
    crcForm = 'hex';
    start = 9;
  } else if (frame[7] === QUOTE) {
    crcForm = 'binary';
    start = 7;
  } else {
    return { ok: false, reason: 'not_a_frame' };
  }
  if (start >= end - 1) return { ok: false, reason: 'not_a_frame' };
  const length = frame.toString('latin1', start - 4, start);
  const region = frame.subarray(start, end - 1);
  if (!LENGTH.test(length) || parseInt(length, 16) !== region.length) return { ok: false, reason: 'bad_length' };
  const sent = crcForm === 'hex' ? parseInt(frame.toString('latin1', 1, 5), 16) : frame.readUInt16BE(1);
  if (sent !== crc16Arc(region)) return { ok: false, reason: 'bad_crc' };
  return { ok: true, crcForm, region };
}

/** The token between the quotes, with its encryption flag; undefined when R does not start with `"…"`. */
export function readToken(r: string): { token: string; encrypted: boolean } | undefined {
  const m = /^"(\*?)([^"]*)"/.exec(r);
  return m ? { token: m[2]!, encrypted: m[1] === '*' } : undefined;
}

/** What a reply echoes (§4): seq, receiver (only if present), prefix and account exactly as received. */
export interface Dc09Address {
  seq: string;
  receiver?: string;
  /** the `L` digits; '' for a bare `L` (§8) */
  prefix: string;
  account: string;
  /** reply in the form the panel used (§8) */
  crcForm?: CrcForm;
}

export interface Dc09Header extends Dc09Address {
  token: string;
  encrypted: boolean;
  crcForm: CrcForm;
  /** what follows the `[` after the account: clear data, or hex ciphertext to the end of R */
  rest: string;
}

/**
 * §1 header pattern (hex case-insensitive); an empty `L` is allowed (§8), the account is 1-16 characters (§1 row 8:
 * Ajax sends 1). The NAK's `R0L0A0` has no `#`: responses are recognised by their token before this.
 */
const HEADER = /^"(\*?)([A-Z0-9/-]+)"(\d{4})(?:R([0-9A-F]{1,6}))?L([0-9A-F]{0,6})#([0-9A-Z]{1,16})\[/i;

export function parseHeader(r: string, crcForm: CrcForm): Dc09Header | undefined {
  const m = HEADER.exec(r);
  if (!m) return undefined;
  const h: Dc09Header = {
    token: m[2]!,
    encrypted: m[1] === '*',
    seq: m[3]!,
    prefix: m[5]!,
    account: m[6]!,
    crcForm,
    rest: r.slice(m[0].length),
  };
  if (m[4] !== undefined) h.receiver = m[4];
  return h;
}

/** An extended data block `[Xvalue]` (§3.4): `id` is its first character. */
export interface ExtendedBlock {
  id: string;
  value: string;
}

export interface Dc09Body {
  /** the data block's text between `[` and `]` */
  data: string;
  extended: ExtendedBlock[];
  /** the `_HH:MM:SS,MM-DD-YYYY` text, when present */
  timestampText?: string;
  timestamp?: Date;
}

export type BodyResult = { ok: true; body: Dc09Body } | { ok: false; reason: 'bad_data' | 'bad_timestamp' };

/**
 * `<data>][x…]…[_timestamp]`: the text after the data block's opening `[` (clear, or the plaintext after the pad's
 * `|`, §5). `]` must close the data block; blocks follow; then optionally the timestamp, then nothing.
 */
export function parseBody(text: string): BodyResult {
  const close = text.indexOf(']');
  if (close < 0) return { ok: false, reason: 'bad_data' };
  const body: Dc09Body = { data: text.slice(0, close), extended: [] };
  let i = close + 1;
  while (text[i] === '[') {
    const end = text.indexOf(']', i + 1);
    if (end < 0) return { ok: false, reason: 'bad_data' };
    const block = text.slice(i + 1, end);
    body.extended.push({ id: block.slice(0, 1), value: block.slice(1) });
    i = end + 1;
  }
  if (i === text.length) return { ok: true, body };
  if (text[i] !== '_') return { ok: false, reason: 'bad_data' };
  const ts = text.slice(i + 1);
  const date = parseTimestamp(ts);
  if (!date) return { ok: false, reason: 'bad_timestamp' };
  body.timestampText = ts;
  body.timestamp = date;
  return { ok: true, body };
}

const TIMESTAMP = /^(\d{2}):(\d{2}):(\d{2}),(\d{2})-(\d{2})-(\d{4})$/;

/** `HH:MM:SS,MM-DD-YYYY` (UTC, §1 row 11) → Date; undefined when malformed or not a real date and time. */
export function parseTimestamp(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [hh, mi, ss, mo, dd, yyyy] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (hh > 23 || mi > 59 || ss > 59 || mo < 1 || mo > 12 || dd < 1) return undefined;
  const t = Date.UTC(yyyy, mo - 1, dd, hh, mi, ss);
  const d = new Date(t);
  // Date.UTC rolls 31 June over into July: refuse what does not come back as written
  if (d.getUTCDate() !== dd || d.getUTCMonth() !== mo - 1 || d.getUTCFullYear() !== yyyy) return undefined;
  return d;
}

/** Date → `HH:MM:SS,MM-DD-YYYY` in UTC. */
export function formatTimestamp(d: Date): string {
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())},${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCFullYear(), 4)}`;
}
