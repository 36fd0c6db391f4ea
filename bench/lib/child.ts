/**
 * Child processes for the bench, with a small request/response protocol over IPC. The measured parts (the
 * gateway, the framing floors, the brokers) each run in their own process, so their CPU and memory are
 * theirs alone; the bench process drives them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  pid: number;
  /** rejects after timeoutMs (default 120 s), so a wedged child cannot hold a scenario forever */
  call<T = unknown>(op: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** resolves with the exit code when the process ends */
  exited: Promise<number | null>;
  /** asks it to stop (op 'stop'), then kills it after graceMs */
  stop(graceMs?: number): Promise<void>;
}

export interface ChildOptions {
  env?: Record<string, string>;
  /** node flags besides the TypeScript loader, e.g. --expose-gc, --cpu-prof */
  execArgv?: string[];
  /** stdout and stderr go to this file (default: inherited) */
  logFile?: string;
  /** how long to wait for the child's { ready } message */
  startTimeoutMs?: number;
}

/** Forks `file` (a .ts module under bench/) and waits until it reports { ready: true, ... }. */
export async function startChild(file: string, o: ChildOptions = {}): Promise<{ child: Child; ready: Record<string, unknown> }> {
  const out = o.logFile ? openSync(o.logFile, 'a') : 'inherit';
  const proc: ChildProcess = fork(file, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(o.execArgv ?? [])],
    env: { ...process.env, ...o.env },
    stdio: ['ignore', out, out, 'ipc'],
  });
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  void exited.then((code) => {
    for (const c of calls.values()) c.reject(new Error(`${file} exited with ${code}`));
    calls.clear();
  });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within ${o.startTimeoutMs ?? 120_000} ms`)), o.startTimeoutMs ?? 120_000);
    proc.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: string; ready?: boolean; failed?: string }) => {
      if (m.ready) {
        clearTimeout(timer);
        resolve(m as Record<string, unknown>);
        return;
      }
      if (m.failed) {
        clearTimeout(timer);
        reject(new Error(`${file} failed to start: ${m.failed}`));
        return;
      }
      if (m.id === undefined) return;
      const c = calls.get(m.id);
      if (!c) return;
      calls.delete(m.id);
      if (m.ok) c.resolve(m.result);
      else c.reject(new Error(m.error));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before it was ready${o.logFile ? ` (log: ${o.logFile})` : ''}`));
    });
  });
  const child: Child = {
    pid: proc.pid ?? 0,
    call<T>(op: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        if (!proc.connected) return reject(new Error(`${file} is not running`));
        const timer = setTimeout(() => {
          calls.delete(id);
          reject(new Error(`${file}: no answer to ${op} within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = <F extends (x: never) => void>(f: F) => ((x: never) => (clearTimeout(timer), f(x))) as F;
        calls.set(id, { resolve: done(resolve as (v: unknown) => void), reject: done(reject) });
        proc.send({ id, op, args });
      });
    },
    exited,
    async stop(graceMs = 20_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await child.call('stop').catch(() => undefined);
      await exited;
      clearTimeout(kill);
    },
  };
  try {
    return { child, ready: await ready };
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
}

/** The child side: answers { id, op, args } with the handler's result; 'stop' is answered, then the process exits. */
export function serve(handlers: Record<string, (args: never) => unknown>, onStop?: () => Promise<void>): void {
  process.on('message', (m: { id: number; op: string; args: unknown }) => {
    const h = handlers[m.op];
    const run = async () => {
      if (m.op === 'stop') {
        await onStop?.();
        return null;
      }
      if (!h) throw new Error(`unknown op ${m.op}`);
      return h(m.args as never);
    };
    run().then(
      (result) => {
        process.send?.({ id: m.id, ok: true, result });
        if (m.op === 'stop') setImmediate(() => process.exit(0));
      },
      (e: unknown) => process.send?.({ id: m.id, ok: false, error: (e as Error).message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

/** Tells the parent the child is ready, with whatever it needs to know (ports). */
export function ready(info: Record<string, unknown> = {}): void {
  process.send?.({ ready: true, ...info });
}

export function failed(e: unknown): void {
  process.send?.({ failed: (e as Error).stack ?? String(e) });
}
