/**
 * The SCAIP XML bodies (protocols.md §4): the device's `<mrq>` (message request) in, the receiver's `<mrs>`
 * (message response) out.
 *
 * - Values stay strings: `dty` `02`, `0002` and `2` differ as text, and codes.ts compares them numerically.
 * - Values are trimmed (Doro sends `<cid> 8031372</cid>`, §4 "Real messages").
 * - A DOCTYPE (or an ENTITY declaration) rejects the document before parsing: nothing a unit sends needs one, and
 *   it is the door to entity expansion and external entities. Entities are then decoded here, not by the parser:
 *   the five XML ones and character references only; an unknown `&name;` stays as literal text rather than
 *   failing the message (an alarm must not be refused over its free text).
 * - Each element of `<mrq>` is read as raw text (fast-xml-parser `stopNodes`): markup inside a text field
 *   (`<dte><script>…</script></dte>`) is kept as text, never as structure. `buildMrs` escapes every value.
 * - Repeated elements: the first wins (a device that repeats `ref` gets its first one echoed).
 * - A failure carries the `<mrs>` status number to answer with, and the `ref` when it could be read, so the reply
 *   still lets the unit match it to its request.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Largest `<mrq>` body read, in bytes: the real messages are ~200 bytes. */
export const SCAIP_MAX_BODY = 8192;

/**
 * `<snu>` values (§4): 0 OK; 5 "not treated"; 7 "mandatory tag missing" [?]; 99 "undefined error" (used by one
 * receiver). 99 answers a body we cannot read at all: no more specific code is known for it.
 */
export const SNU = { ok: 0, notTreated: 5, mandatoryMissing: 7, undefinedError: 99 } as const;

/** The `<mrq>` elements §4 lists, in its order. */
export const MRQ_FIELDS = [
  'ver',
  'ref',
  'cid',
  'dty',
  'did',
  'dco',
  'dte',
  'mty',
  'stc',
  'stt',
  'pri',
  'lco',
  'lva',
  'lte',
  'ico',
  'ite',
  'crd',
  'cha',
  'sco',
  'hbo',
  'mreq',
  'ame',
] as const;
export type MrqField = (typeof MRQ_FIELDS)[number];

/** Mandatory in practice (§4). An empty or all-blank element counts as missing. */
export const MRQ_MANDATORY = ['ref', 'cid', 'dty'] as const;
export type MrqMandatory = (typeof MRQ_MANDATORY)[number];

/** A parsed `<mrq>`: trimmed strings; an optional element sent empty is `''`, one not sent is absent. */
export interface ScaipMrq {
  /** version (default 01.00) */
  ver?: string;
  /** the unit's reference for this message, echoed in `<mrs>` */
  ref: string;
  /** controller/caller id: the unit's identity (must equal the SIP From user) */
  cid: string;
  /** device type (codes.ts) */
  dty: string;
  /** device id */
  did?: string;
  /** device component */
  dco?: string;
  /** device text */
  dte?: string;
  /** message type: ME alarm, RE reset (alarm withdrawn), IN information, PI heartbeat */
  mty?: string;
  /** status code (codes.ts) */
  stc?: string;
  /** status text */
  stt?: string;
  /** priority */
  pri?: string;
  /** location code / value / text */
  lco?: string;
  lva?: string;
  lte?: string;
  /** info code / text */
  ico?: string;
  ite?: string;
  /** voice channel, e.g. `gsm:+372…`, `no-voice:` (crd.ts) */
  crd?: string;
  /** call handling: 0 outgoing, 1 callback (crd.ts) */
  cha?: string;
  /** system configuration */
  sco?: string;
  /** heartbeat options */
  hbo?: string;
  /** media request */
  mreq?: string;
  /** additional message */
  ame?: string;
  /** names of elements §4 does not list, in document order (kept for counting, not interpreted) */
  unknownTags: string[];
}

export type MrqError = 'empty' | 'too_large' | 'doctype' | 'malformed' | 'wrong_root' | 'missing_tag';

