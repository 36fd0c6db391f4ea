/**
 * The event inside a data block (dc09.md §3): ADM-CID `#AAAA|QEEE GG ZZZ`, SIA-DCS `#AAAA|N<modifiers>/<CC><addr>^text^`.
 * Data that does not parse is kept as an `unparsed` event with its text, never dropped (§4 step 9).
 */
import { classifyEvent, type CodeOptions, type EventClassification } from '../contactid/codes.js';
import { parseContactId } from '../contactid/decoder.js';
import { buildContactId } from '../contactid/encoder.js';
import { lookupSiaCode, type SiaCodeEntry } from './sia-codes.js';

export type CidQualifier = 'new' | 'restore' | 'still_present';

/** An ADM-CID event (§3.1). */
export interface CidEvent {
  format: 'cid';
  /** the account inside the data (`#AAAA|`); may differ from the header's when a relay reports for others */
  account?: string;
  /** Q: 1 new event / opening, 3 restore / closing, 6 still present (DC-05) */
  qualifier: CidQualifier;
  qualifierDigit: '1' | '3' | '6';
  code: string;
  /** `00` = none */
  group: string;
  /** zone or user; `000` = none */
  zone: string;
  /** the meaning from the Contact ID tables (vendor and device type applied), qualifier applied */
  classification: EventClassification;
}

/** A SIA-DCS event (§3.2). */
export interface SiaEvent {
  format: 'sia';
  account?: string;
  /** the block started with `N` (new event) */
  newEvent: boolean;
  /** two upper-case letters, e.g. `MA` */
  code: string;
  /** the number after the code (zone, point, user or area, per code); '' when none */
  number: string;
  /** two-letter lower-case modifiers before the code: `ri` area, `id` user, `ti` time hh:mm, `pi` peripheral… */
  modifiers: Record<string, string>;
  /** `^free text^` */
  text?: string;
  /** what followed the first event (further events, §3.2: decode the first, log the rest) */
  more?: string;
  /** the table's entry; undefined for a code the table does not list */
  entry?: SiaCodeEntry;
}

/** Data we could not read as an event of its token: kept with its text. */
export interface UnparsedEvent {
  format: 'unparsed';
  account?: string;
  text: string;
}

export type Dc09Event = CidEvent | SiaEvent | UnparsedEvent;

/** `#AAAA|rest` → account and rest. `|rest` has an empty account (§3.2); with no `|` there is no account part. */
export function splitAccount(data: string): { account?: string; body: string } {
  const bar = data.indexOf('|');
  if (bar < 0) return { body: data };
  const head = data.slice(0, bar);
  return { account: head.startsWith('#') ? head.slice(1) : head, body: data.slice(bar + 1) };
}

/** `QEEE GG ZZZ` (§3.1; the spaces tolerated missing) */
const CID_BODY = /^([136])([0-9A-F]{3}) ?([0-9A-F]{2}) ?([0-9A-F]{3})$/i;
const QUALIFIER: Record<'1' | '3' | '6', CidQualifier> = { '1': 'new', '3': 'restore', '6': 'still_present' };

/**
 * ADM-CID data → event. The digits go through the existing Contact ID decoder as the 16-digit message
 * `AAAA 18 Q EEE GG ZZZ S` (§3.1), so both paths accept the same digits and share one code table. The account
 * there is a stand-in when the DC-09 one is not 4 Contact ID digits: DC-09 accounts are 1-16 characters.
 */
export function parseCidData(data: string, opts: CodeOptions = {}): CidEvent | UnparsedEvent {
  const { account, body } = splitAccount(data);
  const unparsed: UnparsedEvent = account === undefined ? { format: 'unparsed', text: data } : { format: 'unparsed', account, text: data };
  const m = CID_BODY.exec(body);
  if (!m) return unparsed;
  const q = m[1] as '1' | '3' | '6';
  let digits: string;
  try {
    const acct = account !== undefined && /^[0-9B-F]{4}$/i.test(account) ? account : '0000';
    digits = buildContactId({ account: acct, qualifier: q, code: m[2]!, group: m[3]!, zone: m[4]! });
  } catch {
    return unparsed; // not Contact ID digits (`A` is not one)
  }
  const p = parseContactId(digits);
  if (!p.ok) return unparsed;
  const c = p.message;
  const ev: CidEvent = {
    format: 'cid',
    qualifier: QUALIFIER[q],
    qualifierDigit: q,
    code: c.code,
    group: c.group,
    zone: c.zone,
    classification: classifyEvent(c.code, c.qualifier, opts),
  };
  if (account !== undefined) ev.account = account;
  return ev;
}

/**
 * `N` block type, then modifiers (`ri1`, `ti12:30`, `/`-separated or run together as in `Nri1CL0`), then the
 * event letters and number, then `^text^`, then anything more. `N` is the block type only when what follows could
 * not also be read as a code starting with N.
 */
const SIA_BODY = /^(N(?=[a-z/]|[A-Z]{2}))?((?:\/?[a-z]{2}[^/^A-Za-z]*)*)\/?([A-Z]{2})(\d*)(?:\^([^^]*)\^?)?(.*)$/s;
const MODIFIER = /([a-z]{2})([^/^A-Za-z]*)/g;

/** SIA-DCS data → event (the first one in the block, §3.2). */
export function parseSiaData(data: string): SiaEvent | UnparsedEvent {
  const { account, body } = splitAccount(data);
  const m = SIA_BODY.exec(body);
  if (!m) return account === undefined ? { format: 'unparsed', text: data } : { format: 'unparsed', account, text: data };
  const modifiers: Record<string, string> = {};
  for (const mod of m[2]!.matchAll(MODIFIER)) modifiers[mod[1]!] = mod[2]!;
  const ev: SiaEvent = { format: 'sia', newEvent: m[1] === 'N', code: m[3]!, number: m[4]!, modifiers };
  if (account !== undefined) ev.account = account;
  if (m[5] !== undefined) ev.text = m[5];
  if (m[6]) ev.more = m[6];
  const entry = lookupSiaCode(ev.code);
  if (entry) ev.entry = entry;
  return ev;
}
