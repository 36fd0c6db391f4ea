import { randomUUID } from 'node:crypto';
import { VIA_TELEPHONY_NODE } from './holder-forward.js';
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Bus } from '../bus.js';
import type { TelephonyHandle } from '../telephony-service.js';
import { isSupervisorLegKey } from '../../telephony/index.js';
import type { Db } from '../store/db.js';
import { addEvent, getAlarm } from '../store/alarms.js';
import { audit } from '../store/audit.js';
import { getAgentStatus } from '../store/agents.js';
import { getCallByChannel, listCalls, liveCallsOfAgent, liveStateOf, type CallRecord } from '../store/calls.js';
import { getElder, listContacts } from '../store/elders.js';
import { actorOf, requireRole } from './auth.js';
import { ApiError, badField, notFound } from './errors.js';
import { phone } from './schemas.js';
import { CallRecordSchema, LiveCallSchema, type LiveFlow } from './responses.js';

/** The state a dashboard shows for a click-to-call, derived from the leg that changed. */
export function callState(party: string, leg: string): string {
  if (leg === 'ended') return 'ended';
  if (party === 'agent') return leg === 'up' ? 'agent_answered' : 'ringing_agent';
  return leg === 'up' ? 'connected' : 'dialing';
}

/** One entry per live flow of an agent, in the shape of the WebSocket's call messages, plus its times. */
export function liveFlows(records: CallRecord[]): LiveFlow[] {
  const byFlow = new Map<string, CallRecord[]>();
  for (const r of records) if (r.flowId) byFlow.set(r.flowId, [...(byFlow.get(r.flowId) ?? []), r]);
  return [...byFlow.entries()].map(([flowId, legs]) => {
    // The target leg tells more than the agent's once it exists (dialing → connected).
    const leg = legs.find((l) => l.party !== 'agent') ?? legs[0]!;
    const legState = liveStateOf(leg);
    const startedAt = legs.map((l) => l.createdAt).sort((a, b) => +a - +b)[0];
    return {
      id: flowId, channelId: leg.channelId, flow: leg.flow, party: leg.party, leg: legState, state: callState(leg.party, legState),
      alarmId: leg.alarmId, agentId: leg.agentId, elderId: leg.elderId, startedAt, answeredAt: leg.answeredAt, liveState: legState,
    };
  });
}

