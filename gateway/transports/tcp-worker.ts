/**
 * A TCP connection worker (WATCH_WORKERS > 0, or its protocol's workers setting), started by tcp-workers.ts through node:cluster: it holds device
 * sockets, frames and decodes, and asks the gateway process to handle each frame's messages; the device's
 * reply is written when the gateway answers, i.e. after the alarm commit, as in-process. One process can hold
 * at most its open-files limit of sockets; workers multiply that, and spread framing and decoding over cores.
 * It exits when the gateway process goes away.
 */
import cluster from 'node:cluster';
import pino from 'pino';
import { TCP_PROTOCOLS } from '../../protocols/index.js';
import { createMetrics } from '../metrics.js';
import { openFilesLimit } from './fd-limit.js';
import { TcpTransport, type TcpHandleResult } from './tcp.js';
import { WORKER_COUNTERS, type CounterDeltas, type FromWorker, type ToWorker, type WorkerSetup } from './tcp-ipc.js';

if (!cluster.isWorker || !process.send) throw new Error('tcp-worker.ts runs as a cluster worker of the gateway (WATCH_WORKERS)');

const setup = JSON.parse(process.env.ANXIN_TCP_WORKER ?? '{}') as WorkerSetup;
const send = (m: FromWorker) => process.send!(m);
const protocol = TCP_PROTOCOLS.find((p) => p.name === setup.protocol);
if (!protocol) throw new Error(`tcp-worker.ts: no TCP protocol named ${JSON.stringify(setup.protocol)} in protocols/index.ts`);
const log = pino({ level: setup.logLevel ?? 'info', base: { part: `${protocol.name}-worker-${cluster.worker!.id}` } });
const metrics = createMetrics();
const pending = new Map<number, (r: TcpHandleResult) => void>();
let seq = 0;

// A socket per descriptor: keep a margin for the IPC channel, the listening handle and libraries.
const fdCap = openFilesLimit() - 64;
const transport = new TcpTransport(
  protocol,
  { ...setup.options, maxConnections: Math.max(1, Math.min(setup.options.maxConnections, fdCap)) },
  {
    handle: (msgs, remote, conn) =>
      new Promise<TcpHandleResult>((resolve) => {
        const id = ++seq;
        pending.set(id, resolve);
        send({ t: 'handle', id, conn, msgs, remote });
      }),
    // the gateway process decides who holds each device's session (it sees every worker's connections)
    identifiedGone: (conn, device) => send({ t: 'gone', conn, identifier: device.identifier, device }),
  },
  metrics,
  log,
);

/** Counter increments since the last report, per label set. */
const lastSent = new Map<string, number>();
async function deltas(): Promise<CounterDeltas> {
  const out: CounterDeltas = {};
  for (const name of WORKER_COUNTERS) {
    for (const v of (await metrics[name].get()).values) {
      const key = `${name}${JSON.stringify(v.labels)}`;
      const d = v.value - (lastSent.get(key) ?? 0);
      if (d <= 0) continue;
      lastSent.set(key, v.value);
      (out[name] ??= []).push([v.labels as Record<string, string>, d]);
    }
  }
  return out;
}
const report = async () => send({ t: 'stats', connections: transport.connectionCount, unidentified: transport.unidentifiedCount, counters: await deltas() });
const reporter = setInterval(() => void report().catch(() => undefined), 250);

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'handled':
      pending.get(m.id)?.(m.r);
      pending.delete(m.id);
      break;
    case 'write':
      transport.sessions.get(m.identifier)?.write(Buffer.from(m.bytes));
      break;
    case 'drop':
      // the device reconnected from the same address, maybe through another worker
      transport.drop(m.conn, m.identifier);
      break;
    case 'memory': {
      if (m.gc) (globalThis as { gc?: () => void }).gc?.();
      const u = process.memoryUsage();
      send({ t: 'memory', id: m.id, rss: u.rss, heapUsed: u.heapUsed });
      break;
    }
    case 'stop':
      clearInterval(reporter);
      void transport
        .stop(m.graceMs)
        .then(report)
        .finally(() => {
          send({ t: 'stopped' });
          process.exit(0);
        });
      break;
  }
});
// the gateway process is gone: so are we (the devices reconnect to its successor)
process.on('disconnect', () => process.exit(0));

await transport.start();
send({ t: 'ready' });
