/**
 * The transmitter's side of the SIA DC-09 wire, written from the facts in shared/design/dc09.md alone, so the
 * simulator never shares code with protocols/dc09/ and one bug cannot hide in both: its own CRC (bit by bit, not
 * a table), its own framing and blocks, and AES straight from node:crypto.
 */
import { createCipheriv, createDecipheriv, randomInt } from 'node:crypto';

export type Token = 'ADM-CID' | 'SIA-DCS' | 'NULL';

/** Returns n pad bytes (n = 1..16). Production pads are random (§5); tests pass a fixed filler. */
export type PadSource = (n: number) => Buffer;

/** CRC-16/ARC (§1): reflected 0x8005 (shift right, XOR 0xA001), init 0, no final XOR; "123456789" -> 0xBB3D. */
export function crc16Arc(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');
const dec = (n: number, width: number): string => String(n).padStart(width, '0');

/** `LF crc 0LLL <body> CR` (§1): CRC and length both cover the body (region R), upper-case hex. */
export function frame(body: Buffer | string): Buffer {
  const r = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  if (r.length > 0xfff) throw new RangeError(`region R is ${r.length} bytes; the length field holds at most 0xFFF (§1)`);
  return Buffer.concat([Buffer.from(`\n${hex(crc16Arc(r), 4)}0${hex(r.length, 3)}`, 'latin1'), r, Buffer.from('\r', 'latin1')]);
}

/** `_HH:MM:SS,MM-DD-YYYY` in UTC (§1 field 11). */
export function timestamp(t: Date): string {
  return `_${dec(t.getUTCHours(), 2)}:${dec(t.getUTCMinutes(), 2)}:${dec(t.getUTCSeconds(), 2)},${dec(t.getUTCMonth() + 1, 2)}-${dec(t.getUTCDate(), 2)}-${dec(t.getUTCFullYear(), 4)}`;
}

/** Reads `_HH:MM:SS,MM-DD-YYYY` (the `_` optional); null unless it is a real UTC time. */
export function parseTimestamp(s: string): Date | null {
  const m = /^_?(\d\d):(\d\d):(\d\d),(\d\d)-(\d\d)-(\d{4})$/.exec(s);
  if (!m) return null;
  const [h, mi, se, mo, d, y] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  // Date.UTC rolls 13-32 over into a valid date: a real time prints back to the same text
  return timestamp(t) === `_${m.slice(1, 4).join(':')},${m.slice(4).join('-')}` ? t : null;
}

/** Sequence numbers run 0001-9999 and wrap to 0001 (§1 field 5). */
export const nextSeq = (seq: number): number => (seq >= 9999 ? 1 : seq + 1);

/** ADM-CID data (§3.1): `#ACCT|QEEE GG ZZZ`, e.g. `#1234|1101 01 003`. */
export function cidData(account: string, q: number, code: number, group: number, zone: number): string {
  const ok = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;
  if (!ok(q, 9) || !ok(code, 999) || !ok(group, 99) || !ok(zone, 999)) throw new RangeError(`bad Contact ID fields q=${q} code=${code} group=${group} zone=${zone}`);
  return `#${account}|${q}${dec(code, 3)} ${dec(group, 2)} ${dec(zone, 3)}`;
}

/**
 * SIA-DCS data (§3.2): `#ACCT|N<modifiers>/<CC><zone>`, e.g. `#1234|Nri1/MA05`. A numeric zone is written with two
 * digits; pass a string for other widths (`CL501`, `RP0000`). No modifiers gives `#ACCT|N<CC><zone>`.
 */
export function siaData(account: string, code: string, zone: string | number = '', modifiers = 'ri1'): string {
  if (!/^[A-Z]{2}$/.test(code)) throw new RangeError(`SIA event code must be two upper-case letters, got ${code}`);
  const z = typeof zone === 'number' ? dec(zone, 2) : zone;
  return `#${account}|N${modifiers ? `${modifiers}/` : ''}${code}${z}`;
}

/** Random pad bytes, any value except `|` `[` `]` (§5). */
export const randomPad: PadSource = (n) => {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    let b: number;
    do b = randomInt(256);
    while (b === 0x7c || b === 0x5b || b === 0x5d);
    out[i] = b;
  }
  return out;
};

const IV = Buffer.alloc(16); // §5: zero IV

function cipherName(key: Buffer): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  return `aes-${key.length * 8}-cbc`;
}

