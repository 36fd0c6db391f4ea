/**
 * Reads the comma-separated CONTENT of a watch frame (protocols.md §1.1: `TYPE` or `TYPE,field,field,...`)
 * front to back, one field per call, straight from the character codes: no `split`, no regexes, and strings
 * only for the fields kept as text. Each reader has a fast path for the form devices send (`80`, `-33.480366`,
 * `00000008`, `N`, `220414,134652`) that parses while it looks for the field's end, and hands anything else
 * (spaces, a lone sign, garbage, more digits than a double holds exactly) to the original string rules in
 * rules.ts, so both always agree.
 *
 * Like the old `values[j]`, a field past the last comma is absent: the number readers return undefined.
 *
 * Codes are read from `units`, where units[i] === text.charCodeAt(i): the frame's own bytes (`text` is then the
 * frame as latin1), or the UTF-16 code units of the content decoded as UTF-8. Indexing a Buffer is several
 * times faster than String#charCodeAt on a fresh string. The fast paths only accept printable ASCII, and any
 * other character read is noticed, so `isClean` can tell at the end whether reading the bytes as latin1 was
 * right (see decoder.ts).
 *
 * One instance is reused for every frame (see `fields` below); decoding is synchronous, so no frame can see
 * another's state.
 */
import { endianness } from 'node:os';
import { ASCII_UPPER, hexValue, isTrimmed, POW10, twoDigits, utcDate } from './chars.js';
import * as rules from './rules.js';

const COMMA = 0x2c;
const CLOSE = 0x5d; // ']'
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const EMPTY = new Uint8Array([CLOSE]);

/** Character codes: the frame's bytes, or the UTF-16 code units of decoded text. */
export type Units = Uint8Array | Uint16Array;

const LITTLE_ENDIAN = endianness() === 'LE';

/** The UTF-16 code units of a string, for reading decoded (non-ASCII) content; ends with the `]` sentinel. */
export function codeUnits(text: string): Uint16Array {
  if (LITTLE_ENDIAN) {
    // natively: UTF-16LE bytes are the code units in this machine's order (the pool keeps offsets 8-aligned)
    const bytes = Buffer.from(`${text}]`, 'utf16le');
    if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, text.length + 1);
  }
  const out = new Uint16Array(text.length + 1);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  out[text.length] = CLOSE;
  return out;
}

export class FieldReader {
  /** the string fields are cut from (the whole frame as latin1, or the decoded content) */
  text = '';
  /** the character codes of `text` */
  units: Units = EMPTY;
  private end = 0;
  /** start of the next field; end + 1 once the last field has been read */
  private at = 0;
  /** start of the first value (the field after the TYPE) */
  private valuesAt = 0;
  /** only printable ASCII (0x20-0x7E) among the characters read so far */
  private clean = true;
  // the last field consumed by `field`
  private fieldStart = 0;
  private fieldEnd = 0;
  // the TYPE, trimmed
  private typeStart = 0;
  private typeEnd = 0;

  /**
   * Start reading text[start, end): the TYPE is read at once. units[end] must be `]` (the frame's closing
   * bracket, or the sentinel codeUnits adds): the number loops stop on it without checking `end`.
   */
  load(units: Units, text: string, start: number, end: number): void {
    this.units = units;
    this.text = text;
    this.end = end;
    this.at = start;
    this.clean = true;
    this.field();
    let s = this.fieldStart;
    let e = this.fieldEnd;
    while (s < e && isTrimmed(units[s]!)) s++;
    while (e > s && isTrimmed(units[e - 1]!)) e--;
    this.typeStart = s;
    this.typeEnd = e;
    this.valuesAt = this.at;
  }

  /** The TYPE, trimmed ('' when blank). */
  type(): string {
    return this.text.slice(this.typeStart, this.typeEnd);
  }

  /** Whether the trimmed TYPE is ASCII and equals `upper` ignoring ASCII case (so `toUpperCase` would give `upper`). */
  typeIs(upper: string): boolean {
    if (this.typeEnd - this.typeStart !== upper.length) return false;
    for (let i = 0; i < upper.length; i++) {
      const c = this.units[this.typeStart + i]!;
      const u = upper.charCodeAt(i);
      if (c !== u && !(u >= 0x41 && u <= 0x5a && c === (u | 0x20))) return false;
    }
    return true;
  }

  /** Whether another field follows (the old `j < values.length`). */
  has(): boolean {
    return this.at <= this.end;
  }

  /** Back to the first value. */
  rewind(): void {
    this.at = this.valuesAt;
  }

  /** Whether every character of the content is printable ASCII (0x20-0x7E). Looks at the fields left. */
  isClean(): boolean {
    const u = this.units;
    for (let i = this.at; i < this.end; i++) {
      const c = u[i]!;
      if (c < 0x20 || c > 0x7e) return false;
    }
    return this.clean;
  }

  // ---- fields kept as text ----

  /** The next field as sent (untrimmed), undefined when absent. */
  str(): string | undefined {
    return this.field() ? this.text.slice(this.fieldStart, this.fieldEnd) : undefined;
  }

  /** Skips the next field. */
  skip(): void {
    this.field();
  }

  /** All fields left, as sent (the old `values` array for command echoes). */
  rest(): string[] {
    const out: string[] = [];
    while (this.field()) out.push(this.text.slice(this.fieldStart, this.fieldEnd));
    return out;
  }

  // ---- numbers and flags: fast path, else rules.ts on the field's text ----

