/**
 * Watch frame → DeviceMessage + the reply the device expects (protocols.md §1.2–1.4).
 * Pure; never throws on device input (a last-resort catch turns a bug into `internal_error`).
 *
 * Hot path (well under a microsecond for most frames): the header is read from the bytes (header.ts), the
 * CONTENT fields one by one straight from the bytes (fields.ts, report.ts; the original string rules in rules.ts
 * take over for anything unusual), and replies are written from the frame's own header bytes
 * (writeWatchReply). No closures or intermediate arrays are created per frame.
 */
import { Buffer, isAscii } from 'node:buffer';
import type { AlarmKind, DecodeContext, DecodeOutcome, DeviceMessage, Health } from '../message.js';
import { type WatchHeader, writeWatchReply } from './encoder.js';
import { type FieldReader, codeUnits, fields } from './fields.js';
import { head, headerOf } from './header.js';
import { readReport } from './report.js';
import { ALARM_STATUS_BITS, EVENT_BITS, RESTORE_STATUS_BITS, STATE_BITS } from './status-bits.js';

export type { WatchHeader } from './encoder.js';

/** The addressing of a frame (for replies and for commands sent to this device later), or null if malformed. */
export function parseWatchHeader(frame: Buffer): WatchHeader | null {
  try {
    return head.read(frame) ? headerOf(frame, head) : null;
  } catch {
    return null;
  }
}

// ---- message types (matched on the upper-cased type; devices mix cases: `heart`, `bphrt`, `TEMP`) ----

const POSITION_TYPES = new Set(['UD', 'UD2', 'UD3', 'UD_LTE', 'UD_WCDMA', 'WT']);
const reply = (s: string): Buffer => Buffer.from(s, 'latin1');
const LK_REPLY = reply('LK');
const AL_REPLY = reply('AL');
/** Reply content for the status and health types that expect one (§1.2); LK and AL* are handled apart. */
const REPLIES = new Map<string, Buffer>([
  ['TKQ', reply('TKQ')],
  ['TKQ2', reply('TKQ2')],
  ['INIT', reply('INIT,1')],
  ['CONFIG', reply('CONFIG,1')], // vendor: the reply stops CONFIG repeats
  ['BPHRT', reply('bphrt')],
  ['BTEMP2', reply('btemp2')],
]);
/** Keywords of server commands the watch echoes back as an acknowledgement (§1.5). */
const ECHO_TYPES = new Set([
  'CR', 'UPLOAD', 'SOS', 'SOS1', 'SOS2', 'SOS3', 'CENTER', 'FIND', 'POWEROFF', 'RESET', 'FACTORY', 'LZ',
  'FALLDOWN', 'LSSET', 'HRTSTART', 'MESSAGE', 'PHB', 'PHB2', 'APPLOCK', 'REMOVE', 'REMOVESMS', 'SOSSMS',
  'LOWBAT', 'CALL', 'MONITOR', 'PW', 'IP', 'VERNO', 'TS', 'HEALTHAUTOSET', 'BODYTEMP', 'BODYTEMP2', 'REMIND',
  'SILENCETIME', 'SILENCETIME2', 'TAKEPILLS', 'WALKTIME', 'SLEEPTIME', 'PROFILE', 'WHITELIST1', 'WHITELIST2',
  'FLOWER', 'APN', 'WORK', 'ACALL', 'DEVREFUSEPHONESWITCH', 'WIFISEARCH', 'WIFISET', 'WIFIDEL', 'WIFICUR',
]);

// ---- status word (§1.4): decode every bit on its own (the tables are in status-bits.ts) ----

function bitSet(word: number, bit: number): boolean {
  return (word & (1 << bit)) !== 0;
}

/**
 * One flag per STATE_BITS entry, in the table's order. A literal, because filling an object key by key from the
 * table was the costliest step of a position report (issue 25); `satisfies` makes a missing or extra key a type
 * error, and the watch unit tests check the order.
 */
