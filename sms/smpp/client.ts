/**
 * SMPP 3.4 transceiver client on npm `smpp` 0.5.1 (sms.md A2–A8), implementing the SmsSender port.
 *
 * The package does nothing by itself (A8), so this file supplies: bind_transceiver with interface_version 0x34 and
 * a bind timeout; response timeouts (the package never fails a callback); a submit window and an optional rate;
 * ESME_RTHROTTLED / RMSGQFUL retried after a pause (A7); answers to enquire_link, deliver_sm and unbind; our own
 * enquire_link after idleness, dropping the link after two misses; a fresh smpp.connect() per reconnect, with
 * jittered exponential backoff; and message_id ↔ ref kept before receipts are read, with receipts that arrive
 * before their submit_sm_resp parked until it does (A5).
 *
 * Never logged: numbers and texts. The `log` option receives codes and counts only.
 */
import smpp, { type PDU, type Session } from 'smpp';
import { JitterBackoff } from '../backoff.ts';
import { SmsSendError } from '../errors.ts';
import { Listeners } from '../listeners.ts';
import { destination, type Address, type NumberForm } from '../number.ts';
import type { SmsDeliveryState, SmsInbound, SmsReceipt, SmsSender, SmsSendRequest, SmsSendResult, SmsTransportState } from '../port.ts';
import { Reassembler } from '../reassembly.ts';
import { idVariants, isFinal, messageState } from '../receipt.ts';
import { encodeUcs2Parts } from '../split.ts';
import { ESME_RINVPASWD, ESME_RINVSYSID, isThrottle, readDeliver, statusCode, submitParams, type ReceiptIn } from './pdus.ts';

export interface SmppOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** our sender number (usually 106…), TON 0 / NPI 0 unless set */
  source: string;
  sourceTon?: number;
  sourceNpi?: number;
  /** how the provider wants destinations: 86… TON 1 (default) or 11 digits TON 2 (sms.md A3) */
  numberForm?: NumberForm;
  /** idle time before our enquire_link; default 30 s (A7) */
  enquireLinkMs?: number;
  /** time for any response, enquire_link included; default 10 s */
  responseTimeoutMs?: number;
  /** time for bind_transceiver_resp; default 15 s */
  bindTimeoutMs?: number;
  /** reconnect backoff; default 1 s doubling to 60 s */
  reconnectFirstMs?: number;
  reconnectMaxMs?: number;
  /** unanswered submit_sm at most; default 10 */
  window?: number;
  /** submits per second at most; default unlimited */
  maxPerSecond?: number;
  /** pause after a throttling error; default 1 s, doubled per repeat up to 30 s */
  throttleDelayMs?: number;
  /** how long a part may wait (for the bind, the window, throttling) before send() fails; default 60 s */
  queueTimeoutMs?: number;
  /** codes and counts only (never numbers or texts) */
  log?: (event: string, fields?: Record<string, string | number>) => void;
}

interface Job {
  params: Record<string, unknown>;
  ref: string;
  sent: Sent;
  part: number;
  deadline: number;
  throttles: number;
  resolve: (messageId: string) => void;
  reject: (e: Error) => void;
}

interface Sent {
  ref: string;
  parts: number;
  states: (SmsDeliveryState | undefined)[];
  ids: string[];
}

