/**
 * What the flood and fuzz scenarios watch while they attack the gateway:
 * - SosWatch: a registered watch on its own clean TCP connection that sends an SOS alarm frame at a steady rate
 *   and times each frame → `AL` reply (the gateway writes it only after the alarm is committed);
 * - Gt06Sos: the same for a registered GT06 tracker (0x16 alarm packet with SOS → its `05 16 SERIAL` reply);
 * - the gateway's /metrics, read as numbers per series, and the difference between two readings.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { gt06Frame, gt06Login, gt06SosContent, watchLk, watchSos } from './fuzz-wire.js';
import { dist, type Dist } from './stats.js';

const now = () => performance.timeOrigin + performance.now();

export interface SosRecord {
  sentAt: number;
  ackAt?: number;
}


/** A connected TCP socket to the gateway with Nagle off: each probe frame leaves at once. */
async function openSocket(port: number, localAddress: string): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, localAddress });
  s.setNoDelay(true);
  await new Promise<void>((res, rej) => {
    s.once('connect', res);
    s.once('error', rej);
  });
  return s;
}
export class SosWatch {
  readonly records: SosRecord[] = [];
  reconnects = 0;
  closes = 0;
  /** frames and bytes written (the gateway counts them with the fuzz traffic on the watch port) */
  framesWritten = 0;
  bytesWritten = 0;
  errors: string[] = [];
  private sock: Socket | undefined;
  private pending: SosRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private steps = 0;
  private buf = '';
  private lkWaiter: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly id: string,
    private readonly port: number,
    private readonly localAddress = '127.0.0.1',
  ) {}

  async connect(): Promise<void> {
    const s = await openSocket(this.port, this.localAddress);
    this.sock = s;
    s.on('error', (e) => this.errors.length < 20 && this.errors.push(e.message));
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('close', () => {
      if (this.sock !== s || this.stopped) return;
      this.closes++;
      // unanswered frames on a lost link are resent on the next one, as a watch does
      this.sock = undefined;
      setTimeout(() => void this.reconnect(), 200);
    });
    const lk = new Promise<void>((r) => (this.lkWaiter = r));
    this.write(s, watchLk(this.id));
    await Promise.race([lk, new Promise((r) => setTimeout(r, 10_000))]);
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    this.reconnects++;
    try {
      await this.connect();
      // the watch repeats an alarm until it is confirmed (protocols.md §1.2): the oldest pending one again
      for (const p of this.pending) if (this.sock) this.write(this.sock, watchSos(this.id, 0, new Date(p.sentAt)));
    } catch {
      setTimeout(() => void this.reconnect(), 500);
    }
  }

  private onData(d: Buffer): void {
    this.buf += d.toString('latin1');
    let i: number;
    while ((i = this.buf.indexOf(']')) >= 0) {
      const f = this.buf.slice(0, i + 1);
      this.buf = this.buf.slice(i + 1);
      if (f.endsWith('*AL]')) {
        // replies come in order (per-device ordering): the oldest pending SOS is the one answered
        const p = this.pending.shift();
        if (p) p.ackAt = now();
      } else if (f.endsWith('*LK]')) {
        this.lkWaiter?.();
        this.lkWaiter = undefined;
      }
    }
  }

  /** Sends one SOS every `periodMs` until stop(). */
  start(periodMs: number): void {
    this.timer = setInterval(() => this.send(), periodMs);
  }

  private send(): void {
    const r: SosRecord = { sentAt: now() };
    this.records.push(r);
    this.pending.push(r);
    if (this.sock) this.write(this.sock, watchSos(this.id, ++this.steps));
  }

  private write(s: Socket, frame: Buffer): void {
    this.framesWritten++;
    this.bytesWritten += frame.length;
    s.write(frame);
  }

  /** Stops sending; waits up to `waitMs` for outstanding acknowledgements. */
  async stop(waitMs = 10_000): Promise<void> {
    clearInterval(this.timer);
    const end = performance.now() + waitMs;
    while (this.pending.length && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
    this.stopped = true;
    this.sock?.destroy();
  }

  /** Acknowledgement latency of the SOS frames sent in [from, to). */
  window(from: number, to: number): SosWindow {
    return windowOf(this.records, from, to);
  }

  get unacked(): number {
    return this.records.filter((r) => r.ackAt === undefined).length;
  }
}

export interface SosWindow {
  sent: number;
  acked: number;
  ackMs: Dist;
  p50?: number;
  p99?: number;
}

function windowOf(records: SosRecord[], from: number, to: number): SosWindow {
  const rs = records.filter((r) => r.sentAt >= from && r.sentAt < to);
  const lat = rs.filter((r) => r.ackAt !== undefined).map((r) => r.ackAt! - r.sentAt);
  const d = dist(lat);
  return { sent: rs.length, acked: lat.length, ackMs: d, p50: d.p50, p99: d.p99 };
}

