/**
 * Inputs for the flood and fuzz scenarios, written from the protocol facts (../shared/design/protocols.md §1 for
 * the watch, §2 for GT06, §3 for Contact ID receiver lines, §5 for Zigbee2MQTT; README "MQTT devices" for mqtt-json; OASIS
 * MQTT 3.1.1 §2-3 for the packets), never from protocols/ or gateway/, so a misreading cannot hide in both:
 * - valid frames of each protocol;
 * - a mutator: bit flips, truncation, duplicated fields, huge lengths and numbers, random bytes, bracket / CRLF /
 *   separator injection, invalid UTF-8, deep and oversized JSON, type confusion, splices, plus pure garbage;
 * - the few MQTT packets the scenarios write (CONNECT, PUBLISH, DISCONNECT) and a reader for what comes back.
 * Everything is seeded (xorshift), so a run's inputs can be regenerated from its seed.
 */
import { remainingLength as mqttRemainingLength } from '../../simulators/fleet/mqtt-wire.js';

/** xorshift32: fast, seeded, good enough to pick mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  /** 0 ≤ n < max */
  int(max: number): number {
    return max <= 1 ? 0 : this.u32() % max;
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      b[i] = v & 0xff;
      if (i + 1 < n) b[i + 1] = (v >>> 8) & 0xff;
      if (i + 2 < n) b[i + 2] = (v >>> 16) & 0xff;
      if (i + 3 < n) b[i + 3] = v >>> 24;
    }
    return b;
  }
  /** printable ASCII */
  text(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(0x20 + this.int(95));
    return s;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(0x30 + this.int(10));
    return s;
  }
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

// ---------------------------------------------------------------------------------------------------------------
// Watch (protocols.md §1)

/** `[MF*ID*(INDEX*)LEN*CONTENT]`, LEN = content bytes as 4 hex digits (§1.1). */
export function watchFrame(deviceId: string, content: string | Buffer, o: { mf?: string; index?: string; lenOverride?: string } = {}): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const len = o.lenOverride ?? body.length.toString(16).toUpperCase().padStart(4, '0');
  return Buffer.concat([Buffer.from(`[${o.mf ?? '3G'}*${deviceId}*${o.index ? `${o.index}*` : ''}${len}*`, 'latin1'), body, Buffer.from(']')]);
}

/** UD / AL body (§1.3): date, time, fix, lat, N/S, lon, E/W, speed, course, alt, sats, gsm, battery, steps, tumbles, status, cells, Wi-Fi, accuracy. */
export function watchReport(type: string, status: string, steps: number, at = new Date(), wifi = false): string {
  const d = `${two(at.getUTCDate())}${two(at.getUTCMonth() + 1)}${two(at.getUTCFullYear() % 100)}`;
  const t = `${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}`;
  const cells = '2,1,460,0,9360,4082,131,9360,4092,148';
  const aps = wifi ? '2,[LG_Wall-Mount A/C]e725,bc:5f:f6:1e:07:be,-55,Home2,60:45:cb:cb:34:68,-93' : '0';
  return `${type},${d},${t},A,31.230416,N,121.4737010,E,0.00,0.0,10.0,8,80,90,${steps},0,${status},${cells},${aps},10.0`;
}

/** An SOS alarm frame (status bit 16, bit 3 worn: §1.4); `steps` makes each frame's bytes unique. */
export const watchSos = (id: string, steps: number, at = new Date()) => watchFrame(id, watchReport('AL', '00010008', steps, at));
export const watchLk = (id: string) => watchFrame(id, 'LK,0,0,90');

