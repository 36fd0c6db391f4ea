/**
 * The gateway under test, in its own process (so its CPU, RSS and event loop are measured alone): the real
 * startApp with the configuration from the environment, plus what the bench reads over IPC:
 * - stats: memory, CPU, event-loop delay, connections and counters;
 * - stage times per alarm, taken by listening on the app's bus in this process (nothing is added to the hot
 *   path; the bus calls these listeners synchronously where it already emits):
 *     device.message (kind alarm) → the frame was received (msg.receivedAt) and reached the pipeline;
 *     alarm.changed 'raised'      → the alarm row was committed;
 *     alarm.presented             → the screen-pop was emitted (the bench's WebSocket client times its arrival);
 *     alarm.callback              → escalation asked for the callback (telephony's trigger).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { startApp, type App } from '../gateway/app.js';
import { loadConfig } from '../gateway/config.js';
import { TcpWorkerPool } from '../gateway/transports/tcp-workers.js';
import { failed, ready, serve } from './lib/child.js';

const now = () => performance.timeOrigin + performance.now();

export interface StageRecord {
  device: string;
  stage: 'received' | 'committed' | 'presented' | 'callback';
  /** epoch ms */
  at: number;
  /** 'received' only: pipeline reached */
  pipelineAt?: number;
  alarmId?: number;
}

export interface ServerStats {
  at: number;
  rss: number;
  /** RSS of the watch connection workers (WATCH_WORKERS), already included in heapUsed but not in rss */
  workersRss: number;
  workers: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  cpuUs: number;
  eld: { p50: number; p99: number; max: number; mean: number };
  watchConnections: number;
  mqttClients: number;
  frames: number;
  messages: number;
  badFrames: number;
  telemetry: { written: number; dropped: number; buffered: number; failing: boolean; lastError?: string };
  alarmsRaised: number;
  duplicates: number;
  processErrors: number;
  shed: number;
  journalDepth: number;
}

const MAX_RECORDS = 500_000;
const records: StageRecord[] = [];
const push = (r: StageRecord) => {
  if (records.length < MAX_RECORDS) records.push(r);
};

async function sum(m: { get(): Promise<{ values: { value: number }[] }> | { values: { value: number }[] } }): Promise<number> {
  return (await m.get()).values.reduce((a, v) => a + v.value, 0);
}

/**
 * process.memoryUsage() reads /proc/self/statm, which needs a file descriptor: with every descriptor taken by
 * device connections it throws EMFILE. Then the heap comes from V8 alone and RSS is 0 (the bench reads the
 * gateway's RSS from /proc/<pid>/status itself).
 */
function memory(): { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number } {
  try {
    return process.memoryUsage();
  } catch {
    const h = getHeapStatistics();
    return { rss: 0, heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, external: h.external_memory, arrayBuffers: 0 };
  }
}

let app: App | undefined;

/**
 * BENCH_STALL_MS=N: a line on stderr for every turn of the loop that came N ms late, with what the process did
 * meanwhile (CPU of all its threads, context switches), to tell a busy loop from a starved one.
 */
function watchStalls(ms: number): void {
  let last = performance.now();
  let cpu = process.cpuUsage();
  let ru = process.resourceUsage();
  // each thread's CPU ticks (utime + stime, /proc/self/task/*/stat), by thread name
  const threads = (): Map<string, number> => {
    const out = new Map<string, number>();
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const st = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
        const close = st.lastIndexOf(')');
        const f = st.slice(close + 2).split(' ');
        out.set(`${st.slice(st.indexOf('(') + 1, close)}/${tid}`, Number(f[11]) + Number(f[12]));
      } catch {
        // the thread ended
      }
    }
    return out;
  };
  let ticks = threads();
  setInterval(() => {
    const t = performance.now();
    const late = t - last - 10;
    const c = process.cpuUsage();
    const r = process.resourceUsage();
    const now = threads();
    if (late >= ms) {
      const busy: Record<string, number> = {};
      for (const [k, v] of now) if (v - (ticks.get(k) ?? 0) > 0) busy[k] = (v - (ticks.get(k) ?? 0)) * 10; // ms at 100 Hz
      const line = { stall: Math.round(late), at: new Date().toISOString(), monoUs: Number(process.hrtime.bigint() / 1000n), userMs: Math.round((c.user - cpu.user) / 1000), systemMs: Math.round((c.system - cpu.system) / 1000), vcsw: r.voluntaryContextSwitches - ru.voluntaryContextSwitches, ivcsw: r.involuntaryContextSwitches - ru.involuntaryContextSwitches, threadsMs: busy };
      process.stderr.write(`${JSON.stringify(line)}\n`);
    }
    last = t;
    cpu = c;
    ru = r;
    ticks = now;
  }, 10);
}
const eld = monitorEventLoopDelay({ resolution: 10 });