/** AES-CBC, zero IV, no PKCS#7 (§5): the plaintext must already be a multiple of 16 bytes. Upper-case hex out. */
export function encryptHex(key: Buffer, plaintext: Buffer): string {
  const c = createCipheriv(cipherName(key), key, IV).setAutoPadding(false);
  return Buffer.concat([c.update(plaintext), c.final()]).toString('hex').toUpperCase();
}

/** The reverse of encryptHex; throws on odd hex or a length that is not a multiple of 16 bytes. */
export function decryptHex(key: Buffer, text: string): Buffer {
  if (!/^(?:[0-9A-Fa-f]{32})+$/.test(text)) throw new Error('ciphertext is not whole 16-byte blocks of hex');
  const d = createDecipheriv(cipherName(key), key, IV).setAutoPadding(false);
  return Buffer.concat([d.update(Buffer.from(text, 'hex')), d.final()]);
}

export interface MessageOptions {
  token: Token;
  /** 0-9999; 0 only as Ajax does for NULLs (§1 field 5) */
  seq: number;
  account: string;
  /** `L` value, hex; default '0'; '' gives a bare `L` (§8) */
  prefix?: string;
  /** `R` value, hex, 1-6 digits; omitted when undefined */
  receiver?: string;
  /** the first data block without its brackets, e.g. `#1234|1101 01 003`; '' (default) for NULL */
  data?: string;
  /** extended data blocks without brackets, e.g. 'X52.21' (§3.4) */
  extra?: string[];
  /** the message time; null or absent = no timestamp, allowed in clear only (§1 field 11) */
  time?: Date | null;
  /** AES key (16/24/32 bytes): gives the `*` token and the encrypted block (§5) */
  key?: Buffer;
  /** pad bytes for encrypted messages; default randomPad */
  pad?: PadSource;
}

/** Region R of a message: `"TOKEN"SEQ[Rr]Lp#acct[...]` (§1), encrypted when a key is given (§5). */
export function messageBody(o: MessageOptions): Buffer {
  const head = `"${o.key ? '*' : ''}${o.token}"${dec(o.seq, 4)}${o.receiver !== undefined ? `R${o.receiver}` : ''}L${o.prefix ?? '0'}#${o.account}[`;
  const rest = `${o.data ?? ''}]${(o.extra ?? []).map((x) => `[${x}]`).join('')}${o.time ? timestamp(o.time) : ''}`;
  if (!o.key) return Buffer.from(head + rest, 'latin1');
  if (!o.time) throw new Error('an encrypted message must carry a timestamp (dc09.md §1 field 11)');
  // §5: plaintext `<pad>|<data>]<x-data>_<time>`; the pad makes the whole a multiple of 16, 1..16 bytes
  const tail = Buffer.from(`|${rest}`, 'latin1');
  const n = 16 - (tail.length % 16);
  const pad = (o.pad ?? randomPad)(n);
  if (pad.length !== n) throw new RangeError(`pad source gave ${pad.length} bytes, ${n} needed`);
  return Buffer.from(head + encryptHex(o.key, Buffer.concat([pad, tail])), 'latin1');
}

/** A whole message frame: frame(messageBody(o)). */
export const message = (o: MessageOptions): Buffer => frame(messageBody(o));

/** A receiver's reply, read and checked. */
export interface Reply {
  /** 'ACK', 'NAK', 'DUH' or 'RSP' (anything else is reported as is), without the `*` */
  token: string;
  /** the token had `*` (§2: `*ACK`) */
  encrypted: boolean;
  /** 0 in a NAK (§4) */
  seq: number;
  receiver?: string;
  prefix: string;
  /** absent in the NAK template `"NAK"0000R0L0A0[]` */
  account?: string;
  /** the first block's text: '' for ACK/NAK/DUH; for `*ACK` what follows `|`, if any */
  data: string;
  /** NAK: the receiver's time; `*ACK`: the decrypted time; a clear ACK's optional time */
  time?: Date;
  /** `*ACK` only: the plaintext had the `|` pad terminator (§4: disputed; both are accepted) */
  pipe?: boolean;
  /** the frame as received (trailing NULs cut) */
  raw: Buffer;
}

/**
 * Reads one reply frame: LF, CRC and length over region R, header, then the block (decrypted with `key` for
 * `*ACK`, which must end in `]_HH:MM:SS,MM-DD-YYYY`). Returns the reason as a string when the frame is not valid.
 */