/** Valid watch frames of many kinds for one device (the seeds of the mutations). */
export function watchSeeds(id: string, rng: Rng): Buffer[] {
  const at = new Date(Date.now() - rng.int(86_400_000));
  const steps = rng.int(20_000);
  return [
    watchFrame(id, 'LK'),
    watchFrame(id, `LK,${steps},3,${rng.int(101)}`, { mf: 'SG' }),
    watchFrame(id, watchReport('UD', '00000008', steps, at)),
    watchFrame(id, watchReport('UD_LTE', '00000000', steps, at, true)),
    watchFrame(id, watchReport('UD2', '00000010', steps, at)),
    watchFrame(id, watchReport('AL', rng.pick(['00010008', '00200008', '00100018', '00000001', '0001', '00400000']), steps, at)),
    watchFrame(id, 'TKQ'),
    watchFrame(id, `bphrt,${100 + rng.int(60)},${60 + rng.int(40)},${50 + rng.int(60)},,,,`),
    watchFrame(id, `heart,${rng.int(200)}`),
    watchFrame(id, `oxygen,0,${80 + rng.int(20)}`),
    watchFrame(id, `btemp2,1,${(35 + rng.int(40) / 10).toFixed(2)}`),
    watchFrame(id, 'CONFIG,TY:g36a,UL:60,SY:0,CM:0,WT:0,HR:1,TB:5,CS:0,PP:1,AB:0,HH:1,TR:0,MO:1,FL:1,VD:0,DD:0,HT:0,YY:0,AC:0,SM:0,BD:1,BG:0,BE:0,BL:0,BS:0,BQ:0'),
    watchFrame(id, `UD,${rng.digits(6)},${rng.digits(6)},V,,,,,,,,,,,,,,0,0`),
    watchFrame(id, 'TK,#!AMR\x7d\x01\x7d\x02\x7d\x03\x7d\x04\x7d\x05\xff'),
    watchFrame(id, 'LK,0,0,53', { mf: 'ZJ', index: two(rng.int(99)).padStart(4, '0') }),
    watchFrame(id, 'UPLOAD'),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// GT06 (protocols.md §2)

/** CRC-16/X-25 (§2.1): poly 0x1021 reflected (0x8408), init 0xFFFF, reflected in/out, final XOR 0xFFFF. */
export function x25(b: Buffer, from = 0, to = b.length): number {
  let crc = 0xffff;
  for (let i = from; i < to; i++) {
    crc ^= b[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return ~crc & 0xffff;
}

/**
 * `78 78 | LEN(1) | PROTO | CONTENT | SERIAL(2) | CRC(2) | 0D 0A`, or `79 79` with LEN in 2 bytes (§2.1).
 * LEN = PROTO + CONTENT + SERIAL + CRC unless `len` lies; the CRC covers LEN through SERIAL, big-endian.
 */
export function gt06Frame(proto: number, content: Buffer, serial: number, o: { long?: boolean; len?: number; badCrc?: boolean } = {}): Buffer {
  const hl = o.long ? 2 : 1;
  const len = o.len ?? 1 + content.length + 4;
  const b = Buffer.alloc(2 + hl + 1 + content.length + 6);
  b[0] = b[1] = o.long ? 0x79 : 0x78;
  if (o.long) b.writeUInt16BE(len & 0xffff, 2);
  else b[2] = len & 0xff;
  let i = 2 + hl;
  b[i++] = proto & 0xff;
  i += content.copy(b, i);
  b.writeUInt16BE(serial & 0xffff, i);
  i += 2;
  b.writeUInt16BE(x25(b, 2, i) ^ (o.badCrc ? 0x5a5a : 0), i);
  b[i + 2] = 0x0d;
  b[i + 3] = 0x0a;
  return b;
}

/** Terminal ID: the IMEI with a leading 0 as 8 bytes of BCD (§2.3). */
export const gt06Imei = (imei: string): Buffer => Buffer.from(`0${imei}`.slice(-16), 'hex');

/** GPS block (§2.3): time YY MM DD hh mm ss, C + satellites, lat/lon × 1,800,000, speed, course/status (bit 10 north, 12 fixed). */
function gt06Gps(at: Date, lat: number, lon: number, course = 90): Buffer {
  const b = Buffer.alloc(18);
  [at.getUTCFullYear() % 100, at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()].forEach((v, i) => (b[i] = v));
  b[6] = 0xc8;
  b.writeUInt32BE(Math.round(Math.abs(lat) * 1_800_000), 7);
  b.writeUInt32BE(Math.round(Math.abs(lon) * 1_800_000), 11);
  b[15] = 5;
  b.writeUInt16BE((course & 0x3ff) | (lat >= 0 ? 1 << 10 : 0) | (lon < 0 ? 1 << 11 : 0) | (1 << 12), 16);
  return b;
}
/** LBS block (§2.3): MCC 2, MNC 1, LAC 2, cell id 3. */
const GT06_LBS = Buffer.from('01cc00287d001f71', 'hex');
/** terminal info, voltage level, GSM level, alarm, language (§2.3) */
const gt06Status = (info: number, alarm: number) => Buffer.from([info, 4, 4, alarm, 2]);

/** Protocol numbers §2.2 names (device → server). */
export const GT06_PROTOS = [0x01, 0x10, 0x12, 0x13, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x23, 0x26, 0x2c, 0x69, 0x8a, 0x94, 0xa1, 0xf3];

/** The verified vectors of §2.5 (G7 carries a bad CRC, as the README says). */
const GT06_VECTORS = [
  '78780a13c40604000201298f5b0d0a',
  '78781f120f0a140e150bc505e51e780293a9e800540000f601006e0055da00035f240d0a',
  '78781F120B081D112E10CC027AC7EB0C46584900148F01CC00287D001FB8000380810D0A',
  '787822220F0C1D023305C9027AC8180C46586000140001CC00287D001F71000001000820860D0A',
  '787825160f0c1d0a2b21c8027ac8040c46581000146f0901cc00287d001f714804040301001c84cf0d0a',
  '7878252612030c063816c3026c10540c38c9700144030901cc002866000eee0c06040302000da2db0d0a',
  '787826161709130f3a2dcc02c55f2a089f9af9005c210901360481fe066d9b03413e420102035f92fe0d0a',
  '7878058A000688290D0A',
].map((h) => Buffer.from(h, 'hex'));

export interface Gt06Spec {
  proto: number;
  content: Buffer;
  long?: boolean;
}

/** An alarm packet 0x16 (§2.3): GPS, LBS length + LBS, status with terminal-info bits 3-5 = 100 (SOS) and alarm 0x01 (SOS). */
export const gt06SosContent = (at = new Date()): Buffer => Buffer.concat([gt06Gps(at, 31.2304, 121.4737), Buffer.from([0x09]), GT06_LBS, gt06Status(0x60, 0x01)]);
export const gt06Login = (imei: string, serial: number) => gt06Frame(0x01, gt06Imei(imei), serial);
export const gt06Heartbeat = (serial: number) => gt06Frame(0x13, gt06Status(0x44, 0), serial);

/** Valid packets of many kinds (the seeds of the mutations); `imei` for the logins among them. */
export function gt06Seeds(imei: string, rng: Rng): Gt06Spec[] {
  const at = new Date(Date.now() - rng.int(86_400_000));
  const gps = gt06Gps(at, rng.chance(0.8) ? 31.23 : -19.59, rng.chance(0.8) ? 121.47 : -46.93, rng.int(360));
  const status = gt06Status(rng.pick([0x44, 0x60, 0x50, 0x58, 0x48, 0xc4, 0x00]), rng.pick([0x00, 0x01, 0x02, 0x03, 0x23, 0x0e, 0x19, 0x18, 0x7f, 0xff]));
  const text = Buffer.from(rng.pick(['WHERE#', 'Relay,1#', 'SOS,A,13800138000#', 'OK!', '']), 'latin1');
  const flag = Buffer.from([0, 0, 0, rng.int(8)]);
  return [
    { proto: 0x01, content: gt06Imei(imei) },
    { proto: 0x01, content: Buffer.concat([gt06Imei(imei), Buffer.from([0x10, 0x0f, 0x32, 0x01])]) },
    { proto: 0x13, content: status },
    { proto: 0x23, content: Buffer.from([0x44, 0x01, 0x9a, 0x04, 0x02]) },
    { proto: 0x12, content: Buffer.concat([gps, GT06_LBS]) },
    { proto: 0x22, content: Buffer.concat([gps, GT06_LBS, Buffer.from([rng.int(2), rng.int(6), rng.int(2)])]) },
    { proto: 0x10, content: gps },
    { proto: 0x16, content: Buffer.concat([gps, Buffer.from([0x09]), GT06_LBS, status]) },
    { proto: 0x26, content: Buffer.concat([gps, Buffer.from([0x09]), GT06_LBS, status]) },
    { proto: 0x19, content: Buffer.concat([GT06_LBS, status]) },
    { proto: 0x8a, content: Buffer.alloc(0) },
    { proto: 0x94, content: Buffer.concat([Buffer.from([rng.pick([0x00, 0x04, 0x05, 0x0a, 0x33])]), rng.bytes(rng.int(12))]) },
    { proto: 0x15, content: Buffer.concat([Buffer.from([4 + text.length]), flag, text, Buffer.from([0x00, 0x02])]) },
    { proto: 0x21, content: Buffer.concat([flag, Buffer.from([0x01]), text]), long: true },
  ];
}

/** A LEN-0 Wi-Fi packet (§2.1/§2.2): `78 78 00 69`, a 6-byte BCD time, a body, `0D 0A`, no serial or CRC. */
function gt06Wifi(rng: Rng): Buffer {
  const bcd = Buffer.from(`2405011234${rng.digits(2)}`, 'hex');
  return Buffer.concat([Buffer.from([0x78, 0x78, 0x00, rng.pick([0x69, 0x17])]), bcd, rng.bytes(rng.int(30)).map((x) => (x === 0x0d ? 0x0c : x)), Buffer.from([0x0d, 0x0a])]);
}

/**
 * One fuzz input from the seeds: a valid packet now and then; usually a packet with its fields mutated
 * (protocol number, content flipped, cut or grown, LEN lying, the other start form, edge times) and its CRC
 * right, so it reaches the decoder; or the CRC wrong; or the frame's bytes mutated after the CRC; garbage;
 * a §2.5 vector; a LEN-0 Wi-Fi packet. `serial` is the packet's serial (the scenario keeps markers apart).
 */
export function gt06Input(seeds: Gt06Spec[], rng: Rng, serial: number): Buffer {
  const sp = rng.pick(seeds);
  const r = rng.int(100);
  if (r < 5) return gt06Frame(sp.proto, sp.content, serial, { long: sp.long });
  if (r < 9) return rng.bytes(1 + rng.int(rng.chance(0.1) ? 2000 : 100));
  if (r < 11) return rng.pick(GT06_VECTORS);
  if (r < 13) return gt06Wifi(rng);
  let { proto, content } = sp;
  let long = sp.long ?? false;
  let len: number | undefined;
  let badCrc = rng.chance(0.25);
  const rounds = rng.chance(0.7) ? 1 : 2 + rng.int(2);
  for (let k = 0; k < rounds; k++) {
    switch (rng.int(9)) {
      case 0:
        proto = rng.chance(0.5) ? rng.pick(GT06_PROTOS) : rng.int(256);
        break;
      case 1:
        content = mutateBytes(content, rng, 600);
        break;
      case 2:
        content = content.subarray(0, rng.int(content.length + 1));
        break;
      case 3:
        // grown; now and then past the 4 KiB frame cap
        content = Buffer.concat([content, rng.bytes(1 + rng.int(rng.chance(0.03) ? 6000 : 40))]);
        break;
      case 4:
        len = rng.pick([0, 1, 4, 5, 0xff, rng.int(long ? 0x10000 : 0x100)]);
        break;
      case 5:
        long = !long;
        break;
      case 6:
        badCrc = !badCrc;
        break;
      case 7: {
        // a date-time or coordinates at the edges (month 13, year 2255, 0xFF…)
        content = Buffer.from(content);
        const at = rng.int(Math.max(1, Math.min(content.length, 15)));
        if (content.length) content[at] = rng.pick([0x00, 0x0d, 0x0a, 0x13, 0x20, 0x3c, 0x63, 0x78, 0x79, 0x80, 0xff]);
        break;
      }
      default: {
        // a status byte (terminal info, alarm code) at random
        content = Buffer.from(content);
        if (content.length) content[Math.max(0, content.length - 1 - rng.int(5))] = rng.int(256);
      }
    }
  }
  const f = gt06Frame(proto, content, serial, { long, len, badCrc });
  if (rng.chance(0.1)) return mutateBytes(f, rng, 6000);
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// Contact ID receiver lines (protocols.md §3)

export const DC4 = 0x14;

/** Check digit of a bare 16-digit Contact ID message (§3.2): digit 0 counts as 10; total a multiple of 15. */
export function cidCheck(first15: string): string {
  const v = (c: string) => (c === '0' ? 10 : parseInt(c, 16));
  const sum = [...first15].reduce((a, c) => a + v(c), 0);
  const s = 15 - (sum % 15);
  return s === 15 ? 'F' : s === 10 ? '0' : s.toString(16).toUpperCase();
}

/** `1011` + 11 spaces + `@` + 4 spaces (§3.4 MLR2 heartbeat), without DC4. */
export const CID_HEARTBEAT = `1011${' '.repeat(11)}@${' '.repeat(4)}`;

/** Valid receiver lines (no DC4) for one account. */
export function cidSeeds(account: string, rng: Rng): string[] {
  const zone = rng.digits(3);
  const code = rng.pick(['101', '100', '102', '131', '301', '384', '602', '654', '110', '121']);
  const q = rng.pick(['E', 'R', 'P']);
  const bare = `${account}181${code}01${zone}`;
  return [
    `5011 18${account}${q}${code}01${zone}`,
    `501100 18${account}${q}${code}01${zone}`,
    `5011 18${account}E60200000`,
    CID_HEARTBEAT,
    `101100${' '.repeat(11)}@${' '.repeat(4)}`,
    bare + cidCheck(bare),
    `Q01100 58${rng.digits(10)}E${code}01${zone}`,
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// mqtt-json (README "MQTT devices") and Zigbee2MQTT (protocols.md §5)

export const MQTT_KINDS = ['heartbeat', 'position', 'alarm', 'health', 'status'] as const;

export function mqttJsonSeeds(rng: Rng): { kind: string; payload: string }[] {
  const msgId = rng.chance(0.5) ? `"${rng.int(1e9)}"` : String(rng.int(1e9));
  const time = new Date(Date.now() - rng.int(3_600_000)).toISOString();
  return [
    { kind: 'heartbeat', payload: `{"msgId":${msgId},"battery":${rng.int(101)},"signal":${rng.int(101)}}` },
    { kind: 'position', payload: `{"msgId":${msgId},"time":"${time}","position":{"lat":31.23,"lon":121.47},"source":"gps","valid":true,"speed":1.5,"course":90,"altitude":12,"satellites":7,"accuracy":5}` },
    { kind: 'alarm', payload: `{"msgId":${msgId},"time":"${time}","alarms":["${rng.pick(['fall', 'sos', 'medical', 'low_battery'])}"],"position":{"lat":31.2,"lon":121.4}}` },
    { kind: 'health', payload: `{"msgId":${msgId},"health":{"heartRate":${40 + rng.int(100)},"spo2":${85 + rng.int(15)},"systolic":120,"diastolic":80,"temperature":36.6,"steps":${rng.int(20_000)}}}` },
    { kind: 'status', payload: `{"msgId":${msgId},"states":{"presence":${rng.chance(0.5)},"occupancy":${rng.chance(0.5)}},"restores":["low_battery"]}` },
  ];
}

export function z2mSeeds(rng: Rng): string[] {
  const last = `"last_seen":"${new Date(Date.now() - rng.int(600_000)).toISOString()}"`;
  return [
    `{"presence":${rng.chance(0.5)},"occupancy":true,"fall_down_status":"${rng.pick(['none', 'maybe_fall', 'fall'])}","motion_speed":3,"linkquality":120,${last}}`,
    `{"occupancy":true,"sensor_status":"activity","fall_status":"${rng.pick(['normal', 'fall_warning', 'fall_alarm', 'unknown'])}",${last}}`,
    `{"status":"${rng.pick(['unoccupied', 'occupied', 'sitting', 'on_the_bed', 'low_posture', 'falling'])}","breathing_rate":14,"location_x":120,"location_y":-35}`,
    `{"sos":${rng.chance(0.5)},"tamper":${rng.chance(0.2)},"battery_low":${rng.chance(0.2)},"linkquality":80}`,
    `{"action":"${rng.pick(['fall', 'shake', 'single', 'emergency', 'sos'])}","battery":90}`,
    `{"fall_down_status":"fall","device":{"ieeeAddr":"0x00158d0001a2b3c4","friendlyName":"x","model":"MIR-HE200-TY","manufacturerName":"_TZE200_lu01t0zl"}}`,
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations

const INJECT = ['[', ']', '[[', ']]', '\r\n', '\n', '\r', '*', ',', '\x14', '\x00', '\x7d', '\x7d\x02', '"', '{', '}', '\\', '\\u0000', '\\ud800', ':', '%s', '../'];
/** invalid UTF-8: lone continuation, overlong, truncated sequence, surrogate half, 0xFF/0xFE */
const BAD_UTF8 = [Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xc3, 0x28])];
const NUMBERS = ['-1', '0', '-0', '1e308', '-1e308', '1e-400', '99999999999999999999999', 'NaN', 'Infinity', '0x1F', '1.', '.5', '00000001', '4294967296', '9007199254740993', '-2147483649', '1e3', ''];
const JSON_VALUES = ['null', 'true', 'false', '[]', '{}', '""', '"x"', '0', '-1', '1e999', '"\\u0000"', '"\\ud800"', '[null]', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}'];

export type Kind = 'text' | 'json';

/** Byte-level mutations any input can take. */
function mutateBytes(b: Buffer, rng: Rng, maxBytes: number): Buffer {
  if (b.length === 0) return rng.bytes(1 + rng.int(64));
  switch (rng.int(9)) {
    case 0: {
      // bit flips
      const out = Buffer.from(b);
      const n = 1 + rng.int(8);
      for (let k = 0; k < n && out.length; k++) out[rng.int(out.length)]! ^= 1 << rng.int(8);
      return out;
    }
    case 1:
      // truncation
      return b.subarray(0, rng.int(b.length));
    case 2: {
      // random bytes over a span
      const out = Buffer.from(b);
      const at = rng.int(out.length);
      rng.bytes(1 + rng.int(16)).copy(out, at);
      return out;
    }
    case 3: {
      // injection of separators, brackets, CR/LF, DC4, escapes
      const at = rng.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(INJECT), 'latin1'), b.subarray(at)]);
    }
    case 4: {
      // invalid UTF-8
      const at = rng.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), rng.pick(BAD_UTF8), b.subarray(at)]);
    }
    case 5: {
      // a span repeated (duplicated fields / huge inputs)
      const at = rng.int(b.length);
      const len = 1 + rng.int(Math.min(64, b.length - at));
      const times = rng.chance(0.05) ? Math.floor(maxBytes / len) : 1 + rng.int(40);
      const span = b.subarray(at, at + len);
      return Buffer.concat([b.subarray(0, at + len), Buffer.alloc(Math.min(maxBytes, len * times), span), b.subarray(at + len)]);
    }
    case 6: {
      // bytes deleted
      const at = rng.int(b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rng.int(8))]);
    }
    case 7: {
      // a byte set to an edge value
      const out = Buffer.from(b);
      if (out.length) out[rng.int(out.length)] = rng.pick([0x00, 0x7f, 0x80, 0xff, 0x20, 0x2c, 0x2a, 0x5b, 0x5d, 0x14, 0x0d, 0x0a]);
      return out;
    }
    default:
      // pure garbage
      return rng.bytes(1 + rng.int(rng.chance(0.1) ? 2000 : 120));
  }
}

