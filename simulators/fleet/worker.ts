/**
 * A fleet worker process: one FleetCore driven over IPC by simulators/fleet/index.ts. Each worker has its own
 * file-descriptor budget and source address, so several of them together hold more connections than one
 * process may open.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FleetCore, type FleetCoreOptions, type FleetProtocol, type Schedule, type ScheduleKind } from './core.js';

// The worker's own event-loop delay: a reply the gateway sent in time but a busy worker read late is the
// simulator's lateness, not the gateway's (reported with each stats call, then reset).
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

export type WorkerRequest =
  | { op: 'init'; options: FleetCoreOptions }
  | { op: 'connect'; perS: number; maxPending: number; timeoutMs: number; limit?: number }
  | { op: 'schedules'; list: Schedule[] }
  | { op: 'rate'; kind: ScheduleKind; perS: number }
  | { op: 'alarm'; protocol?: FleetProtocol }
  | { op: 'storm'; windowMs: number }
  | { op: 'stats' }
  | { op: 'samples' }
  | { op: 'alarms'; clear: boolean }
  | { op: 'stop' };

let core: FleetCore | undefined;
const mustCore = (): FleetCore => {
  if (!core) throw new Error('worker not initialised');
  return core;
};

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'init':
      core = new FleetCore(req.options);
      return { devices: core.n };
    case 'connect':
      return mustCore().connect({ perS: req.perS, maxPending: req.maxPending, timeoutMs: req.timeoutMs, limit: req.limit });
    case 'schedules':
      return mustCore().setSchedules(req.list);
    case 'rate':
      return mustCore().setRate(req.kind, req.perS);
    case 'alarm': {
      const c = mustCore();
      const i = c.pickForAlarm(req.protocol);
      if (i === undefined) return null;
      void c.alarm(i).catch(() => undefined);
      return c.idOf(i);
    }
    case 'storm':
      mustCore().startStorm(req.windowMs);
      return null;
    case 'stats': {
      const c = mustCore();
      const loop = { p99Ms: eld.percentile(99) / 1e6, maxMs: eld.max / 1e6 };
      eld.reset();
      return { ...c.stats(), stormDone: c.stormDone, cpu: process.cpuUsage(), rss: process.memoryUsage.rss(), loop };
    }
    case 'samples':
      return { lk: mustCore().lkLatency.take(), login: { watch: mustCore().loginLatency.watch.take(), mqtt: mustCore().loginLatency.mqtt.take() } };
    case 'alarms':
      return mustCore().alarms(req.clear);
    case 'stop':
      await core?.stop();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (m: { id: number; req: WorkerRequest }) => {
  handle(m.req).then(
    (result) => process.send?.({ id: m.id, ok: true, result }),
    (e: unknown) => process.send?.({ id: m.id, ok: false, error: (e as Error).message }),
  );
});
// the coordinator died: do not linger holding thousands of sockets
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
