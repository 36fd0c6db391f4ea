/**
 * protocols/gt06 (protocols.md §2): every GT06 frame of the shared vectors (fields, messages, reply bytes), the
 * framer split at every byte, several frames per chunk, garbage, LEN that lies, the CRC check, vendor tables,
 * commands, and fast-check: the decoder never throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeContext, FrameEvent } from '../../../protocols/message.js';
import {
  GT06_ALARM_TABLES,
  GT06_MAX_FRAME,
  Gt06Framer,
  commandOfFlag,
  crcX25,
  decodeGt06,
  gt06CommandCodec,
  gt06Protocol,
  parseGt06,
  writeGt06Frame,
} from '../../../protocols/gt06/index.js';
import { isTcpProtocol, protocolModule } from '../../../protocols/index.js';
import { CommandError } from '../../../protocols/message.js';
import { loadVectors } from '../../helpers/vectors.js';

const vectors = loadVectors();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const GT06: any[] = vectors?.gt06 ?? [];
const IMEI = '864717003664467';
const at = new Date('2024-05-01T12:34:56Z');
const ctx = (meta: Record<string, unknown> = {}): DecodeContext => ({ receivedAt: at, device: { identifier: IMEI, meta } });
const hex = (s: string) => Buffer.from(s, 'hex');
/** an independent CRC-16/X-25 (bitwise, not the table of crc.ts) */
function x25(b: Buffer): number {
  let c = 0xffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
  }
  return c ^ 0xffff;
}
const crcOk = (f: Buffer) => x25(f.subarray(2, f.length - 4)) === f.readUInt16BE(f.length - 4);
/** the frame with its CRC recomputed */
const recrc = (f: Buffer) => {
  const g = Buffer.from(f);
  g.writeUInt16BE(x25(g.subarray(2, g.length - 4)), g.length - 4);
  return g;
};
const frames = (evs: FrameEvent[]) => evs.flatMap((e) => ('frame' in e ? [e.frame.toString('hex')] : []));
const device = GT06.filter((v) => !v.hex.toLowerCase().startsWith('78781280'));

