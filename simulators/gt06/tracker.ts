/**
 * A simulated GT06 (Concox) tracker / SOS pendant over TCP (protocols.md §2), behaving as the devices do where
 * it matters to the server:
 * - it logs in first (0x01) and sends nothing else until the login is answered (§2.2 "mandatory");
 * - heartbeats (0x13) and positions (0x12); an alarm packet (0x16: SOS 0x01, fall 0x23, power cut 0x02, low
 *   battery 0x0E) is resent, the same bytes, until the server echoes `05 16 SERIAL`;
 * - it obeys 0x80 commands (WHERE#, SOS,A,…#, TIMER,n#, RESET#, FALLDOWN,ON|OFF#) and answers each with 0x15
 *   carrying the server flag it was sent.
 * Every frame sent and received is recorded with a timestamp.
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ServerFrames, gpsBlock, imeiBcd, lbsBlock, packet, type ServerFrame } from './wire.js';

export interface SimulatedTrackerOptions {
  host: string;
  port: number;
  /** 15-digit IMEI */
  imei: string;
  /** heartbeat period; default 180000 */
  heartbeatMs?: number;
  /** position period; 0 = off (default) */
  positionMs?: number;
  /** points to walk through, one per position, wrapping around */
  path?: Array<[number, number]>;
  /** resend period of an unacknowledged alarm; default 10000 */
  alarmRetryMs?: number;
  /** log in as soon as connected; default true */
  loginOnConnect?: boolean;
  /** milliseconds per second of a TIMER,n# command (default 1000; tests shrink it) */
  timerUnitMs?: number;
}

export type TrackerAlarm = 'sos' | 'fall' | 'power_cut' | 'low_battery';

/** Alarm byte (Concox, §2.3) and terminal-info bits 3-5 for each alarm. */
const ALARMS: Record<TrackerAlarm, { code: number; bits: number }> = {
  sos: { code: 0x01, bits: 0b100 },
  fall: { code: 0x23, bits: 0b000 },
  power_cut: { code: 0x02, bits: 0b010 },
  low_battery: { code: 0x0e, bits: 0b011 },
};

export interface AlarmResult {
  sentAt: number;
  ackedAt: number;
  attempts: number;
  serial: number;
}

export interface Logged {
  at: number;
  hex: string;
  proto: number;
}

const now = (): number => performance.timeOrigin + performance.now();
const hex2 = (n: number) => n.toString(16).padStart(2, '0');

interface Waiter {
  proto: number;
  serial: number;
  resolve: (at: number) => void;
  reject: (e: Error) => void;
}

export class SimulatedTracker extends EventEmitter {
  readonly imei: string;
  readonly sent: Logged[] = [];
  readonly received: (Logged & { role: 'reply' | 'command' | 'unexpected'; text?: string })[] = [];
  /** SOS numbers set by command */
  sosNumbers: string[] = [];
  fallDetection = true;
  positionMs: number;
  battery = 5;
  private readonly o: Required<Omit<SimulatedTrackerOptions, 'path'>> & Pick<SimulatedTrackerOptions, 'path'>;
  private socket: Socket | null = null;
  private readonly frames = new ServerFrames();
  private serial = 0;
  private loggedIn = false;
  private pathIndex = 0;
  private waiters: Waiter[] = [];
  /** replies already matched (`proto:serial`): the answer to a resend is not an error */
  private readonly answered = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private positionTimer: NodeJS.Timeout | null = null;

  constructor(options: SimulatedTrackerOptions) {
    super();
    if (!/^\d{15,16}$/.test(options.imei)) throw new Error(`imei must be 15-16 digits, got ${options.imei}`);
    this.o = { heartbeatMs: 180_000, positionMs: 0, alarmRetryMs: 10_000, loginOnConnect: true, timerUnitMs: 1000, ...options };
    this.imei = options.imei;
    this.positionMs = this.o.positionMs;
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.destroyed;
  }

  get isLoggedIn(): boolean {
    return this.loggedIn;
  }

