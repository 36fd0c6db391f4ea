/**
 * Server → watch commands (protocols.md §1.5) and the frame writer shared with the decoder's replies.
 *
 * The encoder is called by our own API, not by devices, so bad arguments throw a typed WatchCommandError
 * (the decoder, which faces devices, never throws).
 */
import { Buffer } from 'node:buffer'; // not the global: see frame.ts (writeWatchReply runs for most frames)
import { CommandError } from '../message.js';

/** Who a frame is addressed to: what the device used in its own frames (parseWatchHeader gives it). */
export interface WatchHeader {
  /** 2 characters, echoed exactly as the device sent them (`3G`, `SG`, `CS`, `ZJ`, `3g` ...) */
  manufacturer: string;
  deviceId: string;
  /** ZJ dialect only: the 4-hex sequence index of `[ZJ*id*INDEX*LEN*CONTENT]` */
  index?: string;
}

export interface WatchEncodeOptions {
  /**
   * Case of the hex digits in LEN and in UTF-16BE text. Default 'upper' as in the vendor document
   * (`000A`, `5F204E09`); Traccar writes lower case (`000e`). protocols.md §1.2: both appear to be accepted.
   */
  hexCase?: 'upper' | 'lower';
}

export class WatchCommandError extends CommandError {
  override readonly name = 'WatchCommandError';
  constructor(
    message: string,
    /** the offending argument, for API error bodies */
    field?: string,
  ) {
    super(message, field);
  }
}

export interface PhonebookEntry {
  number: string;
  name: string;
}

export type WatchCommand =
  /** locate now: GPS on for ~3 min, UD every ~20 s */
  | { type: 'CR' }
  /** position report interval in seconds (vendor: min 60, max 65535) */
  | { type: 'UPLOAD'; seconds: number }
  | { type: 'SOS1' | 'SOS2' | 'SOS3'; number: string }
  /** all three SOS numbers at once; an empty string clears that slot */
  | { type: 'SOS'; numbers: readonly [string, string, string] }
  | { type: 'CENTER'; number: string }
  /** ring for one minute */
  | { type: 'FIND' }
  | { type: 'POWEROFF' }
  | { type: 'RESET' }
  /** language code (empty = keep) and timezone offset in hours, e.g. '+1', '+5.75', '-3.5' */
  | { type: 'LZ'; language?: number | ''; timezone: string }
  /** fall detection alarm on/off, and whether a fall makes the watch call the centre number */
  | { type: 'FALLDOWN'; alarmOn: boolean; callOn: boolean }
  /** fall sensitivity: level 1 (most sensitive) .. 6 or 8, variant = total levels of the firmware */
  | { type: 'LSSET'; level: number; variant: '+6' | '+8' }
  /** heart-rate/BP measurement: 0 stop, 1 once, or an interval in seconds (vendor minimum 300) */
  | { type: 'hrtstart'; interval: number }
  /** text shown on the watch screen */
  | { type: 'MESSAGE'; text: string }
  /** phonebook: PHB = contacts 1-5, PHB2 = contacts 6-10 */
  | { type: 'PHB' | 'PHB2'; entries: readonly PhonebookEntry[] }
  /** switches such as 'DW-1' (4G GPS on), 'YJ-0' (night mode off), 'PH-1' (dial pad lock) */
  | { type: 'APPLOCK'; setting: string }
  /** removal (take-off) alarm on/off */
  | { type: 'REMOVE'; on: boolean }
  /** anything else the firmware knows (e.g. `WORK,6-9,11-13`); printable ASCII, no brackets */
  | { type: 'custom'; content: string };

export type WatchCommandType = WatchCommand['type'];

export const WATCH_COMMANDS = [
  'CR',
  'UPLOAD',
  'SOS',
  'SOS1',
  'SOS2',
  'SOS3',
  'CENTER',
  'FIND',
  'POWEROFF',
  'RESET',
  'LZ',
  'FALLDOWN',
  'LSSET',
  'hrtstart',
  'MESSAGE',
  'PHB',
  'PHB2',
  'APPLOCK',
  'REMOVE',
  'custom',
] as const satisfies readonly WatchCommandType[];

/** Parameter description per command, for API docs and forms (plain data, not a validator). */
export const WATCH_COMMAND_PARAMS: Record<WatchCommandType, Record<string, string>> = {
  CR: {},
  UPLOAD: { seconds: 'integer 60..65535' },
  SOS: { numbers: 'array of 3 phone numbers ("" clears a slot)' },
  SOS1: { number: 'phone number: optional +, 3..20 digits' },
  SOS2: { number: 'phone number: optional +, 3..20 digits' },
  SOS3: { number: 'phone number: optional +, 3..20 digits' },
  CENTER: { number: 'phone number: optional +, 3..20 digits' },
  FIND: {},
  POWEROFF: {},
  RESET: {},
  LZ: { language: 'integer 0..99 or "" (optional)', timezone: 'hours, e.g. "+1", "+5.75", "-3.5" (-12..+14)' },
  FALLDOWN: { alarmOn: 'boolean', callOn: 'boolean' },
  LSSET: { level: 'integer 1..6 (variant +6) or 1..8 (variant +8); 1 = most sensitive', variant: '"+6" | "+8"' },
  hrtstart: { interval: '0 (stop), 1 (once) or seconds 300..86400' },
  MESSAGE: { text: 'string, 1..500 UTF-16 code units' },
  PHB: { entries: '1..5 of { number: phone number, name: 1..10 UTF-16 code units }' },
  PHB2: { entries: '1..5 of { number: phone number, name: 1..10 UTF-16 code units }' },
  APPLOCK: { setting: 'e.g. "DW-1": letters, "-", digits' },
  REMOVE: { on: 'boolean' },
  custom: { content: 'printable ASCII without [ ], 1..1024 characters' },
};

