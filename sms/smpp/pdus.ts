/**
 * SMPP 3.4 PDU fields for the `smpp` package (sms.md A3–A6, A8), pure: our parts → submit_sm parameters, and a
 * decoded deliver_sm → a receipt or a mobile-originated message.
 */
import type { Address } from '../number.ts';
import { normaliseSender } from '../number.ts';
import { parseReceiptText, smppState } from '../receipt.ts';
import { parseConcat, type ConcatInfo } from '../split.ts';
import type { SmsDeliveryState } from '../port.ts';

export const ESME_ROK = 0x00;
export const ESME_RINVMSGLEN = 0x01;
export const ESME_RINVBNDSTS = 0x04;
export const ESME_RALYBND = 0x05;
export const ESME_RMSGQFUL = 0x14;
export const ESME_RINVPASWD = 0x0e;
export const ESME_RINVSYSID = 0x0f;
export const ESME_RTHROTTLED = 0x58;

/** Not final (A7): pause, then resubmit the same message. */
export function isThrottle(status: number): boolean {
  return status === ESME_RTHROTTLED || status === ESME_RMSGQFUL;
}

export function statusCode(status: number): string {
  return `0x${status.toString(16).padStart(2, '0')}`;
}

export interface SubmitPart {
  source: Address;
  dest: Address;
  udh?: Buffer;
  /** UTF-16BE text */
  body: Buffer;
}

/**
 * submit_sm with data_coding 8 (UCS2), registered_delivery 1 (receipt on the final outcome) and, for a part, the
 * UDH in short_message with esm_class 0x40 (UDHI). The message goes in as a Buffer so the package neither
 * re-encodes nor guesses the coding (A8).
 */
export function submitParams(p: SubmitPart): Record<string, unknown> {
  const sm = p.udh ? Buffer.concat([p.udh, p.body]) : p.body;
  if (sm.length > 140) throw new RangeError(`short_message is ${sm.length} octets; 140 fit on air`);
  return {
    service_type: '',
    source_addr_ton: p.source.ton,
    source_addr_npi: p.source.npi,
    source_addr: p.source.digits,
    dest_addr_ton: p.dest.ton,
    dest_addr_npi: p.dest.npi,
    destination_addr: p.dest.digits,
    esm_class: p.udh ? 0x40 : 0x00,
    registered_delivery: 1,
    data_coding: 0x08,
    short_message: sm,
  };
}

export interface ReceiptIn {
  kind: 'receipt';
  messageId: string;
  state: SmsDeliveryState;
  err?: string;
}

export interface MoIn {
  kind: 'mo';
  from: string;
  to: string;
  text: string;
  concat?: ConcatInfo;
}

/** The package hands short_message over decoded: `{message, udh?: Buffer[]}` (A8). */
interface DecodedSm {
  message?: string | Buffer;
  udh?: Buffer[];
}

/**
 * Undoes the package's decoding to get the receipt's octets back: dc 0 went through the GSM table, where only a
 * few ASCII characters differ ('_'→'§', '@'→'¡', '$'→'¤'); dc 8 turned ASCII pairs into CJK (A8).
 */
function receiptOctets(sm: DecodedSm | undefined, dc: number): string {
  const m = sm?.message;
  if (m === undefined) return '';
  if (Buffer.isBuffer(m)) return m.toString('latin1');
  if ((dc & 0x0f) === 0x08) return Buffer.from(m, 'utf16le').swap16().toString('latin1');
  return m.replace(/§/g, '_').replace(/¡/g, '@').replace(/¤/g, '$');
}

function text(sm: DecodedSm | undefined): string {
  const m = sm?.message;
  if (m === undefined) return '';
  return Buffer.isBuffer(m) ? m.toString('latin1') : m;
}

/** Reads a deliver_sm (A6): a receipt when (esm_class & 0x3C) is 0x04 or 0x08, else MO. */
export function readDeliver(pdu: Record<string, unknown>): ReceiptIn | MoIn | undefined {
  const esm = Number(pdu.esm_class ?? 0);
  const dc = Number(pdu.data_coding ?? 0);
  const type = esm & 0x3c;
  if (type === 0x04 || type === 0x08) {
    const parsed = parseReceiptText(receiptOctets(pdu.short_message as DecodedSm | undefined, dc));
    // the TLVs, when present, win over the vendor-specific text
    const tlvId = typeof pdu.receipted_message_id === 'string' && pdu.receipted_message_id ? pdu.receipted_message_id : undefined;
    const messageId = tlvId ?? parsed.id;
    if (!messageId) return undefined;
    const state = typeof pdu.message_state === 'number' ? smppState(pdu.message_state) : smppState(parsed.stat);
    return { kind: 'receipt', messageId, state, ...(parsed.err ? { err: parsed.err } : {}) };
  }
  const sm = (pdu.short_message as DecodedSm | undefined)?.message !== undefined && text(pdu.short_message as DecodedSm) !== ''
    ? (pdu.short_message as DecodedSm)
    : (pdu.message_payload as DecodedSm | undefined);
  const udhList = (pdu.short_message as DecodedSm | undefined)?.udh;
  const concat = udhList?.length ? parseConcat(Buffer.concat([Buffer.from([udhList.reduce((n, b) => n + b.length, 0)]), ...udhList])) : undefined;
  return {
    kind: 'mo',
    from: normaliseSender(String(pdu.source_addr ?? ''), Number(pdu.source_addr_ton ?? 0)),
    to: String(pdu.destination_addr ?? ''),
    text: text(sm),
    ...(concat ? { concat } : {}),
  };
}
