/**
 * The call log screen (issue 19 "Call log screen"): search calls by number, elder, agent, direction, outcome
 * and date range, newest first, paged with a cursor; each row says whether a recording can be played
 * (GET /api/calls/:id/recording) and which alarm is behind it. And the call-back list: callers who hung up in
 * the queue (呼损) or left a voicemail, marked done once called back.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { handleCallbackRequest, listCallbackRequests } from '../store/callbacks.js';
import { searchCallLog } from '../store/call-log.js';
import { listCallActions } from '../store/calls.js';
import { actorOf, requireRole } from './auth.js';
import { ApiError } from './errors.js';
import { CallParams } from './call-access.js';
import { CallbackRequestSchema, CallDetailSchema, CallLogPageSchema } from './responses.js';

const Query = Type.Object(
  {
    number: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{1,20}$', description: 'digits: any part of the number' })),
    elderId: Type.Optional(Type.Integer({ minimum: 1 })),
    agentId: Type.Optional(Type.Integer({ minimum: 1 })),
    direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')])),
    outcome: Type.Optional(Type.String({ pattern: '^[a-z_]{1,32}$', description: 'answered, no_answer, busy, rejected, failed, abandoned …' })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.Integer({ minimum: 1, description: 'nextCursor of the page before' })),
  },
  { additionalProperties: false },
);

export async function callLogRoutes(app: FastifyInstance, o: { db: Db }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const staff = requireRole(db, 'agent', 'supervisor', 'admin');

  r.get('/api/call-log', { schema: { tags: ['calls'], summary: 'Call log (通话记录): search, newest first, paged', querystring: Query, response: { 200: CallLogPageSchema } }, onRequest: staff }, async (req) => {
    const q = req.query;
    return searchCallLog(db, {
      ...(q.number ? { number: q.number } : {}),
      ...(q.elderId ? { elderId: q.elderId } : {}),
      ...(q.agentId ? { agentId: q.agentId } : {}),
      ...(q.direction ? { direction: q.direction } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
      ...(q.from ? { from: new Date(q.from) } : {}),
      ...(q.to ? { to: new Date(q.to) } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
      limit: q.limit ?? 50,
    });
  });

  r.get(
    '/api/call-log/:id',
    { schema: { tags: ['calls'], summary: "One call (flow): its legs and its timeline (保持, 转接, 三方, 监听, 录音 …)", params: CallParams, response: { 200: CallDetailSchema } }, onRequest: staff },
    async (req) => {
      const [{ items }, actions] = await Promise.all([searchCallLog(db, { flowId: req.params.id, agentLegs: true, limit: 200 }), listCallActions(db, req.params.id)]);
      if (!items.length) throw new ApiError(404, 'no_call', `没有该通话 / no call ${req.params.id}`);
      return { flowId: req.params.id, legs: items.reverse(), actions, hasRecording: items.some((l) => l.hasRecording) };
    },
  );

  r.get(
    '/api/callbacks',
    {
      schema: {
        tags: ['calls'],
        summary: 'Call-back list: hotline callers who hung up in the queue or left a voicemail (priority first, then oldest)',
        querystring: Type.Object({ open: Type.Optional(Type.Boolean({ default: true })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false }),
        response: { 200: Type.Array(CallbackRequestSchema) },
      },
      onRequest: staff,
    },
    async (req) => listCallbackRequests(db, { open: req.query.open ?? true, limit: req.query.limit ?? 100 }),
  );

  r.post(
    '/api/callbacks/:id/done',
    { schema: { tags: ['calls'], summary: 'Mark a call-back done (回拨完成)', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: CallbackRequestSchema } }, onRequest: staff },
    async (req) => {
      const done = await handleCallbackRequest(db, req.params.id, req.user!.id);
      if (!done) throw new ApiError(404, 'not_found', `回拨记录 ${req.params.id} 不存在或已处理 / call-back ${req.params.id} does not exist or was already done`);
      await audit(db, actorOf(req), 'callback_done', `callback:${done.id}`, { reason: done.reason, ...(done.elderId ? { elderId: done.elderId } : {}) });
      return done;
    },
  );
}
