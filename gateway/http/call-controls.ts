/**
 * In-call controls over HTTP (issue 19 "In the call"): hold, mute, DTMF, blind and attended transfer, three-way
 * conference, and the dial pad. An agent acts on their own call only (a supervisor on any); each action is in
 * audit_log. The call's own timeline (call_actions) is written by the telephony port, not here.
 */
import { VIA_TELEPHONY_NODE } from './holder-forward.js';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CallTarget } from '../../telephony/controls/index.js';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { extensionUse, getAgentStatus } from '../store/agents.js';
import { getAlarm } from '../store/alarms.js';
import { liveCallsOfAgent } from '../store/calls.js';
import { actorOf, requireRole } from './auth.js';
import { CallParams, DialNumber, Extension, callFor, control, telephonyOf, type TelephonyGetter } from './call-access.js';
import { ApiError, badField } from './errors.js';
import { phone } from './schemas.js';

const Target = Type.Union([Type.Object({ extension: Extension }, { additionalProperties: false }), Type.Object({ number: DialNumber }, { additionalProperties: false })], {
  description: 'another agent or a supervisor by extension, or an outside number (120, 110, a doctor, a family member)',
});
type TargetBody = Static<typeof Target>;

/** What audit_log keeps of a target: extensions and service numbers as they are, a private number's last 4 digits. */
export function auditTarget(t: TargetBody): Record<string, string> {
  if ('extension' in t) return { extension: t.extension };
  return { number: t.number.length <= 5 ? t.number : `…${t.number.slice(-4)}` };
}

/** One live call per agent: click-to-call and the dial pad share this map (the originate in progress per user). */
export type Originating = Map<number, string>;

