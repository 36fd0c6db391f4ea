import type { Queryable } from './db.js';

export async function loadRuleStates(c: Queryable): Promise<Map<number, unknown>> {
  const r = await c.query('SELECT device_id, state FROM device_rule_state');
  return new Map(r.rows.map((x) => [Number(x.device_id), x.state]));
}

export async function saveRuleStates(c: Queryable, states: [number, unknown][]): Promise<void> {
  if (!states.length) return;
  await c.query(
    `INSERT INTO device_rule_state (device_id, state) SELECT * FROM unnest($1::bigint[], $2::jsonb[])
     ON CONFLICT (device_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
    [states.map((s) => s[0]), states.map((s) => JSON.stringify(s[1]))],
  );
}

/** Every registered device with what the rules need to start: last seen, elder, protocol. */
export async function devicesForRules(c: Queryable): Promise<{ id: number; identifier: string; protocol: string; elderId: number | null; lastSeen: Date | null; createdAt: Date }[]> {
  const r = await c.query(`SELECT id, identifier, protocol, elder_id AS "elderId", last_seen AS "lastSeen", created_at AS "createdAt" FROM devices WHERE state <> 'disabled'`);
  return r.rows;
}

export async function elderRules(c: Queryable, elderId: number): Promise<{ rules: unknown; responsePlan: unknown } | undefined> {
  const r = await c.query('SELECT rules, response_plan AS "responsePlan" FROM elders WHERE id = $1', [elderId]);
  return r.rows[0];
}
