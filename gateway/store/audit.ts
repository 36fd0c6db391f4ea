import { requestSource } from '../request-context.js';
import type { Queryable } from './db.js';

/** Actors that never act through an HTTP request: their rows carry no address even when a request set off the work. */
const NOT_HTTP = /^(system|device|cli)(:|$)/;

/**
 * Every alarm action and every change by a user is recorded here. Detail holds ids, never personal data. The
 * address and user agent come from the HTTP request being handled (request-context.ts), null outside one.
 */
export async function audit(db: Queryable, actor: string, action: string, target?: string, detail: Record<string, unknown> = {}): Promise<void> {
  const src = NOT_HTTP.test(actor) ? undefined : requestSource();
  await db.query('INSERT INTO audit_log (actor, action, target, detail, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6)', [
    actor,
    action,
    target ?? null,
    JSON.stringify(detail),
    src?.ip ?? null,
    src?.userAgent ?? null,
  ]);
}
