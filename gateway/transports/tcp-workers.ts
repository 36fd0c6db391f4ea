/**
 * The watch server in worker processes (WATCH_WORKERS > 0). The gateway process keeps the pipeline, the
 * database and the sessions table; node:cluster hands each accepted connection to a worker (round-robin),
 * which frames and decodes and sends the messages here (tcp-worker.ts). Why: a process holds at most its
 * open-files limit of sockets (20,000 on the bench machine, which cannot raise it), and framing and decoding
 * then use every core. A worker that dies is replaced; its devices reconnect, as after any dropped link.
 */
import cluster, { type Worker } from 'node:cluster';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Device } from '../store/devices.js';
import type { DeviceLink, DeviceServer, TcpHandlers, TcpOptions } from './tcp.js';
import type { FromWorker, ToWorker, WorkerSetup } from './tcp-ipc.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

/** A device's connection as the gateway process sees it: it lives in one of the workers. */
class RemoteLink implements DeviceLink {
  constructor(
    readonly worker: Worker,
    readonly device: Device,
    /** the last frame as text (its header addresses commands) */
    public raw: string,
  ) {}

  get lastFrame(): Buffer | undefined {
    return this.raw ? Buffer.from(this.raw, 'latin1') : undefined;
  }

  get open(): boolean {
    return this.worker.isConnected();
  }

  write(bytes: Buffer): boolean {
    if (!this.worker.isConnected()) return false;
    send(this.worker, { t: 'write', identifier: this.device.identifier, bytes });
    return true;
  }
}

const send = (w: Worker, m: ToWorker) => {
  if (w.isConnected()) w.send(m);
};

export class TcpWorkerPool implements DeviceServer {
  readonly sessions = new Map<string, RemoteLink>();
  port = 0;
  private workers = new Map<Worker, { connections: number }>();
  private stopping = false;
  private started = false;
  private lastRespawn = 0;
  private memSeq = 0;
  private memWaits = new Map<number, (m: { rss: number; heapUsed: number }) => void>();
  /** devices whose first frame was handled and whose 'online' is on its way: the registry's record, not a copy */
  private fresh = new Map<string, Device>();

  constructor(
    private readonly count: number,
    private readonly o: TcpOptions,
    private readonly h: TcpHandlers,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly logLevel = 'info',
  ) {}

  get connectionCount(): number {
    let n = 0;
    for (const w of this.workers.values()) n += w.connections;
    return n;
  }

  async start(): Promise<void> {
    cluster.setupPrimary({
      exec: join(HERE, 'tcp-worker.ts'),
      // workers run the TypeScript sources like the gateway; a full GC on request for the bench's memory figures
      execArgv: ['--import', 'tsx', ...process.execArgv.filter((a) => a === '--expose-gc')],
      cwd: ROOT,
      serialization: 'advanced',
      silent: false,
    });
    // Every worker asks for the configured port, 0 included: cluster shares one listening handle per address and
    // port as asked, so they all get the same one (asking for the port the first got would bind it again).
    const ports = await Promise.all(Array.from({ length: this.count }, () => this.fork())).catch(async (e: unknown) => {
      await this.stop(0);
      throw e;
    });
    this.port = ports[0]!;
    this.started = true;
  }

  /** Starts one worker; resolves with the port it listens on. */
  private fork(): Promise<number> {
    const perWorker = Math.ceil(this.o.maxConnections / this.count);
    const setup: WorkerSetup = { protocol: 'watch', options: { ...this.o, maxConnections: perWorker }, logLevel: this.logLevel };
    const w = cluster.fork({ ANXIN_TCP_WORKER: JSON.stringify(setup) });
    this.workers.set(w, { connections: 0 });
    w.on('message', (m: FromWorker) => this.onMessage(w, m));
    w.on('exit', (code, signal) => this.onExit(w, code, signal));
    w.on('error', (e) => this.log.warn({ err: e }, 'watch worker channel error'));
    return new Promise((resolve, reject) => {
      w.once('listening', (a) => resolve(a.port));
      w.once('exit', (code) => reject(new Error(`watch worker exited during start (code ${code})`)));
    });
  }

