import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AgentStates } from '../alarms/agent-states.js';
import type { Db } from '../store/db.js';
import { audit } from '../store/audit.js';
import { extensionUse, getAgentStatus, listAgentStatus, type AgentState } from '../store/agents.js';
import { actorOf, requireRole } from './auth.js';
import { ApiError } from './errors.js';
import { AgentRow, AgentStatusSchema } from './responses.js';

const UserState = Type.Union([Type.Literal('ready'), Type.Literal('not_ready'), Type.Literal('away'), Type.Literal('wrap_up')], {
  description: '置闲 ready / 置忙 not ready / 离席 away / 话后整理 wrap-up',
});

/** `8001-8050,8100` → a membership test. A bad entry is skipped (config validation reports it). */
export function parseExtensions(spec: string): (ext: string) => boolean {
  const ranges: [number, number][] = [];
  for (const part of spec.split(/[,\s]+/).filter(Boolean)) {
    const m = /^(\d{2,8})(?:-(\d{2,8}))?$/.exec(part);
    if (m) ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return (ext) => ranges.some(([a, b]) => Number(ext) >= a && Number(ext) <= b);
}

export async function agentRoutes(app: FastifyInstance, o: { db: Db; agents: AgentStates; extensions?: (ext: string) => boolean }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = o.db;
  const free = o.extensions ?? parseExtensions('8000-8999');
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
    { schema: { tags: ['agents'], summary: 'Sign in to a phone extension (签入)', body: Type.Object({ extension: Type.String({ pattern: '^[0-9]{2,8}$' }), state: Type.Optional(UserState) }, { additionalProperties: false }) }, onRequest: agent },
    async (req) => {
      // Only the agent's own extension, or a free one from AGENT_EXTENSIONS that nobody else is signed in to (issue 15).
      const ext = req.body.extension;
      const use = await extensionUse(db, ext);
      const mine = req.user!.extension === ext;
      if (use.assignedTo !== undefined && use.assignedTo !== req.user!.id) throw new ApiError(403, 'extension_assigned', `分机 ${ext} 已分配给其他坐席 / extension ${ext} is assigned to another agent`);
      if (!mine && use.assignedTo === undefined && !free(ext)) throw new ApiError(403, 'extension_not_allowed', `分机 ${ext} 不在可签入的分机范围内 / extension ${ext} is not one agents may sign in to`);
      if (use.signedInBy !== undefined && use.signedInBy !== req.user!.id) throw new ApiError(409, 'extension_in_use', `分机 ${ext} 已有坐席签入 / another agent is signed in to extension ${ext}`);
      const s = await set(req.user!.id, req.body.state ?? 'ready', { extension: ext, signedIn: true });
      await audit(db, actorOf(req), 'agent_sign_in', actorOf(req), { extension: req.body.extension });
      return s;
    },
  );
  r.post('/api/agents/me/state', { schema: { tags: ['agents'], body: Type.Object({ state: UserState }, { additionalProperties: false }) }, onRequest: agent }, async (req) => {
    const s = await set(req.user!.id, req.body.state);
    await audit(db, actorOf(req), 'agent_state', actorOf(req), { state: req.body.state });
    return s;
  });
  r.post('/api/agents/me/sign-out', { schema: { tags: ['agents'], summary: 'Sign out (签出)' }, onRequest: agent }, async (req) => {
    const s = await set(req.user!.id, 'away', { extension: null, signedIn: false });
    await audit(db, actorOf(req), 'agent_sign_out', actorOf(req));
    return s;
  });
  r.get('/api/agents/me', { schema: { tags: ['agents'], summary: "The signed-in agent's state", response: { 200: AgentStatusSchema } }, onRequest: agent }, async (req) => (await getAgentStatus(db, req.user!.id)) ?? { userId: req.user!.id, state: 'away', signedIn: false, extension: null, wrapUpUntil: null });
  r.get('/api/agents', { schema: { tags: ['agents'], summary: "Every agent's state (supervisor view)", response: { 200: Type.Array(AgentRow) } }, onRequest: requireRole(db, 'supervisor', 'admin') }, async () => listAgentStatus(db));
}
