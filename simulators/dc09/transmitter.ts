/**
 * A simulated SIA DC-09 transmitter (an alarm panel or IP communicator, "PE"), over TCP or UDP, behaving as
 * shared/design/dc09.md describes the transmitter side where it matters to a receiver:
 * - one message outstanding at a time; the sequence number goes up per new message, never per retry (§1 field 5);
 * - no valid reply -> the same seq again: TCP after 5 s, UDP up to 5 tries 1 s apart (§4, dc09_spt);
 * - NAK -> take the receiver's time from it, correct the clock offset and resend at once, same seq (§4, dc09_spt);
 * - DUH -> give up on that message, never repeat it (§4, spec 2007);
 * - TCP: one connection kept open for many messages, as Ajax does; replies split across reads or several per
 *   read are handled (§6); UDP: one datagram per message, replies only from the receiver's address and port;
 * - NULL supervision polls at an interval, restarted by every other message (§6).
 * A reply that does not answer the outstanding message (other seq, account, L or R, or clear ACK to an encrypted
 * message) is reported as a protocol error and otherwise treated as no reply.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { connect as netConnect, isIPv6, type Socket } from 'node:net';
import { ReplyFrames, cidData, frame, messageBody, nextSeq, parseReply, siaData, type PadSource, type Reply, type Token } from './wire.js';

export interface Dc09TransmitterOptions {
  host: string;
  port: number;
  /** default 'tcp' */
  transport?: 'tcp' | 'udp';
  /** hex, 1-16 characters (§1 field 8) */
  account: string;
  /** `L` value, hex; default '0' */
  prefix?: string;
  /** `R` value, hex 1-6 digits; none by default */
  receiver?: string;
  /** 16/24/32 bytes: every message is sent encrypted (`*ADM-CID` …) */
  key?: Buffer;
  /** seconds added to the clock (a skewed panel clock); corrected by a NAK; default 0 */
  clockSkewS?: number;
  /** the underlying clock in ms since the epoch (tests fix it); default Date.now */
  clock?: () => number;
  /** pad bytes for encrypted messages; default random (§5) */
  pad?: PadSource;
  /** clear messages carry the optional timestamp; default true (encrypted always do) */
  timestamps?: boolean;
  /** the first sequence number; default 1 */
  firstSeq?: number;
  /** send NULLs with seq 0000, as Ajax does (§1 field 5), instead of taking the next number; default false */
  nullSeqZero?: boolean;
  /** how long to wait for a reply before the next try; default 5000 on TCP, 1000 on UDP (§4) */
  replyTimeoutMs?: number;
  /** tries per message, NAK resends included; default 3 on TCP, 5 on UDP (§4) */
  maxTries?: number;
}

/** What to send; `data` is the first block without brackets (see cidData / siaData in wire.ts). */
export interface Dc09Event {
  token: Token;
  data?: string;
  extra?: string[];
}

export interface SendOutcome {
  /** the final answer: ACK (or *ACK), NAK (tries used up on NAKs), DUH, or none */
  reply: 'ACK' | 'NAK' | 'DUH' | 'none';
  tries: number;
  seq: number;
  /** the last frame sent for this message */
  raw: Buffer;
  /** every frame sent for this message, in order (retries and NAK resends included) */
  frames: Buffer[];
  /** the last valid reply, if any */
  answer: Reply | null;
  naks: number;
  /** `*ACK`: receiver time minus this transmitter's (corrected) clock, in seconds */
  ackSkewS?: number;
  event: Dc09Event;
}

interface Pending {
  seq: number;
  resolve: (r: Reply | null) => void;
}

