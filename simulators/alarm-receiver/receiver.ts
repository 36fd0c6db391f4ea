/**
 * A simulated Sur-Gard-style alarm receiver on a serial port: it writes Contact ID lines and heartbeats to the
 * automation computer and waits for ACK, as protocols.md §3.4 describes. It builds its lines from those facts
 * (it does not import the gateway's encoders):
 *
 *   MLR2 event      `5RRL 18AAAAQXYZGGCCC` + DC4          (Q = E new / R restore / P still present)
 *   SG event        `5RRLLL 18AAAAQXYZGGCCC` + DC4        (3-char line by default)
 *   MLR2 heartbeat  `1RRL` + 11 spaces + `@` + 4 spaces + DC4
 *   SG heartbeat    `1RR000` + 11 spaces + `@` + 4 spaces + DC4
 *
 * Link behaviour:
 * - one packet in flight at a time; each must be ACKed (0x06) within `ackTimeoutMs` (4 s on the real receiver);
 * - NAK (0x15) or no ACK → retransmit, up to `retransmits` (3) more times;
 * - after that the receiver is "offline": events are buffered (up to `bufferLimit`), only heartbeats are sent
 *   (one attempt each, every heartbeat period), and communication resumes at the first ACKed heartbeat, when the
 *   buffered events are sent again in order (with a fresh retry budget);
 * - heartbeats go out every `heartbeatMs` when the link is idle (skipped while something is queued or in flight).
 *
 * Everything is recorded in `records` (and emitted as `record` events) for tests and the CLI.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';

const DC4 = '\x14';
const ACK = 0x06;
const NAK = 0x15;

export type Qualifier = 'E' | 'R' | 'P';
export type LineForm = 'mlr2' | 'sg';
export type Corruption = 'garble' | 'truncate' | 'noise' | 'no-terminator';

export interface ReceiverEventInput {
  /** 4 digits (0-9, B-F) */
  account: string;
  qualifier: Qualifier;
  /** 3-digit Contact ID event code, e.g. 101 */
  code: string | number;
  /** group / partition, default `01` */
  group?: string | number;
  /** zone or user, default `001` */
  zone?: string | number;
}

export interface SendEventOptions {
  /** send a corrupted copy first; the clean line follows as the retransmission after NAK or timeout */
  corruptFirst?: Corruption;
}

export interface SimulatedReceiverOptions {
  /** serial device, e.g. /dev/ttyUSB0 or one end of a pty pair */
  path: string;
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits?: 1 | 1.5 | 2;
  /** output form, default `mlr2` */
  form?: LineForm;
  /** 2-digit receiver number, default `01` */
  receiver?: string;
  /** line (card) number as printed; default `1` (MLR2) or `001` (SG) */
  line?: string;
  /** SG line width, default 3 (MLR2 is always 1) */
  lineWidth?: number;
  /** heartbeat period; default 30000; 0 turns heartbeats off while online */
  heartbeatMs?: number;
  /** time to wait for ACK before retransmitting; default 4000 */
  ackTimeoutMs?: number;
  /** retransmissions after the first attempt; default 3 */
  retransmits?: number;
  /** events kept while offline; default 127 */
  bufferLimit?: number;
  /** pause after an ACK before the next packet; default 0 */
  interPacketMs?: number;
}

export type RecordType =
  | 'open'
  | 'tx'
  | 'ack'
  | 'nak'
  | 'timeout'
  | 'gave_up'
  | 'offline'
  | 'online'
  | 'rx'
  | 'dropped'
  | 'error'
  | 'close';

export type PacketKind = 'event' | 'heartbeat' | 'raw';

export interface SimRecord {
  at: Date;
  type: RecordType;
  packet?: PacketKind;
  /** packet number, counting from 1 */
  id?: number;
  /** transmission number for this packet, counting from 1 */
  attempt?: number;
  /** for `tx`: the bytes sent as latin1 text (DC4 included); for `rx`: hex */
  data?: string;
  corrupted?: boolean;
  detail?: string;
}