interface Pending {
  resolve: (p: PDU) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class SmppSender implements SmsSender {
  readonly transport = 'smpp';
  private readonly o: Required<Omit<SmppOptions, 'log' | 'maxPerSecond'>> & Pick<SmppOptions, 'log' | 'maxPerSecond'>;
  private session: Session | undefined;
  private bound = false;
  private stopping = true;
  private current: SmsTransportState = 'down';
  private readonly backoff: JitterBackoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private enquireTimer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private lastRx = 0;
  private misses = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Job[] = [];
  private inflight = 0;
  private pausedUntil = 0;
  private nextSendAt = 0;
  private udhRef = Math.floor(Math.random() * 256);
  private readonly byId = new Map<string, { sent: Sent; part: number }>();
  /** receipts whose submit_sm_resp we have not processed yet (A5), by message id */
  private readonly orphans = new Map<string, { r: ReceiptIn; at: number }>();
  private readonly reassembler = new Reassembler();
  private readonly receipts = new Listeners<[SmsReceipt]>();
  private readonly inbound = new Listeners<[SmsInbound]>();
  private readonly states = new Listeners<[SmsTransportState, string | undefined]>();
  private readonly source: Address;

  constructor(opts: SmppOptions) {
    this.o = {
      systemType: '',
      sourceTon: 0,
      sourceNpi: 0,
      numberForm: 'international',
      enquireLinkMs: 30_000,
      responseTimeoutMs: 10_000,
      bindTimeoutMs: 15_000,
      reconnectFirstMs: 1000,
      reconnectMaxMs: 60_000,
      window: 10,
      throttleDelayMs: 1000,
      queueTimeoutMs: 60_000,
      ...opts,
    };
    this.source = { digits: this.o.source, ton: this.o.sourceTon, npi: this.o.sourceNpi };
    this.backoff = new JitterBackoff(this.o.reconnectFirstMs, this.o.reconnectMaxMs);
  }

  get state(): SmsTransportState {
    return this.current;
  }

  onReceipt(cb: (r: SmsReceipt) => void) {
    return this.receipts.add(cb);
  }
  onInbound(cb: (m: SmsInbound) => void) {
    return this.inbound.add(cb);
  }
  onState(cb: (s: SmsTransportState, reason?: string) => void) {
    return this.states.add(cb);
  }

  /** Starts connecting; resolves at once. Use whenUp() to wait for the bind. */
  async start(): Promise<void> {
    if (!this.stopping) return;
    this.stopping = false;
    this.connect();
  }

  /** Resolves when bound (or at once if already), rejects after ms. */
  whenUp(ms = 30_000): Promise<void> {
    if (this.current === 'up') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        off();
        reject(new Error('smpp: not bound in time'));
      }, ms);
      const off = this.states.add((s) => {
        if (s !== 'up') return;
        clearTimeout(t);
        off();
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.pumpTimer);
    const s = this.session;
    if (s && this.bound) {
      // A7: after our unbind, submit nothing more and wait for unbind_resp (or a timeout) before closing
      this.bound = false;
      await this.request(s, 'unbind', {}, Math.min(this.o.responseTimeoutMs, 5000)).catch(() => undefined);
    }
    s?.destroy();
    for (const j of this.queue.splice(0)) j.reject(new SmsSendError('stopped', false));
  }

  async send(req: SmsSendRequest): Promise<SmsSendResult> {
    let dest: Address;
    try {
      dest = destination(req.to, this.o.numberForm);
    } catch {
      throw new SmsSendError('invalid-number', true);
    }
    this.udhRef = (this.udhRef + 1) & 0xff;
    const parts = encodeUcs2Parts(req.text, this.udhRef);
    const sent: Sent = { ref: req.ref, parts: parts.length, states: parts.map(() => undefined), ids: [] };
    const deadline = Date.now() + this.o.queueTimeoutMs;
    const jobs = parts.map(
      (p) =>
        new Promise<string>((resolve, reject) => {
          const params = submitParams({ source: this.source, dest, ...(p.udh ? { udh: p.udh } : {}), body: p.body });
          this.queue.push({ params, ref: req.ref, sent, part: p.seq, deadline, throttles: 0, reject, resolve: (id) => {
            sent.ids[p.seq - 1] = id;
            this.remember(id, sent, p.seq);
            resolve(id);
          } });
        }),
    );
    this.schedulePump(0);
    let ids: string[];
    try {
      ids = await Promise.all(jobs);
    } catch (e) {
      // one part failed: the message cannot arrive whole, so its parts still queued are not sent
      for (const j of this.queue.filter((j) => j.sent === sent)) {
        this.queue.splice(this.queue.indexOf(j), 1);
        j.reject(e as Error);
      }
      throw e;
    }
    return { parts: parts.length, messageIds: ids };
  }

  // ——— connection ———

  /** why the transport last went (or stayed) down: a code, never personal data */
  lastReason: string | undefined;

  private setState(s: SmsTransportState, reason?: string): void {
    // a repeated failure with a new reason (e.g. the SIM, then the network) is reported too
    if (s === this.current && (s === 'up' || reason === this.lastReason)) return;
    this.current = s;
    this.lastReason = reason;
    this.o.log?.(`smpp ${s}`, reason ? { reason } : undefined);
    this.states.emit(s, reason);
  }

