/**
 * The fuzz scenario's SCAIP part (issue 26): SIP MESSAGE requests through the live SCAIP receiver (SCAIP_SIP_PORT,
 * UDP), written here as a SCAIP unit writes them (RFC 3261/3428 and protocols.md §4), never with protocols/scaip:
 *   - slots: one UDP socket each (its own source address), one input per datagram: MESSAGEs from registered units
 *     (valid, and with their headers, Content-Length, Content-Type, method, request line, Via, From or body
 *     mutated), from unknown units, with a From user that is not the `cid`, with broken, huge, DOCTYPE/ENTITY or
 *     wrong-root XML, missing or empty mandatory tags, entities, markup in text fields, bare-LF line endings, SIP
 *     responses and keep-alive CRLFs sent to the receiver, byte-identical retransmissions of earlier requests,
 *     byte-level mutations of whole datagrams, and garbage;
 *   - every `<mrs>` MESSAGE the receiver sends back is answered 200 OK (copying Via, From, To, Call-ID, CSeq);
 *     now and then a provisional or a garbled response goes first, and a few are answered with a final error
 *     status, so the receiver's client transaction sees those too;
 *   - a batch ends with a valid PI heartbeat of the slot's own unit, whose 200 paces the next batch (the receiver
 *     answers after the commit; datagrams are handled concurrently, so this is a pace, not an order); all slots
 *     together keep what they have in flight within what the receiver's socket buffer holds (UdpWindow), so the
 *     kernel drops no input and every request can be checked.
 * A request whose outcome is known from its construction (valid → 200 then `<mrs>` snu 0; unknown unit or From ≠
 * cid → 200, snu 5; a mandatory tag missing → 200, snu 7; XML unreadable, DOCTYPE, wrong root, body too large →
 * 200, snu 99; another Content-Type → 415; OPTIONS → 200; another method → 405; a required header missing → no
 * answer) is checked against what came back, matched by Call-ID: wrong answers and missing ones are counted apart,
 * 20 samples of each kept with the request. A malformed MESSAGE from the receiver is noted with the request too.
 *
 * ScaipSos: a registered unit on its own clean socket sends an alarm (mty ME, stc 010, a new ref) every 2 s,
 * resending the MESSAGE at T1 doubling to T2 until a final response (§17.1.2.2); acknowledged = 200 and then the
 * `<mrs>` with its ref and snu 0.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { Budget } from '../lib/fuzz-io.js';
import { UdpWindow } from './fuzz-dc09.js';
import { mutate, Rng } from '../lib/fuzz-wire.js';
import { metricSum, type SosRecord, type SosWindow } from '../lib/probe.js';
import { dist, sleep } from '../lib/stats.js';

export const SCAIP_SLOTS = 8;
/** datagrams per batch before the marker, and at most about this much kernel buffer (a bigger datagram goes alone) */
const BATCH = 40;
const BATCH_CHARGE = 24_576;
/**
 * The kernel buffer all slots' batches may take at once in the receiver's socket buffer (UdpWindow, fuzz-dc09.ts):
 * less than DC-09's, because the answers to the receiver's <mrs> MESSAGEs go to the same socket.
 */
const WINDOW = 96 * 1024;
const MAX_DATAGRAM = 65_507;
const T1 = 500;
const T2 = 4000;

/** Registered units: the cids of §4's real messages (vendor set on two), plus each slot's marker unit and the SOS unit. */
export const SCAIP_UNITS = {
  registered: [
    { cid: '26317', meta: { vendor: 'essence' } },
    { cid: '10149471', meta: { vendor: 'possum' } },
    { cid: '999998', meta: {} },
    { cid: '8031372', meta: {} },
  ],
  /** nobody's, or another protocol's identifier (fuzz.ts registers 1234 as Contact ID, A001 as DC-09) */
  unknown: ['12345', '0', 'A001', '1234', 'unit-x', '99999999999999999999999999999999', '868120000000000'],
  sos: '92000',
};
export const scaipMarkerUnit = (k: number) => `9100${k}`;

