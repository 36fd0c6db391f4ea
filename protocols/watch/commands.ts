/**
 * Watch commands as the gateway sends them (protocols.md §1.5): the API's schema of a command's type, how a
 * command is addressed (the way the watch addresses us), the keyword the watch echoes, and which commands are
 * dangerous.
 */
import { Type, type TObject, type TProperties } from '@sinclair/typebox';
import type { CommandCodec, CommandRisk } from '../message.js';
import { parseWatchHeader } from './decoder.js';
import { encodeWatchCommand, WATCH_COMMAND_PARAMS, WATCH_COMMANDS, type WatchCommand, type WatchCommandType } from './encoder.js';

/**
 * Watch keywords that take over or silence a watch (protocols.md §1.5 and the vendor document). Typed commands
 * that are dangerous are listed too; the others reach the watch only as `custom` text, which is dangerous anyway.
 */
export const DANGEROUS_WATCH_KEYWORDS: Readonly<Record<string, string>> = {
  MONITOR: 'MONITOR makes the watch silently call a number so it can be listened in on',
  IP: 'IP moves the watch to another server',
  APN: "APN changes the watch's mobile data settings, which can cut it off from the centre",
  FACTORY: 'FACTORY resets the watch to factory settings',
  PW: "PW changes the watch's SMS command password",
  POWEROFF: 'POWEROFF switches the watch off: no SOS or fall alarms until someone switches it on',
};

/** The words of a custom text, upper case: a keyword hidden after `*` or `,` is still found. */
const words = (content: string) => content.toUpperCase().split(/[^A-Z0-9_]+/).filter(Boolean);

export function watchCommandRisk(command: Record<string, unknown>): CommandRisk {
  const type = String(command.type);
  if (type === 'custom') {
    const found = [...new Set(words(typeof command.content === 'string' ? command.content : ''))].filter((w) => w in DANGEROUS_WATCH_KEYWORDS);
    const why = found.length ? found.map((w) => DANGEROUS_WATCH_KEYWORDS[w]).join('; ') : 'custom sends raw protocol text to the watch';
    return { dangerous: true, monitor: found.includes('MONITOR'), why };
  }
  const why = DANGEROUS_WATCH_KEYWORDS[type.toUpperCase()];
  return why ? { dangerous: true, monitor: type.toUpperCase() === 'MONITOR', why } : { dangerous: false, monitor: false };
}

export const watchCommandCodec: CommandCodec = {
  typeSchema: Type.Union(
    WATCH_COMMANDS.map((c) => Type.Literal(c)),
    { description: 'watch command keyword (protocols.md §1.5)' },
  ),
  dangerous: DANGEROUS_WATCH_KEYWORDS,
  encode(command, to) {
    // Address the frame the way the watch addresses us (manufacturer, ZJ index); default 3G before first contact.
    const header = (to.lastFrame && parseWatchHeader(to.lastFrame)) || { manufacturer: '3G', deviceId: to.identifier };
    return encodeWatchCommand({ ...header, ...(header.index ? { index: '0001' } : {}) }, command as unknown as WatchCommand);
  },
  keyword(command) {
    if (command.type === 'custom') return String(command.content ?? '').split(',')[0] ?? 'custom';
    return String(command.type);
  },
  risk: watchCommandRisk,
};

// ---- parameter schemas (GET /api/protocols): the encoder's checks as JSON Schema, for the dashboard's forms ----

const PHONE = '^\\+?[0-9]{3,20}$';
const d = (type: WatchCommandType, field: string) => ({ description: WATCH_COMMAND_PARAMS[type][field] });
const params = (p: TProperties): TObject => Type.Object(p, { additionalProperties: false });
const phoneOf = (type: WatchCommandType) => params({ number: Type.String({ pattern: PHONE, ...d(type, 'number') }) });
const phonebook = (type: 'PHB' | 'PHB2') =>
  params({
    entries: Type.Array(
      Type.Object({ number: Type.String({ pattern: PHONE }), name: Type.String({ minLength: 1, maxLength: 10 }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 5, ...d(type, 'entries') },
    ),
  });

/**
 * Each watch command's parameters (besides `type`). Where JSON Schema cannot say all the encoder checks (LZ's
 * -12..+14 hours, LSSET's level 1..6 for variant +6, UTF-16 lengths) the description says it and the encoder
 * still refuses with a 400 naming the field.
 */
export const WATCH_COMMAND_SCHEMAS: Readonly<Record<WatchCommandType, TObject>> = {
  CR: params({}),
  UPLOAD: params({ seconds: Type.Integer({ minimum: 60, maximum: 65535, ...d('UPLOAD', 'seconds') }) }),
  SOS: params({ numbers: Type.Array(Type.String({ pattern: '^(\\+?[0-9]{3,20})?$' }), { minItems: 3, maxItems: 3, ...d('SOS', 'numbers') }) }),
  SOS1: phoneOf('SOS1'),
  SOS2: phoneOf('SOS2'),
  SOS3: phoneOf('SOS3'),
  CENTER: phoneOf('CENTER'),
  FIND: params({}),
  POWEROFF: params({}),
  RESET: params({}),
  LZ: params({
    language: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 99 }), Type.Literal('')], d('LZ', 'language'))),
    timezone: Type.String({ pattern: '^[+-]?[0-9]{1,2}(\\.[0-9]{1,2})?$', ...d('LZ', 'timezone') }),
  }),
  FALLDOWN: params({ alarmOn: Type.Boolean({ description: 'fall alarm on' }), callOn: Type.Boolean({ description: 'a fall makes the watch call the centre number' }) }),
  LSSET: params({
    level: Type.Integer({ minimum: 1, maximum: 8, ...d('LSSET', 'level') }),
    variant: Type.Union([Type.Literal('+6'), Type.Literal('+8')], d('LSSET', 'variant')),
  }),
  hrtstart: params({ interval: Type.Union([Type.Literal(0), Type.Literal(1), Type.Integer({ minimum: 300, maximum: 86400 })], d('hrtstart', 'interval')) }),
  MESSAGE: params({ text: Type.String({ minLength: 1, maxLength: 500, ...d('MESSAGE', 'text') }) }),
  PHB: phonebook('PHB'),
  PHB2: phonebook('PHB2'),
  APPLOCK: params({ setting: Type.String({ pattern: '^[A-Za-z]{1,8}-[0-9]{1,3}$', ...d('APPLOCK', 'setting') }) }),
  REMOVE: params({ on: Type.Boolean({ description: 'removal (take-off) alarm on' }) }),
  custom: params({ content: Type.String({ pattern: '^[\\x20-\\x5a\\x5c\\x5e-\\x7e]{1,1024}$', ...d('custom', 'content') }) }),
};

/** Locate, SOS numbers, upload interval, find, reset: what an installer sends during an activation test. */
export const WATCH_COMMON_COMMANDS: readonly WatchCommandType[] = ['CR', 'SOS', 'UPLOAD', 'FIND', 'RESET'];
