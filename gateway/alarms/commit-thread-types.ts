/** What the gateway and its alarm commit thread say to each other (commit-thread.ts, commit-worker.ts). */
import type { CommitOutcome, JournalPayload } from './commit-tx.js';

/** The thread's connections' application_name in pg_stat_activity. */
export const COMMIT_THREAD_NAME = 'anxin-alarm-commit';

export interface CommitThreadSetup {
  databaseUrl: string;
  poolSize: number;
}
export type CommitRequest = { op: 'commit'; id: number; key: string; payload: JournalPayload } | { op: 'stop' };
export type CommitReply = { id: number; outcome: CommitOutcome } | { id: number; error: { message: string; code?: string } };
