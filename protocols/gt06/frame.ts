/**
 * Stream framer for GT06 (protocols.md §2.1).
 *
 * - A frame starts with `78 78` (1-byte LEN, total = LEN + 5) or `79 79` (2-byte LEN, total = LEN + 6) and ends
 *   with `0D 0A`. LEN decides where it ends when the bytes there are `0D 0A`.
 * - Where LEN lies (LEN 0x00 Wi-Fi packets, a few short logins, §2.1) the frame ends at the first `0D 0A`
 *   instead, as in Traccar; the decoder then judges it (no CRC: only LEN-0 Wi-Fi is accepted).
 * - Bytes before a start marker are `garbage`; a start marker followed by a later complete frame with a good CRC
 *   was garbage too (a stray `78 78` must not swallow the SOS behind it); nothing longer than GT06_MAX_FRAME is
 *   kept (`oversized`), and the framer resynchronises at the next start marker.
 * CRC is not the framer's business: the decoder checks it and counts `bad_crc`.
 */
import type { FrameEvent, Framer } from '../message.js';
import { crcX25 } from './crc.js';

/** Largest frame accepted (7979 frames carry command text and Wi-Fi lists; hundreds of bytes in practice). */
export const GT06_MAX_FRAME = 4096;

const CR = 0x0d;
const LF = 0x0a;
/** LEN counts PROTO + SERIAL + CRC at least (§2.1) */
const MIN_LEN = 5;
const EMPTY = Buffer.alloc(0);

/** Index of the next `78 78` or `79 79` at or after `from` (before `to`), or -1. */
function startAt(b: Buffer, from: number, to = b.length): number {
  for (let j = from; j < to - 1; j++) {
    const c = b[j];
    if ((c === 0x78 || c === 0x79) && b[j + 1] === c) return j;
  }
  return -1;
}

/** Index of the next `0D 0A` (of its `0D`) at or after `from`, before `to`, or -1. */
function crlfAt(b: Buffer, from: number, to: number): number {
  for (let j = b.indexOf(CR, from); j >= 0 && j < to - 1; j = b.indexOf(CR, j + 1)) if (b[j + 1] === LF) return j;
  return -1;
}

/** Total length of the frame starting at `s` by its LEN, or -1 when the header is not all there. */
function declared(b: Buffer, s: number, n: number): number {
  const long = b[s] === 0x79;
  if (n - s < (long ? 4 : 3)) return -1;
  return long ? b.readUInt16BE(s + 2) + 6 : b[s + 2]! + 5;
}

/** A complete frame by LEN at `s` whose CRC checks: proof that bytes before it were not a frame. */
function wholeAt(b: Buffer, s: number, n: number): boolean {
  const total = declared(b, s, n);
  if (total < MIN_LEN + 5 || total > GT06_MAX_FRAME || s + total > n) return false;
  const e = s + total;
  return b[e - 2] === CR && b[e - 1] === LF && crcX25(b, s + 2, e - 4) === b.readUInt16BE(e - 4);
}

type Cut = { end: number } | { skip: number; reason: 'garbage' | 'oversized' } | null;

export class Gt06Framer implements Framer {
  /** bytes of an incomplete frame (a copy: the caller's chunk is not kept) */
  private held: Buffer = EMPTY;

  constructor(private readonly maxFrame = GT06_MAX_FRAME) {}

  get buffered(): number {
    return this.held.length;
  }

  push(chunk: Buffer): FrameEvent[] {
    const b = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const n = b.length;
    const events: FrameEvent[] = [];
    let i = 0;
    while (i < n) {
      const s = startAt(b, i);
      if (s < 0) {
        // keep a last byte that may be the first half of a start marker
        const keep = b[n - 1] === 0x78 || b[n - 1] === 0x79 ? 1 : 0;
        if (n - keep > i) events.push({ error: 'garbage', discarded: n - keep - i });
        i = n - keep;
        break;
      }
      if (s > i) events.push({ error: 'garbage', discarded: s - i });
      i = s;
      const cut = this.cut(b, s, n);
      if (!cut) break;
      if ('end' in cut) {
        events.push({ frame: Buffer.from(b.subarray(s, cut.end)) });
        i = cut.end;
      } else {
        events.push({ error: cut.reason, discarded: cut.skip });
        i = s + cut.skip;
      }
    }
    this.held = i < n ? Buffer.from(b.subarray(i)) : EMPTY;
    return events;
  }

  /** What to do with the frame starting at `s`: where it ends, how much to skip, or null = wait for bytes. */
  private cut(b: Buffer, s: number, n: number): Cut {
    const total = declared(b, s, n);
    if (total < 0) return null;
    if (total >= MIN_LEN + 5 && total <= this.maxFrame) {
      if (n - s >= total) {
        if (b[s + total - 2] === CR && b[s + total - 1] === LF) return { end: s + total };
        return this.fallback(b, s, n);
      }
      // waiting for the rest; unless a whole frame further on shows that this start was garbage
      for (let p = startAt(b, s + 2); p >= 0; p = startAt(b, p + 1)) if (wholeAt(b, p, n)) return { skip: p - s, reason: 'garbage' };
      return null;
    }
    return this.fallback(b, s, n);
  }

  /** LEN lies (§2.1): the frame ends at the first `0D 0A`; a start marker before it means this was garbage. */
  private fallback(b: Buffer, s: number, n: number): Cut {
    const limit = Math.min(n, s + this.maxFrame);
    const e = crlfAt(b, s + 3, limit);
    const m = startAt(b, s + 2, e < 0 ? limit : e);
    if (m >= 0) return { skip: m - s, reason: 'garbage' };
    if (e >= 0) return { end: e + 2 };
    if (n - s >= this.maxFrame) return { skip: this.maxFrame, reason: 'oversized' };
    return null;
  }
}
