/**
 * protocols/scaip (protocols.md §4): the real `<mrq>` messages quoted in the design note (read at run time, never
 * copied here), the normalised meaning of each, error bodies and their `<snu>`, hostile XML, `crd`/`cha`, the SIP
 * codec (a MESSAGE as SIPp sends it, the 200 OK, the `<mrs>` MESSAGE back, round trips), and fast-check: the
 * parsers never throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAlarmKind } from '../../../protocols/message.js';
import {
  BRANCH_COOKIE,
  SCAIP_DEFAULT_KINDS,
  SCAIP_DEFAULTS,
  SCAIP_MAX_BODY,
  SCAIP_UNMAPPED_KIND,
  SCAIP_VENDOR_KINDS,
  SNU,
  alarmKindFor,
  buildMessage,
  buildMrs,
  buildResponse,
  canonicalCode,
  cidMatchesFrom,
  decodeScaip,
  deviceTypeInfo,
  fromUser,
  getHeader,
  getHeaders,
  isScaipContentType,
  newBranch,
  newCallId,
  newTag,
  parseCSeq,
  parseCha,
  parseCrd,
  parseMrq,
  parseNameAddr,
  parseSip,
  parseVia,
  responseTarget,
  statusInfo,
  topVia,
  viaParam,
  type MrqResult,
  type RandomSource,
  type ScaipMrq,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../../protocols/scaip/index.js';
import { loadDesignNote } from '../../helpers/vectors.js';

// ---------------------------------------------------------------------------------------------------------------
// The real messages are read from the design note at run time (§4 "Real messages"), never copied into the repo.

function loadSection(): string | null {
  const md = loadDesignNote('protocols.md', 'SCAIP vector tests');
  if (md === null) return null;
  const start = md.search(/^## 4\. SCAIP/m);
  if (start < 0) throw new Error('protocols.md has no "## 4. SCAIP" section');
  const next = md.slice(start + 1).search(/^## /m);
  return next < 0 ? md.slice(start) : md.slice(start, start + 1 + next);
}

const section = loadSection();
const SKIP = section === null ? ' (skipped: ../shared/design/protocols.md not found)' : '';

/** `* Essence heartbeat: \`<mrq>…</mrq>\`` → { 'Essence heartbeat': '<mrq>…</mrq>' } */
function realMessages(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\s*\* ([A-Za-z ]+?): `(<mrq>[^`]*<\/mrq>)`/gm)) out[m[1]!] = m[2]!;
  return out;
}
const REAL = section === null ? {} : realMessages(section);
const MINIMAL_MRS = section === null ? undefined : /`(<mrs>[^`]*<\/mrs>)`/.exec(section)?.[1];

const at = new Date('2026-05-01T08:00:00Z');

function mrqOf(body: string | Buffer): ScaipMrq {
  const r = parseMrq(body);
  if (!r.ok) throw new Error(`expected a parse, got ${JSON.stringify(r)}`);
  return r.mrq;
}

function failure(body: string | Buffer): Extract<MrqResult, { ok: false }> {
  const r = parseMrq(body);
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

const decode = (body: string, vendor?: string) => decodeScaip(mrqOf(body), vendor === undefined ? { receivedAt: at } : { receivedAt: at, vendor });

/** `<mrq>` from elements (constructed, for the cases the real messages do not cover). */
const mrq = (fields: Record<string, string>) => `<mrq>${Object.entries(fields).map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</mrq>`;

// ---------------------------------------------------------------------------------------------------------------

describe.skipIf(section === null)(`§4 real messages${SKIP}`, () => {
  const names = ['Essence heartbeat', 'Possum heartbeat', 'Telealarm heartbeat', 'Essence alarm', 'Telealarm alarm', 'Doro alarm'];

  it('the note quotes the six messages (the extraction found them all)', () => {
    expect(Object.keys(REAL).sort()).toEqual([...names].sort());
  });

  it.each(names)('%s parses, with ref, cid and dty', (name) => {
    const m = mrqOf(REAL[name]!);
    expect(m.ref).not.toBe('');
    expect(m.cid).toMatch(/^\S+$/);
    expect(m.dty).toMatch(/^[0-9]+$/);
    expect(m.unknownTags).toEqual([]);
    // the same bytes as a Buffer
    expect(mrqOf(Buffer.from(REAL[name]!, 'utf8'))).toEqual(m);
  });

  it('Essence alarm: dty 02 (local unit) → sos, gsm call-back number, outgoing', () => {
    const n = decode(REAL['Essence alarm']!);
    expect(n).toMatchObject({ deviceId: '26317', kind: 'alarm', alarms: ['sos'], restores: [], ref: '00001883', zone: '00', heartbeat: false, test: false });
    expect(n.event).toEqual({ code: '10', qualifier: 'ME', label: expect.stringContaining('Alarm (manual)'), known: true });
    expect(n.device).toMatchObject({ code: '2', known: true, en: 'Local unit and controller' });
    expect(n.callback).toEqual({ channel: { scheme: 'gsm', number: '+37284463906', raw: 'gsm:+37284463906' }, handling: 'outgoing' });
    expect(n.alarms.every(isAlarmKind)).toBe(true);
  });

  it('Telealarm alarm: dty 0004 (fixed trigger), stc 0010 → sos; `gsm:` has no number', () => {
    const n = decode(REAL['Telealarm alarm']!);
    expect(n).toMatchObject({ deviceId: '999998', kind: 'alarm', alarms: ['sos'], ref: 'yhexGeV5E49zglfi' });
    expect(n.event).toMatchObject({ code: '10', known: true });
    expect(n.location).toEqual({ code: '002' });
    expect(n.callback).toEqual({ channel: { scheme: 'gsm', raw: 'gsm:' }, handling: 'outgoing' });
  });

  it('Doro alarm: the leading space of cid is trimmed; `gsm:+` has no number', () => {
    const m = mrqOf(REAL['Doro alarm']!);
    expect(m.cid).toBe('8031372');
    const n = decodeScaip(m, { receivedAt: at, vendor: 'doro' });
    expect(n).toMatchObject({ deviceId: '8031372', kind: 'alarm', alarms: ['sos'] });
    expect(n.callback).toEqual({ channel: { scheme: 'gsm', raw: 'gsm:+' } });
  });

  it('heartbeats are heartbeats; Essence (PI + stc 102 "test transmission") is also a test', () => {
    const essence = decode(REAL['Essence heartbeat']!);
    expect(essence).toMatchObject({ kind: 'test', heartbeat: true, test: true, alarms: [], restores: [], messageType: 'PI' });
    expect(essence.event).toMatchObject({ code: '102', known: true });
    expect(essence.callback).toEqual({ channel: { scheme: 'none', raw: 'no-voice:' }, handling: 'outgoing' });

    const possum = decode(REAL['Possum heartbeat']!);
    expect(possum).toMatchObject({ deviceId: '10149471', kind: 'heartbeat', heartbeat: true, test: false, alarms: [], restores: [] });
    expect(possum.event).toMatchObject({ code: '', qualifier: 'PI', known: true });

    // stc 0009 is seen but not understood (§4): kept, counted as unknown, raises nothing
    const telealarm = decode(REAL['Telealarm heartbeat']!);
    expect(telealarm).toMatchObject({ kind: 'heartbeat', heartbeat: true, alarms: [], restores: [] });
    expect(telealarm.event).toMatchObject({ code: '9', known: false });
    expect(telealarm.status).toMatchObject({ code: '9', known: false });
  });

  it('the minimal OK response of the note is what buildMrs makes', () => {
    expect(MINIMAL_MRS).toBeDefined();
    const ref = /<ref>([^<]*)<\/ref>/.exec(MINIMAL_MRS!)![1]!;
    expect(buildMrs({ ref, snu: SNU.ok })).toBe(MINIMAL_MRS);
  });

  it('the Essence alarm, carried in a SIP MESSAGE, round-trips through the SIP codec', () => {
    const body = REAL['Essence alarm']!;
    const wire = buildMessage({
      requestUri: 'sip:arc@192.0.2.10:5060',
      from: '<sip:26317@198.51.100.7:5060>;tag=9fx1',
      to: '<sip:arc@192.0.2.10:5060>',
      callId: 'c1@198.51.100.7',
      cseq: 7,
      via: { transport: 'udp', host: '198.51.100.7', port: 5060, branch: 'z9hG4bKe1' },
      contentType: SCAIP_DEFAULTS.contentType,
      body,
    });
    const p = parseSip(wire);
    expect(p.ok).toBe(true);
    const req = (p as { message: SipRequest }).message;
    expect(isScaipContentType(getHeader(req, 'content-type'))).toBe(true);
    const m = mrqOf(req.body);
    expect(cidMatchesFrom(m.cid, fromUser(req))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('codes: numeric comparison, tables as data', () => {
  it('02, 0002 and 2 are one device type; 10, 010 and 0010 one status code', () => {
    for (const d of ['2', '02', '0002', ' 0002 ']) expect(deviceTypeInfo(d)).toMatchObject({ code: '2', known: true });
    for (const s of ['10', '010', '0010']) expect(statusInfo(s)).toMatchObject({ code: '10', known: true, meaning: 'alarm' });
    expect(statusInfo('19').meaning).toBe('cancel');
    expect(statusInfo('0102').meaning).toBe('test');
    expect(statusInfo('0067')).toMatchObject({ code: '67', known: false });
    expect(statusInfo('0067').meaning).toBeUndefined();
    expect(deviceTypeInfo('X1')).toMatchObject({ code: 'X1', known: false });
    expect(canonicalCode('000')).toBe('0');
  });

  it('every table value is an Anxin alarm kind; every device type has zh and en labels', () => {
    for (const t of [SCAIP_DEFAULT_KINDS, ...Object.values(SCAIP_VENDOR_KINDS)]) for (const k of Object.values(t)) expect(isAlarmKind(k)).toBe(true);
    expect(isAlarmKind(SCAIP_UNMAPPED_KIND)).toBe(true);
    for (const d of Object.keys(SCAIP_DEFAULT_KINDS)) {
      const info = deviceTypeInfo(d);
      expect(info.known).toBe(true);
      expect(info.zh).not.toBe('');
      expect(info.en).not.toBe('');
    }
  });

  it('default mapping by device type; a vendor key falls back to the default; an unknown vendor too', () => {
    expect(alarmKindFor('0005')).toEqual({ kind: 'fall', mapped: true });
    expect(alarmKindFor('3')).toEqual({ kind: 'sos', mapped: true });
    expect(alarmKindFor('0004')).toEqual({ kind: 'sos', mapped: true });
    expect(alarmKindFor('7')).toEqual({ kind: 'sos', mapped: true });
    expect(alarmKindFor('02')).toEqual({ kind: 'sos', mapped: true });
    expect(alarmKindFor('0010')).toEqual({ kind: 'inactivity', mapped: true });
    expect(Object.keys(SCAIP_VENDOR_KINDS).sort()).toEqual(['doro', 'essence', 'possum', 'telealarm']);
    expect(alarmKindFor('0005', 'Essence')).toEqual({ kind: 'fall', mapped: true });
    expect(alarmKindFor('0005', 'acme')).toEqual({ kind: 'fall', mapped: true });
    expect(alarmKindFor('0005', '__proto__')).toEqual({ kind: 'fall', mapped: true });
    expect(alarmKindFor('0099')).toEqual({ kind: 'sos', mapped: false });
  });
});

describe('decodeScaip: message types', () => {
  const base = { ref: 'r1', cid: '4711', stc: '010' };

  it('ME from a fall detector → fall; activity detector → inactivity; did/dco → zone', () => {
    expect(decode(mrq({ ...base, mty: 'ME', dty: '0005', did: '01', dco: '2' }))).toMatchObject({ kind: 'alarm', alarms: ['fall'], zone: '01/2' });
    expect(decode(mrq({ ...base, mty: 'ME', dty: '0010' }))).toMatchObject({ kind: 'alarm', alarms: ['inactivity'] });
  });

  it('ME with an unmapped device type still raises sos, marked unknown', () => {
    const n = decode(mrq({ ...base, mty: 'ME', dty: '0099' }));
    expect(n).toMatchObject({ kind: 'alarm', alarms: ['sos'], unmappedDeviceType: true });
    expect(n.event.known).toBe(false);
    expect(n.event.label).toContain('Unknown device type 99');
  });

  it('ME with an unknown status code still raises', () => {
    const n = decode(mrq({ ...base, mty: 'ME', dty: '0005', stc: '0067' }));
    expect(n).toMatchObject({ kind: 'alarm', alarms: ['fall'] });
    expect(n.event).toMatchObject({ code: '67', known: false });
  });

  it('RE, and ME with stc 19 (cancel), restore the alarm of the device type', () => {
    expect(decode(mrq({ ...base, mty: 'RE', dty: '0005' }))).toMatchObject({ kind: 'status', alarms: [], restores: ['fall'] });
    expect(decode(mrq({ ...base, mty: 'ME', dty: '0005', stc: '19' }))).toMatchObject({ kind: 'status', alarms: [], restores: ['fall'] });
    expect(decode(mrq({ ...base, mty: 'RE', dty: '0099' }))).toMatchObject({ restores: ['sos'] });
  });

  it('IN → status; IN with stc 102 → test; mty compared case-insensitively', () => {
    expect(decode(mrq({ ...base, mty: 'IN', dty: '2', stc: '0067', ite: 'battery' }))).toMatchObject({ kind: 'status', alarms: [], info: { text: 'battery' } });
    expect(decode(mrq({ ...base, mty: 'IN', dty: '2', stc: '102' }))).toMatchObject({ kind: 'test', test: true, heartbeat: false });
    expect(decode(mrq({ ...base, mty: 'me', dty: '5' }))).toMatchObject({ kind: 'alarm', alarms: ['fall'], messageType: 'ME' });
  });

  it('missing or unknown mty: an alarm unless the status says cancel or test', () => {
    const none = decode(mrq({ ref: 'r', cid: 'c', dty: '5', stc: '10' }));
    expect(none).toMatchObject({ kind: 'alarm', alarms: ['fall'] });
    expect(none.event.known).toBe(false);
    expect(decode(mrq({ ref: 'r', cid: 'c', dty: '5' }))).toMatchObject({ kind: 'alarm', alarms: ['fall'] });
    const odd = decode(mrq({ ref: 'r', cid: 'c', dty: '5', mty: 'XX' }));
    expect(odd).toMatchObject({ kind: 'alarm', alarms: ['fall'] });
    expect(odd.event.qualifier).toBe('XX');
    expect(decode(mrq({ ref: 'r', cid: 'c', dty: '5', stc: '19' }))).toMatchObject({ kind: 'status', restores: ['fall'] });
    expect(decode(mrq({ ref: 'r', cid: 'c', dty: '2', stc: '102' }))).toMatchObject({ kind: 'test', alarms: [] });
  });

  it('free text, priority and location are carried as text', () => {
    const n = decode(mrq({ ...base, mty: 'ME', dty: '4', dte: 'Bathroom', stt: 'pulled', pri: '1', lco: '3', lva: 'x', lte: 'Hall' }));
    expect(n).toMatchObject({ text: 'Bathroom — pulled', priority: '1', location: { code: '3', value: 'x', text: 'Hall' } });
  });

  it('cid must equal the SIP From user', () => {
    expect(cidMatchesFrom('8031372', '8031372')).toBe(true);
    expect(cidMatchesFrom('8031372', '803137')).toBe(false);
    expect(cidMatchesFrom('8031372', undefined)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('parseMrq: errors and hostile input', () => {
  it('malformed XML → snu 99, the ref salvaged when readable', () => {
    expect(failure('<mrq><ref>abc</ref><cid>1</cid>')).toMatchObject({ reason: 'malformed', snu: SNU.undefinedError, ref: 'abc' });
    expect(failure('<mrq><ref>1</ref><dte><b>x</dte></b></mrq>')).toMatchObject({ reason: 'malformed', snu: 99 });
    expect(failure('not xml at all')).toMatchObject({ reason: 'malformed', snu: 99 });
    expect(failure('<mrq><ref>a&b</ref></mrq>')).toMatchObject({ reason: 'malformed' });
    expect(failure('<mrq/>junk')).toMatchObject({ reason: 'malformed' });
    expect(failure('')).toMatchObject({ reason: 'empty', snu: 99 });
    expect(failure('<mrq>x').ref).toBeUndefined();
  });

  it('a root other than mrq → wrong_root', () => {
    expect(failure('<mrs><ref>1</ref><snu>0</snu></mrs>')).toMatchObject({ reason: 'wrong_root', snu: 99, ref: '1' });
    expect(failure('<mrq><ref>1</ref></mrq><mrq><ref>2</ref></mrq>')).toMatchObject({ snu: 99 });
    expect(failure('<constructor><ref>1</ref></constructor>')).toMatchObject({ reason: 'wrong_root' });
    expect(failure('<scaip><mrq><ref>1</ref><cid>1</cid><dty>2</dty></mrq></scaip>')).toMatchObject({ reason: 'wrong_root' });
  });

  it('missing ref / cid / dty → snu 7, ref echoed when present; blank counts as missing', () => {
    expect(failure(mrq({ cid: '1', dty: '2' }))).toMatchObject({ reason: 'missing_tag', snu: SNU.mandatoryMissing, missing: ['ref'] });
    expect(failure(mrq({ cid: '1', dty: '2' })).ref).toBeUndefined();
    expect(failure(mrq({ ref: 'R9', dty: '2' }))).toMatchObject({ snu: 7, ref: 'R9', missing: ['cid'] });
    expect(failure(mrq({ ref: 'R9', cid: '1' }))).toMatchObject({ snu: 7, ref: 'R9', missing: ['dty'] });
    expect(failure(mrq({ ref: ' R9 ', cid: '  ', dty: '' }))).toMatchObject({ snu: 7, ref: 'R9', missing: ['cid', 'dty'] });
    expect(failure('<mrq/>')).toMatchObject({ snu: 7, missing: ['ref', 'cid', 'dty'] });
  });

  it('a body over the cap is refused unread', () => {
    const big = mrq({ ref: '1', cid: '1', dty: '2', dte: 'x'.repeat(SCAIP_MAX_BODY) });
    expect(failure(big)).toMatchObject({ reason: 'too_large', snu: 99 });
    expect(failure(Buffer.from(big))).toMatchObject({ reason: 'too_large' });
    // the cap is in bytes: 3-byte characters count thrice
    expect(failure(mrq({ ref: '1', cid: '1', dty: '2', dte: '跌'.repeat(2800) }))).toMatchObject({ reason: 'too_large' });
    expect(parseMrq(big, 64 * 1024).ok).toBe(true);
    expect(SCAIP_DEFAULTS.maxBody).toBe(SCAIP_MAX_BODY);
  });

  it('a DOCTYPE is refused before parsing: entity expansion, external entities', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><mrq><ref>1</ref><cid>&lol3;</cid><dty>2</dty></mrq>';
    expect(failure(laughs)).toMatchObject({ reason: 'doctype', snu: 99 });
    const xxe = '<!DOCTYPE mrq [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><mrq><ref>&xxe;</ref><cid>1</cid><dty>2</dty></mrq>';
    expect(failure(xxe)).toMatchObject({ reason: 'doctype' });
    expect(failure(xxe).ref).toBeUndefined();
    expect(failure('<!doctype mrq><mrq><ref>1</ref><cid>1</cid><dty>2</dty></mrq>')).toMatchObject({ reason: 'doctype' });
    // only the five XML entities and character references are decoded; an undefined one stays literal
    expect(mrqOf(mrq({ ref: '1', cid: '1', dty: '2', dte: '&amp;&lt;&#65;&#x42;&nbsp;&#0;' })).dte).toBe('&<AB&nbsp;&#0;');
  });

  it('hostile text stays text, and buildMrs escapes it', () => {
    const raw = mrqOf(mrq({ ref: '1', cid: '1', dty: '2', dte: '<script>alert(1)</script>' }));
    expect(raw.dte).toBe('<script>alert(1)</script>');
    const encoded = mrqOf(mrq({ ref: '1', cid: '1', dty: '2', dte: '&lt;script&gt;alert("x")&lt;/script&gt;' }));
    expect(encoded.dte).toBe('<script>alert("x")</script>');
    const reply = buildMrs({ ref: '1', snu: 0, ste: encoded.dte! });
    expect(reply).toBe('<mrs><ref>1</ref><snu>0</snu><ste>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</ste></mrs>');
    expect(reply).not.toContain('<script>');
    // the escaped text reads back as the same text
    expect(mrqOf(reply.replace(/mrs>/g, 'mrq>').replace(/<(\/?)ste>/g, '<$1dte>').replace('<snu>0</snu>', '<cid>1</cid><dty>2</dty>')).dte).toBe(encoded.dte);
  });

  it('a ref with markup characters is echoed escaped; control characters XML cannot carry are dropped', () => {
    expect(buildMrs({ ref: `a&b<c>'"`, snu: 7 })).toBe('<mrs><ref>a&amp;b&lt;c&gt;&apos;&quot;</ref><snu>7</snu></mrs>');
    expect(buildMrs({ ref: 'a\u0001\u0000b\uD800', snu: 0 })).toBe('<mrs><ref>ab</ref><snu>0</snu></mrs>');
    expect(buildMrs({ snu: 99, ste: 'undefined error' })).toBe('<mrs><snu>99</snu><ste>undefined error</ste></mrs>');
    expect(buildMrs({ ref: '1', snu: 0, ste: 'ok', cve: '01.00', mre: 1, cre: 62, tnu: '+8613800000000', hbi: 3600 })).toBe(
      '<mrs><ref>1</ref><snu>0</snu><ste>ok</ste><cve>01.00</cve><mre>1</mre><cre>62</cre><tnu>+8613800000000</tnu><hbi>3600</hbi></mrs>',
    );
  });

  it('CDATA, comments, an XML declaration, a BOM and blank lines are read; the first of repeated elements wins', () => {
    const m = mrqOf('\uFEFF\r\n<?xml version="1.0" encoding="UTF-8"?>\n<mrq>\n  <ref>A</ref><ref>B</ref>\n  <cid><!-- unit -->42</cid>\n  <dty>5</dty><dte><![CDATA[<b>&amp;</b>]]></dte>\n</mrq>\n');
    expect(m).toMatchObject({ ref: 'A', cid: '42', dty: '5', dte: '<b>&amp;</b>' });
  });

  it('unknown elements are listed, not interpreted; dangerous names do not pollute', () => {
    const m = mrqOf(mrq({ ref: '1', cid: '1', dty: '2', foo: 'x', hasOwnProperty: 'y', constructor: 'z', prototype: 'p' }));
    expect(m.unknownTags).toEqual(['foo', 'hasOwnProperty', 'constructor', 'prototype']);
    const proto = mrqOf('<mrq><ref>1</ref><cid>1</cid><dty>2</dty><__proto__><polluted>1</polluted></__proto__></mrq>');
    expect(proto.unknownTags).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });

  it('application/scaip+xml is recognised with parameters and any case', () => {
    expect(isScaipContentType('application/scaip+xml')).toBe(true);
    expect(isScaipContentType('Application/SCAIP+XML; charset=UTF-8')).toBe(true);
    expect(isScaipContentType('text/plain')).toBe(false);
    expect(isScaipContentType(undefined)).toBe(false);
  });
});

describe('crd and cha', () => {
  it.each([
    ['gsm:+37284463906', { scheme: 'gsm', number: '+37284463906' }],
    ['gsm:', { scheme: 'gsm' }],
    ['gsm:+', { scheme: 'gsm' }],
    ['GSM: +86 138-0000-0000', { scheme: 'gsm', number: '+8613800000000' }],
    ['tel:+46-8-123456;phone-context=example.com', { scheme: 'tel', number: '+468123456' }],
    ['tel:', { scheme: 'tel' }],
    ['sip:26317@voice.example.com', { scheme: 'sip', uri: 'sip:26317@voice.example.com' }],
    ['sips:unit@[2001:db8::1]:5061', { scheme: 'sip', uri: 'sips:unit@[2001:db8::1]:5061' }],
    ['no-voice:', { scheme: 'none' }],
    ['gsm:call-me', { scheme: 'gsm', unrecognised: true }],
    ['sip:', { scheme: 'sip', unrecognised: true }],
    ['pstn:123456', { scheme: 'none', unrecognised: true }],
    ['', { scheme: 'none', unrecognised: true }],
  ])('%s', (crd, want) => {
    expect(parseCrd(crd)).toEqual({ ...want, raw: crd.trim() });
  });

  it('cha: 0 outgoing, 1 callback, numerically; else undefined', () => {
    expect(parseCha('0')).toBe('outgoing');
    expect(parseCha('00')).toBe('outgoing');
    expect(parseCha(' 1 ')).toBe('callback');
    expect(parseCha('2')).toBeUndefined();
    expect(parseCha('x')).toBeUndefined();
    expect(parseCha(undefined)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// SIP. A MESSAGE as SIPp's UAC scenario writes it (RFC 3428 §4 example style), CRLF line endings.

const UNIT = { address: '198.51.100.7', port: 5060 };
const BODY = '<mrq><ref>00001883</ref><mty>ME</mty><cid>26317</cid><dty>0005</dty><stc>010</stc><crd>gsm:+37284463906</crd></mrq>';
const crlf = (lines: string[]) => lines.join('\r\n');

function sippMessage(body = BODY, extraHeaders: string[] = []): string {
  return (
    crlf([
      'MESSAGE sip:arc@192.0.2.10:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-4711-1-0;rport',
      'Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKinner',
      'Max-Forwards: 70',
      'From: "Unit 26317" <sip:26317@198.51.100.7:5060>;tag=4711SIPpTag001',
      'To: <sip:arc@192.0.2.10:5060>',
      'Call-ID: 1-4711@198.51.100.7',
      'CSeq: 1 MESSAGE',
      'Contact: <sip:26317@198.51.100.7:5060>',
      'User-Agent: SIPp',
      ...extraHeaders,
      'Content-Type: application/scaip+xml',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      '',
    ]) + body
  );
}

function request(input: string | Buffer): SipRequest {
  const p = parseSip(input);
  if (!p.ok) throw new Error(`expected a parse, got ${JSON.stringify(p)}`);
  expect(p.message.type).toBe('request');
  return p.message as SipRequest;
}

function response(input: string | Buffer): SipResponse {
  const p = parseSip(input);
  if (!p.ok) throw new Error(`expected a parse, got ${JSON.stringify(p)}`);
  expect(p.message.type).toBe('response');
  return p.message as SipResponse;
}

/** A fixed random source: 0x00, 0x01, 0x02 … */
const counting: RandomSource = (n) => Buffer.from(Array.from({ length: n }, (_, k) => k & 0xff));

describe('SIP: parse', () => {
  it('a SIPp MESSAGE: start line, headers, body by Content-Length', () => {
    const wire = sippMessage();
    const p = parseSip(wire + 'trailing datagram bytes');
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const req = p.message as SipRequest;
    expect(req).toMatchObject({ type: 'request', method: 'MESSAGE', uri: 'sip:arc@192.0.2.10:5060', version: 'SIP/2.0' });
    expect(req.body.toString()).toBe(BODY);
    expect(p.length).toBe(Buffer.byteLength(wire));
    expect(getHeader(req, 'call-id')).toBe('1-4711@198.51.100.7');
    expect(getHeader(req, 'CSEQ')).toBe('1 MESSAGE');
    expect(getHeaders(req, 'via')).toHaveLength(2);
    expect(fromUser(req)).toBe('26317');
    expect(isScaipContentType(getHeader(req, 'c'))).toBe(true);
    expect(parseCSeq(getHeader(req, 'CSeq')!)).toEqual({ seq: 1, method: 'MESSAGE' });
    expect(cidMatchesFrom(mrqOf(req.body).cid, fromUser(req))).toBe(true);
  });

  it('compact header forms, any case, and folded lines', () => {
    const wire = crlf([
      'MESSAGE sip:arc@192.0.2.10 SIP/2.0',
      'v: SIP/2.0/TCP unit.example.com;branch=z9hG4bK776sgdkse',
      'f: sip:26317@example.com;tag=49583',
      't: sip:arc@example.com',
      'i: asd88asd77a@1.2.3.4',
      'cseq: 1 MESSAGE',
      'Subject: first part',
      '\tsecond part',
      'c: application/scaip+xml',
      'L: 5',
      '',
      'hello',
    ]);
    const req = request(wire);
    expect(req.headers.map((h) => h.name)).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Subject', 'Content-Type', 'Content-Length']);
    expect(getHeader(req, 'Subject')).toBe('first part second part');
    expect(getHeader(req, 'i')).toBe('asd88asd77a@1.2.3.4');
    expect(fromUser(req)).toBe('26317');
    expect(parseNameAddr(getHeader(req, 'f'))).toMatchObject({ uri: 'sip:26317@example.com', tag: '49583' });
    expect(req.body.toString()).toBe('hello');
  });

  it('the body is Content-Length bytes (UTF-8 counted in bytes); UDP without it runs to the datagram end', () => {
    const zh = '<mrq><ref>1</ref><cid>1</cid><dty>5</dty><dte>卫生间</dte></mrq>';
    expect(request(sippMessage(zh)).body.toString('utf8')).toBe(zh);
    const noLength = sippMessage(BODY).replace(/Content-Length: \d+\r\n/, '');
    expect(request(noLength).body.toString()).toBe(BODY);
    // on a stream a missing Content-Length is taken as 0
    const s = parseSip(noLength, { stream: true });
    expect(s.ok && s.message.body.length).toBe(0);
  });

  it('UDP: fewer bytes than Content-Length → truncated_body; a stream waits (incomplete)', () => {
    const wire = sippMessage();
    expect(parseSip(wire.slice(0, -5))).toMatchObject({ ok: false, reason: 'truncated_body' });
    expect(parseSip(wire.slice(0, -5), { stream: true })).toMatchObject({ ok: false, reason: 'incomplete' });
    expect(parseSip(wire.slice(0, 40), { stream: true })).toMatchObject({ ok: false, reason: 'incomplete' });
  });

  it('a stream with two messages: `length` says where the second starts; leading CRLFs are skipped', () => {
    const one = sippMessage();
    const both = Buffer.from('\r\n\r\n' + one + one);
    const a = parseSip(both, { stream: true });
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.length).toBe(4 + Buffer.byteLength(one));
    const b = parseSip(both.subarray(a.length), { stream: true });
    expect(b.ok && b.length).toBe(Buffer.byteLength(one));
    expect(parseSip('\r\n\r\n')).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('bare LF line endings are tolerated', () => {
    const req = request(sippMessage().replace(/\r\n/g, '\n'));
    expect(req.body.toString()).toBe(BODY);
    expect(getHeader(req, 'To')).toBe('<sip:arc@192.0.2.10:5060>');
  });

  it('refuses what is not SIP: bad start line, version, headers, lengths; missing headers', () => {
    expect(parseSip('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatchObject({ ok: false, reason: 'bad_version' });
    expect(parseSip('hello\r\n\r\n')).toMatchObject({ ok: false, reason: 'bad_start_line' });
    expect(parseSip('SIP/2.0 999 Nope\r\n\r\n')).toMatchObject({ ok: false, reason: 'bad_start_line' });
    expect(parseSip(sippMessage().replace('User-Agent: SIPp', 'no colon here'))).toMatchObject({ ok: false, reason: 'bad_header' });
    expect(parseSip(sippMessage().replace(/Content-Length: \d+/, 'Content-Length: -1'))).toMatchObject({ ok: false, reason: 'bad_content_length' });
    expect(parseSip(sippMessage(BODY, ['l: 3']))).toMatchObject({ ok: false, reason: 'bad_content_length' });
    expect(parseSip(sippMessage().replace(/Call-ID: .*\r\n/, ''))).toMatchObject({ ok: false, reason: 'missing_header', detail: 'Call-ID' });
    expect(parseSip(sippMessage().replace('CSeq: 1 MESSAGE', 'CSeq: one MESSAGE'))).toMatchObject({ ok: false, reason: 'bad_cseq' });
    expect(parseSip(sippMessage().replace(/Content-Length: \d+/, 'Content-Length: 99999'), { stream: true })).toMatchObject({ ok: false, reason: 'too_large' });
    expect(parseSip(sippMessage(), { maxLength: 100 })).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('Via: parsed into transport, sent-by and parameters', () => {
    expect(parseVia('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-1;rport')).toEqual({
      transport: 'UDP',
      host: '198.51.100.7',
      port: 5060,
      params: [
        ['branch', 'z9hG4bK-1'],
        ['rport', undefined],
      ],
    });
    expect(parseVia('SIP / 2.0 / tcp [2001:db8::1]:5070 ;branch=z9hG4bKx')).toMatchObject({ transport: 'TCP', host: '[2001:db8::1]', port: 5070 });
    expect(parseVia('SIP/2.0/UDP host:99999')).toBeUndefined();
    expect(parseVia('nonsense')).toBeUndefined();
  });

  it('name-addr forms', () => {
    expect(parseNameAddr('"A \\"B\\"" <sip:u@h;transport=udp>;tag=x;foo')).toMatchObject({ display: 'A "B"', uri: 'sip:u@h;transport=udp', tag: 'x' });
    expect(parseNameAddr('Bob <sips:bob@h>')).toMatchObject({ display: 'Bob', uri: 'sips:bob@h' });
    expect(parseNameAddr('<tel:+8613800000000>')?.uri).toBe('tel:+8613800000000');
    expect(parseNameAddr('"no uri"')).toBeUndefined();
    expect(fromUser({ headers: [{ name: 'From', value: '<sip:%2B4612345:secret@h>;tag=1' }] })).toBe('+4612345');
    expect(fromUser({ headers: [{ name: 'From', value: '<tel:+4612345;phone-context=x>;tag=1' }] })).toBe('+4612345');
    expect(fromUser({ headers: [{ name: 'From', value: '<sip:host.only>;tag=1' }] })).toBeUndefined();
    expect(fromUser({ headers: [] })).toBeUndefined();
  });
});

describe('SIP: the 200 OK, and the <mrs> MESSAGE back', () => {
  it('200 OK echoes every Via in order, From, Call-ID, CSeq; adds a To tag; Content-Length 0', () => {
    const req = request(sippMessage());
    const wire = buildResponse(req, 200, 'OK');
    const text = wire.toString();
    expect(text.startsWith('SIP/2.0 200 OK\r\n')).toBe(true);
    expect(text.endsWith('\r\n\r\n')).toBe(true);
    expect(text).not.toMatch(/[^\r]\n/);
    const res = response(wire);
    expect(res).toMatchObject({ status: 200, reason: 'OK' });
    expect(getHeaders(res, 'Via')).toEqual(getHeaders(req, 'Via'));
    expect(getHeader(res, 'From')).toBe(getHeader(req, 'From'));
    expect(getHeader(res, 'Call-ID')).toBe(getHeader(req, 'Call-ID'));
    expect(getHeader(res, 'CSeq')).toBe('1 MESSAGE');
    expect(getHeader(res, 'Content-Length')).toBe('0');
    expect(res.body.length).toBe(0);
    const to = parseNameAddr(getHeader(res, 'To'))!;
    expect(to.uri).toBe('sip:arc@192.0.2.10:5060');
    expect(to.tag).toMatch(/^[0-9a-f]{16}$/);
    // a retransmission gets the identical response; another request another tag
    expect(buildResponse(request(sippMessage()), 200, 'OK').equals(wire)).toBe(true);
    const other = response(buildResponse(request(sippMessage().replace('Call-ID: 1-4711', 'Call-ID: 2-4711')), 200, 'OK'));
    expect(parseNameAddr(getHeader(other, 'To'))!.tag).not.toBe(to.tag);
  });

  it('an existing To tag is kept; a 100 adds none; a given tag is used; extra headers and a body', () => {
    const tagged = request(sippMessage().replace('To: <sip:arc@192.0.2.10:5060>', 'To: <sip:arc@192.0.2.10:5060>;tag=abc'));
    expect(getHeader(response(buildResponse(tagged, 200, 'OK')), 'To')).toBe('<sip:arc@192.0.2.10:5060>;tag=abc');
    const req = request(sippMessage());
    expect(getHeader(response(buildResponse(req, 100, 'Trying')), 'To')).toBe('<sip:arc@192.0.2.10:5060>');
    const res = response(buildResponse(req, 403, 'cid\r\nInjected: 1', { toTag: 't1', headers: [['Server', 'Anxin']] }));
    expect(res.reason).toBe('cid Injected: 1');
    expect(parseNameAddr(getHeader(res, 'To'))!.tag).toBe('t1');
    expect(getHeader(res, 'Server')).toBe('Anxin');
    expect(getHeader(res, 'Injected')).toBeUndefined();
    const withBody = response(buildResponse(req, 200, 'OK', { body: '<scaip>好</scaip>', contentType: 'application/scaip+xml' }));
    expect(withBody.body.toString()).toBe('<scaip>好</scaip>');
    expect(getHeader(withBody, 'Content-Length')).toBe(String(Buffer.byteLength('<scaip>好</scaip>')));
  });

  it('received and rport are stamped on the top Via (RFC 3261 §18.2.1, RFC 3581); the response target follows them', () => {
    const req = request(sippMessage());
    const nat = { address: '203.0.113.5', port: 40001 };
    const res = response(buildResponse(req, 200, 'OK', { source: nat }));
    const [top, second] = getHeaders(res, 'Via');
    const v = parseVia(top!)!;
    expect(viaParam(v, 'received')).toBe('203.0.113.5');
    expect(viaParam(v, 'rport')).toBe('40001');
    expect(viaParam(v, 'branch')).toBe('z9hG4bK-4711-1-0');
    expect(second).toBe(getHeaders(req, 'Via')[1]);
    expect(responseTarget(req, nat)).toEqual(nat);

    const plain = request(sippMessage().replace(';rport', ''));
    expect(viaParam(parseVia(getHeaders(response(buildResponse(plain, 200, 'OK', { source: UNIT })), 'Via')[0]!)!, 'received')).toBeUndefined();
    expect(viaParam(parseVia(getHeaders(response(buildResponse(plain, 200, 'OK', { source: nat })), 'Via')[0]!)!, 'received')).toBe(nat.address);
    expect(responseTarget(plain, nat)).toEqual({ address: nat.address, port: 5060 });
    expect(topVia(plain)).toMatchObject({ host: '198.51.100.7', port: 5060 });
  });

  it('the <mrs> MESSAGE back to the unit parses again (round trip)', () => {
    const req = request(sippMessage());
    const m = mrqOf(req.body);
    const mrs = buildMrs({ ref: m.ref, snu: SNU.ok, ste: '已接收' });
    const from = `<sip:arc@192.0.2.10:5060>;tag=${newTag(counting)}`;
    const to = `<${parseNameAddr(getHeader(req, 'From'))!.uri}>`;
    const requestUri = parseNameAddr(getHeader(req, 'Contact'))!.uri;
    const wire = buildMessage({
      requestUri,
      from,
      to,
      callId: newCallId(counting, '192.0.2.10'),
      cseq: 1,
      via: { transport: 'UDP', host: '192.0.2.10', port: 5060, branch: newBranch(counting), rport: true },
      contentType: SCAIP_DEFAULTS.contentType,
      body: mrs,
      maxForwards: 70,
    });
    const text = wire.toString('utf8');
    expect(text.split('\r\n\r\n')[0]).toBe(
      crlf([
        'MESSAGE sip:26317@198.51.100.7:5060 SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK0001020304050607;rport',
        'Max-Forwards: 70',
        'From: <sip:arc@192.0.2.10:5060>;tag=0001020304050607',
        'To: <sip:26317@198.51.100.7:5060>',
        'Call-ID: 000102030405060708090a0b0c0d0e0f@192.0.2.10',
        'CSeq: 1 MESSAGE',
        'Content-Type: application/scaip+xml',
        `Content-Length: ${Buffer.byteLength(mrs)}`,
      ]),
    );
    const back = request(wire);
    expect(back).toMatchObject({ method: 'MESSAGE', uri: requestUri });
    expect(back.body.toString('utf8')).toBe(mrs);
    expect(getHeader(back, 'From')).toBe(from);
    expect(getHeader(back, 'To')).toBe(to);
    expect(parseCSeq(getHeader(back, 'CSeq')!)).toEqual({ seq: 1, method: 'MESSAGE' });
    expect(viaParam(topVia(back)!, 'branch')!.startsWith(BRANCH_COOKIE)).toBe(true);
    // the unit's 200 OK to it parses as a response
    const ok = response(buildResponse(back, 200, 'OK', { toTag: 'u1' }));
    expect(getHeader(ok, 'CSeq')).toBe('1 MESSAGE');
  });

  it('a branch without the magic cookie gets it; generators use the random source', () => {
    const wire = buildMessage({ requestUri: 'sip:u@h', from: '<sip:a@b>;tag=1', to: '<sip:u@h>', callId: 'c', cseq: 2, via: { transport: 'tcp', host: 'b', branch: 'abc' }, contentType: 'text/plain', body: '' });
    const req = request(wire);
    expect(getHeader(req, 'Via')).toBe('SIP/2.0/TCP b;branch=z9hG4bKabc');
    expect(getHeader(req, 'Max-Forwards')).toBe('70');
    expect(getHeader(req, 'Content-Length')).toBe('0');
    expect(newBranch(counting)).toBe('z9hG4bK0001020304050607');
    expect(newCallId(counting)).toBe('000102030405060708090a0b0c0d0e0f');
    expect(newBranch()).toMatch(/^z9hG4bK[0-9a-f]{16}$/);
    expect(newBranch()).not.toBe(newBranch());
    expect(newTag()).toMatch(/^[0-9a-f]{16}$/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('fast-check: the parsers never throw', () => {
  const xmlish = fc
    .array(fc.constantFrom('<mrq>', '</mrq>', '<ref>', '</ref>', '<cid>', '</cid>', '<dty>', '</dty>', '<mty>', 'ME', 'PI', '</mty>', '&amp;', '&#x41;', '&', '<', '>', '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '<!DOCTYPE x>', ' ', '02', '\u0000', '<__proto__>', '</__proto__>'), { maxLength: 40 })
    .map((parts) => parts.join(''));

  it('parseMrq on arbitrary strings, bytes and XML-ish fragments; a success decodes', () => {
    const check = (input: string | Buffer) => {
      const r = parseMrq(input);
      if (r.ok) {
        const n = decodeScaip(r.mrq, { receivedAt: at, vendor: 'essence' });
        expect(n.alarms.every(isAlarmKind)).toBe(true);
      } else {
        expect(typeof r.snu).toBe('number');
        expect(r.snu).not.toBe(0);
      }
      buildMrs({ ref: r.ok ? r.mrq.ref : r.ref, snu: 0 });
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => check(Buffer.from(b))), { numRuns: 500 });
    fc.assert(fc.property(xmlish, check), { numRuns: 1000 });
  });

  it('parseSip on arbitrary strings and bytes, and on every cut and byte flip of a real MESSAGE', () => {
    const check = (input: string | Buffer, stream: boolean) => {
      const r = parseSip(input, { stream });
      if (r.ok) {
        expect(r.length).toBeGreaterThan(0);
        if (r.message.type === 'request') buildResponse(r.message, 200, 'OK', { source: UNIT });
        fromUser(r.message as SipMessage);
      }
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.boolean(), check), { numRuns: 500 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (b, s) => check(Buffer.from(b), s)), { numRuns: 500 });
    const wire = Buffer.from(sippMessage());
    for (let k = 0; k <= wire.length; k++) {
      const cut = parseSip(wire.subarray(0, k), { stream: true });
      if (k < wire.length) expect(cut.ok).toBe(false);
      else expect(cut.ok).toBe(true);
    }
    fc.assert(
      fc.property(fc.nat(wire.length - 1), fc.integer({ min: 0, max: 255 }), fc.boolean(), (pos, byte, stream) => {
        const b = Buffer.from(wire);
        b[pos] = byte;
        check(b, stream);
      }),
      { numRuns: 1000 },
    );
  });
});
