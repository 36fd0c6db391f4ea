import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AgentStates } from '../agent-states.js';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { getAgentStatus, listAgentStatus, type AgentState } from '../store/agents.js';
import { actorOf, requireRole } from './auth.js';
import { ApiError } from './errors.js';

const UserState = Type.Union([Type.Literal('ready'), Type.Literal('not_ready'), Type.Literal('away'), Type.Literal('wrap_up')], {
  description: '置闲 ready / 置忙 not ready / 离席 away / 话后整理 wrap-up',
});

export async function agentRoutes(app: FastifyInstance, o: { db: Db; agents: AgentStates }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const agent = requireRole(db, 'agent', 'supervisor', 'admin');
  const set = async (userId: number, state: AgentState, patch: { extension?: string | null; signedIn?: boolean } = {}) => {
    const res = await o.agents.request(userId, state, patch);
    if (!res.ok) {
      const ids = res.heldAlarms.map((id) => `#${id}`).join(', ');
      throw new ApiError(409, 'alarm_in_hand', `您仍持有报警 ${ids}，请先处理完毕或释放 / you still hold alarm ${ids}: resolve or release it first`);
    }
    return res.status;
  };

  r.post(
    '/api/agents/me/sign-in',
    { schema: { tags: ['agents'], summary: 'Sign in to a phone extension (签入)', body: Type.Object({ extension: Type.String({ pattern: '^[0-9]{2,8}$' }), state: Type.Optional(UserState) }, { additionalProperties: false }) }, preHandler: agent },
    async (req) => {
      const s = await set(req.user!.id, req.body.state ?? 'ready', { extension: req.body.extension, signedIn: true });
      await audit(db, actorOf(req), 'agent_sign_in', actorOf(req), { extension: req.body.extension });
      return s;
    },
  );
  r.post('/api/agents/me/state', { schema: { tags: ['agents'], body: Type.Object({ state: UserState }, { additionalProperties: false }) }, preHandler: agent }, async (req) => {
    const s = await set(req.user!.id, req.body.state);
    await audit(db, actorOf(req), 'agent_state', actorOf(req), { state: req.body.state });
    return s;
  });
  r.post('/api/agents/me/sign-out', { schema: { tags: ['agents'], summary: 'Sign out (签出)' }, preHandler: agent }, async (req) => {
    const s = await set(req.user!.id, 'away', { extension: null, signedIn: false });
    await audit(db, actorOf(req), 'agent_sign_out', actorOf(req));
    return s;
  });
  r.get('/api/agents/me', { schema: { tags: ['agents'] }, preHandler: agent }, async (req) => (await getAgentStatus(db, req.user!.id)) ?? { userId: req.user!.id, state: 'away', signedIn: false, extension: null, wrapUpUntil: null });
  r.get('/api/agents', { schema: { tags: ['agents'], summary: "Every agent's state (supervisor view)" }, preHandler: requireRole(db, 'supervisor', 'admin') }, async () => listAgentStatus(db));
}