/** Comma/star-separated text (watch, Contact ID): fields duplicated, emptied, replaced by numbers or long runs. */
function mutateFields(s: string, rng: Rng, maxBytes: number): string {
  const sep = rng.chance(0.7) ? ',' : '*';
  const parts = s.split(sep);
  const k = rng.int(parts.length);
  switch (rng.int(6)) {
    case 0:
      parts.splice(k, 0, ...Array(1 + rng.int(rng.chance(0.1) ? Math.min(2000, Math.floor(maxBytes / (s.length + 1))) : 5)).fill(parts[k]));
      break;
    case 1:
      parts[k] = '';
      break;
    case 2:
      parts[k] = rng.pick(NUMBERS);
      break;
    case 3:
      parts[k] = rng.chance(0.1) ? 'A'.repeat(1 + rng.int(maxBytes)) : rng.text(1 + rng.int(40));
      break;
    case 4:
      parts.splice(k, 1 + rng.int(3));
      break;
    default:
      parts[k] = String.fromCodePoint(0x4e00 + rng.int(2000), 0x1f600 + rng.int(50));
  }
  return parts.join(sep);
}

function deepJson(rng: Rng, maxBytes: number): string {
  const depth = Math.min(Math.floor(maxBytes / 2) - 2, rng.pick([100, 1000, 10_000, 100_000, 500_000]));
  if (rng.chance(0.5)) return `${'['.repeat(depth)}${']'.repeat(depth)}`;
  if (rng.chance(0.5)) return `{"position":${'{"a":'.repeat(Math.floor(depth / 5))}1${'}'.repeat(Math.floor(depth / 5))}}`;
  return `${'['.repeat(depth)}`; // unterminated
}

