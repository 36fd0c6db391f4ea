/**
 * A pseudo-terminal pair joined by socat, so a simulated receiver and the automation side can talk over a
 * real tty with `serialport`:
 *
 *   socat -d -d pty,raw,echo=0,link=<dir>/a pty,raw,echo=0,link=<dir>/b
 *
 * Notes: socat exits when either side's last holder closes it (the master then reads EIO), so make one pair per
 * session and close it when done. Baud, parity and data bits are accepted on a pty and have no effect.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** path of one end (a symlink to /dev/pts/N) */
  a: string;
  /** path of the other end */
  b: string;
  /** the /dev/pts paths socat reported, when it did */
  devices: string[];
  /** socat's process id */
  pid: number | undefined;
  /** stop socat (only the process we started) and remove the links' directory */
  close(): Promise<void>;
}

export interface PtyOptions {
  /** directory for the links; default a fresh mkdtemp under the OS temp dir (removed on close) */
  dir?: string;
  /** how long to wait for both links; default 5000 ms */
  timeoutMs?: number;
  /** socat binary; default `socat` on PATH */
  socat?: string;
}

/** Path of socat on PATH, or null. */
export function findSocat(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v socat'], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p.length > 0 ? p : null;
}

export async function createPtyPair(opts: PtyOptions = {}): Promise<PtyPair> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'anxin-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const timeoutMs = opts.timeoutMs ?? 5000;
  const child: ChildProcess = spawn(
    opts.socat ?? 'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const devices: string[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    stderr += d;
    for (const m of d.matchAll(/PTY is (\S+)/g)) devices.push(m[1]!);
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      resolve();
    });
  });

  const cleanupDir = () => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  const close = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 1000);
      await exitPromise;
      clearTimeout(t);
    }
    cleanupDir();
  };

  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(a) && existsSync(b))) {
    if (exited) {
      cleanupDir();
      throw new Error(`socat ended before the pty links appeared${spawnError ? `: ${spawnError.message}` : ''}\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`socat: pty links did not appear within ${timeoutMs} ms\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { a, b, devices, pid: child.pid, close };
}