export type MrqResult =
  | { ok: true; mrq: ScaipMrq }
  | {
      ok: false;
      reason: MrqError;
      /** the `<snu>` to answer with */
      snu: number;
      /** the request's `ref`, when it could be read: echo it in the error `<mrs>` */
      ref?: string;
      /** for `missing_tag`: which of ref, cid, dty */
      missing?: MrqMandatory[];
      /** parser message or other detail, for the log */
      detail?: string;
    };

const CRITICAL_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  parseAttributeValue: false,
  // entities are decoded by decodeText below (the five XML ones and character references only)
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: false,
  // every child of <mrq> is raw text: markup inside a field stays text
  stopNodes: ['mrq.*'],
  maxNestedTags: 32,
  // fast-xml-parser throws on __proto__/constructor/prototype and renames hasOwnProperty & co. (prototype-pollution
  // guard). Renamed here with `#` (which cannot start an XML name), such an element is just an unknown tag, reported
  // by its own name, instead of failing the whole alarm.
  transformTagName: (name: string) => (CRITICAL_NAMES.has(name) ? `#${name}` : name),
  onDangerousProperty: (name: string) => `#${name}`,
});

const KNOWN = new Set<string>(MRQ_FIELDS);
const MAX_UNKNOWN_TAGS = 32;

/** A named or numeric entity reference. */
const ENTITY = /&(?:#([0-9]{1,8})|#[xX]([0-9A-Fa-f]{1,8})|(lt|gt|amp|quot|apos));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML 1.0 Char production: what a character reference may produce. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function decodeEntities(s: string): string {
  return s.replace(ENTITY, (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name) return NAMED[name]!;
    const cp = dec !== undefined ? parseInt(dec, 10) : parseInt(hex!, 16);
    return isXmlChar(cp) ? String.fromCodePoint(cp) : whole;
  });
}

const CDATA_OR_COMMENT = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->/g;

/** Raw element content → its text: CDATA kept literally, comments dropped, entities decoded, any markup left as text. */
export function decodeText(raw: string): string {
  let out = '';
  let at = 0;
  for (const m of raw.matchAll(CDATA_OR_COMMENT)) {
    out += decodeEntities(raw.slice(at, m.index));
    if (m[1] !== undefined) out += m[1];
    at = m.index + m[0].length;
  }
  return out + decodeEntities(raw.slice(at));
}

const REF_SALVAGE = /<ref>([^<]{1,256})<\/ref>/;

/** The `ref` of a document we cannot parse, read by pattern only (no entity expansion), for the error reply. */
function salvageRef(text: string): string | undefined {
  const m = REF_SALVAGE.exec(text);
  if (!m) return undefined;
  const ref = decodeEntities(m[1]!).trim();
  return ref === '' ? undefined : ref;
}

function fail(reason: MrqError, snu: number, extra: { ref?: string; missing?: MrqMandatory[]; detail?: string } = {}): MrqResult {
  const r: MrqResult = { ok: false, reason, snu };
  if (extra.ref !== undefined) r.ref = extra.ref;
  if (extra.missing) r.missing = extra.missing;
  if (extra.detail !== undefined) r.detail = extra.detail;
  return r;
}

function firstString(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' ? x : undefined;
}

/** The `<mrq>` in a SIP MESSAGE body (UTF-8). Never throws. */
export function parseMrq(body: string | Buffer, maxBody = SCAIP_MAX_BODY): MrqResult {
  try {
    return parse(body, maxBody);
  } catch (e) {
    // not expected (the parser is wrapped below): an error reply is better than a dropped alarm
    return fail('malformed', SNU.undefinedError, { detail: `decoder error: ${(e as Error).message}` });
  }
}

