/**
 * CRC-ITU = CRC-16/X-25 (protocols.md §2.1): poly 0x1021 reflected (0x8408), init 0xFFFF, reflected in and out,
 * final XOR 0xFFFF; check("123456789") = 0x906E. Computed over LEN through SERIAL, sent big-endian.
 */
const TABLE = new Uint16Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
  TABLE[n] = c;
}

/** CRC-16/X-25 of buf[from, to). */
export function crcX25(buf: Uint8Array, from = 0, to = buf.length): number {
  let crc = 0xffff;
  for (let i = from; i < to; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]!) & 0xff]!;
  return (crc ^ 0xffff) & 0xffff;
}
