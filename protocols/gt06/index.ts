/**
 * GT06 / Concox GPS trackers and SOS pendants (protocols.md §2): length-driven framing with the `0D 0A` fallback,
 * CRC-16/X-25 checked, login binding the connection to the IMEI, vendor alarm tables chosen by `meta.vendor`,
 * and 0x80 online commands answered through 0x15/0x21.
 */
import { Type } from '@sinclair/typebox';
import type { ProtocolModule } from '../message.js';
import { GT06_ALARM_TABLES } from './alarms.js';
import { GT06_COMMAND_PARAMS, GT06_COMMAND_SCHEMAS, GT06_COMMANDS, GT06_COMMON_COMMANDS, gt06CommandCodec } from './commands.js';
import { decodeGt06 } from './decoder.js';
import { Gt06Framer } from './frame.js';

export { GT06_ALARM_TABLES, GT06_DEFAULT_VENDOR, TERMINAL_ALARM, alarmTable, terminalStates, type Gt06AlarmCode, type Gt06AlarmTable } from './alarms.js';
export { GT06_COMMANDS, GT06_COMMAND_PARAMS, GT06_COMMAND_SCHEMAS, GT06_COMMON_COMMANDS, commandOfFlag, gt06CommandCodec, gt06CommandText, gt06ServerFlag, type Gt06CommandType } from './commands.js';
export { crcX25 } from './crc.js';
export { decodeGt06 } from './decoder.js';
export { gt06Ack, gt06Command, gt06TimeReply, gt06WifiReply, writeGt06Frame } from './encoder.js';
export { GT06, GT06_VARIANTS, parseGt06, variantOf, type Gt06Packet } from './fields.js';
export { GT06_MAX_FRAME, Gt06Framer } from './frame.js';

export const gt06Protocol: ProtocolModule & { commandParams: typeof GT06_COMMAND_PARAMS } = {
  name: 'gt06',
  label: 'GT06',
  devices: 'GT06 GPS trackers',
  transport: 'tcp',
  defaultPort: 5023,
  settings: {
    host: 'GT06_HOST',
    port: 'GT06_PORT',
    idleTimeoutS: 'GT06_IDLE_TIMEOUT_S',
    maxConnections: 'GT06_MAX_CONNECTIONS',
    workers: 'GT06_WORKERS',
    firstFrameTimeoutS: 'GT06_FIRST_FRAME_TIMEOUT_S',
    partialFrameTimeoutS: 'GT06_PARTIAL_FRAME_TIMEOUT_S',
    maxUnidentifiedPerAddress: 'GT06_MAX_UNIDENTIFIED_PER_ADDRESS',
  },
  identifier: { pattern: /^\d{15,16}$/, hint: 'the 15-digit IMEI' },
  silentIntervalS: 300,
  commands: GT06_COMMANDS,
  commandCodec: gt06CommandCodec,
  commandParams: GT06_COMMAND_PARAMS,
  commandSchemas: GT06_COMMAND_SCHEMAS,
  commonCommands: GT06_COMMON_COMMANDS,
  // the decoder reads meta.vendor to pick the alarm table (alarms.ts)
  settingsSchema: Type.Object({ vendor: Type.Optional(Type.Union(Object.keys(GT06_ALARM_TABLES).map((v) => Type.Literal(v)), { description: 'alarm table of the product line' })) }),
  createFramer: () => new Gt06Framer(),
  decode: decodeGt06,
};