  private connect(): void {
    // a fresh Session per attempt: session.connect() keeps a half-read frame length (A8)
    const s = smpp.connect({ host: this.o.host, port: this.o.port });
    this.session = s;
    let closed = false;
    s.on('error', (e: Error) => {
      this.o.log?.('smpp socket error', { error: e.message.slice(0, 80) });
      s.destroy(); // after a bad frame the package stops parsing but keeps the socket open (A8)
    });
    s.on('close', () => {
      if (closed) return;
      closed = true;
      this.onClose(s);
    });
    s.on('connect', () => void this.bind(s));
    s.on('pdu', () => {
      this.lastRx = Date.now();
      this.misses = 0;
    });
    s.on('enquire_link', (p: PDU) => s.send(p.response()));
    s.on('unbind', (p: PDU) => {
      this.bound = false;
      s.send(p.response(), () => s.close());
    });
    s.on('deliver_sm', (p: PDU) => this.onDeliver(s, p));
    s.on('generic_nack', (p: PDU) => this.failPending(p.sequence_number, new SmsSendError(`nack-${statusCode(p.command_status)}`, false)));
    s.on('unknown', (p: PDU) => s.send(p.response())); // generic_nack ESME_RINVCMDID
  }

  private async bind(s: Session): Promise<void> {
    try {
      const resp = await this.request(s, 'bind_transceiver', {
        system_id: this.o.systemId,
        password: this.o.password,
        system_type: this.o.systemType,
        interface_version: 0x34, // the package's default is 0x50 (A2)
        addr_ton: 0,
        addr_npi: 0,
        address_range: '',
      }, this.o.bindTimeoutMs);
      if (resp.command_status !== 0) {
        const code = statusCode(resp.command_status);
        // wrong credentials: wait the longest, a lock-out is possible (A7)
        if (resp.command_status === ESME_RINVPASWD || resp.command_status === ESME_RINVSYSID) for (let i = 0; i < 8; i++) this.backoff.next();
        this.o.log?.('smpp bind refused', { status: code });
        this.downReason = `bind-${code}`;
        s.destroy();
        return;
      }
      if (s !== this.session) return;
      this.bound = true;
      this.backoff.reset();
      this.lastRx = Date.now();
      this.misses = 0;
      this.enquireTimer = setInterval(() => this.keepalive(s), Math.max(100, Math.floor(this.o.enquireLinkMs / 2)));
      this.setState('up');
      this.schedulePump(0);
    } catch (e) {
      if (s !== this.session) return; // the link closed during the bind: onClose has run
      this.downReason = e instanceof SmsSendError ? `bind-${e.code}` : 'bind-failed';
      s.destroy();
    }
  }

  private downReason: string | undefined;

  private keepalive(s: Session): void {
    if (!this.bound || Date.now() - this.lastRx < this.o.enquireLinkMs) return;
    this.lastRx = Date.now(); // one probe per idle period
    this.request(s, 'enquire_link', {}, this.o.responseTimeoutMs).catch(() => {
      // A7: drop after two missed probes
      if (++this.misses >= 2) {
        this.downReason = 'enquire-link-timeout';
        s.destroy();
      }
    });
  }

  private onClose(s: Session): void {
    if (s !== this.session) return;
    this.session = undefined;
    this.bound = false;
    clearInterval(this.enquireTimer);
    for (const seq of [...this.pending.keys()]) this.failPending(seq, new SmsSendError('connection-lost', false));
    this.setState('down', this.downReason ?? 'closed');
    this.downReason = undefined;
    if (this.stopping) return;
    const ms = this.backoff.next();
    this.o.log?.('smpp reconnect scheduled', { ms });
    this.reconnectTimer = setTimeout(() => this.connect(), ms);
  }

  /** Sends a request and waits for its response, with a timeout the package does not have (A8). */
  private request(s: Session, command: string, params: Record<string, unknown>, timeoutMs: number): Promise<PDU> {
    return new Promise((resolve, reject) => {
      const pdu = new smpp.PDU(command, params);
      const ok = s.send(pdu, (resp) => {
        const p = this.pending.get(resp.sequence_number);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(resp.sequence_number);
        p.resolve(resp);
      });
      // send() returns false and never calls back when the socket is not writable (A8)
      if (!ok) return reject(new SmsSendError('not-connected', false));
      const seq = pdu.sequence_number;
      const timer = setTimeout(() => this.failPending(seq, new SmsSendError('response-timeout', false)), timeoutMs);
      this.pending.set(seq, { resolve, reject, timer });
    });
  }

  private failPending(seq: number, e: Error): void {
    const p = this.pending.get(seq);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(seq);
    p.reject(e);
  }