function states(word: number): Record<string, boolean> {
  return {
    lowBattery: bitSet(word, STATE_BITS.lowBattery),
    outOfFence: bitSet(word, STATE_BITS.outOfFence),
    inFence: bitSet(word, STATE_BITS.inFence),
    worn: bitSet(word, STATE_BITS.worn),
    static: bitSet(word, STATE_BITS.static),
    powerCut: bitSet(word, STATE_BITS.powerCut),
    deviceFenceExit: bitSet(word, STATE_BITS.deviceFenceExit),
    deviceFenceEnter: bitSet(word, STATE_BITS.deviceFenceEnter),
  } satisfies Record<keyof typeof STATE_BITS, boolean>;
}

const ALARM_MASKS = ALARM_STATUS_BITS.map(([bit, alarm]) => [1 << bit, alarm] as const);
/** Status bits that raise an alarm (ALARM_STATUS_BITS). */
const ALARM_BITS = ALARM_MASKS.reduce((m, [mask]) => m | mask, 0);
const RESTORE_MASKS = RESTORE_STATUS_BITS.map(([bit, alarm]) => [1 << bit, alarm] as const);
/** The event bits, shifted down: all clear means "no event bit". */
const EVENT_MASK = (1 << (EVENT_BITS.last - EVENT_BITS.first + 1)) - 1;

/** The alarms ended by the restore bits, except those raised by the same frame; undefined when none. */
function restoresOf(word: number, raised: AlarmKind[] | undefined): AlarmKind[] | undefined {
  let restores: AlarmKind[] | undefined;
  for (const [mask, alarm] of RESTORE_MASKS) {
    if ((word & mask) !== 0 && !raised?.includes(alarm)) (restores ??= []).push(alarm);
  }
  return restores;
}

/** The alarms of the event bits, each on its own, in bit order. */
function eventAlarms(word: number): AlarmKind[] {
  const alarms: AlarmKind[] = [];
  for (const [mask, alarm] of ALARM_MASKS) if ((word & mask) !== 0) alarms.push(alarm);
  return alarms;
}

// ---- health (§1.2): 0 or 1 from the device means "no reading" (vendor: heart,0; btemp2 0/1 = measure error) ----

/** Plausible ranges: a reading outside one is dropped (the frame still counts). */
const HEART_RATE = [20, 300] as const;
const SPO2 = [50, 100] as const;
const SYSTOLIC = [40, 300] as const;
const DIASTOLIC = [20, 200] as const;
const TEMPERATURE = [25, 45] as const;

function within(n: number | undefined, range: readonly [number, number]): n is number {
  return n !== undefined && n >= range[0] && n <= range[1];
}

/**
 * Readings of a health type (upper-cased), null when the type is not one, 'bad_number' when a reading field
 * is garbage. Each field is read in order; the properties are set in the order of the vendor's fields.
 */
function readHealth(type: string, f: FieldReader): Health | 'bad_number' | null {
  switch (type) {
    case 'HEART':
    case 'PULSE': {
      const heartRate = f.num();
      if (heartRate === null) return 'bad_number';
      return within(heartRate, HEART_RATE) ? { heartRate } : {};
    }
    case 'BPHRT': {
      // systolic, diastolic, heart rate, height, gender, age, weight
      const systolic = f.num();
      const diastolic = f.num();
      const heartRate = f.num();
      if (systolic === null || diastolic === null || heartRate === null) return 'bad_number';
      const h: Health = {};
      if (within(systolic, SYSTOLIC)) h.systolic = systolic;
      if (within(diastolic, DIASTOLIC)) h.diastolic = diastolic;
      if (within(heartRate, HEART_RATE)) h.heartRate = heartRate;
      return h;
    }
    case 'BLOOD': {
      const systolic = f.num();
      const diastolic = f.num();
      if (systolic === null || diastolic === null) return 'bad_number';
      const h: Health = {};
      if (within(systolic, SYSTOLIC)) h.systolic = systolic;
      if (within(diastolic, DIASTOLIC)) h.diastolic = diastolic;
      return h;
    }
    case 'OXYGEN': {
      // type (0 = manual), SpO2; a lone value is the SpO2
      const first = f.num();
      const spo2 = f.has() ? f.num() : first;
      if (spo2 === null) return 'bad_number';
      return within(spo2, SPO2) ? { spo2 } : {};
    }
    case 'BTEMP2': // mode (0 forehead, 1 wrist), temperature
    case 'TEMP': {
      if (type === 'BTEMP2') f.skip();
      const temperature = f.num();
      if (temperature === null) return 'bad_number';
      return within(temperature, TEMPERATURE) ? { temperature } : {};
    }
    default:
      return null;
  }
}