export interface SendResult {
  /** first transmission */
  sentAt: Date;
  ackedAt: Date;
  /** transmissions in all (1 = ACKed at once) */
  attempts: number;
  /** the clean line, DC4 included */
  line: string;
}

export interface HeartbeatResult {
  sentAt: Date;
  ackedAt?: Date;
  attempts: number;
  acked: boolean;
}

export interface RawResult {
  sentAt: Date;
  reply: 'ack' | 'nak' | 'timeout';
  repliedAt?: Date;
}

interface Packet {
  id: number;
  kind: PacketKind;
  line: string;
  corruptFirst?: Corruption;
  /** record the transmission as corrupted (sendCorrupted) */
  markCorrupted?: boolean;
  /** transmissions allowed in this round (1 + retransmits, or 1 for raw and offline probes) */
  maxAttempts: number;
  attempts: number;
  roundAttempts: number;
  sentAt?: Date;
  lastReply?: 'nak' | 'timeout';
  auto?: boolean;
  onAck: (at: Date) => void;
  onFail?: () => void;
  onClose: (err: Error) => void;
}

function field(v: string | number, width: number, what: string, re: RegExp): string {
  const s = (typeof v === 'number' ? String(v) : v).padStart(width, '0').toUpperCase();
  if (s.length !== width || !re.test(s)) throw new RangeError(`alarm receiver: ${what} must be ${width} characters, got ${JSON.stringify(v)}`);
  return s;
}

/** Build an event line (DC4 included) from the facts in protocols.md §3.4. */
export function buildEventLine(
  ev: ReceiverEventInput,
  opts: { form?: LineForm; receiver?: string; line?: string; lineWidth?: number } = {},
): string {
  const form = opts.form ?? 'mlr2';
  const width = form === 'mlr2' ? 1 : (opts.lineWidth ?? 3);
  const receiver = field(opts.receiver ?? '01', 2, 'receiver', /^[0-9A-F]{2}$/);
  const line = field(opts.line ?? '1', width, 'line', /^[0-9A-F]+$/);
  if (!['E', 'R', 'P'].includes(ev.qualifier)) throw new RangeError(`alarm receiver: qualifier must be E, R or P`);
  return (
    '5' +
    receiver +
    line +
    ' ' +
    '18' +
    field(ev.account, 4, 'account', /^[0-9B-F]{4}$/) +
    ev.qualifier +
    field(ev.code, 3, 'event code', /^[0-9B-F]{3}$/) +
    field(ev.group ?? '01', 2, 'group', /^[0-9B-F]{2}$/) +
    field(ev.zone ?? '001', 3, 'zone', /^[0-9B-F]{3}$/) +
    DC4
  );
}

/** Build a heartbeat line (DC4 included): `1RRL` (MLR2) or `1RR000` (SG), 11 spaces, `@`, 4 spaces. */
export function buildHeartbeat(opts: { form?: LineForm; receiver?: string; line?: string; lineWidth?: number } = {}): string {
  const form = opts.form ?? 'mlr2';
  const receiver = field(opts.receiver ?? '01', 2, 'receiver', /^[0-9A-F]{2}$/);
  const line = form === 'mlr2' ? field(opts.line ?? '1', 1, 'line', /^[0-9A-F]$/) : '0'.repeat(opts.lineWidth ?? 3);
  return '1' + receiver + line + ' '.repeat(11) + '@' + ' '.repeat(4) + DC4;
}

/** A corrupted copy of a line, the way line noise might damage it. */
export function corruptLine(line: string, how: Corruption): string {
  const body = line.endsWith(DC4) ? line.slice(0, -1) : line;
  switch (how) {
    case 'garble': {
      // replace the qualifier/code area with characters that are not Contact ID digits
      const i = Math.max(0, body.length - 9);
      return body.slice(0, i) + '#?' + body.slice(i + 2) + DC4;
    }
    case 'truncate':
      return body.slice(0, Math.max(1, body.length - 4)) + DC4;
    case 'noise': {
      const i = Math.floor(body.length / 2);
      return body.slice(0, i) + '\x7f\x01' + body.slice(i) + DC4;
    }
    case 'no-terminator':
      return body;
  }
}

