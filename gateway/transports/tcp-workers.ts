/**
 * A TCP protocol's server in worker processes (WATCH_WORKERS > 0 for the watch). The gateway process keeps the pipeline, the
 * database and the sessions table; node:cluster hands each accepted connection to a worker (round-robin),
 * which frames and decodes and sends the messages here (tcp-worker.ts). Why: a process holds at most its
 * open-files limit of sockets (20,000 on the bench machine, which cannot raise it), and framing and decoding
 * then use every core. A worker that dies is replaced; its devices reconnect, as after any dropped link.
 * Who holds a device's session is decided here (sessions.ts), because the two connections of a clone can sit
 * in different workers. The per-address and cap limits of the TCP transport apply per worker, each worker
 * taking its share (round-robin spreads an address's connections over the workers).
 */
import cluster, { type Worker } from 'node:cluster';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Device } from '../store/devices.js';
import { COMPILED, ROOT } from '../paths.js';
import { SessionTable } from './sessions.js';
import type { DeviceLink, DeviceServer, TcpHandlers, TcpOptions } from './tcp.js';
import type { FromWorker, ToWorker, WorkerSetup } from './tcp-ipc.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** An identified device connection as the gateway process sees it: it lives in one of the workers. */
class RemoteLink implements DeviceLink {
  constructor(
    readonly worker: Worker,
    /** the connection's number within its worker */
    readonly conn: number,
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
  /** device identifier → the connection holding its session */
  readonly sessions = new Map<string, RemoteLink>();
  port = 0;
  private workers = new Map<Worker, { connections: number; unidentified: number }>();
  /** identified connections by worker id and connection number */
  private links = new Map<string, RemoteLink>();
  private readonly table: SessionTable<RemoteLink>;
  private stopping = false;
  private started = false;
  private lastRespawn = 0;
  private memSeq = 0;
  private memWaits = new Map<number, (m: { rss: number; heapUsed: number }) => void>();

  constructor(
    /** the TCP protocol's name in protocols/index.ts (the workers find its framer and decoder there) */
    private readonly protocol: string,
    private readonly count: number,
    private readonly o: TcpOptions,
    private readonly h: TcpHandlers,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly logLevel = 'info',
  ) {
    this.table = new SessionTable<RemoteLink>({
      online: (device, link) => {
        this.sessions.set(device.identifier, link);
        this.h.online?.(device, link);
      },
      offline: (device, link) => {
        if (this.sessions.get(device.identifier) === link) this.sessions.delete(device.identifier);
        this.h.offline?.(device, link);
      },
      replaced: (old, device) => {
        if (this.sessions.get(device.identifier) === old) this.sessions.delete(device.identifier);
        send(old.worker, { t: 'drop', identifier: device.identifier, conn: old.conn });
      },
      clone: (device, holder, suspect) => {
        this.metrics.deviceClones.inc({ protocol: this.protocol });
        this.log.warn({ identifier: device.identifier, holder: holder.remote, suspect: suspect.remote }, 'device clone suspected: a second live connection from another address claims this device; the first keeps the session');
        this.h.clone?.(device, holder, suspect);
      },
    });
  }

  get connectionCount(): number {
    let n = 0;
    for (const w of this.workers.values()) n += w.connections;
    return n;
  }

  get unidentifiedCount(): number {
    let n = 0;
    for (const w of this.workers.values()) n += w.unidentified;
    return n;
  }

  get capacity(): number {
    return this.o.maxConnections;
  }

  async start(): Promise<void> {
    cluster.setupPrimary({
      // workers run what the gateway runs: the compiled tree, or the TypeScript sources under tsx; a full GC on
      // request for the bench's memory figures
      exec: join(HERE, COMPILED ? 'tcp-worker.js' : 'tcp-worker.ts'),
      execArgv: [...(COMPILED ? [] : ['--import', 'tsx']), ...process.execArgv.filter((a) => a === '--expose-gc')],
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
    const share = (n: number | undefined) => (n === undefined ? undefined : Math.ceil(n / this.count));
    const options: TcpOptions = { ...this.o, maxConnections: share(this.o.maxConnections)!, maxUnidentifiedPerAddress: share(this.o.maxUnidentifiedPerAddress) };
    const setup: WorkerSetup = { protocol: this.protocol, options, logLevel: this.logLevel };
    const w = cluster.fork({ ANXIN_TCP_WORKER: JSON.stringify(setup) });
    this.workers.set(w, { connections: 0, unidentified: 0 });
    w.on('message', (m: FromWorker) => this.onMessage(w, m));
    w.on('exit', (code, signal) => this.onExit(w, code, signal));
    w.on('error', (e) => this.log.warn({ err: e }, `${this.protocol} worker channel error`));
    return new Promise((resolve, reject) => {
      w.once('listening', (a) => resolve(a.port));
      w.once('exit', (code) => reject(new Error(`${this.protocol} worker exited during start (code ${code})`)));
    });
  }

  private onMessage(w: Worker, m: FromWorker): void {
    switch (m.t) {
      case 'handle':
        void this.h
          .handle(m.msgs, m.remote, m.conn)
          .catch(() => ({ ok: false as const, reason: 'error' as const, identifier: m.msgs[0]?.deviceId ?? '' }))
          .then((r) => {
            if (!r.ok) return send(w, { t: 'handled', id: m.id, r });
            const key = `${w.id}:${m.conn}`;
            let link = this.links.get(key);
            // a worker that died meanwhile took the connection with it
            if (!link && this.workers.has(w)) this.links.set(key, (link = new RemoteLink(w, m.conn, r.device, '')));
            if (link && m.msgs[0]) link.raw = m.msgs[0].raw;
            const session = link ? this.table.report(link, r.device, m.remote) : 'contender';
            // the worker needs only the device's address; the registry's full record stays here
            const d = r.device;
            send(w, { t: 'handled', id: m.id, r: { ok: true, session, device: { id: d.id, identifier: d.identifier, protocol: d.protocol, elderId: d.elderId } as Device } });
          });
        break;
      case 'gone': {
        const key = `${w.id}:${m.conn}`;
        const link = this.links.get(key);
        if (!link) break;
        this.links.delete(key);
        this.table.closed(link);
        break;
      }
      case 'stats': {
        const ws = this.workers.get(w);
        if (!ws) break;
        ws.connections = m.connections;
        ws.unidentified = m.unidentified;
        this.metrics.unidentified.set({ protocol: this.protocol }, this.unidentifiedCount);
        for (const [name, rows] of Object.entries(m.counters)) {
          for (const [labels, n] of rows) this.metrics[name as 'frames'].inc(labels, n);
        }
        this.metrics.connections.set({ protocol: this.protocol }, this.connectionCount);
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
    for (const [key, link] of this.links) {
      if (link.worker !== w) continue;
      this.links.delete(key);
      this.table.closed(link);
    }
    this.metrics.connections.set({ protocol: this.protocol }, this.connectionCount);
    if (this.stopping || !this.started) return;
    // at most one replacement a second: a worker that cannot start must not spin
    const wait = Math.max(0, this.lastRespawn + 1000 - Date.now());
    this.lastRespawn = Date.now() + wait;
    this.log.error({ code, signal }, `a ${this.protocol} worker died; starting another (its devices reconnect)`);
    setTimeout(() => {
      if (!this.stopping) void this.fork().catch((e) => this.log.error({ err: e }, `replacing a ${this.protocol} worker failed`));
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
