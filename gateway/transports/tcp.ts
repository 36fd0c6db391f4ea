/**
 * A TCP server for one stream protocol (watch, GT06). Bytes → protocol framer → decoder → pipeline;
 * the device's reply is written only after the pipeline has handled the frame (alarm committed).
 * Nothing a device sends can throw out of here: every failure is counted and, if repeated, closes the link.
 *
 * Per connection there is one Link object and nothing else of ours: the socket's listeners are shared
 * module-level functions (the emitter is `this`), and idle links are found by one sweep instead of a timer per
 * socket. Idle watches are most of a centre's connections; this kept ours to a few hundred bytes of the
 * ~7 KB a connection costs (the rest is Node's socket and the kernel's buffers).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { DeviceMessage, FrameEvent, Framer, ProtocolModule } from '../../protocols/message.js';
import type { Logger } from '../log.js';
import { hotCounter, type Metrics } from '../metrics.js';
import type { HandleResult } from '../pipeline.js';
import type { Device } from '../store/devices.js';

export interface TcpOptions {
  host: string;
  port: number;
  idleTimeoutS: number;
  maxConnections: number;
  badFrameLimit: number;
}

export interface TcpHandlers {
  handle(msgs: DeviceMessage[], remote: string): Promise<HandleResult>;
  /** first valid frame on a connection bound it to a device */
  online?(device: Device, link: DeviceLink): void;
  offline?(device: Device, link: DeviceLink): void;
}

/** A watch server as the rest of the gateway sees it: in-process (TcpTransport) or in worker processes. */
export interface DeviceServer {
  readonly port: number;
  readonly connectionCount: number;
  readonly sessions: { get(identifier: string): DeviceLink | undefined; has(identifier: string): boolean };
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
  device?: Device;
  lastFrame?: Buffer;
  bad = 0;
  closing = false;
  lastActivity: number;
  chain: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: Socket,
    readonly framer: Framer,
    readonly t: TcpTransport,
  ) {
    this.lastActivity = Date.now();
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
    this.t.closed(reason);
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
  link.lastActivity = Date.now();
  let events: FrameEvent[];
  try {
    events = link.framer.push(chunk);
  } catch (e) {
    link.t.framerThrew(e);
    return link.close('framer_error');
  }
  if (events.length === 0) return;
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
  private sweeper?: NodeJS.Timeout;
  /** device identifier → its live connection */
  readonly sessions = new Map<string, Connection>();
  port = 0;
  private readonly framesCounter;

  constructor(
    private readonly proto: ProtocolModule,
    private readonly o: TcpOptions,
    private readonly h: TcpHandlers,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.framesCounter = hotCounter(metrics.frames, { protocol: proto.name });
  }

  get badFrameLimit(): number {
    return this.o.badFrameLimit;
  }

  async start(): Promise<void> {
    this.server = createServer((s) => this.accept(s));
    await new Promise<void>((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(this.o.port, this.o.host, () => res());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : this.o.port;
    // idle links: one sweep a few times per timeout period instead of a re-armed timer per socket
    const idleMs = this.o.idleTimeoutS * 1000;
    this.sweeper = setInterval(() => this.sweep(idleMs), Math.min(10_000, Math.max(50, idleMs / 4)));
    this.sweeper.unref();
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  private sweep(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const link of this.conns) if (link.lastActivity <= before) link.close('idle');
  }

  private accept(socket: Socket): void {
    if (this.conns.size >= this.o.maxConnections) {
      this.metrics.refused.inc({ protocol: this.proto.name, reason: 'max_connections' });
      socket.destroy();
      return;
    }
    const link = new Link(socket, this.proto.createFramer(), this);
    (socket as LinkedSocket)[LINK] = link;
    this.conns.add(link);
    this.metrics.connections.inc({ protocol: this.proto.name });
    socket.setNoDelay(true);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  /** @internal the frames of one read, in order */
  async frames(link: Link, events: FrameEvent[]): Promise<void> {
    for (const ev of events) {
      if (link.closing) return;
      if ('error' in ev) {
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
    const out = this.proto.decode(frame, { receivedAt: new Date() });
    if (!out.ok) return link.badFrame(out.reason);
    if (out.messages.length === 0) return;
    const claimed = out.messages[0]!.deviceId;
    if (link.device && claimed !== link.device.identifier) return link.badFrame('device_mismatch');
    const r = await this.h.handle(out.messages, link.remote);
    if (!r.ok) {
      if (r.reason === 'unknown_device') return link.close('unknown_device');
      return; // not committed: no reply, so the device retransmits
    }
    link.bad = 0;
    link.lastFrame = frame;
    if (!link.device) {
      link.device = r.device;
      const prev = this.sessions.get(r.device.identifier);
      if (prev && prev.socket !== link.socket) prev.socket.destroy();
      this.sessions.set(r.device.identifier, link);
      this.h.online?.(r.device, link);
    }
    if (out.reply) link.write(out.reply);
  }

  /** @internal */
  closed(reason: string): void {
    this.metrics.closed.inc({ protocol: this.proto.name, reason });
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
    this.metrics.connections.dec({ protocol: this.proto.name });
    const d = link.device;
    if (d && this.sessions.get(d.identifier) === link) {
      this.sessions.delete(d.identifier);
      this.h.offline?.(d, link);
    }
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
