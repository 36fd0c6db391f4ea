/**
 * Command-line tools the tests drive (mosquitto_pub/mosquitto_sub from Debian's mosquitto-clients, openssl).
 * Outside CI a missing tool skips the tests that need it, with a message; with CI=true it fails the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export function findTool(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** True when the tests needing `names` must be skipped. */
export function missingTools(names: string[], apt: string): boolean {
  const missing = names.filter((n) => !findTool(n));
  if (!missing.length) return false;
  const msg = `${missing.join(', ')} not installed (apt-get install ${apt})`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${msg}`);
  console.warn(`skipping tests that need ${msg}`);
  return true;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; the kill timer is only a safety net, never an assertion. */
export function run(cmd: string, args: string[], input?: string, safetyMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), safetyMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(input ?? '');
  });
}

/** A long-running tool whose output lines the test waits on. */
export class Running {
  readonly lines: string[] = [];
  private waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly proc: ChildProcess) {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) this.line(l);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    this.exited = new Promise((r) => proc.on('close', (code) => r(code)));
  }

  static start(cmd: string, args: string[]): Running {
    return new Running(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  private line(l: string): void {
    this.lines.push(l);
    this.waiters = this.waiters.filter((w) => (w.pred(l) ? (w.resolve(l), false) : true));
  }

  /** Resolves with the first line (seen or to come) that matches. */
  waitFor(pred: (l: string) => boolean): Promise<string> {
    const seen = this.lines.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  stop(): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
    return this.exited;
  }
}
