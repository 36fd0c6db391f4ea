/**
 * DC-09 encryption (dc09.md §5): AES-128/192/256-CBC, IV = 16 zero bytes, no PKCS#7 (auto padding off both ways:
 * the ciphertext is exactly as long as the padded plaintext). The plaintext is `<pad>|<data>]…_<timestamp>`; the
 * pad (1-16 bytes, never `|` `[` `]`) makes it a multiple of 16 and varies per message.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export type KeyEncoding = 'hex' | 'ascii';

const ZERO_IV = Buffer.alloc(16);
const PIPE = 0x7c;
const KEY_BYTES = new Set([16, 24, 32]);

export function isAesKey(key: Buffer): boolean {
  return KEY_BYTES.has(key.length);
}

/**
 * A key as an installer types it (§5): hex (32/48/64 hex digits) or ASCII (16/24/32 characters). The encoding is
 * explicit because a 32-character string is AES-128 read as hex but AES-256 read as ASCII.
 */
export function parseKey(text: string, encoding: KeyEncoding): { ok: true; key: Buffer } | { ok: false; reason: string } {
  if (encoding === 'hex') {
    if (!/^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{48}|[0-9A-Fa-f]{64})$/.test(text)) {
      return { ok: false, reason: 'a hex key is 32, 48 or 64 hex digits (AES-128/192/256)' };
    }
    return { ok: true, key: Buffer.from(text, 'hex') };
  }
  if (!/^[\x20-\x7e]*$/.test(text) || !KEY_BYTES.has(text.length)) {
    return { ok: false, reason: 'an ASCII key is 16, 24 or 32 printable ASCII characters (AES-128/192/256)' };
  }
  return { ok: true, key: Buffer.from(text, 'latin1') };
}

const PAD_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Supplies the pad's bytes; injectable so tests can use the §9 filler. */
export type PadSource = (length: number) => Buffer;

/**
 * Pad bytes drawn from [0-9A-Za-z]. §5 allows any byte but `|` `[` `]`; we stay in printable ASCII (as fioletoven
 * does) because some panels may read the decrypted reply as text. The draw is rejection-sampled, so uniform.
 */
export const randomPad: PadSource = (length) => {
  const out = Buffer.alloc(length);
  let k = 0;
  while (k < length) {
    for (const b of randomBytes(length * 2)) {
      if (b >= 248) continue; // 248 = 4 × 62
      out[k++] = PAD_ALPHABET.charCodeAt(b % 62);
      if (k === length) break;
    }
  }
  return out;
};

/** Pad length for `rest` (the `|` included): up to the next multiple of 16, and 16 when it already is one (§5). */
export function padLength(restBytes: number): number {
  return 16 - (restBytes % 16);
}

/** The key's cipher; undefined for a key that is not 16/24/32 bytes. */
function cipherName(key: Buffer): string | undefined {
  return isAesKey(key) ? `aes-${key.length * 8}-cbc` : undefined;
}

/**
 * Encrypt `content` (`<data>]…_<timestamp>`, latin1) as `<pad>|<content>` → upper-case hex. With `terminator: false`
 * the `|` is left out (the pysiaalarm ACK, §4; only for interop tests). Throws on a bad key or a pad source that
 * breaks the rules: those are our inputs, not a device's.
 */
export function encryptContent(content: string, key: Buffer, opts: { pad?: PadSource; terminator?: boolean } = {}): string {
  const name = cipherName(key);
  if (!name) throw new RangeError(`DC-09: an AES key is 16, 24 or 32 bytes, got ${key.length}`);
  const rest = Buffer.from((opts.terminator === false ? '' : '|') + content, 'latin1');
  const n = padLength(rest.length);
  const pad = (opts.pad ?? randomPad)(n);
  if (pad.length !== n || pad.some((b) => b === PIPE || b === 0x5b || b === 0x5d)) {
    throw new RangeError(`DC-09: the pad must be ${n} bytes without | [ ]`);
  }
  const c = createCipheriv(name, key, ZERO_IV);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(Buffer.concat([pad, rest])), c.final()]).toString('hex').toUpperCase();
}

export type DecryptResult =
  | { ok: true; plaintext: Buffer }
  | { ok: false; reason: 'bad_key' | 'bad_hex' | 'bad_cipher_length' };

/** Hex ciphertext (either case, §5) → plaintext bytes. Never throws. */
export function decryptHex(hex: string, key: Buffer): DecryptResult {
  const name = cipherName(key);
  if (!name) return { ok: false, reason: 'bad_key' };
  if (hex.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(hex)) return { ok: false, reason: 'bad_hex' };
  if (hex.length === 0 || hex.length % 32 !== 0) return { ok: false, reason: 'bad_cipher_length' };
  try {
    const d = createDecipheriv(name, key, ZERO_IV);
    d.setAutoPadding(false);
    return { ok: true, plaintext: Buffer.concat([d.update(Buffer.from(hex, 'hex')), d.final()]) };
  } catch {
    return { ok: false, reason: 'bad_cipher_length' };
  }
}

/**
 * Cut the pad off (§5): everything through the first `|` (0x7C), looked for in bytes because senders' pads are
 * anything from `0`s to random bytes; the rest read as latin1 (one char per byte, so Windows-1252 text survives).
 */
export function stripPad(plaintext: Buffer): { ok: true; pad: number; content: string } | { ok: false; reason: 'no_pad_terminator' } {
  const at = plaintext.indexOf(PIPE);
  if (at < 0) return { ok: false, reason: 'no_pad_terminator' };
  return { ok: true, pad: at, content: plaintext.toString('latin1', at + 1) };
}
