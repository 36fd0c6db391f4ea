/**
 * A simulated fleet at scale, for load benchmarks (bench/) and smoke tests: N devices across protocols
 * (watches over TCP, mqtt-json devices over MQTT), spread over worker processes so that together they hold
 * more connections than one process's file-descriptor limit, each worker on loopback source addresses of its own
 * (127.0.100.2–9, 127.0.101.2–9, …): one address's ephemeral ports run out at ~28k, and its bind() slows long
 * before (core.ts localAddresses).
 *
 *   const fleet = await Fleet.start({ watch: { host, port }, mqtt: { host, port }, devices: [...] });
 *   await fleet.connect({ perS: 2000 });
 *   await fleet.setSchedules(REALISTIC);            // LK 5 min, UD 1 min for a share, health 10 min
 *   await fleet.alarm();                              // one alarm on a fresh device
 *   const records = await fleet.alarms();             // sentAt / ackAt per alarm
 *   await fleet.stop();
 *
 * For a handful of devices in one process, use FleetCore (core.ts) directly.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AlarmRecord, DeviceGroup, Endpoint, FleetCoreOptions, FleetProtocol, FleetStats, Schedule, ScheduleKind } from './core.js';
import type { WorkerRequest } from './worker.js';

export { FleetCore, Samples, now, type AlarmRecord, type DeviceGroup, type Endpoint, type FleetProtocol, type FleetStats, type Schedule, type ScheduleKind } from './core.js';

/** The realistic schedule: LK every 5 min; UD every minute for a share of devices; health every 10 min. */
export function realisticSchedules(udShare = 0.2): Schedule[] {
  return [
    { kind: 'lk', periodMs: 300_000, share: 1 },
    { kind: 'ud', periodMs: 60_000, share: udShare },
    { kind: 'health', periodMs: 600_000, share: 1 },
  ];
}

/** Messages per second that realisticSchedules produce for n devices. */
export function realisticRate(n: number, udShare = 0.2): number {
  return n / 300 + (n * udShare) / 60 + n / 600;
}

export interface FleetOptions extends Omit<FleetCoreOptions, 'devices' | 'localAddresses'> {
  watch?: Endpoint;
  mqtt?: Endpoint;
  devices: DeviceGroup[];
  /** most devices per worker process (each needs one file descriptor per connection); default 15000 */
  perWorker?: number;
  /** at least this many workers; default 1 */
  minWorkers?: number;
  /** source addresses of worker k; default 127.0.(100 + k).2 to .9 (core.ts localAddresses: why several) */
  sourceAddress?: (k: number) => string | string[] | undefined;
  /** extra node flags for the workers */
  execArgv?: string[];
}

export interface WorkerStats extends FleetStats {
  stormDone: boolean;
  cpu: NodeJS.CpuUsage;
  rss: number;
  /** the worker's event-loop delay since its last stats call (ms) */
  loop: { p99Ms: number; maxMs: number };
}

interface Worker {
  child: ChildProcess;
  devices: number;
  calls: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** the repository root: `--import tsx` is resolved from the working directory */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class Fleet {
  private seq = 0;
  private alarmTurn = 0;

  private constructor(private readonly workers: Worker[]) {}

  get size(): number {
    return this.workers.reduce((a, w) => a + w.devices, 0);
  }

  get workerCount(): number {
    return this.workers.length;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.child.pid ?? 0);
  }

  static async start(o: FleetOptions): Promise<Fleet> {
    const total = o.devices.reduce((a, g) => a + g.ids.length, 0);
    const perWorker = o.perWorker ?? 15_000;
    const count = Math.max(o.minWorkers ?? 1, Math.ceil(total / perWorker), 1);
    const shares: DeviceGroup[][] = Array.from({ length: count }, () => []);
    // each worker takes its slice of every group, so every worker has the same protocol mix
    for (const g of o.devices) {
      for (let k = 0; k < count; k++) {
        const from = Math.floor((g.ids.length * k) / count);
        const to = Math.floor((g.ids.length * (k + 1)) / count);
        if (to > from) shares[k]!.push({ ...g, ids: g.ids.slice(from, to) });
      }
    }
    const workers = await Promise.all(shares.map((devices) => spawnWorker(devices.reduce((a, g) => a + g.ids.length, 0), o.execArgv ?? [])));
    const fleet = new Fleet(workers);
    try {
      await Promise.all(
        workers.map((w, k) => {
          const { perWorker: _p, minWorkers: _m, sourceAddress, execArgv: _e, ...core } = o;
          const from = sourceAddress ? sourceAddress(k) : Array.from({ length: 8 }, (_, j) => `127.0.${100 + k}.${2 + j}`);
          const localAddresses = from === undefined ? undefined : Array.isArray(from) ? from : [from];
          return fleet.call(w, { op: 'init', options: { ...core, devices: shares[k]!, ...(localAddresses ? { localAddresses } : {}) } });
        }),
      );
    } catch (e) {
      await fleet.stop();
      throw e;
    }
    return fleet;
  }