export class Dc09Transmitter extends EventEmitter {
  readonly account: string;
  /** seconds added to the clock; a NAK corrects it */
  clockSkewS: number;
  private readonly o: Required<Omit<Dc09TransmitterOptions, 'receiver' | 'key' | 'pad'>> & Pick<Dc09TransmitterOptions, 'receiver' | 'key' | 'pad'>;
  private seq: number;
  private tcp: Socket | null = null;
  private udp: UdpSocket | null = null;
  private readonly frames = new ReplyFrames();
  private pending: Pending | null = null;
  private readonly collectors = new Set<Reply[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private closing = false;
  private pollMs = 0;
  private pollTimer: NodeJS.Timeout | null = null;

  constructor(options: Dc09TransmitterOptions) {
    super();
    const udp = options.transport === 'udp';
    this.o = {
      transport: 'tcp',
      prefix: '0',
      clockSkewS: 0,
      clock: Date.now,
      timestamps: true,
      firstSeq: 1,
      nullSeqZero: false,
      replyTimeoutMs: udp ? 1000 : 5000,
      maxTries: udp ? 5 : 3,
      ...options,
    };
    if (!/^[0-9A-Z]{1,16}$/i.test(options.account)) throw new Error(`account must be 1-16 hex characters (§1), got ${options.account}`);
    if (!/^[0-9A-F]{0,6}$/i.test(this.o.prefix)) throw new Error(`prefix must be 0-6 hex digits, got ${this.o.prefix}`);
    if (options.receiver !== undefined && !/^[0-9A-F]{1,6}$/i.test(options.receiver)) throw new Error(`receiver must be 1-6 hex digits, got ${options.receiver}`);
    if (options.key && ![16, 24, 32].includes(options.key.length)) throw new Error(`key must be 16, 24 or 32 bytes, got ${options.key.length}`);
    if (!(this.o.maxTries >= 1)) throw new Error('maxTries must be at least 1');
    this.account = options.account;
    this.clockSkewS = this.o.clockSkewS;
    this.seq = this.o.firstSeq;
  }

  get connected(): boolean {
    return this.o.transport === 'udp' ? this.udp !== null : this.tcp !== null && !this.tcp.destroyed;
  }

  /** This transmitter's idea of the time: the clock plus clockSkewS. */
  now(): Date {
    return new Date(this.o.clock() + this.clockSkewS * 1000);
  }

  /** The sequence number the next new message will take. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Opens the TCP connection (kept for every message) or the UDP socket; send() also opens it when needed. */
  connect(): Promise<void> {
    this.closing = false;
    return this.open();
  }

  close(): Promise<void> {
    this.closing = true;
    this.stopPolling();
    this.pending?.resolve(null);
    const u = this.udp;
    this.udp = null;
    if (u) u.close();
    const s = this.tcp;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 500).unref();
    });
  }

  /** Sends a new message (next seq) and resolves with its outcome after retries (§4); rejects after close(). */
  send(event: Dc09Event): Promise<SendOutcome> {
    return this.enqueue(() => {
      if (this.closing) throw new Error('transmitter closed: connect() again first');
      let seq = 0;
      if (!(event.token === 'NULL' && this.o.nullSeqZero)) {
        seq = this.seq;
        this.seq = nextSeq(seq);
      }
      return this.transfer(event, seq);
    });
  }

  /** The same message again with the same seq (a retransmission, §4 step 8), rebuilt with the current time and pad. */
  resend(last: SendOutcome): Promise<SendOutcome> {
    return this.enqueue(() => this.transfer(last.event, last.seq));
  }

  /** ADM-CID (§3.1): q 1 new / 3 restore / 6 still present, 3-digit code, group, zone. */
  cid(q: number, code: number, group = 1, zone = 0): Promise<SendOutcome> {
    return this.send({ token: 'ADM-CID', data: cidData(this.account, q, code, group, zone) });
  }

  /** SIA-DCS (§3.2): two-letter code, zone, modifiers (default `ri1`). */
  sia(code: string, zone: string | number = '', modifiers = 'ri1'): Promise<SendOutcome> {
    return this.send({ token: 'SIA-DCS', data: siaData(this.account, code, zone, modifiers) });
  }

  /** A NULL supervision poll (§3.3). */
  nullPoll(): Promise<SendOutcome> {
    return this.send({ token: 'NULL' });
  }

  /** NULL every intervalMs; every other message restarts the timer (§6). */
  startPolling(intervalMs: number): void {
    if (!(intervalMs > 0)) throw new Error('polling interval must be positive');
    this.pollMs = intervalMs;
    this.armPoll();
  }

  stopPolling(): void {
    this.pollMs = 0;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /**
   * Writes any bytes as they are (garbled frames, a frame with a wrong CRC, a byte-identical repeat of
   * `outcome.raw`) and resolves with every valid reply received within waitMs.
   */
  sendRaw(bytes: Buffer, waitMs = 0): Promise<Reply[]> {
    return this.enqueue(async () => {
      const got: Reply[] = [];
      this.collectors.add(got);
      try {
        await this.open();
        this.write(bytes);
        this.emit('sent', { seq: -1, tries: 1, frame: bytes });
        await new Promise((r) => setTimeout(r, waitMs));
      } finally {
        this.collectors.delete(got);
      }
      return got;
    });
  }

  private open(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return this.o.transport === 'udp' ? this.connectUdp() : this.connectTcp();
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private armPoll(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    if (this.pollMs <= 0 || this.closing) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.nullPoll().then(
        (r) => this.emit('poll', r),
        (e: Error) => this.emit('poll', e),
      );
    }, this.pollMs);
  }

  private build(event: Dc09Event, seq: number): Buffer {
    const body = messageBody({
      token: event.token,
      seq,
      account: this.account,
      prefix: this.o.prefix,
      ...(this.o.receiver !== undefined ? { receiver: this.o.receiver } : {}),
      data: event.data ?? '',
      extra: event.extra ?? [],
      time: this.o.key || this.o.timestamps ? this.now() : null,
      ...(this.o.key ? { key: this.o.key } : {}),
      ...(this.o.pad ? { pad: this.o.pad } : {}),
    });
    return frame(body);
  }

  private async transfer(event: Dc09Event, seq: number): Promise<SendOutcome> {
    if (this.closing) throw new Error('transmitter closed: connect() again first');
    const frames: Buffer[] = [];
    let answer: Reply | null = null;
    let last: Reply | null = null;
    let naks = 0;
    let tries = 0;
    try {
      while (tries < this.o.maxTries && !this.closing) {
        tries++;
        // rebuilt each try: a fresh timestamp (and pad) so a retry after a NAK or a long wait is not stale
        const bytes = this.build(event, seq);
        frames.push(bytes);
        const wait = this.expect(seq);
        try {
          await this.open();
          this.write(bytes);
          this.emit('sent', { seq, tries, frame: bytes });
        } catch (e) {
          this.emit('send_failed', { seq, tries, error: e as Error });
        }
        last = await wait;
        if (last) answer = last;
        if (last?.token === 'ACK') {
          const out: SendOutcome = { reply: 'ACK', tries, seq, raw: bytes, frames, answer: last, naks, event };
          if (last.encrypted && last.time) out.ackSkewS = (last.time.getTime() - this.now().getTime()) / 1000;
          return out;
        }
        if (last?.token === 'DUH') return { reply: 'DUH', tries, seq, raw: bytes, frames, answer: last, naks, event };
        if (last?.token === 'NAK') {
          naks++;
          if (last.time) {
            const before = this.clockSkewS;
            this.clockSkewS = (last.time.getTime() - this.o.clock()) / 1000;
            this.emit('clock_corrected', { receiverTime: last.time, skewS: this.clockSkewS, changeS: this.clockSkewS - before });
          }
        }
        if (tries < this.o.maxTries && !this.closing) this.emit('retry', { seq, tries: tries + 1, after: last ? 'NAK' : 'none' });
      }
      return { reply: last?.token === 'NAK' ? 'NAK' : 'none', tries, seq, raw: frames[frames.length - 1]!, frames, answer, naks, event };
    } finally {
      this.armPoll();
    }
  }

  /** Resolves with the reply to `seq`, or null after replyTimeoutMs. */
  private expect(seq: number): Promise<Reply | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), this.o.replyTimeoutMs);
      const done = (r: Reply | null) => {
        clearTimeout(timer);
        if (this.pending === p) this.pending = null;
        resolve(r);
      };
      const p: Pending = { seq, resolve: done };
      this.pending = p;
    });
  }

  private write(bytes: Buffer): void {
    if (this.o.transport === 'udp') {
      if (!this.udp) throw new Error('not connected');
      this.udp.send(bytes);
      return;
    }
    if (!this.tcp || this.tcp.destroyed) throw new Error('not connected');
    this.tcp.write(bytes);
  }

  private connectTcp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ host: this.o.host, port: this.o.port });
      s.setNoDelay(true);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', (err) => {
          if (this.listenerCount('error') > 0) this.emit('error', err);
        });
        this.tcp = s;
        this.emit('connect');
        resolve();
      });
      s.on('data', (chunk: Buffer) => {
        const { frames, junk } = this.frames.push(chunk);
        if (junk) this.emit('protocol_error', { reason: `${junk} bytes outside a frame` });
        for (const f of frames) this.onFrame(f);
      });
      s.on('close', () => {
        if (this.tcp !== s) return;
        this.tcp = null;
        this.emit('close');
      });
    });
  }

  private connectUdp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const u = createSocket(isIPv6(this.o.host) ? 'udp6' : 'udp4');
      u.once('error', reject);
      // a connected UDP socket takes datagrams only from the receiver's address and port (§6, dc09_spt)
      u.connect(this.o.port, this.o.host, () => {
        u.off('error', reject);
        u.on('error', (err) => {
          // e.g. ECONNREFUSED from an ICMP port unreachable: the try simply gets no reply
          if (this.listenerCount('error') > 0) this.emit('error', err);
        });
        this.udp = u;
        this.emit('connect');
        resolve();
      });
      u.on('message', (msg: Buffer) => this.onFrame(msg)); // one reply per datagram
      u.on('close', () => {
        if (this.udp === u) this.udp = null;
        this.emit('close');
      });
    });
  }

  private onFrame(raw: Buffer): void {
    const r = parseReply(raw, this.o.key);
    if (typeof r === 'string') return void this.emit('protocol_error', { reason: r, frame: raw });
    this.emit('reply', r);
    for (const c of this.collectors) c.push(r);
    const p = this.pending;
    if (!p) {
      if (this.collectors.size === 0) this.emit('protocol_error', { reason: `${r.token} ${r.seq} with no message outstanding`, frame: raw });
      return;
    }
    const why = this.mismatch(r, p.seq);
    if (why) return void this.emit('protocol_error', { reason: why, frame: raw });
    p.resolve(r);
  }

  /** Why `r` does not answer the outstanding message, or '' (§4: echo seq, R, L and account). */
  private mismatch(r: Reply, seq: number): string {
    if (r.token !== 'ACK' && r.token !== 'NAK' && r.token !== 'DUH') return `unexpected ${r.token} reply`;
    if (r.token === 'NAK') return r.encrypted ? 'NAK is never encrypted (§2)' : '';
    if (r.seq !== seq) return `${r.token} for seq ${r.seq} while waiting for ${seq}`;
    const same = (a: string | undefined, b: string | undefined) => (a ?? '').toUpperCase() === (b ?? '').toUpperCase();
    if (!same(r.account, this.account)) return `${r.token} for account ${r.account ?? '(none)'}, not ${this.account}`;
    if (!same(r.prefix, this.o.prefix) || !same(r.receiver, this.o.receiver)) return `${r.token} does not echo R${this.o.receiver ?? ''}L${this.o.prefix}`;
    if (r.token === 'ACK' && r.encrypted !== Boolean(this.o.key)) return this.o.key ? 'clear ACK to an encrypted message (§2: *ACK)' : '*ACK to a clear message';
    if (r.token === 'DUH' && r.encrypted) return 'DUH is sent in clear (§4)';
    return '';
  }
}