  // ——— submitting ———

  private schedulePump(ms: number): void {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = setTimeout(() => this.pump(), ms);
  }

  private pump(): void {
    const now = Date.now();
    for (const j of this.queue.filter((j) => j.deadline <= now)) {
      this.queue.splice(this.queue.indexOf(j), 1);
      j.reject(new SmsSendError(this.bound ? 'queue-timeout' : 'not-bound', false));
    }
    const s = this.session;
    if (!s || !this.bound || this.stopping) return this.queue.length ? this.schedulePump(500) : undefined;
    while (this.queue.length && this.inflight < this.o.window) {
      const wait = Math.max(this.pausedUntil, this.nextSendAt) - Date.now();
      if (wait > 0) return this.schedulePump(wait);
      const j = this.queue.shift()!;
      if (this.o.maxPerSecond) this.nextSendAt = Date.now() + 1000 / this.o.maxPerSecond;
      this.inflight++;
      this.request(s, 'submit_sm', j.params, this.o.responseTimeoutMs).then(
        (resp) => this.onSubmitResp(j, resp),
        // unanswered at a drop or timeout: the outcome is unknown; resubmitting risks a duplicate (A7), so the
        // caller decides (final: false)
        (e: Error) => {
          this.inflight--;
          j.reject(e);
          this.schedulePump(0);
        },
      );
    }
  }

  private onSubmitResp(j: Job, resp: PDU): void {
    this.inflight--;
    const st = resp.command_status;
    if (st === 0) {
      j.resolve(String(resp.message_id ?? ''));
    } else if (isThrottle(st)) {
      // A7: not final: pause, then resubmit the same part first
      j.throttles++;
      const pause = Math.min(30_000, this.o.throttleDelayMs * 2 ** Math.min(j.throttles - 1, 5));
      this.pausedUntil = Math.max(this.pausedUntil, Date.now() + pause);
      this.o.log?.('smpp throttled', { status: statusCode(st), pauseMs: pause });
      this.queue.unshift(j);
    } else {
      j.reject(new SmsSendError(`submit-${statusCode(st)}`, true));
    }
    this.schedulePump(0);
  }

  // ——— receipts and inbound ———

  private remember(id: string, sent: Sent, part: number): void {
    this.byId.set(id, { sent, part });
    for (const v of idVariants(id)) {
      const o = this.orphans.get(v);
      if (o) {
        this.orphans.delete(v);
        this.applyReceipt(o.r, id);
      }
    }
  }

  private onDeliver(s: Session, p: PDU): void {
    // always answer, same sequence (A6); our handling is synchronous, so a crash cannot leave it unanswered
    try {
      const d = readDeliver(p as unknown as Record<string, unknown>);
      if (d?.kind === 'receipt') this.applyReceipt(d);
      else if (d?.kind === 'mo') {
        const text = d.concat ? this.reassembler.add({ from: d.from, ...d.concat, text: d.text }) : d.text;
        if (text !== undefined) this.inbound.emit({ from: d.from, to: d.to, text, at: new Date() });
      }
    } finally {
      s.send(p.response({ message_id: '' }));
    }
  }

  private applyReceipt(r: ReceiptIn, knownId?: string): void {
    let hit: { sent: Sent; part: number } | undefined;
    let id = knownId ?? r.messageId;
    for (const v of knownId ? [knownId] : idVariants(r.messageId)) {
      hit = this.byId.get(v);
      if (hit) {
        id = v;
        break;
      }
    }
    if (!hit) {
      // receipt before the resp was handled (A5): park it for a while, bounded
      const now = Date.now();
      for (const [k, v] of this.orphans) if (now - v.at > 10 * 60_000 || this.orphans.size > 1000) this.orphans.delete(k);
      this.orphans.set(r.messageId, { r, at: now });
      return;
    }
    const { sent, part } = hit;
    sent.states[part - 1] = r.state;
    const ms = messageState(sent.states);
    this.receipts.emit({
      ref: sent.ref,
      messageId: id,
      part,
      parts: sent.parts,
      state: r.state,
      messageState: ms,
      final: isFinal(r.state),
      ...(r.err ? { error: r.err } : {}),
      at: new Date(),
    });
    if (isFinal(ms) && sent.states.every((x) => x !== undefined && isFinal(x))) for (const i of sent.ids) this.byId.delete(i);
  }
}
