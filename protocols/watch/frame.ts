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

  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    let garbage = 0;
    // index in `chunk` where the current frame's bytes begin (0 when it continues from an earlier chunk)
    let start = 0;
    const flushGarbage = (): void => {
      if (garbage > 0) events.push({ error: 'garbage', discarded: garbage });
      garbage = 0;
    };

    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.depth === 0) {
        if (b === OPEN) {
          flushGarbage();
          this.depth = 1;
          start = i;
        } else {
          garbage++;
        }
        continue;
      }
      if (b === OPEN) this.depth++;
      else if (b === CLOSE) this.depth--;

      const frameLen = this.partLen + (i - start + 1);
      if (frameLen > this.maxFrame) {
        this.reset();
        events.push({ error: 'oversized', discarded: frameLen });
      } else if (this.depth === 0) {
        const last = chunk.subarray(start, i + 1);
        const raw = this.parts.length === 0 ? Buffer.from(last) : Buffer.concat([...this.parts, last]);
        this.reset();
        events.push({ frame: unescapeWatch(raw) });
      }
    }

    flushGarbage();
    if (this.depth > 0) {
      const rest = chunk.subarray(start);
      if (rest.length > 0) {
        this.parts.push(Buffer.from(rest));
        this.partLen += rest.length;
      }
    }
    return events;
  }

  private reset(): void {
    this.depth = 0;
    this.parts = [];
    this.partLen = 0;
  }
}
