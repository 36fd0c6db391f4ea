/**
 * A TCP server for one stream protocol (watch, GT06). Bytes → protocol framer → decoder → pipeline;
 * the device's reply is written only after the pipeline has handled the frame (alarm committed).
 * Nothing a device sends can throw out of here: every failure is counted and, if repeated, closes the link.
 *
 * Per connection there is one Link object and nothing else of ours: the socket's listeners are shared
 * module-level functions (the emitter is `this`), and idle links are found by one sweep instead of a timer per
 * socket. Idle watches are most of a centre's connections; this kept ours to a few hundred bytes of the
 * ~7 KB a connection costs (the rest is Node's socket and the kernel's buffers).
 *
 * Slots are defended against clients that never identify (issue 15): a connection must send a frame from a
 * registered device within `firstFrameTimeoutS`; at most `maxUnidentifiedPerAddress` connections of one IP
 * address may be unidentified at once; a partial frame must complete within `partialFrameTimeoutS`; and at
 * the connection cap the oldest unidentified connection is evicted to admit a new one, so a registered
 * device is refused only when every slot holds an identified device. Who holds a device's session (and so
 * its commands) is decided by sessions.ts (clone detection).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { DeviceMessage, FrameEvent, Framer, StreamProtocol } from '../../protocols/message.js';
import type { Logger } from '../log.js';
import { hotCounter, hotCounters, type Metrics } from '../metrics.js';
import type { HandleResult } from '../pipeline.js';
import type { Device } from '../store/devices.js';
import { AddressCounter, addressKey } from './address-limit.js';
import { LISTEN_BACKLOG } from './listen.js';
import { SessionTable, type SessionVerdict } from './sessions.js';

export interface TcpOptions {
  host: string;
  port: number;
  idleTimeoutS: number;
  maxConnections: number;
  badFrameLimit: number;
  /** close a connection that has sent no frame from a registered device this long after connecting; unset = never */
  firstFrameTimeoutS?: number;
  /** close a connection holding part of a frame this long without a frame completing; unset = never */
  partialFrameTimeoutS?: number;
  /** most unidentified connections from one IP address; unset = no limit */
  maxUnidentifiedPerAddress?: number;
}

/** The pipeline's answer, plus (from the gateway process, for a worker) whether the link holds the session. */
export type TcpHandleResult = HandleResult & { session?: SessionVerdict };

export interface TcpHandlers {
  /** `conn` numbers the connection within this transport (workers pass it to the gateway process) */
  handle(msgs: DeviceMessage[], remote: string, conn: number): Promise<TcpHandleResult>;
  /** more frames came from a device whose earlier ones still wait: they should not wait behind other devices' */
  expedite?(identifier: string): void;
  /** the connection now holds the device's session: queued commands go to it */
  online?(device: Device, link: DeviceLink): void;
  offline?(device: Device, link: DeviceLink): void;
  /** two live connections from different addresses claim one device (once per episode) */
  clone?(device: Device, holder: { remote: string }, suspect: { remote: string }): void;
  /**
   * Set in worker processes: the gateway process decides who holds sessions (`session` in the handle result)
   * and is told here when a connection that had been identified is gone (after its last frame was answered).
   */
  identifiedGone?(conn: number, device: Device): void;
}

