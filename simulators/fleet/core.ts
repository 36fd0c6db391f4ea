/**
 * One process's share of a simulated fleet: many devices (watches over TCP, mqtt-json devices over MQTT)
 * with lean per-device state, so one process can hold tens of thousands of connections.
 *
 * - Per device: its socket, a state byte and a few numbers in typed arrays. No timer and no object per
 *   device: one tick walks the schedules, so device i sends its LK every 5 min at its own phase.
 * - Schedules (LK / heartbeat, UD / position, health) are spread evenly over their period; a rate sender adds
 *   a fixed number of messages per second round-robin over the ready devices (bursts).
 * - Alarms: `alarm(i)` sends one alarm frame and records when it was sent and when the device received its
 *   acknowledgement (watch `AL` reply; mqtt-json ack on anxin/down/{id}/ack). Unacknowledged alarms are resent
 *   every alarmRetryMs, like real devices.
 * - Logins: a watch is ready when its first LK is answered; an MQTT device when its SUBACK arrives.
 * Times are epoch milliseconds with sub-millisecond resolution (performance.timeOrigin + performance.now()).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MQTT, WATCH_STATUS, positionOf, watchFrame, watchHealth, watchLK, watchReport } from './facts.js';
import { DISCONNECT, PACKET, PacketReader, connectPacket, parsePublish, pubackPacket, publishPacket, subscribePacket, type Incoming } from './mqtt-wire.js';

export const now = (): number => performance.timeOrigin + performance.now();

export type FleetProtocol = 'watch' | 'mqtt';

export interface DeviceGroup {
  protocol: FleetProtocol;
  ids: string[];
  /** MQTT secret (the same for the whole group) */
  secret?: string;
}

export interface Endpoint {
  host: string;
  port: number;
}

export type ScheduleKind = 'lk' | 'ud' | 'health';

export interface Schedule {
  kind: ScheduleKind;
  periodMs: number;
  /** share of the devices that follow it, 0..1 (a stable subset) */
  share: number;
}

export interface FleetCoreOptions {
  watch?: Endpoint;
  mqtt?: Endpoint;
  devices: DeviceGroup[];
  /**
   * source addresses (127.0.0.2, …), device i connecting from the (i mod n)-th: each address has its own ephemeral
   * ports, and past about 7,000 connections on one address the kernel's search for a free port in bind() costs
   * ~1 ms of system time per connection (30× the rest), which had made the load generator, not the gateway, the
   * limit of the idle scenario past 100,000 connections
   */
  localAddresses?: string[];
  /** default 10000 (watches resend an unacknowledged AL every 10 s) */
  alarmRetryMs?: number;
  /** default 600 */
  mqttKeepaliveS?: number;
  /** reconnect after the server closes a connection, after a random delay in [minMs, maxMs]; default off */
  reconnect?: { minMs: number; maxMs: number };
  /** default 50 */
  tickMs?: number;
}

export interface AlarmRecord {
  device: string;
  protocol: FleetProtocol;
  kind: string;
  /** the alarm frame was written to the socket */
  sentAt: number;
  /** the device received its acknowledgement (watch AL reply; mqtt-json ack message) */
  ackAt?: number;
  /** MQTT only: the QoS 1 PUBACK of the alarm publish */
  pubackAt?: number;
  attempts: number;
}

export interface FleetStats {
  devices: number;
  ready: number;
  open: number;
  connecting: number;
  connects: number;
  /** attempts made again after failing before login */
  connectRetries: number;
  logins: number;
  connectErrors: Record<string, number>;
  closedByServer: number;
  sent: Record<string, number>;
  replies: Record<string, number>;
  alarmsSent: number;
  alarmsAcked: number;
  alarmsPending: number;
  protocolErrors: number;
}

const DOWN = 0;
const CONNECTING = 1;
const OPEN = 2;
const READY = 3;

interface Pending {
  rec: AlarmRecord;
  bytes: Buffer;
  last: number;
  packetId: number;
  msgId: string;
  resolve?: (r: AlarmRecord) => void;
}

