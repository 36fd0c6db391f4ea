/** What the gateway and its alarm commit thread say to each other (commit-thread.ts, commit-worker.ts). */
import type { JournalPayload } from './commit-tx.js';
import type { EscalationPass } from './escalate-tx.js';

/** The thread's connections' application_name in pg_stat_activity. */
export const COMMIT_THREAD_NAME = 'anxin-alarm-commit';

export interface CommitThreadSetup {
  databaseUrl: string;
  poolSize: number;
}
export type CommitRequest =
  | { op: 'commit'; id: number; key: string; payload: JournalPayload; online: number[] | null; now: Date }
  | { op: 'escalate'; id: number; now: Date; online: number[] | null }
  | { op: 'offer'; id: number; userIds: number[] }
  | { op: 'stop' };
/**
 * `outcome`: a CommitOutcome, an EscalationPass or an offer's answer, as the request's op. `escalated`: the steps
 * the thread ran by itself right after a commit that raised alarms (commit-worker.ts).
 */
export type CommitReply = { id: number; outcome: unknown } | { id: number; error: { message: string; code?: string } } | { escalated: EscalationPass };
