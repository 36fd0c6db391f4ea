/**
 * Callback to the elder (回拨): originate to the elder's number through the trunk, play a greeting on answer,
 * then bridge with an agent when one is given (the elder waits in the bridge while the agent's phone rings),
 * or hang up and report.
 */
import { normalisePhone } from '../phone.ts';
import type { Leg, LegResult } from '../calls.ts';
import { errText } from '../log.ts';
import { agentEndpoint, bridge, flowIdFor, isValidExtension, teardown, trunkEndpoint, type ActiveFlow, type FlowContext, type Ticket } from './context.ts';

export interface CallbackRequest {
  /** One key per intended call (e.g. `alarm:42:callback`); a retry with the same key never dials again. */
  idempotencyKey: string;
  /** The elder's number, any usual form (normalised with normalisePhone). */
  number: string;
  alarmId?: string;
  elderId?: string;
  /** Bridge the elder with this agent once the greeting has played. */
  agent?: { agentId: string; extension: string };
  /** Media URIs; default cfg.media.callbackGreeting. */
  greeting?: string[];
  ringTimeoutS?: number;
  agentRingTimeoutS?: number;
}

export type CallbackStatus =
  /** The elder answered and heard the greeting (and was bridged with the agent, if one was given, until hang-up). */
  | 'completed'
  /** The elder's leg was not answered: see elder.outcome (busy, no_answer, rejected, failed…). */
  | 'not_reached'
  /** The elder answered, but the agent's phone was not answered. */
  | 'agent_unavailable'
  /** The elder hung up before the agent answered. */
  | 'elder_hung_up'
  /** hangup(callId) before the call was established. */
  | 'cancelled'
  | 'duplicate'
  | 'invalid_number'
  /** A telephony error mid-flow (see detail). */
  | 'failed';

export interface CallbackResult {
  callId: string;
  status: CallbackStatus;
  bridged: boolean;
  elder?: LegResult;
  agent?: LegResult;
  detail?: string;
}

export async function startCallback(ctx: FlowContext, req: CallbackRequest): Promise<Ticket<CallbackResult>> {
  const callId = flowIdFor(req.idempotencyKey);
  const now = (r: Omit<CallbackResult, 'callId' | 'bridged'> & { bridged?: boolean }): Ticket<CallbackResult> => ({
    callId,
    duplicate: r.status === 'duplicate',
    done: Promise.resolve({ callId, bridged: false, ...r }),
  });
  const n = normalisePhone(req.number, ctx.cfg.areaCode);
  if (!n.ok) return now({ status: 'invalid_number', detail: n.reason });
  if (req.agent && !isValidExtension(req.agent.extension)) return now({ status: 'failed', detail: `invalid extension ${req.agent.extension}` });
  const flow = ctx.flows.begin(callId, 'callback');
  if (!flow) return now({ status: 'duplicate' });

  let placed: Awaited<ReturnType<FlowContext['tracker']['place']>>;
  try {
    const spec: Parameters<FlowContext['tracker']['place']>[0] = {
      idempotencyKey: `${req.idempotencyKey}#elder`,
      flowId: callId,
      flow: 'callback',
      party: 'elder',
      number: n.number,
      endpoint: trunkEndpoint(ctx.cfg, n.number),
      timeoutS: req.ringTimeoutS ?? ctx.cfg.ringTimeoutS,
    };
    if (ctx.cfg.callerId) spec.callerId = ctx.cfg.callerId;
    if (req.alarmId) spec.alarmId = req.alarmId;
    if (req.elderId) spec.elderId = req.elderId;
    placed = await ctx.tracker.place(spec);
  } catch (err) {
    ctx.flows.end(callId);
    throw err;
  }
  if (placed.duplicate) {
    ctx.flows.end(callId);
    return now({ status: 'duplicate' });
  }
  const elder = flow.add(placed.leg);
  const done = run(ctx, flow, req, elder)
    .catch(async (err: unknown): Promise<CallbackResult> => {
      ctx.log.error({ err: errText(err), callId }, 'telephony: callback failed');
      const results = await teardown(ctx, flow);
      const r: CallbackResult = { callId, status: 'failed', bridged: false, detail: errText(err) };
      const e = results.find((x) => x.party === 'elder');
      const a = results.find((x) => x.party === 'agent');
      if (e) r.elder = e;
      if (a) r.agent = a;
      return r;
    })
    .finally(() => ctx.flows.end(callId));
  void done.then((r) => ctx.flowDone({ callId, kind: 'callback', status: r.status }));
  return { callId, duplicate: false, done };
}

async function run(ctx: FlowContext, flow: ActiveFlow, req: CallbackRequest, elder: Leg): Promise<CallbackResult> {
  const callId = flow.id;
  const result = async (status: CallbackStatus, bridged: boolean, agent?: Leg): Promise<CallbackResult> => {
    await teardown(ctx, flow);
    const r: CallbackResult = { callId, status, bridged };
    if (elder.result) r.elder = elder.result;
    if (agent?.result) r.agent = agent.result;
    return r;
  };

  if (!(await elder.answered)) return result(flow.cancelled ? 'cancelled' : 'not_reached', false);
  await elder.play(req.greeting ?? ctx.cfg.media.callbackGreeting).finished;
  if (!elder.live) return result('completed', false);
  if (!req.agent) return result('completed', false);

  // The elder waits in the bridge while the agent's phone rings.
  await bridge(ctx, flow, [elder]);
  const spec: Parameters<FlowContext['tracker']['place']>[0] = {
    idempotencyKey: `${req.idempotencyKey}#agent`,
    flowId: callId,
    flow: 'callback',
    party: 'agent',
    number: req.agent.extension,
    endpoint: agentEndpoint(ctx.cfg, req.agent.extension),
    timeoutS: req.agentRingTimeoutS ?? ctx.cfg.agentRingTimeoutS,
    agentId: req.agent.agentId,
    extension: req.agent.extension,
  };
  if (req.alarmId) spec.alarmId = req.alarmId;
  if (req.elderId) spec.elderId = req.elderId;
  const placed = await ctx.tracker.place(spec);
  if (placed.duplicate) {
    await elder.play(ctx.cfg.media.callbackNoAgent).finished;
    return result('agent_unavailable', false);
  }
  const agent = flow.add(placed.leg);
  void elder.ended.then(() => agent.hangup('normal'));

  if (!(await agent.answered)) {
    if (!elder.live) return result(flow.cancelled ? 'cancelled' : 'elder_hung_up', false, agent);
    await elder.play(ctx.cfg.media.callbackNoAgent).finished;
    return result(flow.cancelled ? 'cancelled' : 'agent_unavailable', false, agent);
  }
  if (!elder.live) return result('elder_hung_up', false, agent);
  void agent.ended.then(() => elder.hangup('normal'));
  try {
    await bridge(ctx, flow, [agent]);
  } catch (err) {
    if (!elder.live) return result('elder_hung_up', false, agent);
    throw err;
  }
  await Promise.race([elder.ended, agent.ended]);
  return result('completed', true, agent);
}
