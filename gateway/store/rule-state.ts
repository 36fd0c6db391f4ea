import type { Queryable } from './db.js';

/** A saved rule state with when it was written (`updated_at` as epoch ms, with the microseconds as a fraction). */
export interface SavedRuleState {
  state: unknown;
  at: number;
}

const AT = '(extract(epoch FROM updated_at) * 1000)::float8 AS at';

export async function loadRuleStates(c: Queryable): Promise<Map<number, SavedRuleState>> {
  const r = await c.query(`SELECT device_id, state, ${AT} FROM device_rule_state`);
  return new Map(r.rows.map((x) => [Number(x.device_id), { state: x.state, at: x.at }]));
}

/**
 * Saves the states. With `written` (cluster mode), answers when each row was written, to tell this node's own rows
 * from the others' (issue 24); one node does not pay for the answer (10,000 rows a pass in the bench).
 */
export async function saveRuleStates(c: Queryable, states: [number, unknown][], written = false): Promise<Map<number, number>> {
  if (!states.length) return new Map();
  const r = await c.query(
    `INSERT INTO device_rule_state (device_id, state) SELECT * FROM unnest($1::bigint[], $2::jsonb[])
     ON CONFLICT (device_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()${written ? `
     RETURNING device_id, ${AT}` : ''}`,
    [states.map((s) => s[0]), states.map((s) => JSON.stringify(s[1]))],
  );
  return new Map(r.rows.map((x) => [Number(x.device_id), x.at as number]));
}

/**
 * The saved states of these devices (by primary key), for a node about to handle devices another node handled
 * (issue 24): one query for all the devices whose first message arrived in the same moment (a reconnect storm).
 */
export async function ruleStatesOf(c: Queryable, deviceIds: number[]): Promise<Map<number, SavedRuleState>> {
  const r = await c.query(`SELECT device_id, state, ${AT} FROM device_rule_state WHERE device_id = ANY($1::bigint[])`, [deviceIds]);
  return new Map(r.rows.map((x) => [Number(x.device_id), { state: x.state, at: x.at }]));
}

/**
 * The states saved after `sinceMs` (an `at` of an earlier answer), with what the rules need of their devices:
 * what the other nodes saved since the leader's last merge (issue 24). Disabled devices are left out, as at load.
 */
export async function ruleStatesSince(
  c: Queryable,
  sinceMs: number,
): Promise<(SavedRuleState & { deviceId: number; identifier: string; protocol: string; elderId: number | null })[]> {
  const r = await c.query(
    `SELECT s.device_id AS "deviceId", s.state, (extract(epoch FROM s.updated_at) * 1000)::float8 AS at,
            d.identifier, d.protocol, d.elder_id AS "elderId"
     FROM device_rule_state s JOIN devices d ON d.id = s.device_id
     WHERE s.updated_at > to_timestamp($1::float8 / 1000) AND d.state <> 'disabled'`,
    [sinceMs],
  );
  return r.rows;
}

/** Every registered device with what the rules need to start: last seen, elder, protocol. */
export async function devicesForRules(c: Queryable): Promise<{ id: number; identifier: string; protocol: string; elderId: number | null; lastSeen: Date | null; createdAt: Date; meta: Record<string, unknown> }[]> {
  const r = await c.query(`SELECT id, identifier, protocol, elder_id AS "elderId", last_seen AS "lastSeen", created_at AS "createdAt", meta FROM devices WHERE state <> 'disabled'`);
  return r.rows;
}

export async function elderRules(c: Queryable, elderId: number): Promise<{ rules: unknown; responsePlan: unknown } | undefined> {
  const r = await c.query('SELECT rules, response_plan AS "responsePlan" FROM elders WHERE id = $1', [elderId]);
  return r.rows[0];
}
