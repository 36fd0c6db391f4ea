/**
 * The "watch" protocol (3G / SG / CS / ZJ / SeTracker / Beesure / Wonlex-type watches), protocols.md §1.
 */
import type { ProtocolModule } from '../message.js';
import { decodeWatch, parseWatchHeader } from './decoder.js';
import { encodeWatchCommand, WATCH_COMMAND_PARAMS, WATCH_COMMANDS } from './encoder.js';
import { WatchFramer } from './frame.js';

export { decodeWatch, parseWatchHeader } from './decoder.js';
export {
  encodeWatchCommand,
  watchCommandContent,
  writeWatchFrame,
  utf16beHex,
  WatchCommandError,
  WATCH_COMMANDS,
  WATCH_COMMAND_PARAMS,
} from './encoder.js';
export type { PhonebookEntry, WatchCommand, WatchCommandType, WatchEncodeOptions, WatchHeader } from './encoder.js';
export { WatchFramer, WATCH_MAX_FRAME, escapeWatch, unescapeWatch } from './frame.js';

export interface WatchProtocolModule extends ProtocolModule {
  name: 'watch';
  defaultPort: 5093;
  commands: typeof WATCH_COMMANDS;
  /** parameter description per command, for API docs and forms */
  commandParams: typeof WATCH_COMMAND_PARAMS;
  createFramer(): WatchFramer;
  /** addressing of a device's frame: keep the last one per connection to send commands and replies */
  parseHeader: typeof parseWatchHeader;
  encodeCommand: typeof encodeWatchCommand;
}

export const watchProtocol: WatchProtocolModule = {
  name: 'watch',
  defaultPort: 5093,
  commands: WATCH_COMMANDS,
  commandParams: WATCH_COMMAND_PARAMS,
  createFramer: () => new WatchFramer(),
  decode: decodeWatch,
  parseHeader: parseWatchHeader,
  encodeCommand: encodeWatchCommand,
};