const MANUFACTURER_RE = /^[0-9A-Za-z]{2}$/;
const DEVICE_ID_RE = /^[0-9]{1,32}$/;
const INDEX_RE = /^[0-9A-Fa-f]{4}$/;
const PHONE_RE = /^\+?[0-9]{3,20}$/;
/** Downlink index in the ZJ dialect (protocols.md §1.1, Traccar). */
const DOWNLINK_INDEX = '0001';

function hex4(n: number, hexCase: 'upper' | 'lower'): string {
  const h = n.toString(16).padStart(4, '0');
  return hexCase === 'upper' ? h.toUpperCase() : h;
}

/**
 * `[MF*ID*(INDEX*)LEN*CONTENT]` with LEN = byte length of CONTENT as 4 hex digits (always computed:
 * the vendor document prints some wrong LEN values, protocols.md §1.2).
 */
export function writeWatchFrame(header: WatchHeader, content: string | Buffer, options: WatchEncodeOptions = {}): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  if (body.length > 0xffff) throw new WatchCommandError(`content is ${body.length} bytes; LEN allows at most 65535`, 'content');
  const idx = header.index === undefined ? '' : `${header.index}*`;
  const head = `[${header.manufacturer}*${header.deviceId}*${idx}${hex4(body.length, options.hexCase ?? 'upper')}*`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from(']', 'latin1')]);
}

const HEX_UPPER = '0123456789ABCDEF';

/**
 * The reply to a device frame, written straight into one buffer: the frame's own `[MF*ID*` (ZJ: `[MF*ID*INDEX*`),
 * i.e. its first `lenAt` bytes, echoed as they came, then LEN (computed, upper-case hex; protocols.md §1.2), `*`,
 * the content and `]`. Byte for byte what writeWatchFrame(parseWatchHeader(frame), content) writes; the caller
 * has checked the header and keeps `content` short (decoder replies are a few ASCII bytes).
 */
export function writeWatchReply(frame: Buffer, lenAt: number, content: Buffer): Buffer {
  const n = content.length;
  const out = Buffer.allocUnsafe(lenAt + 5 + n + 1);
  for (let i = 0; i < lenAt; i++) out[i] = frame[i]!;
  out[lenAt] = HEX_UPPER.charCodeAt((n >>> 12) & 15);
  out[lenAt + 1] = HEX_UPPER.charCodeAt((n >>> 8) & 15);
  out[lenAt + 2] = HEX_UPPER.charCodeAt((n >>> 4) & 15);
  out[lenAt + 3] = HEX_UPPER.charCodeAt(n & 15);
  out[lenAt + 4] = 0x2a; // '*'
  for (let i = 0; i < n; i++) out[lenAt + 5 + i] = content[i]!;
  out[lenAt + 5 + n] = 0x5d; // ']'
  return out;
}

/** UTF-16BE hex of a string (MESSAGE text, PHB names). */
export function utf16beHex(text: string, hexCase: 'upper' | 'lower' = 'upper'): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += text.charCodeAt(i).toString(16).padStart(4, '0');
  return hexCase === 'upper' ? out.toUpperCase() : out;
}

// ---- argument checks (the API passes parsed JSON, so check types at run time too) ----

function int(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new WatchCommandError(`${field} must be an integer ${min}..${max}, got ${JSON.stringify(value)}`, field);
  }
  return value;
}

function bool(value: unknown, field: string): '1' | '0' {
  if (typeof value !== 'boolean') throw new WatchCommandError(`${field} must be true or false`, field);
  return value ? '1' : '0';
}

function phone(value: unknown, field: string, allowEmpty = false): string {
  if (allowEmpty && value === '') return '';
  if (typeof value !== 'string' || !PHONE_RE.test(value)) {
    throw new WatchCommandError(
      `${field} must be a phone number (optional +, then 3..20 digits; no spaces or other characters), got ${JSON.stringify(value)}`,
      field,
    );
  }
  return value;
}

function text(value: unknown, min: number, max: number, field: string): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    throw new WatchCommandError(`${field} must be a string of ${min}..${max} UTF-16 code units`, field);
  }
  return value;
}

