/**
 * A simulated elder-care watch speaking the "watch" protocol (protocols.md §1) over TCP.
 *
 * It behaves like the real devices where that matters to the server:
 * - LK must be answered with exactly `[MF*ID*0002*LK]`; unanswered, it resends LK every lkRetryMs (§1.2).
 * - AL must be answered with `[MF*ID*0002*AL]`; unanswered, it resends the same bytes every alarmRetryMs
 *   ("constant alarming until receive the alarm confirmation").
 * - It echoes downlink commands and obeys CR (position now), UPLOAD (interval) and FIND (ring).
 * Every frame sent and received is recorded with a timestamp, for tests and benchmarks.
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FrameSplitter, parseFrame, writeFrame, type ParsedFrame } from './wire.js';

export interface SimulatedWatchOptions {
  host: string;
  port: number;
  /** digits, e.g. '8800000015' */
  deviceId: string;
  /** 2 characters; default '3G' */
  manufacturer?: string;
  /** heartbeat period; default 300000 (the vendor's 5-8 min) */
  lkIntervalMs?: number;
  /** position report period; 0 = off (default) */
  udIntervalMs?: number;
  /** positions to walk through, one per UD, wrapping around */
  path?: Array<[number, number]>;
  /** percent; default 80 */
  battery?: number;
  /** resend period of an unacknowledged AL; default 10000 */
  alarmRetryMs?: number;
  /** resend period of an unanswered LK; default 60000 (the vendor's "every minute") */
  lkRetryMs?: number;
  /** speak the ZJ dialect with this 4-hex index (`[ZJ*id*INDEX*LEN*...]`) */
  zjIndex?: string;
  /** send LK as soon as the connection opens, like real watches; default true */
  lkOnConnect?: boolean;
  /** milliseconds per second of an UPLOAD,n command (default 1000; tests shrink it) */
  uploadUnitMs?: number;
}

export type AlarmKindSim = 'sos' | 'fall' | 'removed' | 'fence_exit' | 'fence_enter';

/** Status words per protocols.md §1.4 (bit 16 SOS, bit 20 removal, bit 21 fall). */
// protocols.md §1.4: bit 16 SOS, 18 leave-fence (the fence the family set on the watch), 19 enter-fence,
// 20 removed, 21 fall; bits 1/2 are the matching out-of/in-fence states.
const ALARM_STATUS: Record<AlarmKindSim, string> = {
  sos: '00010000',
  fall: '00200000',
  removed: '00100000',
  fence_exit: '00040002',
  fence_enter: '00080004',
};

export interface AlarmOptions {
  point?: [number, number];
  /** 'AL' (default) or e.g. 'AL_LTE' */
  type?: string;
  /** override the status word (8 hex digits) */
  status?: string;
}

export interface AlarmResult {
  sentAt: number;
  ackedAt: number;
  /** how many times the frame was sent (1 = acknowledged at once) */
  attempts: number;
}

export interface HealthReading {
  heartRate?: number;
  systolic?: number;
  diastolic?: number;
  spo2?: number;
  temperature?: number;
}

export interface Received extends ParsedFrame {
  at: number;
  /** reply to something we sent, a downlink command, or neither */
  role: 'reply' | 'command' | 'unexpected';
}

export interface Sent {
  at: number;
  frame: string;
}

/** Downlink keywords a watch knows and echoes (§1.5); IP is obeyed without an echo. */
const ECHOED = new Set([
  'CR', 'UPLOAD', 'SOS', 'SOS1', 'SOS2', 'SOS3', 'CENTER', 'FIND', 'POWEROFF', 'RESET', 'FACTORY', 'LZ', 'FALLDOWN',
  'LSSET', 'HRTSTART', 'MESSAGE', 'PHB', 'PHB2', 'APPLOCK', 'REMOVE', 'REMOVESMS', 'SOSSMS', 'LOWBAT', 'CALL',
  'MONITOR', 'PW', 'VERNO', 'HEALTHAUTOSET', 'BODYTEMP', 'BODYTEMP2', 'REMIND', 'SILENCETIME', 'WORK', 'PROFILE',
]);

interface PendingAlarm {
  bytes: Buffer;
  sentAt: number;
  attempts: number;
  timer: NodeJS.Timeout;
  resolve: (r: AlarmResult) => void;
  reject: (e: Error) => void;
}

/** epoch milliseconds with sub-millisecond resolution */
const now = (): number => performance.timeOrigin + performance.now();

export class SimulatedWatch extends EventEmitter {
  readonly deviceId: string;
  readonly manufacturer: string;
  readonly sent: Sent[] = [];
  readonly received: Received[] = [];
  udIntervalMs: number;
  battery: number;
  steps = 0;

