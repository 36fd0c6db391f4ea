/**
 * Who is calling. Dashboards hold their session in an HttpOnly, SameSite=Strict cookie (Secure over TLS), which a
 * script on the page cannot read; state-changing requests made with the cookie must carry the session's CSRF
 * token. API clients keep bearer tokens. Authentication runs at onRequest, before the body is parsed or validated,
 * so an anonymous caller learns nothing from schema errors (issue 15).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Bus } from '../bus.js';
import { LoginThrottle } from '../login-throttle.js';
import { Busy, hashPassword, verifyPassword } from '../passwords.js';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import {
  createSession, deleteOtherSessions, deleteSession, deleteUserSessions, getPasswordHash, getSessionUser, getUserWithHash, recordLogin, tokenHash, updateUser, type Role, type User,
} from '../store/users.js';
import { ApiError, badField } from './errors.js';
import { Me } from './responses.js';
import { Password } from './schemas.js';

export { hashPassword } from '../passwords.js';

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
    /** the session token the request was authenticated with, and how it came */
    session?: { token: string; via: 'bearer' | 'cookie' | 'query' };
  }
}

export const SESSION_COOKIE = 'anxin_session';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The CSRF token of a session: derived from the session token, which the page's scripts never see. */
export function csrfOf(token: string): string {
  return createHmac('sha256', token).update('anxin-csrf').digest('base64url');
}

/** The session token: a bearer header, the session cookie, or (for the WebSocket only) `?token=`. */
export function sessionOf(req: FastifyRequest, allowQuery = false): FastifyRequest['session'] {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return { token: h.slice(7), via: 'bearer' };
  const c = req.cookies?.[SESSION_COOKIE];
  if (c) return { token: c, via: 'cookie' };
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  return allowQuery && typeof q === 'string' ? { token: q, via: 'query' } : undefined;
}

/** Back-compat name: the token alone. */
export const bearer = (req: FastifyRequest, allowQuery = false) => sessionOf(req, allowQuery)?.token;

/** Constant-time comparison of two secrets (a token, a password from a setting). */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who "any logged-in user" is when a route names no roles: everyone but the wallboard kiosk (大屏), which may call
 * only the routes that name it (its board, its own session); a screen in a public room must read and change nothing else.
 */
const ANY_USER: Role[] = ['agent', 'supervisor', 'installer', 'admin'];

/**
 * Hook factory (use as `onRequest`): the caller must be logged in with one of the roles (admin may do everything);
 * no roles = any user but the wallboard. A cookie session must show its CSRF token on anything but GET/HEAD.
 */
export function requireRole(db: Db, ...roles: Role[]) {
  const allowed = roles.length ? roles : ANY_USER;
  const hook = async (req: FastifyRequest, _reply: FastifyReply) => {
    const s = sessionOf(req);
    const user = s ? await getSessionUser(db, s.token) : undefined;
    if (!user || !s) throw new ApiError(401, 'unauthenticated', '请先登录 / log in first');
    if (s.via === 'cookie' && !SAFE.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameToken(sent, csrfOf(s.token))) throw new ApiError(403, 'csrf', 'missing or wrong X-CSRF-Token header (reload the page)');
    }
    if (user.role !== 'admin' && !allowed.includes(user.role)) {
      throw new ApiError(403, 'forbidden', `this needs the role ${allowed.join(' or ')}`);
    }
    req.user = user;
    req.session = s;
  };
  // Read by the route table (the security tests' role × endpoint matrix): which roles this hook lets in.
  return Object.assign(hook, { roles: [...new Set<Role>([...allowed, 'admin'])] });
}

/** The roles a route admits, from its onRequest hook; undefined = public. */
export function rolesOf(onRequest: unknown): Role[] | undefined {
  const hooks = Array.isArray(onRequest) ? onRequest : onRequest ? [onRequest] : [];
  for (const h of hooks) if (Array.isArray((h as { roles?: unknown }).roles)) return (h as { roles: Role[] }).roles;
  return undefined;
}

export const actorOf = (req: FastifyRequest) => (req.user ? `user:${req.user.id}` : 'anonymous');

/** Secure cookies only where the browser reached us over TLS (directly or through a proxy that says so). */
const overTls = (req: FastifyRequest) => req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';

const KIOSK_COOKIE_MS = 365 * 24 * 3600_000;

