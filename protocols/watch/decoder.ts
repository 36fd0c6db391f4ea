/**
 * Watch frame → DeviceMessage + the reply the device expects (protocols.md §1.2–1.4).
 * Pure; never throws on device input (a last-resort catch turns a bug into `internal_error`).
 */
import type { AlarmKind, Cell, DecodeContext, DecodeOutcome, DeviceMessage, Health, Position, Wifi } from '../message.js';
import { type WatchHeader, writeWatchFrame } from './encoder.js';

export type { WatchHeader } from './encoder.js';

/**
 * `[MF*ID*LEN*` or, in the ZJ dialect, `[MF*ID*INDEX*LEN*` (Traccar: the dialect is recognised by a second
 * 4-hex token followed by `*`). LEN is read but never trusted (§1.1: real frames carry wrong LEN values).
 */
const HEADER_RE = /^\[([0-9A-Za-z]{2})\*([0-9]{1,32})\*(?:([0-9A-Fa-f]{4})\*)?([0-9A-Fa-f]{4})\*/;

interface SplitFrame {
  header: WatchHeader;
  content: Buffer;
}

function splitFrame(frame: Buffer): SplitFrame | null {
  if (frame.length < 2 || frame[0] !== 0x5b || frame[frame.length - 1] !== 0x5d) return null;
  const m = HEADER_RE.exec(frame.toString('latin1', 0, Math.min(frame.length, 64)));
  if (!m) return null;
  const header: WatchHeader = { manufacturer: m[1]!, deviceId: m[2]! };
  if (m[3] !== undefined) header.index = m[3];
  return { header, content: frame.subarray(m[0].length, frame.length - 1) };
}

/** The addressing of a frame (for replies and for commands sent to this device later), or null if malformed. */
export function parseWatchHeader(frame: Buffer): WatchHeader | null {
  try {
    return splitFrame(frame)?.header ?? null;
  } catch {
    return null;
  }
}

// ---- message types (matched on the upper-cased type; devices mix cases: `heart`, `bphrt`, `TEMP`) ----

const POSITION_TYPES = new Set(['UD', 'UD2', 'UD3', 'UD_LTE', 'UD_WCDMA', 'WT']);
/** Reply content for the status and health types that expect one (§1.2); LK and AL* are handled apart. */
const REPLIES: Record<string, string> = {
  TKQ: 'TKQ',
  TKQ2: 'TKQ2',
  INIT: 'INIT,1',
  CONFIG: 'CONFIG,1', // vendor: the reply stops CONFIG repeats
  BPHRT: 'bphrt',
  BTEMP2: 'btemp2',
};
/** Keywords of server commands the watch echoes back as an acknowledgement (§1.5). */
const ECHO_TYPES = new Set([
  'CR', 'UPLOAD', 'SOS', 'SOS1', 'SOS2', 'SOS3', 'CENTER', 'FIND', 'POWEROFF', 'RESET', 'FACTORY', 'LZ',
  'FALLDOWN', 'LSSET', 'HRTSTART', 'MESSAGE', 'PHB', 'PHB2', 'APPLOCK', 'REMOVE', 'REMOVESMS', 'SOSSMS',
  'LOWBAT', 'CALL', 'MONITOR', 'PW', 'IP', 'VERNO', 'TS', 'HEALTHAUTOSET', 'BODYTEMP', 'BODYTEMP2', 'REMIND',
  'SILENCETIME', 'SILENCETIME2', 'TAKEPILLS', 'WALKTIME', 'SLEEPTIME', 'PROFILE', 'WHITELIST1', 'WHITELIST2',
  'FLOWER', 'APN', 'WORK', 'ACALL', 'DEVREFUSEPHONESWITCH', 'WIFISEARCH', 'WIFISET', 'WIFIDEL', 'WIFICUR',
]);

// ---- small parsers: each returns undefined for an empty field and null for garbage ----

const DEC_RE = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/;
const INT_RE = /^[+-]?[0-9]{1,15}$/;

function num(s: string | undefined): number | undefined | null {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '') return undefined;
  return DEC_RE.test(t) ? Number(t) : null;
}

function int(s: string | undefined): number | undefined | null {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '') return undefined;
  return INT_RE.test(t) ? Number(t) : null;
}

/** LAC/CID: decimal, or hex when the field contains a hex letter (`55C0`, `3B882A2`; §1.3 field 17). */
function decOrHex(s: string | undefined): number | null {
  const t = (s ?? '').trim();
  if (/^[0-9]{1,15}$/.test(t)) return Number(t);
  if (/^[0-9A-Fa-f]{1,12}$/.test(t)) return parseInt(t, 16);
  return null;
}

