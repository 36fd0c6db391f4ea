/**
 * SIA DC-09 (alarm reporting over IP, dc09.md): the pure codec. Bytes in, decisions and values out; no I/O,
 * no timers.
 *
 * A server reads TCP with `Dc09Framer` (several messages per connection, §6) or takes one UDP datagram as one
 * message, and passes each frame to `decodeDc09` with the receiver clock and a key lookup. The decision says what
 * to answer: nothing (`drop`), `duh`, `nak`, or `accept` with the ACK to send once the event is committed. The
 * server itself answers DUH for an unknown account (`encodeDuh`, §4 step 5), de-duplicates by `dedupKey`
 * (§4 step 8) and keeps each account's last-heard time for supervision (§6). `normaliseDc09` gives the alarm kinds.
 *
 * The gateway serves it with its own TCP and UDP server (gateway/transports/dc09.ts, `transport: 'ip-receiver'`):
 * every frame names its account, so the server looks the account (and its key) up per frame, not per connection.
 */
import { Type } from '@sinclair/typebox';
import { VENDOR_CODE_TABLES } from '../contactid/codes.js';
import type { ProtocolModule } from '../message.js';
import { parseKey } from './aes.js';
import { DC09_TIME_WINDOW } from './decoder.js';
import { DC09_MAX_FRAME } from './frame.js';

export * from './aes.js';
export * from './crc.js';
export * from './decoder.js';
export * from './encoder.js';
export * from './events.js';
export * from './frame.js';
export * from './header.js';
export * from './normalise.js';
export * from './sia-codes.js';

/** Defaults as data (dc09.md §4, §6). */
export const DC09_DEFAULTS = {
  /** accepted Δ = message time − receiver time for encrypted messages, seconds (§4 step 7) */
  window: DC09_TIME_WINDOW,
  /** TCP buffer cap per connection, bytes (§6) */
  maxFrame: DC09_MAX_FRAME,
  /** a repeat of account + seq + payload within this many seconds is a duplicate (§4 step 8: "~10 min") */
  dedupWindowS: 600,
  /** answer within about this long (§4, transmitter side) */
  replyWithinMs: 1000,
} as const;

export const dc09Protocol: ProtocolModule = {
  name: 'dc09',
  label: 'SIA DC-09',
  devices: 'IP alarm panels and communicators (Ajax, Pima, Climax, Hikvision)',
  transport: 'ip-receiver',
  defaultPort: 5096,
  // §1 row 8: 1-16 characters (hex in the spec; the header pattern takes A-Z); stored upper case
  identifier: { pattern: /^[0-9A-Za-z]{1,16}$/, hint: 'the DC-09 account: 1-16 characters, 0-9 and A-F (e.g. 1234)', normalise: (s) => s.toUpperCase() },
  // a panel sends NULL polls only when its installer set a test interval (Ajax: off by default): per account, meta.supervisionS
  silentIntervalS: 0,
  registration: { kind: 'panel' },
  commands: [],
  symmetricKey: {
    hint: 'AES key: 32, 48 or 64 hex digits, or 16, 24 or 32 ASCII characters',
    encodings: ['hex', 'ascii'],
    parseKey: (text, encoding) => {
      const k = parseKey(text, encoding);
      if (!k.ok) throw new Error(k.reason);
      return k.key;
    },
  },
  settingsSchema: Type.Object({
    prefix: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{0,6}$', description: 'line prefix (L): when set, frames must carry it (hex, 0-6 digits)' })),
    receiver: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{1,6}$', description: 'receiver number (R): when set, frames must carry it (hex, 1-6 digits)' })),
    supervisionS: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 * 7, description: "the panel's NULL poll interval in seconds: silent past it (0 = not supervised)" })),
    strictTime: Type.Optional(Type.Boolean({ description: 'NAK clear messages with a timestamp outside the window too (encrypted ones always are)' })),
    vendor: Type.Optional(Type.Union(Object.keys(VENDOR_CODE_TABLES).map((v) => Type.Literal(v)), { description: 'panel vendor: picks the Contact ID code table for ADM-CID data' })),
  }),
};