/** A watch server as the rest of the gateway sees it: in-process (TcpTransport) or in worker processes. */
export interface DeviceServer {
  readonly port: number;
  readonly connectionCount: number;
  /** the connection cap in force (WATCH_MAX_CONNECTIONS, lowered to fit the open-files limit) */
  readonly capacity: number;
  /** connections that have not sent a frame from a registered device yet */
  readonly unidentifiedCount: number;
  readonly sessions: { get(identifier: string): DeviceLink | undefined; has(identifier: string): boolean };
  /**
   * Scale-out handover (issue 24): the device is on another node now. Closes its connection here without dropping
   * the frames already read, and resolves once they are handled (those of a connection closed just before too).
   * In-process servers only: a worker pool has none (its frames are not waited for).
   */
  release?(identifier: string, reason: string): Promise<void>;
  /** The frames of the device's closed connections still being handled here, if any (scale-out: see release). */
  settling?(identifier: string): Promise<void> | undefined;
  /**
   * Scale-out (set by the cluster part): asked before a frame of a connection that does not hold the device's
   * session is handled; undefined (no other node holds the device: no wait) or the handover to wait for.
   */
  gate?: (identifier: string) => Promise<void> | undefined;
  start(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

/** What the rest of the gateway may do with a device's live connection (commands). */
export interface DeviceLink {
  /** the last frame from the device, for protocols whose replies/commands echo header fields */
  readonly lastFrame?: Buffer;
  /** false once the connection is gone */
  readonly open: boolean;
  write(bytes: Buffer): boolean;
}

export interface Connection extends DeviceLink {
  socket: Socket;
  device?: Device;
}

const LINK = Symbol('anxin.link');
type LinkedSocket = Socket & { [LINK]?: Link };

class Link implements Connection {
  /** set by the first frame the pipeline accepted: the connection is identified */
  device?: Device;
  /** holds the device's session (commands go here) */
  bound = false;
  lastFrame?: Buffer;
  bad = 0;
  closing = false;
  /** closed for a handover: the frames already read are still handled (not dropped) */
  finishing = false;
  /** the socket's close was seen */
  dead = false;
  /** frames of this link waiting for the pipeline */
  busy = 0;
  lastActivity: number;
  readonly acceptedAt: number;
  /** since when bytes of an incomplete frame have waited (0 = none) */
  partialSince = 0;
  chain: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: Socket,
    readonly framer: Framer,
    readonly t: TcpTransport,
    readonly id: number,
    /** the peer's IP address */
    readonly address: string,
  ) {
    this.lastActivity = this.acceptedAt = Date.now();
  }

  get open(): boolean {
    return !this.socket.destroyed;
  }

  private remoteText?: string;
  /** the peer as `address:port`, built once (it goes with every frame to the pipeline) */
  get remote(): string {
    return (this.remoteText ??= `${this.socket.remoteAddress}:${this.socket.remotePort}`);
  }

  write(bytes: Buffer): boolean {
    return !this.socket.destroyed && this.socket.write(bytes);
  }

  close(reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.t.closed(reason, this);
    this.socket.destroy();
  }

  badFrame(reason: string): void {
    this.t.badFrame(reason);
    if (++this.bad >= this.t.badFrameLimit) this.close('bad_frames');
  }
}

// Shared listeners: `this` is the socket.
function onData(this: LinkedSocket, chunk: Buffer): void {
  const link = this[LINK]!;
  const now = (link.lastActivity = Date.now());
  link.t.bytesIn.inc(chunk.length);
  let events: FrameEvent[];
  try {
    events = link.framer.push(chunk);
  } catch (e) {
    link.t.framerThrew(e);
    return link.close('framer_error');
  }
  // a partial frame's clock starts when its first bytes wait and again after each frame (or discard)
  if (link.framer.buffered === 0) link.partialSince = 0;
  else if (events.length > 0 || link.partialSince === 0) link.partialSince = now;
  if (events.length === 0) return;
  // The device sent more while its earlier frames wait (in the pipeline's routine lane): they run now, so what it
  // just sent, an alarm perhaps, is not held behind other devices' reports (issue 25).
  if (link.busy > 0 && link.device) link.t.expedite(link.device.identifier);
  // Frames of one connection are handled strictly in order, so replies keep the device's order; one link
  // of the chain per read, not per frame.
  link.chain = link.chain.then(() => link.t.frames(link, events));
}
function onError(): void {}
function onClose(this: LinkedSocket): void {
  this[LINK]!.t.gone(this[LINK]!);
}

export class TcpTransport implements DeviceServer {
  private server?: Server;
  private conns = new Set<Link>();
  /** connections not identified yet, oldest first (insertion order) */
  private unidentified = new Set<Link>();
  private perAddress: AddressCounter;
  /** links closed by us whose socket has not reported 'close' yet */
  private closing = 0;
  private nextId = 0;
  private sweeper?: NodeJS.Timeout;
  /** device identifier → the connection holding its session */
  readonly sessions = new Map<string, Connection>();
  gate?: (identifier: string) => Promise<void> | undefined;
  /** device identifier → the frames of its closed connections still being handled (until they are) */
  private readonly unsettled = new Map<string, Promise<void>>();
  /** in-process: who holds each device's session; in a worker the gateway process decides */
  private readonly table?: SessionTable<Link>;
  port = 0;
  private readonly framesCounter;
  /** @internal bytes read from device connections */
  readonly bytesIn: { inc(n?: number): void };
  private readonly framesDroppedCounter;
  private readonly discarded: (reason: string) => { inc(n?: number): void };

