/**
 * Debian's redis-server for the scale-out tests and the cluster benchmark (issue 24): its own free loopback port and
 * temp directory. `persistent` (the tests): append-only, so a restart keeps what was written, as a production Redis
 * configured for aedes' persistence would; the bench keeps nothing. A missing redis-server throws with the package
 * to install (the tests check first with missingTools, to skip outside CI).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
export function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

export interface LocalRedis {
  url: string;
  port: number;
  /** the running server's pid (0 while stopped) */
  readonly pid: number;
  /** SIGKILL (a crash) or a clean shutdown; the data directory stays for restart() */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** starts it again on the same port and directory */
  restart(): Promise<void>;
  /** stops it and removes its directory */
  destroy(): Promise<void>;
}

export async function startRedis(o: { persistent?: boolean } = {}): Promise<LocalRedis> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'anxin-redis-'));
  const port = await freePort();
  const persistence = o.persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  let proc: ChildProcess | undefined;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill(signal);
    });
  };
  const start = async () => {
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence, '--save', '', '--protected-mode', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    proc = p;
    for (let i = 0; i < 100; i++) {
      if (await accepting(port)) return;
      if (p.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await stop('SIGKILL');
    throw new Error(`redis-server did not listen on 127.0.0.1:${port}`);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return proc?.pid ?? 0;
    },
    stop,
    restart: start,
    async destroy() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
