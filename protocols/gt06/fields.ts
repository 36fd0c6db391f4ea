/**
 * GT06 frame → its fields (protocols.md §2.1-2.4), before any meaning is given to them (decoder.ts).
 * Variants are keyed on (protocol, LEN) as §2.4 warns; a LEN no table lists falls back to what every variant
 * shares: the GPS block first, the 5-byte status last. Pure and total: device input yields a reason, not a throw.
 */
import { crcX25 } from './crc.js';

export const GT06 = {
  LOGIN: 0x01,
  GPS: 0x10,
  GPS_LBS: 0x12,
  STATUS: 0x13,
  COMMAND_RESPONSE: 0x15,
  ALARM: 0x16,
  WIFI_LBS: 0x17,
  LBS_STATUS: 0x19,
  COMMAND_RESPONSE_LONG: 0x21,
  GPS_LBS_2: 0x22,
  HEARTBEAT_2: 0x23,
  ALARM_2: 0x26,
  WIFI_3: 0x2c,
  WIFI: 0x69,
  COMMAND: 0x80,
  TIME_REQUEST: 0x8a,
  INFO: 0x94,
} as const;

/** Named layouts by (protocol, LEN), §2.3-2.4; anything else decodes by the shared fallback. */
export const GT06_VARIANTS: Readonly<Record<string, string>> = {
  '12:1f': 'standard',
  '22:22': 'standard',
  '22:23': 'standard (2-byte MNC)',
  '10:17': 'standard',
  '16:25': 'standard',
  '26:25': 'standard',
  '16:26': 'SEEWORLD (4-byte cell id)',
  '16:24': 'VXT01 (no LBS length)',
  '13:0a': 'standard',
};
/** the same table keyed on a number (hot path: no string per frame) */
const VARIANT_BY_KEY = new Map(Object.entries(GT06_VARIANTS).map(([k, v]) => [parseInt(k.replace(':', ''), 16), v]));
export const variantOf = (proto: number, len: number): string => VARIANT_BY_KEY.get((proto << 8) | (len & 0xff)) ?? 'other';

export interface Gt06Gps {
  time: Date;
  satellites: number;
  lat: number;
  lon: number;
  /** km/h */
  speed: number;
  course: number;
  /** bit 12 of the course/status word */
  fixed: boolean;
  /** the course/status word */
  word: number;
}

export interface Gt06Cell {
  mcc: number;
  mnc: number;
  lac: number;
  cid: number;
}

/** Terminal info, voltage level, GSM level, alarm, language (§2.3). */
export interface Gt06Status {
  info: number;
  voltage: number;
  gsm: number;
  alarm?: number;
  language?: number;
}

export interface Gt06Packet {
  proto: number;
  len: number;
  long: boolean;
  /** the device's serial number; -1 for the LEN-0 Wi-Fi packets, which carry none */
  serial: number;
  /** false only for LEN-0 Wi-Fi packets, which carry no CRC (§2.1) */
  crcChecked: boolean;
  variant: string;
  imei?: string;
  typeId?: number;
  tzLang?: number;
  /** minutes east of UTC */
  timezoneMin?: number;
  gps?: Gt06Gps;
  cell?: Gt06Cell;
  status?: Gt06Status;
  /** 0x23: battery volts */
  volts?: number;
  acc?: boolean;
  uploadMode?: number;
  reupload?: boolean;
  /** 0x15/0x21 */
  serverFlag?: number;
  text?: string;
  /** 0x94 sub-type */
  infoType?: number;
  /** LEN-0 Wi-Fi: the packet's 6-byte BCD time, echoed in the reply */
  bcdTime?: Buffer;
}

export type Parsed = { ok: true; packet: Gt06Packet } | { ok: false; reason: string };

const bad = (reason: string): Parsed => ({ ok: false, reason });

/** 8 bytes BCD → IMEI digits; the leading 0 of a 15-digit IMEI is dropped (§2.3). */
function bcdImei(b: Buffer): string | undefined {
  const s = b.toString('hex');
  if (!/^\d{16}$/.test(s)) return undefined;
  return s[0] === '0' ? s.slice(1) : s;
}

