/**
 * A scripted SCAIP unit (a social-alarm carephone, protocols.md §4) for the flows SIPp cannot express: it sends
 * its `<mrq>` in a SIP MESSAGE over UDP (RFC 3428, `Content-Type: application/scaip+xml`), resends it as RFC 3261
 * §17.1.2.2 says (T1 doubling to T2) until a final response, and then waits for the receiver's `<mrs>` MESSAGE,
 * which it answers 200 OK, or, when told to (`answerMrs: false`), never answers (the receiver must resend it).
 * A 503 ends the transaction; the unit's own retry (`send` again) is the test's to make, with the same `ref`. With a
 * password it answers a 401 once with digest credentials, as a carephone with SIP credentials does.
 * Frames are written here from the RFCs, not with the gateway's codec.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';

const T1 = 500;
const T2 = 4000;

export interface ScaipUnitOptions {
  host: string;
  port: number;
  /** the unit's controller id: the From user */
  cid: string;
  /** answer the receiver's `<mrs>` MESSAGE (default true) */
  answerMrs?: boolean;
  /** the unit's SIP password: a 401 is answered once with digest credentials (RFC 2617 §3.2.2, MD5, qop auth) */
  password?: string;
}

export interface SentOutcome {
  /** the final SIP status of our MESSAGE (0: none within 64×T1) */
  status: number;
  /** the `<mrs>` XML the receiver sent back, if one came within `mrsWithinMs` */
  mrs?: string;
  /** how often we sent the MESSAGE */
  tries: number;
}

interface Incoming {
  start: string;
  headers: Map<string, string>;
  body: string;
}

function parse(text: string): Incoming | undefined {
  const cut = text.indexOf('\r\n\r\n');
  if (cut < 0) return undefined;
  const [start, ...lines] = text.slice(0, cut).split('\r\n');
  const headers = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { start: start ?? '', headers, body: text.slice(cut + 4) };
}

export class ScaipUnit extends EventEmitter {
  private sock?: Socket;
  private localPort = 0;
  private cseq = 1;
  /** every `<mrs>` MESSAGE received, retransmissions included */
  readonly mrsReceived: string[] = [];
  private waiters: ((m: Incoming) => void)[] = [];

  constructor(readonly o: ScaipUnitOptions) {
    super();
  }

  async open(): Promise<void> {
    const s = (this.sock = createSocket('udp4'));
    s.on('message', (b) => this.incoming(b.toString('utf8')));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    this.localPort = s.address().port;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.sock ? this.sock.close(() => r()) : r()));
    this.sock = undefined;
  }

  private incoming(text: string): void {
    const m = parse(text);
    if (!m) return;
    if (m.start.startsWith('MESSAGE ')) {
      this.mrsReceived.push(m.body);
      this.emit('mrs', m.body);
      if (this.o.answerMrs !== false) {
        // §8.2.6: the response copies Via, From, To (tag added), Call-ID and CSeq
        const h = (n: string) => m.headers.get(n) ?? '';
        const ok = ['SIP/2.0 200 OK', `Via: ${h('via')}`, `From: ${h('from')}`, `To: ${h('to')};tag=${randomBytes(4).toString('hex')}`, `Call-ID: ${h('call-id')}`, `CSeq: ${h('cseq')}`, 'Content-Length: 0', '', ''].join('\r\n');
        this.sock?.send(ok, this.o.port, this.o.host);
      }
    }
    for (const w of this.waiters.splice(0)) w(m);
  }

  /** Sends one `<mrq>`; resolves with the final status and the `<mrs>` that followed it (if any). */
  async send(mrq: string, mrsWithinMs = 5000): Promise<SentOutcome & { challenged?: boolean }> {
    const first = await this.sendOnce(mrq, mrsWithinMs);
    if (first.status !== 401 || this.o.password === undefined || !first.challenge) return first;
    const again = await this.sendOnce(mrq, mrsWithinMs, this.authorization(first.challenge));
    return { ...again, tries: first.tries + again.tries, challenged: true };
  }

  /** RFC 2617 §3.2.2: the response to a `WWW-Authenticate: Digest …` challenge. */
  private authorization(challenge: string): string {
    const p = (n: string) => new RegExp(`${n}="?([^",]+)"?`, 'i').exec(challenge)?.[1] ?? '';
    const realm = p('realm');
    const nonce = p('nonce');
    const uri = `sip:receiver@${this.o.host}:${this.o.port}`;
    const cnonce = randomBytes(8).toString('hex');
    const nc = '00000001';
    const md5 = (x: string) => createHash('md5').update(x).digest('hex');
    const ha1 = md5(`${this.o.cid}:${realm}:${this.o.password}`);
    const ha2 = md5(`MESSAGE:${uri}`);
    const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    return `Digest username="${this.o.cid}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", qop=auth, nc=${nc}`;
  }

  private async sendOnce(mrq: string, mrsWithinMs: number, authorization?: string): Promise<SentOutcome & { challenge?: string }> {
    if (!this.sock) await this.open();
    const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    const callId = `${randomBytes(8).toString('hex')}@127.0.0.1`;
    const body = Buffer.from(mrq, 'utf8');
    const head = [
      `MESSAGE sip:receiver@${this.o.host}:${this.o.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.localPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.o.cid}@127.0.0.1:${this.localPort}>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:receiver@${this.o.host}:${this.o.port}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${this.cseq++} MESSAGE`,
      ...(authorization ? [`Authorization: ${authorization}`] : []),
      'Content-Type: application/scaip+xml',
      `Content-Length: ${body.length}`,
      '',
      '',
    ].join('\r\n');
    const bytes = Buffer.concat([Buffer.from(head, 'utf8'), body]);
    const mine = (m: Incoming) => m.start.startsWith('SIP/2.0 ') && (m.headers.get('via') ?? '').includes(branch);
    let tries = 0;
    let challenge: string | undefined;
    const seen = this.mrsReceived.length;
    const final = new Promise<number>((resolve) => {
      let interval = T1;
      const started = Date.now();
      let timer: NodeJS.Timeout;
      const watch = (m: Incoming) => {
        const status = mine(m) ? Number(m.start.split(' ')[1]) : 0;
        if (status === 401) challenge = m.headers.get('www-authenticate');
        if (status >= 200) {
          clearTimeout(timer);
          return resolve(status);
        }
        this.waiters.push(watch);
      };
      this.waiters.push(watch);
      const fire = () => {
        if (Date.now() - started >= 64 * T1) return resolve(0);
        tries++;
        this.sock?.send(bytes, this.o.port, this.o.host);
        timer = setTimeout(fire, interval);
        interval = Math.min(interval * 2, T2);
      };
      fire();
    });
    const status = await final;
    if (status !== 200) return challenge ? { status, tries, challenge } : { status, tries };
    const mrs = await new Promise<string | undefined>((resolve) => {
      if (this.mrsReceived.length > seen) return resolve(this.mrsReceived[seen]);
      const t = setTimeout(() => resolve(undefined), mrsWithinMs);
      const on = (b: string) => {
        clearTimeout(t);
        resolve(b);
      };
      this.once('mrs', on);
    });
    return mrs === undefined ? { status, tries } : { status, tries, mrs };
  }
}