describe.skipIf(!vectors)('gt06: shared vectors (device-frames.json "gt06")', () => {
  it('has the GT06 frames', () => expect(device.length).toBeGreaterThanOrEqual(14));

  it('CRC-16/X-25 check value (§2.1)', () => expect(crcX25(Buffer.from('123456789'))).toBe(0x906e));

  for (const v of device) {
    const f = hex(v.hex);
    const d = v.decoded ?? {};
    it(`${v.hex.slice(0, 14)}… ${v.note.slice(0, 60)}`, () => {
      if (!crcOk(f)) {
        // §2.1: a mismatch is rejected with no reply. The fields are still checked on the frame with a good CRC.
        expect(decodeGt06(f, ctx())).toEqual({ ok: false, reason: 'bad_crc' });
      }
      const good = crcOk(f) ? f : recrc(f);
      const p = parseGt06(good);
      expect(p.ok).toBe(true);
      if (!p.ok) return;
      const pk = p.packet;
      if (d.type) expect(pk.proto).toBe(Number(d.type));
      if (d.serial !== undefined) expect(pk.serial).toBe(d.serial);
      if (d.len !== undefined) expect(pk.len).toBe(d.len);
      if (d.imei) expect(pk.imei).toBe(d.imei);
      if (d.typeId) expect(pk.typeId).toBe(parseInt(d.typeId, 16));
      if (d.tzlang) expect(pk.tzLang).toBe(parseInt(d.tzlang, 16));
      if (d.termInfo) expect(pk.status?.info).toBe(parseInt(d.termInfo, 2));
      if (d.voltageLevel !== undefined) expect(pk.status?.voltage).toBe(d.voltageLevel);
      if (d.gsm !== undefined) expect(pk.status?.gsm).toBe(d.gsm);
      if (d.alarm) expect(pk.status?.alarm).toBe(Number(d.alarm));
      if (d.lang) expect(pk.status?.language).toBe(Number(d.lang));
      if (d.mcc !== undefined) expect(pk.cell).toEqual({ mcc: d.mcc, mnc: d.mnc, lac: d.lac, cid: d.cid });
      if (d.uploadMode !== undefined) expect(pk.uploadMode).toBe(d.uploadMode);
      if (d.reupload !== undefined) expect(pk.reupload).toBe(d.reupload === 1);
      if (d.cs) expect(pk.gps?.word).toBe(Number(d.cs));

      const out = decodeGt06(good, ctx());
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      expect(out.messages).toHaveLength(1);
      const m = out.messages[0]!;
      expect(m).toMatchObject({ protocol: 'gt06', deviceId: d.imei ?? IMEI, receivedAt: at, raw: good.toString('hex') });
      const e = { ...d, ...(v.expected ?? {}) };
      if (e.time) expect(m.deviceTime?.toISOString()).toBe(e.time.replace('Z', '.000Z'));
      if (e.lat !== undefined) {
        expect(m.position).toMatchObject({ lat: e.lat, lon: e.lon, valid: e.valid, source: 'gps' });
        if (e.sats !== undefined) expect(m.position?.satellites).toBe(e.sats);
        if (e.speed_kmh !== undefined) expect(m.position?.speed).toBe(e.speed_kmh);
        if (e.course !== undefined) expect(m.position?.course).toBe(e.course);
      }
      if (e.batteryPct !== undefined) expect(m.battery).toBe(e.batteryPct);
      if (e.charging !== undefined) expect(m.states).toMatchObject({ charging: e.charging, gpsTracking: e.gpsTracking, oilCut: e.oilCut, armed: e.defense });
      if (e.alarm === 'sos' || e.alarm === '0x1') expect(m.alarms).toContain('sos');
      if (e.alarm === '0x2') expect(m.alarms).toEqual(['power_cut']);
      if (e.alarm === '0x3') expect(m.alarms).toBeUndefined(); // vibration raises nothing on a personal tracker
      if (v.serverReply) expect(out.reply?.toString('hex')).toBe(v.serverReply.toLowerCase());
      if (v.exampleReplyFor_2024_05_01T12_34_56Z) expect(out.reply?.toString('hex')).toBe(v.exampleReplyFor_2024_05_01T12_34_56Z);
      // the login's kind; position / heartbeat / alarm kinds follow the protocol number
      const kinds: Record<number, string> = { 0x01: 'login', 0x13: 'heartbeat', 0x12: 'position', 0x22: 'position' };
      if (kinds[pk.proto]) expect(m.kind).toBe(kinds[pk.proto]);
      if (m.alarms?.length) expect(m.kind).toBe('alarm');
    });
  }

  it('the server command vector is what our encoder writes for `Relay,1#` (§2.6)', () => {
    const v = GT06.find((x) => x.hex.toLowerCase().startsWith('78781280'));
    expect(v).toBeDefined();
    const text = Buffer.from('Relay,1#');
    const content = Buffer.concat([Buffer.from([4 + text.length, 0, 0, 0, 0]), text]);
    expect(writeGt06Frame(0x80, content, 0).toString('hex')).toBe(v.hex.toLowerCase());
  });

  it('frames every vector when split at every byte position, and several per chunk', () => {
    const all = device.map((v) => hex(v.hex));
    const stream = Buffer.concat(all);
    const want = all.map((f) => f.toString('hex'));
    for (let cut = 1; cut < stream.length; cut++) {
      const fr = new Gt06Framer();
      const evs = [...fr.push(stream.subarray(0, cut)), ...fr.push(stream.subarray(cut))];
      expect(evs.filter((e) => 'error' in e)).toEqual([]);
      expect(frames(evs)).toEqual(want);
      expect(fr.buffered).toBe(0);
    }
    // byte by byte
    const fr = new Gt06Framer();
    const evs: FrameEvent[] = [];
    for (const b of stream) evs.push(...fr.push(Buffer.from([b])));
    expect(frames(evs)).toEqual(want);
  });
});

const login = (serial = 1) => writeGt06Frame(0x01, Buffer.from(`0${IMEI}`, 'hex'), serial);
const heartbeat = (info: number, alarm = 0, serial = 2) => writeGt06Frame(0x13, Buffer.from([info, 4, 3, alarm, 2]), serial);
/** a standard 0x16 alarm packet (§2.3) */
function alarmPacket(alarm: number, info = 0x40, serial = 7): Buffer {
  const gps = Buffer.from('18050c0a0b0ccc0359c4df0d085ff60014d5', 'hex'); // 2024-05-12 10:11:12, N/E, fixed
  return writeGt06Frame(0x16, Buffer.concat([gps, Buffer.from('0901cc00287d001f71', 'hex'), Buffer.from([info, 5, 4, alarm, 1])]), serial);
}

