/**
 * DC-09 receiver decisions (dc09.md §4): one frame in, what to do out, in the §4 order:
 *
 *   1. not LF…CR, length or CRC wrong             → drop (no reply)
 *   2. token ACK / NAK / DUH / RSP                → drop (never answer a response)
 *   3. header unparseable                         → drop (nothing to echo)
 *   4. token not SIA-DCS / ADM-CID / NULL         → DUH
 *   5. unknown account                            → DUH: the server's call (it knows the accounts), with encodeDuh
 *   6. encrypted: no key, bad hex or length, no `|`, no `]`, no timestamp → DUH; clear: malformed blocks → DUH
 *   7. encrypted and Δ outside −40 s … +20 s      → NAK; clear: accepted, the skew recorded (unless strictTime)
 *   8. duplicate (account + seq + payload)        → the server's call, by `dedupKey`: ACK again, raise once
 *   9. accept: the server stores the event durably, then sends `replyAfterCommit` (`*ACK` iff the token had `*`)
 *
 * Pure: the key lookup and the clock come in through the context. Never throws on input.
 */
import type { CodeOptions } from '../contactid/codes.js';
import { decryptHex, isAesKey, stripPad, type PadSource } from './aes.js';
import { encodeAck, encodeDuh, encodeEncryptedAck, encodeNak } from './encoder.js';
import { parseCidData, parseSiaData, type Dc09Event } from './events.js';
import { openFrame, parseBody, parseHeader, readToken, type CrcForm, type Dc09Address, type Dc09Header, type ExtendedBlock } from './header.js';

/** The ±window for encrypted timestamps (§4 step 7: pysiaalarm's default, commonly attributed to the spec). */
export const DC09_TIME_WINDOW = { pastS: 40, futureS: 20 } as const;

export const DC09_TOKENS = ['SIA-DCS', 'ADM-CID', 'NULL'] as const;
export type Dc09Token = (typeof DC09_TOKENS)[number];

/** Receiver responses: never answered (§4 step 2). */
const RESPONSES = new Set(['ACK', 'NAK', 'DUH', 'RSP']);

export interface Dc09DecodeContext {
  /** the receiver's clock */
  now: Date;
  /** the account's AES key (16/24/32 bytes), or undefined: unknown account or no key */
  keyFor(account: string, receiver?: string, prefix?: string): Buffer | undefined;
  /** the accepted Δ = message time − receiver time, in seconds (default DC09_TIME_WINDOW) */
  window?: { pastS: number; futureS: number };
  /** NAK clear messages outside the window too (the per-account strict option, §4 step 7) */
  strictTime?: boolean;
  /** Contact ID table options for ADM-CID data: the panel vendor and device type (protocols/contactid/codes.ts) */
  cid?: CodeOptions;
  /** pad bytes for the encrypted ACK (tests; default random) */
  pad?: PadSource;
}

/** An accepted (or, for a NAK, decrypted but unverified) message. */
export interface Dc09Message {
  token: Dc09Token;
  encrypted: boolean;
  seq: string;
  receiver?: string;
  /** the `L` digits; '' for a bare `L` */
  prefix: string;
  account: string;
  crcForm: CrcForm;
  /** the data block's text (decrypted, pad removed) */
  data: string;
  /** the event in the data block; none for NULL or an empty block */
  event?: Dc09Event;
  extended: ExtendedBlock[];
  /** the message's timestamp (UTC per the spec; some panels send local time, §8) */
  timestamp?: Date;
  /** Δ = message time − receiver time, whole seconds; absent without a timestamp */
  skewS?: number;
  /** Δ within the window; absent without a timestamp. A clear message outside it is accepted with a skew warning. */
  inWindow?: boolean;
  /** account + seq + payload (§4 step 8): equal for a repeat of the same message (pad and timestamp excluded) */
  dedupKey: string;
  /** region R as received (ciphertext when encrypted) */
  raw: string;
  /** `<data>][x…]…[_timestamp]` in clear (decrypted, pad removed) */
  content: string;
}

/** What a DUH or a NAK answers: the header as received. */
export type Dc09Origin = Dc09Address & { token: string; encrypted: boolean; crcForm: CrcForm };

export type Dc09DropReason = 'not_a_frame' | 'bad_length' | 'bad_crc' | 'response' | 'bad_header' | 'decoder_error';
export type Dc09DuhReason =
  | 'unsupported_token'
  | 'no_key'
  | 'bad_key'
  | 'bad_hex'
  | 'bad_cipher_length'
  | 'no_pad_terminator'
  | 'bad_data'
  | 'bad_timestamp'
  | 'no_timestamp';

export type Dc09Decision =
  | { action: 'drop'; reason: Dc09DropReason; /** the response's token, for `response` */ token?: string }
  | { action: 'duh'; reason: Dc09DuhReason; reply: Buffer; origin: Dc09Origin }
  | { action: 'nak'; reason: 'time_window'; reply: Buffer; skewS: number; /** the unverified content (§9 V6 suggestion) */ message: Dc09Message }
  | { action: 'accept'; message: Dc09Message; replyAfterCommit: Buffer };

