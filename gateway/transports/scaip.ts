/**
 * SCAIP over SIP (issue 26, protocols.md §4): social-alarm carephones send their alarm messages as SIP MESSAGE
 * requests (RFC 3428, `Content-Type: application/scaip+xml`) to the gateway's own SIP port over UDP.
 *
 * Why not through Asterisk's PJSIP into ARI: Asterisk 22's res_pjsip_messaging takes out-of-dialog MESSAGEs with
 * `text/plain` bodies only (415 for anything else), and answers 202 as soon as the message is queued, before any
 * application has stored it. A SCAIP unit must be told "handled" only once the alarm is committed, so the gateway
 * answers the unit itself (README "IP alarm receivers").
 *
 * Per MESSAGE, in order:
 * - not SIP, or no Via/From/Call-ID/CSeq → dropped, counted (nothing to answer to);
 * - a retransmission of a request still being handled → absorbed; of one answered → the same answer again
 *   (RFC 3261 §17.2.2, the non-INVITE server transaction, kept for 64×T1);
 * - another body type → 415; another method → 405 (OPTIONS, the units' keep-alive, → 200);
 * - a unit registered with a SIP password and no valid digest credentials → 401 with a challenge (§22);
 * - the `<mrq>` unreadable or a mandatory tag missing → 200, then an `<mrs>` with the error's `snu` (the SIP
 *   request arrived intact; the SCAIP content is what is wrong), no alarm;
 * - `cid` not the SIP From user, or not a registered SCAIP unit → 200, then `<mrs>` snu 5 "not treated" (the unit
 *   tries its other receiver), counted, and an unknown unit is listed as awaiting registration;
 * - otherwise the pipeline; once committed 200, then `<mrs>` snu 0. Not committed (the database is down) → 503
 *   with Retry-After and no `<mrs>`: the unit sends it again, and the same `ref` raises nothing twice.
 * The `<mrs>` goes back in a new MESSAGE, on the request's Call-ID, to where the request came from (the unit's NAT
 * mapping), retransmitted
 * at T1 doubling to T2 until the unit answers or 64×T1 pass (§17.1.2, the non-INVITE client transaction).
 */
import { randomBytes } from 'node:crypto';
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import {
  SCAIP_DEFAULTS,
  SNU,
  buildMessage,
  buildMrs,
  buildResponse,
  challenge,
  checkNonce,
  cidMatchesFrom,
  decodeScaip,
  fromUser,
  getHeader,
  isScaipContentType,
  makeNonce,
  newBranch,
  newCallId,
  newTag,
  parseAuthorization,
  parseMrq,
  parseNameAddr,
  parseSip,
  scaipProtocol,
  topVia,
  toDeviceMessage,
  verifyDigest,
  viaParam,
  type SipRequest,
  type SipResponse,
} from '../../protocols/scaip/index.js';
import { normalisePhone } from '../../telephony/phone.js';
import type { HandleResult } from '../pipeline.js';
import type { Device } from '../store/devices.js';
import type { IpReceiverDeps } from './ip-receiver.js';
import { bindUdp, closeUdp } from './udp.js';

/** A SIP or SIPS URI with nothing in it that could end a header or the request line. */
const SIP_URI = /^sips?:[\x21-\x7e]+$/i;

/** The digest realm units authenticate in, and how long a nonce of ours is good for. */
const REALM = 'anxin';
const NONCE_MAX_AGE_MS = 5 * 60_000;

/** RFC 3261 timers (§17.1.2.2): T1 500 ms, T2 4 s; a transaction lives 64×T1. */
const T1 = 500;
const T2 = 4000;
const LIFETIME_MS = 64 * T1;

export interface ScaipOptions {
  host: string;
  port: number;
  /** the address units are told to answer (Via, From of the `<mrs>` MESSAGE); default the bound address */
  advertise?: string;
  /** the centre's area code, for a `crd` landline number without one (AREA_CODE) */
  areaCode?: string;
}

/** `keyOf` gives the unit's SIP password: a unit that has one must authenticate. */
export type ScaipDeps = IpReceiverDeps;

interface ServerTx {
  /** the final response once sent (a retransmitted request gets it again) */
  response?: Buffer;
  until: number;
}