describe('gt06: decoder', () => {
  it('refuses every frame but a login before the connection has logged in', () => {
    expect(decodeGt06(heartbeat(0x40), { receivedAt: at })).toEqual({ ok: false, reason: 'not_logged_in' });
    const out = decodeGt06(login(), { receivedAt: at });
    expect(out.ok && out.messages[0]).toMatchObject({ kind: 'login', deviceId: IMEI });
  });

  it('a bad CRC is rejected with no reply and no alarm', () => {
    const f = alarmPacket(0x01);
    f.writeUInt8(f[f.length - 3]! ^ 0xff, f.length - 3);
    expect(decodeGt06(f, ctx())).toEqual({ ok: false, reason: 'bad_crc' });
  });

  it('reads SOS, fall, power cut, low battery and fences through the Concox table; alarm replies echo the serial', () => {
    const cases: [number, string[] | undefined, string[] | undefined][] = [
      [0x01, ['sos'], undefined],
      [0x23, ['fall'], undefined],
      [0x02, ['power_cut'], undefined],
      [0x0e, ['low_battery'], undefined],
      [0x05, ['geofence_exit'], undefined],
      [0x04, undefined, ['geofence_exit']],
    ];
    for (const [code, alarms, restores] of cases) {
      const out = decodeGt06(alarmPacket(code, 0x40, 0x1234), ctx());
      if (!out.ok) throw new Error(out.reason);
      expect(out.messages[0]!.alarms).toEqual(alarms);
      expect(out.messages[0]!.restores).toEqual(restores);
      expect(out.messages[0]!.position).toMatchObject({ lat: 31.230417, lon: 121.473701, valid: true });
      expect(out.reply?.toString('hex')).toBe(writeGt06Frame(0x16, Buffer.alloc(0), 0x1234).toString('hex'));
    }
  });

  it('picks the alarm table by meta.vendor (LW: 0x19 is acceleration, not low battery)', () => {
    expect(GT06_ALARM_TABLES.concox![0x19]!.alarm).toBe('low_battery');
    const concox = decodeGt06(alarmPacket(0x19), ctx());
    const lw = decodeGt06(alarmPacket(0x19), ctx({ vendor: 'LW' }));
    expect(concox.ok && concox.messages[0]!.alarms).toEqual(['low_battery']);
    expect(lw.ok && lw.messages[0]).toMatchObject({ kind: 'status', event: { code: '0x19', label: 'acceleration', known: true } });
    const unknown = decodeGt06(alarmPacket(0x77), ctx({ vendor: 'nobody' }));
    expect(unknown.ok && unknown.messages[0]!.event).toEqual({ code: '0x77', label: 'unknown alarm code', known: false });
  });

  it('decodes the heartbeat terminal-info bits each on its own (§2.3)', () => {
    const sos = decodeGt06(heartbeat(0b0110_0101), ctx());
    expect(sos.ok && sos.messages[0]).toMatchObject({ kind: 'heartbeat', alarms: ['sos'], states: { armed: true, charging: true, gpsTracking: true, sos: true, acc: false } });
    const low = decodeGt06(heartbeat(0b0001_1000), ctx());
    expect(low.ok && low.messages[0]!.alarms).toEqual(['low_battery']);
    const cut = decodeGt06(heartbeat(0b0001_0000), ctx());
    expect(cut.ok && cut.messages[0]!.alarms).toEqual(['power_cut']);
    const shock = decodeGt06(heartbeat(0b0000_1000), ctx());
    expect(shock.ok && shock.messages[0]).toMatchObject({ states: { shock: true } });
    expect(shock.ok && shock.messages[0]!.alarms).toBeUndefined();
    expect(shock.ok && shock.reply?.toString('hex')).toBe(writeGt06Frame(0x13, Buffer.alloc(0), 2).toString('hex'));
    // 0x23: terminal info, battery volts, GSM, alarm, language
    const hb2 = decodeGt06(writeGt06Frame(0x23, Buffer.from([0x44, 0x01, 0x9a, 4, 0, 2]), 9), ctx());
    expect(hb2.ok && hb2.messages[0]).toMatchObject({ kind: 'heartbeat', signal: 100, states: { charging: true } });
    expect(hb2.ok && hb2.reply?.toString('hex')).toBe(writeGt06Frame(0x23, Buffer.alloc(0), 9).toString('hex'));
  });

  it('0x19 LBS + status: cell and alarm, no position', () => {
    const out = decodeGt06(writeGt06Frame(0x19, Buffer.concat([Buffer.from('01cc00287d001f71', 'hex'), Buffer.from([0x60, 4, 4, 0x01, 1])]), 3), ctx());
    expect(out.ok && out.messages[0]).toMatchObject({ kind: 'alarm', alarms: ['sos'], cells: [{ mcc: 460, mnc: 0, lac: 10365, cid: 8049 }] });
    expect(out.ok && out.messages[0]!.position).toBeUndefined();
  });

  it('records a command response (0x15 and 0x21) under the command its server flag names', () => {
    const flag = 0x41580001;
    expect(commandOfFlag(flag)).toBe('WHERE');
    const text = Buffer.from('Lat:N31.230416,Lon:E121.473701');
    const r15 = writeGt06Frame(0x15, Buffer.concat([Buffer.from([4 + text.length]), Buffer.from('41580001', 'hex'), text, Buffer.from([0, 2])]), 4);
    const out = decodeGt06(r15, ctx());
    expect(out.ok && out.messages[0]).toMatchObject({ kind: 'status', commandEcho: { keyword: 'WHERE', args: [text.toString()] } });
    expect(out.ok && out.reply).toBeUndefined();
    const r21 = writeGt06Frame(0x21, Buffer.concat([Buffer.from('41580003', 'hex'), Buffer.from([1]), Buffer.from('TIMER OK')]), 5, true);
    const long = decodeGt06(r21, ctx());
    expect(long.ok && long.messages[0]!.commandEcho).toEqual({ keyword: 'TIMER', args: ['TIMER OK'] });
    // a flag we never sent: the text's first word
    const other = writeGt06Frame(0x15, Buffer.concat([Buffer.from([4 + 9]), Buffer.alloc(4), Buffer.from('Relay,1OK')]), 6);
    expect(decodeGt06(other, ctx()).ok && (decodeGt06(other, ctx()) as { messages: { commandEcho?: unknown }[] }).messages[0]!.commandEcho).toEqual({ keyword: 'Relay', args: ['Relay,1OK'] });
  });

  it('LEN-0 Wi-Fi packets (no CRC, §2.1) get the BCD-time reply; other lying LENs are refused', () => {
    const wifi = hex('78780069240501123456' + '01' + 'aabbccddeeff' + '50' + '0d0a');
    const out = decodeGt06(wifi, ctx());
    expect(out.ok && out.reply?.toString('hex')).toBe('7878006924050112345' + '60d0a');
    expect(decodeGt06(hex('78780d0103563140414198583c0d0a'), ctx())).toEqual({ ok: false, reason: 'bad_length' });
  });

  it('0x94 information and unknown protocol numbers keep the device alive without a reply', () => {
    const info = decodeGt06(writeGt06Frame(0x94, Buffer.from([0x0a, 1, 2, 3]), 1), ctx());
    expect(info.ok && info.messages[0]).toMatchObject({ kind: 'status', event: { code: '0x94/0x0a', label: 'ICCID', known: true } });
    expect(info.ok && info.reply).toBeUndefined();
    const odd = decodeGt06(writeGt06Frame(0xa5, Buffer.from([1, 2, 3]), 1), ctx());
    expect(odd.ok && odd.messages[0]!.event).toMatchObject({ code: '0xa5', known: false });
  });
});

