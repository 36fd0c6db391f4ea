/**
 * The field rules of the watch decoder, on strings: the reference the fast paths in fields.ts must agree with,
 * and what those fast paths fall back to for anything unusual (spaces, odd signs, garbage, non-ASCII).
 * Each returns undefined for an absent or empty field and null for garbage.
 */

const DEC_RE = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/;
const INT_RE = /^[+-]?[0-9]{1,15}$/;
const DEC_ID_RE = /^[0-9]{1,15}$/;
const HEX_ID_RE = /^[0-9A-Fa-f]{1,12}$/;
const STATUS_RE = /^[0-9A-Fa-f]{1,8}$/;
const SIX_DIGITS_RE = /^([0-9]{2})([0-9]{2})([0-9]{2})$/;

export function num(s: string | undefined): number | undefined | null {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '') return undefined;
  return DEC_RE.test(t) ? Number(t) : null;
}

export function int(s: string | undefined): number | undefined | null {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '') return undefined;
  return INT_RE.test(t) ? Number(t) : null;
}

/** LAC/CID: decimal, or hex when the field contains a hex letter (`55C0`, `3B882A2`; §1.3 field 17). */
export function decOrHex(s: string | undefined): number | null {
  const t = (s ?? '').trim();
  if (DEC_ID_RE.test(t)) return Number(t);
  if (HEX_ID_RE.test(t)) return parseInt(t, 16);
  return null;
}

/** The status word (§1.4), hex, usually 8 digits (4 seen). */
export function statusWord(s: string | undefined): number | null {
  const t = (s ?? '').trim();
  return STATUS_RE.test(t) ? parseInt(t, 16) : null;
}

/** A one-letter flag (N/S, E/W, A/V) upper-cased, '' when absent or empty. */
export function flag(s: string | undefined): string {
  return (s ?? '').trim().toUpperCase();
}

/** DDMMYY + HHMMSS, UTC (§1.3 fields 1-2). Undefined when not a real date (the message is still useful). */
export function time(date: string | undefined, clock: string | undefined): Date | undefined {
  const d = SIX_DIGITS_RE.exec(date ?? '');
  const t = SIX_DIGITS_RE.exec(clock ?? '');
  if (!d || !t) return undefined;
  const [day, month, year] = [Number(d[1]), Number(d[2]), 2000 + Number(d[3])];
  const [h, mi, s] = [Number(t[1]), Number(t[2]), Number(t[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, h, mi, s);
  return new Date(ms).getUTCDate() === day ? new Date(ms) : undefined;
}
