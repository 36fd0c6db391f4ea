/**
 * The commit thread's side (commit-thread.ts starts it): a pool of its own on the alarm database, the transaction
 * of commit-tx.ts for each message the gateway sends, and escalation's (escalate-tx.ts). Nothing else runs on this loop, so the
 * transaction's round trips are answered at once however busy the gateway's loop is with device traffic.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createPool } from '../store/db.js';
import { commitInDb } from './commit-tx.js';
import { escalateInDb, offerInDb } from './escalate-tx.js';
import { COMMIT_THREAD_NAME, type CommitReply, type CommitRequest, type CommitThreadSetup } from './commit-thread-types.js';

if (!parentPort) throw new Error('commit-worker.ts runs as the alarm commit thread (commit-thread.ts)');
const port = parentPort;
const setup = workerData as CommitThreadSetup;
const db = createPool(setup.databaseUrl, setup.poolSize, COMMIT_THREAD_NAME);

port.on('message', (m: CommitRequest) => {
  if (m.op === 'stop') {
    void db.end().finally(() => port.close());
    return;
  }
  const work = m.op === 'commit' ? commitInDb(db, m.key, m.payload) : m.op === 'escalate' ? escalateInDb(db, m.now, m.online) : offerInDb(db, m.userIds);
  work.then(
    (outcome) => port.postMessage({ id: m.id, outcome } satisfies CommitReply),
    (e: unknown) => {
      const err = e as { message?: string; code?: string } | null;
      port.postMessage({ id: m.id, error: { message: String(err?.message ?? e), code: err?.code } } satisfies CommitReply);
    },
  );
});
