import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './db.js';
import { camel, setClause } from './rows.js';

/** wallboard: the read-only kiosk account of the centre's wall screen (大屏), issue 23 */
export const ROLES = ['agent', 'supervisor', 'installer', 'admin', 'wallboard'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  extension: string | null;
  disabled: boolean;
  createdAt: Date;
  /** when the user last logged in (this session's own login, for the signed-in user); null = never */
  lastLoginAt: Date | null;
}

const COLS = 'id, username, display_name, role, extension, disabled, created_at, last_login_at';

export async function createUser(db: Queryable, u: { username: string; displayName?: string; role: Role; passwordHash: string; extension?: string }): Promise<User> {
  const r = await db.query(
    `INSERT INTO users (username, display_name, role, password_hash, extension) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLS}`,
    [u.username, u.displayName ?? '', u.role, u.passwordHash, u.extension ?? null],
  );
  return camel<User>(r.rows[0]);
}

export async function countUsers(db: Queryable): Promise<number> {
  const r = await db.query('SELECT count(*)::int AS n FROM users');
  return r.rows[0].n;
}

export async function getUserWithHash(db: Queryable, username: string): Promise<(User & { passwordHash: string }) | undefined> {
  const r = await db.query(`SELECT ${COLS}, password_hash FROM users WHERE username = $1`, [username]);
  return r.rows[0] ? camel(r.rows[0]) : undefined;
}

export async function getUser(db: Queryable, id: number): Promise<User | undefined> {
  const r = await db.query(`SELECT ${COLS} FROM users WHERE id = $1`, [id]);
  return r.rows[0] ? camel<User>(r.rows[0]) : undefined;
}

export async function listUsers(db: Queryable, role?: Role): Promise<User[]> {
  const r = role ? await db.query(`SELECT ${COLS} FROM users WHERE role = $1 ORDER BY id`, [role]) : await db.query(`SELECT ${COLS} FROM users ORDER BY id`);
  return r.rows.map((x) => camel<User>(x));
}

export async function updateUser(db: Queryable, id: number, patch: { displayName?: string; role?: Role; extension?: string | null; disabled?: boolean; passwordHash?: string }): Promise<User | undefined> {
  const { sql, values } = setClause(patch, ['displayName', 'role', 'extension', 'disabled', 'passwordHash'], 2);
  if (!sql) return getUser(db, id);
  const r = await db.query(`UPDATE users SET ${sql} WHERE id = $1 RETURNING ${COLS}`, [id, ...values]);
  return r.rows[0] ? camel<User>(r.rows[0]) : undefined;
}

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
/** What the sessions table keeps of a token (and what a live socket is matched by when its session is revoked). */
export const tokenHash = sha;

/**
 * A random bearer token; only its hash is stored. A sliding session (the wallboard kiosk) has no fixed end: each use
 * pushes its expiry out to ttlH from then, so it ends only after ttlH unused, or when revoked.
 */
export async function createSession(db: Queryable, userId: number, ttlH: number, sliding = false): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const r = await db.query(
    `INSERT INTO sessions (token_hash, user_id, expires_at, idle_ttl) VALUES ($1, $2, now() + make_interval(hours => $3), CASE WHEN $4 THEN make_interval(hours => $3) END) RETURNING expires_at`,
    [sha(token), userId, ttlH, sliding],
  );
  return { token, expiresAt: r.rows[0].expires_at };
}

/** The session's user; a sliding session in use moves its expiry on (at most once a minute, to spare writes). */
export async function getSessionUser(db: Queryable, token: string): Promise<User | undefined> {
  const r = await db.query(
    `WITH hit AS (
       SELECT ${COLS.split(', ').map((c) => `u.${c}`).join(', ')}, s.token_hash, s.idle_ttl, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled
     ), slid AS (
       UPDATE sessions s SET expires_at = now() + hit.idle_ttl FROM hit
       WHERE s.token_hash = hit.token_hash AND hit.role = 'wallboard' AND hit.idle_ttl IS NOT NULL AND hit.expires_at < now() + hit.idle_ttl - interval '1 minute'
     )
     SELECT ${COLS} FROM hit`,
    [sha(token)],
  );
  return r.rows[0] ? camel<User>(r.rows[0]) : undefined;
}

export async function deleteSession(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE token_hash = $1', [sha(token)]);
}

/** Revokes every session of a user (logout everywhere, disabled, password reset, role change). Returns how many. */
export async function deleteUserSessions(db: Queryable, userId: number): Promise<number> {
  const r = await db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  return r.rowCount ?? 0;
}

/** Revokes every session of a user but the one with this token (a password change keeps the changer signed in). Returns the revoked tokens' hashes, for their live sockets. */
export async function deleteOtherSessions(db: Queryable, userId: number, keepToken: string): Promise<string[]> {
  const r = await db.query('DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 RETURNING token_hash', [userId, sha(keepToken)]);
  return r.rows.map((x) => x.token_hash as string);
}

/** Marks a successful login (the users screen shows it). */
export async function recordLogin(db: Queryable, userId: number): Promise<Date> {
  const r = await db.query('UPDATE users SET last_login_at = now() WHERE id = $1 RETURNING last_login_at', [userId]);
  return r.rows[0]?.last_login_at;
}

/** The stored password hash of a user, by id (to check a current password). */
export async function getPasswordHash(db: Queryable, userId: number): Promise<string | undefined> {
  const r = await db.query('SELECT password_hash FROM users WHERE id = $1', [userId]);
  return r.rows[0]?.password_hash;
}
