/**
 * Supervisor (班长) routes (issue 19 "Supervisor"): listen, whisper and barge into a live call, end a session,
 * force an agent's state, reassign an alarm. Supervisors and admins only; everything is audited.
 */
import { VIA_TELEPHONY_NODE } from './holder-forward.js';
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AgentStates } from '../alarms/agent-states.js';
import type { AlarmActions } from '../alarms/alarm-actions.js';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { getAgentStatus } from '../store/agents.js';
import { getUser } from '../store/users.js';
import { actorOf, requireRole } from './auth.js';
import { CallParams, Extension, callFor, control, telephonyOf, type TelephonyGetter } from './call-access.js';
import { ApiError } from './errors.js';

const MODES = ['listen', 'whisper', 'barge'] as const;
const SUMMARY: Record<(typeof MODES)[number], string> = {
  listen: 'Listen in (监听): the supervisor hears the call, nobody hears them',
  whisper: 'Whisper (耳语): the supervisor coaches the agent; only the agent hears them',
  barge: 'Barge in (强插): the supervisor joins the call; everyone hears everyone',
};
const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const Reason = Type.String({ minLength: 2, maxLength: 200, description: 'why (kept in audit_log)' });

export async function supervisorRoutes(app: FastifyInstance, o: { db: Db; telephony: TelephonyGetter; agents: AgentStates; actions: AlarmActions }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const lead = requireRole(db, 'supervisor', 'admin');

  for (const mode of MODES) {
    r.post(
      `/api/calls/:id/${mode}`,
      {
        schema: {
          tags: ['supervisor'],
          summary: SUMMARY[mode],
          params: CallParams,
          body: Type.Object({ extension: Type.Optional(Extension) }, { additionalProperties: false, description: "the phone to ring; default the supervisor's signed-in extension" }),
        },
        // A bodiless POST means "my own extension".
        preValidation: async (req) => {
          req.body ??= {};
        },
        onRequest: lead,
        config: VIA_TELEPHONY_NODE,
      },
      async (req) => {
        const call = await callFor(db, req.user!, req.params.id);
        const me = await getAgentStatus(db, req.user!.id);
        const extension = req.body?.extension ?? (me?.signedIn ? me.extension : null) ?? req.user!.extension ?? undefined;
        if (!extension) throw new ApiError(400, 'no_extension', '请先签入分机或指定分机 / sign in to an extension first, or send {extension}');
        const res = await control(() => telephonyOf(o.telephony).controls.supervise(req.params.id, mode, { extension, agentId: String(req.user!.id) }, { by: String(req.user!.id) }));
        await audit(db, actorOf(req), `call_${mode}`, `call:${call.flowId}`, { extension, sessionId: res.sessionId, status: res.status, agents: call.agentIds, ...(call.alarmId ? { alarmId: call.alarmId } : {}) });
        return { ok: true, sessionId: res.sessionId, status: res.status };
      },
    );
  }

  const SessionParams = Type.Object({ ...CallParams.properties, sessionId: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9:._#-]+$' }) });
  r.post(
    '/api/calls/:id/supervision/:sessionId/mode',
    {
      schema: {
        tags: ['supervisor'],
        summary: 'Switch a running supervisor session between listen (监听), whisper (耳语) and barge (强插) without ringing again',
        params: SessionParams,
        body: Type.Object({ mode: Type.Union(MODES.map((m) => Type.Literal(m))) }, { additionalProperties: false }),
      },
      onRequest: lead,
      config: VIA_TELEPHONY_NODE,
    },
    async (req) => {
      const call = await callFor(db, req.user!, req.params.id);
      await control(() => telephonyOf(o.telephony).controls.changeSupervisorMode(req.params.id, req.params.sessionId, req.body.mode, { by: String(req.user!.id) }));
      await audit(db, actorOf(req), `call_${req.body.mode}`, `call:${call.flowId}`, { sessionId: req.params.sessionId, switched: true, ...(call.alarmId ? { alarmId: call.alarmId } : {}) });
      return { ok: true, mode: req.body.mode };
    },
  );

  r.post(
    '/api/calls/:id/supervision/:sessionId/end',
    { schema: { tags: ['supervisor'], summary: "End a supervisor session (the supervisor's leg hangs up; the call goes on)", params: SessionParams }, onRequest: lead, config: VIA_TELEPHONY_NODE },
    async (req) => {
      const call = await callFor(db, req.user!, req.params.id);
      await control(() => telephonyOf(o.telephony).controls.endSupervision(req.params.id, req.params.sessionId));
      await audit(db, actorOf(req), 'call_supervision_end', `call:${call.flowId}`, { sessionId: req.params.sessionId });
      return { ok: true };
    },
  );

  r.post(
    '/api/agents/:id/state',
    {
      schema: {
        tags: ['supervisor'],
        summary: "Force an agent's state (置闲 ready / 置忙 not ready / 离席 away / 话后整理 wrap-up), with a reason",
        params: Id,
        body: Type.Object({ state: Type.Union([Type.Literal('ready'), Type.Literal('not_ready'), Type.Literal('away'), Type.Literal('wrap_up')]), reason: Reason }, { additionalProperties: false }),
      },
      onRequest: lead,
    },
    async (req) => {
      const cur = await getAgentStatus(db, req.params.id);
      if (!cur) throw new ApiError(404, 'not_found', `坐席 ${req.params.id} 不存在或从未签入 / agent ${req.params.id} has never signed in`);
      if (!cur.signedIn) throw new ApiError(409, 'not_signed_in', `坐席未签入 / agent ${req.params.id} is not signed in`);
      const res = await o.agents.request(req.params.id, req.body.state);
      if (!res.ok) {
        const ids = res.heldAlarms.map((id) => `#${id}`).join(', ');
        throw new ApiError(409, 'alarm_in_hand', `该坐席仍持有报警 ${ids}，请先改派 / the agent still holds alarm ${ids}: reassign it first`);
      }
      await audit(db, actorOf(req), 'agent_state_forced', `user:${req.params.id}`, { from: cur.state, state: req.body.state, reason: req.body.reason });
      return res.status;
    },
  );

  r.post(
    '/api/alarms/:id/reassign',
    {
      schema: {
        tags: ['supervisor'],
        summary: 'Reassign (改派) an alarm to another agent: an accepted alarm changes owner, a waiting one is presented to them',
        params: Id,
        body: Type.Object({ userId: Type.Integer({ minimum: 1 }), reason: Type.Optional(Reason) }, { additionalProperties: false }),
      },
      onRequest: lead,
    },
    async (req) => {
      const to = await getUser(db, req.body.userId);
      if (!to || to.disabled || to.role === 'installer' || to.role === 'wallboard') throw new ApiError(400, 'validation', `用户 ${req.body.userId} 不是可接警的坐席 / user ${req.body.userId} is not an agent who can take alarms`, [{ field: 'body/userId', message: 'not an active agent, supervisor or admin' }]);
      return o.actions.reassign(req.params.id, to.id, req.user!, req.body.reason);
    },
  );
}
