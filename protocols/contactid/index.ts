/**
 * Contact ID through an alarm receiver's serial output (Sur-Gard MLR2 / SG automation), protocols.md §3.
 *
 * The gateway's serial transport reads the port with `createFramer()`, decodes each line with
 * `decodeReceiverLine` (vendor, line width and device types from config/registry), answers ACK (the decode's
 * `reply`) after handling, and NAK on `ok: false`. A receiver whose heartbeats stop (~30 s period) is
 * `receiver_silent`.
 */
import { Type } from '@sinclair/typebox';
import type { DecodeContext, DecodeOutcome, Framer, ProtocolModule } from '../message.ts';
import { VENDOR_CODE_TABLES } from './codes.ts';
import { decodeReceiverLine, type ReceiverDecodeOptions } from './decoder.ts';
import { ReceiverFramer, type ReceiverFramerOptions } from './frame.ts';

export * from './codes.ts';
export * from './decoder.ts';
export * from './encoder.ts';
export * from './frame.ts';

export interface SerialSettings {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

/** Receiver serial port defaults (both are programmable on the receiver). */
export const RECEIVER_SERIAL_DEFAULTS = {
  /** Sur-Gard MLR2E: 19200 baud, 7 data bits, even parity, 1 stop bit */
  mlr2e: { baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1 },
  /** Sur-Gard MLR2000: 9600 8N1 */
  mlr2000: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
} as const satisfies Record<string, SerialSettings>;

/** Link timing facts (protocols.md §3.4). */
export const RECEIVER_TIMING = {
  /** the computer must ACK every line (heartbeats included) within this time */
  ackWithinMs: 4000,
  /** retransmissions after the first attempt, before the receiver buffers */
  retransmits: 3,
  /** usual heartbeat period (programmable) */
  heartbeatMs: 30_000,
  /** the receiver's buffer while the computer is down: 127 × number of lines */
  bufferPerLine: 127,
} as const;

export interface ContactIdProtocol extends ProtocolModule {
  name: 'contactid';
  serialDefaults: typeof RECEIVER_SERIAL_DEFAULTS;
  createFramer(opts?: ReceiverFramerOptions): Framer;
  /** decode with the default options: DC-05 codes, any line width, no device types */
  decode(frame: Buffer, ctx: DecodeContext): DecodeOutcome;
  /** a decode function bound to per-port options (vendor, line width, device type lookup) */
  decoderWith(opts: ReceiverDecodeOptions): (frame: Buffer, ctx: DecodeContext) => DecodeOutcome;
}

export const contactIdProtocol: ContactIdProtocol = {
  name: 'contactid',
  // serial, not TCP: no default port
  transport: 'serial',
  identifier: { pattern: /^[0-9A-F]{4}$|^\d{10}$/i, hint: 'the 4-character Contact ID account (0-9, B-F) or a 10-digit account' },
  // panels send a periodic test at most daily
  silentIntervalS: 86400,
  commands: [],
  // the registration meta an installer fills in: the panel's code table, and what each zone is (e.g. 003 → 厨房烟感)
  settingsSchema: Type.Object({
    vendor: Type.Optional(Type.Union(Object.keys(VENDOR_CODE_TABLES).map((v) => Type.Literal(v)), { description: 'panel vendor: picks the Contact ID code table' })),
    zoneNames: Type.Optional(
      Type.Record(Type.String({ pattern: '^[0-9]{3}$' }), Type.String({ minLength: 1, maxLength: 50 }), { additionalProperties: false, description: 'zone number (3 digits) → its name' }),
    ),
  }),
  serialDefaults: RECEIVER_SERIAL_DEFAULTS,
  createFramer: (opts?: ReceiverFramerOptions) => new ReceiverFramer(opts),
  decode: (frame, ctx) => decodeReceiverLine(frame, ctx),
  decoderWith: (opts) => (frame, ctx) => decodeReceiverLine(frame, { ...opts, ...ctx }),
};

export default contactIdProtocol;
