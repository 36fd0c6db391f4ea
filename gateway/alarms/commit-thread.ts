/**
 * Alarm commits on a thread of their own (issue 25). Under 10,000 reports/s the gateway's event loop takes
 * 30–180 ms a turn, and each of a commit's round trips (BEGIN, claim, raise, recurrence, ids, COMMIT) waited one
 * turn: the slowest commits took 100–330 ms. On this thread (its own loop and its own connections, commit-worker.ts)
 * the whole transaction waits for the loop once, when its outcome comes back.
 *
 * Escalation's transactions (a new alarm's screen-pop among them) run here too, for the same reason.
 *
 * A thread that dies (out of memory, a bug) fails the commits in flight (not acknowledged: the journal keeps them
 * and the devices retransmit) and is started again for the next one.
 */
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { COMPILED } from '../paths.js';
import type { CommitOutcome, JournalPayload } from './commit-tx.js';
import type { Effect, EscalationPass } from './escalate-tx.js';
import type { CommitReply, CommitRequest, CommitThreadSetup } from './commit-thread-types.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** tsx's ESM register API, by path: an eval'd thread resolves bare names from the working directory, not from here */
const TSX_API = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;

/** A commit the thread could not make; `code` is PostgreSQL's (or the driver's) error code, as the pool's errors carry it. */
export class CommitError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class CommitThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: unknown) => void; reject: (e: Error) => void }>();
  private stopped = false;

  constructor(private readonly setup: CommitThreadSetup) {}

  /** Starts the thread now, so the first alarm does not wait for it to load. */
  start(): void {
    this.thread();
  }

  /**
   * `online`: who has a dashboard open, for the escalation steps run right after the commit (commit-worker.ts),
   * judged due at `now`: the gateway's clock, which the alarm's escalation start came from too.
   */
  commit(key: string, payload: JournalPayload, online: number[] | null = null, now = new Date()): Promise<CommitOutcome> {
    return this.ask<CommitOutcome>({ op: 'commit', id: this.nextId++, key, payload, online, now });
  }

  escalate(now: Date, online: number[] | null): Promise<EscalationPass> {
    return this.ask<EscalationPass>({ op: 'escalate', id: this.nextId++, now, online });
  }

  offer(userIds: number[]): Promise<{ offered: number; effects: Effect[] }> {
    return this.ask({ op: 'offer', id: this.nextId++, userIds });
  }

  private ask<T>(m: Exclude<CommitRequest, { op: 'stop' }>): Promise<T> {
    if (this.stopped) return Promise.reject(new CommitError('the alarm commit thread is stopped'));
    const w = this.thread();
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) w.ref();
      this.pending.set(m.id, { resolve: resolve as (o: unknown) => void, reject });
      w.postMessage(m);
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    // the thread runs what the gateway runs: the compiled tree, or the TypeScript sources under tsx (a worker does
    // not inherit the parent's loader, and `--import tsx` in its execArgv is not applied to its entry)
    const w = COMPILED
      ? new Worker(join(HERE, 'commit-worker.js'), { workerData: this.setup })
      : new Worker(
          `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(join(HERE, 'commit-worker.ts')).href)}); });`,
          { eval: true, workerData: this.setup },
        );
    // idle, it does not keep the process alive; a commit in flight does
    w.unref();
    w.on('message', (m: CommitReply) => this.answer(m));
    w.on('error', (e) => this.lost(w, e));
    w.on('exit', (code) => this.lost(w, new CommitError(`the alarm commit thread exited (code ${code})`)));
    this.worker = w;
    return w;
  }

  /**
   * The steps the thread ran by itself right after a commit that raised alarms (the screen-pop). Called after the
   * commit's own outcome has been handled (its alarm.changed 'raised' first).
   */
  onEscalated: ((pass: EscalationPass) => void) | undefined;

  private answer(m: CommitReply): void {
    if ('escalated' in m) {
      // the commit's reply came first on this port; its handlers run in promise jobs, done by the check phase
      const pass = m.escalated;
      setImmediate(() => this.onEscalated?.(pass));
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('outcome' in m) p.resolve(m.outcome);
    else p.reject(new CommitError(m.error.message, m.error.code));
  }

  private lost(w: Worker, e: Error): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(e instanceof CommitError ? e : new CommitError(e.message));
    this.pending.clear();
  }

  /** Lets the commits in flight finish (up to `ms`), then ends the thread and its connections. */
  async stop(ms = 5000): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    if (!w) return;
    const deadline = Date.now() + ms;
    while (this.pending.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    w.ref();
    const exited = new Promise<void>((r) => w.once('exit', () => r()));
    w.postMessage({ op: 'stop' } satisfies CommitRequest);
    const timer = setTimeout(() => void w.terminate(), Math.max(500, deadline - Date.now()));
    await exited;
    clearTimeout(timer);
  }
}