  constructor(
    private readonly proto: StreamProtocol,
    private readonly o: TcpOptions,
    private readonly h: TcpHandlers,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.framesCounter = hotCounter(metrics.frames, { protocol: proto.name });
    this.bytesIn = hotCounter(metrics.bytesReceived, { protocol: proto.name });
    this.framesDroppedCounter = hotCounter(metrics.framesDropped, { protocol: proto.name });
    const byReason = hotCounters(metrics.bytesDiscarded, ['protocol', 'reason']);
    this.discarded = (reason) => byReason(proto.name, reason);
    this.perAddress = new AddressCounter(o.maxUnidentifiedPerAddress ?? Number.POSITIVE_INFINITY);
    if (!h.identifiedGone) {
      this.table = new SessionTable<Link>({
        online: (device, link) => {
          link.bound = true;
          this.sessions.set(device.identifier, link);
          this.h.online?.(device, link);
        },
        offline: (device, link) => {
          link.bound = false;
          if (this.sessions.get(device.identifier) === link) this.sessions.delete(device.identifier);
          this.h.offline?.(device, link);
        },
        replaced: (old, device) => {
          old.bound = false;
          if (this.sessions.get(device.identifier) === old) this.sessions.delete(device.identifier);
          old.close('replaced');
        },
        clone: (device, holder, suspect) => {
          this.metrics.deviceClones.inc({ protocol: this.proto.name });
          this.log.warn({ identifier: device.identifier, holder: holder.remote, suspect: suspect.remote }, 'device clone suspected: a second live connection from another address claims this device; the first keeps the session');
          this.h.clone?.(device, holder, suspect);
        },
      });
    }
  }

  get badFrameLimit(): number {
    return this.o.badFrameLimit;
  }

  get capacity(): number {
    return this.o.maxConnections;
  }

  get unidentifiedCount(): number {
    return this.unidentified.size;
  }

