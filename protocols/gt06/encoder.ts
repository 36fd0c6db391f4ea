/**
 * Bytes the server sends a GT06 device (protocols.md §2.1, §2.2, §2.6): replies that echo the device's serial,
 * the 0x8A time reply, the LEN-0 Wi-Fi reply, and 0x80 online commands.
 */
import { crcX25 } from './crc.js';

/** `78 78 LEN PROTO CONTENT SERIAL CRC 0D 0A`, or the `79 79` form with a 2-byte LEN. */
export function writeGt06Frame(proto: number, content: Uint8Array, serial: number, long = false): Buffer {
  const hdr = long ? 4 : 3;
  const len = 1 + content.length + 2 + 2;
  const out = Buffer.allocUnsafe(hdr + len + 2);
  out[0] = out[1] = long ? 0x79 : 0x78;
  if (long) out.writeUInt16BE(len, 2);
  else out[2] = len;
  out[hdr] = proto;
  out.set(content, hdr + 1);
  out.writeUInt16BE(serial & 0xffff, hdr + 1 + content.length);
  out.writeUInt16BE(crcX25(out, 2, out.length - 4), out.length - 4);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

const EMPTY = new Uint8Array(0);

/** `05 PROTO SERIAL`: the acknowledgement of login, heartbeat, position and alarm packets (§2.2, §6.2). */
export const gt06Ack = (proto: number, serial: number, long = false): Buffer => writeGt06Frame(proto, EMPTY, serial, long);

/** 0x8A reply: `YY MM DD hh mm ss` in UTC; the serial field is 0000, as in §2.2's verified example. */
export function gt06TimeReply(now: Date): Buffer {
  const t = [now.getUTCFullYear() % 100, now.getUTCMonth() + 1, now.getUTCDate(), now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds()];
  return writeGt06Frame(0x8a, Uint8Array.from(t), 0);
}

/** LEN-0 Wi-Fi reply (§2.2): `78 78 00 PROTO <the packet's 6-byte BCD time> 0D 0A`, no serial, no CRC. */
export function gt06WifiReply(proto: number, bcdTime: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x78, 0x78, 0x00, proto]), bcdTime, Buffer.from([0x0d, 0x0a])]);
}

/**
 * 0x80 online command (§2.6): CMDLEN (4 + text) | SERVER FLAG 4 | ASCII text | SERIAL. The device answers with
 * 0x15 (0x21 in the 7979 form) carrying the same server flag. No language bytes (optional; Traccar's test has none).
 */
export function gt06Command(text: string, serverFlag: number, serial: number): Buffer {
  const ascii = Buffer.from(text, 'latin1');
  const content = Buffer.allocUnsafe(5 + ascii.length);
  content[0] = 4 + ascii.length;
  content.writeUInt32BE(serverFlag >>> 0, 1);
  ascii.copy(content, 5);
  return writeGt06Frame(0x80, content, serial);
}
