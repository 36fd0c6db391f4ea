import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Bus } from '../bus.js';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { ROLES, createUser, deleteUserSessions, getUser, listUsers, updateUser } from '../store/users.js';
import { actorOf, hashPassword, requireRole } from './auth.js';
import { ApiError, notFound } from './errors.js';
import { Id, Password } from './schemas.js';

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));

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
      // An admin who disables or demotes themself may leave the centre with no admin at all: another admin must.
      if (req.params.id === req.user!.id && (rest.disabled === true || (rest.role !== undefined && rest.role !== 'admin'))) {
        throw new ApiError(409, 'self_lockout', '不能停用自己或取消自己的管理员角色，请另一位管理员操作 / you cannot disable or demote yourself: ask another admin');
      }
      const before = await getUser(db, req.params.id);
      if (!before) throw notFound(`user ${req.params.id}`);
      const user = await updateUser(db, req.params.id, { ...rest, ...(password ? { passwordHash: await hashPassword(password) } : {}) });
      if (!user) throw notFound(`user ${req.params.id}`);
      // Revocation that revokes (issue 15): a disabled account, a password reset or a new role ends every session
      // of the user, REST and WebSocket alike. A form that sends the role unchanged signs no one out.
      const why = rest.disabled ? 'disabled' : password ? 'password_reset' : rest.role && rest.role !== before.role ? 'role_changed' : undefined;
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