export type SimulatedReceiverEvents = { record: [SimRecord]; error: [Error] };

export class SimulatedReceiver extends EventEmitter<SimulatedReceiverEvents> {
  readonly options: Required<Omit<SimulatedReceiverOptions, 'line'>> & { line: string };
  readonly records: SimRecord[] = [];
  private port: SerialPort | undefined;
  private queue: Packet[] = [];
  private current: Packet | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private hbTimer: NodeJS.Timeout | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;
  private _online = true;

  constructor(opts: SimulatedReceiverOptions) {
    super();
    const form = opts.form ?? 'mlr2';
    const lineWidth = form === 'mlr2' ? 1 : (opts.lineWidth ?? 3);
    this.options = {
      path: opts.path,
      baudRate: opts.baudRate ?? 19200,
      dataBits: opts.dataBits ?? 7,
      parity: opts.parity ?? 'even',
      stopBits: opts.stopBits ?? 1,
      form,
      receiver: opts.receiver ?? '01',
      line: opts.line ?? '1'.padStart(lineWidth, '0'),
      lineWidth,
      heartbeatMs: opts.heartbeatMs ?? 30_000,
      ackTimeoutMs: opts.ackTimeoutMs ?? 4000,
      retransmits: opts.retransmits ?? 3,
      bufferLimit: opts.bufferLimit ?? 127,
      interPacketMs: opts.interPacketMs ?? 0,
    };
    // validate the line settings once
    buildHeartbeat(this.options);
    buildEventLine({ account: '0000', qualifier: 'E', code: '000' }, this.options);
  }

  /** Create and open in one step. */
  static async open(opts: SimulatedReceiverOptions): Promise<SimulatedReceiver> {
    const r = new SimulatedReceiver(opts);
    await r.open();
    return r;
  }

  /** true until a packet has gone unacknowledged through all its retransmissions; again after an ACKed heartbeat */
  get online(): boolean {
    return this._online;
  }

  /** events waiting (buffered while offline, or queued behind the packet in flight) */
  get buffered(): number {
    return this.queue.filter((p) => p.kind === 'event').length;
  }

  /** every transmission, in order */
  get transmissions(): SimRecord[] {
    return this.records.filter((r) => r.type === 'tx');
  }

