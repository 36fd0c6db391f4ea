import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { WATCH_COMMANDS } from '../../protocols/watch/index.js';
import type { CommandService } from '../commands.js';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { getCommand, listCommands } from '../store/commands.js';
import { getDevice } from '../store/devices.js';
import { actorOf, requireRole } from './auth.js';
import { notFound } from './errors.js';
import { Id } from './schemas.js';

// The encoder checks each command's own parameters and answers per field; here only the envelope.
const CommandBody = Type.Object(
  {
    type: Type.Union(WATCH_COMMANDS.map((c) => Type.Literal(c)), { description: 'watch command keyword (protocols.md §1.5)' }),
    ttlS: Type.Optional(Type.Integer({ minimum: 10, maximum: 7 * 86400, description: 'how long to keep it queued while the device is offline' })),
  },
  { additionalProperties: true },
);

export async function commandRoutes(app: FastifyInstance, o: { db: Db; commands: CommandService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  r.post(
    '/api/devices/:id/commands',
    { schema: { tags: ['devices'], summary: 'Send a command: at once if online, else queued with a TTL', params: Id, body: CommandBody }, preHandler: requireRole(db, 'agent', 'supervisor', 'installer', 'admin') },
    async (req, reply) => {
      const device = await getDevice(db, req.params.id);
      if (!device) throw notFound(`device ${req.params.id}`);
      const { ttlS, ...command } = req.body as Record<string, unknown> & { ttlS?: number };
      const out = await o.commands.send(device, command, req.user?.id, ttlS);
      await audit(db, actorOf(req), 'device_command', `device:${device.id}`, { type: command.type, delivery: out.delivery, commandId: out.command.id });
      return reply.status(202).send(out);
    },
  );
  r.get('/api/devices/:id/commands', { schema: { tags: ['devices'], params: Id }, preHandler: requireRole(db) }, async (req) => listCommands(db, req.params.id));
  r.get(
    '/api/devices/:id/commands/:commandId',
    { schema: { tags: ['devices'], params: Type.Object({ id: Type.Integer(), commandId: Type.Integer() }) }, preHandler: requireRole(db) },
    async (req) => {
      const c = await getCommand(db, req.params.commandId);
      if (!c || c.deviceId !== req.params.id) throw notFound(`command ${req.params.commandId}`);
      return c;
    },
  );
}
