/**
 * The journal line is written before the alarm's transaction starts, and its fsync neither delays the transaction
 * nor the acknowledgement (issue 25): an alarm is acknowledged once committed in PostgreSQL (durable by itself). A
 * commit never resolves while its transaction runs; a failed transaction fails the commit (not acknowledged) and
 * leaves the line pending for the replay; a failed fsync of a committed alarm loses nothing.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AlarmService, type Committer } from '../../../gateway/alarms/alarm-service.js';
import type { CommitOutcome, JournalPayload } from '../../../gateway/alarms/commit-tx.js';
import { Bus } from '../../../gateway/bus.js';
import { createMetrics } from '../../../gateway/metrics.js';
import type { Db } from '../../../gateway/store/db.js';
import type { Alarm } from '../../../gateway/store/alarms.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A journal whose fsync the test finishes by hand. */
class HandJournal {
  readonly synced = new Map<string, ReturnType<typeof deferred<void>>>();
  readonly done: string[] = [];
  add(key: string): Promise<void> {
    const d = deferred<void>();
    this.synced.set(key, d);
    return d.promise;
  }
  markDone(key: string) {
    this.done.push(key);
  }
  get depth() {
    return this.synced.size - this.done.length;
  }
}

function setup() {
  const journal = new HandJournal();
  const txs: { key: string; payload: JournalPayload; answer: ReturnType<typeof deferred<CommitOutcome>> }[] = [];
  const committer: Committer = (key, payload) => {
    const answer = deferred<CommitOutcome>();
    txs.push({ key, payload, answer });
    return answer.promise;
  };
  const j = { add: (k: string) => journal.add(k), done: (k: string) => journal.markDone(k), get depth() { return journal.depth; } };
  const svc = new AlarmService(undefined as unknown as Db, new Bus(), createMetrics(), j as never, undefined, pino({ level: 'silent' }), committer);
  return { svc, journal, txs };
}

const alarm = { id: 7, kind: 'sos', sourceKey: 'w1' } as Alarm;
const raised: CommitOutcome = { done: true, changes: [{ alarm, action: 'raised' }], tests: [] };
const msg = () => ({ protocol: 'watch' as const, deviceId: 'w1', kind: 'alarm' as const, receivedAt: new Date(), raw: '[3G*w1*0004*AL]' });
const device = { id: 1, identifier: 'w1', elderId: null, protocol: 'watch' };
const settled = async (p: Promise<unknown>) => {
  let s = false;
  p.then(() => (s = true), () => (s = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return s;
};

describe('alarm commit: the journal fsync and the transaction', () => {
  it('the line is written before the transaction starts, which does not wait for the fsync; the commit resolves when the transaction does', async () => {
    const { svc, journal, txs } = setup();
    const p = svc.commit(msg(), device, [{ kind: 'sos' }], []);
    await settled(Promise.resolve());
    expect(txs).toHaveLength(1); // started with the fsync still running
    const key = txs[0]!.key;
    expect(journal.synced.has(key)).toBe(true);
    expect(await settled(p)).toBe(false); // never before the transaction's answer
    txs[0]!.answer.resolve(raised);
    expect((await p).map((a) => a.id)).toEqual([7]);
    expect(journal.done).toEqual([key]);
    journal.synced.get(key)!.resolve();
  });

  it('a failed transaction fails the commit (not acknowledged), and the line stays pending for the replay', async () => {
    const { svc, journal, txs } = setup();
    const p = svc.commit(msg(), device, [{ kind: 'sos' }], []);
    await settled(Promise.resolve());
    txs[0]!.answer.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }));
    await expect(p).rejects.toThrow(/refused/);
    expect(journal.done).toEqual([]);
    journal.synced.get(txs[0]!.key)!.resolve();
  });

  it('a failed fsync of a committed alarm is logged, and the alarm stays committed and acknowledged', async () => {
    const { svc, journal, txs } = setup();
    const p = svc.commit(msg(), device, [{ kind: 'sos' }], []);
    await settled(Promise.resolve());
    journal.synced.get(txs[0]!.key)!.reject(new Error('EIO: fsync'));
    txs[0]!.answer.resolve(raised);
    expect((await p).map((a) => a.id)).toEqual([7]);
  });
});
