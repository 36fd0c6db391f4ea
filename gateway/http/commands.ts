import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PROTOCOL_MODULES } from '../../protocols/index.js';
import { MIN_REASON_LENGTH, type CommandService } from '../commands.js';
import type { Db } from '../store/db.js';
import { elderTimeline, getCommand, listCommands } from '../store/commands.js';
import { getDevice } from '../store/devices.js';
import { getElder } from '../store/elders.js';
import { requireRole } from './auth.js';
import { notFound } from './errors.js';
import { Id } from './schemas.js';

const CODECS = PROTOCOL_MODULES.flatMap((m) => (m.commandCodec ? [m.commandCodec] : []));
const DANGEROUS = `custom (any raw text), ${[...new Set(CODECS.flatMap((c) => Object.keys(c.dangerous)))].join(', ')}`;

// The encoder checks each command's own parameters and answers per field; here only the envelope.
const CommandBody = Type.Object(
  {
    // the protocols' command types; the service answers 400 for a device whose protocol takes no commands
    type: CODECS.length === 1 ? CODECS[0]!.typeSchema : Type.Union(CODECS.map((c) => c.typeSchema)),
    ttlS: Type.Optional(Type.Integer({ minimum: 10, maximum: 7 * 86400, description: 'how long to keep it queued while the device is offline' })),
    reason: Type.Optional(
      Type.String({
        maxLength: 500,
        description: `why it is sent; required (at least ${MIN_REASON_LENGTH} characters) for the admin-only dangerous commands: ${DANGEROUS}. MONITOR also needs ALLOW_MONITOR_COMMAND=true.`,
      }),
    ),
  },
  { additionalProperties: true },
);

export async function commandRoutes(app: FastifyInstance, o: { db: Db; commands: CommandService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  r.post(
    '/api/devices/:id/commands',
    {
      schema: {
        tags: ['devices'],
        summary: `Send a command: at once if online, else queued with a TTL. Dangerous commands (${DANGEROUS}) are admin-only and need a reason.`,
        params: Id,
        body: CommandBody,
      },
      onRequest: requireRole(db, 'agent', 'supervisor', 'installer', 'admin'),
    },
    async (req, reply) => {
      const device = await getDevice(db, req.params.id);
      if (!device) throw notFound(`device ${req.params.id}`);
      const { ttlS, reason, ...command } = req.body as Record<string, unknown> & { ttlS?: number; reason?: string };
      // Auditing (device and, for dangerous commands, elder) happens in the service, with the command row.
      const out = await o.commands.send(device, command, { user: req.user, reason, ttlS });
      return reply.status(202).send(out);
    },
  );
  r.get(
    '/api/devices/:id/commands',
    { schema: { tags: ['devices'], summary: 'The device’s last 100 commands, newest first, with who sent them, why (reason) and whether they were dangerous', params: Id }, onRequest: requireRole(db) },
    async (req) => listCommands(db, req.params.id),
  );
  r.get(
    '/api/devices/:id/commands/:commandId',
    { schema: { tags: ['devices'], params: Type.Object({ id: Type.Integer(), commandId: Type.Integer() }) }, onRequest: requireRole(db) },
    async (req) => {
      const c = await getCommand(db, req.params.commandId);
      if (!c || c.deviceId !== req.params.id) throw notFound(`command ${req.params.commandId}`);
      return c;
    },
  );
  r.get(
    '/api/elders/:id/timeline',
    {
      schema: {
        tags: ['elders'],
        summary: "The elder's timeline, newest first: their alarms, every command sent to their devices (who, why, dangerous or not) and, for staff, care calls made and welfare calls ended",
        params: Id,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }),
      },
      onRequest: requireRole(db, 'agent', 'supervisor', 'installer', 'admin'),
    },
    async (req) => {
      const elder = await getElder(db, req.params.id);
      if (!elder) throw notFound(`elder ${req.params.id}`);
      // care calls and their results are the staff's (not an installer's)
      return { elderId: elder.id, entries: await elderTimeline(db, elder.id, req.query.limit ?? 100, req.user?.role !== 'installer') };
    },
  );
}