/** DDMMYY + HHMMSS, UTC (§1.3 fields 1-2). Undefined when not a real date (the message is still useful). */
function parseTime(date: string | undefined, time: string | undefined): Date | undefined {
  const d = /^([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(date ?? '');
  const t = /^([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(time ?? '');
  if (!d || !t) return undefined;
  const [day, month, year] = [Number(d[1]), Number(d[2]), 2000 + Number(d[3])];
  const [h, mi, s] = [Number(t[1]), Number(t[2]), Number(t[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, h, mi, s);
  return new Date(ms).getUTCDate() === day ? new Date(ms) : undefined;
}

/** Traccar's hemisphere rule (§1.3): S/W force negative, otherwise keep the number's own sign (empty allowed). */
function coord(value: string | undefined, hemi: string | undefined, negative: string, positive: string, max: number): number | null {
  const v = num(value);
  if (v === undefined || v === null || Math.abs(v) > max) return null;
  const h = (hemi ?? '').trim().toUpperCase();
  if (h === negative) return -Math.abs(v);
  if (h === positive || h === '') return v;
  return null;
}

// ---- status word (§1.4): decode every bit on its own ----

const EVENT_BITS: ReadonlyArray<[number, AlarmKind]> = [
  [16, 'sos'],
  [17, 'low_battery'],
  [20, 'removed'],
  [21, 'fall'],
  [22, 'vitals_abnormal'], // vendor: abnormal heart rate (Traccar maps it to fallDown, contradicting the vendor)
];

interface StatusDecode {
  states: Record<string, boolean>;
  alarms: AlarmKind[];
}

function decodeStatus(word: number): StatusDecode {
  const bit = (n: number): boolean => (word & (1 << n)) !== 0;
  const states: Record<string, boolean> = {
    lowBattery: bit(0),
    outOfFence: bit(1),
    inFence: bit(2),
    worn: bit(3), // vendor: "watch state"; meaning uncertain [?]
    static: bit(4), // vendor: "device no-moving state" (Traccar reads it as motion, contradicting the vendor)
    powerCut: bit(14),
    // Fence events are the device's own geofence; Anxin evaluates geofences itself, so no alarm is raised.
    deviceFenceExit: bit(18),
    deviceFenceEnter: bit(19),
  };
  const alarms = EVENT_BITS.filter(([n]) => bit(n)).map(([, kind]) => kind);
  return { states, alarms };
}

function parseStatusWord(s: string | undefined): number | null {
  const t = (s ?? '').trim();
  return /^[0-9A-Fa-f]{1,8}$/.test(t) ? parseInt(t, 16) : null;
}

// ---- UD / AL body (§1.3) ----

interface Report {
  deviceTime?: Date;
  position: Position;
  battery?: number;
  signal?: number;
  steps?: number;
  tumbles?: number;
  status: number;
  cells: Cell[];
  wifis: Wifi[];
}

type Fail = { ok: false; reason: string };

function parseReport(v: string[]): ({ ok: true } & Report) | Fail {
  if (v.length < 16) return { ok: false, reason: 'bad_position' };
  const lat = coord(v[3], v[4], 'S', 'N', 90);
  const lon = coord(v[5], v[6], 'W', 'E', 180);
  if (lat === null || lon === null) return { ok: false, reason: 'bad_position' };
  const speed = num(v[7]);
  const course = num(v[8]);
  const altitude = num(v[9]);
  const sats = int(v[10]);
  const gsm = int(v[11]);
  const battery = int(v[12]);
  const steps = int(v[13]);
  const tumbles = int(v[14]);
  if ([speed, course, altitude, sats, gsm, battery, steps, tumbles].includes(null)) return { ok: false, reason: 'bad_number' };
  const status = parseStatusWord(v[15]);
  if (status === null) return { ok: false, reason: 'bad_status' };

  const { cells, wifis, accuracy } = parseTail(v, 16);
  const valid = (v[2] ?? '').trim().toUpperCase() === 'A';
  const position: Position = { lat, lon, valid, source: valid ? 'gps' : wifis.length > 0 ? 'wifi' : 'lbs' };
  if (typeof speed === 'number') position.speed = speed; // km/h as the device gives it
  if (typeof course === 'number') position.course = course;
  if (typeof altitude === 'number') position.altitude = altitude;
  if (typeof sats === 'number') position.satellites = sats;
  if (accuracy !== undefined) position.accuracy = accuracy;

  const r: { ok: true } & Report = { ok: true, position, status, cells, wifis };
  const t = parseTime(v[0], v[1]);
  if (t) r.deviceTime = t;
  if (typeof battery === 'number' && battery >= 0 && battery <= 100) r.battery = battery;
  if (typeof gsm === 'number' && gsm >= 0 && gsm <= 100) r.signal = gsm;
  if (typeof steps === 'number' && steps >= 0) r.steps = steps;
  if (typeof tumbles === 'number' && tumbles >= 0) r.tumbles = tumbles;
  return r;
}

/**
 * Cell count, TA, MCC, MNC, then LAC/CID/RSSI per cell (TA/MCC/MNC only when count > 0); Wi-Fi count (may be
 * empty), then name/MAC/RSSI per AP; the last field, when present, is the accuracy in metres. Lenient: a
 * broken tail keeps what parsed so far, because the position and the alarm bits before it matter more.
 */
function parseTail(v: string[], from: number): { cells: Cell[]; wifis: Wifi[]; accuracy?: number } {
  const cells: Cell[] = [];
  const wifis: Wifi[] = [];
  let i = from;
  const cellCount = int(v[i++]);
  if (typeof cellCount !== 'number') return { cells, wifis };
  if (cellCount > 0) {
    i++; // timing advance ("connect base station number")
    const mcc = int(v[i++]);
    const mnc = int(v[i++]);
    if (typeof mcc !== 'number' || typeof mnc !== 'number') return { cells, wifis };
    for (let k = 0; k < cellCount; k++) {
      if (i + 3 > v.length) return { cells, wifis };
      const lac = decOrHex(v[i++]);
      const cid = decOrHex(v[i++]);
      const rssi = int(v[i++]);
      if (lac === null || cid === null || rssi === null) return { cells, wifis };
      const cell: Cell = { mcc, mnc, lac, cid };
      if (rssi !== undefined) cell.rssi = rssi;
      cells.push(cell);
    }
  }
  if (i >= v.length) return { cells, wifis };
  const wifiCount = int(v[i++]) ?? 0;
  if (wifiCount === null) return { cells, wifis };
  for (let k = 0; k < wifiCount; k++) {
    if (i + 3 > v.length) return { cells, wifis };
    const ssid = v[i++]!;
    const mac = v[i++]!.trim();
    const rssi = int(v[i++]);
    if (rssi === null) return { cells, wifis };
    const wifi: Wifi = { ssid, mac };
    if (rssi !== undefined) wifi.rssi = rssi;
    wifis.push(wifi);
  }
  if (i >= v.length) return { cells, wifis };
  const acc = num(v[v.length - 1]);
  // 0 means "no estimate" on these watches (W9 sends `...,0`), not a perfect fix.
  return typeof acc === 'number' && acc > 0 ? { cells, wifis, accuracy: acc } : { cells, wifis };
}

// ---- health (§1.2): 0 or 1 from the device means "no reading" (vendor: heart,0; btemp2 0/1 = measure error) ----

const RANGES: Record<keyof Omit<Health, 'steps' | 'tumbles'>, [number, number]> = {
  heartRate: [20, 300],
  spo2: [50, 100],
  systolic: [40, 300],
  diastolic: [20, 200],
  temperature: [25, 45],
};

function health(values: Partial<Record<keyof typeof RANGES, string | undefined>>): Health | Fail {
  const h: Health = {};
  for (const key of Object.keys(values) as (keyof typeof RANGES)[]) {
    const n = num(values[key]);
    if (n === null) return { ok: false, reason: 'bad_number' };
    const [min, max] = RANGES[key];
    if (n !== undefined && n >= min && n <= max) h[key] = n;
  }
  return h;
}

function parseHealth(type: string, v: string[]): Health | Fail | null {
  switch (type) {
    case 'HEART':
    case 'PULSE':
      return health({ heartRate: v[0] });
    case 'BPHRT': // systolic, diastolic, heart rate, height, gender, age, weight
      return health({ systolic: v[0], diastolic: v[1], heartRate: v[2] });
    case 'BLOOD':
      return health({ systolic: v[0], diastolic: v[1] });
    case 'OXYGEN': // type (0 = manual), SpO2
      return health({ spo2: v.length >= 2 ? v[1] : v[0] });
    case 'BTEMP2': // mode (0 forehead, 1 wrist), temperature
      return health({ temperature: v[1] });
    case 'TEMP':
      return health({ temperature: v[0] });
    default:
      return null;
  }
}

// ---- raw text for the audit trail ----

function rawOf(frame: Buffer): string {
  const s = frame.toString('utf8');
  return Buffer.byteLength(s, 'utf8') === frame.length && !/[\x00-\x1f\x7f\ufffd]/.test(s) ? s : frame.toString('hex');
}

// ---- the decoder ----

export function decodeWatch(frame: Buffer, ctx: DecodeContext): DecodeOutcome {
  try {
    return decode(frame, ctx);
  } catch {
    return { ok: false, reason: 'internal_error' };
  }
}

function decode(frame: Buffer, ctx: DecodeContext): DecodeOutcome {
  const split = splitFrame(frame);
  if (!split) return { ok: false, reason: 'bad_header' };
  const { header, content } = split;
  const fields = content.toString('utf8').split(',');
  const type = fields[0]!.trim();
  const values = fields.slice(1);
  if (type === '') return { ok: false, reason: 'bad_type' };
  const upper = type.toUpperCase();

  const msg: DeviceMessage = { deviceId: header.deviceId, protocol: 'watch', kind: 'status', receivedAt: ctx.receivedAt, raw: rawOf(frame) };
  const reply = (text: string): Buffer => writeWatchFrame(header, text);

  if (upper === 'LK') {
    msg.kind = 'heartbeat';
    // LK,steps,tumbles,battery. With only 2 values (W3) the meaning is unclear, so Traccar and we ignore them.
    // Bad values are ignored too: LK must always be answered, or the watch reboots (§1.2).
    if (values.length >= 3) {
      const [steps, tumbles, battery] = [int(values[0]), int(values[1]), int(values[2])];
      const h: Health = {};
      if (typeof steps === 'number' && steps >= 0) h.steps = steps;
      if (typeof tumbles === 'number' && tumbles >= 0) h.tumbles = tumbles;
      if (Object.keys(h).length > 0) msg.health = h;
      if (typeof battery === 'number' && battery >= 0 && battery <= 100) msg.battery = battery;
    }
    return { ok: true, messages: [msg], reply: reply('LK') };
  }

  const isAlarm = upper.startsWith('AL');
  if (isAlarm || POSITION_TYPES.has(upper)) {
    const r = parseReport(values);
    if (!r.ok && !isAlarm) return r;
    msg.kind = isAlarm ? 'alarm' : 'position';
    let status: number | null = null;
    if (r.ok) {
      msg.position = r.position;
      if (r.deviceTime) msg.deviceTime = r.deviceTime;
      if (r.battery !== undefined) msg.battery = r.battery;
      if (r.signal !== undefined) msg.signal = r.signal;
      const h: Health = {};
      if (r.steps !== undefined) h.steps = r.steps;
      if (r.tumbles !== undefined) h.tumbles = r.tumbles;
      if (Object.keys(h).length > 0) msg.health = h;
      if (r.cells.length > 0) msg.cells = r.cells;
      if (r.wifis.length > 0) msg.wifis = r.wifis;
      status = r.status;
    } else {
      // A malformed alarm frame still raises an alarm and is still acknowledged: losing an elder's SOS to a
      // parse error is worse than a vague alarm. Keep whatever status word can be read.
      status = parseStatusWord(values[15]);
      const t = parseTime(values[0], values[1]);
      if (t) msg.deviceTime = t;
    }
    const decoded = status === null ? { states: {} as Record<string, boolean>, alarms: [] as AlarmKind[] } : decodeStatus(status);
    msg.states = decoded.states;
    let alarms = decoded.alarms;
    // "No event bit" means bits 16-22 all clear: a frame sent for the device's own fence bits (18/19) is not
    // an unspecified alarm, Anxin simply does not raise it.
    const eventBits = status === null ? 0 : (status >>> 16) & 0x7f;
    if (isAlarm && eventBits === 0) {
      if (decoded.states.lowBattery) {
        alarms = ['low_battery'];
      } else {
        alarms = ['sos']; // an unspecified alarm from an elder's watch must be looked at
        msg.states.unspecifiedAlarm = true;
      }
    }
    if (alarms.length > 0) msg.alarms = alarms;
    // AL_LTE, ALCUSTOMER1 ... are all answered `AL` (§1.2)
    return isAlarm ? { ok: true, messages: [msg], reply: reply('AL') } : { ok: true, messages: [msg] };
  }

  const h = parseHealth(upper, values);
  if (h !== null) {
    if ('ok' in h) return h;
    msg.kind = 'health';
    msg.health = h;
  }

  const answer = REPLIES[upper];
  if (answer !== undefined) return { ok: true, messages: [msg], reply: reply(answer) };
  if (h !== null) return { ok: true, messages: [msg] };

  if (ECHO_TYPES.has(upper)) {
    msg.commandEcho = { keyword: type, args: values };
    return { ok: true, messages: [msg] };
  }

  // Unknown (TK voice, img, PP ...): kept raw, no reply.
  return { ok: true, messages: [msg] };
}