/** GPS block, 18 bytes (§2.3). */
export function readGps(c: Buffer, o: number): Gt06Gps {
  const time = new Date(Date.UTC(2000 + c[o]!, c[o + 1]! - 1, c[o + 2]!, c[o + 3]!, c[o + 4]!, c[o + 5]!));
  const word = c.readUInt16BE(o + 16);
  const lat = c.readUInt32BE(o + 7) / 1_800_000;
  const lon = c.readUInt32BE(o + 11) / 1_800_000;
  return {
    time,
    satellites: c[o + 6]! & 0x0f,
    // bit 10 = north (0 = south), bit 11 = west (§2.3)
    lat: word & 0x0400 ? lat : -lat,
    lon: word & 0x0800 ? -lon : lon,
    speed: c[o + 15]!,
    course: word & 0x03ff,
    fixed: (word & 0x1000) !== 0,
    word,
  };
}

/** LBS block of 8 or 9 bytes: MNC takes 2 bytes when MCC bit 15 is set, else a 9th byte widens the cell id (SEEWORLD). */
function readCell(c: Buffer, o: number, size: number): Gt06Cell | undefined {
  if (size !== 8 && size !== 9) return undefined;
  const raw = c.readUInt16BE(o);
  const wideMnc = (raw & 0x8000) !== 0;
  if (size === 9 && wideMnc) return { mcc: raw & 0x7fff, mnc: c.readUInt16BE(o + 2), lac: c.readUInt16BE(o + 4), cid: c.readUIntBE(o + 6, 3) };
  if (size === 9) return { mcc: raw, mnc: c[o + 2]!, lac: c.readUInt16BE(o + 3), cid: c.readUInt32BE(o + 5) };
  return { mcc: raw & 0x7fff, mnc: c[o + 2]!, lac: c.readUInt16BE(o + 3), cid: c.readUIntBE(o + 5, 3) };
}

/** LBS between `from` and `to`; a first byte 0x08-0x0F cannot start an MCC (≤ 999), so it is the LBS-length byte. */
function readLbsRegion(c: Buffer, from: number, to: number): Gt06Cell | undefined {
  if (to - from >= 9 && c[from]! >= 0x08 && c[from]! <= 0x0f) from++;
  return readCell(c, from, to - from);
}

const readStatus = (c: Buffer, o: number, n: number): Gt06Status =>
  n >= 5 ? { info: c[o]!, voltage: c[o + 1]!, gsm: c[o + 2]!, alarm: c[o + 3]!, language: c[o + 4]! } : { info: c[o]!, voltage: c[o + 1]!, gsm: c[o + 2]! };

