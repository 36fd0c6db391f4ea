/**
 * Escalation's automatic callbacks as durable requests (issue 24, migration 0022): written with the step that asks
 * for one, run by the node holding telephony (gateway/alarm-callbacks.ts).
 */
import type { Queryable } from './db.js';

export interface CallbackRequest {
  alarmId: number;
  plan: Record<string, unknown>;
  requestedAt: Date;
  runs: number;
}

/** In the escalation step's transaction. A second request for the alarm (a re-run step) changes nothing. */
export async function requestCallback(c: Queryable, alarmId: number, plan: unknown): Promise<void> {
  await c.query(`INSERT INTO alarm_callbacks (alarm_id, plan) VALUES ($1, $2) ON CONFLICT (alarm_id) DO NOTHING`, [alarmId, JSON.stringify(plan ?? {})]);
}

/**
 * The open requests not running here, oldest first, marked as run by `node`. Only the telephony holder calls this,
 * so a request another node started and never finished is one whose holder died (or lost telephony): it runs again.
 */
export async function takeOpenCallbacks(c: Queryable, node: string, runningHere: number[], limit = 50): Promise<CallbackRequest[]> {
  const r = await c.query(
    `UPDATE alarm_callbacks SET started_by = $1, started_at = now(), runs = runs + 1
      WHERE alarm_id IN (SELECT alarm_id FROM alarm_callbacks WHERE done_at IS NULL AND NOT (alarm_id = ANY($2::bigint[]))
                          ORDER BY requested_at LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING alarm_id, plan, requested_at, runs`,
    [node, runningHere, limit],
  );
  return r.rows
    .map((x) => ({ alarmId: Number(x.alarm_id), plan: x.plan as Record<string, unknown>, requestedAt: x.requested_at as Date, runs: Number(x.runs) }))
    .sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime());
}

export async function finishCallback(c: Queryable, alarmId: number, outcome: string): Promise<void> {
  await c.query(`UPDATE alarm_callbacks SET done_at = now(), outcome = $2 WHERE alarm_id = $1 AND done_at IS NULL`, [alarmId, outcome]);
}
