/**
 * Text → SMS parts (sms.md A3/A4, TS 23.040 §9.2.3.24.1): UCS2 carries 70 UTF-16 units in one SMS, or 67 per part
 * behind a 6-octet concatenation UDH (`05 00 03 RR TT SS`). A surrogate pair is never cut in two.
 */
import { encodeUcs2, isHighSurrogate } from './ucs2.ts';

export const UCS2_SINGLE = 70;
export const UCS2_PER_PART = 67;
/** TT is one octet (TS 23.040 §9.2.3.24.1) */
export const MAX_PARTS = 255;

/** Splits `text` into UCS2 part texts; a single part when it fits in 70 units. */
export function splitUcs2(text: string, single = UCS2_SINGLE, perPart = UCS2_PER_PART): string[] {
  if (text.length <= single) return [text];
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(i + perPart, text.length);
    // end falls between the halves of a pair: leave the high surrogate for the next part
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    parts.push(text.slice(i, end));
    i = end;
  }
  if (parts.length > MAX_PARTS) throw new RangeError(`text needs ${parts.length} parts; at most ${MAX_PARTS}`);
  return parts;
}

/** UDH for part `seq` of `total` (both 1-based): IEI 0x00 with an 8-bit ref, or IEI 0x08 with a 16-bit ref. */
export function concatUdh(ref: number, total: number, seq: number, refBits: 8 | 16 = 8): Buffer {
  if (refBits === 8) return Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
  return Buffer.from([0x06, 0x08, 0x04, (ref >> 8) & 0xff, ref & 0xff, total, seq]);
}

export interface ConcatInfo {
  ref: number;
  total: number;
  seq: number;
}

/** Reads the concatenation IE from a UDH (UDHL included); other IEs are skipped. */
export function parseConcat(udh: Uint8Array): ConcatInfo | undefined {
  const end = 1 + (udh[0] ?? 0);
  let i = 1;
  while (i + 1 < end && i + 1 < udh.length) {
    const iei = udh[i]!;
    const len = udh[i + 1]!;
    const d = udh.subarray(i + 2, i + 2 + len);
    if (iei === 0x00 && len === 3) return { ref: d[0]!, total: d[1]!, seq: d[2]! };
    if (iei === 0x08 && len === 4) return { ref: (d[0]! << 8) | d[1]!, total: d[2]!, seq: d[3]! };
    i += 2 + len;
  }
  return undefined;
}

export interface EncodedPart {
  /** UDH (with UDHL) when the text needs several parts */
  udh?: Buffer;
  /** UTF-16BE of this part's text */
  body: Buffer;
  seq: number;
  total: number;
}

/** The whole text as UCS2 parts ready for a submit: each ≤ 140 octets with its UDH. */
export function encodeUcs2Parts(text: string, ref: number): EncodedPart[] {
  const texts = splitUcs2(text);
  const total = texts.length;
  return texts.map((t, i) => ({
    ...(total > 1 ? { udh: concatUdh(ref, total, i + 1) } : {}),
    body: encodeUcs2(t),
    seq: i + 1,
    total,
  }));
}
