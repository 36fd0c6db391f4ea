/**
 * The commit thread's side (commit-thread.ts starts it): a pool of its own on the alarm database, the transaction
 * of commit-tx.ts for each message the gateway sends, and escalation's (escalate-tx.ts). Nothing else runs on this
 * loop, so the transactions' round trips are answered at once however busy the gateway's loop is with device traffic.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createPool } from '../store/db.js';
import { commitInDb, type JournalPayload } from './commit-tx.js';
import { escalateDue, escalateInDb, offerInDb } from './escalate-tx.js';
import { COMMIT_THREAD_NAME, type CommitReply, type CommitRequest, type CommitThreadSetup } from './commit-thread-types.js';

if (!parentPort) throw new Error('commit-worker.ts runs as the alarm commit thread (commit-thread.ts)');
const port = parentPort;
const setup = workerData as CommitThreadSetup;
const db = createPool(setup.databaseUrl, setup.poolSize, COMMIT_THREAD_NAME);

const answer = (id: number, work: Promise<unknown>) =>
  work.then(
    (outcome) => port.postMessage({ id, outcome } satisfies CommitReply),
    (e: unknown) => {
      const err = e as { message?: string; code?: string } | null;
      port.postMessage({ id, error: { message: String(err?.message ?? e), code: err?.code } } satisfies CommitReply);
    },
  );

/**
 * A commit answers at once (the device's ack waits for it); if it raised alarms, the thread then runs the steps due
 * at once for those alarms (the screen-pop) without waiting for the gateway to ask, and sends what they did. Those are the
 * escalator's own transactions (under the row lock, SKIP LOCKED: a pass the gateway runs meanwhile takes other rows).
 * If they fail, the commit still stands: the gateway's escalator runs them on its next pass (1 s).
 */
async function commitThenEscalate(id: number, key: string, payload: JournalPayload, online: number[] | null, now: Date): Promise<void> {
  const committed = commitInDb(db, key, payload);
  await answer(id, committed);
  const outcome = await committed.catch(() => undefined);
  const raised = outcome?.changes.filter((c) => c.action === 'raised').map((c) => c.alarm.id);
  if (!raised?.length) return;
  // only the alarms this commit raised: older alarms' due steps are the escalator's pass (escalateDue)
  const escalated = await escalateDue(db, now, online, raised).catch(() => undefined);
  if (escalated?.steps.length) port.postMessage({ escalated } satisfies CommitReply);
}

port.on('message', (m: CommitRequest) => {
  if (m.op === 'stop') {
    void db.end().finally(() => port.close());
    return;
  }
  if (m.op === 'commit') void commitThenEscalate(m.id, m.key, m.payload, m.online, m.now);
  else void answer(m.id, m.op === 'escalate' ? escalateInDb(db, m.now, m.online) : offerInDb(db, m.userIds));
});