/** Checks framing, LEN and CRC, then reads the content of the protocol numbers §2.2 lists. */
export function parseGt06(frame: Buffer): Parsed {
  const n = frame.length;
  if (n < 5 || frame[n - 2] !== 0x0d || frame[n - 1] !== 0x0a) return bad('bad_frame');
  const long = frame[0] === 0x79 && frame[1] === 0x79;
  if (!long && !(frame[0] === 0x78 && frame[1] === 0x78)) return bad('bad_frame');
  const hdr = long ? 4 : 3;
  if (n < hdr + 3) return bad('bad_frame');
  const len = long ? frame.readUInt16BE(2) : frame[2]!;
  const proto = frame[hdr]!;
  if (len + hdr + 2 !== n) {
    // LEN lies (§2.1): only the LEN-0 Wi-Fi packets do so by design; they carry a BCD time and no serial or CRC
    if (len === 0 && (proto === GT06.WIFI || proto === GT06.WIFI_LBS) && n >= hdr + 1 + 6 + 2) {
      return { ok: true, packet: { proto, len, long, serial: -1, crcChecked: false, variant: 'Wi-Fi without CRC', bcdTime: Buffer.from(frame.subarray(hdr + 1, hdr + 7)) } };
    }
    return bad('bad_length');
  }
  if (len < 5) return bad('bad_length');
  if (crcX25(frame, 2, n - 4) !== frame.readUInt16BE(n - 4)) return bad('bad_crc');
  const p: Gt06Packet = { proto, len, long, serial: frame.readUInt16BE(n - 6), crcChecked: true, variant: variantOf(proto, len) };
  const c = frame.subarray(hdr + 1, n - 6);
  const short = () => bad('short_content');
  switch (proto) {
    case GT06.LOGIN: {
      if (c.length < 8) return short();
      const imei = bcdImei(c.subarray(0, 8));
      if (!imei) return bad('bad_imei');
      p.imei = imei;
      if (c.length >= 12) {
        p.typeId = c.readUInt16BE(8);
        const tz = (p.tzLang = c.readUInt16BE(10));
        // bits 15..4 = zone × 100 (hhmm), bit 3 = west, low bits = language (§2.3)
        const v = tz >> 4;
        p.timezoneMin = (tz & 0x08 ? -1 : 1) * (Math.floor(v / 100) * 60 + (v % 100));
      }
      return { ok: true, packet: p };
    }
    case GT06.STATUS:
      if (c.length < 3) return short();
      p.status = readStatus(c, 0, c.length);
      return { ok: true, packet: p };
    case GT06.HEARTBEAT_2:
      // terminal info 1 | battery voltage 2 (/100 V) | GSM 1 | alarm 1 | language 1 (§2.2)
      if (c.length < 4) return short();
      p.volts = c.readUInt16BE(1) / 100;
      p.status = { info: c[0]!, voltage: -1, gsm: c[3]!, ...(c.length >= 6 ? { alarm: c[4]!, language: c[5]! } : {}) };
      return { ok: true, packet: p };
    case GT06.GPS:
    case GT06.GPS_LBS:
    case GT06.GPS_LBS_2: {
      if (c.length < 18) return short();
      p.gps = readGps(c, 0);
      if (proto === GT06.GPS || p.variant === 'other') return { ok: true, packet: p };
      const tail = proto === GT06.GPS_LBS_2 ? 3 : 0;
      p.cell = readCell(c, 18, c.length - 18 - tail);
      if (tail) {
        // 0x22 tail: ACC, upload mode, re-upload flag (§2.3)
        p.acc = c[c.length - 3] === 1;
        p.uploadMode = c[c.length - 2]!;
        p.reupload = c[c.length - 1] === 1;
      } else {
        // GT06 classic: bits 14/15 are ACC-valid / ACC-on on some models
        if (p.gps.word & 0x4000) p.acc = (p.gps.word & 0x8000) !== 0;
      }
      return { ok: true, packet: p };
    }
    case GT06.ALARM:
    case GT06.ALARM_2: {
      // GPS 18 | [LBS length] LBS | status 5; the status is always last (§2.3-2.4)
      if (c.length < 18 + 5) return short();
      p.gps = readGps(c, 0);
      p.status = readStatus(c, c.length - 5, 5);
      const to = c.length - 5;
      p.cell = p.variant.startsWith('VXT01') ? readCell(c, 18, to - 18) : readLbsRegion(c, 18, to);
      return { ok: true, packet: p };
    }
    case GT06.LBS_STATUS:
      if (c.length < 5) return short();
      p.status = readStatus(c, c.length - 5, 5);
      p.cell = readLbsRegion(c, 0, c.length - 5);
      return { ok: true, packet: p };
    case GT06.COMMAND_RESPONSE: {
      // CMDLEN 1 (= 4 + text) | server flag 4 | ASCII text | [language 2] (§2.6)
      if (c.length < 5) return short();
      const textLen = Math.min(Math.max(c[0]! - 4, 0), c.length - 5);
      p.serverFlag = c.readUInt32BE(1);
      p.text = c.toString('latin1', 5, 5 + textLen);
      return { ok: true, packet: p };
    }
    case GT06.COMMAND_RESPONSE_LONG:
      // server flag 4 | encoding 1 | text (7979 form, §2.2); the text is read as ASCII, other encodings are not in §2
      if (c.length < 5) return short();
      p.serverFlag = c.readUInt32BE(0);
      p.text = c.toString('latin1', 5);
      return { ok: true, packet: p };
    case GT06.INFO:
      if (c.length < 1) return short();
      p.infoType = c[0]!;
      return { ok: true, packet: p };
    case GT06.TIME_REQUEST:
      return { ok: true, packet: p };
    default:
      return { ok: true, packet: p };
  }
}