  private onMessage(w: Worker, m: FromWorker): void {
    switch (m.t) {
      case 'handle':
        void this.h
          .handle(m.msgs, m.remote)
          .catch(() => ({ ok: false as const, reason: 'error' as const, identifier: m.msgs[0]?.deviceId ?? '' }))
          .then((r) => {
            if (!r.ok) return send(w, { t: 'handled', id: m.id, r });
            const link = this.sessions.get(r.device.identifier);
            if (link && link.worker === w) {
              if (m.msgs[0]) link.raw = m.msgs[0].raw;
            } else this.fresh.set(r.device.identifier, r.device); // its 'online' follows
            // the worker needs only the device's address; the registry's full record stays here
            const d = r.device;
            send(w, { t: 'handled', id: m.id, r: { ok: true, device: { id: d.id, identifier: d.identifier, protocol: d.protocol, elderId: d.elderId } as Device } });
          });
        break;
      case 'online': {
        const prev = this.sessions.get(m.identifier);
        if (prev && prev.worker !== w) send(prev.worker, { t: 'drop', identifier: m.identifier });
        const device = this.fresh.get(m.identifier) ?? m.device;
        this.fresh.delete(m.identifier);
        const link = new RemoteLink(w, device, m.raw);
        this.sessions.set(m.identifier, link);
        this.h.online?.(device, link);
        break;
      }
      case 'offline': {
        const link = this.sessions.get(m.identifier);
        if (link?.worker !== w) break; // it came back through another worker meanwhile
        this.sessions.delete(m.identifier);
        this.h.offline?.(link.device, link);
        break;
      }
      case 'stats': {
        this.workers.get(w)!.connections = m.connections;
        for (const [name, rows] of Object.entries(m.counters)) {
          for (const [labels, n] of rows) this.metrics[name as 'frames'].inc(labels, n);
        }
        this.metrics.connections.set({ protocol: 'watch' }, this.connectionCount);
        break;
      }
      case 'memory':
        this.memWaits.get(m.id)?.(m);
        this.memWaits.delete(m.id);
        break;
    }
  }

  private onExit(w: Worker, code: number | null, signal: string | null): void {
    this.workers.delete(w);
    for (const [id, link] of this.sessions) {
      if (link.worker !== w) continue;
      this.sessions.delete(id);
      this.h.offline?.(link.device, link);
    }
    this.metrics.connections.set({ protocol: 'watch' }, this.connectionCount);
    if (this.stopping || !this.started) return;
    // at most one replacement a second: a worker that cannot start must not spin
    const wait = Math.max(0, this.lastRespawn + 1000 - Date.now());
    this.lastRespawn = Date.now() + wait;
    this.log.error({ code, signal }, 'a watch worker died; starting another (its devices reconnect)');
    setTimeout(() => {
      if (!this.stopping) void this.fork().catch((e) => this.log.error({ err: e }, 'replacing a watch worker failed'));
    }, wait).unref();
  }

  /** RSS and heap of every worker (after a full GC when asked and the gateway runs with --expose-gc). */
  async memory(gc = false): Promise<{ rss: number; heapUsed: number; workers: number }> {
    const replies = await Promise.all(
      [...this.workers.keys()].map(
        (w) =>
          new Promise<{ rss: number; heapUsed: number }>((resolve) => {
            const id = ++this.memSeq;
            this.memWaits.set(id, resolve);
            send(w, { t: 'memory', id, gc });
          }),
      ),
    );
    return { rss: replies.reduce((a, r) => a + r.rss, 0), heapUsed: replies.reduce((a, r) => a + r.heapUsed, 0), workers: replies.length };
  }

  async stop(graceMs = 1000): Promise<void> {
    this.stopping = true;
    const exits = [...this.workers.keys()].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          const kill = setTimeout(() => w.process.kill('SIGKILL'), graceMs + 5000);
          w.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          send(w, { t: 'stop', graceMs });
        }),
    );
    await Promise.all(exits);
  }
}
