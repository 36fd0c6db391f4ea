/**
 * How to reach the unit by voice (protocols.md §4): `crd` names the voice channel, `cha` who calls whom.
 *
 * Seen forms: `gsm:+37284463906` (a GSM call, the unit's number), `gsm:` and `gsm:+` (GSM, number not given),
 * `no-voice:`; the element list adds `sip:…` and `tel:…`. A scheme not listed is kept as `none` with
 * `unrecognised: true` and its text: the alarm is still handled, only the call-back route is unknown.
 */

export type CrdScheme = 'gsm' | 'tel' | 'sip' | 'none';

export interface Crd {
  scheme: CrdScheme;
  /** gsm/tel: the number to call the unit back on, `+` and digits only; absent when none was given */
  number?: string;
  /** sip: the URI to call (`sip:` or `sips:`) */
  uri?: string;
  /** the element as sent (trimmed) */
  raw: string;
  /** a scheme we do not know, or a number/URI that does not read as one */
  unrecognised?: true;
}

/** RFC 3966 visual separators, allowed inside a number: `-`, `.`, `(`, `)` and spaces. */
const VISUAL = /[-.() ]/g;
const NUMBER = /^\+?[0-9]{3,20}$/;

function numberOf(text: string): string | undefined {
  const n = text.replace(VISUAL, '');
  return NUMBER.test(n) ? n : undefined;
}

export function parseCrd(crd: string): Crd {
  const raw = crd.trim();
  const colon = raw.indexOf(':');
  const scheme = (colon < 0 ? raw : raw.slice(0, colon)).toLowerCase();
  const rest = colon < 0 ? '' : raw.slice(colon + 1).trim();
  const out = (c: Omit<Crd, 'raw'>): Crd => ({ ...c, raw });

  if (scheme === 'no-voice') return out({ scheme: 'none' });
  if (scheme === 'gsm' || scheme === 'tel') {
    // `gsm:` and `gsm:+` (Telealarm, Doro): GSM voice, number not given
    if (rest === '' || rest === '+') return out({ scheme });
    // tel: parameters (`;phone-context=…`) are not part of the number
    const number = numberOf(scheme === 'tel' ? rest.split(';')[0]! : rest);
    return number === undefined ? out({ scheme, unrecognised: true }) : out({ scheme, number });
  }
  if (scheme === 'sip' || scheme === 'sips') {
    // a URI needs a host: `sip:user@host` or `sip:host`
    const host = rest.includes('@') ? rest.slice(rest.lastIndexOf('@') + 1) : rest;
    if (host === '' || /\s/.test(rest)) return out({ scheme: 'sip', unrecognised: true });
    return out({ scheme: 'sip', uri: `${scheme}:${rest}` });
  }
  return out({ scheme: 'none', unrecognised: true });
}

export type CallHandling = 'outgoing' | 'callback';

/** `cha` (§4): 0 the unit calls out, 1 the receiver calls the unit back; numeric, so `00` is 0. Else undefined. */
export function parseCha(cha: string | undefined): CallHandling | undefined {
  const t = cha?.trim();
  if (!t || !/^[0-9]{1,3}$/.test(t)) return undefined;
  const n = Number(t);
  return n === 0 ? 'outgoing' : n === 1 ? 'callback' : undefined;
}
