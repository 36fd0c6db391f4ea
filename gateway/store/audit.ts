import type { Queryable } from './db.js';

/** Every alarm action and every change by a user is recorded here. Detail holds ids, never personal data. */
export async function audit(db: Queryable, actor: string, action: string, target?: string, detail: Record<string, unknown> = {}): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, target, detail) VALUES ($1, $2, $3, $4)', [actor, action, target ?? null, JSON.stringify(detail)]);
}
