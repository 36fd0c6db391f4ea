/**
 * The responder's page (issue 21): a staff member opens the one-time link from their dispatch SMS on a phone and
 * sees the elder's name, address, access notes and the task, with 接单 / 拒单, 已到达 and 完成. The link is the
 * credential: it works for that order and that responder only, until it expires, and every use is audited and
 * counted. Refusals say why in a word (unknown, expired, no longer yours) and are logged without the token or any
 * personal data.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { allowedActions, type WorkOrderState, type WorkOrderType } from '../../workorders/index.js';
import type { Metrics } from '../metrics.js';
import { audit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { getElder } from '../store/elders.js';
import { findResponderLink, touchResponderLink, type ResponderLink } from '../store/responder-links.js';
import { getWorkOrder } from '../store/workorders.js';
import type { ResponderStep, WorkOrderService } from '../workorders/work-order-service.js';
import { ApiError } from './errors.js';

const Token = Type.Object({ token: Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });
const STEPS: Record<string, ResponderStep> = { accept: 'accept', refuse: 'refuse', arrive: 'arrive', done: 'done' };

export async function responderRoutes(app: FastifyInstance, o: { db: Db; workOrders: WorkOrderService; metrics?: Metrics }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const count = (result: string) => o.metrics?.responderLinks.inc({ result });

  /** The link, or the refusal: 404 unknown, 410 expired. */
  async function linkOf(token: string, ip: string): Promise<ResponderLink> {
    const link = await findResponderLink(o.db, token);
    if (!link) {
      count('unknown');
      app.log.info({ ip }, 'responder link refused: unknown');
      throw new ApiError(404, 'link_unknown', '链接无效 / this link is not valid');
    }
    if (link.expiresAt.getTime() < Date.now()) {
      count('expired');
      await audit(o.db, `staff:${link.staffId}`, 'responder_link_expired', `work_order:${link.orderId}`, { ip });
      throw new ApiError(410, 'link_expired', '链接已过期，请联系中心 / this link has expired: please call the centre');
    }
    return link;
  }

  async function view(link: ResponderLink) {
    const order = await getWorkOrder(o.db, link.orderId);
    if (!order) throw new ApiError(404, 'link_unknown', '链接无效 / this link is not valid');
    const elder = order.elderId ? await getElder(o.db, order.elderId) : undefined;
    const mine = order.staffId === link.staffId;
    const steps = mine ? allowedActions(order.type as WorkOrderType, order.state as WorkOrderState).flatMap((a) => (a === 'accept' || a === 'done' ? [a] : a === 'arrive' ? ['arrive'] : [])) : [];
    if (mine && order.state === 'dispatched') steps.push('refuse');
    return {
      order: { id: order.id, type: order.type, state: order.state, title: order.title, description: order.description, result: order.result, priority: order.priority },
      elder: elder ? { name: elder.name, address: elder.address ?? '', accessNotes: elder.accessNotes ?? '', phone: elder.phone ?? '', lat: elder.lat ?? null, lon: elder.lon ?? null } : null,
      mine,
      steps,
      expiresAt: link.expiresAt.toISOString(),
    };
  }

  r.get(
    '/api/responder/:token',
    { schema: { tags: ['work-orders'], summary: "The responder's page: the order the one-time link is for (no login: the link is the credential)", security: [], params: Token } },
    async (req) => {
      const link = await linkOf(req.params.token, req.ip);
      await touchResponderLink(o.db, link.id);
      await audit(o.db, `staff:${link.staffId}`, 'responder_link_open', `work_order:${link.orderId}`, { ip: req.ip });
      count('opened');
      return view(link);
    },
  );

  r.post(
    '/api/responder/:token/:step',
    {
      schema: {
        tags: ['work-orders'],
        summary: "The responder's step from their page: accept, refuse, arrive (with the phone's position if given) or done (with a result)",
        security: [],
        params: Type.Intersect([Token, Type.Object({ step: Type.Union(Object.keys(STEPS).map((s) => Type.Literal(s))) })]),
        body: Type.Optional(
          Type.Object(
            { result: Type.Optional(Type.String({ maxLength: 2000 })), lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })), lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })) },
            { additionalProperties: false },
          ),
        ),
      },
    },
    async (req) => {
      const link = await linkOf(req.params.token, req.ip);
      await touchResponderLink(o.db, link.id);
      const out = await o.workOrders.respond(link.orderId, link.staffId, STEPS[req.params.step]!, 'link', req.body ?? {});
      if ('refused' in out) {
        count(`refused_${out.refused}`);
        if (out.refused === 'result_required') throw new ApiError(400, 'result_required', '请填写处理结果 / write what was done', [{ field: 'body/result', message: 'required' }]);
        if (out.refused === 'not_yours') throw new ApiError(409, 'not_yours', '该工单已改派他人 / this order went to someone else');
        throw new ApiError(409, 'illegal_transition', '工单状态已变化，请刷新 / the order has moved on: reload');
      }
      count(req.params.step);
      return view(link);
    },
  );
}
