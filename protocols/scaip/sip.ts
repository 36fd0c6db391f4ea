/**
 * A minimal SIP codec (RFC 3261), enough for SCAIP (protocols.md §4): a unit sends its `<mrq>` in a SIP MESSAGE
 * (RFC 3428); the receiver answers `200 OK` and sends its `<mrs>` back in a new MESSAGE. Pure: bytes in, values
 * out; randomness comes in as a parameter. No transactions, no dialogs, no timers: those are the server's.
 *
 * Parsing (§7, §18.3, §25):
 * - CRLF line endings; a bare LF is tolerated. CRLFs before the start line are skipped (§7.5; alone they are
 *   RFC 5626 keep-alives: `empty`).
 * - Header names are case-insensitive, compact forms expanded (§7.3.3, §20: `f` From, `t` To, `i` Call-ID,
 *   `v` Via, `c` Content-Type, `l` Content-Length, `m` Contact, …). Folded lines (starting with SP or HTAB) join
 *   the header above with one space (§7.3.1).
 * - The body is Content-Length bytes (§18.3, §20.14). Over UDP a missing Content-Length means "to the end of the
 *   datagram", and fewer bytes than it says means the message is discarded (`truncated_body`). On a stream
 *   (`stream: true`) a short read is `incomplete` and `length` says how many bytes a whole message used.
 * - A request needs Via, From, To, Call-ID and CSeq (§8.1.1); Max-Forwards is not insisted on.
 *
 * Building: CRLF everywhere, Content-Length always; CR, LF and NUL in a value become spaces (no header injection).
 */
import { createHash, randomBytes } from 'node:crypto';

export const SIP_VERSION = 'SIP/2.0';
/** RFC 3261 §8.1.1.7: every branch this codec makes starts with it. */
export const BRANCH_COOKIE = 'z9hG4bK';
/** Largest message parsed (headers and body), bytes: SCAIP messages are well under 2 KiB. */
export const SIP_MAX_MESSAGE = 16384;

export interface SipHeader {
  /** canonical name (`Call-ID`, `CSeq`; compact forms expanded) or, for a header we do not know, as received */
  name: string;
  value: string;
}

interface SipBase {
  /** `SIP/2.0` */
  version: string;
  /** in message order, one entry per header line (a comma list stays one entry) */
  headers: SipHeader[];
  body: Buffer;
}

export interface SipRequest extends SipBase {
  type: 'request';
  method: string;
  uri: string;
}