describe('gt06: framer', () => {
  const a = alarmPacket(0x01);
  const b = heartbeat(0x40);

  it('skips garbage before, between and after frames, counting it', () => {
    const fr = new Gt06Framer();
    const evs = fr.push(Buffer.concat([Buffer.from('hello\r\n'), a, Buffer.from([0x78, 0x00, 0x79]), b, Buffer.from('zz')]));
    expect(frames(evs)).toEqual([a.toString('hex'), b.toString('hex')]);
    expect(evs.filter((e) => 'error' in e).reduce((n, e) => n + ('error' in e ? e.discarded : 0), 0)).toBe(7 + 3 + 2);
  });

  it('a stray start marker with a large LEN does not swallow the SOS behind it', () => {
    const fr = new Gt06Framer();
    const evs = fr.push(Buffer.concat([Buffer.from([0x78, 0x78, 0xf0, 0x01, 0x02]), a]));
    expect(frames(evs)).toEqual([a.toString('hex')]);
    expect(evs[0]).toEqual({ error: 'garbage', discarded: 5 });
  });

  it('falls back to 0D 0A where LEN lies (§2.1)', () => {
    const fr = new Gt06Framer();
    const odd = hex('78780d0103563140414198583c0d0a');
    // LEN 0x0d promises 18 bytes: the first two are cut at their 0D 0A once 18 bytes are there; the third waits
    expect(frames(fr.push(Buffer.concat([odd, odd, odd])))).toEqual([odd.toString('hex'), odd.toString('hex')]);
    expect(fr.buffered).toBe(odd.length);
    const fr2 = new Gt06Framer();
    const wifi = hex('78780069240501123456010d0a');
    expect(frames(fr2.push(Buffer.concat([wifi, a])))).toEqual([wifi.toString('hex'), a.toString('hex')]);
  });

  it('caps the frame size and resynchronises', () => {
    const fr = new Gt06Framer();
    const huge = Buffer.concat([Buffer.from([0x79, 0x79, 0xff, 0xff]), Buffer.alloc(GT06_MAX_FRAME + 10, 0x55)]);
    const evs = fr.push(Buffer.concat([huge, a]));
    expect(evs.some((e) => 'error' in e && e.error === 'oversized')).toBe(true);
    expect(frames(evs)).toEqual([a.toString('hex')]);
    expect(fr.buffered).toBe(0);
  });

  it('does not keep the caller\'s chunk: frames are copies', () => {
    const fr = new Gt06Framer();
    const chunk = Buffer.from(a);
    const [ev] = fr.push(chunk);
    chunk.fill(0);
    expect(ev && 'frame' in ev && ev.frame.toString('hex')).toBe(a.toString('hex'));
  });
});

