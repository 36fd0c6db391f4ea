/**
 * A cross-process lock (vitest runs test files in parallel forks). On a real Asterisk every inbound call goes
 * to the one app "anxin" (the dialplan's Stasis(anxin)), and a second WebSocket for an app replaces the first
 * (ApplicationReplaced), so only one test file at a time may use it. mkdir is atomic; the owner's pid is
 * written inside, and a lock whose owner is dead, or that is older than `staleMs`, is taken over.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function stale(dir: string, staleMs: number): boolean {
  try {
    const pid = Number(readFileSync(join(dir, 'owner'), 'utf8'));
    if (pid && !alive(pid)) return true;
    return Date.now() - statSync(dir).mtimeMs > staleMs;
  } catch {
    // no owner file yet: either being created right now or left half-made; give it a second
    try {
      return Date.now() - statSync(dir).mtimeMs > 1000;
    } catch {
      return false; // gone meanwhile
    }
  }
}

/** Takes the lock `name`; resolves with its release function. */
export async function acquireLock(name: string, o: { timeoutMs?: number; staleMs?: number } = {}): Promise<() => void> {
  const dir = join(tmpdir(), `anxin-lock-${name}`);
  const deadline = Date.now() + (o.timeoutMs ?? 290_000);
  const staleMs = o.staleMs ?? 300_000;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'owner'), String(process.pid));
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(dir, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (stale(dir, staleMs)) {
        // rename first (atomic: one taker wins), then check that what we moved really was the stale lock
        const tomb = `${dir}.stale-${process.pid}-${Date.now()}`;
        try {
          renameSync(dir, tomb);
        } catch {
          continue;
        }
        if (!stale(tomb, staleMs)) {
          try {
            renameSync(tomb, dir); // a fresh owner's lock: give it back
            continue;
          } catch {
            /* a third process made a new one meanwhile; drop the moved one */
          }
        }
        rmSync(tomb, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`lock ${dir} still held after ${o.timeoutMs ?? 180_000} ms`);
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 100));
    }
  }
}