export interface SipResponse extends SipBase {
  type: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export type SipParseError =
  | 'empty'
  | 'too_large'
  | 'incomplete'
  | 'bad_start_line'
  | 'bad_version'
  | 'bad_header'
  | 'bad_content_length'
  | 'truncated_body'
  | 'missing_header'
  | 'bad_cseq'
  | 'decoder_error';

export type SipParseResult =
  | {
      ok: true;
      message: SipMessage;
      /** bytes the message used, leading CRLFs included (a stream continues after them) */
      length: number;
    }
  | { ok: false; reason: SipParseError; detail?: string };

export interface SipParseOptions {
  /** TCP/TLS: the input may hold part of a message (`incomplete`) or more than one (see `length`) */
  stream?: boolean;
  /** default SIP_MAX_MESSAGE */
  maxLength?: number;
}

/** §7.3.3 / §20 compact forms (and those of RFCs a SCAIP peer may use: 3265, 3515, 3892, 4028, 3841, 4474). */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

const CANONICAL: Readonly<Record<string, string>> = Object.fromEntries(
  [
    ...Object.values(COMPACT),
    'Accept',
    'Accept-Encoding',
    'Accept-Language',
    'Allow',
    'Authorization',
    'CSeq',
    'Date',
    'Expires',
    'Max-Forwards',
    'Proxy-Authenticate',
    'Proxy-Authorization',
    'Record-Route',
    'Require',
    'Retry-After',
    'Route',
    'Server',
    'Timestamp',
    'User-Agent',
    'Warning',
    'WWW-Authenticate',
  ].map((n) => [n.toLowerCase(), n]),
);

/** `i` → `Call-ID`, `cseq` → `CSeq`; a name we do not know is returned as given. */
export function headerName(name: string): string {
  const lower = name.toLowerCase();
  if (Object.hasOwn(COMPACT, lower)) return COMPACT[lower]!;
  return Object.hasOwn(CANONICAL, lower) ? CANONICAL[lower]! : name;
}

const key = (name: string): string => headerName(name).toLowerCase();

/** The first value of a header (any case, compact or long form). */
export function getHeader(m: { headers: readonly SipHeader[] }, name: string): string | undefined {
  const k = key(name);
  return m.headers.find((h) => key(h.name) === k)?.value;
}

/** Every line of a header, in order. */
export function getHeaders(m: { headers: readonly SipHeader[] }, name: string): string[] {
  const k = key(name);
  return m.headers.filter((h) => key(h.name) === k).map((h) => h.value);
}

const CR = 0x0d;
const LF = 0x0a;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const HEADER_LINE = /^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:[ \t]*(.*)$/s;
const REQUEST_LINE = /^(\S+) +(\S+) +(\S+)$/;
const STATUS_LINE = /^(SIP\/\S+) +([0-9]{3})(?: +(.*))?$/i;
const REQUIRED_IN_REQUEST = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;
const REQUIRED_IN_RESPONSE = ['From', 'To', 'Call-ID', 'CSeq'] as const;

function fail(reason: SipParseError, detail?: string): SipParseResult {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}

/** Where the header section ends and the body starts (CRLFCRLF, or LFLF tolerated), from `from`. */
function headerEnd(b: Buffer, from: number): { end: number; body: number } | undefined {
  const crlf = b.indexOf('\r\n\r\n', from, 'latin1');
  const lf = b.indexOf('\n\n', from, 'latin1');
  if (crlf < 0 && lf < 0) return undefined;
  if (lf >= 0 && (crlf < 0 || lf < crlf)) return { end: lf, body: lf + 2 };
  return { end: crlf, body: crlf + 4 };
}

/** One SIP message (a UDP datagram, or the start of a stream buffer). Never throws. */
export function parseSip(input: Buffer | string, opts: SipParseOptions = {}): SipParseResult {
  try {
    return parse(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, opts);
  } catch (e) {
    return fail('decoder_error', (e as Error).message);
  }
}

function parse(b: Buffer, opts: SipParseOptions): SipParseResult {
  const max = opts.maxLength ?? SIP_MAX_MESSAGE;
  const stream = opts.stream === true;
  let start = 0;
  while (start < b.length && (b[start] === CR || b[start] === LF)) start++;
  if (start === b.length) return fail('empty');

  const h = headerEnd(b, start);
  if (!h && stream) return b.length - start > max ? fail('too_large') : fail('incomplete');
  // a datagram without the blank line: headers to its end, no body (lenient)
  const end = h ? h.end : b.length;
  const bodyAt = h ? h.body : b.length;
  if (end - start > max) return fail('too_large');

  const lines = b.toString('utf8', start, end).split(/\r?\n/);
  const first = lines[0]!.trim();

  let head: Pick<SipRequest, 'type' | 'method' | 'uri' | 'version'> | Pick<SipResponse, 'type' | 'status' | 'reason' | 'version'>;
  const sl = STATUS_LINE.exec(first);
  if (sl) {
    const status = Number(sl[2]);
    if (status < 100 || status > 699) return fail('bad_start_line', first.slice(0, 80));
    head = { type: 'response', version: sl[1]!.toUpperCase(), status, reason: sl[3] ?? '' };
  } else {
    const rl = REQUEST_LINE.exec(first);
    if (!rl || !TOKEN.test(rl[1]!)) return fail('bad_start_line', first.slice(0, 80));
    head = { type: 'request', method: rl[1]!, uri: rl[2]!, version: rl[3]!.toUpperCase() };
  }
  if (head.version !== SIP_VERSION) return fail('bad_version', head.version.slice(0, 20));

  const headers: SipHeader[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue; // a datagram's trailing CRLF without the blank line
    if (/^[ \t]/.test(line)) {
      // folding (§7.3.1): the line continues the header above
      const last = headers[headers.length - 1];
      if (!last) return fail('bad_header', 'continuation before any header');
      last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const m = HEADER_LINE.exec(line);
    if (!m) return fail('bad_header', line.slice(0, 80));
    headers.push({ name: headerName(m[1]!), value: m[2]!.trim() });
  }

  const lengths = [...new Set(headers.filter((x) => x.name === 'Content-Length').map((x) => x.value))];
  if (lengths.length > 1 || (lengths.length === 1 && !/^[0-9]{1,9}$/.test(lengths[0]!))) return fail('bad_content_length', lengths.join(', ').slice(0, 40));
  let bodyLength: number;
  if (lengths.length === 1) {
    bodyLength = Number(lengths[0]);
    if (bodyAt - start + bodyLength > max) return fail('too_large');
    if (bodyAt + bodyLength > b.length) return stream ? fail('incomplete') : fail('truncated_body', `${b.length - bodyAt} of ${bodyLength} bytes`);
  } else {
    // §18.3: optional over UDP (the body runs to the end of the datagram); required on a stream, taken as 0
    bodyLength = stream ? 0 : b.length - bodyAt;
    if (bodyAt - start + bodyLength > max) return fail('too_large');
  }

  const required = head.type === 'request' ? REQUIRED_IN_REQUEST : REQUIRED_IN_RESPONSE;
  const missing = required.filter((n) => !headers.some((x) => x.name === n));
  if (missing.length) return fail('missing_header', missing.join(', '));
  if (!parseCSeq(headers.find((x) => x.name === 'CSeq')!.value)) return fail('bad_cseq');

  const body = Buffer.from(b.subarray(bodyAt, bodyAt + bodyLength));
  const message: SipMessage = { ...head, headers, body } as SipMessage;
  return { ok: true, message, length: bodyAt + bodyLength };
}

/** `CSeq: 1 MESSAGE` → { seq: 1, method: 'MESSAGE' } (§20.16: a 32-bit number and a method). */
export function parseCSeq(value: string): { seq: number; method: string } | undefined {
  const m = /^([0-9]{1,10})\s+(\S+)$/.exec(value.trim());
  if (!m || !TOKEN.test(m[2]!)) return undefined;
  const seq = Number(m[1]);
  return seq < 2 ** 32 ? { seq, method: m[2]! } : undefined;
}

/** Split on commas outside quotes and `<…>` (Via and Contact may hold several values on one line, §7.3.1). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = false;
  let cur = '';
  for (let k = 0; k < value.length; k++) {
    const c = value[k]!;
    if (quoted) {
      if (c === '\\' && k + 1 < value.length) {
        cur += c + value[++k]!;
        continue;
      }
      if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === ',' && !angle) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out.filter((x) => x !== '');
}

/** `;a=1;b;c="x;y"` → [['a','1'],['b',undefined],['c','"x;y"']] (names lower case, values as written). */
function parseParams(s: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  let cur = '';
  let quoted = false;
  const flush = () => {
    const t = cur.trim();
    cur = '';
    if (t === '') return;
    const eq = t.indexOf('=');
    if (eq < 0) out.push([t.toLowerCase(), undefined]);
    else out.push([t.slice(0, eq).trim().toLowerCase(), t.slice(eq + 1).trim()]);
  };
  for (const c of s) {
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) flush();
    else cur += c;
  }
  flush();
  return out;
}

function paramRecord(list: Array<[string, string | undefined]>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of list) if (!Object.hasOwn(out, k)) out[k] = v === undefined ? '' : v.replace(/^"(.*)"$/s, '$1');
  return out;
}

