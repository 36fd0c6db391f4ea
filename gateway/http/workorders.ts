/** Work orders (工单, issue 21): open, list, read, every lifecycle action, and dispatch suggestions. Installers have no access. */
import type { FastifyInstance } from 'fastify';
import { Type, type TObject, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { WORK_ORDER_STATES, WORK_ORDER_TYPES, allowedActions, type WorkOrderAction, type WorkOrderState, type WorkOrderType } from '../../workorders/index.js';
import type { Bus } from '../bus.js';
import type { Db } from '../store/db.js';
import { getWorkOrder, listWorkOrderEvents, listWorkOrders } from '../store/workorders.js';
import { WorkOrderService, type ActInput } from '../workorders/work-order-service.js';
import { requireRole } from './auth.js';
import { notFound } from './errors.js';
import { Id, Paging } from './schemas.js';
import { SuggestionsSchema, WorkOrderDetailSchema, WorkOrderSchema } from './responses.js';

const Type_ = Type.Union(WORK_ORDER_TYPES.map((t) => Type.Literal(t)));
const State = Type.Union(WORK_ORDER_STATES.map((s) => Type.Literal(s)));
const Note = Type.Optional(Type.String({ maxLength: 4000, description: 'goes on the timeline' }));
const RefId = (description: string) => Type.Optional(Type.Integer({ minimum: 1, description }));
const strict = { additionalProperties: false } as const;
const Responder = { stationId: RefId('服务站 station'), staffId: RefId('人员 staff member (brings their station when stationId is left out)'), note: Note };

const OpenBody = Type.Object(
  {
    type: Type.Optional(Type_),
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    alarmId: RefId('open from this alarm (an emergency order unless type says otherwise; one open emergency order per alarm)'),
    callId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "open from this call (the call log's flow id)" })),
    elderId: RefId("open from this elder's file"),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  strict,
);

/** The body each action takes: what the lifecycle needs (workorders/lifecycle.ts), plus a timeline note. */
const ACTION_BODIES: Record<WorkOrderAction, TObject> = {
  dispatch: Type.Object(Responder, strict),
  accept: Type.Object({ note: Note }, strict),
  arrive: Type.Object({ note: Note }, strict),
  done: Type.Object({ result: Type.String({ minLength: 1, maxLength: 4000, description: '处理结果' }), note: Note }, strict),
  reply: Type.Object(
    {
      note: Note,
      followUpAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the follow-up call (回访) is due; default now' })),
      followUpAgentId: RefId('the agent who makes the follow-up call'),
    },
    strict,
  ),
  follow_up: Type.Object({ satisfaction: Type.Integer({ minimum: 1, maximum: 5, description: '满意度 1-5' }), comment: Type.Optional(Type.String({ maxLength: 2000 })) }, strict),
  archive: Type.Object({ note: Note }, strict),
  cancel: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }), note: Note }, strict),
  reassign: Type.Object(Responder, { ...strict, description: 'a responder: dispatched to them; none: back to received' }),
};

export async function workOrderRoutes(app: FastifyInstance, o: { db: Db; bus?: Bus; timezone?: string; service?: WorkOrderService }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  // the work-orders part's service (with its service-level timers); without one (a bare HTTP server), no timers
  const service = o.service ?? new WorkOrderService(db, o.bus);
  const staff = requireRole(db, 'agent', 'supervisor', 'admin');
  const tags = ['work-orders'];

  r.post(
    '/api/work-orders',
    { schema: { tags, summary: 'Open a work order: by hand, from an alarm, a call or an elder’s file (audited)', body: OpenBody, response: { 201: WorkOrderSchema } }, onRequest: staff },
    async (req, reply) => reply.status(201).send(await service.open(req.body, req.user!)),
  );

  r.get(
    '/api/work-orders',
    {
      schema: {
        tags,
        summary: 'Work orders, most urgent and newest first; due=true: replied orders whose follow-up call is due, soonest first',
        querystring: Type.Object({
          state: Type.Optional(State),
          type: Type.Optional(Type_),
          elderId: Type.Optional(Type.Integer({ minimum: 1 })),
          alarmId: Type.Optional(Type.Integer({ minimum: 1 })),
          stationId: Type.Optional(Type.Integer({ minimum: 1 })),
          staffId: Type.Optional(Type.Integer({ minimum: 1 })),
          open: Type.Optional(Type.Boolean({ description: 'only orders not archived nor cancelled' })),
          due: Type.Optional(Type.Boolean({ description: 'due for a follow-up call (回访)' })),
          followUpAgentId: Type.Optional(Type.Integer({ minimum: 1, description: 'the agent the follow-up call is assigned to' })),
          ...Paging,
        }),
        response: { 200: Type.Array(WorkOrderSchema) },
      },
      onRequest: staff,
    },
    async (req) => {
      const { due, limit, offset, ...f } = req.query;
      return listWorkOrders(db, { ...f, dueFollowUp: due, limit: limit ?? 100, offset: offset ?? 0 });
    },
  );

  r.get('/api/work-orders/:id', { schema: { tags, summary: 'One work order with its timeline', params: Id, response: { 200: WorkOrderDetailSchema } }, onRequest: staff }, async (req) => {
    const order = await getWorkOrder(db, req.params.id);
    if (!order) throw notFound(`work order ${req.params.id}`);
    return { order, timeline: await listWorkOrderEvents(db, order.id), allowedActions: allowedActions(order.type as WorkOrderType, order.state as WorkOrderState) };
  });

  r.get(
    '/api/work-orders/:id/suggest',
    {
      schema: {
        tags,
        summary: "Dispatch suggestions: on-duty stations and staff, the elder's area first, then nearest",
        params: Id,
        querystring: Type.Object({ skill: Type.Optional(Type.String({ maxLength: 32 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })) }),
        response: { 200: SuggestionsSchema },
      },
      onRequest: staff,
    },
    async (req) => service.suggest(req.params.id, o.timezone ?? 'Asia/Shanghai', req.query),
  );

  for (const [action, body] of Object.entries(ACTION_BODIES) as [WorkOrderAction, TObject][]) {
    r.post(
      `/api/work-orders/:id/${action.replace('_', '-')}`,
      {
        schema: { tags, summary: `${action} (audited; 409 when the order's state does not allow it)`, params: Id, body, response: { 200: WorkOrderSchema } },
        // A bodiless POST (curl -X POST …/accept) means "no note".
        preValidation: async (req) => {
          req.body ??= {};
        },
        onRequest: staff,
      },
      async (req) => service.act(req.params.id, action, (req.body ?? {}) as ActInput, req.user!),
    );
  }
}