  /** Connects (and logs in unless loginOnConnect is false; resolves after the login reply then). */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ host: this.o.host, port: this.o.port });
      s.setNoDelay(true);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', (err) => {
          if (this.listenerCount('error') > 0) this.emit('error', err);
        });
        this.socket = s;
        this.emit('connect');
        if (!this.o.loginOnConnect) return resolve();
        this.login().then(() => resolve(), reject);
      });
      s.on('data', (c: Buffer) => this.onData(c));
      s.on('close', () => this.onClose());
    });
  }

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

  /** 0x01 login with type-id 0x100F and UTC+08:00 Chinese (§2.3); resolves on the server's reply. */
  async login(): Promise<number> {
    const at = await this.request(0x01, [...imeiBcd(this.imei), 0x10, 0x0f, 0x32, 0x01]);
    this.loggedIn = true;
    this.timers.push(setInterval(() => void this.heartbeat().catch(() => undefined), this.o.heartbeatMs));
    this.restartPositions();
    this.emit('logged_in');
    return at;
  }

  /** 0x13: terminal info (GPS tracking on, charging), voltage level, GSM level, alarm 0, English. */
  heartbeat(): Promise<number> {
    return this.request(0x13, [0x44, this.battery, 4, 0x00, 0x02]);
  }

  /** 0x12 GPS + LBS; resolves on the server's echo (Traccar echoes; harmless, §6.2). */
  position(point?: [number, number]): Promise<number> {
    const [lat, lon] = point ?? this.nextPoint();
    return this.request(0x12, [...gpsBlock(new Date(), lat, lon), ...lbsBlock(460, 0, 10365, 8049)]);
  }

  /** 0x16 alarm packet, resent unchanged every alarmRetryMs until `05 16 SERIAL` comes back. */
  alarm(kind: TrackerAlarm, point?: [number, number]): Promise<AlarmResult> {
    const [lat, lon] = point ?? this.nextPoint();
    const a = ALARMS[kind];
    const serial = this.nextSerial();
    const content = [...gpsBlock(new Date(), lat, lon), 0x09, ...lbsBlock(460, 0, 10365, 8049), 0x40 | (a.bits << 3), this.battery, 4, a.code, 0x02];
    const bytes = packet(0x16, content, serial);
    const sentAt = now();
    let attempts = 1;
    const acked = this.waitFor(0x16, serial);
    this.write(bytes, 0x16);
    const timer = setInterval(() => {
      if (!this.connected) return;
      attempts++;
      this.emit('alarm_retry', { kind, attempts });
      this.write(bytes, 0x16);
    }, this.o.alarmRetryMs);
    return acked.then(
      (ackedAt) => {
        clearInterval(timer);
        const r = { sentAt, ackedAt, attempts, serial };
        this.emit('alarm_acked', r);
        return r;
      },
      (e: Error) => {
        clearInterval(timer);
        throw e;
      },
    );
  }

  /** Anything at all: for protocol-error tests. */
  sendRaw(bytes: Buffer): void {
    this.write(bytes, bytes[3] ?? -1);
  }

  /** Writes a packet with the next serial and waits for the reply echoing it. */
  private request(proto: number, content: number[]): Promise<number> {
    const serial = this.nextSerial();
    const p = this.waitFor(proto, serial);
    this.write(packet(proto, content, serial), proto);
    return p;
  }

  private nextSerial(): number {
    this.serial = (this.serial + 1) & 0xffff;
    return this.serial;
  }

  private waitFor(proto: number, serial: number): Promise<number> {
    if (!this.connected) return Promise.reject(new Error(`tracker ${this.imei} is not connected`));
    return new Promise((resolve, reject) => this.waiters.push({ proto, serial, resolve, reject }));
  }

  private write(bytes: Buffer, proto: number): void {
    const s = this.socket;
    if (!s || s.destroyed) throw new Error(`tracker ${this.imei} is not connected`);
    s.write(bytes);
    const e = { at: now(), hex: bytes.toString('hex'), proto };
    this.sent.push(e);
    this.emit('sent', e);
  }

  private nextPoint(): [number, number] {
    const path = this.o.path;
    if (!path?.length) return [31.230416, 121.473701];
    return path[this.pathIndex++ % path.length]!;
  }

  private restartPositions(): void {
    if (this.positionTimer) clearInterval(this.positionTimer);
    this.positionTimer = this.positionMs > 0 ? setInterval(() => void this.position().catch(() => undefined), this.positionMs) : null;
  }

  private onData(chunk: Buffer): void {
    const { frames, junk } = this.frames.push(chunk);
    if (junk) this.emit('protocol_error', { reason: `${junk} bytes outside a frame` });
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: ServerFrame): void {
    const at = now();
    if (!f.crcOk) {
      this.received.push({ at, hex: f.hex, proto: f.proto, role: 'unexpected' });
      return void this.emit('protocol_error', { reason: 'bad CRC from the server', frame: f.hex });
    }
    if (f.proto === 0x80) return this.onCommand(f, at);
    const i = this.waiters.findIndex((w) => w.proto === f.proto && w.serial === f.serial);
    if (i < 0 && f.content.length === 0 && this.answered.has(`${f.proto}:${f.serial}`)) {
      return void this.received.push({ at, hex: f.hex, proto: f.proto, role: 'reply' });
    }
    if (i < 0 || f.content.length !== 0) {
      this.received.push({ at, hex: f.hex, proto: f.proto, role: 'unexpected' });
      return void this.emit('protocol_error', { reason: `unexpected reply 0x${hex2(f.proto)} serial ${f.serial}`, frame: f.hex });
    }
    const [w] = this.waiters.splice(i, 1);
    this.answered.add(`${f.proto}:${f.serial}`);
    this.received.push({ at, hex: f.hex, proto: f.proto, role: 'reply' });
    this.emit('reply', f);
    w!.resolve(at);
  }

  /** 0x80: CMDLEN | server flag 4 | text (§2.6); answered with 0x15 carrying the same flag. */
  private onCommand(f: ServerFrame, at: number): void {
    const c = f.content;
    const flag = c.subarray(1, 5);
    const text = c.toString('latin1', 5, 5 + Math.max(0, c[0]! - 4));
    this.received.push({ at, hex: f.hex, proto: 0x80, role: 'command', text });
    this.emit('command', text);
    const [word = '', ...args] = text.replace(/#$/, '').split(',');
    let answer: string;
    switch (word.toUpperCase()) {
      case 'WHERE': {
        const [lat, lon] = this.nextPoint();
        answer = `Lat:${lat >= 0 ? 'N' : 'S'}${Math.abs(lat).toFixed(6)},Lon:${lon >= 0 ? 'E' : 'W'}${Math.abs(lon).toFixed(6)}`;
        void this.position([lat, lon]).catch(() => undefined);
        break;
      }
      case 'SOS':
        this.sosNumbers = args.slice(1);
        answer = `SOS numbers: ${this.sosNumbers.join(',')}`;
        break;
      case 'TIMER': {
        const s = Number(args[0]);
        this.positionMs = s * this.o.timerUnitMs;
        this.restartPositions();
        answer = `TIMER OK: ${s}`;
        this.emit('interval', this.positionMs);
        break;
      }
      case 'RESET':
        answer = 'RESET OK';
        this.emit('reset');
        break;
      case 'FALLDOWN':
        this.fallDetection = args[0]?.toUpperCase() === 'ON';
        answer = `FALLDOWN ${this.fallDetection ? 'ON' : 'OFF'}`;
        break;
      default:
        answer = `Unknown command: ${text}`;
    }
    const body = Buffer.from(answer, 'latin1');
    this.write(packet(0x15, [4 + body.length, ...flag, ...body, 0x00, 0x02], this.nextSerial()), 0x15);
  }

  private onClose(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    if (this.positionTimer) clearInterval(this.positionTimer);
    this.positionTimer = null;
    this.loggedIn = false;
    const err = new Error(`tracker ${this.imei}: connection closed`);
    for (const w of this.waiters.splice(0)) w.reject(err);
    if (this.socket) {
      this.socket = null;
      this.emit('close');
    }
  }
}
