/**
 * The watch frame header (protocols.md §1.1), read from the bytes:
 * `[MF*ID*LEN*` or, in the ZJ dialect, `[MF*ID*INDEX*LEN*`, with MF = 2 × [0-9A-Za-z], ID = 1-32 digits, INDEX
 * and LEN = 4 hex digits. As in Traccar, the dialect is recognised by a second 4-hex token followed by `*`
 * (so `[MF*ID*hhhh*hhhh*` is always read as INDEX + LEN). LEN is read but never trusted (§1.1: real frames
 * carry wrong LEN values). This is the pattern
 * `^\[([0-9A-Za-z]{2})\*([0-9]{1,32})\*(?:([0-9A-Fa-f]{4})\*)?([0-9A-Fa-f]{4})\*` without a regex.
 */
import type { WatchHeader } from './encoder.js';

const OPEN = 0x5b; // '['
const CLOSE = 0x5d; // ']'
const STAR = 0x2a; // '*'
/** the device id starts at 4 and has at most 32 digits */
const ID_END_MAX = 4 + 32;
/** `[MF*I*LEN*]`: the shortest frame the header pattern allows */
const MIN_FRAME = 12;

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isAlnum(b: number): boolean {
  const l = b | 0x20; // ASCII lower case
  return (b >= 0x30 && b <= 0x39) || (l >= 0x61 && l <= 0x7a);
}

function isHex(b: number): boolean {
  const l = b | 0x20;
  return (b >= 0x30 && b <= 0x39) || (l >= 0x61 && l <= 0x66);
}

/** `hhhh*` at frame[at] (4 hex digits then a star), all before frame[end]. */
function hex4Star(frame: Buffer, at: number, end: number): boolean {
  return at + 4 < end && isHex(frame[at]!) && isHex(frame[at + 1]!) && isHex(frame[at + 2]!) && isHex(frame[at + 3]!) && frame[at + 4] === STAR;
}

/** Offsets of a frame's header; one instance is reused (decoding is synchronous). */
export class HeaderScan {
  /** end of the device id (the `*` after it); the id starts at 4 */
  idEnd = 0;
  /** start of LEN, i.e. the length of `[MF*ID*` or `[MF*ID*INDEX*` that a reply echoes */
  lenAt = 0;
  /** first byte of CONTENT (the frame's last byte is the closing `]`) */
  contentStart = 0;

  /** Reads a whole frame `[...]`; false when it is not one. */
  read(frame: Buffer): boolean {
    const n = frame.length;
    if (n < MIN_FRAME || frame[0] !== OPEN || frame[n - 1] !== CLOSE) return false;
    if (!isAlnum(frame[1]!) || !isAlnum(frame[2]!) || frame[3] !== STAR) return false;
    // the header ends before the closing `]`, so everything read below is at most n - 2
    const last = n - 1;
    const idMax = Math.min(ID_END_MAX, last);
    let i = 4;
    while (i < idMax && isDigit(frame[i]!)) i++;
    if (i === 4 || frame[i] !== STAR) return false; // 1-32 digits, then `*`
    this.idEnd = i;
    const p = i + 1;
    if (!hex4Star(frame, p, last)) return false;
    this.lenAt = hex4Star(frame, p + 5, last) ? p + 5 : p; // ZJ: INDEX*LEN*
    this.contentStart = this.lenAt + 5;
    return true;
  }

  /** Whether the frame carries the ZJ index (between idEnd and lenAt). */
  get indexed(): boolean {
    return this.lenAt > this.idEnd + 1;
  }
}

export const head = new HeaderScan();

/** The header as strings (for commands sent to this device later); call after a successful `read`. */
export function headerOf(frame: Buffer, h: HeaderScan): WatchHeader {
  const header: WatchHeader = { manufacturer: frame.toString('latin1', 1, 3), deviceId: frame.toString('latin1', 4, h.idEnd) };
  if (h.indexed) header.index = frame.toString('latin1', h.idEnd + 1, h.lenAt - 1);
  return header;
}