/** Bounded sample store (reservoir sampling past the bound), for latency percentiles. */
export class Samples {
  readonly values: number[] = [];
  private seen = 0;
  constructor(private readonly cap = 200_000) {}
  add(v: number): void {
    this.seen++;
    if (this.values.length < this.cap) this.values.push(v);
    else {
      const k = Math.floor(Math.random() * this.seen);
      if (k < this.cap) this.values[k] = v;
    }
  }
  take(): number[] {
    const out = this.values.splice(0);
    this.seen = 0;
    return out;
  }
}

/** A stable pseudo-random fraction per device index, to pick schedule subsets. */
const frac = (i: number, salt: number): number => ((Math.imul(i + 1, 2654435761) ^ Math.imul(salt, 40503)) >>> 8) / 16_777_216;

export class FleetCore {
  readonly n: number;
  private readonly ids: string[] = [];
  private readonly proto: Uint8Array;
  private readonly secret: (string | undefined)[] = [];
  private readonly socks: (Socket | undefined)[];
  private readonly state: Uint8Array;
  private readonly packetId: Uint16Array;
  private readonly steps: Uint32Array;
  /** when the pending LK (or MQTT CONNECT) was sent, 0 = none */
  private readonly lkAt: Float64Array;
  /** when the current connection attempt started */
  private readonly connAt: Float64Array;
  /** closed by us on purpose: no reconnect, not counted as a server close */
  private readonly leaving: Uint8Array;
  /** a connection attempt not yet settled (ready, or closed), counted in connectingNow */
  private readonly unsettled: Uint8Array;
  private readonly alarmed: Uint8Array;
  private readonly tried: Uint8Array;
  private alarmCursor = 0;
  private readonly partial = new Map<number, string>();
  private readonly readers = new Map<number, PacketReader>();
  private readonly pending = new Map<number, Pending>();
  private readonly records: AlarmRecord[] = [];
  readonly lkLatency = new Samples();
  /** connect → ready (LK answered; MQTT SUBACK), per protocol */
  readonly loginLatency = { watch: new Samples(), mqtt: new Samples() };
  private schedules: { s: Schedule; eligible: Int32Array; cursor: number }[] = [];
  private rate: { kind: ScheduleKind; perS: number; cursor: number; carry: number } | null = null;
  private connectQueue: number[] = [];
  private connectQueueHead = 0;
  private connectRate = { perS: 1000, maxPending: 500, carry: 0 };
  private connectingNow = 0;
  private reconnects: { at: number; i: number }[] = [];
  /** attempts that failed before login, tried again (like a watch) until the running connect() call's deadline */
  private retries: { at: number; i: number }[] = [];
  private connectUntil = 0;
  private storm: { start: number; at: Float64Array; order: Int32Array; next: number } | null = null;
  private timer: NodeJS.Timeout;
  private lastTick = now();
  private alarmSeq = 0;
  private stopped = false;
  private readonly st: FleetStats;
  private readonly o: Required<Pick<FleetCoreOptions, 'alarmRetryMs' | 'mqttKeepaliveS' | 'tickMs'>> & FleetCoreOptions;

  constructor(o: FleetCoreOptions) {
    this.o = { alarmRetryMs: 10_000, mqttKeepaliveS: 600, tickMs: 50, ...o };
    for (const g of o.devices) {
      for (const id of g.ids) {
        this.ids.push(id);
        this.secret.push(g.secret);
      }
    }
    this.n = this.ids.length;
    this.proto = new Uint8Array(this.n);
    let k = 0;
    for (const g of o.devices) for (let j = 0; j < g.ids.length; j++) this.proto[k++] = g.protocol === 'mqtt' ? 1 : 0;
    this.socks = new Array(this.n);
    this.state = new Uint8Array(this.n);
    this.packetId = new Uint16Array(this.n);
    this.steps = new Uint32Array(this.n);
    this.lkAt = new Float64Array(this.n);
    this.connAt = new Float64Array(this.n);
    this.leaving = new Uint8Array(this.n);
    this.unsettled = new Uint8Array(this.n);
    this.alarmed = new Uint8Array(this.n);
    this.tried = new Uint8Array(this.n);
    this.st = {
      devices: this.n, ready: 0, open: 0, connecting: 0, connects: 0, connectRetries: 0, logins: 0, connectErrors: {}, closedByServer: 0,
      sent: {}, replies: {}, alarmsSent: 0, alarmsAcked: 0, alarmsPending: 0, protocolErrors: 0,
    };
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
  }

