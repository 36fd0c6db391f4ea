/** One-time links to the responder's page (issue 21): only the SHA-256 of the token is stored. */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './db.js';

export interface ResponderLink {
  id: number;
  orderId: number;
  staffId: number;
  expiresAt: Date;
  uses: number;
}

const sha = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new link for the order's responder; answers the token (shown once, in the SMS). */
export async function createResponderLink(c: Queryable, orderId: number, staffId: number, ttlH: number): Promise<string> {
  const token = randomBytes(18).toString('base64url'); // 144 bits: not guessable, short enough for an SMS
  await c.query(`INSERT INTO work_order_links (order_id, staff_id, token_hash, expires_at) VALUES ($1, $2, $3, now() + make_interval(hours => $4))`, [orderId, staffId, sha(token), ttlH]);
  return token;
}

export async function findResponderLink(c: Queryable, token: string): Promise<ResponderLink | undefined> {
  const r = await c.query(`SELECT id, order_id, staff_id, expires_at, uses FROM work_order_links WHERE token_hash = $1`, [sha(token)]);
  const x = r.rows[0];
  return x ? { id: Number(x.id), orderId: Number(x.order_id), staffId: Number(x.staff_id), expiresAt: x.expires_at, uses: x.uses } : undefined;
}

export async function touchResponderLink(c: Queryable, id: number): Promise<void> {
  await c.query(`UPDATE work_order_links SET uses = uses + 1, last_used_at = now() WHERE id = $1`, [id]);
}

/** Test and support use: the link's expiry moved (e.g. to the past). */
export async function setResponderLinkExpiry(c: Queryable, token: string, at: Date): Promise<void> {
  await c.query(`UPDATE work_order_links SET expires_at = $2 WHERE token_hash = $1`, [sha(token), at]);
}