function isToken(t: string): t is Dc09Token {
  return (DC09_TOKENS as readonly string[]).includes(t);
}

function originOf(h: Dc09Header): Dc09Origin {
  const o: Dc09Origin = { token: h.token, encrypted: h.encrypted, seq: h.seq, prefix: h.prefix, account: h.account, crcForm: h.crcForm };
  if (h.receiver !== undefined) o.receiver = h.receiver;
  return o;
}

/** Decide what to do with one frame (LF … CR, trailing NULs allowed: a UDP datagram as is). */
export function decodeDc09(frame: Buffer, ctx: Dc09DecodeContext): Dc09Decision {
  try {
    return decide(frame, ctx);
  } catch {
    // not expected: a bug must not take the connection down; silence makes the panel retry (§4 step 1)
    return { action: 'drop', reason: 'decoder_error' };
  }
}

function decide(frame: Buffer, ctx: Dc09DecodeContext): Dc09Decision {
  // step 1
  const env = openFrame(frame);
  if (!env.ok) return { action: 'drop', reason: env.reason };
  const r = env.region.toString('latin1');
  // step 2
  const tok = readToken(r);
  if (tok && RESPONSES.has(tok.token.toUpperCase())) return { action: 'drop', reason: 'response', token: tok.token };
  // step 3
  const h = parseHeader(r, env.crcForm);
  if (!h) return { action: 'drop', reason: 'bad_header' };
  const origin = originOf(h);
  const duh = (reason: Dc09DuhReason): Dc09Decision => ({ action: 'duh', reason, reply: encodeDuh(origin), origin });
  // step 4
  const token = h.token;
  if (!isToken(token)) return duh('unsupported_token');
  // step 5 is the server's: it knows the accounts and answers encodeDuh(message) for an unknown one
  // step 6
  let key: Buffer | undefined;
  let content = h.rest;
  if (h.encrypted) {
    try {
      key = ctx.keyFor(h.account, h.receiver, h.prefix);
    } catch {
      key = undefined;
    }
    if (!key) return duh('no_key');
    if (!isAesKey(key)) return duh('bad_key');
    const dec = decryptHex(h.rest, key);
    if (!dec.ok) return duh(dec.reason);
    const open = stripPad(dec.plaintext);
    if (!open.ok) return duh(open.reason);
    content = open.content;
  }
  const parsed = parseBody(content);
  if (!parsed.ok) return duh(parsed.reason);
  const body = parsed.body;
  // a wrong key decrypts to noise without error (CBC has no integrity check): `]` and a timestamp are the test
  if (h.encrypted && !body.timestamp) return duh('no_timestamp');

  const message: Dc09Message = {
    token,
    encrypted: h.encrypted,
    seq: h.seq,
    prefix: h.prefix,
    account: h.account,
    crcForm: h.crcForm,
    data: body.data,
    extended: body.extended,
    // the payload without pad and timestamp: a retry re-stamped after a NAK is the same message
    dedupKey: `L${h.prefix}#${h.account} ${h.seq} ${token} [${body.data}]${body.extended.map((b) => `[${b.id}${b.value}]`).join('')}`,
    raw: r,
    content,
  };
  if (h.receiver !== undefined) message.receiver = h.receiver;
  const event = token === 'NULL' || body.data === '' ? undefined : token === 'ADM-CID' ? parseCidData(body.data, ctx.cid) : parseSiaData(body.data);
  if (event) message.event = event;

  // step 7
  if (body.timestamp) {
    const w = ctx.window ?? DC09_TIME_WINDOW;
    // whole seconds on both sides: the timestamp has no finer resolution
    const skewS = Math.round(body.timestamp.getTime() / 1000) - Math.floor(ctx.now.getTime() / 1000);
    message.timestamp = body.timestamp;
    message.skewS = skewS;
    message.inWindow = skewS >= -w.pastS && skewS <= w.futureS;
    if (!message.inWindow && (h.encrypted || ctx.strictTime)) {
      return { action: 'nak', reason: 'time_window', reply: encodeNak(ctx.now, h.crcForm), skewS, message };
    }
  }
  // steps 8-9: the server dedups by message.dedupKey and sends this once the event is committed
  const replyAfterCommit = key ? encodeEncryptedAck(origin, key, ctx.now, { pad: ctx.pad }) : encodeAck(origin);
  return { action: 'accept', message, replyAfterCommit };
}

/**
 * The account a frame names, read before deciding (the server looks its key up first; an encrypted message can
 * only be decided with it). Undefined when the frame or its header does not parse: decodeDc09 says why.
 */
export function peekAccount(frame: Buffer): { account: string; prefix: string; receiver?: string; encrypted: boolean } | undefined {
  const env = openFrame(frame);
  if (!env.ok) return undefined;
  const h = parseHeader(env.region.toString('latin1'), env.crcForm);
  if (!h) return undefined;
  return h.receiver === undefined ? { account: h.account, prefix: h.prefix, encrypted: h.encrypted } : { account: h.account, prefix: h.prefix, receiver: h.receiver, encrypted: h.encrypted };
}
