/**
 * The SIA DC-09 receiver (issue 26, dc09.md): IP alarm panels and communicators report over TCP and UDP.
 *
 * Unlike the watch and GT06 servers, a connection is not a device: every frame names its account (a relay may
 * report for several), so each frame is judged alone, in the §4 order (protocols/dc09/decoder.ts):
 * - garbled (length, CRC), a response, or no header → no reply: the panel retries, or gives up on what was never
 *   ours to answer;
 * - an account that is not registered as DC-09 (unknown, disabled, another protocol's, or a line prefix or
 *   receiver number other than its registration says) → DUH, counted and listed as awaiting registration: DUH lets
 *   the panel try its backup path, an ACK would tell it the alarm is handled;
 * - an account with a key must encrypt: a clear message naming it is refused with DUH, because anyone could send
 *   it (the key is the account's only proof);
 * - encrypted with a timestamp outside the window → NAK with our time (the panel corrects its clock and resends);
 * - accepted → the pipeline (the alarm commits), and only then the ACK (`*ACK` when it came encrypted). Not
 *   committed → no reply, so the panel sends it again. A resend is the same message (`repeat`): no second alarm.
 * TCP connections stay open after the ACK (Ajax treats a close as losing its receiver, §6) and carry several
 * frames, in order; UDP is one message per datagram, answered to its source address and port.
 */
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { DC09_MAX_FRAME, Dc09Framer, datagramFrame, decodeDc09, encodeDuh, peekAccount, toDeviceMessage } from '../../protocols/dc09/index.js';
import type { Device } from '../store/devices.js';
import { LISTEN_BACKLOG } from './listen.js';
import type { IpReceiverDeps } from './ip-receiver.js';
import { bindUdp, closeUdp } from './udp.js';

export interface Dc09Options {
  host: string;
  tcpPort: number;
  udpPort: number;
  idleTimeoutS: number;
  maxConnections: number;
  /** close a TCP connection after this many bad frames in a row */
  badFrameLimit: number;
}

export interface Dc09Deps extends IpReceiverDeps {
  /** the receiver's clock (tests) */
  now?: () => Date;
}

type Reply = Buffer | undefined;

export class Dc09Server {
  private tcp?: Server;
  private udp?: UdpSocket;
  private readonly sockets = new Set<Socket>();
  tcpPort = 0;
  udpPort = 0;

  constructor(
    private readonly o: Dc09Options,
    private readonly d: Dc09Deps,
  ) {}

  get connectionCount(): number {
    return this.sockets.size;
  }

  async start(): Promise<void> {
    const tcp = (this.tcp = createServer((s) => this.accept(s)));
    tcp.maxConnections = this.o.maxConnections;
    tcp.on('drop', () => this.d.metrics.refused.inc({ protocol: 'dc09', reason: 'max_connections' }));
    await new Promise<void>((res, rej) => {
      tcp.once('error', rej);
      tcp.listen({ port: this.o.tcpPort, host: this.o.host, backlog: LISTEN_BACKLOG }, () => res());
    });
    const a = tcp.address();
    this.tcpPort = typeof a === 'object' && a ? a.port : this.o.tcpPort;
    this.udp = await bindUdp({ host: this.o.host, port: this.o.udpPort, what: 'DC-09', log: this.d.log }, (m, r) => this.datagram(m, r));
    this.udpPort = this.udp.address().port;
  }

