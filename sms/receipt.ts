/**
 * Delivery receipts and their states (sms.md A6, B8). SMPP receipt text is vendor-specific: parse by label,
 * case-insensitively (`id:`, `sub:`, `dlvrd:`, `submit date:`, `done date:`, `stat:`, `err:`, `text:`).
 */
import type { SmsDeliveryState } from './port.ts';

export interface ReceiptText {
  id?: string;
  stat?: string;
  err?: string;
  submitDate?: string;
  doneDate?: string;
}

const LABELS = ['id', 'sub', 'dlvrd', 'submit date', 'done date', 'stat', 'err', 'text'];

export function parseReceiptText(s: string): ReceiptText {
  const re = new RegExp(`(?:^|\\s)(${LABELS.join('|')}):`, 'gi');
  const found: { label: string; start: number; end: number }[] = [];
  for (const m of s.matchAll(re)) {
    const start = m.index! + m[0].length;
    found.push({ label: m[1]!.toLowerCase(), start, end: s.length });
  }
  for (let i = 0; i < found.length - 1; i++) found[i]!.end = found[i + 1]!.start - found[i + 1]!.label.length - 1;
  const r: ReceiptText = {};
  for (const f of found) {
    if (f.label === 'text') break; // the rest is the message's first characters, personal
    const v = s.slice(f.start, f.end).trim();
    if (f.label === 'id') r.id ??= v;
    else if (f.label === 'stat') r.stat = v.toUpperCase();
    else if (f.label === 'err') r.err = v;
    else if (f.label === 'submit date') r.submitDate = v;
    else if (f.label === 'done date') r.doneDate = v;
  }
  return r;
}

/** SMPP stat word (or the message_state TLV number, SMPP 3.4 §5.2.28) → our state. */
export function smppState(stat: string | number | undefined): SmsDeliveryState {
  const byNumber: Record<number, string> = { 1: 'ENROUTE', 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV', 6: 'ACCEPTD', 7: 'UNKNOWN', 8: 'REJECTD' };
  const word = typeof stat === 'number' ? byNumber[stat] : stat?.toUpperCase();
  switch (word) {
    case 'ENROUTE':
      return 'enroute';
    case 'DELIVRD':
    case 'DELIVERED':
      return 'delivered';
    case 'EXPIRED':
      return 'expired';
    case 'DELETED':
      return 'deleted';
    case 'UNDELIV':
      return 'undeliverable';
    case 'ACCEPTD':
      return 'accepted';
    case 'REJECTD':
      return 'rejected';
    default:
      return 'unknown';
  }
}

/** TP-ST of an SMS-STATUS-REPORT (TS 23.040 §9.2.3.15) → our state. */
export function tpStatusState(st: number): SmsDeliveryState {
  if (st <= 0x02) return 'delivered';
  if (st < 0x40) return 'enroute'; // 0x20–0x3F: temporary, the SC is still trying (0x03–0x1F reserved / SC-specific)
  if (st === 0x46) return 'expired';
  if (st === 0x47 || st === 0x48) return 'deleted';
  if (st < 0x60) return 'undeliverable';
  return 'undeliverable'; // 0x60–0x7F: temporary error, but the SC has stopped trying: final
}

export function isFinal(s: SmsDeliveryState): boolean {
  return s !== 'submitted' && s !== 'enroute';
}

/** Aggregate state of a message from its parts' states (undefined = no report yet for that part). */
export function messageState(parts: (SmsDeliveryState | undefined)[]): SmsDeliveryState {
  const failed = parts.find((s) => s !== undefined && isFinal(s) && s !== 'delivered');
  if (failed) return failed;
  if (parts.every((s) => s === 'delivered')) return 'delivered';
  return parts.some((s) => s === 'enroute') ? 'enroute' : 'submitted';
}

/**
 * Other spellings of a message id to try when a receipt quotes it differently from submit_sm_resp (sms.md A6:
 * decimal where the resp gave hex, or the reverse; leading zeros).
 */
export function idVariants(id: string): string[] {
  const out = new Set<string>([id, id.toLowerCase(), id.toUpperCase()]);
  const trimmed = id.replace(/^0+(?=.)/, '');
  out.add(trimmed);
  if (/^[0-9a-f]+$/i.test(id) && id.length <= 15) out.add(BigInt(`0x${id}`).toString(10));
  if (/^\d+$/.test(id) && id.length <= 19) {
    const h = BigInt(id).toString(16);
    out.add(h);
    out.add(h.toUpperCase());
  }
  return [...out];
}
