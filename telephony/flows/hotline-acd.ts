/**
 * ACD for one waiting caller (issue 19): ring the agent the port picked (振铃), for the hotline's ring timeout
 * (the originate timeout: Asterisk ends the leg with cause 19). Not answered, busy or refused → the port is
 * told (agents.missed: the gateway sets them 置忙) and the queue rings the next agent. Answered → the caller
 * leaves the holding bridge and is bridged with the agent in a mixing bridge; when either hangs up the other
 * is hung up too.
 */
import type { Leg } from '../calls.ts';
import { errText } from '../log.ts';
import type { AgentMissReason, AgentPick, AgentRing } from '../hotline-ports.ts';
import type { CallOutcome } from '../ports.ts';
import { agentEndpoint } from './context.ts';
import type { HotlineQueue, QueueEntry } from './hotline-queue.ts';

function missReason(outcome: CallOutcome): AgentMissReason | undefined {
  switch (outcome) {
    case 'no_answer':
      return 'no_answer';
    case 'busy':
      return 'busy';
    case 'rejected':
      return 'rejected';
    case 'cancelled':
    case 'answered':
      return undefined;
    default:
      return 'failed';
  }
}

export async function ringNext(q: HotlineQueue, e: QueueEntry, pick: AgentPick): Promise<void> {
  const { ctx } = q;
  const { ports, log } = ctx;
  e.state = 'ringing';
  const n = ++e.agentN;
  const ring: AgentRing = { userId: pick.userId, extension: pick.extension, channelId: '', call: e.call, at: new Date() };
  const missed = (reason: AgentMissReason) => {
    e.missed.push(pick.userId);
    (e.summary.missedAgents ??= []).push(pick.userId);
    q.emit('hotline_missed', { ring, reason, at: new Date() });
    const port = ports.agents.missed?.bind(ports.agents);
    if (port) q.agentPort('missed', () => port(pick.userId, reason, ring));
  };
  let leg: Leg | undefined;
  try {
    const spec: Parameters<typeof ctx.tracker.place>[0] = {
      idempotencyKey: `${e.keyPrefix}#a${n}`,
      flowId: e.id,
      flow: 'hotline',
      party: 'agent',
      number: pick.extension,
      endpoint: agentEndpoint(ctx.cfg, pick.extension),
      timeoutS: e.hotline.ringTimeoutS ?? q.opts.ringTimeoutS,
      agentId: pick.userId,
      extension: pick.extension,
    };
    if (e.call.match?.elder?.elderId) spec.elderId = e.call.match.elder.elderId;
    const placed = await ctx.tracker.place(spec);
    if (!placed.duplicate) leg = placed.leg;
  } catch (err) {
    log.warn({ err: errText(err), entryId: e.id, userId: pick.userId }, 'telephony: hotline agent leg not placed');
  }
  if (!leg) {
    if (e.state === 'ringing') e.state = 'waiting';
    missed('failed');
    q.pump();
    return;
  }
  e.ringing = { leg, pick };
  ring.channelId = leg.channelId;
  if (e.state !== 'ringing') {
    // the caller left while the originate was on its way
    await leg.hangup('normal');
  } else {
    q.emit('hotline_ringing', ring);
    const port = ports.agents.ringing?.bind(ports.agents);
    if (port) q.agentPort('ringing', () => port(ring));
  }
  const answered = await leg.answered;
  if (answered && e.state === 'ringing' && e.leg.live) {
    const work = connect(q, e, leg, pick);
    e.work.push(work);
    return work;
  }
  if (answered) await leg.hangup('normal');
  const r = await leg.ended;
  e.ringing = undefined;
  if (e.state === 'ringing') {
    e.state = 'waiting';
    const reason = missReason(r.outcome);
    if (reason) missed(reason);
  }
  q.pump();
}

async function connect(q: HotlineQueue, e: QueueEntry, agent: Leg, pick: AgentPick): Promise<void> {
  const { adapter, log } = q.ctx;
  e.state = 'connected';
  e.ringing = undefined;
  const waitMs = q.waitMs(e);
  Object.assign(e.summary, { result: 'answered', waitMs, agentId: pick.userId });
  q.counters.answer(waitMs);
  await q.stopWaiting(e);
  const bridgeId = `${e.id}-br`;
  let bridged = false;
  try {
    await q.leaveHolding(e);
    await adapter.createBridge({ bridgeId, type: 'mixing', name: e.id });
    await adapter.addToBridge(bridgeId, [e.leg.channelId, agent.channelId]);
    bridged = true;
    q.emit('hotline_answered', { call: e.call, userId: pick.userId, extension: pick.extension, agentChannelId: agent.channelId, bridgeId, waitMs, at: new Date() });
  } catch (err) {
    log.error({ err: errText(err), entryId: e.id }, 'telephony: hotline caller and agent not bridged');
    if (e.leg.live) e.summary.result = 'failed';
  }
  q.pump();
  await converseAndEnd(q, e, agent, bridgeId, bridged, true);
}

/**
 * The bridged call until it is over: in-call controls (hold, transfer, conference, recording, snoop) own it
 * until at most one party is left; then what is left is hung up, the bridge destroyed, the records written.
 * Also the tail of a conversation adopted after a restart (flows/recover.ts; `record` false: a recording the
 * previous run started goes on in the bridge until it is destroyed, but its name is not known here).
 */
export async function converseAndEnd(q: HotlineQueue, e: QueueEntry, agent: Leg, bridgeId: string, bridged: boolean, record: boolean): Promise<void> {
  const { adapter, log } = q.ctx;
  const adopted: Leg[] = [];
  if (bridged) {
    const elderId = e.call.match?.elder?.elderId;
    await q.ctx.controls
      .converse({ callId: e.id, flow: 'hotline', bridgeId, agent, far: e.leg, keyPrefix: e.keyPrefix, adopt: (l) => adopted.push(l), ...(elderId && { elderId }), ...(!record && { record: false }) })
      .catch((err: unknown) => log.error({ err: errText(err), entryId: e.id }, 'telephony: hotline call controls failed'));
  }
  const legs = [e.leg, agent, ...adopted];
  await Promise.all(legs.filter((l) => l.live).map((l) => l.hangup('normal')));
  await Promise.all(legs.map((l) => l.ended));
  await adapter.destroyBridge(bridgeId).catch(() => false);
  await Promise.all(legs.map((l) => l.flushed()));
}
