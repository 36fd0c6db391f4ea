import argon2 from 'argon2';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { createSession, deleteSession, getSessionUser, getUserWithHash, type Role, type User } from '../store/users.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
  }
}

export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7);
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof q === 'string' ? q : undefined;
}

/** preHandler factory: the caller must be logged in with one of the roles (admin may do everything). */
export function requireRole(db: Db, ...roles: Role[]) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const token = bearer(req);
    const user = token ? await getSessionUser(db, token) : undefined;
    if (!user) throw new ApiError(401, 'unauthenticated', 'log in first');
    if (roles.length && user.role !== 'admin' && !roles.includes(user.role)) {
      throw new ApiError(403, 'forbidden', `this needs the role ${roles.join(' or ')}`);
    }
    req.user = user;
  };
}

export const actorOf = (req: FastifyRequest) => (req.user ? `user:${req.user.id}` : 'anonymous');

export async function authRoutes(app: FastifyInstance, o: { db: Db; sessionTtlH: number }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/api/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in; returns a bearer token',
        body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      const u = await getUserWithHash(o.db, req.body.username);
      const ok = u && !u.disabled && (await argon2.verify(u.passwordHash, req.body.password).catch(() => false));
      if (!u || !ok) {
        await audit(o.db, 'anonymous', 'login_failed', `username:${req.body.username}`);
        throw new ApiError(401, 'bad_credentials', 'wrong username or password');
      }
      const s = await createSession(o.db, u.id, o.sessionTtlH);
      await audit(o.db, `user:${u.id}`, 'login', `user:${u.id}`);
      const { passwordHash: _h, ...user } = u;
      return { token: s.token, expiresAt: s.expiresAt, user };
    },
  );
  r.post('/api/auth/logout', { schema: { tags: ['auth'] }, preHandler: requireRole(o.db) }, async (req) => {
    await deleteSession(o.db, bearer(req)!);
    await audit(o.db, actorOf(req), 'logout', actorOf(req));
    return { ok: true };
  });
  r.get('/api/auth/me', { schema: { tags: ['auth'] }, preHandler: requireRole(o.db) }, async (req) => ({ user: req.user }));
}

export const hashPassword = (p: string) => argon2.hash(p, { type: argon2.argon2id });