  /** `[+-]?[0-9]{1,15}` (rules.int). */
  int(): number | undefined | null {
    const u = this.units;
    const end = this.end;
    const at = this.at;
    if (at > end) return undefined;
    let i = at;
    let c = u[i]!;
    const negative = c === MINUS;
    if (negative || c === PLUS) c = u[++i]!;
    const first = i;
    let v = 0;
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      v = v * 10 + (c - DIGIT_0);
      c = u[++i]!;
    }
    if (c === COMMA || i === end) {
      if (i === at) return this.empty(i);
      if (i > first && i - first <= 15) {
        this.at = i + 1;
        return negative ? -v : v;
      }
    }
    return rules.int(this.str());
  }

  /** `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)` (rules.num). */
  num(): number | undefined | null {
    const u = this.units;
    const end = this.end;
    const at = this.at;
    if (at > end) return undefined;
    let i = at;
    let c = u[i]!;
    const negative = c === MINUS;
    if (negative || c === PLUS) c = u[++i]!;
    const first = i;
    let mantissa = 0;
    let dot = -1;
    for (;;) {
      if (c >= DIGIT_0 && c <= DIGIT_9) mantissa = mantissa * 10 + (c - DIGIT_0);
      else if (c === DOT && dot < 0) dot = i;
      else break;
      c = u[++i]!;
    }
    if (c === COMMA || i === end) {
      if (i === at) return this.empty(i);
      const digits = dot < 0 ? i - first : i - first - 1;
      // up to 15 digits the mantissa is exact and one division rounds correctly
      if (digits > 0 && digits <= 15) {
        this.at = i + 1;
        const v = dot < 0 || dot === i - 1 ? mantissa : mantissa / POW10[i - dot - 1]!;
        return negative ? -v : v;
      }
    }
    return rules.num(this.str());
  }

  /** LAC/CID: decimal `[0-9]{1,15}`, else hex `[0-9A-Fa-f]{1,12}` (rules.decOrHex). */
  decOrHex(): number | null {
    const u = this.units;
    const end = this.end;
    const at = this.at;
    if (at > end) return null;
    let i = at;
    let dec = 0;
    let hex = 0;
    let decimal = true;
    for (; ; i++) {
      const h = hexValue(u[i]!); // stops at the `]` sentinel at the latest
      if (h < 0) break;
      if (h > 9) decimal = false;
      dec = dec * 10 + h;
      hex = hex * 16 + h;
    }
    const n = i - at;
    if (n > 0 && (i === end || u[i] === COMMA)) {
      this.at = i + 1;
      if (decimal && n <= 15) return dec;
      return n <= 12 ? hex : null;
    }
    return rules.decOrHex(this.str());
  }

  /** The status word (§1.4): `[0-9A-Fa-f]{1,8}` (rules.statusWord). */
  statusWord(): number | null {
    const u = this.units;
    const end = this.end;
    const at = this.at;
    if (at > end) return null;
    let i = at;
    let v = 0;
    for (; ; i++) {
      const h = hexValue(u[i]!);
      if (h < 0) break;
      v = v * 16 + h;
    }
    const n = i - at;
    if (n > 0 && n <= 8 && (i === end || u[i] === COMMA)) {
      this.at = i + 1;
      return v;
    }
    return rules.statusWord(this.str());
  }

  /** A one-letter flag (N/S, E/W, A/V) upper-cased, '' when absent or empty (rules.flag). */
  flag(): string {
    const u = this.units;
    const end = this.end;
    const at = this.at;
    if (at > end) return '';
    const c = at < end ? u[at]! : COMMA;
    if (c === COMMA) {
      this.at = at + 1;
      return '';
    }
    if (c > 0x20 && c <= 0x7e && (at + 1 === end || u[at + 1] === COMMA)) {
      this.at = at + 2;
      return ASCII_UPPER[c]!;
    }
    return rules.flag(this.str());
  }

  /** DDMMYY + HHMMSS (two fields), UTC (rules.time). */
  time(): Date | undefined {
    const u = this.units;
    const d = this.at;
    const t = d + 7;
    if (t + 6 <= this.end && u[d + 6] === COMMA && (t + 6 === this.end || u[t + 6] === COMMA)) {
      const day = twoDigits(u, d);
      const month = twoDigits(u, d + 2);
      const yy = twoDigits(u, d + 4);
      const h = twoDigits(u, t);
      const mi = twoDigits(u, t + 2);
      const s = twoDigits(u, t + 4);
      if ((day | month | yy | h | mi | s) >= 0) {
        // twelve digits (twoDigits gives -1 otherwise)
        this.at = t + 7;
        return utcDate(day, month, yy, h, mi, s);
      }
    }
    const date = this.str();
    return rules.time(date, this.str());
  }

  /** The last field as a number (protocols.md §1.3: the accuracy closes the tail); skips the fields before it. */
  lastNum(): number | undefined | null {
    for (;;) {
      const at = this.at;
      this.field();
      if (!this.has()) {
        this.at = at;
        return this.num();
      }
    }
  }

  /** An empty field ends at i. */
  private empty(i: number): undefined {
    this.at = i + 1;
    return undefined;
  }

  /** Consumes the next field: bounds into fieldStart/fieldEnd; false when there is none. */
  private field(): boolean {
    const at = this.at;
    const end = this.end;
    if (at > end) return false;
    const u = this.units;
    let i = at;
    for (; i < end; i++) {
      const c = u[i]!;
      if (c === COMMA) break;
      if (c < 0x20 || c > 0x7e) this.clean = false;
    }
    this.fieldStart = at;
    this.fieldEnd = i;
    this.at = i + 1;
    return true;
  }
}

/** The one reader, reused frame after frame. */
export const fields = new FieldReader();