  private readonly opts: Required<Omit<SimulatedWatchOptions, 'path' | 'zjIndex'>> & Pick<SimulatedWatchOptions, 'path' | 'zjIndex'>;
  private socket: Socket | null = null;
  private readonly splitter = new FrameSplitter();
  private pathIndex = 0;
  private lkTimer: NodeJS.Timeout | null = null;
  private udTimer: NodeJS.Timeout | null = null;
  private lkRetry: NodeJS.Timeout | null = null;
  private lkWaiters: Array<{ resolve: (at: number) => void; reject: (e: Error) => void }> = [];
  private lkPending = false;
  private readonly alarms: PendingAlarm[] = [];
  /**
   * Frames sent vs replies received, per keyword. Replies carry no id, so a reply with nothing pending is
   * only an error when there are more replies than frames ever sent (a slow server may answer a resend).
   */
  private readonly count = { lkSent: 0, lkReplies: 0, alSent: 0, alReplies: 0 };
  /** replies we expect for health frames (bphrt, btemp2), by keyword */
  private readonly expected = new Map<string, number>();

  constructor(options: SimulatedWatchOptions) {
    super();
    if (!/^[0-9]+$/.test(options.deviceId)) throw new Error(`deviceId must be digits, got ${options.deviceId}`);
    this.opts = {
      manufacturer: '3G',
      lkIntervalMs: 300_000,
      udIntervalMs: 0,
      battery: 80,
      alarmRetryMs: 10_000,
      lkRetryMs: 60_000,
      lkOnConnect: true,
      uploadUnitMs: 1000,
      ...options,
    };
    this.deviceId = options.deviceId;
    this.manufacturer = this.opts.manufacturer;
    this.udIntervalMs = this.opts.udIntervalMs;
    this.battery = this.opts.battery;
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.destroyed;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: this.opts.host, port: this.opts.port });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        // without an 'error' listener an EventEmitter throws; a reset connection is reported by 'close' anyway
        socket.on('error', (err) => {
          if (this.listenerCount('error') > 0) this.emit('error', err);
        });
        this.socket = socket;
        this.emit('connect');
        if (this.opts.lkOnConnect) this.sendLK().catch(() => undefined);
        this.lkTimer = setInterval(() => this.sendLK().catch(() => undefined), this.opts.lkIntervalMs);
        this.restartUdTimer();
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('close', () => this.onClose());
    });
  }

  /** Close the connection; pending LK and AL promises are rejected. */
  close(): Promise<void> {
    const s = this.socket;
    if (!s || s.destroyed) {
      this.onClose();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 500).unref();
    });
  }

  /** Heartbeat `LK,steps,tumbles,battery`. Resolves with the time the server's LK reply arrived. */
  sendLK(): Promise<number> {
    if (!this.connected) return Promise.reject(new Error(`watch ${this.deviceId} is not connected`));
    const p = new Promise<number>((resolve, reject) => this.lkWaiters.push({ resolve, reject }));
    this.writeLK();
    return p;
  }

  /** One position report; without a point, the next point of the path (or a fixed point). */
  sendUD(point?: [number, number]): Buffer {
    return this.write(this.report('UD', point ?? this.nextPoint(), this.stateWord()));
  }

  /**
   * Raise an alarm. Resolves once, when the server's `AL` reply arrives; until then the identical frame is
   * resent every alarmRetryMs.
   */
  sendAlarm(kind: AlarmKindSim, options: AlarmOptions = {}): Promise<AlarmResult> {
    if (!this.connected) return Promise.reject(new Error(`watch ${this.deviceId} is not connected`));
    const status = options.status ?? ALARM_STATUS[kind];
    const bytes = this.frame(this.report(options.type ?? 'AL', options.point ?? this.nextPoint(), status));
    return new Promise((resolve, reject) => {
      const pending: PendingAlarm = {
        bytes,
        sentAt: now(),
        attempts: 1,
        resolve,
        reject,
        timer: setInterval(() => {
          pending.attempts++;
          this.emit('alarm_retry', { kind, attempts: pending.attempts });
          this.writeAL(bytes);
        }, this.opts.alarmRetryMs),
      };
      this.alarms.push(pending);
      this.writeAL(bytes);
    });
  }

  /** Health readings as the watch sends them: bphrt (BP + HR), heart, oxygen, btemp2. Returns the frames. */
  sendHealth(reading: HealthReading): Buffer[] {
    const out: Buffer[] = [];
    if (reading.systolic !== undefined || reading.diastolic !== undefined) {
      this.expect('bphrt');
      out.push(this.write(`bphrt,${reading.systolic ?? 0},${reading.diastolic ?? 0},${reading.heartRate ?? 0},,,,`));
    } else if (reading.heartRate !== undefined) {
      out.push(this.write(`heart,${reading.heartRate}`));
    }
    if (reading.spo2 !== undefined) out.push(this.write(`oxygen,0,${reading.spo2}`));
    if (reading.temperature !== undefined) {
      this.expect('btemp2');
      out.push(this.write(`btemp2,1,${reading.temperature.toFixed(2)}`));
    }
    return out;
  }

  /** Anything at all, unframed: for protocol-error tests. */
  sendRaw(data: string | Buffer): void {
    this.writeBytes(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  /** The frame this watch sends for a content, e.g. `frame('LK')`. */
  frame(content: string): Buffer {
    return writeFrame(this.manufacturer, this.deviceId, content, this.opts.zjIndex);
  }

  // ---- internals ----

  private write(content: string): Buffer {
    const bytes = this.frame(content);
    this.writeBytes(bytes);
    return bytes;
  }

  private writeBytes(bytes: Buffer): void {
    const s = this.socket;
    if (!s || s.destroyed) throw new Error(`watch ${this.deviceId} is not connected`);
    s.write(bytes);
    const entry = { at: now(), frame: bytes.toString('utf8') };
    this.sent.push(entry);
    this.emit('sent', entry);
  }

  private writeAL(bytes: Buffer): void {
    if (!this.connected) return;
    this.count.alSent++;
    this.writeBytes(bytes);
  }

  private writeLK(): void {
    if (!this.connected) return;
    this.count.lkSent++;
    this.write(`LK,${this.steps},0,${this.battery}`);
    this.lkPending = true;
    if (!this.lkRetry) {
      this.lkRetry = setInterval(() => {
        if (!this.lkPending) return;
        this.emit('unanswered', { type: 'LK' });
        this.writeLK();
      }, this.opts.lkRetryMs);
    }
  }

  private expect(keyword: string): void {
    this.expected.set(keyword, (this.expected.get(keyword) ?? 0) + 1);
  }

  private nextPoint(): [number, number] {
    const path = this.opts.path;
    if (!path || path.length === 0) return [31.230416, 121.473701];
    const p = path[this.pathIndex % path.length]!;
    this.pathIndex++;
    return p;
  }

  /** Low-battery state (bit 0) below 20 %, worn (bit 3) always; protocols.md §1.4. */
  private stateWord(): string {
    return ((this.battery < 20 ? 1 : 0) | 0x08).toString(16).toUpperCase().padStart(8, '0');
  }

  /** UD/AL body per protocols.md §1.3, with one cell and no Wi-Fi. */
  private report(type: string, [lat, lon]: [number, number], status: string): string {
    const d = new Date();
    const two = (n: number): string => String(n).padStart(2, '0');
    const date = `${two(d.getUTCDate())}${two(d.getUTCMonth() + 1)}${two(d.getUTCFullYear() % 100)}`;
    const time = `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
    const ns = lat < 0 ? 'S' : 'N';
    const ew = lon < 0 ? 'W' : 'E';
    return [
      type, date, time, 'A', Math.abs(lat).toFixed(6), ns, Math.abs(lon).toFixed(7), ew,
      '0.00', '0.0', '10.0', '8', '80', String(this.battery), String(this.steps), '0', status,
      '1', '1', '460', '0', '9360', '4082', '131', '0', '10.0',
    ].join(',');
  }

  private restartUdTimer(): void {
    if (this.udTimer) clearInterval(this.udTimer);
    this.udTimer = null;
    if (this.udIntervalMs > 0 && this.connected) {
      this.udTimer = setInterval(() => {
        if (this.connected) this.sendUD();
      }, this.udIntervalMs);
    }
  }

  private onData(chunk: Buffer): void {
    const { frames, junk } = this.splitter.push(chunk);
    if (junk.trim() !== '') this.emit('protocol_error', { reason: 'bytes outside a frame', data: junk });
    for (const f of frames) this.onFrame(f);
  }

  private protocolError(reason: string, frame: string): void {
    this.emit('protocol_error', { reason, frame });
  }

  private record(p: ParsedFrame, role: Received['role']): Received {
    const r: Received = { ...p, at: now(), role };
    this.received.push(r);
    this.emit('received', r);
    return r;
  }

  private onFrame(frame: string): void {
    const withIndex = this.opts.zjIndex !== undefined;
    const p = parseFrame(frame, withIndex);
    if (typeof p === 'string') {
      this.received.push({ frame, manufacturer: '', deviceId: '', lenField: '', content: '', keyword: '', args: [], at: now(), role: 'unexpected' });
      return this.protocolError(p, frame);
    }
    if (p.manufacturer !== this.manufacturer || p.deviceId !== this.deviceId) {
      this.record(p, 'unexpected');
      return this.protocolError(`addressed to ${p.manufacturer}*${p.deviceId}, not ${this.manufacturer}*${this.deviceId}`, frame);
    }
    if (parseInt(p.lenField, 16) !== Buffer.byteLength(p.content, 'utf8')) {
      this.record(p, 'unexpected');
      return this.protocolError(`LEN ${p.lenField} but content is ${Buffer.byteLength(p.content, 'utf8')} bytes`, frame);
    }

    const kw = p.keyword;
    if (kw === 'LK' || kw === 'AL' || this.expected.has(kw)) return this.onReply(p);
    if (ECHOED.has(kw.toUpperCase()) || kw === 'IP') return this.onCommand(p);
    this.record(p, 'unexpected');
    this.protocolError(`unknown frame ${kw}`, frame);
  }

  private onReply(p: ParsedFrame): void {
    const at = now();
    // Replies echo our own index in the ZJ dialect.
    const exact = this.frame(p.keyword).toString('utf8');
    if (p.frame !== exact) {
      this.record(p, 'unexpected');
      return this.protocolError(`reply should be exactly ${exact}`, p.frame);
    }
    if (p.keyword === 'LK') {
      this.count.lkReplies++;
      if (!this.lkPending) {
        if (this.count.lkReplies <= this.count.lkSent) return void this.record(p, 'reply'); // answer to a resend
        this.record(p, 'unexpected');
        return this.protocolError('LK reply without a pending LK', p.frame);
      }
      this.record(p, 'reply');
      this.lkPending = false;
      if (this.lkRetry) clearInterval(this.lkRetry);
      this.lkRetry = null;
      for (const w of this.lkWaiters.splice(0)) w.resolve(at);
      this.emit('reply', p);
      return;
    }
    if (p.keyword === 'AL') {
      this.count.alReplies++;
      const pending = this.alarms.shift(); // acks carry no id: the oldest alarm is the one acknowledged
      if (!pending) {
        if (this.count.alReplies <= this.count.alSent) return void this.record(p, 'reply'); // answer to a resend
        this.record(p, 'unexpected');
        return this.protocolError('AL reply without a pending alarm', p.frame);
      }
      this.record(p, 'reply');
      clearInterval(pending.timer);
      const result = { sentAt: pending.sentAt, ackedAt: at, attempts: pending.attempts };
      this.emit('alarm_acked', result);
      pending.resolve(result);
      this.emit('reply', p);
      return;
    }
    const left = (this.expected.get(p.keyword) ?? 1) - 1;
    if (left > 0) this.expected.set(p.keyword, left);
    else this.expected.delete(p.keyword);
    this.record(p, 'reply');
    this.emit('reply', p);
  }

  private onCommand(p: ParsedFrame): void {
    this.record(p, 'command');
    this.emit('command', p);
    const kw = p.keyword;
    if (kw === 'IP') return; // the watch reconnects elsewhere without a reply (§1.5); we just record it
    this.write(kw === 'LSSET' ? `LSSET,${(p.args[0] ?? '').split('+')[0]}` : kw === 'VERNO' ? 'VERNO,ANXIN_SIM_WATCH_1.0' : kw);
    switch (kw.toUpperCase()) {
      case 'CR':
        this.sendUD();
        break;
      case 'UPLOAD': {
        const s = Number(p.args[0]);
        if (Number.isInteger(s) && s > 0) {
          this.udIntervalMs = s * this.opts.uploadUnitMs;
          this.restartUdTimer();
          this.emit('interval', this.udIntervalMs);
        } else {
          this.protocolError(`UPLOAD with a bad interval ${p.args[0]}`, p.frame);
        }
        break;
      }
      case 'FIND':
        this.emit('find');
        break;
      case 'POWEROFF':
        this.emit('poweroff');
        void this.close();
        break;
      default:
        break;
    }
  }

  private onClose(): void {
    for (const t of [this.lkTimer, this.udTimer, this.lkRetry]) if (t) clearInterval(t);
    this.lkTimer = this.udTimer = this.lkRetry = null;
    this.lkPending = false;
    const err = new Error(`watch ${this.deviceId}: connection closed`);
    for (const w of this.lkWaiters.splice(0)) w.reject(err);
    for (const a of this.alarms.splice(0)) {
      clearInterval(a.timer);
      a.reject(err);
    }
    if (this.socket) {
      this.socket = null;
      this.emit('close');
    }
  }
}