function oversizedJson(rng: Rng, maxBytes: number): string {
  const n = Math.max(1, Math.floor((maxBytes * (0.5 + rng.int(60) / 100)) / 12));
  switch (rng.int(4)) {
    case 0:
      return `{"alarms":[${Array(n).fill('"fall"').join(',')}]}`;
    case 1:
      return `{"msgId":"${'x'.repeat(n * 10)}"}`;
    case 2:
      return `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    default:
      return `{"states":{${Array.from({ length: Math.min(n, 50_000) }, (_, i) => `"s${i}":true`).join(',')}}}`;
  }
}

/** JSON-aware mutations: keys duplicated, values of the wrong type, numbers at the edges, deep and oversized documents. */
function mutateJson(s: string, rng: Rng, maxBytes: number): string {
  switch (rng.int(8)) {
    case 0: {
      // a key duplicated with another value
      const m = /"([A-Za-z_]+)":/.exec(s.slice(rng.int(s.length)));
      return m ? s.replace('{', `{"${m[1]}":${rng.pick(JSON_VALUES)},`) : s;
    }
    case 1: {
      // a value replaced by one of the wrong type
      const re = /:(\s*)("[^"]*"|-?[0-9.eE+-]+|true|false|null)/g;
      const all = [...s.matchAll(re)];
      if (!all.length) return s;
      const m = rng.pick(all);
      return s.slice(0, m.index) + `:${rng.pick([...JSON_VALUES, ...NUMBERS.filter((x) => x !== '')])}` + s.slice(m.index! + m[0].length);
    }
    case 2:
      // big documents are rarer than the rest: they cost the wire and the fuzzer more than they find
      return rng.chance(0.15) ? deepJson(rng, maxBytes) : mutateFields(s, rng, 200);
    case 3:
      return rng.chance(0.1) ? oversizedJson(rng, maxBytes) : s.replace(/\[[^\]]*\]/, `[${Array(1 + rng.int(20)).fill('"fall"').join(',')}]`);
    case 4:
      // unknown fields and prototype keys
      return s.replace('{', `{${rng.pick(['"__proto__":{"isAdmin":true}', '"constructor":{}', '"unknown":1', '"alarms":"fall"', '"time":"2026-13-45T99:99:99Z"', '"time":"yesterday"', '"msgId":{"a":1}', '"battery":-5', '"signal":1e400'])},`);
    case 5:
      return rng.pick(['', ' ', 'null', '[]', '"str"', '1', '{', '}', '{"a":', '{"alarms":["fall"', '\uFEFF{}', '{"a":1}garbage', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{}{}']);
    case 6:
      return s.replace(/"(fall|sos|medical|low_battery|falling|fall_alarm|none|gps)"/, `"${rng.pick(['FALL', 'fall ', 'fal', 'fall\\u0000', 'sos\\n', '🔥', 'a'.repeat(300)])}"`);
    default:
      return mutateFields(s, rng, maxBytes);
  }
}

/**
 * One fuzz input from a valid seed: usually one mutation, sometimes a few stacked, sometimes a splice of two
 * seeds or pure garbage; at most `maxBytes`.
 */
export function mutate(seed: Buffer, rng: Rng, kind: Kind, maxBytes: number, other?: Buffer): Buffer {
  if (rng.chance(0.08)) return rng.bytes(1 + rng.int(Math.min(maxBytes, rng.chance(0.1) ? 4000 : 200)));
  let b = seed;
  const rounds = rng.chance(0.7) ? 1 : 2 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const p = rng.int(10);
    if (p < 4) b = mutateBytes(b, rng, maxBytes);
    else if (p < 8) b = Buffer.from(kind === 'json' ? mutateJson(b.toString('latin1'), rng, maxBytes) : mutateFields(b.toString('latin1'), rng, maxBytes), 'latin1');
    else if (p < 9 && other) {
      const a = rng.int(b.length + 1);
      b = Buffer.concat([b.subarray(0, a), other.subarray(rng.int(other.length + 1))]);
    } else b = Buffer.concat([b, b]);
    if (b.length > maxBytes) b = b.subarray(0, maxBytes);
  }
  return b.length > maxBytes ? b.subarray(0, maxBytes) : b;
}

// ---------------------------------------------------------------------------------------------------------------
// MQTT 3.1.1 packets (OASIS §2-3)

// The length encoding is the fleet simulator's (also written from the spec); the packets here are the fuzzer's own.
const remainingLength = (n: number): Buffer => Buffer.from(mqttRemainingLength(n));

const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(Math.min(b.length, 0xffff), 0);
  return Buffer.concat([len, b]);
};

export function mqttConnect(clientId: string, username?: string, password?: string, keepaliveS = 60): Buffer {
  let flags = 0x02;
  if (username !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const parts = [Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, flags, (keepaliveS >> 8) & 0xff, keepaliveS & 0xff]), str(clientId)];
  if (username !== undefined) parts.push(str(username));
  if (password !== undefined) parts.push(str(password));
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

export function mqttPublish(topic: string | Buffer, payload: Buffer, qos: 0 | 1, packetId = 0): Buffer {
  const t = str(topic);
  const id = qos ? Buffer.from([(packetId >> 8) & 0xff, packetId & 0xff]) : Buffer.alloc(0);
  const len = t.length + id.length + payload.length;
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(len), t, id, payload]);
}

export const MQTT_DISCONNECT = Buffer.from([0xe0, 0x00]);

/** Splits what the broker sends into packets: { type, flags, body }. */
export class MqttReader {
  private rest: Buffer | null = null;
  push(chunk: Buffer, on: (type: number, flags: number, body: Buffer) => void): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let i = 0;
    while (buf.length - i >= 2) {
      let len = 0;
      let mul = 1;
      let k = i + 1;
      let done = false;
      for (; k < buf.length && k < i + 5; k++) {
        len += (buf[k]! & 0x7f) * mul;
        mul *= 128;
        if ((buf[k]! & 0x80) === 0) {
          done = true;
          break;
        }
      }
      if (!done || buf.length < k + 1 + len) break;
      on(buf[i]! >> 4, buf[i]! & 0x0f, buf.subarray(k + 1, k + 1 + len));
      i = k + 1 + len;
    }
    if (i < buf.length) this.rest = Buffer.from(buf.subarray(i));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What a byte stream forms by each protocol's framing rules (written from protocols.md, not from protocols/), so
// the fuzz report can reconcile inputs written against what the gateway counted.

/**
 * Watch framing (§1.1): frames on bracket depth counted on the raw bytes; bytes outside a frame are garbage; a
 * frame longer than 64 KiB (both brackets included) is dropped at the byte that makes it too long, and what
 * follows is garbage until the next `[`. One mutated input with an unbalanced `[` swallows the inputs after it
 * into one frame until the depth is back to 0, so inputs and frames are not one to one.
 */
export class WatchFrameModel {
  private depth = 0;
  private len = 0;
  frames = 0;
  oversized = 0;
  garbageBytes = 0;
  oversizedBytes = 0;
  constructor(private readonly max = 64 * 1024) {}
  /** bytes held in an unfinished frame */
  get partial(): number {
    return this.len;
  }
  /** brackets open in the unfinished frame (the `]`s that end it) */
  get open(): number {
    return this.depth;
  }
  push(b: Buffer): void {
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (this.depth === 0) {
        if (c === 0x5b) {
          this.depth = 1;
          this.len = 1;
        } else this.garbageBytes++;
        continue;
      }
      if (++this.len > this.max) {
        this.oversized++;
        this.oversizedBytes += this.len;
        this.depth = 0;
        this.len = 0;
        continue;
      }
      if (c === 0x5b) this.depth++;
      else if (c === 0x5d && --this.depth === 0) {
        this.frames++;
        this.len = 0;
      }
    }
  }
}

/**
 * Receiver lines (§3.4): a line ends at DC4; CR, LF and NUL before a line's first byte and lone DC4s are
 * skipped; a line over 256 bytes is dropped (`oversized`) and the rest discarded up to the next DC4, reported
 * at the latest every 256 bytes and at that DC4.
 */
export class CidLineModel {
  private len = 0;
  private skipping = false;
  private skipped = 0;
  lines = 0;
  oversized = 0;
  constructor(private readonly max = 256) {}
  push(b: Buffer): void {
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (this.skipping) {
        this.skipped++;
        if (c === DC4) {
          this.oversized++;
          this.skipping = false;
          this.skipped = 0;
        } else if (this.skipped >= this.max) {
          this.oversized++;
          this.skipped = 0;
        }
        continue;
      }
      if (c === DC4) {
        if (this.len > 0) this.lines++;
        this.len = 0;
        continue;
      }
      if (this.len === 0 && (c === 0x0d || c === 0x0a || c === 0x00)) continue;
      if (this.len >= this.max) {
        this.oversized++;
        this.len = 0;
        this.skipping = true;
        this.skipped = 0;
        continue;
      }
      this.len++;
    }
  }
}

/**
 * GT06 framing (§2.1 and README "GT06 trackers"): a frame starts at `78 78` / `79 79`; it ends where LEN says
 * (total = LEN + 5 / + 6) when the bytes there are `0D 0A`; otherwise (LEN lies) at the first `0D 0A`, unless
 * another start marker comes first (then the first start was garbage); nothing longer than 4 KiB (`max`) is a
 * frame (`oversized`, skipped whole). Bytes outside frames are garbage. The README's other rule (a stray start
 * followed by a whole good frame is garbage) only decides while bytes are still missing: the scenario writes a
 * batch whole and ends it with `max` bytes of padding, so every start is decided on bytes that are all there.
 */
export class Gt06FrameModel {
  private rest: Buffer = Buffer.alloc(0);
  frames = 0;
  frameBytes = 0;
  oversized = 0;
  oversizedBytes = 0;
  garbageBytes = 0;
  constructor(private readonly max = 4096) {}
  /** bytes of an undecided frame */
  get partial(): number {
    return this.rest.length;
  }
  push(chunk: Buffer): void {
    const b = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const n = b.length;
    const isStart = (j: number) => (b[j] === 0x78 || b[j] === 0x79) && b[j + 1] === b[j];
    const nextStart = (from: number, to: number) => {
      for (let j = from; j < to - 1; j++) if (isStart(j)) return j;
      return -1;
    };
    let i = 0;
    while (i < n) {
      const s = nextStart(i, n);
      if (s < 0) {
        const keep = b[n - 1] === 0x78 || b[n - 1] === 0x79 ? 1 : 0;
        this.garbageBytes += n - keep - i;
        i = n - keep;
        break;
      }
      this.garbageBytes += s - i;
      i = s;
      const long = b[s] === 0x79;
      if (n - s < (long ? 4 : 3)) break;
      const total = long ? b.readUInt16BE(s + 2) + 6 : b[s + 2]! + 5;
      // LEN counts at least PROTO, SERIAL and CRC
      if (total >= 10 && total <= this.max) {
        if (n - s < total) break; // undecided (not reached after the padding)
        if (b[s + total - 2] === 0x0d && b[s + total - 1] === 0x0a) {
          this.frames++;
          this.frameBytes += total;
          i = s + total;
          continue;
        }
      }
      // LEN lies: the first 0D 0A within `max`, unless a start marker comes first
      const limit = Math.min(n, s + this.max);
      let e = -1;
      for (let j = s + 3; j < limit - 1; j++) {
        if (b[j] === 0x0d && b[j + 1] === 0x0a) {
          e = j;
          break;
        }
      }
      const m = nextStart(s + 2, e < 0 ? limit : e);
      if (m >= 0) {
        this.garbageBytes += m - s;
        i = m;
      } else if (e >= 0) {
        this.frames++;
        this.frameBytes += e + 2 - s;
        i = e + 2;
      } else if (n - s >= this.max) {
        this.oversized++;
        this.oversizedBytes += this.max;
        i = s + this.max;
      } else break;
    }
    this.rest = i < n ? Buffer.from(b.subarray(i)) : Buffer.alloc(0);
  }
}
