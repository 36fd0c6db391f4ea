import type { Queryable } from './db.js';
import { camel } from './rows.js';

/**
 * handling (处理中): holds an accepted alarm, so it is out of the ready pool until it is resolved.
 * ringing (振铃): the agent's phone rings with a hotline call (issue 19); out of the pool, idle_since kept.
 */
export const AGENT_STATES = ['ready', 'not_ready', 'away', 'wrap_up', 'on_call', 'handling', 'ringing'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface AgentStatus {
  userId: number;
  extension: string | null;
  state: AgentState;
  since: Date;
  idleSince: Date | null;
  signedIn: boolean;
  /** while in wrap-up: when it ends by itself (自动置闲) */
  wrapUpUntil: Date | null;
  /** why the state was set, when the system set it (置忙 after a missed hotline call: no_answer, busy…) */
  reason: string | null;
}

/** `lock`: FOR UPDATE, so two changes of one agent (the phone and the ACD) do not interleave. */
export async function getAgentStatus(c: Queryable, userId: number, lock = false): Promise<AgentStatus | undefined> {
  const r = await c.query(`SELECT * FROM agent_status WHERE user_id = $1${lock ? ' FOR UPDATE' : ''}`, [userId]);
  return r.rows[0] ? camel<AgentStatus>(r.rows[0]) : undefined;
}

/**
 * Sets an agent's state; `idle_since` restarts whenever the agent becomes ready (longest idle first), except
 * from ringing: a hotline call that rang and was cancelled by the caller must not cost the agent their place
 * (ringing keeps idle_since for that). `reason` is stored with this state and cleared by the next change.
 */
export async function setAgentState(c: Queryable, userId: number, state: AgentState, patch: { extension?: string | null; signedIn?: boolean; wrapUpUntil?: Date | null; reason?: string } = {}): Promise<AgentStatus> {
  const r = await c.query(
    `INSERT INTO agent_status (user_id, state, since, idle_since, extension, signed_in, wrap_up_until, reason)
     VALUES ($1, $2, now(), CASE WHEN $2 = 'ready' THEN now() END, $3, COALESCE($4, false), $6, $7)
     ON CONFLICT (user_id) DO UPDATE SET
       wrap_up_until = EXCLUDED.wrap_up_until,
       since = CASE WHEN agent_status.state = EXCLUDED.state THEN agent_status.since ELSE now() END,
       idle_since = CASE WHEN EXCLUDED.state = 'ready' AND agent_status.state NOT IN ('ready', 'ringing') THEN now()
                         WHEN EXCLUDED.state IN ('ready', 'ringing') THEN COALESCE(agent_status.idle_since, now()) ELSE NULL END,
       reason = EXCLUDED.reason,
       state = EXCLUDED.state,
       extension = CASE WHEN $5 THEN EXCLUDED.extension ELSE agent_status.extension END,
       signed_in = COALESCE($4, agent_status.signed_in)
     RETURNING *`,
    [userId, state, patch.extension ?? null, patch.signedIn ?? null, patch.extension !== undefined, state === 'wrap_up' ? (patch.wrapUpUntil ?? null) : null, patch.reason ?? null],
  );
  return camel<AgentStatus>(r.rows[0]);
}

export async function listAgentStatus(c: Queryable): Promise<(AgentStatus & { username: string; displayName: string; role: string })[]> {
  const r = await c.query(
    `SELECT a.*, u.username, u.display_name, u.role FROM agent_status a JOIN users u ON u.id = a.user_id WHERE NOT u.disabled ORDER BY u.id`,
  );
  return r.rows.map((x) => camel(x));
}

/** Holds an accepted alarm (accepted or in progress): such an agent is never in the ready pool. */
const HOLDS_ALARM = `EXISTS (SELECT 1 FROM alarms al WHERE al.owner_id = agent_status.user_id AND al.state IN ('accepted', 'in_progress'))`;

/** ACD: the signed-in ready agent who has been idle longest (and holds no alarm, whatever the state says). */
export async function longestIdleReady(c: Queryable): Promise<AgentStatus | undefined> {
  const r = await c.query(`SELECT * FROM agent_status WHERE signed_in AND state = 'ready' AND NOT ${HOLDS_ALARM} ORDER BY idle_since ASC NULLS LAST, user_id LIMIT 1`);
  return r.rows[0] ? camel<AgentStatus>(r.rows[0]) : undefined;
}

/**
 * Hotline ACD (issue 19): the signed-in ready agent with an extension who has been idle longest, holds no
 * alarm, and is not in `exclude` (agents ringing for other callers, or who missed this one).
 */
export async function longestIdleForCall(c: Queryable, exclude: number[]): Promise<(AgentStatus & { displayName: string }) | undefined> {
  const r = await c.query(
    `SELECT agent_status.*, COALESCE(NULLIF(u.display_name, ''), u.username) AS display_name FROM agent_status JOIN users u ON u.id = agent_status.user_id
     WHERE agent_status.signed_in AND agent_status.state = 'ready' AND agent_status.extension IS NOT NULL AND NOT u.disabled
       AND NOT (agent_status.user_id = ANY($1::bigint[])) AND NOT ${HOLDS_ALARM}
     ORDER BY agent_status.idle_since ASC NULLS LAST, agent_status.user_id LIMIT 1`,
    [exclude],
  );
  return r.rows[0] ? camel(r.rows[0]) : undefined;
}

/** At start: agents a previous run left 振铃 (its calls died with it) are ready again, their place kept. */
export async function endStaleRinging(c: Queryable): Promise<AgentStatus[]> {
  const r = await c.query(`UPDATE agent_status SET state = 'ready', since = now(), reason = NULL WHERE state = 'ringing' RETURNING *`);
  return r.rows.map((x) => camel<AgentStatus>(x));
}

/** Whether any agent is signed in to an extension, whatever their state (else hotline callers overflow at once). */
export async function anyAgentSignedIn(c: Queryable): Promise<boolean> {
  const r = await c.query(`SELECT 1 FROM agent_status WHERE signed_in AND extension IS NOT NULL LIMIT 1`);
  return r.rowCount === 1;
}

/** Signed-in agents in wrap-up who hold no alarm: the first fallback for a P1 that finds nobody ready. */
export async function wrapUpAgents(c: Queryable): Promise<AgentStatus[]> {
  const r = await c.query(`SELECT * FROM agent_status WHERE signed_in AND state = 'wrap_up' AND NOT ${HOLDS_ALARM} ORDER BY since, user_id`);
  return r.rows.map((x) => camel<AgentStatus>(x));
}

/** Ids of the alarms a user holds (accepted or in progress). */
export async function heldAlarms(c: Queryable, userId: number): Promise<number[]> {
  const r = await c.query(`SELECT id FROM alarms WHERE owner_id = $1 AND state IN ('accepted', 'in_progress') ORDER BY id`, [userId]);
  return r.rows.map((x) => Number(x.id));
}

/**
 * Wrap-ups whose time is up end by themselves (自动置闲): ready again, or handling when the agent holds an alarm.
 * Returns the agents changed.
 */
export async function endDueWrapUps(c: Queryable, now: Date): Promise<AgentStatus[]> {
  const r = await c.query(
    `UPDATE agent_status SET state = CASE WHEN ${HOLDS_ALARM} THEN 'handling' ELSE 'ready' END,
       since = $1, idle_since = CASE WHEN ${HOLDS_ALARM} THEN NULL ELSE $1 END, wrap_up_until = NULL
     WHERE state = 'wrap_up' AND wrap_up_until IS NOT NULL AND wrap_up_until <= $1 RETURNING *`,
    [now],
  );
  return r.rows.map((x) => camel<AgentStatus>(x));
}

export async function signedInAgents(c: Queryable): Promise<AgentStatus[]> {
  const r = await c.query(`SELECT * FROM agent_status WHERE signed_in AND state <> 'away'`);
  return r.rows.map((x) => camel<AgentStatus>(x));
}

export async function supervisorIds(c: Queryable): Promise<number[]> {
  const r = await c.query(`SELECT id FROM users WHERE role IN ('supervisor', 'admin') AND NOT disabled`);
  return r.rows.map((x) => Number(x.id));
}

/** Who an extension is assigned to (users.extension) and who is signed in to it now. */
export async function extensionUse(c: Queryable, ext: string): Promise<{ assignedTo?: number; signedInBy?: number }> {
  const r = await c.query(
    `SELECT (SELECT id FROM users WHERE extension = $1 AND NOT disabled ORDER BY id LIMIT 1) AS assigned,
            (SELECT user_id FROM agent_status WHERE extension = $1 AND signed_in ORDER BY since LIMIT 1) AS signed`,
    [ext],
  );
  const row = r.rows[0];
  return { ...(row.assigned != null ? { assignedTo: Number(row.assigned) } : {}), ...(row.signed != null ? { signedInBy: Number(row.signed) } : {}) };
}