// ---- raw text for the audit trail ----

const UNCLEAN = /[\x00-\x1f\x7f\ufffd]/;

/** The frame as text when it is clean UTF-8 without control characters, else hex; `s` is the frame as UTF-8. */
function rawOf(frame: Buffer, s: string): string {
  return Buffer.byteLength(s, 'utf8') === frame.length && !UNCLEAN.test(s) ? s : frame.toString('hex');
}

// ---- the decoder ----

type Latin1Slicing = Buffer & { latin1Slice?(start: number, end: number): string };

/**
 * The frame as latin1 text, by Buffer#latin1Slice, where Buffer#toString('latin1') ends up anyway: called straight it
 * skips the encoding lookup, and toString, shared by all of Node, stays generic when inlined here (about 5 % of
 * decoding a frame, issue 25). latin1Slice is undocumented (nodejs/node#46467), so toString is the fallback.
 */
const latin1Of: (frame: Buffer) => string =
  typeof (Buffer.prototype as Latin1Slicing).latin1Slice === 'function'
    ? (frame) => (frame as Required<Latin1Slicing>).latin1Slice(0, frame.length)
    : (frame) => frame.toString('latin1');

export function decodeWatch(frame: Buffer, ctx: DecodeContext): DecodeOutcome {
  try {
    if (!head.read(frame)) return { ok: false, reason: 'bad_header' };
    // Nearly every frame is printable ASCII: then latin1 = UTF-8 = the raw text, and the fields are read from the
    // frame's own bytes. That is tried first; the header bytes were checked by head.read and the content is
    // checked as it is read (fields.isClean), so a frame that turns out otherwise is decoded again as before.
    const latin1 = latin1Of(frame);
    const deviceId = latin1.slice(4, head.idEnd);
    fields.load(frame, latin1, head.contentStart, frame.length - 1);
    const out = decode(frame, ctx, deviceId, latin1);
    if (fields.isClean()) return out;
    if (isAscii(frame)) {
      // control characters: the same reading, but raw is hex (as rawOf would say)
      if (out.ok) out.messages[0]!.raw = frame.toString('hex');
      return out;
    }
    // binary (TK voice) or UTF-8 text (a Chinese SSID): the content is read as UTF-8. The header and the
    // closing `]` are ASCII, so they decode one character per byte around the content.
    const utf8 = frame.toString('utf8');
    const content = utf8.slice(head.contentStart, utf8.length - 1);
    fields.load(codeUnits(content), content, 0, content.length);
    return decode(frame, ctx, deviceId, rawOf(frame, utf8));
  } catch {
    return { ok: false, reason: 'internal_error' };
  }
}