function checkHeader(header: WatchHeader): void {
  if (!header || typeof header.manufacturer !== 'string' || !MANUFACTURER_RE.test(header.manufacturer)) {
    throw new WatchCommandError('header.manufacturer must be 2 letters or digits', 'manufacturer');
  }
  if (typeof header.deviceId !== 'string' || !DEVICE_ID_RE.test(header.deviceId)) {
    throw new WatchCommandError('header.deviceId must be 1..32 digits', 'deviceId');
  }
  if (header.index !== undefined && (typeof header.index !== 'string' || !INDEX_RE.test(header.index))) {
    throw new WatchCommandError('header.index must be 4 hex digits', 'index');
  }
}

/** The CONTENT part of a command (no framing). */
export function watchCommandContent(command: WatchCommand, options: WatchEncodeOptions = {}): string {
  const hexCase = options.hexCase ?? 'upper';
  const c = command as WatchCommand | null | undefined;
  switch (c?.type) {
    case 'CR':
    case 'FIND':
    case 'POWEROFF':
    case 'RESET':
      return c.type;
    case 'UPLOAD':
      return `UPLOAD,${int(c.seconds, 60, 65535, 'seconds')}`;
    case 'SOS1':
    case 'SOS2':
    case 'SOS3':
      return `${c.type},${phone(c.number, 'number')}`;
    case 'SOS': {
      if (!Array.isArray(c.numbers) || c.numbers.length !== 3) {
        throw new WatchCommandError('numbers must be an array of exactly 3 phone numbers ("" clears a slot)', 'numbers');
      }
      return `SOS,${c.numbers.map((n, i) => phone(n, `numbers[${i}]`, true)).join(',')}`;
    }
    case 'CENTER':
      return `CENTER,${phone(c.number, 'number')}`;
    case 'LZ': {
      const lang = c.language === undefined || c.language === '' ? '' : String(int(c.language, 0, 99, 'language'));
      const tz = c.timezone;
      if (typeof tz !== 'string' || !/^[+-]?[0-9]{1,2}(\.[0-9]{1,2})?$/.test(tz) || Number(tz) < -12 || Number(tz) > 14) {
        throw new WatchCommandError(`timezone must be hours like "+1", "+5.75" or "-3.5" within -12..+14, got ${JSON.stringify(tz)}`, 'timezone');
      }
      return `LZ,${lang},${tz}`;
    }
    case 'FALLDOWN':
      return `FALLDOWN,${bool(c.alarmOn, 'alarmOn')},${bool(c.callOn, 'callOn')}`;
    case 'LSSET': {
      if (c.variant !== '+6' && c.variant !== '+8') throw new WatchCommandError('variant must be "+6" or "+8"', 'variant');
      const level = int(c.level, 1, c.variant === '+6' ? 6 : 8, 'level');
      return `LSSET,${level}${c.variant}`;
    }
    case 'hrtstart': {
      const v = c.interval;
      if (v !== 0 && v !== 1) int(v, 300, 86400, 'interval');
      return `hrtstart,${v}`;
    }
    case 'MESSAGE':
      return `MESSAGE,${utf16beHex(text(c.text, 1, 500, 'text'), hexCase)}`;
    case 'PHB':
    case 'PHB2': {
      if (!Array.isArray(c.entries) || c.entries.length < 1 || c.entries.length > 5) {
        throw new WatchCommandError('entries must hold 1..5 contacts (PHB = contacts 1-5, PHB2 = 6-10)', 'entries');
      }
      const parts = c.entries.map((e, i) => {
        const entry = e as PhonebookEntry | null | undefined;
        return `${phone(entry?.number, `entries[${i}].number`)},${utf16beHex(text(entry?.name, 1, 10, `entries[${i}].name`), hexCase)}`;
      });
      return `${c.type},${parts.join(',')}`;
    }
    case 'APPLOCK': {
      if (typeof c.setting !== 'string' || !/^[A-Za-z]{1,8}-[0-9]{1,3}$/.test(c.setting)) {
        throw new WatchCommandError(`setting must look like "DW-1", got ${JSON.stringify(c.setting)}`, 'setting');
      }
      return `APPLOCK,${c.setting}`;
    }
    case 'REMOVE':
      return `REMOVE,${bool(c.on, 'on')}`;
    case 'custom': {
      if (typeof c.content !== 'string' || !/^[\x20-\x5a\x5c\x5e-\x7e]{1,1024}$/.test(c.content)) {
        throw new WatchCommandError('content must be 1..1024 printable ASCII characters without [ or ]', 'content');
      }
      return c.content;
    }
    default:
      throw new WatchCommandError(`unknown watch command ${JSON.stringify((c as { type?: unknown } | null | undefined)?.type)}`, 'type');
  }
}

/**
 * Frame a command for one watch. Manufacturer and id are echoed as the device sent them (the vendor sends
 * `3G` to `3G` devices; Traccar's habit of answering `SG` is unexplained, protocols.md §1.5). A device that
 * speaks the ZJ dialect (header.index set) gets downlink index `0001`.
 */
export function encodeWatchCommand(header: WatchHeader, command: WatchCommand, options: WatchEncodeOptions = {}): Buffer {
  checkHeader(header);
  const content = watchCommandContent(command, options);
  const to: WatchHeader = { manufacturer: header.manufacturer, deviceId: header.deviceId };
  if (header.index !== undefined) to.index = DOWNLINK_INDEX;
  return writeWatchFrame(to, content, options);
}