async function main(): Promise<void> {
  const cfg = loadConfig(process.env);
  app = await startApp(cfg, { logger: pino({ level: process.env.BENCH_SERVER_LOG ?? 'warn' }) });
  const a = app;
  a.bus.on('device.message', ({ msg }) => {
    if (msg.kind === 'alarm') push({ device: msg.deviceId, stage: 'received', at: msg.receivedAt.getTime(), pipelineAt: now() });
  });
  a.bus.on('alarm.changed', ({ alarm, action }) => {
    if (action === 'raised' && alarm.sourceKey) push({ device: alarm.sourceKey, stage: 'committed', at: now(), alarmId: Number(alarm.id) });
  });
  a.bus.on('alarm.presented', ({ alarm, userIds }) => {
    if (alarm.sourceKey && userIds.length) push({ device: alarm.sourceKey, stage: 'presented', at: now(), alarmId: Number(alarm.id) });
  });
  a.bus.on('alarm.callback', ({ alarm }) => {
    if (alarm.sourceKey) push({ device: alarm.sourceKey, stage: 'callback', at: now(), alarmId: Number(alarm.id) });
  });
  eld.enable();
  if (process.env.BENCH_STALL_MS) watchStalls(Number(process.env.BENCH_STALL_MS));
  // with WATCH_WORKERS the connections live in worker processes: their memory counts too
  const pool = a.watch instanceof TcpWorkerPool ? a.watch : undefined;
  const workersMemory = async (gc: boolean) => (pool ? pool.memory(gc) : { rss: 0, heapUsed: 0, workers: 0 });

  serve(
    {
      stats: async (): Promise<ServerStats> => {
        const m = memory();
        const wm = await workersMemory(false);
        const cpu = process.cpuUsage();
        const t = a.telemetry.stats();
        return {
          at: now(),
          rss: m.rss,
          workersRss: wm.rss,
          workers: wm.workers,
          heapUsed: m.heapUsed + wm.heapUsed,
          heapTotal: m.heapTotal,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
          cpuUs: cpu.user + cpu.system,
          eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6, mean: eld.mean / 1e6 },
          watchConnections: a.watch.connectionCount,
          mqttClients: a.broker.aedes.connectedClients,
          frames: await sum(a.metrics.frames),
          messages: await sum(a.metrics.messages),
          badFrames: await sum(a.metrics.badFrames),
          telemetry: { written: t.written, dropped: t.dropped, buffered: t.buffered, failing: t.failing, lastError: t.lastError },
          alarmsRaised: await sum(a.metrics.alarmsRaised),
          duplicates: await sum(a.metrics.duplicates),
          processErrors: await sum(a.metrics.processErrors),
          shed: await sum(a.metrics.shed),
          journalDepth: a.alarms.journalDepth,
        };
      },
      /** restarts the event-loop delay histogram (call at the start of a measuring window) */
      resetEld: () => {
        eld.reset();
        return null;
      },
      /** a full GC, then memory: for per-connection figures */
      gc: async () => {
        const g = (globalThis as { gc?: () => void }).gc;
        if (g) {
          g();
          await new Promise((r) => setTimeout(r, 50));
          g();
        }
        const m = memory();
        const wm = await workersMemory(true);
        return { gc: !!g, rss: m.rss, workersRss: wm.rss, heapUsed: m.heapUsed + wm.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
      },
      /** stage records so far; `clear` forgets them */
      stages: (clear: boolean) => (clear ? records.splice(0) : records.slice()),
      /** a V8 heap snapshot after a full GC (for finding what the heap keeps), written to `path` */
      heapSnapshot: (path: string) => {
        (globalThis as { gc?: () => void }).gc?.();
        return writeHeapSnapshot(path);
      },
      /** the telemetry buffer written out (end of a window) */
      flush: async () => {
        await a.telemetry.flush().catch(() => undefined);
        return null;
      },
    },
    async () => {
      eld.disable();
      await a.stop();
    },
  );
  ready({
    watchPort: a.watch.port,
    gt06Port: a.servers.get('gt06')?.port ?? 0,
    mqttPort: a.broker.port,
    httpPort: a.httpPort,
    dc09TcpPort: a.dc09.tcpPort,
    dc09UdpPort: a.dc09.udpPort,
    scaipPort: a.scaip.port,
    pid: process.pid,
    summary: a.summary,
  });
}

main().catch((e) => {
  failed(e);
  setTimeout(() => process.exit(1), 100);
});
