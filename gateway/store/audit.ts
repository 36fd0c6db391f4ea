import type { Queryable } from './db.js';
import { camel } from './rows.js';

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}

/** Every alarm action and every change by a user is recorded here. Detail holds ids, never personal data. */
export async function audit(db: Queryable, actor: string, action: string, target?: string, detail: Record<string, unknown> = {}): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, target, detail) VALUES ($1, $2, $3, $4)', [actor, action, target ?? null, JSON.stringify(detail)]);
}

export async function listAudit(db: Queryable, f: { target?: string; limit: number }): Promise<AuditEntry[]> {
  const r = f.target
    ? await db.query('SELECT * FROM audit_log WHERE target = $1 ORDER BY id DESC LIMIT $2', [f.target, f.limit])
    : await db.query('SELECT * FROM audit_log ORDER BY id DESC LIMIT $1', [f.limit]);
  return r.rows.map((x) => camel<AuditEntry>(x));
}
