/**
 * Phone number forms (sms.md A3, B5): Chinese mobiles have 11 digits starting with 1. SMPP has no "+": send
 * `8613800138000` with TON 1/NPI 1, or `13800138000` with TON 2/NPI 1. A national number under TON 1 is a classic
 * reject, so the form is chosen once per provider.
 */
export type NumberForm = 'international' | 'national';

export interface Address {
  digits: string;
  ton: number;
  npi: number;
}

const CN_MOBILE = /^1\d{10}$/;

/** Digits of an E.164 number without "+", adding 86 to an 11-digit Chinese mobile. Throws on anything else. */
export function toE164Digits(n: string): string {
  const d = n.replace(/[\s-]/g, '').replace(/^\+/, '').replace(/^00/, '');
  if (!/^\d{3,20}$/.test(d)) throw new RangeError('not a phone number');
  if (CN_MOBILE.test(d)) return `86${d}`;
  return d;
}

/** The destination address for the chosen form (TON 1 international or TON 2 national, NPI 1 ISDN). */
export function destination(n: string, form: NumberForm): Address {
  const e = toE164Digits(n);
  if (form === 'national' && e.startsWith('86') && CN_MOBILE.test(e.slice(2))) return { digits: e.slice(2), ton: 2, npi: 1 };
  return { digits: e, ton: 1, npi: 1 };
}

/** An inbound sender as `+86…` when it is a (Chinese) international or 11-digit mobile; short codes stay as they are. */
export function normaliseSender(digits: string, ton?: number): string {
  const d = digits.replace(/^\+/, '');
  if (CN_MOBILE.test(d)) return `+86${d}`;
  if (ton === 1 || (d.startsWith('86') && CN_MOBILE.test(d.slice(2)))) return `+${d}`;
  return d;
}
