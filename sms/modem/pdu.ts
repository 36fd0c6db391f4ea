/**
 * SMS TPDUs for AT PDU mode (3GPP TS 23.040 §9.2; sms.md B5–B8). Pure: bytes in, messages out.
 * - encodeSubmit: SMS-SUBMIT (§9.2.2.2), UCS2, optional UDH, relative validity, optional status-report request.
 * - decodePdu: SMS-DELIVER (§9.2.2.1) and SMS-STATUS-REPORT (§9.2.2.3), as +CMGR / +CMT / +CDS hand them over
 *   (with the SMSC address field first, as 27.005 §3.1 prints it).
 */
import { septetsToText, unpackSeptets } from '../gsm7.ts';
import { decodeUcs2 } from '../ucs2.ts';

export interface SubmitInput {
  /** digits with or without "+" */
  to: string;
  /** 0x91 international (default when the number has 12+ digits or "+"), 0x81 unknown, 0xA1 national */
  toa?: number;
  /** UDH with UDHL, for a concatenated part */
  udh?: Uint8Array;
  /** UTF-16BE text (or 8-bit data with dcs 0x04) */
  body: Uint8Array;
  /** TP-DCS, default 0x08 UCS2 */
  dcs?: number;
  /** TP-SRR: ask for a status report */
  statusReport?: boolean;
  /** relative TP-VP octet, default 0xA7 = 24 h; null for none */
  validity?: number | null;
}

export interface EncodedSubmit {
  /** hex with the SMSC field `00` (use the +CSCA address) first, as AT+CMGS wants it */
  hex: string;
  /** TPDU octets without the SMSC field: the n of AT+CMGS=n (sms.md B4) */
  length: number;
}

/** Semi-octet address value: nibble-swapped BCD, F-padded (§9.1.2.3). */
export function swapBcd(digits: string): Buffer {
  const d = digits.length % 2 ? `${digits}F` : digits;
  const out = Buffer.alloc(d.length / 2);
  for (let i = 0; i < d.length; i += 2) out[i / 2] = parseInt(`${d[i + 1]}${d[i]}`, 16);
  return out;
}

function unswapBcd(b: Uint8Array, digits: number): string {
  let s = '';
  for (const o of b) s += (o & 0x0f).toString(16) + (o >> 4).toString(16);
  return s.slice(0, digits).toUpperCase();
}

export function encodeSubmit(m: SubmitInput): EncodedSubmit {
  const digits = m.to.replace(/^\+/, '');
  if (!/^\d{1,20}$/.test(digits)) throw new RangeError('destination must be digits');
  const toa = m.toa ?? (m.to.startsWith('+') || digits.length > 11 ? 0x91 : 0x81);
  const vp = m.validity === undefined ? 0xa7 : m.validity;
  const udhLen = m.udh?.length ?? 0;
  const udl = udhLen + m.body.length;
  if (udl > 140) throw new RangeError(`user data is ${udl} octets; at most 140`);
  // first octet: MTI 01 SUBMIT; VPF 10 relative (bits 4–3); SRR bit 5; UDHI bit 6
  const fo = 0x01 | (vp === null ? 0 : 0x10) | (m.statusReport ? 0x20 : 0) | (m.udh ? 0x40 : 0);
  const tpdu = Buffer.concat([
    Buffer.from([fo, 0x00, digits.length, toa]), // TP-MR 0: the module numbers it and reports it in +CMGS
    swapBcd(digits),
    Buffer.from([0x00, m.dcs ?? 0x08]), // TP-PID, TP-DCS
    vp === null ? Buffer.alloc(0) : Buffer.from([vp]),
    Buffer.from([udl]),
    m.udh ? Buffer.from(m.udh) : Buffer.alloc(0),
    Buffer.from(m.body),
  ]);
  return { hex: `00${tpdu.toString('hex').toUpperCase()}`, length: tpdu.length };
}

export interface Deliver {
  type: 'deliver';
  smsc: string;
  from: string;
  /** type-of-address octet of TP-OA */
  toa: number;
  dcs: number;
  /** service-centre timestamp */
  at: Date;
  udh?: Buffer;
  text: string;
}

export interface StatusReport {
  type: 'status-report';
  smsc: string;
  /** TP-MR of the SMS-SUBMIT it reports on */
  mr: number;
  recipient: string;
  at: Date;
  discharge: Date;
  /** TP-ST */
  status: number;
}

export type DecodedPdu = Deliver | StatusReport;