function decode(frame: Buffer, ctx: DecodeContext, deviceId: string, raw: string): DecodeOutcome {
  const f = fields;
  if (f.typeIs('')) return { ok: false, reason: 'bad_type' }; // TYPE empty once trimmed
  // the common types are recognised without building a string
  const upper = f.typeIs('LK') ? 'LK' : f.typeIs('UD') ? 'UD' : f.typeIs('BPHRT') ? 'BPHRT' : f.type().toUpperCase();

  const msg: DeviceMessage = { deviceId, protocol: 'watch', kind: 'status', receivedAt: ctx.receivedAt, raw };

  if (upper === 'LK') {
    msg.kind = 'heartbeat';
    // LK,steps,tumbles,battery. With only 2 values (W3) the meaning is unclear, so Traccar and we ignore them.
    // Bad values are ignored too: LK must always be answered, or the watch reboots (§1.2).
    const steps = f.int();
    const tumbles = f.int();
    if (f.has()) {
      const battery = f.int();
      const hasSteps = typeof steps === 'number' && steps >= 0;
      const hasTumbles = typeof tumbles === 'number' && tumbles >= 0;
      if (hasSteps && hasTumbles) msg.health = { steps, tumbles };
      else if (hasSteps) msg.health = { steps };
      else if (hasTumbles) msg.health = { tumbles };
      if (typeof battery === 'number' && battery >= 0 && battery <= 100) msg.battery = battery;
    }
    return { ok: true, messages: [msg], reply: writeWatchReply(frame, head.lenAt, LK_REPLY) };
  }

  const isAlarm = upper.startsWith('AL');
  if (isAlarm || upper === 'UD' || POSITION_TYPES.has(upper)) {
    const r = readReport(f, msg);
    if (typeof r === 'string' && !isAlarm) return { ok: false, reason: r };
    msg.kind = isAlarm ? 'alarm' : 'position';
    let status: number | null;
    if (typeof r === 'number') {
      status = r;
    } else {
      // A malformed alarm frame still raises an alarm and is still acknowledged: losing an elder's SOS to a
      // parse error is worse than a vague alarm. Keep whatever status word can be read.
      f.rewind();
      const t = f.time(); // 1-2
      for (let j = 3; j <= 15; j++) f.skip();
      status = f.statusWord(); // 16
      if (t) msg.deviceTime = t;
    }
    const st = status === null ? {} : states(status);
    msg.states = st;
    // "No event bit" means bits 16-22 all clear. A frame for the device's own fence entry (19) alone is not an
    // unspecified alarm: it ends the fence exit (restores), nothing is raised.
    const eventBits = status === null ? 0 : (status >>> EVENT_BITS.first) & EVENT_MASK;
    if (isAlarm && eventBits === 0) {
      if (st.lowBattery) {
        msg.alarms = ['low_battery'];
      } else {
        msg.alarms = ['sos']; // an unspecified alarm from an elder's watch must be looked at
        st.unspecifiedAlarm = true;
      }
    } else if (status !== null && (status & ALARM_BITS) !== 0) {
      msg.alarms = eventAlarms(status);
    }
    if (status !== null) {
      const restores = restoresOf(status, msg.alarms);
      if (restores !== undefined) msg.restores = restores;
    }
    // AL_LTE, ALCUSTOMER1 ... are all answered `AL` (§1.2)
    return isAlarm ? { ok: true, messages: [msg], reply: writeWatchReply(frame, head.lenAt, AL_REPLY) } : { ok: true, messages: [msg] };
  }

  const h = readHealth(upper, f);
  if (h === 'bad_number') return { ok: false, reason: h };
  if (h !== null) {
    msg.kind = 'health';
    msg.health = h;
  }

  const answer = REPLIES.get(upper);
  if (answer !== undefined) return { ok: true, messages: [msg], reply: writeWatchReply(frame, head.lenAt, answer) };
  if (h !== null) return { ok: true, messages: [msg] };

  if (ECHO_TYPES.has(upper)) {
    f.rewind();
    msg.commandEcho = { keyword: f.type(), args: f.rest() };
    return { ok: true, messages: [msg] };
  }

  // Unknown (TK voice, img, PP ...): kept raw, no reply.
  return { ok: true, messages: [msg] };
}