  protocolOf(i: number): FleetProtocol {
    return this.proto[i] === 1 ? 'mqtt' : 'watch';
  }

  idOf(i: number): string {
    return this.ids[i]!;
  }

  isReady(i: number): boolean {
    return this.state[i] === READY;
  }

  hasPendingAlarm(i: number): boolean {
    return this.pending.has(i);
  }

  /**
   * The next ready device (of that protocol) with no alarm pending and, while there are such, none raised
   * before: a second alarm of the same kind on a device is folded into its open alarm (no new screen-pop).
   */
  pickForAlarm(protocol?: FleetProtocol): number | undefined {
    for (const fresh of [true, false]) {
      for (let k = 0; k < this.n; k++) {
        const i = (this.alarmCursor + k) % this.n;
        if (this.state[i] !== READY || this.pending.has(i) || (fresh && this.alarmed[i])) continue;
        if (protocol && this.protocolOf(i) !== protocol) continue;
        this.alarmCursor = i + 1;
        return i;
      }
    }
    return undefined;
  }

  // ---- connecting ----

  /**
   * Queues connections for these devices (default: all that are down), started at `perS` per second with at
   * most `maxPending` unsettled at once (so the server's listen backlog is not overrun). Resolves when every
   * queued device is ready or has failed, or after timeoutMs.
   */
  connect(o: { indices?: number[]; perS?: number; maxPending?: number; timeoutMs?: number; limit?: number } = {}): Promise<{ ready: number; failed: number }> {
    // by default every device never tried yet, then (limit unset) the ones that are down again
    let list = o.indices ?? [...Array(this.n).keys()].filter((i) => this.state[i] === DOWN && !this.tried[i]);
    if (!o.indices && o.limit === undefined) list = [...Array(this.n).keys()].filter((i) => this.state[i] === DOWN);
    if (o.limit !== undefined) list = list.slice(0, o.limit);
    for (const i of list) this.tried[i] = 1;
    this.connectQueue.push(...list);
    this.connectRate.perS = o.perS ?? 1000;
    this.connectRate.maxPending = o.maxPending ?? 500;
    const deadline = now() + (o.timeoutMs ?? 120_000);
    this.connectUntil = deadline;
    return new Promise((resolve) => {
      const check = setInterval(() => {
        const queued = this.connectQueue.length - this.connectQueueHead + this.retries.length;
        if ((queued === 0 && this.connectingNow === 0) || now() > deadline || this.stopped) {
          this.connectUntil = 0;
          clearInterval(check);
          let ready = 0;
          for (const i of list) if (this.state[i] === READY) ready++;
          resolve({ ready, failed: list.length - ready });
        }
      }, 50);
    });
  }

