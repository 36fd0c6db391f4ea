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
 * Not registered in protocols/index.ts yet: DC-09 is not in PROTOCOLS (protocols/message.ts).
 */
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