export function parseReply(bytes: Buffer, key?: Buffer): Reply | string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--; // a 0x00 after CR is seen in the field (§8)
  const f = bytes.subarray(0, end);
  if (f.length < 11 || f[0] !== 0x0a || f[f.length - 1] !== 0x0d) return 'not an LF…CR frame';
  const lead = f.toString('latin1', 1, 9);
  if (!/^[0-9A-Fa-f]{8}$/.test(lead)) return `bad CRC or length field ${JSON.stringify(lead)}`;
  const region = f.subarray(9, f.length - 1);
  const len = parseInt(lead.slice(4), 16); // most implementations read all four digits as hex (§1)
  if (len !== region.length) return `length field says ${len} bytes, region R has ${region.length}`;
  const crc = crc16Arc(region);
  if (crc !== parseInt(lead.slice(0, 4), 16)) return `CRC ${lead.slice(0, 4)} but computed ${hex(crc, 4)}`;
  const text = region.toString('latin1');
  // the NAK's `R0L0A0` reads as R 0, L 0A0, no account (§1: the `#` is absent there)
  const m = /^"(\*?)([A-Z]+)"(\d{4})(?:R([0-9A-F]{1,6}))?L([0-9A-F]{0,6})(?:#([0-9A-Z]{1,16}))?\[/i.exec(text);
  if (!m) return `unparseable header ${JSON.stringify(text.slice(0, 40))}`;
  const reply: Reply = { token: m[2]!, encrypted: m[1] === '*', seq: Number(m[3]), prefix: m[5]!, data: '', raw: Buffer.from(f) };
  if (m[4] !== undefined) reply.receiver = m[4];
  if (m[6] !== undefined) reply.account = m[6];
  const block = text.slice(m[0].length);
  if (!reply.encrypted) {
    const b = /^([^\]]*)\](.*)$/s.exec(block);
    if (!b) return 'data block not closed by ]';
    reply.data = b[1]!;
    const t = /(_[^_]*)$/.exec(b[2]!);
    if (t) {
      const time = parseTimestamp(t[1]!);
      if (!time) return `bad timestamp ${JSON.stringify(t[1])}`;
      reply.time = time;
    } else if (b[2]) return `unexpected text after the block ${JSON.stringify(b[2])}`;
    return reply;
  }
  if (!key) return `encrypted ${reply.token} but no key`;
  let plain: Buffer;
  try {
    plain = decryptHex(key, block);
  } catch (e) {
    return (e as Error).message;
  }
  // §4/§5: `<pad>|]_time` or, pysiaalarm style, `<pad>]_time`; CBC has no integrity check, so a wrong key shows here
  const tail = plain.toString('latin1', plain.length - 21);
  const time = tail[0] === ']' ? parseTimestamp(tail.slice(1)) : null;
  if (!time) return 'decrypted block does not end in ]_HH:MM:SS,MM-DD-YYYY (wrong key?)';
  reply.time = time;
  const bar = plain.indexOf(0x7c);
  reply.pipe = bar >= 0 && bar < plain.length - 21;
  if (reply.pipe) {
    const close = plain.indexOf(0x5d, bar + 1);
    reply.data = plain.toString('latin1', bar + 1, close);
  }
  return reply;
}

/** Splits a TCP byte stream into LF…CR frames; partial frames wait for the next read (§6). */
export class ReplyFrames {
  private buf = Buffer.alloc(0);

  /** Complete frames, and how many bytes fell outside any frame (NULs after CR are not counted, §8). */
  push(chunk: Buffer): { frames: Buffer[]; junk: number } {
    this.buf = Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    let junk = 0;
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      const skipped = lf < 0 ? this.buf : this.buf.subarray(0, lf);
      junk += skipped.length - skipped.filter((b) => b === 0).length;
      if (lf < 0) {
        this.buf = Buffer.alloc(0);
        break;
      }
      this.buf = this.buf.subarray(lf);
      const cr = this.buf.indexOf(0x0d);
      if (cr < 0) {
        if (this.buf.length > 4096) {
          junk += this.buf.length; // §6: cap the buffer at 4 KB
          this.buf = Buffer.alloc(0);
        }
        break;
      }
      frames.push(Buffer.from(this.buf.subarray(0, cr + 1)));
      this.buf = this.buf.subarray(cr + 1);
    }
    return { frames, junk };
  }
}
