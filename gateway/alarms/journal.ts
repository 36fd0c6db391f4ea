/**
 * The alarm journal: an fsync'd, append-only JSON-lines file. Every alarm-bearing message is written here
 * BEFORE its database transaction, and marked done after COMMIT. After a crash or a database outage the
 * pending entries are replayed; the message's de-duplication key makes each replay land exactly once.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

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
    fsyncSync(this.fd);
    this.lines++;
  }

  /** Durably records an entry (no-op if the same key is already pending, e.g. a device retransmission). */
  add(key: string, payload: T): void {
    if (this.pending.has(key)) return;
    const at = new Date().toISOString();
    this.append({ op: 'add', key, at, payload });
    this.pending.set(key, { key, at, payload });
  }

  done(key: string): void {
    if (!this.pending.has(key)) return;
    this.append({ op: 'done', key });
    this.pending.delete(key);
    if (this.pending.size === 0 && this.lines > 10_000) this.compact();
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
    this.lines = this.pending.size;
  }

  close(): void {
    closeSync(this.fd);
  }
}