export interface NameAddr {
  display?: string;
  /** the URI, without `<>` */
  uri: string;
  /** header parameters (after the URI), names lower case; a flag parameter is '' (null prototype) */
  params: Record<string, string>;
  tag?: string;
}

/** `"Unit" <sip:26317@host>;tag=x` or `sip:26317@host;tag=x` (§20.10, §20.20, §20.39). Undefined if unreadable. */
export function parseNameAddr(value: string | undefined): NameAddr | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let display: string | undefined;
  let uri: string;
  let rest: string;
  const lt = v.startsWith('"') ? v.indexOf('<', closingQuote(v) + 1) : v.indexOf('<');
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    if (gt < 0) return undefined;
    const d = v.slice(0, lt).trim();
    if (d) display = d.startsWith('"') && d.endsWith('"') && d.length >= 2 ? d.slice(1, -1).replace(/\\(.)/g, '$1') : d;
    uri = v.slice(lt + 1, gt).trim();
    rest = v.slice(gt + 1);
  } else {
    // addr-spec: parameters after the URI are the header's (§20.10)
    const semi = v.indexOf(';');
    uri = (semi < 0 ? v : v.slice(0, semi)).trim();
    rest = semi < 0 ? '' : v.slice(semi);
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri)) return undefined;
  const params = paramRecord(parseParams(rest));
  const out: NameAddr = { uri, params };
  if (display !== undefined) out.display = display;
  if (params.tag) out.tag = params.tag;
  return out;
}

function closingQuote(s: string): number {
  for (let k = 1; k < s.length; k++) {
    if (s[k] === '\\') k++;
    else if (s[k] === '"') return k;
  }
  return s.length;
}