  async stop(graceMs = 1000): Promise<void> {
    const closed = this.tcp ? new Promise<void>((r) => this.tcp!.close(() => r())) : Promise.resolve();
    for (const s of this.sockets) s.end();
    const t = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, graceMs);
    await closed;
    clearTimeout(t);
    await closeUdp(this.udp);
    this.udp = undefined;
  }

  private accept(socket: Socket): void {
    const m = this.d.metrics;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const framer = new Dc09Framer();
    let chain = Promise.resolve();
    let bad = 0;
    this.sockets.add(socket);
    m.connections.inc({ protocol: 'dc09' });
    socket.setNoDelay(true);
    socket.setTimeout(this.o.idleTimeoutS * 1000, () => {
      m.closed.inc({ protocol: 'dc09', reason: 'idle' });
      socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      m.connections.dec({ protocol: 'dc09' });
      if (framer.buffered) m.bytesDiscarded.inc({ protocol: 'dc09', reason: 'partial_at_close' }, framer.buffered);
    });
    // bad frames in a row (garbage, CRC or length errors) close the connection, as on the other TCP servers;
    // counted in the chain, so in the order the bytes came
    const strike = (garbled: boolean) => {
      bad = garbled ? bad + 1 : 0;
      if (bad >= this.o.badFrameLimit && !socket.destroyed) {
        m.closed.inc({ protocol: 'dc09', reason: 'bad_frames' });
        socket.destroy();
      }
    };
    socket.on('data', (chunk) => {
      m.bytesReceived.inc({ protocol: 'dc09' }, chunk.length);
      for (const ev of framer.push(chunk)) {
        if ('error' in ev) {
          m.bytesDiscarded.inc({ protocol: 'dc09', reason: ev.error }, ev.discarded);
          m.badFrames.inc({ protocol: 'dc09', reason: ev.error });
          chain = chain.then(() => strike(true));
          continue;
        }
        // one connection's frames in order, so its replies keep the panel's order
        chain = chain.then(async () => {
          if (socket.destroyed) return m.framesDropped.inc({ protocol: 'dc09' });
          const { reply, garbled } = await this.answer(ev.frame, remote);
          if (reply) socket.write(reply);
          strike(garbled);
        });
      }
    });
  }

  private async datagram(bytes: Buffer, from: RemoteInfo): Promise<void> {
    const m = this.d.metrics;
    m.bytesReceived.inc({ protocol: 'dc09' }, bytes.length);
    const ev = datagramFrame(bytes, DC09_MAX_FRAME);
    if ('error' in ev) {
      m.bytesDiscarded.inc({ protocol: 'dc09', reason: ev.error }, ev.discarded);
      m.badFrames.inc({ protocol: 'dc09', reason: ev.error });
      return;
    }
    const { reply } = await this.answer(ev.frame, `${from.address}:${from.port}`);
    if (reply) this.udp?.send(reply, from.port, from.address);
  }

  /** What to answer one frame, after its alarm (if any) is committed. Never throws. */
  async answer(frame: Buffer, remote: string): Promise<{ reply: Reply; garbled: boolean }> {
    const m = this.d.metrics;
    m.frames.inc({ protocol: 'dc09' });
    try {
      return await this.judge(frame, remote);
    } catch (e) {
      // the database is down, say: no reply, so the panel resends
      m.processErrors.inc({ stage: 'transport' });
      this.d.log.error({ err: e, protocol: 'dc09' }, 'DC-09 frame not handled; not acknowledged');
      return { reply: undefined, garbled: false };
    }
  }

  private async judge(frame: Buffer, remote: string): Promise<{ reply: Reply; garbled: boolean }> {
    const m = this.d.metrics;
    const receivedAt = this.d.now?.() ?? new Date();
    const peek = peekAccount(frame);
    const identifier = peek?.account.toUpperCase();
    let device: Device | null = null;
    let key: Buffer | undefined;
    if (peek && identifier) {
      device = await this.d.lookup(identifier);
      if (device && (device.protocol !== 'dc09' || !addressMatches(device.meta, peek))) device = null;
      if (device?.hasKey) key = await this.d.keyOf(identifier);
    }
    const meta = device?.meta ?? {};
    const decision = decodeDc09(frame, {
      now: receivedAt,
      keyFor: () => key,
      strictTime: meta.strictTime === true,
      cid: typeof meta.vendor === 'string' ? { vendor: meta.vendor } : {},
    });
    const replied = (reply: 'ack' | 'duh' | 'nak', reason: string) => m.dc09Replies.inc({ reply, reason });
    switch (decision.action) {
      case 'drop':
        m.badFrames.inc({ protocol: 'dc09', reason: decision.reason });
        // a response sent to us is not garbage, only not ours to answer
        return { reply: undefined, garbled: decision.reason !== 'response' };
      case 'duh':
        if (!device && identifier) await this.d.unknown(identifier, remote);
        replied('duh', device ? decision.reason : 'unknown_account');
        return { reply: decision.reply, garbled: false };
      case 'nak':
        replied('nak', decision.reason);
        this.d.log.warn({ identifier, skewS: decision.skewS, remote }, 'DC-09 message outside the time window: NAK with our time (the panel corrects its clock and resends)');
        return { reply: decision.reply, garbled: false };
    }
    const msg = decision.message;
    if (!device) {
      await this.d.unknown(identifier!, remote);
      replied('duh', 'unknown_account');
      return { reply: encodeDuh(msg), garbled: false };
    }
    if (device.hasKey && !msg.encrypted) {
      replied('duh', 'clear_with_key');
      this.d.log.warn({ identifier, remote }, 'DC-09 clear message for an account with a key: refused (DUH); only an encrypted message proves it is the panel');
      return { reply: encodeDuh(msg), garbled: false };
    }
    if (msg.inWindow === false) m.dc09Skewed.inc();
    const r = await this.d.handle([toDeviceMessage(msg, receivedAt)], remote);
    if (r.ok) {
      replied('ack', msg.token === 'NULL' ? 'poll' : 'event');
      return { reply: decision.replyAfterCommit, garbled: false };
    }
    if (r.reason === 'unknown_device') {
      replied('duh', 'unknown_account'); // deleted a moment ago
      return { reply: encodeDuh(msg), garbled: false };
    }
    return { reply: undefined, garbled: false }; // not committed: the panel sends it again
  }
}

/** The frame's line prefix and receiver number match the registration's, where it sets them (hex, any case). */
function addressMatches(meta: Record<string, unknown>, got: { prefix: string; receiver?: string }): boolean {
  const same = (want: unknown, have: string | undefined) => typeof want !== 'string' || want.toUpperCase() === (have ?? '').toUpperCase();
  return same(meta.prefix, got.prefix) && same(meta.receiver, got.receiver);
}