interface ClientTx {
  bytes: Buffer;
  to: { address: string; port: number };
  interval: number;
  timer: NodeJS.Timeout;
  until: number;
}

export class ScaipServer {
  private sock?: UdpSocket;
  private readonly serverTx = new Map<string, ServerTx>();
  private readonly clientTx = new Map<string, ClientTx>();
  private sweeper?: NodeJS.Timeout;
  private cseq = 1;
  private readonly tag = newTag();
  /** signs our digest nonces (stateless: a nonce is its time and this key's HMAC of it) */
  private readonly nonceKey = randomBytes(32);
  port = 0;

  constructor(
    private readonly o: ScaipOptions,
    private readonly d: ScaipDeps,
  ) {}

  /** `<mrs>` MESSAGEs still waiting for the unit's answer */
  get pending(): number {
    return this.clientTx.size;
  }

  async start(): Promise<void> {
    this.sock = await bindUdp({ host: this.o.host, port: this.o.port, what: 'SCAIP', log: this.d.log }, (m, r) => this.datagram(m, r));
    this.port = this.sock.address().port;
    this.sweeper = setInterval(() => this.sweep(), 5000);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    for (const t of this.clientTx.values()) clearTimeout(t.timer);
    this.clientTx.clear();
    await closeUdp(this.sock);
    this.sock = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, t] of this.serverTx) if (t.until <= now) this.serverTx.delete(k);
  }

  private send(bytes: Buffer, to: { address: string; port: number }): void {
    this.sock?.send(bytes, to.port, to.address);
  }

  private async datagram(bytes: Buffer, from: RemoteInfo): Promise<void> {
    const m = this.d.metrics;
    m.bytesReceived.inc({ protocol: 'scaip' }, bytes.length);
    // keep-alive CRLFs (RFC 5626 §4.4.1) carry nothing
    if (bytes.length <= 4 && /^[\r\n]*$/.test(bytes.toString('latin1'))) return;
    const parsed = parseSip(bytes);
    if (!parsed.ok) {
      m.badFrames.inc({ protocol: 'scaip', reason: `sip_${parsed.reason}` });
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'response') return this.answered(msg);
    m.frames.inc({ protocol: 'scaip' });
    const source = { address: from.address, port: from.port };
    const key = txKey(msg);
    if (!key) {
      m.badFrames.inc({ protocol: 'scaip', reason: 'sip_missing_header' });
      return;
    }
    const known = this.serverTx.get(key);
    if (known) {
      // a retransmission: the answer again once there is one (§17.2.2); nothing while the first is still handled
      if (known.response) this.send(known.response, source);
      return;
    }
    const tx: ServerTx = { until: Date.now() + LIFETIME_MS };
    this.serverTx.set(key, tx);
    const answer = (status: number, reason: string, headers?: [string, string][]) => {
      tx.response = buildResponse(msg, status, reason, { source, ...(headers ? { headers } : {}) });
      tx.until = Date.now() + LIFETIME_MS;
      this.send(tx.response, source);
      m.scaipResponses.inc({ status: String(status) });
    };
    if (msg.method === 'OPTIONS') return answer(200, 'OK', [['Allow', 'MESSAGE, OPTIONS']]);
    if (msg.method !== 'MESSAGE') return answer(405, 'Method Not Allowed', [['Allow', 'MESSAGE, OPTIONS']]);
    if (!isScaipContentType(getHeader(msg, 'Content-Type'))) return answer(415, 'Unsupported Media Type', [['Accept', SCAIP_DEFAULTS.contentType]]);
    let auth: 'ok' | 'challenge' | 'stale';
    try {
      auth = await this.authenticated(msg);
    } catch (e) {
      this.d.log.error({ err: e }, 'SCAIP unit lookup failed; asked to retry');
      return answer(503, 'Service Unavailable', [['Retry-After', '5']]);
    }
    if (auth !== 'ok') {
      m.scaipAuth.inc({ result: auth === 'stale' ? 'stale' : getHeader(msg, 'Authorization') ? 'refused' : 'challenged' });
      return answer(401, 'Unauthorized', [['WWW-Authenticate', challenge(REALM, makeNonce(this.nonceKey, Date.now()), auth === 'stale')]]);
    }
    await this.message(msg, source, answer);
  }

  /**
   * RFC 3261 §22: a unit registered with a SIP password must answer our challenge; one without passes (its cid and
   * SIP From user are all that identify it). The From user names the unit (SCAIP: it equals `cid`).
   */
  private async authenticated(req: SipRequest): Promise<'ok' | 'challenge' | 'stale'> {
    const user = fromUser(req)?.trim();
    if (!user || !scaipProtocol.identifier.pattern.test(user)) return 'ok'; // judged on its <mrq> (snu 5)
    const device = await this.d.lookup(user);
    if (!device || device.protocol !== 'scaip' || !device.hasKey) return 'ok';
    const password = await this.d.keyOf(user);
    if (!password) return 'ok';
    const creds = parseAuthorization(getHeader(req, 'Authorization'));
    if (!creds?.nonce) return 'challenge';
    const nonce = checkNonce(this.nonceKey, creds.nonce, Date.now(), NONCE_MAX_AGE_MS);
    if (!nonce.ok) return 'challenge';
    if (!verifyDigest(creds, { method: req.method, realm: REALM, username: user, password })) return 'challenge';
    return nonce.stale ? 'stale' : 'ok';
  }

  /** One MESSAGE with an `<mrq>`: judged, handled, answered (SIP), then the `<mrs>`. */
  private async message(req: SipRequest, source: { address: string; port: number }, answer: (status: number, reason: string, headers?: [string, string][]) => void): Promise<void> {
    const m = this.d.metrics;
    const remote = `${source.address}:${source.port}`;
    const body = req.body.toString('utf8');
    const mrs = (f: Parameters<typeof buildMrs>[0]) => {
      m.scaipStatus.inc({ snu: String(f.snu) });
      this.reply(req, source, buildMrs(f));
    };
    const parsed = parseMrq(req.body);
    if (!parsed.ok) {
      m.badFrames.inc({ protocol: 'scaip', reason: parsed.reason });
      answer(200, 'OK');
      return mrs({ ...(parsed.ref !== undefined ? { ref: parsed.ref } : {}), snu: parsed.snu, ste: parsed.reason === 'missing_tag' ? `mandatory tag missing: ${(parsed.missing ?? []).join(', ')}` : `message not understood: ${parsed.reason}` });
    }
    const mrq = parsed.mrq;
    const cid = mrq.cid.trim();
    if (!scaipProtocol.identifier.pattern.test(cid)) {
      // not an id any unit can be registered under (control characters, 300 letters): nothing to look up
      m.badFrames.inc({ protocol: 'scaip', reason: 'bad_cid' });
      answer(200, 'OK');
      return mrs({ ref: mrq.ref, snu: SNU.notTreated, ste: 'cid is not a valid unit id' });
    }
    if (!cidMatchesFrom(cid, fromUser(req))) {
      m.badFrames.inc({ protocol: 'scaip', reason: 'cid_not_from_user' });
      answer(200, 'OK');
      return mrs({ ref: mrq.ref, snu: SNU.notTreated, ste: 'cid is not the SIP From user' });
    }
    let device: Device | null;
    try {
      device = await this.d.lookup(cid);
    } catch (e) {
      this.d.log.error({ err: e }, 'SCAIP unit lookup failed; asked to retry');
      return answer(503, 'Service Unavailable', [['Retry-After', '5']]);
    }
    if (!device || device.protocol !== 'scaip') {
      await this.d.unknown(cid, remote);
      answer(200, 'OK');
      return mrs({ ref: mrq.ref, snu: SNU.notTreated, ste: 'unit not registered' });
    }
    const vendor = typeof device.meta.vendor === 'string' ? device.meta.vendor : undefined;
    const decoded = decodeScaip(mrq, { receivedAt: new Date(), ...(vendor ? { vendor } : {}) });
    const msg = toDeviceMessage(decoded, body);
    if (msg.callbackNumber) {
      // dialled as every other number is: by the number rules (a `crd` the rules refuse is not dialled)
      const n = normalisePhone(msg.callbackNumber, this.o.areaCode);
      if (n.ok) msg.callbackNumber = n.number;
      else delete msg.callbackNumber;
    }
    let r: HandleResult;
    try {
      r = await this.d.handle([msg], remote);
    } catch (e) {
      this.d.log.error({ err: e }, 'SCAIP message not handled');
      r = { ok: false, reason: 'error', identifier: cid };
    }
    if (!r.ok) return answer(503, 'Service Unavailable', [['Retry-After', '5']]); // not committed: sent again
    answer(200, 'OK');
    mrs({ ref: mrq.ref, snu: SNU.ok });
  }

  /** The `<mrs>` in a MESSAGE of our own, retransmitted until the unit answers it (§17.1.2). */
  private reply(req: SipRequest, to: { address: string; port: number }, xml: string): void {
    // the unit's URIs only when they are plain SIP URIs: a space, CR or NUL in them would break our request line
    const usable = (uri: string | undefined) => (uri && SIP_URI.test(uri) ? uri : undefined);
    const unitUri = usable(parseNameAddr(getHeader(req, 'From'))?.uri);
    const target = usable(parseNameAddr(getHeader(req, 'Contact'))?.uri) ?? unitUri ?? `sip:${to.address.includes(':') ? `[${to.address}]` : to.address}:${to.port}`;
    const host = this.o.advertise ?? (this.o.host === '0.0.0.0' || this.o.host === '::' ? '127.0.0.1' : this.o.host);
    const branch = newBranch();
    const bytes = buildMessage({
      requestUri: target,
      from: `<sip:anxin@${host}:${this.port}>;tag=${this.tag}`,
      to: `<${unitUri ?? target}>`,
      // the request's own Call-ID: a unit (and SIPp) matches the answer to its message without reading the XML
      callId: getHeader(req, 'Call-ID') ?? newCallId(undefined, host),
      cseq: this.cseq++,
      via: { transport: 'UDP', host, port: this.port, branch, rport: true },
      contentType: SCAIP_DEFAULTS.contentType,
      body: xml,
    });
    const tx: ClientTx = { bytes, to, interval: T1, until: Date.now() + LIFETIME_MS, timer: undefined as unknown as NodeJS.Timeout };
    const again = () => {
      if (Date.now() >= tx.until) {
        this.clientTx.delete(branch);
        this.d.metrics.scaipStatus.inc({ snu: 'unanswered' });
        this.d.log.warn({ remote: `${to.address}:${to.port}` }, 'SCAIP unit did not answer our <mrs> MESSAGE (64×T1)');
        return;
      }
      this.send(tx.bytes, tx.to);
      tx.interval = Math.min(tx.interval * 2, T2);
      tx.timer = setTimeout(again, tx.interval);
    };
    this.clientTx.set(`z9hG4bK${branch.replace(/^z9hG4bK/, '')}`, tx);
    this.send(bytes, to);
    tx.timer = setTimeout(again, tx.interval);
  }

  /** A response to one of our `<mrs>` MESSAGEs: its transaction is over (any final status). */
  private answered(res: SipResponse): void {
    if (res.status < 200) return;
    const via = topVia(res);
    const branch = via && viaParam(via, 'branch');
    const tx = branch ? this.clientTx.get(branch) : undefined;
    if (!tx) return;
    clearTimeout(tx.timer);
    this.clientTx.delete(branch!);
    if (res.status >= 300) this.d.log.warn({ status: res.status }, 'SCAIP unit refused our <mrs> MESSAGE');
  }
}

/** The server transaction a request belongs to (§17.2.3): top Via branch, sent-by and CSeq method. */
function txKey(req: SipRequest): string | undefined {
  const via = topVia(req);
  const branch = via && viaParam(via, 'branch');
  const cseq = getHeader(req, 'CSeq');
  const callId = getHeader(req, 'Call-ID');
  if (!via || !cseq || !callId || getHeader(req, 'From') === undefined) return undefined;
  // RFC 2543 clients have no magic-cookie branch: Call-ID and CSeq then
  return branch?.startsWith('z9hG4bK') ? `${branch} ${via.host}:${via.port ?? ''} ${req.method}` : `${callId} ${cseq}`;
}
