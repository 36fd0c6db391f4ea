/**
 * Idle connections: watches that log in (LK) and then only send their LK every 5 minutes. First the target
 * (50,000), then more in steps until the gateway holds no more (or the bound), taking RSS and heap per
 * connection after a full GC at each step; then a short window at the top for event-loop delay, CPU and
 * alarm latency with every connection held.
 */
import { Fleet } from '../../simulators/fleet/index.js';
import { startGateway, type Gateway } from '../lib/gateway.js';
import { collectAlarms, perConnection, runWindow, type Ctx } from '../lib/measure.js';
import { summarize, type ScenarioResult } from '../lib/result.js';
import { fdLimit, round, sleep } from '../lib/stats.js';

interface Step {
  attempted: number;
  held: number;
  rssPerConnKB?: number;
  heapPerConnKB?: number;
  rssMiB: number;
  heapMiB: number;
  rssBytes: number;
  heapBytes: number;
  connectSeconds: number;
}

export async function idle(ctx: Ctx): Promise<ScenarioResult> {
  const target = ctx.quick ? 5000 : 50_000;
  const step = ctx.quick ? 2500 : 10_000;
  // issue 25: 200,000 held (past WATCH_MAX_CONNECTIONS' default of 120,000, which the gateway here is started above)
  const max = ctx.quick ? 10_000 : 200_000;
  // bounded well under the silent-device rule (watch: 8 min + 10 min grace), which would start raising
  // device_silent for every seeded device that never connected
  const budgetMs = ctx.quick ? 120_000 : 600_000;
  const t0 = performance.now();
  const res: ScenarioResult = {
    name: 'idle',
    description: `${target.toLocaleString('en')} idle watch connections (LK every 5 min), then +${step.toLocaleString('en')} per step up to ${max.toLocaleString('en')} while the gateway takes them`,
    ok: false,
    wallSeconds: 0,
    devices: { watch: max, mqtt: 0 },
    notes: [],
  };
  let gw: Gateway | undefined;
  let fleet: Fleet | undefined;
  try {
    // One process holds at most its open-files limit of connections (one descriptor each): past it the gateway
    // runs its watch connections in enough worker processes (WATCH_WORKERS) for `max`, with a margin.
    const fds = fdLimit();
    const workers = Number.isFinite(fds.soft) && max > fds.soft - 2000 ? Math.ceil(max / (fds.soft * 0.85)) : 0;
    ctx.log(`  [idle] seeding ${max.toLocaleString('en')} watches, starting the gateway${workers ? ` with ${workers} watch workers (open-files limit ${fds.soft} per process)` : ''}`);
    gw = await startGateway({ name: 'idle', pgAdminUrl: ctx.pgAdminUrl, influxUrl: ctx.influxUrl, watches: max, mqtt: 0, execArgv: ctx.gatewayExecArgv, logDir: ctx.logDir, env: { WATCH_MAX_CONNECTIONS: String(max + step), ...(workers ? { WATCH_WORKERS: String(workers) } : {}) } });
    res.notes.push(workers ? `the gateway ran its watch connections in ${workers} worker processes (WATCH_WORKERS=${workers}): this machine's open-files limit is ${fds.soft} per process; memory figures include the workers` : 'watch connections in the gateway process');
    const g = gw;
    const base = await g.gc();
    fleet = await Fleet.start({ watch: { host: '127.0.0.1', port: g.watchPort }, devices: [{ protocol: 'watch', ids: g.watchIds }] });
    const f = fleet;
    await f.setSchedules([{ kind: 'lk', periodMs: 300_000, share: 1 }]);
    const fleetBase = (await f.stats()).rss;
    const steps: Step[] = [];
    let attempted = 0;
    // `rest`: the last step connects every device not connected yet (each worker's shares of the steps are
    // rounded, so their sum can fall a few short of a worker's devices)
    const add = async (count: number, rest = false) => {
      const c0 = performance.now();
      let done = false;
      const ticker = (async () => {
        // progress only: a failed read (the gateway out of file descriptors) must not end the run
        while (!done) {
          await sleep(ctx.quick ? 3000 : 5000);
          if (done) break;
          const s = await g.stats();
          ctx.log(`  [idle] connecting: server holds ${s.watchConnections.toLocaleString('en')} · rss ${Math.round(s.rss / 2 ** 20)} MiB`);
        }
      })().catch(() => undefined);
      await f.connect({ ...(rest ? {} : { limit: count }), perS: 2000, maxPending: 1000, timeoutMs: ctx.quick ? 60_000 : 180_000 });
      done = true;
      await ticker;
      attempted += count;
      await sleep(3000);
      const m = await g.gc();
      const s = await g.stats();
      const st: Step = { attempted, held: s.watchConnections, ...perConnection(base, m, s.watchConnections), rssMiB: Math.round(m.rss / 2 ** 20), heapMiB: Math.round(m.heapUsed / 2 ** 20), rssBytes: m.rss, heapBytes: m.heapUsed, connectSeconds: round((performance.now() - c0) / 1000, 1)! };
      steps.push(st);
      ctx.log(`  [idle] ${attempted.toLocaleString('en')} attempted → ${st.held.toLocaleString('en')} held · ${st.rssPerConnKB} KB RSS and ${st.heapPerConnKB} KB heap per connection`);
      return st;
    };
    // Steps below the open-files limit give memory per connection before the limit churns anything (past it
    // the kernel keeps completing handshakes the gateway can only accept and close at once): the marginal
    // cost, the slope between the lowest and highest of these steps, leaves out what the first connections
    // set up once.
    const limit = fdLimit();
    const cleanMax = Math.min(target, Number.isFinite(limit.soft) ? limit.soft - 2000 : target);
    const clean: Step[] = [];
    for (const share of [1 / 3, 2 / 3, 1]) clean.push(await add(Math.round(cleanMax * share) - attempted));
    const first = attempted < target ? await add(target - attempted) : clean[clean.length - 1]!;
    let last = first;
    while (attempted < max && performance.now() - t0 < budgetMs) {
      const prev = last.held;
      const n = Math.min(step, max - attempted);
      last = await add(n, attempted + n >= max);
      if (last.held - prev < step * 0.1) break; // the gateway takes no more
    }
    if (last.held < attempted && !workers) {
      res.notes.push(
        `the gateway held ${last.held.toLocaleString('en')} of ${attempted.toLocaleString('en')} attempted; its open-files limit is ${limit.soft} (hard ${limit.hard}): one fd per connection, so one process cannot hold more here. ` +
          `Raise it (ulimit -n 1048576; in a container --ulimit nofile=1048576) or set WATCH_WORKERS to go further.`,
      );
    } else if (last.held < attempted) res.notes.push(`the gateway held ${last.held.toLocaleString('en')} of ${attempted.toLocaleString('en')} attempted`);
    const w = await runWindow(ctx, g, f, { label: 'idle', seconds: ctx.quick ? 10 : 30, alarmsPerS: 1 });
    res.window = summarize(w);
    res.connectionsHeld = res.window.connectionsHeld;
    res.alarms = (await collectAlarms(g, f, 20_000)).latency;
    res.connect = { target, ready: first.held, failed: target - first.held, seconds: round(steps.slice(0, steps.indexOf(first) + 1).reduce((a, s) => a + s.connectSeconds, 0), 1)! };
    const lo = clean[0]!;
    const hi = clean[clean.length - 1]!;
    const dHeld = hi.held - lo.held;
    const marginal = dHeld > 0 ? { rssPerConnKB: round((hi.rssBytes - lo.rssBytes) / 1024 / dHeld, 2), heapPerConnKB: round((hi.heapBytes - lo.heapBytes) / 1024 / dHeld, 2) } : undefined;
    res.memory = { ...(marginal ?? { rssPerConnKB: hi.rssPerConnKB, heapPerConnKB: hi.heapPerConnKB }), baselineRssMiB: Math.round(base.rss / 2 ** 20), baselineHeapMiB: Math.round(base.heapUsed / 2 ** 20) };
    res.notes.push(
      `memory per idle connection: ${marginal ? `the slope from ${lo.held.toLocaleString('en')} to ${hi.held.toLocaleString('en')} connections` : `at ${hi.held.toLocaleString('en')} connections`}; ` +
        `against the gateway's own baseline it read ${hi.rssPerConnKB} KB RSS and ${hi.heapPerConnKB} KB heap at ${hi.held.toLocaleString('en')}` +
        (first !== hi ? `, and ${first.rssPerConnKB} KB / ${first.heapPerConnKB} KB at ${first.held.toLocaleString('en')} (the target step)` : ''),
    );
    const fs = await f.stats();
    res.extra = { watchWorkers: workers, steps, belowLimit: clean, marginal: marginal ?? null, atTarget: first, fdLimit: limit, fleet: { workers: f.workerCount, ready: fs.ready, connectRetries: fs.connectRetries, connectErrors: fs.connectErrors, closedByServer: fs.closedByServer, rssMiB: Math.round(fs.rss / 2 ** 20), baselineRssMiB: Math.round(fleetBase / 2 ** 20) } };
    res.ok = true;
  } catch (e) {
    res.error = (e as Error).message;
    ctx.log(`  [idle] FAILED: ${res.error}`);
  } finally {
    await fleet?.stop().catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    res.wallSeconds = Math.round((performance.now() - t0) / 1000);
  }
  return res;
}
