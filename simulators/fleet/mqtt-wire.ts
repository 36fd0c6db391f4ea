/**
 * The few MQTT 3.1.1 packets a fleet device needs, written from the specification (OASIS MQTT 3.1.1 §2-3),
 * not from the broker's code: CONNECT, SUBSCRIBE, PUBLISH (QoS 0/1), PUBACK, PINGREQ, DISCONNECT out;
 * CONNACK, SUBACK, PUBLISH, PUBACK, PINGRESP in. Small and allocation-light, so one process can drive
 * thousands of devices (mqtt.js keeps far more state per client).
 */

export const PACKET = { CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, SUBSCRIBE: 8, SUBACK: 9, PINGREQ: 12, PINGRESP: 13, DISCONNECT: 14 } as const;

/** Remaining Length: 7 bits per byte, high bit = more bytes follow (§2.2.3). The bench's fuzzer uses it too. */
export function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function packet(first: number, body: Buffer): Buffer {
  const rl = remainingLength(body.length);
  const out = Buffer.allocUnsafe(1 + rl.length + body.length);
  out[0] = first;
  for (let i = 0; i < rl.length; i++) out[1 + i] = rl[i]!;
  body.copy(out, 1 + rl.length);
  return out;
}

/** A UTF-8 string with its 2-byte length prefix (§1.5.3). */
function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

export interface ConnectOptions {
  clientId: string;
  username?: string;
  password?: string;
  keepaliveS: number;
  /** default true */
  clean?: boolean;
}

export function connectPacket(o: ConnectOptions): Buffer {
  let flags = o.clean === false ? 0 : 0x02;
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const head = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, flags, (o.keepaliveS >> 8) & 0xff, o.keepaliveS & 0xff]);
  const parts = [head, str(o.clientId)];
  if (o.username !== undefined) parts.push(str(o.username));
  if (o.password !== undefined) parts.push(str(o.password));
  return packet(0x10, Buffer.concat(parts));
}

export function subscribePacket(packetId: number, filter: string, qos: 0 | 1): Buffer {
  const id = Buffer.from([(packetId >> 8) & 0xff, packetId & 0xff]);
  return packet(0x82, Buffer.concat([id, str(filter), Buffer.from([qos])]));
}

/** PUBLISH; packetId is required for QoS 1. */
export function publishPacket(topic: string, payload: string | Buffer, qos: 0 | 1, packetId = 0): Buffer {
  const t = str(topic);
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const id = qos > 0 ? Buffer.from([(packetId >> 8) & 0xff, packetId & 0xff]) : Buffer.alloc(0);
  return packet(0x30 | (qos << 1), Buffer.concat([t, id, p]));
}

export function pubackPacket(packetId: number): Buffer {
  return Buffer.from([0x40, 0x02, (packetId >> 8) & 0xff, packetId & 0xff]);
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

export interface Incoming {
  type: number;
  flags: number;
  body: Buffer;
}

/** A PUBLISH's parts (§3.3): topic, packet id (QoS > 0) and payload. */
export function parsePublish(p: Incoming): { topic: string; qos: number; packetId: number; payload: Buffer } {
  const qos = (p.flags >> 1) & 0x03;
  const tlen = p.body.readUInt16BE(0);
  const topic = p.body.toString('utf8', 2, 2 + tlen);
  let off = 2 + tlen;
  let packetId = 0;
  if (qos > 0) {
    packetId = p.body.readUInt16BE(off);
    off += 2;
  }
  return { topic, qos, packetId, payload: p.body.subarray(off) };
}

/**
 * Splits a byte stream into packets. Keeps a partial packet between reads, and nothing otherwise, so an
 * idle connection costs no buffer. Returns an error string for a malformed length.
 */
export class PacketReader {
  private rest: Buffer | null = null;

  push(chunk: Buffer, onPacket: (p: Incoming) => void): string | undefined {
    let buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let i = 0;
    while (i < buf.length) {
      if (buf.length - i < 2) break;
      let len = 0;
      let mul = 1;
      let k = i + 1;
      let complete = false;
      for (; k < buf.length && k < i + 5; k++) {
        const b = buf[k]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (k >= i + 5) return 'malformed remaining length';
        break;
      }
      const start = k + 1;
      if (buf.length < start + len) break;
      const first = buf[i]!;
      onPacket({ type: first >> 4, flags: first & 0x0f, body: buf.subarray(start, start + len) });
      i = start + len;
    }
    if (i < buf.length) {
      buf = buf.subarray(i);
      this.rest = Buffer.from(buf);
    }
    return undefined;
  }
}