class Reader {
  i = 0;
  constructor(readonly b: Buffer) {}
  u8(): number {
    if (this.i >= this.b.length) throw new RangeError('PDU too short');
    return this.b[this.i++]!;
  }
  take(n: number): Buffer {
    if (this.i + n > this.b.length) throw new RangeError('PDU too short');
    const s = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return s;
  }
  rest(): Buffer {
    return this.b.subarray(this.i);
  }
}

/** TP-OA / TP-RA (§9.1.2.5): the length counts digits (semi-octets); TON 5 is GSM-7 alphanumeric. */
function readAddress(r: Reader): { number: string; toa: number } {
  const len = r.u8();
  const toa = r.u8();
  const raw = r.take(Math.ceil(len / 2));
  if (((toa >> 4) & 0x07) === 5) return { number: septetsToText(unpackSeptets(raw, Math.floor((len * 4) / 7))), toa };
  const digits = unswapBcd(raw, len);
  return { number: ((toa >> 4) & 0x07) === 1 ? `+${digits}` : digits, toa };
}

/** TP-SCTS (§9.2.3.11): swapped BCD; the time zone in quarter hours with the sign in bit 3 of the octet as sent. */
export function readTimestamp(b: Uint8Array): Date {
  const n = (o: number) => (o & 0x0f) * 10 + (o >> 4);
  const [y, mo, d, h, mi, s, tzo] = [...b].map((o, i) => (i === 6 ? o : n(o)));
  const tz = ((tzo! & 0x07) * 10 + (tzo! >> 4)) * 15 * (tzo! & 0x08 ? -1 : 1);
  return new Date(Date.UTC(2000 + y!, mo! - 1, d!, h!, mi!, s!) - tz * 60_000);
}

/** Text of TP-UD for a TP-DCS (TS 23.038 §4): GSM-7, 8-bit (as latin1) or UCS2. */
function readUserData(r: Reader, dcs: number, udhi: boolean): { udh?: Buffer; text: string } {
  const udl = r.u8();
  const alphabet = (dcs & 0xc0) === 0 ? (dcs >> 2) & 0x03 : (dcs & 0xf0) === 0xf0 ? (dcs & 0x04 ? 1 : 0) : (dcs & 0xf0) === 0xe0 ? 2 : 0;
  const ud = r.rest();
  if (alphabet === 0) {
    const udhOctets = udhi ? (ud[0] ?? 0) + 1 : 0;
    const skipSeptets = Math.ceil((udhOctets * 8) / 7);
    const fill = skipSeptets * 7 - udhOctets * 8;
    const septets = unpackSeptets(ud.subarray(udhOctets), udl - skipSeptets, fill);
    return { ...(udhi ? { udh: Buffer.from(ud.subarray(0, udhOctets)) } : {}), text: septetsToText(septets) };
  }
  const data = ud.subarray(0, udl);
  const udhOctets = udhi ? (data[0] ?? 0) + 1 : 0;
  const body = data.subarray(udhOctets);
  return {
    ...(udhi ? { udh: Buffer.from(data.subarray(0, udhOctets)) } : {}),
    text: alphabet === 2 ? decodeUcs2(body) : Buffer.from(body).toString('latin1'),
  };
}

export function decodePdu(hex: string): DecodedPdu {
  const r = new Reader(Buffer.from(hex.trim(), 'hex'));
  const scaLen = r.u8();
  let smsc = '';
  if (scaLen > 0) {
    const toa = r.u8();
    smsc = unswapBcd(r.take(scaLen - 1), (scaLen - 1) * 2).replace(/F$/, '');
    if (((toa >> 4) & 0x07) === 1) smsc = `+${smsc}`;
  }
  const fo = r.u8();
  const mti = fo & 0x03;
  if (mti === 0x00) {
    const oa = readAddress(r);
    r.u8(); // TP-PID
    const dcs = r.u8();
    const at = readTimestamp(r.take(7));
    const ud = readUserData(r, dcs, (fo & 0x40) !== 0);
    return { type: 'deliver', smsc, from: oa.number, toa: oa.toa, dcs, at, ...ud };
  }
  if (mti === 0x02) {
    const mr = r.u8();
    const ra = readAddress(r);
    const at = readTimestamp(r.take(7));
    const discharge = readTimestamp(r.take(7));
    const status = r.u8();
    return { type: 'status-report', smsc, mr, recipient: ra.number, at, discharge, status };
  }
  throw new RangeError(`unexpected TP-MTI ${mti}`);
}
