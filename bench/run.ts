/**
 * `npm run bench [-- SCENARIO…] [--quick] [--profile] [--out FILE]`
 *
 * Runs named scenarios against the real gateway (a child process) with PostgreSQL and InfluxDB on this machine
 * and a simulated fleet (simulators/fleet/), plus baselines measured in the same run. Writes bench/results.json
 * (bench/results-quick.json with --quick) and prints the tables. Targets are reported, never asserted.
 *
 *   scenarios: baselines steady steady-contended burst throughput reconnect idle flood fuzz hotline import reports cluster
 *              (default: all, in that order)
 *   --quick    everything scaled down: a smoke check of a few minutes
 *   --profile  the gateway runs with --cpu-prof; profiles land in bench/profiles/, each named after its scenario
 *              with a flame graph beside it (the same name, .html: self-contained, 0x's viewer)
 *
 * A run of some scenarios keeps the other scenarios' results already in the output file (from a run of the same
 * kind, quick or full), each marked with `from`: the `startedAt` of the file it was kept from.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/child.js';
import type { Ctx } from './lib/measure.js';
import { flameGraphs, profilesIn } from './lib/flamegraph.js';
import { printReport, targets } from './lib/report.js';
import type { ScenarioResult } from './lib/result.js';
import { startInfluxd, startPostgres } from './lib/services.js';
import { fdLimit } from './lib/stats.js';
import { baselines } from './scenarios/baselines.js';
import { burst, reconnect, steady, steadyContended, throughput } from './scenarios/fleet.js';
import { idle } from './scenarios/idle.js';
import { flood } from './scenarios/flood.js';
import { fuzz } from './scenarios/fuzz.js';
import { hotline } from './scenarios/hotline.js';
import { importBench } from './scenarios/import.js';
import { reportsBench } from './scenarios/reports.js';
import { cluster } from './scenarios/cluster.js';

const SCENARIOS: Record<string, (ctx: Ctx) => Promise<ScenarioResult>> = { baselines, steady, 'steady-contended': steadyContended, burst, throughput, reconnect, idle, flood, fuzz, hotline, import: importBench, reports: reportsBench, cluster };

const usage = `usage: npm run bench [-- ${Object.keys(SCENARIOS).join('|')} …] [--quick] [--profile] [--out FILE]`;

function args() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        quick: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
}

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function main(): Promise<void> {
  const { values: a, positionals } = args();
  if (a.help) return void console.log(usage);
  const unknown = positionals.filter((p) => !(p in SCENARIOS));
  if (unknown.length) {
    console.error(`unknown scenario ${unknown.join(', ')}\n${usage}`);
    process.exit(2);
  }
  const names = positionals.length ? positionals : Object.keys(SCENARIOS);
  const quick = !!a.quick;
  const out = a.out ?? join(ROOT, 'bench', quick ? 'results-quick.json' : 'results.json');

  const fd = fdLimit();
  log(`open-files limit ${fd.soft} (hard ${fd.hard}): each device connection takes one in the gateway and one in a fleet worker`);
  if (fd.soft < 250_000) {
    log(`  one process holds at most ~${(fd.soft - 100).toLocaleString('en')} connections here: idle runs the gateway's watch connections in worker processes (WATCH_WORKERS)`);
    log(`  (or raise the limit: ulimit -n 1048576 before npm run bench; the npm script tries that)`);
  }
  const logDir = mkdtempSync(join(tmpdir(), 'anxin-bench-logs-'));
  const profileDir = join(ROOT, 'bench', 'profiles');
  if (a.profile) mkdirSync(profileDir, { recursive: true });

  const started = new Date();
  // results of the scenarios not run now, from the file this run writes
  let kept: (ScenarioResult & { from?: string })[] = [];
  if (existsSync(out)) {
    try {
      const prev = JSON.parse(readFileSync(out, 'utf8')) as { startedAt: string; quick: boolean; scenarios: (ScenarioResult & { from?: string })[] };
      if (prev.quick === quick) kept = prev.scenarios.filter((r) => !names.includes(r.name)).map((r) => ({ ...r, from: r.from ?? prev.startedAt }));
    } catch {
      log(`${out} could not be read: it is replaced`);
    }
  }
  const order = Object.keys(SCENARIOS);
  const hardCapMs = (quick ? 15 : 120) * 60_000;
  log(`starting PostgreSQL (embedded) and InfluxDB (${quick ? 'quick run' : 'full run'}; logs in ${logDir})`);
  const pg = await startPostgres();
  // one `device` tag value per device: the idle scenario has more than influxd's default 100,000
  const influx = await startInfluxd({ maxValuesPerTag: 0 }).catch(async (e) => {
    await pg.stop();
    throw e;
  });
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    await influx.destroy().catch(() => undefined);
    await pg.stop().catch(() => undefined);
  };
  // whatever goes wrong, PostgreSQL and influxd are not left running
  for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(ev, (e: unknown) => {
      log(`${ev}: ${(e as Error)?.stack ?? String(e)}; stopping services`);
      void cleanup().finally(() => process.exit(1));
    });
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping services`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  const cap = setTimeout(() => {
    log(`the whole run passed its bound of ${hardCapMs / 60_000} min: stopping`);
    void cleanup().finally(() => process.exit(3));
  }, hardCapMs);
  cap.unref();

  const ctx: Ctx = { quick, pgAdminUrl: pg.adminUrl, influxUrl: influx.url, logDir, gatewayExecArgv: a.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [], log };
  const results: ScenarioResult[] = [];
  const load0 = loadavg();
  try {
    for (const name of names) {
      log(`▶ ${name}`);
      const before = a.profile ? profilesIn(profileDir) : undefined;
      const r = await SCENARIOS[name]!(ctx);
      results.push(r);
      log(`${r.ok ? '✓' : '✗'} ${name} in ${r.wallSeconds} s${r.error ? `: ${r.error}` : ''}`);
      // the gateways of this scenario have exited (node writes the profile then): name them, draw them
      if (before) await flameGraphs(profileDir, before, name, log);
      writeResults();
    }
  } finally {
    await cleanup();
  }

  function writeResults() {
    const all = [...kept, ...results].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    const doc = {
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      quick,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, fdLimit: fd, loadavgAtStart: load0, loadavgAtEnd: loadavg() },
      scenarios: all,
      targets: targets(all, quick),
    };
    writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  }
  writeResults();
  printReport(results, { quick, loadavg: [load0, loadavg()] });
  log(`results: ${out}; logs: ${logDir}${a.profile ? `; profiles: ${profileDir}` : ''}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
