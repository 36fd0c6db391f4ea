/**
 * Phone number normalisation for lookups (caller ID, contacts, SIM numbers).
 * Canonical forms: mobile `1XXXXXXXXXX` (11 digits); landline with area code `0AAxxxxxxxx`;
 * other international numbers `+<digits>`. A landline given without its area code gets the centre's.
 */
export type PhoneResult = { ok: true; number: string; type: 'mobile' | 'landline' | 'international' | 'service' } | { ok: false; reason: string };

export function normalisePhone(input: string, defaultAreaCode = '021'): PhoneResult {
  const raw = String(input ?? '').trim();
  if (raw === '') return { ok: false, reason: 'empty' };
  if (!/^[+\d\s\-().]+$/.test(raw)) return { ok: false, reason: 'only digits, spaces, +, -, ( and ) are allowed' };
  let d = raw.replace(/[\s\-().]/g, '');
  const plus = d.startsWith('+');
  d = d.replace(/^\+/, '');
  if (plus || d.startsWith('00')) {
    d = d.replace(/^00/, '');
    if (!d.startsWith('86')) {
      return d.length >= 7 && d.length <= 15 ? { ok: true, number: `+${d}`, type: 'international' } : { ok: false, reason: 'international number must have 7-15 digits' };
    }
    d = d.slice(2);
    // +86 landlines drop the trunk 0: +86 21 12345678 → 02112345678
    if (!d.startsWith('1') && !d.startsWith('0')) d = `0${d}`;
  } else if (/^861[3-9]\d{9}$/.test(d)) {
    d = d.slice(2);
  }
  if (/^1[3-9]\d{9}$/.test(d)) return { ok: true, number: d, type: 'mobile' };
  if (/^0[1-9]\d{8,10}$/.test(d)) return { ok: true, number: d, type: 'landline' };
  if (/^[2-9]\d{6,7}$/.test(d)) return { ok: true, number: `${defaultAreaCode}${d}`, type: 'landline' };
  if (/^(110|119|120|122|12349|96\d{3,4})$/.test(d)) return { ok: true, number: d, type: 'service' };
  return { ok: false, reason: 'not a mobile (11 digits, 1…), a landline (area code + 7-8 digits) or an international number (+…)' };
}
