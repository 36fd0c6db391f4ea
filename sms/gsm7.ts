/**
 * GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and its extension table (§6.2.1.1, via ESC 0x1B), with the
 * septet packing of TS 23.038 §6.1.2.1.1 (LSB first). Used to read inbound modem SMS with DCS 0x00.
 */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXT: Record<number, string> = { 0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€' };

/** Unpacks `count` septets from `buf`, skipping `fillBits` first (the padding after a UDH, TS 23.040 §9.2.3.24). */
export function unpackSeptets(buf: Uint8Array, count: number, fillBits = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const bit = fillBits + i * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    const lo = buf[byte] ?? 0;
    const hi = buf[byte + 1] ?? 0;
    out.push((((hi << 8) | lo) >> shift) & 0x7f);
  }
  return out;
}

export function septetsToText(septets: number[]): string {
  let s = '';
  for (let i = 0; i < septets.length; i++) {
    const c = septets[i]!;
    if (c === 0x1b && i + 1 < septets.length) {
      const e = septets[++i]!;
      s += EXT[e] ?? BASIC[e] ?? '';
    } else s += BASIC[c] ?? '';
  }
  return s;
}
