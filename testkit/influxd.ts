/**
 * A private InfluxDB 1.x server for tests and benchmarks: its own temp dir, free loopback ports, started and stopped by its user.
 * TEST_INFLUX_URL (set by .ci/run, which starts one influxd for the run) is used when present and a test
 * does not need to stop the server itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';

export function influxdPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, 'influxd');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * True when the InfluxDB tests can run (ownServer: the test starts and stops its own influxd, so it needs the
 * binary, not just TEST_INFLUX_URL). Outside CI a missing influxd skips them with a message;
 * with CI=true it throws, so the run fails instead of silently testing less.
 */
export function influxAvailable(o: { ownServer?: boolean } = {}): boolean {
  if ((!o.ownServer && process.env.TEST_INFLUX_URL) || influxdPath()) return true;
  const need = o.ownServer ? 'influxd on PATH (this test starts and stops its own server)' : 'influxd on PATH or TEST_INFLUX_URL';
  if (process.env.CI === 'true') throw new Error(`CI=true but InfluxDB is missing: needs ${need}; install the Debian package influxdb`);
  console.warn(`skipping InfluxDB tests: needs ${need} (install the Debian package influxdb)`);
  return false;
}

export interface Influxd {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** stops and removes the temp dir */
  destroy(): Promise<void>;
}

/**
 * Starts a private influxd on free ports; waits until /ping answers. maxValuesPerTag: InfluxDB 1.x refuses a
 * tag's 100,001st value by default, and `device` has one value per device (0 = no limit).
 */
export async function startInfluxd(o: { maxValuesPerTag?: number } = {}): Promise<Influxd> {
  const bin = influxdPath();
  if (!bin) throw new Error('influxd not found on PATH');
  const dir = mkdtempSync(join(tmpdir(), 'anxin-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(conf, influxdConfig(dir, httpPort, rpcPort, o.maxValuesPerTag));
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async () => {
    stderr = '';
    child = spawn(bin, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    const exited = new Promise<never>((_, rej) => child!.once('exit', (code) => rej(new Error(`influxd exited with ${code}: ${stderr}`))));
    await Promise.race([waitForPing(url), exited]);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((res) => {
      c.once('exit', () => res());
      c.kill('SIGTERM');
    });
  };
  await start();
  return {
    url,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The CI server when TEST_INFLUX_URL is set, otherwise a private one. */
export async function sharedOrPrivateInfluxd(): Promise<{ url: string; destroy(): Promise<void> }> {
  const shared = process.env.TEST_INFLUX_URL;
  if (shared) return { url: shared, destroy: async () => undefined };
  return startInfluxd();
}

export async function waitForPing(url: string, attempts = 300): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      const r = await fetch(`${url}/ping`);
      if (r.status === 204) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`influxd at ${url} did not answer /ping`);
}

/** Same shape as the config .ci/run writes: loopback only, everything in the temp dir, quiet. */
export function influxdConfig(dir: string, httpPort: number, rpcPort: number, maxValuesPerTag?: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false${maxValuesPerTag === undefined ? '' : `\n  max-values-per-tag = ${maxValuesPerTag}`}
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[logging]
  level = "warn"
`;
}

/** Polls a condition (for state that changes on its own, like a writer noticing a dead server); no timing is asserted. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, attempts = 400): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for: ${what}`);
}
