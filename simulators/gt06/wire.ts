/**
 * A tiny, independent writer and reader of GT06 frames (protocols.md §2.1-2.3, §2.6), so the simulator never
 * shares code with protocols/gt06/ and one bug cannot hide in both: its own CRC (bit by bit, not a table) and
 * its own byte layouts.
 */

/** CRC-16/X-25 (§2.1): reflected 0x1021, init 0xFFFF, final XOR 0xFFFF. */
export function crc16x25(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return ~crc & 0xffff;
}

/** `78 78 | LEN | PROTO | CONTENT | SERIAL | CRC | 0D 0A` (LEN = proto + content + serial + crc). */
export function packet(proto: number, content: number[] | Uint8Array, serial: number): Buffer {
  const len = 1 + content.length + 4;
  const core = Buffer.from([len, proto, ...content, (serial >> 8) & 0xff, serial & 0xff]);
  const crc = crc16x25(core);
  return Buffer.concat([Buffer.from([0x78, 0x78]), core, Buffer.from([crc >> 8, crc & 0xff, 0x0d, 0x0a])]);
}

/** IMEI → 8 bytes BCD with a leading 0 (§2.3). */
export function imeiBcd(imei: string): number[] {
  const digits = imei.padStart(16, '0');
  const out: number[] = [];
  for (let i = 0; i < 16; i += 2) out.push((Number(digits[i]) << 4) | Number(digits[i + 1]));
  return out;
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

/** Date-time | GPS info | lat | lon | speed | course/status (§2.3): 18 bytes. */
export function gpsBlock(t: Date, lat: number, lon: number, o: { speed?: number; course?: number; satellites?: number; fixed?: boolean } = {}): number[] {
  let word = (o.course ?? 0) & 0x3ff;
  if (lat >= 0) word |= 1 << 10; // north
  if (lon < 0) word |= 1 << 11; // west
  if (o.fixed ?? true) word |= 1 << 12;
  return [
    t.getUTCFullYear() % 100, t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(),
    0xc0 | ((o.satellites ?? 9) & 0x0f),
    ...u32(Math.round(Math.abs(lat) * 1_800_000)),
    ...u32(Math.round(Math.abs(lon) * 1_800_000)),
    o.speed ?? 0,
    ...u16(word),
  ];
}

/** MCC 2 | MNC 1 | LAC 2 | Cell ID 3 (§2.3). */
export const lbsBlock = (mcc: number, mnc: number, lac: number, cid: number): number[] => [...u16(mcc), mnc, ...u16(lac), (cid >> 16) & 0xff, ...u16(cid & 0xffff)];

/** A frame from the server: its protocol number, content and serial; `crcOk` false if the CRC is wrong. */
export interface ServerFrame {
  hex: string;
  proto: number;
  content: Buffer;
  serial: number;
  crcOk: boolean;
}

/** Splits the server's byte stream on LEN (replies and 0x80 commands always carry a true LEN). */
export class ServerFrames {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): { frames: ServerFrame[]; junk: number } {
    this.buf = Buffer.concat([this.buf, chunk]);
    const frames: ServerFrame[] = [];
    let junk = 0;
    for (;;) {
      let s = 0;
      while (s + 1 < this.buf.length && !((this.buf[s] === 0x78 || this.buf[s] === 0x79) && this.buf[s + 1] === this.buf[s])) s++;
      junk += s;
      this.buf = this.buf.subarray(s);
      if (this.buf.length < 4) break;
      const long = this.buf[0] === 0x79;
      const hdr = long ? 4 : 3;
      const len = long ? this.buf.readUInt16BE(2) : this.buf[2]!;
      const total = hdr + len + 2;
      if (this.buf.length < total) break;
      const f = this.buf.subarray(0, total);
      this.buf = this.buf.subarray(total);
      if (len < 5) {
        frames.push({ hex: f.toString('hex'), proto: f[hdr]!, content: f.subarray(hdr + 1, total - 2), serial: -1, crcOk: false });
        continue;
      }
      const crcOk = crc16x25(f.subarray(2, total - 4)) === f.readUInt16BE(total - 4);
      frames.push({ hex: f.toString('hex'), proto: f[hdr]!, content: Buffer.from(f.subarray(hdr + 1, total - 6)), serial: f.readUInt16BE(total - 6), crcOk });
    }
    return { frames, junk };
  }
}