  private call<T>(w: Worker, req: WorkerRequest): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      if (!w.child.connected) return reject(new Error('fleet worker is gone'));
      w.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.child.send({ id, req });
    });
  }

  private all<T>(req: WorkerRequest | ((w: Worker, k: number) => WorkerRequest)): Promise<T[]> {
    return Promise.all(this.workers.map((w, k) => this.call<T>(w, typeof req === 'function' ? req(w, k) : req)));
  }

  /**
   * Connects every device that is down, or with `limit` only that many devices never tried before (shared by
   * the workers in proportion to their devices); rates are for the whole fleet.
   */
  async connect(o: { perS?: number; maxPending?: number; timeoutMs?: number; limit?: number } = {}): Promise<{ ready: number; failed: number }> {
    const n = this.workers.length;
    const total = this.size || 1;
    // worker k's share of `limit`, rounded on the running total so the shares add up to exactly `limit` (rounding
    // each share alone lost 4 of every 10,000 over 14 workers)
    const before = this.workers.map((_, k) => this.workers.slice(0, k).reduce((a, w) => a + w.devices, 0));
    const share = (w: Worker, k: number) => Math.round((o.limit! * (before[k]! + w.devices)) / total) - Math.round((o.limit! * before[k]!) / total);
    const r = await this.all<{ ready: number; failed: number }>((w, k) => ({
      op: 'connect',
      perS: (o.perS ?? 1000) / n,
      maxPending: Math.max(1, Math.floor((o.maxPending ?? 500) / n)),
      timeoutMs: o.timeoutMs ?? 120_000,
      ...(o.limit !== undefined ? { limit: share(w, k) } : {}),
    }));
    return r.reduce((a, x) => ({ ready: a.ready + x.ready, failed: a.failed + x.failed }), { ready: 0, failed: 0 });
  }

  async setSchedules(list: Schedule[]): Promise<void> {
    await this.all({ op: 'schedules', list });
  }

  /** Extra messages per second for the whole fleet, shared by the workers in proportion to their devices. */
  async setRate(kind: ScheduleKind, perS: number): Promise<void> {
    const total = this.size || 1;
    await this.all((w) => ({ op: 'rate', kind, perS: (perS * w.devices) / total }));
  }

  /** Raises one alarm on a fresh ready device (of that protocol); returns its id, or null if none is ready. */
  async alarm(protocol?: FleetProtocol): Promise<string | null> {
    for (let k = 0; k < this.workers.length; k++) {
      const w = this.workers[this.alarmTurn++ % this.workers.length]!;
      const id = await this.call<string | null>(w, { op: 'alarm', protocol });
      if (id) return id;
    }
    return null;
  }

  /** Every device drops its link and reconnects at a random moment within windowMs. */
  async storm(windowMs: number): Promise<void> {
    await this.all({ op: 'storm', windowMs });
  }

  async workerStats(): Promise<WorkerStats[]> {
    return this.all<WorkerStats>({ op: 'stats' });
  }

  /** Stats summed over the workers. */
  async stats(): Promise<FleetStats & { stormDone: boolean; rss: number; cpuUs: number; loopMaxMs: number }> {
    const list = await this.workerStats();
    const sum = (f: (s: WorkerStats) => number) => list.reduce((a, s) => a + f(s), 0);
    const merge = (f: (s: WorkerStats) => Record<string, number>) => {
      const out: Record<string, number> = {};
      for (const s of list) for (const [k, v] of Object.entries(f(s))) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    return {
      devices: sum((s) => s.devices), ready: sum((s) => s.ready), open: sum((s) => s.open), connecting: sum((s) => s.connecting),
      connects: sum((s) => s.connects), connectRetries: sum((s) => s.connectRetries), logins: sum((s) => s.logins), connectErrors: merge((s) => s.connectErrors), closedByServer: sum((s) => s.closedByServer),
      sent: merge((s) => s.sent), replies: merge((s) => s.replies), alarmsSent: sum((s) => s.alarmsSent), alarmsAcked: sum((s) => s.alarmsAcked),
      alarmsPending: sum((s) => s.alarmsPending), protocolErrors: sum((s) => s.protocolErrors), stormDone: list.every((s) => s.stormDone),
      rss: sum((s) => s.rss), cpuUs: sum((s) => s.cpu.user + s.cpu.system),
      // the worst worker's, since the last call
      loopMaxMs: Math.max(0, ...list.map((s) => s.loop.maxMs)),
    };
  }

  /** LK round trips and login times (connect → ready) since the last call, in ms. */
  async samples(): Promise<{ lk: number[]; login: { watch: number[]; mqtt: number[] } }> {
    const list = await this.all<{ lk: number[]; login: { watch: number[]; mqtt: number[] } }>({ op: 'samples' });
    return { lk: list.flatMap((x) => x.lk), login: { watch: list.flatMap((x) => x.login.watch), mqtt: list.flatMap((x) => x.login.mqtt) } };
  }

  async alarms(clear = false): Promise<AlarmRecord[]> {
    return (await this.all<AlarmRecord[]>({ op: 'alarms', clear })).flat();
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (!w.child.connected) return;
        const exited = new Promise<void>((r) => w.child.once('exit', () => r()));
        const kill = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
        await this.call(w, { op: 'stop' }).catch(() => undefined);
        await exited;
        clearTimeout(kill);
      }),
    );
  }
}

async function spawnWorker(devices: number, execArgv: string[]): Promise<Worker> {
  const child = fork(WORKER, [], { execArgv: ['--import', 'tsx', ...execArgv], cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const w: Worker = { child, devices, calls: new Map() };
  child.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
    if (m.id === undefined) return;
    const c = w.calls.get(m.id);
    if (!c) return;
    w.calls.delete(m.id);
    if (m.ok) c.resolve(m.result);
    else c.reject(new Error(m.error));
  });
  child.on('exit', (code) => {
    for (const c of w.calls.values()) c.reject(new Error(`fleet worker exited with ${code}`));
    w.calls.clear();
  });
  await new Promise<void>((resolve, reject) => {
    const onMsg = (m: { ready?: boolean }) => {
      if (!m.ready) return;
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null) => reject(new Error(`fleet worker exited with ${code} before it was ready`));
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
  return w;
}
