import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Bus } from '../bus.js';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { ROLES, createUser, deleteUserSessions, listUsers, updateUser } from '../store/users.js';
import { actorOf, hashPassword, requireRole } from './auth.js';
import { notFound } from './errors.js';
import { Id } from './schemas.js';

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Password = Type.String({ minLength: 8, maxLength: 256, description: 'at least 8 characters' });

export async function userRoutes(app: FastifyInstance, o: { db: Db; bus?: Bus }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const admin = requireRole(db, 'admin');

  r.get('/api/users', { schema: { tags: ['users'], querystring: Type.Object({ role: Type.Optional(Role) }) }, onRequest: requireRole(db, 'supervisor', 'admin') }, async (req) =>
    listUsers(db, req.query.role),
  );

  r.post(
    '/api/users',
    {
      schema: {
        tags: ['users'],
        body: Type.Object(
          { username: Type.String({ pattern: '^[A-Za-z0-9_.-]{2,32}$' }), displayName: Type.Optional(Type.String({ maxLength: 64 })), role: Role, password: Password, extension: Type.Optional(Type.String({ pattern: '^[0-9]{2,8}$' })) },
          { additionalProperties: false },
        ),
      },
      onRequest: admin,
    },
    async (req, reply) => {
      const { password, ...rest } = req.body;
      const user = await createUser(db, { ...rest, passwordHash: await hashPassword(password) });
      await audit(db, actorOf(req), 'user_create', `user:${user.id}`, { role: user.role });
      return reply.status(201).send(user);
    },
  );

  r.patch(
    '/api/users/:id',
    {
      schema: {
        tags: ['users'],
        params: Id,
        body: Type.Object(
          { displayName: Type.Optional(Type.String({ maxLength: 64 })), role: Type.Optional(Role), password: Type.Optional(Password), extension: Type.Optional(Type.Union([Type.String({ pattern: '^[0-9]{2,8}$' }), Type.Null()])), disabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
      },
      onRequest: admin,
    },
    async (req) => {
      const { password, ...rest } = req.body;
      const user = await updateUser(db, req.params.id, { ...rest, ...(password ? { passwordHash: await hashPassword(password) } : {}) });
      if (!user) throw notFound(`user ${req.params.id}`);
      // Revocation that revokes (issue 15): a disabled account, a password reset or a new role ends every session
      // of the user, REST and WebSocket alike.
      const why = rest.disabled ? 'disabled' : password ? 'password_reset' : rest.role ? 'role_changed' : undefined;
      if (why) {
        const n = await deleteUserSessions(db, user.id);
        o.bus?.emit('session.revoked', { userId: user.id, reason: why });
        await audit(db, actorOf(req), 'sessions_revoked', `user:${user.id}`, { reason: why, sessions: n });
      }
      await audit(db, actorOf(req), 'user_update', `user:${user.id}`, { fields: Object.keys(req.body) });
      return user;
    },
  );
}