/** The user of `sip:user:pw@host`, `sips:…`, or the number of `tel:+123;…`; percent-decoded. */
export function uriUser(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  let user: string | undefined;
  const sip = /^sips?:([^@]*)@/i.exec(uri);
  if (sip) user = sip[1]!.split(':')[0];
  else {
    const tel = /^tel:([^;?]+)/i.exec(uri);
    if (tel) user = tel[1];
  }
  if (!user) return undefined;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** The SIP From user: SCAIP requires it to equal the `<mrq>`'s `cid` (§4). */
export function fromUser(m: { headers: readonly SipHeader[] }): string | undefined {
  return uriUser(parseNameAddr(getHeader(m, 'From'))?.uri);
}

export interface Via {
  /** `UDP`, `TCP`, `TLS`… (upper case) */
  transport: string;
  /** as written (an IPv6 reference keeps its brackets) */
  host: string;
  port?: number;
  /** in order, names lower case; a flag (`rport`) has value undefined */
  params: Array<[string, string | undefined]>;
}

const VIA = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s:;[\]]+)(?:\s*:\s*([0-9]{1,5}))?\s*(;.*)?$/is;

/** One via-parm (§20.42): `SIP/2.0/UDP host:port;branch=…;rport`. Undefined if unreadable. */
export function parseVia(value: string): Via | undefined {
  const m = VIA.exec(value.trim());
  if (!m) return undefined;
  const via: Via = { transport: m[1]!.toUpperCase(), host: m[2]!, params: parseParams(m[4] ?? '') };
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535) return undefined;
    via.port = port;
  }
  return via;
}

export function formatVia(v: Via): string {
  const params = v.params.map(([k, x]) => (x === undefined ? `;${k}` : `;${k}=${x}`)).join('');
  return `${SIP_VERSION}/${v.transport} ${v.host}${v.port === undefined ? '' : `:${v.port}`}${params}`;
}

/** A Via parameter: its value, '' for a flag, undefined when absent. */
export function viaParam(v: Via, name: string): string | undefined {
  const p = v.params.find(([k]) => k === name.toLowerCase());
  return p ? (p[1] ?? '') : undefined;
}

function setParam(v: Via, name: string, value: string): void {
  const p = v.params.find(([k]) => k === name);
  if (p) p[1] = value;
  else v.params.push([name, value]);
}

const bare = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** The top via-parm of a message (the first value of the first Via line). */
export function topVia(m: { headers: readonly SipHeader[] }): Via | undefined {
  const first = getHeaders(m, 'Via')[0];
  const v = first === undefined ? undefined : splitList(first)[0];
  return v === undefined ? undefined : parseVia(v);
}

/** Where the packet came from, as the transport saw it. */
export interface SipSource {
  address: string;
  port: number;
}

/**
 * Where to send a response over UDP (§18.2.2, RFC 3581 §4): with `rport`, back to the source address and port
 * (the NAT's mapping); otherwise to the source address (what `received` holds) and the Via's port (5060 by
 * default, 5061 for TLS). Over TCP/TLS the response goes back on the request's connection.
 */
export function responseTarget(req: SipRequest, source: SipSource): SipSource {
  const v = topVia(req);
  if (!v || viaParam(v, 'rport') !== undefined) return { address: source.address, port: source.port };
  return { address: source.address, port: v.port ?? (v.transport === 'TLS' ? 5061 : 5060) };
}

/**
 * The top Via with `received` and `rport` filled in (§18.2.1, RFC 3581 §4): `received` when the source address
 * differs from the sent-by host, and always when the unit asked for `rport`, whose value becomes the source port.
 */
function stampVia(value: string, source: SipSource): string {
  const parts = splitList(value);
  const v = parts[0] === undefined ? undefined : parseVia(parts[0]);
  if (!v) return value;
  const rport = viaParam(v, 'rport');
  if (rport !== undefined) {
    setParam(v, 'received', source.address);
    setParam(v, 'rport', String(source.port));
  } else if (bare(v.host) !== bare(source.address)) {
    setParam(v, 'received', source.address);
  }
  return [formatVia(v), ...parts.slice(1)].join(', ');
}

const clean = (s: string): string => s.replace(/[\r\n\0]+/g, ' ');

export interface ResponseExtra {
  /** the To tag to add when the request's To has none (default: derived from the request, see buildResponse) */
  toTag?: string;
  /** the request's source: stamps `received`/`rport` on the top Via */
  source?: SipSource;
  /** further headers (Server, Allow…) */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** a body (a 2xx to a MESSAGE has none, RFC 3428 §7; one receiver puts `<scaip>` there, §4) */
  body?: string | Buffer;
  contentType?: string;
}

/**
 * A response to `req` (§8.2.6): every Via in order, From, To (with a tag added when it has none, except on a 100),
 * Call-ID, CSeq as received, then Content-Length.
 *
 * The default To tag is a hash of Call-ID, From tag, CSeq and top branch: a retransmitted request gets the
 * identical response, as a transaction-less UAS should give, and a different request gets another tag.
 */
