import { describe, expect, it } from 'vitest';
import { PACKET, PacketReader, connectPacket, parsePublish, publishPacket, pubackPacket, subscribePacket, type Incoming } from '../../../simulators/fleet/mqtt-wire.js';

function readAll(bytes: Buffer, split: number[]): Incoming[] {
  const r = new PacketReader();
  const out: Incoming[] = [];
  let from = 0;
  for (const at of [...split, bytes.length]) {
    expect(r.push(bytes.subarray(from, at), (p) => out.push({ ...p, body: Buffer.from(p.body) }))).toBeUndefined();
    from = at;
  }
  return out;
}

describe('fleet MQTT wire (MQTT 3.1.1 §2-3)', () => {
  it('writes CONNECT with the protocol name, level 4, flags and keep-alive', () => {
    const p = connectPacket({ clientId: 'fl-1', username: 'fl-1', password: 'pw', keepaliveS: 600 });
    expect(p[0]).toBe(0x10);
    expect(p.subarray(2, 12)).toEqual(Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0x02, 0x58]));
    expect(p[1]).toBe(p.length - 2);
  });

  it('reads packets split anywhere, several per chunk, and long remaining lengths', () => {
    const big = 'x'.repeat(300); // remaining length needs two bytes
    const stream = Buffer.concat([publishPacket('anxin/down/fl-1/ack', '{"msgId":"a1","ok":true}', 1, 7), pubackPacket(9), publishPacket('t', big, 0), Buffer.from([0xd0, 0x00])]);
    for (const split of [[], [1], [2, 3], [...Array(stream.length - 1).keys()].map((k) => k + 1)]) {
      const got = readAll(stream, split);
      expect(got.map((p) => p.type)).toEqual([PACKET.PUBLISH, PACKET.PUBACK, PACKET.PUBLISH, PACKET.PINGRESP]);
      const first = parsePublish(got[0]!);
      expect(first).toMatchObject({ topic: 'anxin/down/fl-1/ack', qos: 1, packetId: 7 });
      expect(first.payload.toString()).toBe('{"msgId":"a1","ok":true}');
      expect(got[1]!.body.readUInt16BE(0)).toBe(9);
      expect(parsePublish(got[2]!).payload.toString()).toBe(big);
    }
  });

  it('writes SUBSCRIBE with its fixed flags and the requested QoS', () => {
    const p = subscribePacket(1, 'anxin/down/fl-1/#', 1);
    expect(p[0]).toBe(0x82);
    expect(p[p.length - 1]).toBe(1);
  });

  it('refuses a remaining length longer than four bytes', () => {
    expect(new PacketReader().push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => undefined)).toBe('malformed remaining length');
  });
});