  async open(): Promise<void> {
    if (this.port) return;
    const o = this.options;
    const port = new SerialPort({
      path: o.path,
      baudRate: o.baudRate,
      dataBits: o.dataBits,
      parity: o.parity,
      stopBits: o.stopBits,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', (err: Error) => {
      this.record({ type: 'error', detail: err.message });
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    port.on('close', () => {
      if (!this.closed) void this.close();
    });
    this.record({
      type: 'open',
      detail: `${o.path} ${o.baudRate} ${o.dataBits}${o.parity[0]!.toUpperCase()}${o.stopBits}, ${o.form} form, receiver ${o.receiver} line ${o.line}`,
    });
    this.scheduleHeartbeat();
  }

  /** Queue an event line; resolves when the automation computer ACKs it (after retransmissions or a resume). */
  sendEvent(ev: ReceiverEventInput, opts: SendEventOptions = {}): Promise<SendResult> {
    const line = buildEventLine(ev, this.options);
    return new Promise<SendResult>((resolve, reject) => {
      if (this.closed) return reject(new Error('alarm receiver: closed'));
      if (this.buffered >= this.options.bufferLimit) {
        this.record({ type: 'dropped', packet: 'event', data: line, detail: `buffer full (${this.options.bufferLimit})` });
        return reject(new Error(`alarm receiver: buffer full (${this.options.bufferLimit} events)`));
      }
      const p: Packet = {
        id: this.nextId++,
        kind: 'event',
        line,
        maxAttempts: 1 + this.options.retransmits,
        attempts: 0,
        roundAttempts: 0,
        onAck: (at) => resolve({ sentAt: p.sentAt!, ackedAt: at, attempts: p.attempts, line }),
        onClose: reject,
      };
      if (opts.corruptFirst) p.corruptFirst = opts.corruptFirst;
      this.enqueue(p);
    });
  }

  /** Queue a heartbeat now (besides the periodic ones). Resolves when ACKed or given up (never rejects on NAK). */
  sendHeartbeat(): Promise<HeartbeatResult> {
    return new Promise<HeartbeatResult>((resolve, reject) => {
      if (this.closed) return reject(new Error('alarm receiver: closed'));
      this.enqueue(this.heartbeatPacket(resolve, reject));
    });
  }

  /**
   * Send bytes as they are, as one packet (no retransmission), and report the reply: e.g. a corrupted line
   * the automation software should NAK. A string is sent as latin1; add the DC4 yourself if you want one.
   */
  sendRaw(data: Buffer | string, opts: { corrupted?: boolean } = {}): Promise<RawResult> {
    const line = typeof data === 'string' ? data : data.toString('latin1');
    return new Promise<RawResult>((resolve, reject) => {
      if (this.closed) return reject(new Error('alarm receiver: closed'));
      const p: Packet = {
        id: this.nextId++,
        kind: 'raw',
        line,
        maxAttempts: 1,
        attempts: 0,
        roundAttempts: 0,
        onAck: (at) => resolve({ sentAt: p.sentAt!, reply: 'ack', repliedAt: at }),
        onFail: () =>
          resolve(
            p.lastReply === 'nak'
              ? { sentAt: p.sentAt!, reply: 'nak', repliedAt: new Date() }
              : { sentAt: p.sentAt!, reply: 'timeout' },
          ),
        onClose: reject,
      };
      if (opts.corrupted) p.markCorrupted = true;
      this.enqueue(p);
    });
  }

  /** A corrupted copy of an event line, sent once (no retransmission); resolves with the reply. */
  sendCorrupted(ev: ReceiverEventInput, how: Corruption = 'garble'): Promise<RawResult> {
    return this.sendRaw(corruptLine(buildEventLine(ev, this.options), how), { corrupted: true });
  }

  /** Stop timers, reject what is still waiting, close the port. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.ackTimer);
    clearTimeout(this.hbTimer);
    clearTimeout(this.gapTimer);
    const err = new Error('alarm receiver: closed');
    const waiting = [...(this.current ? [this.current] : []), ...this.queue];
    this.current = undefined;
    this.queue = [];
    for (const p of waiting) p.onClose(err);
    const port = this.port;
    if (port?.isOpen) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
    this.record({ type: 'close' });
  }

  // ---- internals ----

  private heartbeatPacket(resolve?: (r: HeartbeatResult) => void, reject?: (e: Error) => void, auto = false): Packet {
    const p: Packet = {
      id: this.nextId++,
      kind: 'heartbeat',
      line: buildHeartbeat(this.options),
      maxAttempts: 1 + this.options.retransmits, // set again when sent: 1 while offline
      attempts: 0,
      roundAttempts: 0,
      auto,
      onAck: (at) => resolve?.({ sentAt: p.sentAt!, ackedAt: at, attempts: p.attempts, acked: true }),
      onFail: () => resolve?.({ sentAt: p.sentAt!, attempts: p.attempts, acked: false }),
      onClose: (e) => reject?.(e),
    };
    return p;
  }

  private record(r: Omit<SimRecord, 'at'>): void {
    const rec: SimRecord = { at: new Date(), ...r };
    this.records.push(rec);
    this.emit('record', rec);
  }

  private enqueue(p: Packet): void {
    this.queue.push(p);
    this.pump();
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.hbTimer);
    if (this.closed) return;
    const period = this.options.heartbeatMs > 0 ? this.options.heartbeatMs : this._online ? 0 : this.options.ackTimeoutMs;
    if (period <= 0) return;
    this.hbTimer = setTimeout(() => {
      this.heartbeatDue();
      this.scheduleHeartbeat();
    }, period);
  }

  private heartbeatDue(): void {
    if (this.closed || !this.port) return;
    if (this._online) {
      // the link is busy: traffic is its own proof of life
      if (this.current || this.queue.length > 0) return;
    } else {
      if (this.current?.kind === 'heartbeat' || this.queue.some((p) => p.kind === 'heartbeat')) return;
    }
    this.enqueue(this.heartbeatPacket(undefined, undefined, true));
  }

  private pump(): void {
    if (this.closed || !this.port || this.current || this.gapTimer) return;
    // offline: only heartbeats (and raw packets) go out; events wait in the buffer
    const idx = this._online ? 0 : this.queue.findIndex((p) => p.kind !== 'event');
    if (idx < 0 || idx >= this.queue.length) return;
    const p = this.queue.splice(idx, 1)[0]!;
    // a heartbeat sent while offline is a single probe
    if (p.kind === 'heartbeat' && p.roundAttempts === 0) p.maxAttempts = this._online ? 1 + this.options.retransmits : 1;
    this.current = p;
    this.transmit(p);
  }

  private transmit(p: Packet): void {
    const port = this.port;
    if (!port || this.closed) return;
    p.attempts++;
    p.roundAttempts++;
    const corruptNow = p.attempts === 1 && p.corruptFirst !== undefined;
    const bytes = corruptNow ? corruptLine(p.line, p.corruptFirst!) : p.line;
    const corrupted = corruptNow || p.markCorrupted === true;
    const now = new Date();
    p.sentAt ??= now;
    this.record({ type: 'tx', packet: p.kind, id: p.id, attempt: p.attempts, data: bytes, ...(corrupted ? { corrupted: true } : {}) });
    port.write(Buffer.from(bytes, 'latin1'), (err) => {
      if (err) this.record({ type: 'error', packet: p.kind, id: p.id, detail: `write: ${err.message}` });
    });
    clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => this.onNoAnswer(p, 'timeout'), this.options.ackTimeoutMs);
  }

  private onData(chunk: Buffer): void {
    for (const b of chunk) {
      const p = this.current;
      if (p && (b === ACK || b === NAK)) {
        clearTimeout(this.ackTimer);
        if (b === ACK) this.onAck(p);
        else this.onNoAnswer(p, 'nak');
      } else {
        this.record({ type: 'rx', data: Buffer.from([b]).toString('hex'), detail: p ? 'not ACK/NAK' : 'nothing in flight' });
      }
    }
  }

  private onAck(p: Packet): void {
    const at = new Date();
    this.current = undefined;
    this.record({ type: 'ack', packet: p.kind, id: p.id, attempt: p.attempts });
    if (!this._online && p.kind === 'heartbeat') {
      this._online = true;
      this.record({ type: 'online', detail: `heartbeat acknowledged; ${this.buffered} buffered event(s) to send` });
      this.scheduleHeartbeat();
    }
    p.onAck(at);
    this.afterPacket();
  }

  private onNoAnswer(p: Packet, why: 'nak' | 'timeout'): void {
    if (this.current !== p || this.closed) return;
    p.lastReply = why;
    this.record({ type: why, packet: p.kind, id: p.id, attempt: p.attempts });
    if (p.roundAttempts < p.maxAttempts) {
      this.transmit(p);
      return;
    }
    this.current = undefined;
    this.record({ type: 'gave_up', packet: p.kind, id: p.id, attempt: p.attempts, detail: `no ACK after ${p.roundAttempts} transmission(s)` });
    if (p.kind === 'event') {
      // keep it at the head of the buffer; fresh retry budget when the link is back
      p.roundAttempts = 0;
      this.queue.unshift(p);
    } else {
      p.onFail?.();
    }
    if (p.kind !== 'raw' && this._online) {
      this._online = false;
      this.record({ type: 'offline', detail: `buffering events until a heartbeat is acknowledged (${this.buffered} buffered)` });
      this.scheduleHeartbeat();
    }
    this.pump();
  }

  private afterPacket(): void {
    if (this.options.interPacketMs > 0) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        this.pump();
      }, this.options.interPacketMs);
    } else {
      this.pump();
    }
  }
}