export async function authRoutes(app: FastifyInstance, o: { db: Db; bus?: Bus; sessionTtlH: number; loginPerMinute?: number }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // Logout and "who am I" are for every role, the wallboard too; its password and sessions are the admin's to change.
  const withKiosk = requireRole(o.db, ...ANY_USER, 'wallboard');
  const byUser = new LoginThrottle(3);
  const byAddress = new LoginThrottle(10);
  const tooSoon = (ms: number, reply: FastifyReply) => {
    const s = Math.max(1, Math.ceil(ms / 1000));
    reply.header('retry-after', String(s));
    return new ApiError(429, 'too_many_attempts', `登录尝试过多，请 ${s} 秒后再试 / too many attempts: try again in ${s} s`);
  };

  r.post(
    '/api/auth/login',
    {
      config: { rateLimit: { max: o.loginPerMinute ?? 30, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Log in. With {"cookie": true} the session goes into an HttpOnly cookie and the answer carries only its CSRF token; otherwise a bearer token.',
        security: [],
        body: Type.Object(
          { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }), cookie: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const wait = Math.max(byUser.waitMs(username), byAddress.waitMs(req.ip));
      if (wait > 0) throw tooSoon(wait, reply);
      const u = await getUserWithHash(o.db, username);
      let ok: boolean;
      try {
        ok = (await verifyPassword(u?.passwordHash, password)) && !!u && !u.disabled;
      } catch (e) {
        if (e instanceof Busy) throw tooSoon(1000, reply);
        throw e;
      }
      if (!u || !ok) {
        byUser.failed(username);
        byAddress.failed(req.ip);
        await audit(o.db, 'anonymous', 'login_failed', `username:${username.slice(0, 64)}`);
        throw new ApiError(401, 'bad_credentials', '用户名或密码错误 / wrong username or password');
      }
      byUser.succeeded(username);
      // The wall's kiosk has no login timeout: its session slides while in use (see createSession).
      const kiosk = u.role === 'wallboard';
      const s = await createSession(o.db, u.id, o.sessionTtlH, kiosk);
      const lastLoginAt = await recordLogin(o.db, u.id);
      await audit(o.db, `user:${u.id}`, 'login', `user:${u.id}`);
      const { passwordHash: _h, ...rest } = u;
      const user = { ...rest, lastLoginAt };
      if (req.body.cookie) {
        // A kiosk's cookie outlives the sliding expiry, which the server alone decides; a browser keeps it ≤ 400 days.
        const expires = kiosk ? new Date(Date.now() + KIOSK_COOKIE_MS) : new Date(s.expiresAt);
        reply.setCookie(SESSION_COOKIE, s.token, { httpOnly: true, sameSite: 'strict', secure: overTls(req), path: '/', expires });
        return { expiresAt: s.expiresAt, user, csrfToken: csrfOf(s.token) };
      }
      return { token: s.token, expiresAt: s.expiresAt, user };
    },
  );
  r.post('/api/auth/logout', { schema: { tags: ['auth'] }, onRequest: withKiosk }, async (req, reply) => {
    await deleteSession(o.db, req.session!.token);
    o.bus?.emit('session.revoked', { tokenHash: tokenHash(req.session!.token), reason: 'logout' });
    await audit(o.db, actorOf(req), 'logout', actorOf(req));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });
  // One's own password (我的账号): the current one first, so a session left open on a shared PC cannot take the
  // account over. The other sessions end (someone who knew the old password is out); this one stays.
  const byChanger = new LoginThrottle(3);
  r.post(
    '/api/auth/password',
    {
      config: { rateLimit: { max: o.loginPerMinute ?? 30, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Change one’s own password: the other sessions of the user end, this one stays',
        body: Type.Object({ current: Type.String({ minLength: 1, maxLength: 256 }), next: Password }, { additionalProperties: false }),
      },
      onRequest: requireRole(o.db),
    },
    async (req, reply) => {
      const me = req.user!;
      const key = `user:${me.id}`;
      const wait = byChanger.waitMs(key);
      if (wait > 0) throw tooSoon(wait, reply);
      let ok: boolean;
      try {
        ok = await verifyPassword(await getPasswordHash(o.db, me.id), req.body.current);
      } catch (e) {
        if (e instanceof Busy) throw tooSoon(1000, reply);
        throw e;
      }
      if (!ok) {
        byChanger.failed(key);
        await audit(o.db, actorOf(req), 'password_change_failed', key);
        throw badField('body/current', '当前密码不正确 / the current password is wrong');
      }
      byChanger.succeeded(key);
      if (req.body.next === req.body.current) throw badField('body/next', '新密码不能与当前密码相同 / the new password must differ from the current one');
      await updateUser(o.db, me.id, { passwordHash: await hashPassword(req.body.next) });
      const revoked = await deleteOtherSessions(o.db, me.id, req.session!.token);
      for (const h of revoked) o.bus?.emit('session.revoked', { tokenHash: h, reason: 'password_changed' });
      await audit(o.db, actorOf(req), 'password_change', key, { sessionsRevoked: revoked.length });
      return reply.status(204).send();
    },
  );
  r.post(
    '/api/auth/sign-out-everywhere',
    {
      schema: {
        tags: ['auth'],
        summary: 'End every session of the signed-in user, this one included (a lost phone, a shared PC)',
        // no fields; a body that has some is refused, so a mistaken call does not sign anyone out
        body: Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]),
      },
      onRequest: requireRole(o.db),
    },
    async (req, reply) => {
      const me = req.user!;
      const n = await deleteUserSessions(o.db, me.id);
      o.bus?.emit('session.revoked', { userId: me.id, reason: 'signed_out_everywhere' });
      await audit(o.db, actorOf(req), 'sign_out_everywhere', `user:${me.id}`, { sessions: n });
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send();
    },
  );
  r.get('/api/auth/me', { schema: { tags: ['auth'], summary: 'The signed-in user (lastLoginAt: the latest login of the user, usually this session’s own)', response: { 200: Me } }, onRequest: withKiosk }, async (req) => ({
    user: req.user!, // requireRole: always set here
    ...(req.session?.via === 'cookie' ? { csrfToken: csrfOf(req.session.token) } : {}),
  }));
}