describe('gt06: commands and module', () => {
  it('encodes the five commands as 0x80 with the server flag; bad parameters name their field', () => {
    const enc = (c: Record<string, unknown>) => gt06CommandCodec.encode(c, { identifier: IMEI });
    const text = (f: Buffer) => f.subarray(9, 9 + f[4]! - 4).toString('latin1');
    expect(text(enc({ type: 'WHERE' }))).toBe('WHERE#');
    expect(text(enc({ type: 'SOS', numbers: ['13800138000', '+8613900139000'] }))).toBe('SOS,A,13800138000,+8613900139000#');
    expect(text(enc({ type: 'TIMER', seconds: 60 }))).toBe('TIMER,60#');
    expect(text(enc({ type: 'RESET' }))).toBe('RESET#');
    expect(text(enc({ type: 'FALLDOWN', on: true }))).toBe('FALLDOWN,ON#');
    const w = enc({ type: 'WHERE' });
    expect(w.readUInt32BE(5)).toBe(0x41580001);
    expect(crcOk(w)).toBe(true);
    expect(() => enc({ type: 'TIMER', seconds: 5 })).toThrow(CommandError);
    expect(() => enc({ type: 'SOS', numbers: ['x'] })).toThrowError(/numbers/);
    expect(() => enc({ type: 'CR' })).toThrow(CommandError);
    expect(gt06CommandCodec.keyword({ type: 'WHERE' })).toBe('WHERE');
  });

  it('is a served TCP protocol on 5023', () => {
    expect(protocolModule('gt06')).toBe(gt06Protocol);
    expect(isTcpProtocol(gt06Protocol)).toBe(true);
    expect(gt06Protocol.defaultPort).toBe(5023);
  });
});

describe('gt06: fuzz (fast-check)', () => {
  const check = (b: Buffer) => {
    const out = decodeGt06(b, ctx());
    expect(out.ok === true || (out.ok === false && typeof out.reason === 'string' && out.reason !== 'internal_error')).toBe(true);
    decodeGt06(b, { receivedAt: at });
  };

  it('the decoder never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => check(Buffer.from(bytes))), { numRuns: 3000 });
  });

  it('the decoder never throws on well-framed packets with random content and protocol numbers', () => {
    const arb = fc.record({ proto: fc.integer({ min: 0, max: 255 }), content: fc.uint8Array({ maxLength: 80 }), serial: fc.integer({ min: 0, max: 0xffff }), long: fc.boolean() });
    fc.assert(fc.property(arb, ({ proto, content, serial, long }) => check(writeGt06Frame(proto, content, serial, long))), { numRuns: 5000 });
  });

  it('the framer never throws and accounts for every byte', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 8 }), (chunks) => {
        const fr = new Gt06Framer();
        let seen = 0;
        let total = 0;
        for (const c of chunks) {
          total += c.length;
          for (const e of fr.push(Buffer.from(c))) seen += 'frame' in e ? e.frame.length : e.discarded;
        }
        expect(seen + fr.buffered).toBe(total);
      }),
      { numRuns: 2000 },
    );
  });
});
