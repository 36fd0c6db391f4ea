/**
 * Agent click-to-call: ring the agent's extension first; only when the agent answers, dial the elder or a
 * contact and bridge the two. Either side hanging up ends both; hangup(callId) from the dashboard tears
 * both legs down.
 */
import { normalisePhone } from '../phone.ts';
import type { Leg, LegResult } from '../calls.ts';
import { errText } from '../log.ts';
import { agentEndpoint, bridge, flowIdFor, isValidExtension, teardown, trunkEndpoint, type ActiveFlow, type FlowContext, type Ticket } from './context.ts';

export interface ClickToCallRequest {
  idempotencyKey: string;
  agentId: string;
  /** The agent's extension (agentTemplate `{ext}`). */
  extension: string;
  target: { party: 'elder' | 'contact'; number: string; elderId?: string; contactId?: string };
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
  const now = (status: ClickToCallStatus, detail?: string): Ticket<ClickToCallResult> => {
    const r: ClickToCallResult = { callId, status, bridged: false };
    if (detail) r.detail = detail;
    return { callId, duplicate: status === 'duplicate', done: Promise.resolve(r) };
  };
  const n = normalisePhone(req.target.number, ctx.cfg.areaCode);
  if (!n.ok) return now('invalid_number', n.reason);
  if (!isValidExtension(req.extension)) return now('failed', `invalid extension ${req.extension}`);
  const flow = ctx.flows.begin(callId, 'click_to_call');
  if (!flow) return now('duplicate');

  let placed: Awaited<ReturnType<FlowContext['tracker']['place']>>;
  try {
    const spec: Parameters<FlowContext['tracker']['place']>[0] = {
      idempotencyKey: `${req.idempotencyKey}#agent`,
      flowId: callId,
      flow: 'click_to_call',
      party: 'agent',
      number: req.extension,
      endpoint: agentEndpoint(ctx.cfg, req.extension),
      timeoutS: req.agentRingTimeoutS ?? ctx.cfg.agentRingTimeoutS,
      agentId: req.agentId,
      extension: req.extension,
    };
    if (req.alarmId) spec.alarmId = req.alarmId;
    if (req.target.elderId) spec.elderId = req.target.elderId;
    placed = await ctx.tracker.place(spec);
  } catch (err) {
    ctx.flows.end(callId);
    throw err;
  }
  if (placed.duplicate) {
    ctx.flows.end(callId);
    return now('duplicate');
  }
  const agent = flow.add(placed.leg);
  const done = run(ctx, flow, req, agent, n.number)
    .catch(async (err: unknown): Promise<ClickToCallResult> => {
      ctx.log.error({ err: errText(err), callId }, 'telephony: click-to-call failed');
      const results = await teardown(ctx, flow);
      const r: ClickToCallResult = { callId, status: 'failed', bridged: false, detail: errText(err) };
      const a = results.find((x) => x.party === 'agent');
      const t = results.find((x) => x.party !== 'agent');
      if (a) r.agent = a;
      if (t) r.target = t;
      return r;
    })
    .finally(() => ctx.flows.end(callId));
  void done.then((r) => ctx.flowDone({ callId, kind: 'click_to_call', status: r.status }));
  return { callId, duplicate: false, done };
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

  const spec: Parameters<FlowContext['tracker']['place']>[0] = {
    idempotencyKey: `${req.idempotencyKey}#target`,
    flowId: callId,
    flow: 'click_to_call',
    party: req.target.party,
    number,
    endpoint: trunkEndpoint(ctx.cfg, number),
    timeoutS: req.ringTimeoutS ?? ctx.cfg.ringTimeoutS,
    agentId: req.agentId,
  };
  if (ctx.cfg.callerId) spec.callerId = ctx.cfg.callerId;
  if (req.alarmId) spec.alarmId = req.alarmId;
  if (req.target.elderId) spec.elderId = req.target.elderId;
  if (req.target.contactId) spec.contactId = req.target.contactId;
  const placed = await ctx.tracker.place(spec);
  if (placed.duplicate) return result('failed', false);
  const target = flow.add(placed.leg);
  void agent.ended.then(() => target.hangup('normal'));

  if (!(await target.answered)) {
    if (flow.cancelled || !agent.live) return result('cancelled', false, target);
    await agent.play(ctx.cfg.media.targetNotReached).finished;
    return result('target_not_reached', false, target);
  }
  if (!agent.live) return result('cancelled', false, target);
  void target.ended.then(() => agent.hangup('normal'));
  try {
    await bridge(ctx, flow, [target]);
  } catch (err) {
    if (!agent.live || !target.live) return result(flow.cancelled ? 'cancelled' : 'completed', false, target);
    throw err;
  }
  await Promise.race([agent.ended, target.ended]);
  return result('completed', true, target);
}
