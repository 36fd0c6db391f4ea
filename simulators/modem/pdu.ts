/**
 * The modem simulator's own, minimal TPDU handling, written from 3GPP TS 23.040 §9.2 and sms.md B5–B8 (not from
 * sms/): it reads an SMS-SUBMIT as AT+CMGS hands it over, and builds SMS-DELIVER and SMS-STATUS-REPORT PDUs.
 */
export const SIM_SMSC = '0891683108100005F0'; // +8613800100500, type 0x91 (sms.md B3.8)

export interface SubmitSeen {
  /** TPDU octets, without the SMSC field: must equal the n of AT+CMGS=n */
  tpduOctets: number;
  firstOctet: number;
  statusReport: boolean;
  to: string;
  toa: number;
  dcs: number;
  concat?: { ref: number; total: number; seq: number };
  text: string;
}

function bcd(digits: string): string {
  const d = digits.length % 2 ? `${digits}F` : digits;
  let out = '';
  for (let i = 0; i < d.length; i += 2) out += d[i + 1]! + d[i]!;
  return out;
}

function unbcd(hex: string, n: number): string {
  let out = '';
  for (let i = 0; i < hex.length; i += 2) out += hex[i + 1]! + hex[i]!;
  return out.slice(0, n);
}

function utf16be(hex: string): string {
  let s = '';
  for (let i = 0; i + 4 <= hex.length; i += 4) s += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
  return s;
}

function ucs2hex(text: string): string {
  let h = '';
  for (let i = 0; i < text.length; i++) h += text.charCodeAt(i).toString(16).padStart(4, '0');
  return h.toUpperCase();
}

/** Reads an SMS-SUBMIT (with its SMSC field first), or throws. */
export function readSubmit(hex: string): SubmitSeen {
  const h = hex.toUpperCase();
  let i = 0;
  const oct = () => {
    const v = parseInt(h.slice(i, i + 2), 16);
    if (Number.isNaN(v)) throw new Error('short PDU');
    i += 2;
    return v;
  };
  const scaLen = oct();
  i += scaLen * 2;
  const start = i;
  const fo = oct();
  if ((fo & 0x03) !== 0x01) throw new Error('not an SMS-SUBMIT');
  oct(); // TP-MR
  const daDigits = oct();
  const toa = oct();
  const to = unbcd(h.slice(i, i + Math.ceil(daDigits / 2) * 2), daDigits);
  i += Math.ceil(daDigits / 2) * 2;
  oct(); // PID
  const dcs = oct();
  const vpf = (fo >> 3) & 0x03;
  i += vpf === 0 ? 0 : vpf === 2 ? 2 : 14;
  const udl = oct();
  const ud = h.slice(i);
  let body = ud;
  let concat: SubmitSeen['concat'];
  if (fo & 0x40) {
    const udhl = parseInt(ud.slice(0, 2), 16);
    const udh = ud.slice(2, 2 + udhl * 2);
    body = ud.slice(2 + udhl * 2);
    for (let j = 0; j < udh.length; ) {
      const iei = parseInt(udh.slice(j, j + 2), 16);
      const len = parseInt(udh.slice(j + 2, j + 4), 16);
      const d = udh.slice(j + 4, j + 4 + len * 2);
      if (iei === 0) concat = { ref: parseInt(d.slice(0, 2), 16), total: parseInt(d.slice(2, 4), 16), seq: parseInt(d.slice(4, 6), 16) };
      if (iei === 8) concat = { ref: parseInt(d.slice(0, 4), 16), total: parseInt(d.slice(4, 6), 16), seq: parseInt(d.slice(6, 8), 16) };
      j += 4 + len * 2;
    }
  }
  if ((dcs & 0x0c) === 0x08 && ud.length !== udl * 2) throw new Error('UDL does not match the user data');
  return {
    tpduOctets: (h.length - start) / 2,
    firstOctet: fo,
    statusReport: (fo & 0x20) !== 0,
    to: toa === 0x91 ? `+${to}` : to,
    toa,
    dcs,
    ...(concat ? { concat } : {}),
    text: (dcs & 0x0c) === 0x08 ? utf16be(body) : body,
  };
}

/** TP-SCTS for a time in UTC+8 (sms.md B7: swapped BCD; +08:00 = 32 quarters → `23`). */
export function scts(at: Date): string {
  const t = new Date(at.getTime() + 8 * 3_600_000);
  const two = (n: number) => bcd(String(n).padStart(2, '0'));
  return two(t.getUTCFullYear() % 100) + two(t.getUTCMonth() + 1) + two(t.getUTCDate()) + two(t.getUTCHours()) + two(t.getUTCMinutes()) + two(t.getUTCSeconds()) + '23';
}

function address(n: string): string {
  const digits = n.replace(/^\+/, '');
  const intl = n.startsWith('+') || digits.length > 11;
  return digits.length.toString(16).padStart(2, '0').toUpperCase() + (intl ? '91' : '81') + bcd(digits);
}

/** SMS-DELIVER, UCS2, optionally a part with UDH IEI 00. Returns the hex (with SMSC field) and its TPDU length. */
export function buildDeliver(from: string, text: string, at: Date, part?: { ref: number; total: number; seq: number }): { hex: string; length: number } {
  const udh = part ? `050003${[part.ref, part.total, part.seq].map((x) => x.toString(16).padStart(2, '0')).join('')}`.toUpperCase() : '';
  const ud = udh + ucs2hex(text);
  const tpdu = (part ? '44' : '04') + address(from) + '00' + '08' + scts(at) + (ud.length / 2).toString(16).padStart(2, '0').toUpperCase() + ud;
  return { hex: SIM_SMSC + tpdu, length: tpdu.length / 2 };
}

/** SMS-STATUS-REPORT for TP-MR `mr` to `recipient`, with TP-ST `status`. */
export function buildStatusReport(mr: number, recipient: string, status: number, submitted: Date, done: Date): { hex: string; length: number } {
  const tpdu = '06' + mr.toString(16).padStart(2, '0').toUpperCase() + address(recipient) + scts(submitted) + scts(done) + status.toString(16).padStart(2, '0').toUpperCase();
  return { hex: SIM_SMSC + tpdu, length: tpdu.length / 2 };
}
