/**
 * The alarm journal: an fsync'd, append-only JSON-lines file. Every alarm-bearing message is written here
 * BEFORE its database transaction, and marked done after COMMIT. After a crash or a database outage the
 * pending entries are replayed; the message's de-duplication key makes each replay land exactly once.
 *
 * Group commit: `add` writes its line at once (so the file always holds it before the transaction starts) and
 * resolves when an fsync that began after the write has finished. The fsync runs on a thread of its own (a
 * worker with its own descriptor of the file: fsync flushes the file, whichever descriptor wrote), not on the
 * event loop, and lines added while one is running share the next one. A synchronous fsync per line (plus one
 * per `done`) had been a fifth of the gateway's main-thread time under the fuzz bench, and the event loop stood
 * still for each one. Not libuv's thread pool either: argon2 logins fill it (a flood of Zigbee2MQTT bridge
 * logins held every alarm commit behind them in the bench). `done` lines are not fsync'd on their own: if a
 * crash loses one, the entry is replayed and its de-duplication key makes the replay a no-op; they reach the
 * disk with the next fsync.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** The fsync thread: `{}` → fsync, answer `{ error? }`; `{ reopen: true }` → the file was replaced (compaction). */
const SYNCER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
let fd = fs.openSync(workerData.file, 'a');
parentPort.on('message', (m) => {
  if (m.reopen) {
    fs.closeSync(fd);
    fd = fs.openSync(workerData.file, 'a');
    return;
  }
  let error;
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    error = String(e && e.message);
  }
  parentPort.postMessage({ error });
});
`;

type Round = { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void };
import { dirname, join } from 'node:path';

export interface JournalEntry<T = unknown> {
  key: string;
  at: string;
  payload: T;
}

type Line = { op: 'add'; key: string; at: string; payload: unknown } | { op: 'done'; key: string };

export class Journal<T = unknown> {
  private fd: number;
  private readonly file: string;
  private pending = new Map<string, JournalEntry<T>>();
  private lines = 0;
  /** the round whose fsync is running on the syncer thread */
  private current: Round | undefined;
  /** lines written since the running fsync began wait for this round */
  private nextRound: Round | undefined;
  private syncer: Worker | undefined;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'alarms.journal');
    this.load();
    this.fd = openSync(this.file, 'a');
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    for (const text of readFileSync(this.file, 'utf8').split('\n')) {
      if (!text.trim()) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue; // a torn last line from a crash mid-write: its message was never acknowledged
      }
      this.lines++;
      if (line.op === 'add') this.pending.set(line.key, { key: line.key, at: line.at, payload: line.payload as T });
      else this.pending.delete(line.key);
    }
  }

  private append(line: Line): void {
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    this.lines++;
  }

  /** Resolves when every line written so far is on disk (one fsync shared by all lines written meanwhile). */
  sync(): Promise<void> {
    if (!this.nextRound) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.nextRound = { promise, resolve, reject };
    }
    const p = this.nextRound.promise;
    if (!this.current) this.startSync();
    return p;
  }

  private startSync(): void {
    this.current = this.nextRound!;
    this.nextRound = undefined;
    try {
      this.thread().postMessage({});
    } catch (e) {
      this.synced(e as Error);
    }
  }

  private synced(err?: Error): void {
    const round = this.current;
    if (!round) return; // answered already (the thread was lost, or the journal closed)
    this.current = undefined;
    if (err) round.reject(err);
    else round.resolve();
    if (this.nextRound) this.startSync();
    else this.maybeCompact();
  }

  private thread(): Worker {
    if (this.syncer) return this.syncer;
    const w = new Worker(SYNCER, { eval: true, workerData: { file: this.file } });
    w.unref(); // never what keeps a process alive
    w.on('message', (m: { error?: string }) => this.synced(m.error === undefined ? undefined : new Error(`journal fsync failed: ${m.error}`)));
    const lost = (e: Error) => {
      if (this.syncer !== w) return;
      this.syncer = undefined;
      // the round in flight is answered by a synchronous fsync here; the next round starts a new thread
      if (this.current) {
        try {
          fsyncSync(this.fd);
          this.synced();
        } catch {
          this.synced(e);
        }
      }
    };
    w.on('error', lost);
    w.on('exit', () => lost(new Error('journal fsync thread exited')));
    this.syncer = w;
    return w;
  }

  /**
   * Records an entry: the line is written at once (the entry is pending from now on) and the promise resolves
   * when it is on disk. Rejects if the fsync failed. For a key already pending (a device retransmission) no
   * line is written.
   */
  add(key: string, payload: T): Promise<void> {
    if (this.pending.has(key)) return this.sync();
    const at = new Date().toISOString();
    this.append({ op: 'add', key, at, payload });
    this.pending.set(key, { key, at, payload });
    return this.sync();
  }

  done(key: string): void {
    if (!this.pending.has(key)) return;
    this.append({ op: 'done', key });
    this.pending.delete(key);
    this.maybeCompact();
  }

  /**
   * Sets a pending entry aside: the database refuses it for what it holds (not for being down), so replaying it
   * again would block every entry behind it. It is appended to `rejected.jsonl` beside the journal (fsync'd: kept
   * for an operator, never lost), then marked done.
   */
  reject(key: string, reason: string): void {
    const e = this.pending.get(key);
    if (!e) return;
    const fd = openSync(join(dirname(this.file), 'rejected.jsonl'), 'a');
    try {
      writeSync(fd, `${JSON.stringify({ ...e, reason, rejectedAt: new Date().toISOString() })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.done(key);
  }

  private maybeCompact(): void {
    // never while an fsync holds the file descriptor
    if (this.pending.size === 0 && this.lines > 10_000 && !this.current && !this.nextRound) this.compact();
  }

  has(key: string): boolean {
    return this.pending.has(key);
  }

  get depth(): number {
    return this.pending.size;
  }

  entries(): JournalEntry<T>[] {
    return [...this.pending.values()];
  }

  /** Rewrites the file with only the pending entries (atomic rename). */
  private compact(): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    for (const e of this.pending.values()) writeSync(fd, `${JSON.stringify({ op: 'add', key: e.key, at: e.at, payload: e.payload })}\n`);
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.fd);
    renameSync(tmp, this.file);
    this.fd = openSync(this.file, 'a');
    // the syncer's descriptor still points at the replaced file (messages are handled in order)
    this.syncer?.postMessage({ reopen: true });
    this.lines = this.pending.size;
  }

  close(): void {
    // lines written since the last fsync (done lines) go to disk before the file is closed
    fsyncSync(this.fd);
    closeSync(this.fd);
    const w = this.syncer;
    this.syncer = undefined;
    void w?.terminate();
    // that fsync covered every line written: rounds still waiting are done
    for (const r of [this.current, this.nextRound]) r?.resolve();
    this.current = this.nextRound = undefined;
  }
}
