/**
 * A TCP server for one stream protocol (watch, GT06). Bytes → protocol framer → decoder → pipeline;
 * the device's reply is written only after the pipeline has handled the frame (alarm committed).
 * Nothing a device sends can throw out of here: every failure is counted and, if repeated, closes the link.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { DeviceMessage, ProtocolModule } from '../../protocols/message.js';
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
  online?(device: Device, conn: Connection): void;
  offline?(device: Device, conn: Connection): void;
}

export interface Connection {
  socket: Socket;
  device?: Device;
  /** the last frame from the device, for protocols whose replies/commands echo header fields */
  lastFrame?: Buffer;
  write(bytes: Buffer): boolean;
}

export class TcpTransport {
  private server?: Server;
  private conns = new Set<Socket>();
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

  async start(): Promise<void> {
    this.server = createServer((s) => this.accept(s));
    await new Promise<void>((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(this.o.port, this.o.host, () => res());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : this.o.port;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  private accept(socket: Socket): void {
    const protocol = this.proto.name;
    if (this.conns.size >= this.o.maxConnections) {
      this.metrics.refused.inc({ protocol, reason: 'max_connections' });
      socket.destroy();
      return;
    }
    this.conns.add(socket);
    this.metrics.connections.inc({ protocol });
    socket.setNoDelay(true);
    socket.setTimeout(this.o.idleTimeoutS * 1000);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const framer = this.proto.createFramer();
    const conn: Connection = { socket, write: (b) => !socket.destroyed && socket.write(b) };
    let bad = 0;
    let chain: Promise<void> = Promise.resolve();
    let closing = false;

    const close = (reason: string) => {
      if (closing) return;
      closing = true;
      this.metrics.closed.inc({ protocol, reason });
      socket.destroy();
    };
    const badFrame = (reason: string) => {
      this.metrics.badFrames.inc({ protocol, reason });
      if (++bad >= this.o.badFrameLimit) close('bad_frames');
    };

    const onFrame = async (frame: Buffer) => {
      this.framesCounter.inc();
      const out = this.proto.decode(frame, { receivedAt: new Date() });
      if (!out.ok) return badFrame(out.reason);
      if (out.messages.length === 0) return;
      const claimed = out.messages[0]!.deviceId;
      if (conn.device && claimed !== conn.device.identifier) return badFrame('device_mismatch');
      const r = await this.h.handle(out.messages, remote);
      if (!r.ok) {
        if (r.reason === 'unknown_device') return close('unknown_device');
        return; // not committed: no reply, so the device retransmits
      }
      bad = 0;
      conn.lastFrame = frame;
      if (!conn.device) {
        conn.device = r.device;
        const prev = this.sessions.get(r.device.identifier);
        if (prev && prev.socket !== socket) prev.socket.destroy();
        this.sessions.set(r.device.identifier, conn);
        this.h.online?.(r.device, conn);
      }
      if (out.reply) conn.write(out.reply);
    };

    const onFrames = async (events: ReturnType<typeof framer.push>) => {
      for (const ev of events) {
        if (closing) return;
        if ('error' in ev) {
          badFrame(ev.error);
          continue;
        }
        try {
          await onFrame(ev.frame);
        } catch (e) {
          this.metrics.processErrors.inc({ stage: 'transport' });
          this.log.error({ err: e, protocol }, 'frame handling failed');
        }
      }
    };

    socket.on('data', (chunk: Buffer) => {
      let events;
      try {
        events = framer.push(chunk);
      } catch (e) {
        this.log.error({ err: e, protocol }, 'framer threw');
        return close('framer_error');
      }
      if (events.length === 0) return;
      // Frames of one connection are handled strictly in order, so replies keep the device's order; one link
      // of the chain per read, not per frame.
      chain = chain.then(() => onFrames(events));
    });
    socket.on('timeout', () => close('idle'));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.conns.delete(socket);
      this.metrics.connections.dec({ protocol });
      if (conn.device && this.sessions.get(conn.device.identifier) === conn) {
        this.sessions.delete(conn.device.identifier);
        this.h.offline?.(conn.device, conn);
      }
    });
  }

  /** Stop accepting; existing connections are closed after `graceMs`. */
  async stop(graceMs = 1000): Promise<void> {
    if (!this.server) return;
    const closed = new Promise<void>((r) => this.server!.close(() => r()));
    const t = setTimeout(() => {
      for (const s of this.conns) s.destroy();
    }, graceMs);
    for (const s of this.conns) s.end();
    await closed;
    clearTimeout(t);
  }
}