  private startConnect(i: number): void {
    if (this.state[i] !== DOWN || this.stopped) return;
    const isMqtt = this.proto[i] === 1;
    const ep = isMqtt ? this.o.mqtt : this.o.watch;
    if (!ep) {
      this.bump(this.st.connectErrors, 'no_endpoint');
      return;
    }
    this.state[i] = CONNECTING;
    this.connectingNow++;
    this.unsettled[i] = 1;
    this.connAt[i] = now();
    this.leaving[i] = 0;
    const from = this.o.localAddresses?.length ? this.o.localAddresses[i % this.o.localAddresses.length] : undefined;
    const s = netConnect({ host: ep.host, port: ep.port, ...(from ? { localAddress: from } : {}) });
    this.socks[i] = s;
    s.setNoDelay(true);
    s.once('connect', () => {
      if (this.socks[i] !== s) return;
      this.st.connects++;
      this.state[i] = OPEN;
      if (isMqtt) {
        this.readers.set(i, new PacketReader());
        s.write(connectPacket({ clientId: this.ids[i]!, username: this.ids[i]!, password: this.secret[i] ?? '', keepaliveS: this.o.mqttKeepaliveS }));
      } else {
        this.sendLK(i);
      }
    });
    s.on('data', (chunk: Buffer) => (isMqtt ? this.onMqtt(i, chunk) : this.onWatch(i, chunk)));
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (this.state[i] === CONNECTING) this.bump(this.st.connectErrors, e.code ?? 'error');
    });
    s.on('close', () => {
      if (this.socks[i] !== s) return;
      this.settle(i);
      const wasUp = this.state[i] === OPEN || this.state[i] === READY;
      this.state[i] = DOWN;
      this.socks[i] = undefined;
      this.lkAt[i] = 0;
      this.partial.delete(i);
      this.readers.delete(i);
      if (!wasUp && !this.leaving[i] && now() < this.connectUntil && !this.stopped) {
        // refused, reset or timed out before login (e.g. the server's accept backlog was full): try again soon
        this.st.connectRetries++;
        this.retries.push({ at: now() + 1000 + Math.random() * 2000, i });
      }
      if (wasUp && !this.leaving[i]) {
        this.st.closedByServer++;
        const r = this.o.reconnect;
        if (r && !this.stopped) this.reconnects.push({ at: now() + r.minMs + Math.random() * (r.maxMs - r.minMs), i });
      }
    });
  }

  private becameReady(i: number): void {
    if (this.state[i] === READY) return;
    this.state[i] = READY;
    this.st.logins++;
    this.loginLatency[this.protocolOf(i)].add(now() - this.connAt[i]!);
    this.settle(i);
    // an alarm raised while the link was down goes out again at once on the new link
    const p = this.pending.get(i);
    if (p) this.resend(i, p);
  }

  /** Drops the connection and connects again at once (storm). */
  private replace(i: number): void {
    this.disconnect(i);
    this.settle(i);
    this.state[i] = DOWN;
    this.socks[i] = undefined;
    this.lkAt[i] = 0;
    this.partial.delete(i);
    this.readers.delete(i);
    this.startConnect(i);
  }

  private settle(i: number): void {
    if (!this.unsettled[i]) return;
    this.unsettled[i] = 0;
    this.connectingNow--;
  }

  /** Drops device i's connection (ours, not the server's: no reconnect). */
  disconnect(i: number): void {
    const s = this.socks[i];
    if (!s) return;
    this.leaving[i] = 1;
    if (this.proto[i] === 1 && !s.destroyed && this.state[i] === READY) s.write(DISCONNECT);
    s.destroy();
  }

  /**
   * Reconnect storm: every device (or `count` of them) drops its connection and connects again at a random
   * moment within windowMs, logging in as on a first connection.
   */
  startStorm(windowMs: number, count = this.n): void {
    const m = Math.min(count, this.n);
    const at = new Float64Array(m);
    for (let k = 0; k < m; k++) at[k] = Math.random() * windowMs;
    const order = Int32Array.from([...Array(m).keys()]).sort((a, b) => at[a]! - at[b]!);
    this.storm = { start: now(), at, order, next: 0 };
  }

  get stormDone(): boolean {
    return !this.storm;
  }

  // ---- sending ----

  setSchedules(list: Schedule[]): void {
    this.schedules = list.map((s, salt) => {
      const el: number[] = [];
      for (let i = 0; i < this.n; i++) if (frac(i, salt + 1) < s.share) el.push(i);
      return { s, eligible: Int32Array.from(el), cursor: Math.random() * el.length };
    });
  }

  /** Extra messages per second of one kind, round-robin over the ready devices; 0 stops it. */
  setRate(kind: ScheduleKind, perS: number): void {
    this.rate = perS > 0 ? { kind, perS, cursor: this.rate?.cursor ?? 0, carry: 0 } : null;
  }

  private send(i: number, kind: ScheduleKind): void {
    if (this.state[i] !== READY) return;
    const s = this.socks[i]!;
    const id = this.ids[i]!;
    const battery = 60 + (i % 40);
    this.steps[i] = this.steps[i]! + 7;
    if (this.proto[i] === 1) {
      if (kind === 'lk') this.publish(i, MQTT.up(id, 'heartbeat'), `{"battery":${battery}}`);
      else if (kind === 'ud') {
        const [lat, lon] = positionOf(i);
        this.publish(i, MQTT.up(id, 'position'), `{"position":{"lat":${lat.toFixed(6)},"lon":${lon.toFixed(6)}},"battery":${battery}}`);
      } else this.publish(i, MQTT.up(id, 'health'), `{"health":{"heartRate":${60 + (i % 30)},"spo2":${95 + (i % 4)}}}`);
      this.bump(this.st.sent, `mqtt_${kind}`);
      return;
    }
    if (kind === 'lk') return this.sendLK(i);
    if (kind === 'ud') {
      const [lat, lon] = positionOf(i);
      s.write(watchFrame(id, watchReport('UD', lat, lon, battery, this.steps[i]!, WATCH_STATUS.worn)));
    } else {
      s.write(watchHealth(id, 110 + (i % 30), 70 + (i % 15), 60 + (i % 30)));
    }
    this.bump(this.st.sent, kind);
  }

  private sendLK(i: number): void {
    const s = this.socks[i];
    if (!s || s.destroyed) return;
    s.write(watchLK(this.ids[i]!, this.steps[i]!, 60 + (i % 40)));
    if (!this.lkAt[i]) this.lkAt[i] = now();
    this.bump(this.st.sent, 'lk');
  }

  private publish(i: number, topic: string, payload: string): number {
    let id = (this.packetId[i]! + 1) & 0xffff;
    if (id === 0) id = 1;
    this.packetId[i] = id;
    this.socks[i]!.write(publishPacket(topic, payload, 1, id));
    return id;
  }

  /**
   * Raises an alarm on device i (SOS for a watch, fall for an MQTT device); resolves when the device has its
   * acknowledgement. Throws if the device is not ready or already has an alarm pending.
   */
  alarm(i: number): Promise<AlarmRecord> {
    if (this.state[i] !== READY) return Promise.reject(new Error(`device ${this.ids[i]} is not ready`));
    if (this.pending.has(i)) return Promise.reject(new Error(`device ${this.ids[i]} already has an alarm pending`));
    const id = this.ids[i]!;
    const isMqtt = this.proto[i] === 1;
    const rec: AlarmRecord = { device: id, protocol: isMqtt ? 'mqtt' : 'watch', kind: isMqtt ? 'fall' : 'sos', sentAt: 0, attempts: 0 };
    let bytes: Buffer;
    let msgId = '';
    if (isMqtt) {
      msgId = `a${++this.alarmSeq}`;
      bytes = Buffer.from(`{"msgId":"${msgId}","time":"${new Date().toISOString()}","alarms":["fall"]}`);
    } else {
      const [lat, lon] = positionOf(i);
      bytes = watchFrame(id, watchReport('AL', lat, lon, 60 + (i % 40), this.steps[i]!, WATCH_STATUS.sos));
    }
    const p: Pending = { rec, bytes, last: 0, packetId: 0, msgId };
    this.pending.set(i, p);
    this.alarmed[i] = 1;
    this.records.push(rec);
    this.st.alarmsSent++;
    this.resend(i, p);
    rec.sentAt = p.last;
    return new Promise((resolve) => (p.resolve = resolve));
  }

  private resend(i: number, p: Pending): void {
    const s = this.socks[i];
    p.last = now();
    if (!s || s.destroyed || this.state[i] !== READY) return;
    p.rec.attempts++;
    if (this.proto[i] === 1) p.packetId = this.publishRaw(i, MQTT.up(this.ids[i]!, 'alarm'), p.bytes);
    else s.write(p.bytes);
  }

  private publishRaw(i: number, topic: string, payload: Buffer): number {
    let id = (this.packetId[i]! + 1) & 0xffff;
    if (id === 0) id = 1;
    this.packetId[i] = id;
    this.socks[i]!.write(publishPacket(topic, payload, 1, id));
    return id;
  }

  private acked(i: number): void {
    const p = this.pending.get(i);
    if (!p) return;
    p.rec.ackAt = now();
    this.pending.delete(i);
    this.st.alarmsAcked++;
    p.resolve?.(p.rec);
  }

  // ---- receiving ----

  private onWatch(i: number, chunk: Buffer): void {
    let text = chunk.toString('latin1');
    const part = this.partial.get(i);
    if (part !== undefined) {
      text = part + text;
      this.partial.delete(i);
    }
    let from = 0;
    for (;;) {
      const end = text.indexOf(']', from);
      if (end < 0) break;
      const star = text.lastIndexOf('*', end);
      const kw = star >= from ? text.slice(star + 1, end) : '';
      from = end + 1;
      this.bump(this.st.replies, kw);
      if (kw === 'LK') {
        if (this.lkAt[i]) {
          this.lkLatency.add(now() - this.lkAt[i]!);
          this.lkAt[i] = 0;
        }
        if (this.state[i] === OPEN) this.becameReady(i);
      } else if (kw === 'AL') {
        this.acked(i);
      } else if (kw !== 'bphrt') {
        this.st.protocolErrors++;
      }
    }
    if (from < text.length) {
      const rest = text.slice(from);
      if (rest.includes('[')) this.partial.set(i, rest.slice(rest.indexOf('[')));
    }
  }

  private onMqtt(i: number, chunk: Buffer): void {
    const r = this.readers.get(i);
    if (!r) return;
    const err = r.push(chunk, (p) => this.onPacket(i, p));
    if (err) {
      this.st.protocolErrors++;
      this.socks[i]?.destroy();
    }
  }

  private onPacket(i: number, p: Incoming): void {
    const s = this.socks[i];
    switch (p.type) {
      case PACKET.CONNACK: {
        const rc = p.body[1] ?? 255;
        this.bump(this.st.replies, `connack_${rc}`);
        if (rc !== 0) {
          this.bump(this.st.connectErrors, `connack_${rc}`);
          return;
        }
        s?.write(subscribePacket(1, MQTT.down(this.ids[i]!), 1));
        return;
      }
      case PACKET.SUBACK:
        this.bump(this.st.replies, 'suback');
        if ((p.body[2] ?? 0x80) === 0x80) this.st.protocolErrors++;
        this.becameReady(i);
        return;
      case PACKET.PUBACK: {
        this.bump(this.st.replies, 'puback');
        const id = p.body.readUInt16BE(0);
        const pend = this.pending.get(i);
        if (pend && pend.packetId === id && pend.rec.pubackAt === undefined) pend.rec.pubackAt = now();
        return;
      }
      case PACKET.PUBLISH: {
        const m = parsePublish(p);
        if (m.qos === 1) s?.write(pubackPacket(m.packetId));
        if (m.topic.endsWith(MQTT.ackSuffix)) {
          this.bump(this.st.replies, 'ack');
          const pend = this.pending.get(i);
          // {"msgId":"a17","ok":true}: a match on the quoted id is enough here
          if (pend && m.payload.includes(`"${pend.msgId}"`)) this.acked(i);
        } else {
          this.bump(this.st.replies, 'error');
          this.st.protocolErrors++;
        }
        return;
      }
      case PACKET.PINGRESP:
        return;
      default:
        this.st.protocolErrors++;
    }
  }

  // ---- the tick ----

  private tick(): void {
    const t = now();
    const dt = Math.min(t - this.lastTick, 1000);
    this.lastTick = t;
    // connection starts, paced
    const cr = this.connectRate;
    cr.carry += (cr.perS * dt) / 1000;
    while (cr.carry >= 1 && this.connectQueueHead < this.connectQueue.length && this.connectingNow < cr.maxPending) {
      cr.carry--;
      this.startConnect(this.connectQueue[this.connectQueueHead++]!);
    }
    if (this.connectQueueHead >= this.connectQueue.length) {
      this.connectQueue = [];
      this.connectQueueHead = 0;
      cr.carry = Math.min(cr.carry, 1);
    }
    // failed attempts go back into the paced queue
    if (this.retries.length) {
      const due = this.retries.filter((r) => r.at <= t);
      if (due.length) {
        this.retries = this.retries.filter((r) => r.at > t);
        for (const r of due) this.connectQueue.push(r.i);
      }
    }
    // reconnects after server closes
    if (this.reconnects.length) {
      const due = this.reconnects.filter((r) => r.at <= t);
      if (due.length) {
        this.reconnects = this.reconnects.filter((r) => r.at > t);
        for (const r of due) this.startConnect(r.i);
      }
    }
    // reconnect storm
    const st = this.storm;
    if (st) {
      const elapsed = t - st.start;
      while (st.next < st.order.length && st.at[st.order[st.next]!]! <= elapsed) {
        const i = st.order[st.next++]!;
        this.replace(i);
      }
      if (st.next >= st.order.length) this.storm = null;
    }
    // schedules
    for (const sc of this.schedules) {
      const len = sc.eligible.length;
      if (!len) continue;
      const from = Math.floor(sc.cursor);
      sc.cursor += (len * dt) / sc.s.periodMs;
      const to = Math.floor(sc.cursor);
      for (let k = from; k < to; k++) this.send(sc.eligible[k % len]!, sc.s.kind);
      if (sc.cursor > len * 1e6) sc.cursor -= len * 1e6;
    }
    // rate sender
    const r = this.rate;
    if (r && this.n) {
      r.carry += (r.perS * dt) / 1000;
      let tries = 0;
      while (r.carry >= 1 && tries < this.n) {
        const i = r.cursor++ % this.n;
        tries++;
        if (this.state[i] !== READY) continue;
        this.send(i, r.kind);
        r.carry--;
        tries = 0;
      }
      if (r.carry > r.perS) r.carry = r.perS; // do not bank more than a second of backlog
      if (r.cursor > 1e15) r.cursor = 0;
    }
    // alarm resends
    for (const [i, p] of this.pending) if (t - p.last >= this.o.alarmRetryMs) this.resend(i, p);
  }

  // ---- reading out ----

  stats(): FleetStats {
    let ready = 0;
    let open = 0;
    let connecting = 0;
    for (let i = 0; i < this.n; i++) {
      const s = this.state[i];
      if (s === READY) ready++;
      else if (s === OPEN) open++;
      else if (s === CONNECTING) connecting++;
    }
    return { ...this.st, sent: { ...this.st.sent }, replies: { ...this.st.replies }, connectErrors: { ...this.st.connectErrors }, ready, open, connecting, alarmsPending: this.pending.size };
  }

  /** Every alarm raised so far (acknowledged or not); `clear` forgets them. */
  alarms(clear = false): AlarmRecord[] {
    const out = this.records.map((r) => ({ ...r }));
    if (clear) this.records.length = 0;
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.storm = null;
    this.reconnects = [];
    this.retries = [];
    for (const p of this.pending.values()) p.resolve = undefined;
    this.pending.clear();
    const closing: Promise<void>[] = [];
    for (let i = 0; i < this.n; i++) {
      const s = this.socks[i];
      if (!s || s.destroyed) continue;
      closing.push(new Promise((r) => s.once('close', () => r())));
      this.disconnect(i);
    }
    await Promise.all(closing);
  }

  private bump(o: Record<string, number>, k: string): void {
    o[k] = (o[k] ?? 0) + 1;
  }
}
