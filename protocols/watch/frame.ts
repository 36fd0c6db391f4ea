/**
 * Stream framer for the watch protocol (protocols.md §1.1).
 *
 * - Frames on bracket depth, never on LEN: real devices send wrong LEN values, and a Wi-Fi SSID such as
 *   `[LG_Wall-Mount A/C]e725` puts raw brackets inside a frame.
 * - Depth is counted on the raw (still escaped) bytes: the 0x7D escapes exist so that binary payloads
 *   (voice, images) carry no raw `[`/`]`, and an escape pair 0x7D 0x0N can never look like a bracket.
 * - The emitted frame is un-escaped (0x7D 0x01..0x05 → 0x7D `[` `]` `,` `*`).
 * - Bytes outside a frame are discarded and reported as `garbage`; a frame longer than 64 KiB is reported
 *   as `oversized`, dropped, and the framer resynchronises at the next `[` (the dropped frame's tail is then
 *   reported as garbage).
 */
// Imported rather than the global: in Node 20 globalThis.Buffer is an accessor, called on every use (issue 25).
import { Buffer } from 'node:buffer';
import type { FrameEvent, Framer } from '../message.js';

/** Largest frame accepted, counted on the raw bytes including both brackets. */
export const WATCH_MAX_FRAME = 64 * 1024;

const OPEN = 0x5b; // '['
const CLOSE = 0x5d; // ']'
const ESC = 0x7d; // '}'

/** escape code (second byte) → original byte; protocols.md §1.1 "Binary escaping" */
const UNESCAPE: Record<number, number> = { 0x01: 0x7d, 0x02: OPEN, 0x03: CLOSE, 0x04: 0x2c, 0x05: 0x2a };

/** Undo the 0x7D escapes; other bytes (including a lone 0x7D) are kept as they are. */
export function unescapeWatch(raw: Buffer): Buffer {
  if (raw.indexOf(ESC) < 0) return raw;
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    const mapped = b === ESC && i + 1 < raw.length ? UNESCAPE[raw[i + 1]!] : undefined;
    if (mapped !== undefined) {
      out[n++] = mapped;
      i++;
    } else {
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}

/** Inverse of unescapeWatch, for binary downlink payloads (TK voice); exported for symmetry and tests. */
export function escapeWatch(data: Buffer): Buffer {
  const out: number[] = [];
  for (const b of data) {
    if (b === 0x7d) out.push(ESC, 0x01);
    else if (b === OPEN) out.push(ESC, 0x02);
    else if (b === CLOSE) out.push(ESC, 0x03);
    else if (b === 0x2c) out.push(ESC, 0x04);
    else if (b === 0x2a) out.push(ESC, 0x05);
    else out.push(b);
  }
  return Buffer.from(out);
}

export class WatchFramer implements Framer {
  /** bracket depth of the frame being collected; 0 = between frames */
  private depth = 0;
  /** pieces of the frame being collected (copies, so callers may reuse their chunks) */
  private parts: Buffer[] = [];
  private partLen = 0;

  constructor(private readonly maxFrame: number = WATCH_MAX_FRAME) {}

  get buffered(): number {
    return this.partLen;
  }

  /**
   * Jumps from bracket to bracket with Buffer#indexOf (native memchr) instead of visiting every byte; the next
   * `[`, `]` and escape positions are each looked up once and reused until passed. The events are exactly
   * those of a byte-by-byte walk: a frame is oversized at the first byte after its `[` that makes it longer
   * than maxFrame, even when that byte is its closing `]`.
   */
  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    const n = chunk.length;
    let i = 0;
    // index in `chunk` where the current frame's bytes begin (0 when it continues from an earlier chunk)
    let start = 0;
    // next `[` / `]` / escape at or after i; n = none in the rest of the chunk, -1 = not looked up yet
    let open = -1;
    let close = -1;
    let esc = -1;
    // where the frames found whole in this chunk are copied from (made on the first one)
    let copy: ChunkCopy | undefined;

    while (i < n) {
      if (this.depth === 0) {
        // between frames: everything up to the next `[` is garbage
        if (open < i) open = indexOrEnd(chunk, OPEN, i);
        if (open > i) events.push({ error: 'garbage', discarded: open - i });
        if (open === n) break;
        this.depth = 1;
        start = open;
        i = open + 1;
        continue;
      }
      if (open < i) open = indexOrEnd(chunk, OPEN, i);
      if (close < i) close = indexOrEnd(chunk, CLOSE, i);
      const bracket = open < close ? open : close;
      // first byte (at or after i) at which the frame would exceed maxFrame; the opening `[` is never checked
      const limit = Math.max(start + this.maxFrame - this.partLen, this.partLen === 0 ? start + 1 : 0, i);
      if (limit <= bracket && limit < n) {
        events.push({ error: 'oversized', discarded: this.partLen + (limit - start + 1) });
        this.reset();
        i = limit + 1;
        continue;
      }
      if (bracket === n) break;
      i = bracket + 1;
      if (bracket === open) {
        this.depth++;
        continue;
      }
      if (--this.depth > 0) continue;
      // the frame ends at `bracket`
      let raw: Buffer;
      if (this.parts.length === 0) {
        if (esc < start) esc = indexOrEnd(chunk, ESC, start);
        // with an escape, unescapeWatch writes a new buffer anyway
        raw = esc < i ? unescapeWatch(chunk.subarray(start, i)) : (copy ??= new ChunkCopy(chunk)).slice(start, i);
      } else {
        this.parts.push(chunk.subarray(start, i));
        raw = unescapeWatch(Buffer.concat(this.parts));
      }
      this.reset();
      events.push({ frame: raw });
    }

    if (this.depth > 0 && start < n) {
      this.parts.push(Buffer.from(chunk.subarray(start)));
      this.partLen += n - start;
    }
    return events;
  }

  private reset(): void {
    this.depth = 0;
    if (this.parts.length > 0) this.parts = [];
    this.partLen = 0;
  }
}

/**
 * Bytes copied at once by ChunkCopy, as in Node's own Buffer pool: a frame kept for long keeps at most this much
 * alive (or itself, if larger).
 */
const COPY_SPAN = 8 * 1024;

/**
 * Copies of the frames of one chunk, cut from copies of up to COPY_SPAN bytes of it at a time: one copy serves a
 * run of frames, and each frame is only a view on it. A view costs about a third of allocating and copying each
 * frame on its own (Buffer#copy costs far more than the few bytes it moves).
 */
class ChunkCopy {
  // the current copy, as its memory (reading Buffer#buffer costs a call into the runtime each time) ...
  private memory: ArrayBufferLike = new ArrayBuffer(0);
  private offset = 0;
  // ... and the part of the chunk it holds
  private from = 0;
  private to = 0;

  constructor(private readonly chunk: Buffer) {}

  /** A copy of chunk[start, end); calls come in increasing order of start, as the framer finds the frames. */
  slice(start: number, end: number): Buffer {
    if (end > this.to) {
      const to = Math.min(this.chunk.length, Math.max(end, start + COPY_SPAN));
      const copy = Buffer.allocUnsafe(to - start);
      this.chunk.copy(copy, 0, start, to);
      this.memory = copy.buffer;
      this.offset = copy.byteOffset;
      this.from = start;
      this.to = to;
    }
    return Buffer.from(this.memory, this.offset + (start - this.from), end - start);
  }
}

/** Position of byte `b` in `buf` at or after `from`, or buf.length when there is none. */
function indexOrEnd(buf: Buffer, b: number, from: number): number {
  const at = buf.indexOf(b, from);
  return at < 0 ? buf.length : at;
}
