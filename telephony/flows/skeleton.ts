/**
 * The skeleton the outbound flows share (callback, click-to-call, cascade): claim the flow id, place the first
 * leg before answering (so a repeated request is reported as a duplicate and nothing is dialled twice), run the
 * rest in the background, tear every leg down when it throws, then forget the flow and report flow_done.
 * Also the two ways a flow places a leg: an agent's extension, or a number through the trunk.
 */
import type { Leg, LegResult, LegSpec } from '../calls.ts';
import { errText } from '../log.ts';
import { agentEndpoint, teardown, trunkEndpoint, type ActiveFlow, type FlowContext, type Ticket } from './context.ts';

export interface FlowSteps<F, R> {
  /** The result of a duplicate request (nothing was dialled). */
  duplicate(): R;
  /** Places the first leg; undefined: its key was used before (a duplicate). Throwing ends the flow, nothing dialled. */
  first(flow: ActiveFlow): Promise<F | undefined>;
  /** The rest of the flow, in the background; it tears down its own legs. */
  run(flow: ActiveFlow, first: F): Promise<R>;
  /** The result when run threw, after every leg was hung up (their results in `legs`). */
  failed(err: unknown, legs: LegResult[], flow: ActiveFlow): R;
}

const LABEL: Record<ActiveFlow['kind'], string> = { callback: 'callback', click_to_call: 'click-to-call', cascade: 'cascade', welfare: 'welfare' };

export async function startFlow<F, R extends { status: string }>(ctx: FlowContext, callId: string, kind: ActiveFlow['kind'], steps: FlowSteps<F, R>): Promise<Ticket<R>> {
  const duplicate = (): Ticket<R> => ({ callId, duplicate: true, done: Promise.resolve(steps.duplicate()) });
  const flow = ctx.flows.begin(callId, kind);
  if (!flow) return duplicate();
  let first: F | undefined;
  try {
    first = await steps.first(flow);
  } catch (err) {
    ctx.flows.end(callId);
    throw err;
  }
  if (first === undefined) {
    ctx.flows.end(callId);
    return duplicate();
  }
  const done = steps
    .run(flow, first)
    .catch(async (err: unknown): Promise<R> => {
      ctx.log.error({ err: errText(err), callId }, `telephony: ${LABEL[kind]} failed`);
      return steps.failed(err, await teardown(ctx, flow), flow);
    })
    .finally(() => ctx.flows.end(callId));
  void done.then((r) => ctx.flowDone({ callId, kind, status: r.status }));
  return { callId, duplicate: false, done };
}

/** A request answered before anything is dialled (an invalid number or extension). */
export const settled = <R>(callId: string, r: R): Ticket<R> => ({ callId, duplicate: false, done: Promise.resolve(r) });

/** The optional fields of a leg; an unset or empty one is left out of the spec. */
type LegLinks = Partial<Pick<LegSpec, 'alarmId' | 'agentId' | 'elderId' | 'contactId'>>;

/** Places a leg of the flow and adds it; undefined when its idempotency key was used before (nothing dialled). */
async function place(ctx: FlowContext, flow: ActiveFlow, spec: Omit<LegSpec, 'flowId' | 'flow' | keyof LegLinks>, links: LegLinks): Promise<Leg | undefined> {
  const s: LegSpec = { ...spec, flowId: flow.id, flow: flow.kind };
  for (const k of ['alarmId', 'agentId', 'elderId', 'contactId'] as const) {
    const v = links[k];
    if (v) s[k] = v;
  }
  const placed = await ctx.tracker.place(s);
  return placed.duplicate ? undefined : flow.add(placed.leg);
}

/** Rings an agent's extension for the flow (no caller ID: an internal call). */
export async function ringAgent(
  ctx: FlowContext,
  flow: ActiveFlow,
  o: { idempotencyKey: string; agentId: string; extension: string; timeoutS: number | undefined } & Pick<LegLinks, 'alarmId' | 'elderId'>,
): Promise<Leg | undefined> {
  const endpoint = agentEndpoint(ctx.cfg, o.extension);
  return place(ctx, flow, { idempotencyKey: o.idempotencyKey, party: 'agent', number: o.extension, endpoint, timeoutS: o.timeoutS ?? ctx.cfg.agentRingTimeoutS, extension: o.extension }, o);
}

/** Dials a (normalised) number through the trunk for the flow, with the hub's caller ID. */
export async function dialOut(
  ctx: FlowContext,
  flow: ActiveFlow,
  o: { idempotencyKey: string; party: LegSpec['party']; number: string; timeoutS: number | undefined } & LegLinks,
): Promise<Leg | undefined> {
  const spec: Parameters<typeof place>[2] = { idempotencyKey: o.idempotencyKey, party: o.party, number: o.number, endpoint: trunkEndpoint(ctx.cfg, o.number), timeoutS: o.timeoutS ?? ctx.cfg.ringTimeoutS };
  if (ctx.cfg.callerId) spec.callerId = ctx.cfg.callerId;
  return place(ctx, flow, spec, o);
}