export function buildResponse(req: SipRequest, status: number, reason: string, extra: ResponseExtra = {}): Buffer {
  const lines = [`${SIP_VERSION} ${status} ${clean(reason)}`];
  getHeaders(req, 'Via').forEach((v, k) => lines.push(`Via: ${clean(k === 0 && extra.source ? stampVia(v, extra.source) : v)}`));
  const from = getHeader(req, 'From');
  if (from !== undefined) lines.push(`From: ${clean(from)}`);
  const to = getHeader(req, 'To');
  if (to !== undefined) {
    const hasTag = parseNameAddr(to)?.tag !== undefined;
    lines.push(`To: ${clean(hasTag || status === 100 ? to : `${to};tag=${extra.toTag ?? derivedTag(req)}`)}`);
  }
  const callId = getHeader(req, 'Call-ID');
  if (callId !== undefined) lines.push(`Call-ID: ${clean(callId)}`);
  const cseq = getHeader(req, 'CSeq');
  if (cseq !== undefined) lines.push(`CSeq: ${clean(cseq)}`);
  for (const [n, v] of extra.headers ?? []) lines.push(`${clean(n)}: ${clean(v)}`);
  const body = extra.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(extra.body) ? extra.body : Buffer.from(extra.body, 'utf8');
  if (body.length && extra.contentType) lines.push(`Content-Type: ${clean(extra.contentType)}`);
  lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

function derivedTag(req: SipRequest): string {
  const via = topVia(req);
  const parts = [getHeader(req, 'Call-ID'), parseNameAddr(getHeader(req, 'From'))?.tag, getHeader(req, 'CSeq'), via && viaParam(via, 'branch')];
  return createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\n'))
    .digest('hex')
    .slice(0, 16);
}

export interface MessageOptions {
  /** where the MESSAGE goes: the unit's Contact, or its From URI */
  requestUri: string;
  /** our address, with our `;tag=` (§8.1.1.3: a From tag is mandatory) */
  from: string;
  /** the unit's address (no tag: a MESSAGE outside a dialog) */
  to: string;
  callId: string;
  cseq: number;
  /** our Via; a branch without the magic cookie gets it prefixed (§8.1.1.7) */
  via: { transport: string; host: string; port?: number; branch: string; rport?: boolean };
  contentType: string;
  body: string | Buffer;
  /** default 70 (§8.1.1.6) */
  maxForwards?: number;
  headers?: ReadonlyArray<readonly [string, string]>;
}

/** A MESSAGE request (RFC 3428), e.g. the `<mrs>` back to the unit. */
export function buildMessage(o: MessageOptions): Buffer {
  const branch = o.via.branch.startsWith(BRANCH_COOKIE) ? o.via.branch : `${BRANCH_COOKIE}${o.via.branch}`;
  const body = Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body, 'utf8');
  const port = o.via.port === undefined ? '' : `:${o.via.port}`;
  const lines = [
    `MESSAGE ${clean(o.requestUri)} ${SIP_VERSION}`,
    `Via: ${SIP_VERSION}/${clean(o.via.transport.toUpperCase())} ${clean(o.via.host)}${port};branch=${clean(branch)}${o.via.rport ? ';rport' : ''}`,
    `Max-Forwards: ${o.maxForwards ?? 70}`,
    `From: ${clean(o.from)}`,
    `To: ${clean(o.to)}`,
    `Call-ID: ${clean(o.callId)}`,
    `CSeq: ${o.cseq} MESSAGE`,
    ...(o.headers ?? []).map(([n, v]) => `${clean(n)}: ${clean(v)}`),
    `Content-Type: ${clean(o.contentType)}`,
    `Content-Length: ${body.length}`,
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

/** n random bytes; tests pass a fixed source. */
export type RandomSource = (length: number) => Buffer;
export const cryptoRandom: RandomSource = (n) => randomBytes(n);

/** A new branch: the magic cookie and 64 random bits (§8.1.1.7). */
export function newBranch(rand: RandomSource = cryptoRandom): string {
  return BRANCH_COOKIE + rand(8).toString('hex');
}

/** A new From/To tag: 64 random bits (§19.3 asks for at least 32). */
export function newTag(rand: RandomSource = cryptoRandom): string {
  return rand(8).toString('hex');
}

/** A new Call-ID: 128 random bits, `@host` when given (§8.1.1.4). */
export function newCallId(rand: RandomSource = cryptoRandom, host?: string): string {
  const id = rand(16).toString('hex');
  return host ? `${id}@${host}` : id;
}