function parse(body: string | Buffer, maxBody: number): MrqResult {
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (size > maxBody) return fail('too_large', SNU.undefinedError, { detail: `${size} bytes > ${maxBody}` });
  // a BOM and leading blank lines are tolerated: the XML declaration must otherwise come first
  const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '').trimStart();
  if (text === '') return fail('empty', SNU.undefinedError);
  // no ref salvaged: in such a document the ref itself may be an entity, so what we read is not what it says
  if (/<!(DOCTYPE|ENTITY)/i.test(text)) return fail('doctype', SNU.undefinedError);

  const valid = XMLValidator.validate(text);
  if (valid !== true) return fail('malformed', SNU.undefinedError, { ref: salvageRef(text), detail: valid.err.msg });
  // the validator accepts text after the root element (`<mrq/>junk`)
  if (!/>\s*$/.test(text)) return fail('malformed', SNU.undefinedError, { ref: salvageRef(text), detail: 'text after the root element' });

  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch (e) {
    // not expected after the validator (names fast-xml-parser refuses are renamed above)
    return fail('malformed', SNU.undefinedError, { ref: salvageRef(text), detail: (e as Error).message });
  }
  const roots = Object.keys(doc).filter((k) => k !== '#text');
  if (roots.length !== 1 || roots[0] !== 'mrq') {
    return fail('wrong_root', SNU.undefinedError, { ref: salvageRef(text), detail: `root ${roots.join(', ') || '(none)'}` });
  }
  const root = doc.mrq;
  // several <mrq> roots parse as an array; <mrq/> as '' (no children)
  if (Array.isArray(root)) return fail('wrong_root', SNU.undefinedError, { ref: salvageRef(text), detail: 'several mrq roots' });
  const el: Record<string, unknown> = root !== null && typeof root === 'object' ? (root as Record<string, unknown>) : {};

  const values: Partial<Record<MrqField, string>> = {};
  const unknownTags: string[] = [];
  for (const [name, v] of Object.entries(el)) {
    if (name === '#text') continue; // stray text between elements
    if (!KNOWN.has(name)) {
      if (unknownTags.length < MAX_UNKNOWN_TAGS) unknownTags.push(name.replace(/^#/, ''));
      continue;
    }
    const raw = firstString(v);
    if (raw !== undefined) values[name as MrqField] = decodeText(raw).trim();
  }

  const ref = values.ref || undefined;
  const missing = MRQ_MANDATORY.filter((k) => !values[k]);
  if (missing.length) return fail('missing_tag', SNU.mandatoryMissing, { ref, missing, detail: `missing ${missing.join(', ')}` });

  const mrq: ScaipMrq = { ...values, ref: values.ref!, cid: values.cid!, dty: values.dty!, unknownTags };
  return { ok: true, mrq };
}

/** The `<mrs>` elements (§4); all but `snu` optional. */
export interface MrsFields {
  /** the request's `ref`; omitted only when the request had none readable */
  ref?: string;
  /** status number: 0 OK (SNU) */
  snu: number;
  /** status text */
  ste?: string;
  /** version */
  cve?: string;
  /** media reply: 0 no voice, 1 duplex … */
  mre?: string | number;
  /** call-handling reply: 61 pre-defined receiver, 62 transferred number */
  cre?: string | number;
  /** number to call */
  tnu?: string;
  /** heartbeat interval [?] */
  hbi?: string | number;
}

/** Characters XML 1.0 cannot carry even escaped (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text for an XML element: escaped, characters XML cannot carry dropped. */
export function escapeXml(s: string): string {
  return s
    .replace(NOT_XML_CHAR, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const MRS_ORDER = ['ref', 'snu', 'ste', 'cve', 'mre', 'cre', 'tnu', 'hbi'] as const;

/** `<mrs><ref>…</ref><snu>0</snu>…</mrs>`: no XML declaration, as in §4's minimal response. */
export function buildMrs(fields: MrsFields): string {
  let out = '<mrs>';
  for (const k of MRS_ORDER) {
    const v = fields[k];
    if (v === undefined) continue;
    out += `<${k}>${escapeXml(String(v))}</${k}>`;
  }
  return `${out}</mrs>`;
}

/** `application/scaip+xml`, parameters (charset) and case ignored. */
export function isScaipContentType(value: string | undefined): boolean {
  return value !== undefined && value.split(';')[0]!.trim().toLowerCase() === 'application/scaip+xml';
}
