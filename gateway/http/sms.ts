/** GET /api/sms: the messages about an alarm, a work order, an elder or a staff member, with their delivery state. */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { listSms } from '../store/sms.js';
import { requireRole } from './auth.js';
import { badField } from './errors.js';

const Ref = Type.Optional(Type.Integer({ minimum: 1 }));

export async function smsRoutes(app: FastifyInstance, o: { db: Db }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/api/sms',
    {
      schema: {
        tags: ['sms'],
        summary: 'SMS (短信) about an alarm, a work order, an elder or a staff member, newest first: number, text, template, state (queued, held, submitted, delivered, failed, suppressed, received…) and why',
        querystring: Type.Object({ alarmId: Ref, workOrderId: Ref, elderId: Ref, staffId: Ref, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: false }),
      },
      onRequest: requireRole(o.db, 'agent', 'supervisor', 'admin'),
    },
    async (req) => {
      const q = req.query;
      if (q.alarmId === undefined && q.workOrderId === undefined && q.elderId === undefined && q.staffId === undefined) {
        throw badField('querystring', '需要 alarmId、workOrderId、elderId 或 staffId 之一 / name an alarmId, workOrderId, elderId or staffId');
      }
      return listSms(o.db, { alarmId: q.alarmId, workOrderId: q.workOrderId, elderId: q.elderId, staffId: q.staffId, limit: q.limit ?? 100 });
    },
  );
}
