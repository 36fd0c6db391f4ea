/**
 * DC-09 bytes we send (dc09.md §4): ACK (clear or encrypted), NAK, DUH, each framed LF crc 0LLL … CR (§1).
 * Also `encodeMessage`, what a panel sends, for tests and tooling (simulators build their own frames).
 */
import { encryptContent, type PadSource } from './aes.js';
import { crc16Arc } from './crc.js';
import { formatTimestamp, type CrcForm, type Dc09Address, type ExtendedBlock } from './header.js';

/** LF, the CRC (4 upper-case hex digits, or 2 raw bytes for a binary-CRC panel, §8), `0LLL`, region R, CR. */
export function frameRegion(region: string, crcForm: CrcForm = 'hex'): Buffer {
  const r = Buffer.from(region, 'latin1');
  if (r.length > 0xfff) throw new RangeError(`DC-09: region R is at most 0xFFF bytes, got ${r.length}`);
  const crc = crc16Arc(r);
  const len = Buffer.from('0' + r.length.toString(16).toUpperCase().padStart(3, '0'), 'latin1');
  const head = crcForm === 'hex' ? Buffer.from(crc.toString(16).toUpperCase().padStart(4, '0'), 'latin1') : Buffer.from([crc >> 8, crc & 0xff]);
  return Buffer.concat([Buffer.from([0x0a]), head, len, r, Buffer.from([0x0d])]);
}

/** `<seq>[R<rcvr>]L<pref>#<acct>`: echoed exactly as received (§4). */
function addressText(a: Dc09Address): string {
  return `${a.seq}${a.receiver !== undefined ? `R${a.receiver}` : ''}L${a.prefix}#${a.account}`;
}

/** Clear ACK `"ACK"<seq>[R<rcvr>]L<pref>#<acct>[]`: no timestamp, as in the 2013 template (§4). */
export function encodeAck(a: Dc09Address): Buffer {
  return frameRegion(`"ACK"${addressText(a)}[]`, a.crcForm);
}

export interface EncryptedAckOptions {
  pad?: PadSource;
  /**
   * Include the pad's `|` terminator (default true, §4's recommendation: the 2013 draft puts it in every encrypted
   * message). false gives the pysiaalarm/fioletoven form `<pad>]_…`.
   */
  terminator?: boolean;
}

/** Encrypted ACK `"*ACK"<seq>[R..]L<pref>#<acct>[<hex of <pad>|]_<receiver UTC time>>` (§4). */
export function encodeEncryptedAck(a: Dc09Address, key: Buffer, now: Date, opts: EncryptedAckOptions = {}): Buffer {
  const hex = encryptContent(`]_${formatTimestamp(now)}`, key, opts);
  return frameRegion(`"*ACK"${addressText(a)}[${hex}`, a.crcForm);
}

/**
 * NAK `"NAK"0000R0L0A0[]_<receiver UTC time>`, never encrypted (§4): the panel reads our time, corrects its
 * clock offset and resends.
 */
export function encodeNak(now: Date, crcForm: CrcForm = 'hex'): Buffer {
  return frameRegion(`"NAK"0000R0L0A0[]_${formatTimestamp(now)}`, crcForm);
}

/** DUH `"DUH"<seq>[R<rcvr>]L<pref>#<acct>[]`, clear (§4): received but not processed; the panel must not repeat it. */
export function encodeDuh(a: Dc09Address): Buffer {
  return frameRegion(`"DUH"${addressText(a)}[]`, a.crcForm);
}

export interface MessageFields extends Dc09Address {
  /** `SIA-DCS`, `ADM-CID`, `NULL` (or any token, for tests) */
  token: string;
  /** the data block's text, e.g. `#1234|1101 01 003` */
  data: string;
  extended?: ExtendedBlock[];
  /** stamped `_HH:MM:SS,MM-DD-YYYY` UTC; required when encrypting (§1 row 11) */
  timestamp?: Date;
  /** encrypt with this key (`*` token) */
  key?: Buffer;
  pad?: PadSource;
}

/** A panel's message (§1), clear or encrypted (§5). Throws on our own bad input (no timestamp with a key). */
export function encodeMessage(f: MessageFields): Buffer {
  const x = (f.extended ?? []).map((b) => `[${b.id}${b.value}]`).join('');
  const ts = f.timestamp ? `_${formatTimestamp(f.timestamp)}` : '';
  const content = `${f.data}]${x}${ts}`;
  if (!f.key) return frameRegion(`"${f.token}"${addressText(f)}[${content}`, f.crcForm);
  if (!f.timestamp) throw new RangeError('DC-09: an encrypted message carries a timestamp (§1 row 11)');
  return frameRegion(`"*${f.token}"${addressText(f)}[${encryptContent(content, f.key, { pad: f.pad })}`, f.crcForm);
}
