import type { Queryable } from './db.js';
import { camel } from './rows.js';

export const AGENT_STATES = ['ready', 'not_ready', 'away', 'wrap_up', 'on_call'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface AgentStatus {
  userId: number;
  extension: string | null;
  state: AgentState;
  since: Date;
  idleSince: Date | null;
  signedIn: boolean;
}

export async function getAgentStatus(c: Queryable, userId: number): Promise<AgentStatus | undefined> {
  const r = await c.query('SELECT * FROM agent_status WHERE user_id = $1', [userId]);
  return r.rows[0] ? camel<AgentStatus>(r.rows[0]) : undefined;
}

/** Sets an agent's state; `idle_since` restarts whenever the agent becomes ready (longest idle first). */
export async function setAgentState(c: Queryable, userId: number, state: AgentState, patch: { extension?: string | null; signedIn?: boolean } = {}): Promise<AgentStatus> {
  const r = await c.query(
    `INSERT INTO agent_status (user_id, state, since, idle_since, extension, signed_in)
     VALUES ($1, $2, now(), CASE WHEN $2 = 'ready' THEN now() END, $3, COALESCE($4, false))
     ON CONFLICT (user_id) DO UPDATE SET
       since = CASE WHEN agent_status.state = EXCLUDED.state THEN agent_status.since ELSE now() END,
       idle_since = CASE WHEN EXCLUDED.state = 'ready' AND agent_status.state <> 'ready' THEN now()
                         WHEN EXCLUDED.state = 'ready' THEN agent_status.idle_since ELSE NULL END,
       state = EXCLUDED.state,
       extension = CASE WHEN $5 THEN EXCLUDED.extension ELSE agent_status.extension END,
       signed_in = COALESCE($4, agent_status.signed_in)
     RETURNING *`,
    [userId, state, patch.extension ?? null, patch.signedIn ?? null, patch.extension !== undefined],
  );
  return camel<AgentStatus>(r.rows[0]);
}

export async function listAgentStatus(c: Queryable): Promise<(AgentStatus & { username: string; displayName: string; role: string })[]> {
  const r = await c.query(
    `SELECT a.*, u.username, u.display_name, u.role FROM agent_status a JOIN users u ON u.id = a.user_id WHERE NOT u.disabled ORDER BY u.id`,
  );
  return r.rows.map((x) => camel(x));
}

/** ACD: the signed-in ready agent who has been idle longest. */
export async function longestIdleReady(c: Queryable): Promise<AgentStatus | undefined> {
  const r = await c.query(`SELECT * FROM agent_status WHERE signed_in AND state = 'ready' ORDER BY idle_since ASC NULLS LAST, user_id LIMIT 1`);
  return r.rows[0] ? camel<AgentStatus>(r.rows[0]) : undefined;
}

export async function signedInAgents(c: Queryable): Promise<AgentStatus[]> {
  const r = await c.query(`SELECT * FROM agent_status WHERE signed_in AND state <> 'away'`);
  return r.rows.map((x) => camel<AgentStatus>(x));
}

export async function supervisorIds(c: Queryable): Promise<number[]> {
  const r = await c.query(`SELECT id FROM users WHERE role IN ('supervisor', 'admin') AND NOT disabled`);
  return r.rows.map((x) => Number(x.id));
}