  async start(): Promise<void> {
    this.server = createServer((s) => this.accept(s));
    await new Promise<void>((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen({ port: this.o.port, host: this.o.host, backlog: LISTEN_BACKLOG }, () => res());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : this.o.port;
    // idle, unidentified and stalled links: one sweep a few times per shortest timeout instead of a re-armed
    // timer per socket
    const shortest = Math.min(this.o.idleTimeoutS, this.o.firstFrameTimeoutS ?? Infinity, this.o.partialFrameTimeoutS ?? Infinity) * 1000;
    this.sweeper = setInterval(() => this.sweep(), Math.min(10_000, Math.max(50, shortest / 4)));
    this.sweeper.unref();
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  private sweep(): void {
    const now = Date.now();
    const idleBefore = now - this.o.idleTimeoutS * 1000;
    const partialBefore = this.o.partialFrameTimeoutS === undefined ? -Infinity : now - this.o.partialFrameTimeoutS * 1000;
    for (const link of this.conns) {
      if (link.lastActivity <= idleBefore) link.close('idle');
      else if (link.partialSince !== 0 && link.partialSince <= partialBefore) link.close('partial_frame_timeout');
    }
    if (this.o.firstFrameTimeoutS !== undefined) {
      const firstBefore = now - this.o.firstFrameTimeoutS * 1000;
      for (const link of this.unidentified) {
        if (link.acceptedAt > firstBefore) break; // oldest first: the rest are younger
        if (link.busy === 0) link.close('first_frame_timeout'); // a frame in the pipeline is waited for
      }
    }
    this.metrics.unidentified.set({ protocol: this.proto.name }, this.unidentified.size);
  }

  /** Closes the oldest unidentified connection that has no frame in the pipeline; false if there is none. */
  private evictOne(): boolean {
    for (const link of this.unidentified) {
      if (link.busy === 0) {
        link.close('evicted');
        return true;
      }
    }
    return false;
  }

  private accept(socket: Socket): void {
    const address = addressKey(socket.remoteAddress);
    if (!this.perAddress.allows(address)) {
      this.metrics.refused.inc({ protocol: this.proto.name, reason: 'unidentified_per_address' });
      socket.destroy();
      return;
    }
    // at the cap, a connection that has not identified makes room before a newcomer is refused
    if (this.conns.size - this.closing >= this.o.maxConnections && !this.evictOne()) {
      this.metrics.refused.inc({ protocol: this.proto.name, reason: 'max_connections' });
      socket.destroy();
      return;
    }
    const link = new Link(socket, this.proto.createFramer(), this, ++this.nextId, address);
    (socket as LinkedSocket)[LINK] = link;
    this.conns.add(link);
    this.unidentified.add(link);
    this.perAddress.add(address);
    this.metrics.connections.inc({ protocol: this.proto.name });
    socket.setNoDelay(true);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  /** @internal the frames of one read, in order */
  async frames(link: Link, events: FrameEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (link.closing && !link.finishing) return this.dropped(events, i);
      if ('error' in ev) {
        this.discarded(ev.error).inc(ev.discarded);
        link.badFrame(ev.error);
        continue;
      }
      try {
        await this.frame(link, ev.frame);
      } catch (e) {
        this.metrics.processErrors.inc({ stage: 'transport' });
        this.log.error({ err: e, protocol: this.proto.name }, 'frame handling failed');
      }
    }
  }

  private async frame(link: Link, frame: Buffer): Promise<void> {
    this.framesCounter.inc();
    // the identified device goes along: GT06 frames after login carry no identity (protocols.md §2.2)
    const out = this.proto.decode(frame, { receivedAt: new Date(), device: link.device });
    if (!out.ok) return link.badFrame(out.reason);
    if (out.messages.length === 0) return;
    const claimed = out.messages[0]!.deviceId;
    if (link.device && claimed !== link.device.identifier) return link.badFrame('device_mismatch');
    let r: TcpHandleResult;
    link.busy++;
    try {
      // Scale-out: the first frames of a connection wait while another node that holds the device hands it over,
      // so its frames stay in order. Not those of a holder (it asked, or was asked, already) nor of a connection
      // being closed (they are the old holder's backlog, which the new holder waits for).
      if (this.gate && !link.bound && !link.closing && !link.dead) {
        const handover = this.gate(claimed);
        if (handover) await handover;
      }
      r = await this.h.handle(out.messages, link.remote, link.id);
    } finally {
      link.busy--;
    }
    if (!r.ok) {
      if (r.reason === 'unknown_device') return link.close('unknown_device');
      return; // not committed: no reply, so the device retransmits
    }
    link.bad = 0;
    link.lastFrame = frame;
    if (!link.device) {
      link.device = r.device;
      this.identified(link);
    }
    if (this.table) {
      // a link whose close was already seen must not take a session it would never give back
      if (!link.dead) this.table.report(link, r.device, link.remote, link.address);
    } else if (r.session === 'bound' && !link.bound) {
      link.bound = true;
      this.sessions.set(r.device.identifier, link);
    } else if (r.session === 'contender' && link.bound) {
      link.bound = false;
      if (this.sessions.get(r.device.identifier) === link) this.sessions.delete(r.device.identifier);
    }
    if (out.reply) link.write(out.reply);
  }

  /** Events of a read that came after the link began closing: counted, not handled (every byte read is accounted for). */
  private dropped(events: FrameEvent[], from: number): void {
    for (let i = from; i < events.length; i++) {
      const ev = events[i]!;
      if ('error' in ev) {
        this.discarded(ev.error).inc(ev.discarded);
        this.badFrame(ev.error);
      } else this.framesDroppedCounter.inc();
    }
  }

  /** The link is no longer unidentified. */
  private identified(link: Link): void {
    if (this.unidentified.delete(link)) this.perAddress.remove(link.address);
  }

  /** Worker: the gateway process took the session from this link (the device reconnected elsewhere). */
  drop(conn: number, identifier: string): void {
    const link = this.sessions.get(identifier) as Link | undefined;
    if (!link || link.id !== conn) return;
    link.bound = false;
    this.sessions.delete(identifier);
    link.close('replaced');
  }

  async release(identifier: string, reason: string): Promise<void> {
    const link = this.sessions.get(identifier) as Link | undefined;
    if (link) {
      link.finishing = true;
      link.close(reason);
    }
    await Promise.all([link?.chain, this.unsettled.get(identifier)]);
  }

  settling(identifier: string): Promise<void> | undefined {
    return this.unsettled.get(identifier);
  }

  /** Notes the frames a closed link of the device still has to handle, until they are. */
  private settle(identifier: string, chain: Promise<void>): void {
    const before = this.unsettled.get(identifier);
    const done = () => {
      if (this.unsettled.get(identifier) === all) this.unsettled.delete(identifier);
    };
    const all: Promise<void> = (before ? Promise.all([before, chain]) : chain).then(done, done);
    this.unsettled.set(identifier, all);
  }

  /** @internal */
  closed(reason: string, link: Link): void {
    this.closing++;
    this.identified(link); // its slot in the per-address count is free at once
    this.metrics.closed.inc({ protocol: this.proto.name, reason });
  }

  /** @internal */
  expedite(identifier: string): void {
    this.h.expedite?.(identifier);
  }

  /** @internal */
  badFrame(reason: string): void {
    this.metrics.badFrames.inc({ protocol: this.proto.name, reason });
  }

  /** @internal */
  framerThrew(e: unknown): void {
    this.log.error({ err: e, protocol: this.proto.name }, 'framer threw');
  }

  /** @internal the socket closed */
  gone(link: Link): void {
    if (!this.conns.delete(link)) return;
    link.dead = true;
    if (link.closing) this.closing--;
    this.identified(link);
    // the part of a frame it was sending: read, never framed
    if (link.framer.buffered > 0) this.discarded('partial_at_close').inc(link.framer.buffered);
    this.metrics.connections.dec({ protocol: this.proto.name });
    const d = link.device;
    if (!d) return;
    if (this.table) {
      this.settle(d.identifier, link.chain); // before `offline`: a handover waits for these frames too
      return this.table.closed(link);
    }
    if (link.bound && this.sessions.get(d.identifier) === link) this.sessions.delete(d.identifier);
    // after the link's last frame was answered, so the gateway process never sees a frame after this
    const h = this.h;
    void link.chain.then(() => h.identifiedGone?.(link.id, d));
  }

  /** Stop accepting; existing connections are closed after `graceMs`. */
  async stop(graceMs = 1000): Promise<void> {
    if (!this.server) return;
    clearInterval(this.sweeper);
    const closed = new Promise<void>((r) => this.server!.close(() => r()));
    const t = setTimeout(() => {
      for (const l of this.conns) l.socket.destroy();
    }, graceMs);
    for (const l of this.conns) l.socket.end();
    await closed;
    clearTimeout(t);
  }
}
