/**
 * Callback to the elder (回拨): originate to the elder's number through the trunk, play a greeting on answer,
 * then bridge with an agent when one is given (the elder waits in the bridge while the agent's phone rings),
 * or hang up and report.
 */
import { normalisePhone } from '../phone.ts';
import type { Leg, LegResult } from '../calls.ts';
import { errText } from '../log.ts';
import { bridge, flowIdFor, isValidExtension, teardown, type ActiveFlow, type FlowContext, type Ticket } from './context.ts';
import { prompt } from './prompts.ts';
import { dialOut, ringAgent, settled, startFlow } from './skeleton.ts';

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
  const n = normalisePhone(req.number, ctx.cfg.areaCode);
  if (!n.ok) return settled(callId, { callId, status: 'invalid_number', bridged: false, detail: n.reason });
  if (req.agent && !isValidExtension(req.agent.extension)) return settled(callId, { callId, status: 'failed', bridged: false, detail: `invalid extension ${req.agent.extension}` });
  return startFlow<Leg, CallbackResult>(ctx, callId, 'callback', {
    duplicate: () => ({ callId, status: 'duplicate', bridged: false }),
    first: (flow) =>
      dialOut(ctx, flow, { idempotencyKey: `${req.idempotencyKey}#elder`, party: 'elder', number: n.number, timeoutS: req.ringTimeoutS, alarmId: req.alarmId, elderId: req.elderId }),
    run: (flow, elder) => run(ctx, flow, req, elder),
    failed: (err, legs) => {
      const r: CallbackResult = { callId, status: 'failed', bridged: false, detail: errText(err) };
      const e = legs.find((x) => x.party === 'elder');
      const a = legs.find((x) => x.party === 'agent');
      if (e) r.elder = e;
      if (a) r.agent = a;
      return r;
    },
  });
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
  await prompt(ctx, elder, 'callbackGreeting', req.greeting).finished;
  if (!elder.live) return result('completed', false);
  if (!req.agent) return result('completed', false);

  // The elder waits in the bridge while the agent's phone rings.
  await bridge(ctx, flow, [elder]);
  const { agentId, extension } = req.agent;
  const agent = await ringAgent(ctx, flow, { idempotencyKey: `${req.idempotencyKey}#agent`, agentId, extension, timeoutS: req.agentRingTimeoutS, alarmId: req.alarmId, elderId: req.elderId });
  if (!agent) {
    await prompt(ctx, elder, 'callbackNoAgent').finished;
    return result('agent_unavailable', false);
  }
  void elder.ended.then(() => (agent.state === 'up' ? undefined : agent.hangup('normal'))); // once up, converse() decides

  if (!(await agent.answered)) {
    if (!elder.live) return result(flow.cancelled ? 'cancelled' : 'elder_hung_up', false, agent);
    await prompt(ctx, elder, 'callbackNoAgent').finished;
    return result(flow.cancelled ? 'cancelled' : 'agent_unavailable', false, agent);
  }
  if (!elder.live) return result('elder_hung_up', false, agent);
  try {
    await bridge(ctx, flow, [agent]);
  } catch (err) {
    if (!elder.live) return result('elder_hung_up', false, agent);
    throw err;
  }
  // Issue 19: hold, transfer, conference, recording, supervisor; over when at most one party is left.
  await ctx.controls.converse({ callId, flow: flow.kind, bridgeId: flow.bridgeId!, agent, far: elder, adopt: (l) => flow.add(l), ...(req.alarmId && { alarmId: req.alarmId }), ...(req.elderId && { elderId: req.elderId }) });
  return result('completed', true, agent);
}
