/**
 * Debian's redis-server for the cluster scenario (issue 24): its own free loopback port and temp directory, no
 * persistence (a bench run keeps nothing). A missing redis-server fails the scenario with the package to install,
 * rather than measuring a cluster that is not one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../testkit/free-port.js';

export interface BenchRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const accepting = (port: number) =>
  new Promise<boolean>((r) => {
    const s = connect(port, '127.0.0.1')
      .once('connect', () => (s.destroy(), r(true)))
      .once('error', () => r(false));
  });

export async function startRedis(): Promise<BenchRedis> {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server): the cluster scenario needs a real Redis');
  const dir = mkdtempSync(join(tmpdir(), 'anxin-bench-redis-'));
  const port = await freePort();
  const proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let k = 0; k < 100; k++) {
    if (await accepting(port)) return { url: `redis://127.0.0.1:${port}`, pid: proc.pid ?? 0, stop };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`redis-server did not listen on 127.0.0.1:${port}`);
}
