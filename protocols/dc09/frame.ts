/**
 * DC-09 framing (dc09.md §1, §6, §8): a message is LF … CR.
 *
 * TCP: the panel may keep the connection open and send several messages on it (§6), so the framer keeps a byte
 * buffer: several frames per read, frames split across reads.
 * - Bytes before an LF are `garbage`; NULs there are skipped silently (a 0x00 after CR, §8).
 * - An LF inside a frame means the bytes before it were `garbage` (a truncated message): the frame restarts there.
 * - Nothing longer than DC09_MAX_FRAME is kept (§6: cap at 4 KB): `oversized`, then the rest is garbage up to the
 *   next LF.
 * - Binary CRC (§8, Lupusec/Egardia): LF, 2 raw CRC bytes, then `0LLL"`. Those two bytes may be CR or LF, so when
 *   they are, the frame is cut by its length field instead (the decoder checks everything else).
 * Decisions depend only on the bytes, never on how the stream was chunked. CRC and length are the decoder's.
 *
 * UDP: one datagram is one message (§6): `datagramFrame`.
 */
import type { FrameEvent, Framer } from '../message.js';

/** Largest frame kept, LF and CR included (§6). */
export const DC09_MAX_FRAME = 4096;

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const QUOTE = 0x22;
const EMPTY = Buffer.alloc(0);
/** LF + 2 raw CRC bytes + `0LLL` + the `"` that opens region R: enough to tell the form */
const BINARY_HEAD = 8;

function isHexDigit(c: number): boolean {
  const l = c | 0x20;
  return (c >= 0x30 && c <= 0x39) || (l >= 0x61 && l <= 0x66);
}

function isDelimiter(c: number | undefined): boolean {
  return c === CR || c === LF;
}

/** Total length of a binary-CRC frame at `s` by its `0LLL"` (§8), or -1 when the bytes are not that form. */
function binaryTotal(b: Buffer, s: number): number {
  if (b[s + 3] !== 0x30 || b[s + 7] !== QUOTE) return -1;
  for (let k = s + 4; k < s + 7; k++) if (!isHexDigit(b[k]!)) return -1;
  // LF, CRC, 0LLL, region R (LLL bytes from the `"`), CR
  return 7 + parseInt(b.toString('latin1', s + 4, s + 7), 16) + 1;
}

type Cut = { end: number } | { skip: number; reason: 'garbage' | 'oversized' } | null;

export class Dc09Framer implements Framer {
  /** bytes of an incomplete frame (a copy: the caller's chunk is not kept) */
  private held: Buffer = EMPTY;

  constructor(readonly maxFrame = DC09_MAX_FRAME) {}

  get buffered(): number {
    return this.held.length;
  }

  push(chunk: Buffer): FrameEvent[] {
    const b = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const n = b.length;
    const events: FrameEvent[] = [];
    let i = 0;
    while (i < n) {
      if (b[i] !== LF) {
        let j = i;
        let garbage = 0;
        for (; j < n && b[j] !== LF; j++) if (b[j] !== NUL) garbage++;
        if (garbage) events.push({ error: 'garbage', discarded: garbage });
        i = j;
        continue;
      }
      const cut = this.cut(b, i, n);
      if (!cut) break;
      if ('end' in cut) {
        events.push({ frame: Buffer.from(b.subarray(i, cut.end)) });
        i = cut.end;
      } else {
        events.push({ error: cut.reason, discarded: cut.skip });
        i += cut.skip;
      }
    }
    this.held = i < n ? Buffer.from(b.subarray(i)) : EMPTY;
    return events;
  }

  /** The frame whose LF is at `s`: where it ends, how much to skip, or null = wait for more bytes. */
  private cut(b: Buffer, s: number, n: number): Cut {
    if (isDelimiter(b[s + 1]) || isDelimiter(b[s + 2])) {
      // maybe raw CRC bytes (§8): the length field decides, once it is here
      if (n - s < BINARY_HEAD) return null;
      const total = binaryTotal(b, s);
      if (total > 0 && total <= this.maxFrame) {
        if (n - s < total) return null;
        if (b[s + total - 1] === CR) return { end: s + total };
      }
    }
    // text form: the first CR ends the frame, an LF before it restarts it; in a binary-CRC frame the first CR or
    // LF past the CRC bytes is its final CR, so both forms agree here
    const limit = Math.min(n, s + this.maxFrame);
    for (let j = s + 1; j < limit; j++) {
      const c = b[j];
      if (c === CR) return { end: j + 1 };
      if (c === LF) return { skip: j - s, reason: 'garbage' };
    }
    if (n - s >= this.maxFrame) return { skip: this.maxFrame, reason: 'oversized' };
    return null;
  }
}

/**
 * One UDP datagram = one message (§6): trailing NULs stripped (§8); it must start with LF and end with CR.
 * The decoder accepts the datagram as is too; this helper is for counting what is not a frame.
 */
export function datagramFrame(datagram: Buffer, maxFrame = DC09_MAX_FRAME): FrameEvent {
  let end = datagram.length;
  while (end > 0 && datagram[end - 1] === NUL) end--;
  if (end > maxFrame) return { error: 'oversized', discarded: datagram.length };
  if (end < 2 || datagram[0] !== LF || datagram[end - 1] !== CR) return { error: 'not_a_frame', discarded: datagram.length };
  return { frame: Buffer.from(datagram.subarray(0, end)) };
}