export async function callControlRoutes(app: FastifyInstance, o: { db: Db; telephony: TelephonyGetter; areaCode: string; originating: Originating }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const staff = requireRole(db, 'agent', 'supervisor', 'admin');
  const tel = () => telephonyOf(o.telephony);

  /** A target for the telephony: an extension carries the agent signed in to it, so their state follows the call. */
  const targetOf = async (t: TargetBody): Promise<CallTarget> => {
    if ('number' in t) return { number: t.number };
    const use = await extensionUse(db, t.extension);
    const agentId = use.signedInBy ?? use.assignedTo;
    return agentId !== undefined ? { extension: t.extension, agentId: String(agentId) } : { extension: t.extension };
  };

  /** Checks the caller may act on the call, runs the control, audits it. */
  const act = async <T>(req: FastifyRequest, callId: string, action: string, fn: (by: string) => Promise<T>, detail: Record<string, unknown> = {}): Promise<T> => {
    const call = await callFor(db, req.user!, callId);
    const res = await control(() => fn(String(req.user!.id)));
    await audit(db, actorOf(req), `call_${action}`, `call:${call.flowId}`, { ...detail, ...(call.alarmId ? { alarmId: call.alarmId } : {}) });
    return res;
  };
  const simple = (path: string, action: string, summary: string, fn: (callId: string, by: string) => Promise<unknown>) =>
    r.post(`/api/calls/:id/${path}`, { schema: { tags: ['calls'], summary, params: CallParams }, onRequest: staff, config: VIA_TELEPHONY_NODE }, async (req) => {
      await act(req, req.params.id, action, (by) => fn(req.params.id, by));
      return { ok: true };
    });

  simple('hold', 'hold', 'Hold (保持): the far party hears music on hold', (id, by) => tel().controls.hold(id, { by }));
  simple('unhold', 'unhold', 'Take the far party off hold', (id, by) => tel().controls.unhold(id, { by }));
  simple('mute', 'mute', 'Mute (静音) the agent: the far party does not hear them', (id, by) => tel().controls.mute(id, { by }));
  simple('unmute', 'unmute', 'Unmute the agent', (id, by) => tel().controls.unmute(id, { by }));
  simple('transfer/complete', 'transfer_complete', 'Attended transfer, step 2: connect the held party with the consulted target; the agent leaves', (id, by) => tel().controls.completeTransfer(id, { by }));
  simple('transfer/cancel', 'transfer_cancel', 'Attended transfer: hang up the consultation and return to the held party', (id, by) => tel().controls.cancelTransfer(id, { by }));

  r.post(
    '/api/calls/:id/dtmf',
    { schema: { tags: ['calls'], summary: 'Send DTMF (按键) into the far party (a doctor’s IVR)', params: CallParams, body: Type.Object({ digits: Type.String({ pattern: '^[0-9*#A-Da-d,]{1,64}$' }) }, { additionalProperties: false }) }, onRequest: staff, config: VIA_TELEPHONY_NODE },
    async (req) => {
      // the digits are not audited: they may be a PIN or an account number
      await act(req, req.params.id, 'dtmf', (by) => tel().controls.sendDtmf(req.params.id, req.body.digits, { by }), { digits: req.body.digits.length });
      return { ok: true };
    },
  );

  r.post(
    '/api/calls/:id/transfer',
    {
      schema: {
        tags: ['calls'],
        summary: 'Transfer (转接): blind (the far party goes to the target, the agent leaves) or attended (consult first, then complete or cancel)',
        params: CallParams,
        body: Type.Object({ mode: Type.Union([Type.Literal('blind'), Type.Literal('attended')]), target: Target }, { additionalProperties: false }),
      },
      onRequest: staff, config: VIA_TELEPHONY_NODE,
    },
    async (req) => {
      const target = await targetOf(req.body.target);
      const res = await act(req, req.params.id, req.body.mode === 'blind' ? 'transfer_blind' : 'consult', (by) => (req.body.mode === 'blind' ? tel().controls.transferBlind(req.params.id, target, { by }) : tel().controls.consult(req.params.id, target, { by })), auditTarget(req.body.target));
      return { ok: true, status: res.status, channelId: res.channelId };
    },
  );

  r.post(
    '/api/calls/:id/conference',
    { schema: { tags: ['calls'], summary: 'Three-way call (三方通话): dial the target into the call', params: CallParams, body: Type.Object({ target: Target }, { additionalProperties: false }) }, onRequest: staff, config: VIA_TELEPHONY_NODE },
    async (req) => {
      const target = await targetOf(req.body.target);
      const res = await act(req, req.params.id, 'conference_add', (by) => tel().controls.addParty(req.params.id, target, { by }), auditTarget(req.body.target));
      return { ok: true, status: res.status, channelId: res.channelId };
    },
  );

  r.post(
    '/api/calls/:id/conference/remove',
    {
      schema: {
        tags: ['calls'],
        summary: 'Take a party out of the call (hung up); the others carry on',
        params: CallParams,
        body: Type.Object({ party: Type.String({ pattern: '^[A-Za-z0-9:._#-]{1,100}$', description: "a leg's channel id, or 'third' / 'far'" }) }, { additionalProperties: false }),
      },
      onRequest: staff, config: VIA_TELEPHONY_NODE,
    },
    async (req) => {
      await act(req, req.params.id, 'conference_remove', (by) => tel().controls.removeParty(req.params.id, { by, who: req.body.party }), { party: req.body.party });
      return { ok: true };
    },
  );

  const busy = () => new ApiError(409, 'call_in_progress', '您已有一通电话在进行中，请先挂机 / you already have a call in progress: hang up first');
  r.post(
    '/api/calls/dial-pad',
    {
      schema: {
        tags: ['calls'],
        summary: 'Dial pad (拨号盘): ring the agent, then dial a number not in the file',
        body: Type.Object(
          {
            number: DialNumber,
            alarmId: Type.Optional(Type.Integer({ minimum: 1 })),
            idempotencyKey: Type.Optional(Type.String({ minLength: 8, maxLength: 100, pattern: '^[A-Za-z0-9:._-]+$' })),
          },
          { additionalProperties: false },
        ),
      },
      onRequest: staff, config: VIA_TELEPHONY_NODE,
    },
    async (req, reply) => {
      const me = await getAgentStatus(db, req.user!.id);
      if (!me?.signedIn || !me.extension) throw new ApiError(409, 'not_signed_in', '请先签入分机 / sign in to a phone extension first (签入)');
      const number = phone(req.body.number, 'body/number', o.areaCode);
      const alarm = req.body.alarmId ? await getAlarm(db, req.body.alarmId) : undefined;
      if (req.body.alarmId && !alarm) throw badField('body/alarmId', `alarm ${req.body.alarmId} does not exist`);
      const uid = req.user!.id;
      const key = `pad:${uid}:${req.body.idempotencyKey ?? randomUUID()}`;
      // The same claim as click-to-call (calls.ts): one originate per agent, and none while a call is live.
      const held = o.originating.get(uid);
      if (held !== undefined && held !== key) throw busy();
      const tele = tel();
      o.originating.set(uid, key);
      let t: Awaited<ReturnType<typeof tele.dialPad>>;
      try {
        if (held === undefined && (await liveCallsOfAgent(db, uid)).length) throw busy();
        t = await tele.dialPad({ idempotencyKey: key, agentId: String(uid), extension: me.extension, number, ...(alarm ? { alarmId: String(alarm.id) } : {}) });
      } catch (e) {
        if (o.originating.get(uid) === key) o.originating.delete(uid);
        throw e;
      }
      void t.done.catch(() => undefined).finally(() => {
        if (o.originating.get(uid) === key) o.originating.delete(uid);
      });
      await audit(db, actorOf(req), 'call_dial_pad', `call:${t.callId}`, { ...auditTarget({ number }), duplicate: t.duplicate, ...(alarm ? { alarmId: alarm.id } : {}) });
      return reply.status(202).send({ call: { id: t.callId, state: 'ringing_agent', party: 'unknown', alarmId: alarm?.id ?? null }, duplicate: t.duplicate });
    },
  );
}
