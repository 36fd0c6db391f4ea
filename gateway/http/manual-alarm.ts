/**
 * POST /api/alarms: an alarm raised by hand (人工报警), e.g. a neighbour rings the hotline about an elder (issue 21).
 * It goes through the same commit as a device's (journal, one open alarm per elder and kind: a second report of
 * the same is a repeat on it, never lost), then escalates and pops like any other; the agent's words go on its
 * timeline and the raise is audited.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ALARM_KINDS } from '../../protocols/message.js';
import type { AlarmService } from '../alarms/alarm-service.js';
import { addEvent } from '../store/alarms.js';
import { audit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { getElder } from '../store/elders.js';
import { actorOf, requireRole } from './auth.js';
import { badField } from './errors.js';

export async function manualAlarmRoutes(app: FastifyInstance, o: { db: Db; alarms: AlarmService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/api/alarms',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Raise an alarm by hand (人工报警) for an elder: committed, escalated and popped like a device’s; the note goes on its timeline',
        body: Type.Object(
          {
            elderId: Type.Integer({ minimum: 1 }),
            kind: Type.Union(ALARM_KINDS.map((k) => Type.Literal(k))),
            note: Type.Optional(Type.String({ maxLength: 2000, description: 'who reported what' })),
          },
          { additionalProperties: false },
        ),
      },
      onRequest: requireRole(o.db, 'agent', 'supervisor', 'admin'),
    },
    async (req, reply) => {
      const elder = await getElder(o.db, req.body.elderId);
      if (!elder) throw badField('body/elderId', `老人 ${req.body.elderId} 不存在 / no elder ${req.body.elderId}`);
      const identifier = `manual:${elder.id}`;
      const [alarm] = await o.alarms.commit(
        { deviceId: identifier, protocol: 'phone', kind: 'call', receivedAt: new Date(), raw: `manual:${req.user!.id}:${randomUUID()}` },
        { id: null, identifier, elderId: elder.id, protocol: 'phone' },
        [{ kind: req.body.kind, detail: { manual: true, by: req.user!.id } }],
        [],
      );
      if (!alarm) throw new Error('manual alarm not committed');
      if (req.body.note?.trim()) await addEvent(o.db, alarm.id, actorOf(req), 'note', null, null, { note: req.body.note.trim(), manual: true });
      await audit(o.db, actorOf(req), 'alarm_manual', `alarm:${alarm.id}`, { kind: alarm.kind, elderId: elder.id });
      return reply.status(201).send(alarm);
    },
  );
}
