/**
 * Agent click-to-call: ring the agent's extension first; only when the agent answers, dial the elder or a
 * contact and bridge the two. Either side hanging up ends both; hangup(callId) from the dashboard tears
 * both legs down.
 */
import { normalisePhone } from '../phone.ts';
import type { Leg, LegResult } from '../calls.ts';
import { errText } from '../log.ts';
import { bridge, flowIdFor, isValidExtension, teardown, type ActiveFlow, type FlowContext, type Ticket } from './context.ts';
import { prompt } from './prompts.ts';
import { dialOut, ringAgent, settled, startFlow } from './skeleton.ts';

export interface ClickToCallRequest {
  idempotencyKey: string;
  agentId: string;
  /** The agent's extension (agentTemplate `{ext}`). */
  extension: string;
  /** 'unknown': the dial pad, a number not in the file (issue 19). */
  target: { party: 'elder' | 'contact' | 'unknown'; number: string; elderId?: string; contactId?: string };
  alarmId?: string;
  agentRingTimeoutS?: number;
  ringTimeoutS?: number;
}

export type ClickToCallStatus =
  /** Agent and target were bridged; the call is over. */
  | 'completed'
  /** The agent's phone was not answered: the target was never dialled. */
  | 'agent_not_reached'
  /** The agent answered, the target did not (see target.outcome); the agent heard a prompt and was hung up. */
  | 'target_not_reached'
  /** The agent hung up, or hangup(callId), before the target answered. */
  | 'cancelled'
  | 'duplicate'
  | 'invalid_number'
  | 'failed';

export interface ClickToCallResult {
  callId: string;
  status: ClickToCallStatus;
  bridged: boolean;
  agent?: LegResult;
  target?: LegResult;
  detail?: string;
}

export async function startClickToCall(ctx: FlowContext, req: ClickToCallRequest): Promise<Ticket<ClickToCallResult>> {
  const callId = flowIdFor(req.idempotencyKey);
  const n = normalisePhone(req.target.number, ctx.cfg.areaCode);
  if (!n.ok) return settled(callId, { callId, status: 'invalid_number', bridged: false, detail: n.reason });
  if (!isValidExtension(req.extension)) return settled(callId, { callId, status: 'failed', bridged: false, detail: `invalid extension ${req.extension}` });
  return startFlow<Leg, ClickToCallResult>(ctx, callId, 'click_to_call', {
    duplicate: () => ({ callId, status: 'duplicate', bridged: false }),
    first: (flow) =>
      ringAgent(ctx, flow, {
        idempotencyKey: `${req.idempotencyKey}#agent`,
        agentId: req.agentId,
        extension: req.extension,
        timeoutS: req.agentRingTimeoutS,
        alarmId: req.alarmId,
        elderId: req.target.elderId,
      }),
    run: (flow, agent) => run(ctx, flow, req, agent, n.number),
    failed: (err, legs) => {
      const r: ClickToCallResult = { callId, status: 'failed', bridged: false, detail: errText(err) };
      const a = legs.find((x) => x.party === 'agent');
      const t = legs.find((x) => x.party !== 'agent');
      if (a) r.agent = a;
      if (t) r.target = t;
      return r;
    },
  });
}

async function run(ctx: FlowContext, flow: ActiveFlow, req: ClickToCallRequest, agent: Leg, number: string): Promise<ClickToCallResult> {
  const callId = flow.id;
  const result = async (status: ClickToCallStatus, bridged: boolean, target?: Leg): Promise<ClickToCallResult> => {
    await teardown(ctx, flow);
    const r: ClickToCallResult = { callId, status, bridged };
    if (agent.result) r.agent = agent.result;
    if (target?.result) r.target = target.result;
    return r;
  };

  if (!(await agent.answered)) return result(flow.cancelled ? 'cancelled' : 'agent_not_reached', false);
  if (flow.cancelled || !agent.live) return result('cancelled', false);
  await bridge(ctx, flow, [agent]);

  const { party, elderId, contactId } = req.target;
  const target = await dialOut(ctx, flow, { idempotencyKey: `${req.idempotencyKey}#target`, party, number, timeoutS: req.ringTimeoutS, agentId: req.agentId, alarmId: req.alarmId, elderId, contactId });
  if (!target) return result('failed', false);
  void agent.ended.then(() => (target.state === 'up' ? undefined : target.hangup('normal'))); // once up, converse() decides

  if (!(await target.answered)) {
    if (flow.cancelled || !agent.live) return result('cancelled', false, target);
    await prompt(ctx, agent, 'targetNotReached').finished;
    return result('target_not_reached', false, target);
  }
  if (!agent.live) return result('cancelled', false, target);
  try {
    await bridge(ctx, flow, [target]);
  } catch (err) {
    if (!agent.live || !target.live) return result(flow.cancelled ? 'cancelled' : 'completed', false, target);
    throw err;
  }
  // Issue 19: hold, transfer, conference, recording, supervisor; over when at most one party is left.
  await ctx.controls.converse({ callId, flow: flow.kind, bridgeId: flow.bridgeId!, agent, far: target, adopt: (l) => flow.add(l), ...links(req) });
  return result('completed', true, target);
}

const links = (req: ClickToCallRequest): { alarmId?: string; elderId?: string } => ({ ...(req.alarmId && { alarmId: req.alarmId }), ...(req.target.elderId && { elderId: req.target.elderId }) });