/** What fuzz.ts registers: POST /api/devices bodies. */
export function scaipRegistrations(): Record<string, unknown>[] {
  return [...SCAIP_UNITS.registered, ...Array.from({ length: SCAIP_SLOTS }, (_, k) => ({ cid: scaipMarkerUnit(k), meta: {} })), { cid: SCAIP_UNITS.sos, meta: {} }].map((u) => ({ identifier: u.cid, protocol: 'scaip', meta: u.meta }));
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies (protocols.md §4)

const mrq = (fields: [string, string][]) => `<mrq>${fields.map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</mrq>`;

/** Valid `<mrq>` field lists for `cid` with reference `ref`: §4's real messages, and a few more of the element list. */
function mrqSeeds(cid: string, ref: string, rng: Rng): [string, string][][] {
  const phone = `+46${rng.digits(9)}`;
  return [
    [['ref', ref], ['cha', '0'], ['mty', 'PI'], ['cid', cid], ['dty', '02'], ['did', '00'], ['crd', 'no-voice:'], ['stc', '102']],
    [['mty', 'PI'], ['ref', ref], ['cid', cid], ['dty', '2']],
    [['ref', ref], ['cid', cid], ['dty', '0002'], ['mty', 'PI'], ['stc', '0009'], ['lco', '002'], ['crd', 'gsm:'], ['cha', '0']],
    [['ref', ref], ['cha', '0'], ['mty', 'ME'], ['cid', cid], ['dty', '02'], ['did', '00'], ['crd', `gsm:${phone}`], ['stc', '010']],
    [['ref', ref], ['cid', cid], ['dty', '0004'], ['mty', 'ME'], ['stc', '0010'], ['lco', '002'], ['crd', 'gsm:'], ['cha', '0']],
    [['ref', ref], ['mty', 'ME'], ['cid', ` ${cid}`], ['dty', '0004'], ['stc', '0010'], ['crd', 'gsm:+']],
    [['ref', ref], ['mty', 'ME'], ['cid', cid], ['dty', rng.pick(['0005', '0003', '0007', '0010', '0099', '5'])], ['stc', rng.pick(['010', '0067', '0009', '19', '102'])], ['dte', 'Fall detected &amp; confirmed'], ['lte', 'Bedroom'], ['crd', rng.pick([`tel:${phone}`, 'sip:carer@example.org', 'no-voice:', `gsm:${phone}`])], ['cha', rng.pick(['0', '1'])], ['pri', '1']],
    [['ver', '01.00'], ['ref', ref], ['mty', 'RE'], ['cid', cid], ['dty', '0003'], ['stc', '19']],
    [['ref', ref], ['mty', 'IN'], ['cid', cid], ['dty', '02'], ['ico', '12'], ['ite', 'battery low'], ['stt', 'info'], ['sco', '1'], ['hbo', '3600'], ['mreq', '0'], ['ame', 'x']],
  ];
}

const ENTITY_BOMB = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>';
const EXTERNAL = '<?xml version="1.0"?><!DOCTYPE mrq [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>';

type Outcome = { status?: number | 'none'; snu?: number | 'none' };

/** A body mutated at the XML level; `expect` when its outcome is known from the construction ('valid': still a valid `<mrq>`). */
function mutateBody(fields: [string, string][], rng: Rng): { body: string | Buffer; expect?: Outcome | 'valid' } {
  const f = fields.map(([k, v]): [string, string] => [k, v]);
  const idx = (name: string) => f.findIndex(([k]) => k === name);
  switch (rng.int(16)) {
    case 0: {
      // a mandatory tag removed or emptied: snu 7
      const name = rng.pick(['ref', 'cid', 'dty']);
      const i = idx(name);
      if (i >= 0) {
        if (rng.chance(0.5)) f.splice(i, 1);
        else f[i]![1] = rng.pick(['', ' ', '\t']);
      }
      // without a cid (or with a blank one) the From check cannot pass either, but the tag check comes first
      return { body: mrq(f), expect: { status: 200, snu: 7 } };
    }
    case 1:
      // DOCTYPE / ENTITY: refused before parsing, snu 99
      return { body: `${rng.pick([ENTITY_BOMB, EXTERNAL, '<!DOCTYPE mrq>', '<!doctype mrq SYSTEM "http://127.0.0.1:1/x.dtd">', '<!ENTITY x "y">'])}${mrq(f.map(([k, v]) => [k, k === 'dte' ? '&lol3;' : k === 'crd' ? '&xxe;' : v]))}`, expect: { status: 200, snu: 99 } };
    case 2:
      // not well-formed: snu 99
      return { body: rng.pick([mrq(f).replace(/<\/mrq>$/, ''), mrq(f).replace('</ref>', '</rfe>'), mrq(f).replace('<mrq>', '<mrq'), `${mrq(f)}junk`, mrq(f).replace('</cid>', ''), '<mrq><ref>1</ref', '<', '<mrq><ref>a</ref><ref>b</mrq>']), expect: { status: 200, snu: 99 } };
    case 3:
      // another root, several roots, nothing: snu 99
      return { body: rng.pick([mrq(f).replace(/mrq>/g, 'mrs>'), `${mrq(f)}${mrq(f)}`, mrq(f).replace(/mrq>/g, 'MRQ>'), mrq(f).replace(/mrq>/g, 'scaip>'), '<mrq/>'.replace('<mrq/>', '<x/>'), '']), expect: { status: 200, snu: 99 } };
    case 4: {
      // too large (> 8 KiB): snu 99; now and then past the SIP message limit (16 KiB): dropped
      const big = rng.chance(0.2);
      const n = big ? 17_000 + rng.int(40_000) : 8200 + rng.int(6000);
      const i = idx('dte');
      const g = i >= 0 ? f : [...f, ['dte', ''] as [string, string]];
      g[i >= 0 ? i : g.length - 1]![1] = 'x'.repeat(n);
      return { body: mrq(g), expect: big ? { status: 'none' } : { status: 200, snu: 99 } };
    }
    case 5:
      // unknown tags, many, and the prototype's names: still a valid message
      return { body: mrq([...f, ...Array.from({ length: rng.pick([1, 5, 40]) }, (_, k): [string, string] => [rng.pick(['xyz', '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', `t${k}`]), 'v'])]), expect: 'valid' };
    case 6: {
      // markup, CDATA, comments, entities in a text field
      const v = rng.pick(['<script>alert(1)</script>', '<![CDATA[<b>x</b>]]>', 'a<!-- c -->b', '&amp;&lt;&gt;&quot;&apos;', '&#0;&#x110000;&#99999999;', '&unknown;', '&#x1F600;', '<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>x</a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a>', '${jndi:ldap://x}', "'; DROP TABLE alarms; --"]);
      return { body: mrq([...f.filter(([k]) => k !== 'dte'), ['dte', v]]) };
    }
    case 7:
      // a tag repeated (the first wins)
      return { body: mrq([...f, ...f.slice(0, 1 + rng.int(f.length))]), expect: 'valid' };
    case 8: {
      // values at the edges
      const k = rng.pick(['stc', 'dty', 'mty', 'crd', 'cha', 'pri', 'lco', 'ver']);
      const v = rng.pick(['', 'ABC', '99999999999', '-1', '0x10', '１０', 'ME', 'me', 'XX', 'gsm:+372 ; x', `tel:${'9'.repeat(300)}`, 'foo:bar', 'sip:', 'gsm', '\u0000', ' 010 ']);
      const i = idx(k);
      if (i >= 0) f[i]![1] = v;
      else f.push([k, v]);
      return { body: mrq(f) };
    }
    case 9:
      // attributes, namespaces, a declaration, a BOM, blank lines first
      return { body: rng.pick([`<?xml version="1.0" encoding="UTF-8"?>${mrq(f)}`, `\uFEFF${mrq(f)}`, `\r\n\r\n  ${mrq(f)}`, mrq(f).replace('<mrq>', '<mrq xmlns="urn:scaip" a="1">'), mrq(f).replace('<ref>', '<ref id="x">'), `<?xml version="1.0" encoding="ISO-8859-1"?>${mrq(f)}`]), expect: 'valid' };
    case 10:
      // non-UTF-8 and control bytes in a value (written as latin1: 0xFF 0xFE 0x01)
      return { body: Buffer.from(mrq(f.map(([k, v]): [string, string] => [k, k === 'dte' || (k === 'ref' && rng.chance(0.3)) ? `${v}\u00ff\u00fe\u0001` : v])), 'latin1') };
    default:
      return { body: mutate(Buffer.from(mrq(f), 'utf8'), rng, 'text', rng.chance(0.02) ? 20_000 : 4000) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Requests (RFC 3261 §7, §8.1.1; RFC 3428)

interface Req {
  method: string;
  uri: string;
  version: string;
  headers: [string, string][];
  body: Buffer;
  eol: string;
}

const hex = (rng: Rng, n: number) => rng.bytes(n).toString('hex');

function serialise(r: Req): Buffer {
  const head = [`${r.method} ${r.uri} ${r.version}`, ...r.headers.map(([k, v]) => (k === '' ? v : `${k}: ${v}`))].join(r.eol);
  return Buffer.concat([Buffer.from(`${head}${r.eol}${r.eol}`, 'latin1'), r.body]);
}

/** A MESSAGE as a unit writes it: Via (rport), Max-Forwards, From (tag), To, Call-ID, CSeq, Content-Type, Content-Length. */
function unitRequest(o: { fromUser: string; port: number; localAddr: string; localPort: number; branch: string; callId: string; cseq: number; body: Buffer }): Req {
  return {
    method: 'MESSAGE',
    uri: `sip:receiver@127.0.0.1:${o.port}`,
    version: 'SIP/2.0',
    headers: [
      ['Via', `SIP/2.0/UDP ${o.localAddr}:${o.localPort};branch=${o.branch};rport`],
      ['Max-Forwards', '70'],
      ['From', `<sip:${o.fromUser}@${o.localAddr}:${o.localPort}>;tag=${o.callId.slice(0, 8)}`],
      ['To', `<sip:receiver@127.0.0.1:${o.port}>`],
      ['Call-ID', o.callId],
      ['CSeq', `${o.cseq} MESSAGE`],
      ['Content-Type', 'application/scaip+xml'],
      ['Content-Length', String(o.body.length)],
    ],
    body: o.body,
    eol: '\r\n',
  };
}

const setHeader = (r: Req, name: string, value: string | undefined) => {
  const i = r.headers.findIndex(([k]) => k.toLowerCase() === name.toLowerCase());
  if (value === undefined) {
    if (i >= 0) r.headers.splice(i, 1);
  } else if (i >= 0) r.headers[i]![1] = value;
  else r.headers.push([name, value]);
};

/** SIP-level mutations; returns the outcome when it is known. `expect` is the body's outcome before this. */
function mutateRequest(r: Req, rng: Rng, expect: Outcome | undefined, units: string[]): Outcome | undefined {
  switch (rng.int(14)) {
    case 0: {
      // a required header missing: dropped, no answer
      setHeader(r, rng.pick(['Via', 'From', 'To', 'Call-ID', 'CSeq']), undefined);
      return { status: 'none' };
    }
    case 1:
      // optional headers missing: still handled
      setHeader(r, rng.pick(['Max-Forwards', 'Content-Length']), undefined);
      return expect;
    case 2: {
      // Content-Length lies
      const n = r.body.length;
      const v = rng.pick([n - 1, n + 1, 0, n + 1000]);
      setHeader(r, 'Content-Length', String(Math.max(0, v)));
      if (v > n) return { status: 'none' }; // truncated_body: discarded
      return undefined; // the body cut short: anything from snu 0 to 99
    }
    case 3:
      setHeader(r, 'Content-Length', rng.pick(['-1', 'abc', '9999999999', ' ', '1e3', '0x10']));
      r.headers.push(...(rng.chance(0.3) ? [['Content-Length', '0'] as [string, string]] : []));
      return { status: 'none' };
    case 4: {
      // another body type: 415 (the parameters and the case of the type do not matter)
      const ct = rng.pick(['text/plain', 'application/xml', 'application/scaip+xmlx', '', 'application/pidf+xml', 'multipart/mixed;boundary=x']);
      setHeader(r, 'Content-Type', ct === '' && rng.chance(0.5) ? undefined : ct);
      return { status: 415, snu: 'none' };
    }
    case 5:
      setHeader(r, 'Content-Type', rng.pick(['APPLICATION/SCAIP+XML', 'application/scaip+xml; charset=utf-8', ' application/scaip+xml ']));
      return expect;
    case 6: {
      // another method: OPTIONS 200, the rest 405 (a method is case-sensitive)
      const m = rng.pick(['OPTIONS', 'INVITE', 'REGISTER', 'BYE', 'message', 'SUBSCRIBE', 'NOTIFY', 'INFO']);
      r.method = m;
      setHeader(r, 'CSeq', `1 ${m}`);
      return m === 'OPTIONS' ? { status: 200, snu: 'none' } : { status: 405, snu: 'none' };
    }
    case 7: {
      // the request line broken
      const x = rng.int(5);
      if (x === 0) r.version = rng.pick(['SIP/1.0', 'SIP/3.0', 'HTTP/1.1', 'SIP/2.00']);
      else if (x === 1) r.uri = '';
      else if (x === 2) r.method = rng.pick(['MES SAGE', 'MESSAGE\u0000', 'ÄÖ', '']);
      else if (x === 3) r.version = 'sip/2.0';
      else r.uri = rng.pick(['sip:', 'x', 'sip:receiver@[::1]:5070', `sip:${'a'.repeat(2000)}@h`]);
      return x === 3 || x === 4 ? expect : { status: 'none' };
    }
    case 8: {
      // CSeq broken
      const v = rng.pick(['abc MESSAGE', '1', '4294967296 MESSAGE', '1 M@SSAGE', '', '-1 MESSAGE']);
      setHeader(r, 'CSeq', v);
      return { status: 'none' };
    }
    case 9: {
      // From: another unit's user (≠ cid), no user, a tel: URI, no tag, a display name
      const v = rng.pick([`<sip:${rng.pick(units)}@127.0.0.1>;tag=1`, '<sip:127.0.0.1>;tag=1', '<tel:+4612345>;tag=1', '"Unit" <sip:x@127.0.0.1>', 'garbage', '<sip:@127.0.0.1>;tag=1']);
      setHeader(r, 'From', v);
      return expect && (expect.snu === 0 || expect.snu === 5) ? { status: 200, snu: 5 } : undefined;
    }
    case 10: {
      // Via: no branch (RFC 2543), no cookie, IPv6 sent-by, received/rport, several values, TCP
      const v = rng.pick(['SIP/2.0/UDP 127.0.0.1:5060', 'SIP/2.0/UDP 127.0.0.1;branch=abc', 'SIP/2.0/UDP [::1]:5060;branch=z9hG4bKx;rport', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKy;received=1.2.3.4;rport=1', 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKz', 'SIP/2.0/UDP a:1;branch=z9hG4bKa, SIP/2.0/UDP b:2;branch=z9hG4bKb', 'garbage', 'SIP/2.0/UDP 127.0.0.1:99999;branch=z9hG4bK1']);
      setHeader(r, 'Via', v.replace(/z9hG4bK([a-z]*)/, `z9hG4bK$1${hex(rng, 6)}`));
      return undefined;
    }
    case 11: {
      // header forms: compact names, lower case, folding, duplicates, a very long value
      const x = rng.int(5);
      if (x === 0) r.headers = r.headers.map(([k, v]): [string, string] => [({ Via: 'v', From: 'f', To: 't', 'Call-ID': 'i', 'Content-Type': 'c', 'Content-Length': 'l' } as Record<string, string>)[k] ?? k, v]);
      else if (x === 1) r.headers = r.headers.map(([k, v]): [string, string] => [k.toLowerCase(), v]);
      else if (x === 2) r.headers.splice(1, 0, ['Subject', 'folded'], ['', ' continued line']);
      else if (x === 3) r.headers.push(['X-Long', 'y'.repeat(rng.pick([100, 5000, 20_000]))]);
      else r.headers.push(['Via', 'SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKsecond']);
      return x === 3 ? undefined : expect;
    }
    case 12:
      // bare LF line endings (tolerated), leading CRLFs
      if (rng.chance(0.5)) r.eol = '\n';
      else r.method = `\r\n\r\n${r.method}`;
      return expect;
    default: {
      // a header line without a colon, a name with a space, an injected CRLF
      r.headers.splice(1 + rng.int(r.headers.length), 0, rng.pick([['', 'NoColonHere'], ['Bad Name', 'x'], ['X-Inject', 'a\r\nVia: SIP/2.0/UDP evil'], ['', ':empty name']] as [string, string][]));
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What comes back

interface Incoming {
  start: string;
  status?: number;
  method?: string;
  headers: Map<string, string>;
  body: string;
}

function parseIncoming(b: Buffer): Incoming | undefined {
  const text = b.toString('utf8');
  const cut = text.indexOf('\r\n\r\n');
  if (cut < 0) return undefined;
  const [start = '', ...lines] = text.slice(0, cut).split('\r\n');
  const headers = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0 && !headers.has(l.slice(0, i).trim().toLowerCase())) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  const st = /^SIP\/2\.0 (\d{3})/.exec(start);
  const rq = /^([A-Z]+) \S+ SIP\/2\.0$/.exec(start);
  return { start, ...(st ? { status: Number(st[1]) } : {}), ...(rq ? { method: rq[1] } : {}), headers, body: text.slice(cut + 4) };
}

/** The 200 OK to the receiver's `<mrs>` MESSAGE (§8.2.6: Via, From, To with a tag, Call-ID, CSeq copied). */
function okFor(m: Incoming, status = 200, reason = 'OK'): Buffer {
  const h = (n: string) => m.headers.get(n) ?? '';
  return Buffer.from([`SIP/2.0 ${status} ${reason}`, `Via: ${h('via')}`, `From: ${h('from')}`, `To: ${h('to')};tag=u${h('cseq').split(' ')[0]}`, `Call-ID: ${h('call-id')}`, `CSeq: ${h('cseq')}`, 'Content-Length: 0', '', ''].join('\r\n'), 'utf8');
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

interface Expected extends Outcome {
  ref?: string;
  at: number;
  request: string;
  gotStatus?: number;
  gotSnu?: number;
}

/**
 * Counts and checks for one slot's socket: answers the receiver's MESSAGEs, reads its responses, and compares
 * both with what each request expected (by Call-ID).
 */
class Listener {
  readonly expected = new Map<string, Expected>();
  private readonly waiting = new Map<string, () => void>();

  constructor(
    private readonly u: UdpSocket,
    private readonly port: number,
    private readonly b: Budget,
    private readonly rng: Rng,
    private readonly bad: string[],
  ) {
    u.on('message', (m: Buffer) => this.on(m));
  }

  /** a deviation: `wrong` (an answer other than expected) or `missing` (none came: a lost datagram, or a bug) */
  private note(what: string, e?: Expected, kind: 'wrong' | 'missing' = 'wrong'): void {
    this.b.add(`check.${kind}`);
    const samples = this.bad.filter((x) => x.startsWith(kind)).length;
    if (samples < 20) this.bad.push(`${kind}: ${what}${e ? ` — request: ${JSON.stringify(e.request.slice(0, 600))}` : ''}`);
  }

  /** resolves when the final response to `callId` arrives (or `ms` pass): true when it came */
  wait(callId: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiting.delete(callId);
        resolve(false);
      }, ms);
      this.waiting.set(callId, () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  private on(raw: Buffer): void {
    const m = parseIncoming(raw);
    if (!m) {
      this.b.add('rx.unreadable');
      this.note(`unreadable datagram from the receiver: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
      return;
    }
    const callId = m.headers.get('call-id') ?? '';
    const e = this.expected.get(callId);
    if (m.status !== undefined) {
      this.b.add(`rx.status.${m.status}`);
      if (m.status < 200) return;
      if (e && e.gotStatus === undefined) {
        e.gotStatus = m.status;
        if (e.status !== undefined && e.status !== m.status) this.note(`expected ${e.status}, got ${m.status}`, e);
      }
      this.waiting.get(callId)?.();
      this.waiting.delete(callId);
      return;
    }
    if (m.method !== 'MESSAGE') {
      if (!m.start.startsWith('MESSAGE ')) {
        this.b.add('rx.other');
        this.note(`unexpected datagram from the receiver: ${JSON.stringify(m.start.slice(0, 100))}`, e);
        return;
      }
      // a MESSAGE whose request line is not `MESSAGE <uri> SIP/2.0`: noted (with the request it answers), answered
      this.b.add('rx.badRequestLine');
      this.note(`the receiver's <mrs> MESSAGE has a malformed request line ${JSON.stringify(m.start.slice(0, 120))}`, e);
    }
    // the receiver's <mrs>: answer it (now and then a provisional or a garbled response first, or an error)
    const snu = Number(tag(m.body, 'snu'));
    const ref = tag(m.body, 'ref');
    this.b.add(`rx.mrs.snu${Number.isFinite(snu) ? snu : '?'}`);
    if (!/^application\/scaip\+xml/i.test(m.headers.get('content-type') ?? '')) this.note(`<mrs> MESSAGE with Content-Type ${m.headers.get('content-type')}`);
    if (e) {
      if (e.gotSnu === undefined) {
        e.gotSnu = snu;
        if (e.snu === 'none') this.note(`an <mrs> (snu ${snu}) for a request that should have none`, e);
        else if (e.snu !== undefined && e.snu !== snu) this.note(`expected snu ${e.snu}, got ${snu}`, e);
        if (e.ref !== undefined && ref !== undefined && ref !== e.ref.trim() && e.snu === 0) this.note(`<mrs> ref ${ref}, sent ${e.ref}`, e);
      } else this.b.add('rx.mrs.again');
    }
    const r = this.rng.int(1000);
    const send = (x: Buffer) => {
      this.b.add('udp.bytes', x.length);
      this.u.send(x, this.port, '127.0.0.1');
    };
    if (r < 15) send(okFor(m, 100, 'Trying'));
    else if (r < 25) send(mutate(okFor(m), this.rng, 'text', 2000));
    if (r >= 990) {
      send(okFor(m, this.rng.pick([400, 481, 500, 603]), 'Nope'));
      this.b.add('tx.mrsRefused');
    } else send(okFor(m));
    this.b.add('tx.mrsAnswered');
  }

  /** requests older than `ms` that never got what they expected, counted (and dropped from the map) */
  sweep(ms: number): void {
    const old = performance.now() - ms;
    for (const [k, e] of this.expected) {
      if (e.at > old) continue;
      const wantStatus = typeof e.status === 'number';
      const wantMrs = e.snu !== undefined && e.snu !== 'none';
      if (wantStatus && e.gotStatus === undefined) this.note(`no response (expected ${e.status})`, e, 'missing');
      else if (wantMrs && e.gotStatus === 200 && e.gotSnu === undefined) this.note(`200 but no <mrs> (expected snu ${e.snu})`, e, 'missing');
      this.expected.delete(k);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** The SCAIP fuzzers of one protocol budget. */
export function scaipFuzz(port: number, b: Budget, seed0: number, bad: string[]): Promise<void> {
  const win = new UdpWindow(WINDOW);
  return Promise.all(Array.from({ length: SCAIP_SLOTS }, (_, k) => scaipSlot(port, k, b, win, seed0 + 0x7000 + k, bad))).then(() => undefined);
}

export async function scaipSlot(port: number, k: number, b: Budget, win: UdpWindow, seed: number, bad: string[]): Promise<void> {
  const rng = new Rng(seed);
  const localAddr = `127.0.12.${k + 1}`;
  const u = createSocket('udp4');
  u.on('error', () => b.add('udp.socketErrors'));
  await new Promise<void>((res) => u.bind(0, localAddr, () => res()));
  const localPort = u.address().port;
  b.connections++;
  const l = new Listener(u, port, b, new Rng(seed ^ 0x5a5a), bad);
  const send = (d: Buffer) =>
    new Promise<void>((res) =>
      u.send(d, port, '127.0.0.1', (e) => {
        if (e) b.add('udp.sendErrors');
        res();
      }),
    );
  const units = SCAIP_UNITS.registered.map((x) => x.cid);
  const marker = scaipMarkerUnit(k);
  const earlier: Buffer[] = [];
  let cseq = 0;
  let refs = 0;
  const newRef = () => `${k.toString(36)}${(++refs).toString(36)}${hex(rng, 2)}`;
  /** a string body is written in UTF-8; a Buffer as it is */
  const request = (fromUser: string, body: string | Buffer) => {
    const callId = `${hex(rng, 8)}@${localAddr}`;
    return unitRequest({ fromUser, port, localAddr, localPort, branch: `z9hG4bK${hex(rng, 8)}`, callId, cseq: ++cseq, body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8') });
  };
  try {
    while (!b.done) {
      const batch: Buffer[] = [];
      let charge = 0;
      while (batch.length < BATCH && charge < BATCH_CHARGE && b.take(1)) {
        let d: Buffer;
        let expect: Outcome | undefined;
        let ref: string | undefined;
        let kind: string;
        const r = rng.int(100);
        if (r < 2) {
          kind = 'keepalive';
          d = Buffer.from(rng.pick(['\r\n\r\n', '\r\n', '\n']));
        } else if (r < 5) {
          kind = 'garbage';
          d = rng.bytes(1 + rng.int(rng.chance(0.1) ? 3000 : 200));
        } else if (r < 8 && earlier.length) {
          // a retransmission: the same answer again (or nothing while the first is being handled)
          kind = 'retransmission';
          d = rng.pick(earlier);
        } else if (r < 10) {
          // a response sent to the receiver, for no transaction of its own
          kind = 'response';
          d = Buffer.from([`SIP/2.0 ${rng.pick([200, 180, 404, 500])} X`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${hex(rng, 8)}`, 'From: <sip:anxin@127.0.0.1>;tag=1', 'To: <sip:u@127.0.0.1>', `Call-ID: ${hex(rng, 8)}`, 'CSeq: 1 MESSAGE', 'Content-Length: 0', '', ''].join('\r\n'));
        } else {
          // a MESSAGE: from a registered unit mostly, or an unknown one (From = cid)
          const known = rng.chance(0.75);
          const cid = known ? rng.pick(units) : rng.pick(SCAIP_UNITS.unknown);
          ref = rng.chance(0.02) && earlier.length ? 'reused-ref' : newRef();
          const fields = rng.pick(mrqSeeds(cid, ref, rng));
          const req = (body: string | Buffer) => request(cid, body);
          const q = rng.int(100);
          if (q < 15) {
            kind = 'valid';
            const x = req(mrq(fields));
            expect = known ? { status: 200, snu: 0 } : { status: 200, snu: 5 };
            d = serialise(x);
          } else if (q < 50) {
            kind = 'body';
            const mb = mutateBody(fields, rng);
            const x = req(mb.body);
            // a body that is still a valid <mrq>: 200 and snu 0 from a registered unit, snu 5 from an unknown one
            expect = mb.expect === 'valid' ? (known ? { status: 200, snu: 0 } : { status: 200, snu: 5 }) : mb.expect;
            d = serialise(x);
          } else if (q < 85) {
            kind = 'headers';
            const x = req(mrq(fields));
            expect = mutateRequest(x, rng, known ? { status: 200, snu: 0 } : { status: 200, snu: 5 }, [...units, ...SCAIP_UNITS.unknown].filter((c) => c !== cid));
            d = serialise(x);
          } else if (q < 98) {
            kind = 'bytes';
            d = mutate(serialise(req(mrq(fields))), rng, 'text', 6000);
          } else {
            kind = 'huge';
            // past the SIP limit (16 KiB): dropped; now and then near the UDP limit
            const x = req(mrq([...fields, ['dte', 'z'.repeat(rng.chance(0.05) ? 60_000 : 17_000 + rng.int(8000))]]));
            d = serialise(x);
            expect = { status: 'none' };
          }
          // every request is kept (for 40 s) by its Call-ID: what came back is checked against `expect`, and a note
          // about an answer names the request it answers
          const callId = /Call-ID: (\S+)/.exec(d.toString('latin1', 0, 2000))?.[1];
          if (callId && !l.expected.has(callId)) l.expected.set(callId, { ...expect, ...(ref ? { ref } : {}), at: performance.now(), request: d.toString('latin1', 0, expect ? 2000 : 700) });
          if (kind === 'valid' && rng.chance(0.3)) {
            earlier.push(d);
            if (earlier.length > 32) earlier.shift();
          }
        }
        if (d.length > MAX_DATAGRAM) d = d.subarray(0, MAX_DATAGRAM);
        b.add(`in.${kind}`);
        b.bytes += d.length;
        charge += UdpWindow.charge(d.length);
        b.add('udp.datagrams');
        b.add('udp.bytes', d.length);
        batch.push(d);
      }
      if (batch.length === 0) break;
      await win.acquire(charge);
      // the requests' time starts when they are sent
      for (const d of batch) {
        const id = /Call-ID: (\S+)/.exec(d.toString('latin1', 0, 2000))?.[1];
        const e = id === undefined ? undefined : l.expected.get(id);
        if (e) e.at = performance.now();
      }
      await Promise.all(batch.map(send));
      // the marker: a PI heartbeat of the slot's own unit; its 200 paces the next batch (resent as a unit would)
      const ref = newRef();
      const mk = serialise(request(marker, mrq([['ref', ref], ['mty', 'PI'], ['cid', marker], ['dty', '02'], ['stc', '102']])));
      const callId = /Call-ID: (\S+)/.exec(mk.toString('latin1'))![1]!;
      l.expected.set(callId, { status: 200, snu: 0, ref, at: performance.now(), request: mk.toString('latin1') });
      const answered = l.wait(callId, 15_000);
      let ok = false;
      void answered.then((x) => (ok = x));
      for (let interval = T1, t0 = performance.now(); !ok && performance.now() - t0 < 15_000; interval = Math.min(interval * 2, T2)) {
        await send(mk);
        b.add('udp.markers');
        b.add('udp.bytes', mk.length);
        const end = performance.now() + interval;
        while (!ok && performance.now() < end) await sleep(2);
      }
      await answered;
      win.release(charge);
      if (!ok) b.markerTimeouts++;
      b.add('batches');
      l.sweep(40_000);
    }
    // what is still open gets its last chance
    await sleep(2000);
    l.sweep(0);
  } finally {
    u.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The SOS unit

const now = () => performance.timeOrigin + performance.now();

export interface ScaipSosRecord extends SosRecord {
  ref: string;
  status?: number;
  snu?: number;
  tries: number;
  done?: boolean;
}

/**
 * A registered unit on its own clean socket: an alarm (mty ME, dty 0003, stc 010, a new ref) every `periodMs`,
 * resent at T1 doubling to T2 until a final response (64×T1 at most); acknowledged when the 200 came and then the
 * `<mrs>` with its ref and snu 0. The receiver's `<mrs>` MESSAGEs are answered 200 OK.
 */
export class ScaipSos {
  readonly records: ScaipSosRecord[] = [];
  reconnects = 0;
  closes = 0;
  framesWritten = 0;
  bytesWritten = 0;
  failures: { sentAt: string; ref: string; status?: number; snu?: number; tries: number; request: string }[] = [];
  private u?: UdpSocket;
  private localPort = 0;
  private timer: NodeJS.Timeout | undefined;
  private cseq = 0;
  private readonly byCallId = new Map<string, { r: ScaipSosRecord; final: () => void; mrs: () => void }>();

  constructor(
    readonly cid: string,
    private readonly port: number,
    private readonly localAddr = '127.0.13.1',
  ) {}

  async connect(): Promise<void> {
    const u = (this.u = createSocket('udp4'));
    u.on('error', () => undefined);
    u.on('message', (raw: Buffer) => {
      const m = parseIncoming(raw);
      if (!m) return;
      const w = this.byCallId.get(m.headers.get('call-id') ?? '');
      if (m.status !== undefined) {
        if (m.status >= 200 && w && w.r.status === undefined) {
          w.r.status = m.status;
          w.final();
        }
        return;
      }
      if (m.method !== 'MESSAGE') return;
      const ok = okFor(m);
      this.bytesWritten += ok.length;
      u.send(ok, this.port, '127.0.0.1');
      if (w && w.r.snu === undefined && tag(m.body, 'ref') === w.r.ref) {
        w.r.snu = Number(tag(m.body, 'snu'));
        w.mrs();
      }
    });
    await new Promise<void>((res) => u.bind(0, this.localAddr, () => res()));
    this.localPort = u.address().port;
  }

  start(periodMs: number): void {
    this.timer = setInterval(() => void this.send(), periodMs);
  }

  private async send(): Promise<void> {
    const u = this.u;
    if (!u) return;
    const ref = `sos${Date.now().toString(36)}${(this.cseq + 1).toString(36)}`;
    const r: ScaipSosRecord = { sentAt: now(), ref, tries: 0 };
    this.records.push(r);
    const callId = `${ref}@${this.localAddr}`;
    const req = serialise(
      unitRequest({
        fromUser: this.cid,
        port: this.port,
        localAddr: this.localAddr,
        localPort: this.localPort,
        branch: `z9hG4bK${ref}`,
        callId,
        cseq: ++this.cseq,
        body: Buffer.from(mrq([['ref', ref], ['mty', 'ME'], ['cid', this.cid], ['dty', '0003'], ['stc', '010'], ['crd', 'gsm:+4670123456'], ['cha', '0']]), 'utf8'),
      }),
    );
    let final = false;
    let gotMrs = false;
    this.byCallId.set(callId, { r, final: () => (final = true), mrs: () => (gotMrs = true) });
    // §17.1.2.2: T1 doubling to T2 until a final response, 64×T1 at most
    const t0 = performance.now();
    for (let interval = T1; !final && performance.now() - t0 < 64 * T1; interval = Math.min(interval * 2, T2)) {
      u.send(req, this.port, '127.0.0.1');
      r.tries++;
      this.framesWritten++;
      this.bytesWritten += req.length;
      const end = performance.now() + interval;
      while (!final && performance.now() < end) await sleep(5);
    }
    // the <mrs> follows the 200 (it may also come first: a UDP reordering)
    const end = performance.now() + 30_000;
    while (final && r.status === 200 && !gotMrs && performance.now() < end) await sleep(5);
    if (r.status === 200 && r.snu === 0) r.ackAt = now();
    r.done = true;
    this.byCallId.delete(callId);
    if (r.ackAt === undefined && this.failures.length < 20) this.failures.push({ sentAt: new Date(r.sentAt).toISOString(), ref, ...(r.status !== undefined ? { status: r.status } : {}), ...(r.snu !== undefined ? { snu: r.snu } : {}), tries: r.tries, request: req.toString('utf8') });
  }

  async stop(waitMs = 10_000): Promise<void> {
    clearInterval(this.timer);
    const end = performance.now() + waitMs;
    while (this.records.some((r) => !r.done) && performance.now() < end) await sleep(50);
    await new Promise<void>((r) => (this.u ? this.u.close(() => r()) : r()));
    this.u = undefined;
  }

  window(from: number, to: number): SosWindow {
    const rs = this.records.filter((r) => r.sentAt >= from && r.sentAt < to);
    const lat = rs.filter((r) => r.ackAt !== undefined).map((r) => r.ackAt! - r.sentAt);
    const d = dist(lat);
    return { sent: rs.length, acked: lat.length, ackMs: d, p50: d.p50, p99: d.p99 };
  }

  get unacked(): number {
    return this.records.filter((r) => r.ackAt === undefined).length;
  }
}

// ---------------------------------------------------------------------------------------------------------------

const byLabel = (all: Record<string, number>, name: string, label: string, filter = ''): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(all)) {
    if (!key.startsWith(`${name}{`) || !key.includes(filter)) continue;
    const m = new RegExp(`${label}="([^"]*)"`).exec(key);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + v;
  }
  return out;
};
const n = (x: number) => x.toLocaleString('en');

/**
 * What the fuzzers wrote and read against what the gateway counted: bytes (UDP on loopback loses nothing unless a
 * receive buffer overflows), responses and `<mrs>` by status (everything the fuzzers read was counted by the
 * gateway), and the per-request checks (deviations from the outcome a request's construction implies).
 */
export function reconcileScaip(run: { inputs: number; counts: Record<string, number> }, all: Record<string, number>, sos: { frames: number; bytes: number }) {
  const c = run.counts;
  const sum = (name: string) => metricSum(all, name, 'protocol="scaip"');
  const responses = byLabel(all, 'anxin_scaip_sip_responses_total', 'status');
  const mrs = byLabel(all, 'anxin_scaip_mrs_total', 'snu');
  const bad = byLabel(all, 'anxin_bad_frames_total', 'reason', 'protocol="scaip"');
  const bytesRead = sum('anxin_bytes_received_total');
  const wireBytes = (c['udp.bytes'] ?? 0) + sos.bytes;
  const answers = c['tx.mrsAnswered'] ?? 0;
  const rxStatus = Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('rx.status.')).map(([k, v]) => [k.slice(10), v]));
  const rxMrs = Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('rx.mrs.snu')).map(([k, v]) => [k.slice(10), v]));
  const deviations = c['check.wrong'] ?? 0;
  const missing = c['check.missing'] ?? 0;
  // every byte written (requests, markers, answers to the <mrs>) is read, unless a datagram was lost
  const holds = bytesRead <= wireBytes;
  return {
    holds,
    checksOk: deviations === 0,
    written: { inputs: run.inputs, datagrams: c['udp.datagrams'] ?? 0, markers: c['udp.markers'] ?? 0, bytes: c['udp.bytes'] ?? 0, mrsAnswered: answers, mrsRefusedOnPurpose: c['tx.mrsRefused'] ?? 0, bytesNotRead: wireBytes - bytesRead, sosUnit: sos, inputsByKind: Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('in.')).map(([k, v]) => [k.slice(3), v])) },
    read: { finalResponses: rxStatus, mrsBySnu: rxMrs, mrsRetransmissionsSeen: c['rx.mrs.again'] ?? 0, unreadable: c['rx.unreadable'] ?? 0 },
    gateway: { bytesRead, requests: sum('anxin_frames_total'), badFramesByReason: bad, sipResponses: responses, mrsBySnu: mrs, unknownUnit: sum('anxin_unknown_device_frames_total') },
    checks: { wrongAnswers: deviations, noAnswer: missing },
    summary:
      `${n(run.inputs)} datagrams + ${n(c['udp.markers'] ?? 0)} PI markers + ${n(answers)} answers to its <mrs> (+ ${sos.frames} SOS unit MESSAGEs); the gateway read ${n(bytesRead)} of ${n(wireBytes)} bytes written, ` +
      `took ${n(sum('anxin_frames_total'))} requests, dropped ${n(Object.entries(bad).filter(([k]) => k.startsWith('sip_')).reduce((a, [, v]) => a + v, 0))} as not SIP; ` +
      `responses ${Object.entries(responses).map(([k, v]) => `${k} ${n(v)}`).join(', ')}; <mrs> ${Object.entries(mrs).map(([k, v]) => `snu ${k} ${n(v)}`).join(', ')}; ` +
      `checked against each request's construction: ${n(deviations)} wrong answers, ${n(missing)} requests without the answer they should get (a lost datagram: ${n(wireBytes - bytesRead)} bytes written were not read) ${holds && deviations === 0 ? '✓' : '✗'}`,
  };
}
