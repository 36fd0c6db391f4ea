/**
 * Stream framer for an alarm receiver's serial output (protocols.md §3.4).
 *
 * - A line ends at DC4 (0x14). The emitted frame is the line without its DC4.
 * - CR, LF and NUL between lines (before a line's first byte) are skipped silently: some receivers and
 *   serial-to-TCP adapters add them.
 * - A lone DC4 (empty line) emits nothing.
 * - A line longer than `maxLine` bytes (default 256) is dropped and reported as `oversized`; the framer then
 *   discards until the next DC4 and starts afresh. Discarded bytes are reported as `oversized` at the latest
 *   every `maxLine` bytes and at the resynchronising DC4, so no byte vanishes uncounted for long.
 * - Bytes are handled one at a time, so the events do not depend on how the stream was chunked.
 */
import type { FrameEvent, Framer } from '../message.ts';

export const RECEIVER_MAX_LINE = 256;

const DC4 = 0x14;
const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

export interface ReceiverFramerOptions {
  /** largest line accepted, DC4 not counted */
  maxLine?: number;
}

export class ReceiverFramer implements Framer {
  readonly maxLine: number;
  private buf: Buffer;
  private len = 0;
  /** discarding an oversized line until the next DC4 */
  private skipping = false;
  private skipped = 0;

  constructor(opts: ReceiverFramerOptions = {}) {
    this.maxLine = Math.max(1, Math.floor(opts.maxLine ?? RECEIVER_MAX_LINE));
    this.buf = Buffer.alloc(this.maxLine);
  }

  get buffered(): number {
    return this.len;
  }

  push(chunk: Buffer): FrameEvent[] {
    const out: FrameEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.skipping) {
        this.skipped++;
        if (b === DC4) {
          out.push({ error: 'oversized', discarded: this.skipped });
          this.skipping = false;
          this.skipped = 0;
        } else if (this.skipped >= this.maxLine) {
          out.push({ error: 'oversized', discarded: this.skipped });
          this.skipped = 0;
        }
        continue;
      }
      if (b === DC4) {
        if (this.len > 0) {
          out.push({ frame: Buffer.from(this.buf.subarray(0, this.len)) });
          this.len = 0;
        }
        continue;
      }
      if (this.len === 0 && (b === CR || b === LF || b === NUL)) continue;
      if (this.len >= this.maxLine) {
        // this byte would make the line too long: drop what we hold plus this byte, then resync at DC4
        out.push({ error: 'oversized', discarded: this.len + 1 });
        this.len = 0;
        this.skipping = true;
        this.skipped = 0;
        continue;
      }
      this.buf[this.len++] = b;
    }
    return out;
  }
}
