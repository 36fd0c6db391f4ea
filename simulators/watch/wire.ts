/**
 * A tiny, independent writer and reader for the watch wire format (protocols.md §1.1), so the simulator
 * never shares code with protocols/watch/ and one bug cannot hide in both.
 */

/** `[MF*ID*(INDEX*)LEN*CONTENT]`, LEN = content bytes as 4 upper-case hex digits. */
export function writeFrame(manufacturer: string, deviceId: string, content: string, index?: string): Buffer {
  const body = Buffer.from(content, 'utf8');
  const len = body.length.toString(16).toUpperCase().padStart(4, '0');
  return Buffer.concat([Buffer.from(`[${manufacturer}*${deviceId}*${index ? `${index}*` : ''}${len}*`), body, Buffer.from(']')]);
}

export interface ParsedFrame {
  frame: string;
  manufacturer: string;
  deviceId: string;
  index?: string;
  lenField: string;
  content: string;
  keyword: string;
  args: string[];
}

/**
 * Parse one server frame. `withIndex` says whether this watch speaks the ZJ dialect (then every frame
 * carries a 4-hex index before LEN). Returns a reason string when the frame is malformed.
 */
export function parseFrame(frame: string, withIndex: boolean): ParsedFrame | string {
  const re = withIndex
    ? /^\[([^*[\]]{2})\*([^*[\]]+)\*([0-9A-Fa-f]{4})\*([0-9A-Fa-f]{4})\*([\s\S]*)\]$/
    : /^\[([^*[\]]{2})\*([^*[\]]+)\*([0-9A-Fa-f]{4})\*([\s\S]*)\]$/;
  const m = re.exec(frame);
  if (!m) return 'malformed frame';
  const [manufacturer, deviceId] = [m[1]!, m[2]!];
  const index = withIndex ? m[3] : undefined;
  const lenField = withIndex ? m[4]! : m[3]!;
  const content = withIndex ? m[5]! : m[4]!;
  const [keyword = '', ...args] = content.split(',');
  const parsed: ParsedFrame = { frame, manufacturer, deviceId, lenField, content, keyword, args };
  if (index !== undefined) parsed.index = index;
  return parsed;
}

/** Splits a byte stream into bracketed frames; keeps partial frames across reads. */
export class FrameSplitter {
  private buf = '';

  /** Returns complete frames; bytes outside brackets are returned in `junk` so they can be reported. */
  push(chunk: Buffer): { frames: string[]; junk: string } {
    this.buf += chunk.toString('latin1');
    const frames: string[] = [];
    let junk = '';
    for (;;) {
      const start = this.buf.indexOf('[');
      if (start < 0) {
        junk += this.buf;
        this.buf = '';
        break;
      }
      junk += this.buf.slice(0, start);
      this.buf = this.buf.slice(start);
      let depth = 0;
      let end = -1;
      for (let i = 0; i < this.buf.length; i++) {
        const c = this.buf[i];
        if (c === '[') depth++;
        else if (c === ']' && --depth === 0) {
          end = i;
          break;
        }
      }
      if (end < 0) break;
      // frames are ASCII except UTF-8 text in a few fields; decode the bytes back as UTF-8
      frames.push(Buffer.from(this.buf.slice(0, end + 1), 'latin1').toString('utf8'));
      this.buf = this.buf.slice(end + 1);
    }
    return { frames, junk };
  }
}
