/**
 * CRC-16/ARC (dc09.md §1): poly 0x8005 reflected (shift right, XOR 0xA001), init 0x0000, no final XOR;
 * check("123456789") = 0xBB3D. Not CRC-CCITT 0x1021 (one Node-RED plugin uses that, wrongly). Taken over the raw
 * bytes of region R, never over a re-encoded string (§3.4: text fields may be Windows-1252).
 */
const TABLE = new Uint16Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  TABLE[n] = c;
}

/** CRC-16/ARC of buf[from, to). */
export function crc16Arc(buf: Uint8Array, from = 0, to = buf.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc & 0xffff;
}
