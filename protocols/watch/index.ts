/**
 * The "watch" protocol (3G / SG / CS / ZJ / SeTracker / Beesure / Wonlex-type watches), protocols.md §1.
 */
import type { ProtocolModule } from '../message.js';
import { WATCH_COMMAND_SCHEMAS, WATCH_COMMON_COMMANDS, watchCommandCodec } from './commands.js';
import { decodeWatch, parseWatchHeader } from './decoder.js';
import { encodeWatchCommand, WATCH_COMMAND_PARAMS, WATCH_COMMANDS } from './encoder.js';
import { WatchFramer } from './frame.js';

export { DANGEROUS_WATCH_KEYWORDS, WATCH_COMMAND_SCHEMAS, WATCH_COMMON_COMMANDS, watchCommandCodec, watchCommandRisk } from './commands.js';
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
  transport: 'tcp';
  defaultPort: 5093;
  settings: NonNullable<ProtocolModule['settings']>;
  commands: typeof WATCH_COMMANDS;
  /** parameter description per command, for API docs and forms */
  commandParams: typeof WATCH_COMMAND_PARAMS;
  commandCodec: NonNullable<ProtocolModule['commandCodec']>;
  createFramer(): WatchFramer;
  decode: typeof decodeWatch;
  /** addressing of a device's frame: keep the last one per connection to send commands and replies */
  parseHeader: typeof parseWatchHeader;
  encodeCommand: typeof encodeWatchCommand;
}

export const watchProtocol: WatchProtocolModule = {
  name: 'watch',
  label: 'Watch',
  devices: '3G/SG/CS/ZJ watches',
  transport: 'tcp',
  defaultPort: 5093,
  settings: {
    host: 'WATCH_HOST',
    port: 'WATCH_PORT',
    idleTimeoutS: 'WATCH_IDLE_TIMEOUT_S',
    maxConnections: 'WATCH_MAX_CONNECTIONS',
    workers: 'WATCH_WORKERS',
    firstFrameTimeoutS: 'WATCH_FIRST_FRAME_TIMEOUT_S',
    partialFrameTimeoutS: 'WATCH_PARTIAL_FRAME_TIMEOUT_S',
    maxUnidentifiedPerAddress: 'WATCH_MAX_UNIDENTIFIED_PER_ADDRESS',
  },
  identifier: { pattern: /^\d{6,20}$/, hint: 'the watch id: 6-20 digits (usually 10 digits derived from the IMEI, or the IMEI)' },
  // watches send LK every 5-8 min (protocols.md §1.1)
  silentIntervalS: 480,
  commands: WATCH_COMMANDS,
  commandCodec: watchCommandCodec,
  commandParams: WATCH_COMMAND_PARAMS,
  commandSchemas: WATCH_COMMAND_SCHEMAS,
  commonCommands: WATCH_COMMON_COMMANDS,
  createFramer: () => new WatchFramer(),
  decode: decodeWatch,
  parseHeader: parseWatchHeader,
  encodeCommand: encodeWatchCommand,
};