export async function callRoutes(app: FastifyInstance, o: { db: Db; bus: Bus; telephony: () => TelephonyHandle | undefined; areaCode: string; originating?: Map<number, string> }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const staff = requireRole(db, 'agent', 'supervisor', 'admin');
  const tel = () => {
    const t = o.telephony();
    if (!t) throw new ApiError(503, 'telephony_off', 'telephony is switched off (TELEPHONY=off)');
    if (t.telephony.health().state !== 'up') throw new ApiError(503, 'telephony_down', 'Asterisk is unreachable; try again shortly');
    return t.telephony;
  };

  // One live click-to-call per agent: the originate in progress here, or a live call in the database (another node, a reload).
  const originating = o.originating ?? new Map<number, string>(); // shared with the dial pad (call-controls.ts)
  const busy = () => new ApiError(409, 'call_in_progress', '您已有一通电话在进行中，请先挂机 / you already have a call in progress: hang up first');

  r.post(
    '/api/calls',
    {
      schema: {
        tags: ['calls'],
        summary: "Click-to-call (外呼): rings the agent's extension first, then dials the elder or contact and bridges them",
        body: Type.Object(
          {
            alarmId: Type.Optional(Type.Integer({ minimum: 1 })),
            elderId: Type.Optional(Type.Integer({ minimum: 1 })),
            contactId: Type.Optional(Type.Integer({ minimum: 1 })),
            number: Type.Optional(Type.String({ maxLength: 32 })),
            idempotencyKey: Type.Optional(Type.String({ minLength: 8, maxLength: 100, description: 'send the same key when retrying: it never dials twice' })),
          },
          { additionalProperties: false },
        ),
      },
      onRequest: staff,
      config: VIA_TELEPHONY_NODE,
    },
    async (req, reply) => {
      const b = req.body;
      const me = await getAgentStatus(db, req.user!.id);
      if (!me?.signedIn || !me.extension) throw new ApiError(409, 'not_signed_in', 'sign in to a phone extension first (签入)');
      const alarm = b.alarmId ? await getAlarm(db, b.alarmId) : undefined;
      if (b.alarmId && !alarm) throw badField('body/alarmId', `alarm ${b.alarmId} does not exist`);
      const elderId = b.elderId ?? alarm?.elderId ?? undefined;
      let target: { party: 'elder' | 'contact'; number: string; elderId?: string; contactId?: string };
      if (b.contactId) {
        const contact = elderId ? (await listContacts(db, elderId)).find((c) => c.id === b.contactId) : undefined;
        if (!contact) throw badField('body/contactId', `contact ${b.contactId} is not a contact of this elder`);
        target = { party: 'contact', number: contact.phone, elderId: String(contact.elderId), contactId: String(contact.id) };
      } else if (b.number) {
        target = { party: elderId ? 'elder' : 'contact', number: phone(b.number, 'body/number', o.areaCode), ...(elderId ? { elderId: String(elderId) } : {}) };
      } else {
        const elder = elderId ? await getElder(db, elderId) : undefined;
        if (!elder) throw badField('body/elderId', 'say whom to call: elderId, contactId or number');
        if (!elder.phone) throw badField('body/elderId', 'this elder has no phone number on file');
        target = { party: 'elder', number: elder.phone, elderId: String(elder.id) };
      }
      const uid = req.user!.id;
      const key = `ctc:${uid}:${b.idempotencyKey ?? randomUUID()}`;
      const held = originating.get(uid);
      if (held !== undefined && held !== key) throw busy(); // a retry with the same key is answered as a duplicate below
      const tele = tel();
      originating.set(uid, key); // before any await: two presses at once must not both pass
      let t: Awaited<ReturnType<typeof tele.clickToCall>>;
      try {
        if (held === undefined && (await liveCallsOfAgent(db, uid)).length) throw busy();
        t = await tele.clickToCall({ idempotencyKey: key, agentId: String(uid), extension: me.extension, target, ...(alarm ? { alarmId: String(alarm.id) } : {}) });
      } catch (e) {
        if (originating.get(uid) === key) originating.delete(uid);
        throw e;
      }
      void t.done.catch(() => undefined).finally(() => {
        if (originating.get(uid) === key) originating.delete(uid);
      });
      await audit(db, actorOf(req), 'call_start', alarm ? `alarm:${alarm.id}` : `elder:${target.elderId ?? '-'}`, { party: target.party, callId: t.callId, duplicate: t.duplicate });
      if (alarm) await addEvent(db, alarm.id, actorOf(req), 'call_started', null, null, { party: target.party, callId: t.callId });
      return reply.status(202).send({ call: { id: t.callId, state: 'ringing_agent', party: target.party, alarmId: alarm?.id ?? null }, duplicate: t.duplicate });
    },
  );

  r.post('/api/calls/:id/hangup', { schema: { tags: ['calls'], summary: 'Hang up (挂机) a call from the dashboard', params: Type.Object({ id: Type.String({ maxLength: 100 }) }) }, onRequest: staff, config: VIA_TELEPHONY_NODE }, async (req) => {
    const ok = await tel().hangup(req.params.id);
    if (!ok) throw notFound(`call ${req.params.id}`);
    await audit(db, actorOf(req), 'call_hangup', `call:${req.params.id}`);
    return { ok: true };
  });

  r.get('/api/calls', { schema: { tags: ['calls'], summary: 'Call records, newest first, each with its liveState (ringing, up, ended)', querystring: Type.Object({ alarmId: Type.Optional(Type.Integer({ minimum: 1 })), flowId: Type.Optional(Type.String({ maxLength: 100 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }), response: { 200: Type.Array(CallRecordSchema) } }, onRequest: staff }, async (req) =>
    (await listCalls(db, { alarmId: req.query.alarmId, flowId: req.query.flowId, limit: req.query.limit ?? 100 })).map((c) => ({ ...c, liveState: liveStateOf(c) })),
  );

  r.get('/api/calls/live', { schema: { tags: ['calls'], summary: "The signed-in user's live calls (a reload or a new login mid-call restores them)", response: { 200: Type.Array(LiveCallSchema) } }, onRequest: staff }, async (req) =>
    // a supervisor's listen-in leg is not their call (hanging it up would end the agent's call)
    liveFlows((await liveCallsOfAgent(db, req.user!.id)).filter((c) => !isSupervisorLegKey(c.idempotencyKey))),
  );

  // Live call state to dashboards (the WebSocket plugin forwards 'call' bus messages).
  o.bus.on('call.changed', async ({ update }) => {
    const rec = await getCallByChannel(db, update.channelId).catch(() => undefined);
    o.bus.emit('call.pushed', {
      call: {
        id: update.flowId, channelId: update.channelId, flow: update.flow, party: update.party, leg: update.state,
        state: callState(update.party, update.state), outcome: update.outcome ?? null, cause: update.cause ?? null,
        alarmId: rec?.alarmId ?? null, agentId: rec?.agentId ?? null,
      },
    });
  });
}
