/**
 * The hotline's call-back list (issue 19): callers who hung up in the queue (呼损) and callers who left a
 * voicemail, one row per queue entry and reason; an agent marks a row handled after calling back.
 */
import type { Queryable } from './db.js';
import { camel } from './rows.js';
import type { CallbackListRow } from '../ws-messages.js';

/** A row as the store reads it: the pushed row (gateway/ws-messages.ts) with Dates. */
export type CallbackRequest = Omit<CallbackListRow, 'createdAt' | 'handledAt'> & { createdAt: Date; handledAt: Date | null };

export interface NewCallbackRequest {
  reason: CallbackRequest['reason'];
  entryId: string;
  callerNumber: string;
  did: string;
  elderId?: number | null;
  contactId?: number | null;
  priority: boolean;
  waitMs: number;
  position?: number | null;
  recording?: string | null;
  createdAt: Date;
}

/** Idempotent per (entry, reason): a port call repeated after a reconnect does not list the caller twice. */
export async function addCallbackRequest(c: Queryable, n: NewCallbackRequest): Promise<CallbackRequest> {
  const r = await c.query(
    `INSERT INTO callback_requests (reason, entry_id, caller_number, did, elder_id, contact_id, priority, wait_ms, position, recording, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (entry_id, reason) DO UPDATE SET recording = COALESCE(EXCLUDED.recording, callback_requests.recording)
     RETURNING *`,
    [n.reason, n.entryId, n.callerNumber, n.did, n.elderId ?? null, n.contactId ?? null, n.priority, Math.round(n.waitMs), n.position ?? null, n.recording ?? null, n.createdAt],
  );
  return camel<CallbackRequest>(r.rows[0]);
}

export async function listCallbackRequests(c: Queryable, f: { open?: boolean; limit: number }): Promise<CallbackRequest[]> {
  const r = await c.query(
    `SELECT * FROM callback_requests ${f.open ? 'WHERE handled_at IS NULL' : ''} ORDER BY priority DESC, created_at LIMIT $1`,
    [f.limit],
  );
  return r.rows.map((x) => camel<CallbackRequest>(x));
}

export async function getCallbackRequest(c: Queryable, id: number): Promise<CallbackRequest | undefined> {
  const r = await c.query(`SELECT * FROM callback_requests WHERE id = $1`, [id]);
  return r.rows[0] ? camel<CallbackRequest>(r.rows[0]) : undefined;
}

/** Marks a row handled; undefined when it does not exist or was handled already. */
export async function handleCallbackRequest(c: Queryable, id: number, userId: number): Promise<CallbackRequest | undefined> {
  const r = await c.query(`UPDATE callback_requests SET handled_at = now(), handled_by = $2 WHERE id = $1 AND handled_at IS NULL RETURNING *`, [id, userId]);
  return r.rows[0] ? camel<CallbackRequest>(r.rows[0]) : undefined;
}