/**
 * A registered GT06 tracker on its own clean connection: logs in (0x01), then sends an SOS alarm packet (0x16,
 * terminal-info bits 3-5 = SOS, alarm byte 0x01) at a steady rate, each with its own serial, and times it to
 * the `78 78 05 16 SERIAL` reply (sent after the alarm is committed). On a lost link it logs in again and
 * resends what is unanswered with the same serials, as a tracker does.
 */
export class Gt06Sos {
  readonly records: (SosRecord & { serial: number })[] = [];
  reconnects = 0;
  closes = 0;
  framesWritten = 0;
  bytesWritten = 0;
  private sock: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private serial = 0;
  private rx = Buffer.alloc(0);
  private loggedIn: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly imei: string,
    private readonly port: number,
    private readonly localAddress = '127.0.0.1',
  ) {}

  async connect(): Promise<void> {
    const s = await openSocket(this.port, this.localAddress);
    this.sock = s;
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('close', () => {
      if (this.sock !== s || this.stopped) return;
      this.closes++;
      this.sock = undefined;
      setTimeout(() => void this.reconnect(), 200);
    });
    const ok = new Promise<void>((r) => (this.loggedIn = r));
    this.write(s, gt06Login(this.imei, this.nextSerial()));
    await Promise.race([ok, new Promise((r) => setTimeout(r, 10_000))]);
  }

  private nextSerial(): number {
    return (this.serial = (this.serial + 1) & 0xffff);
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    this.reconnects++;
    try {
      await this.connect();
      for (const p of this.records) if (p.ackAt === undefined && this.sock) this.write(this.sock, gt06Frame(0x16, gt06SosContent(new Date(p.sentAt)), p.serial));
    } catch {
      setTimeout(() => void this.reconnect(), 500);
    }
  }

  /** Replies are `78 78 05 PROTO SERIAL CRC 0D 0A` (§2.2). */
  private onData(d: Buffer): void {
    this.rx = Buffer.concat([this.rx, d]);
    let i = 0;
    while (this.rx.length - i >= 10) {
      if (this.rx[i] !== 0x78 || this.rx[i + 1] !== 0x78 || this.rx[i + 2] !== 0x05) {
        i++;
        continue;
      }
      const proto = this.rx[i + 3];
      const serial = this.rx.readUInt16BE(i + 4);
      if (proto === 0x01) {
        this.loggedIn?.();
        this.loggedIn = undefined;
      } else if (proto === 0x16) {
        const r = this.records.find((x) => x.serial === serial && x.ackAt === undefined);
        if (r) r.ackAt = now();
      }
      i += 10;
    }
    this.rx = this.rx.subarray(i);
  }

  start(periodMs: number): void {
    this.timer = setInterval(() => {
      const r = { sentAt: now(), serial: this.nextSerial() };
      this.records.push(r);
      if (this.sock) this.write(this.sock, gt06Frame(0x16, gt06SosContent(), r.serial));
    }, periodMs);
  }

  private write(s: Socket, frame: Buffer): void {
    this.framesWritten++;
    this.bytesWritten += frame.length;
    s.write(frame);
  }

  async stop(waitMs = 10_000): Promise<void> {
    clearInterval(this.timer);
    const end = performance.now() + waitMs;
    while (this.unacked && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
    this.stopped = true;
    this.sock?.destroy();
  }

  window(from: number, to: number): SosWindow {
    return windowOf(this.records, from, to);
  }

  get unacked(): number {
    return this.records.filter((r) => r.ackAt === undefined).length;
  }
}

export const epochNow = now;

/** /metrics as series → value (`name{labels}` as the text has it); only our own `anxin_` counters and gauges. */
export async function scrapeMetrics(httpPort: number): Promise<Map<string, number>> {
  const r = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  const text = await r.text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('anxin_') || line.startsWith('anxin_process_') || line.startsWith('anxin_nodejs_')) continue;
    const sp = line.lastIndexOf(' ');
    const v = Number(line.slice(sp + 1));
    if (Number.isFinite(v)) m.set(line.slice(0, sp), v);
  }
  return m;
}

/** Series whose value changed, after − before, for names starting with one of `prefixes` (all if none). */
export function metricDeltas(before: Map<string, number>, after: Map<string, number>, prefixes: string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    if (prefixes.length && !prefixes.some((p) => k.startsWith(p))) continue;
    if (k.includes('_bucket{') || k.includes('_sum{') || k.includes('_count{')) continue;
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out[k] = Math.round(d * 1000) / 1000;
  }
  return out;
}

/** Sum of the series of one metric whose labels contain `label` (e.g. 'protocol="watch"'). */
export function metricSum(m: Record<string, number> | Map<string, number>, name: string, label = ''): number {
  const entries = m instanceof Map ? [...m.entries()] : Object.entries(m);
  return entries.filter(([k]) => (k === name || k.startsWith(`${name}{`)) && k.includes(label)).reduce((a, [, v]) => a + v, 0);
}
