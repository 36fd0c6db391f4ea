/**
 * Watch commands as the gateway sends them (protocols.md §1.5): the API's schema of a command's type, how a
 * command is addressed (the way the watch addresses us), the keyword the watch echoes, and which commands are
 * dangerous.
 */
import { Type } from '@sinclair/typebox';
import type { CommandCodec, CommandRisk } from '../message.js';
import { parseWatchHeader } from './decoder.js';
import { encodeWatchCommand, WATCH_COMMANDS, type WatchCommand } from './encoder.js';

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
