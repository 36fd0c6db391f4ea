/**
 * UCS2 as SMS uses it: UTF-16BE code units (3GPP TS 23.038 §5; SMPP data_coding 0x08). Characters outside the BMP
 * (rare CJK, emoji) take two units, a surrogate pair, which must stay in one part (sms.md A3).
 */

export function encodeUcs2(text: string): Buffer {
  const b = Buffer.from(text, 'utf16le');
  return b.swap16();
}

/** Decodes UTF-16BE; an odd trailing octet is dropped (a broken part, not worth an exception). */
export function decodeUcs2(buf: Uint8Array): string {
  const even = Buffer.from(buf.subarray(0, buf.length - (buf.length % 2)));
  return even.swap16().toString('utf16le');
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
