/**
 * Transfer (转接), issue 19: blind and attended, to an agent's extension or an outside number (120, 110, a
 * doctor, a family member).
 *  blind     the far party is held (MOH) and the agent leg leaves at once; the target is dialled; on answer it
 *            joins the far party in the call's mixing bridge. Not reached: the far party hears the
 *            targetNotReached prompt and the call ends.
 *  attended  consult: the far party is held, the agent moves to a consultation bridge (`<callId>-consultN`)
 *            and the target is dialled into it. complete: the target and the far party meet in the mixing
 *            bridge and the agent leaves. cancel: the target is hung up, the agent and the far party are back
 *            together. A target that is not reached ends the consultation by itself (agent back, far party
 *            still held: the agent unholds).
 */
import type { Leg, LegResult } from '../calls.ts';
import { playPrompt } from '../flows/prompts.ts';
import type { ControlledCall } from './call.ts';
import { ControlError, describeTarget, placeLeg, type CallTarget, type ControlDeps } from './deps.ts';
import { holdLeg, unholdLeg } from './hold.ts';

export interface TransferResult {
  status: 'transferred' | 'consulting' | 'not_reached';
  /** The target's leg (its channel id: a party of the call once answered). */
  channelId: string;
  /** The target's end when it was not reached. */
  target?: LegResult;
}

function parts(call: ControlledCall): { agent: Leg; others: Leg[] } {
  const agent = call.find('agent');
  if (!agent) throw new ControlError('no_party', `call ${call.id} has no agent leg`);
  return { agent: agent.leg, others: call.talkers.filter((p) => p !== agent).map((p) => p.leg) };
}

export async function transferBlind(d: ControlDeps, call: ControlledCall, target: CallTarget, by: string): Promise<TransferResult> {
  return call.run(async () => {
    if (call.consult) throw new ControlError('state', 'a consultation is in progress: complete or cancel it');
    const { agent, others } = parts(call);
    for (const l of others) await holdLeg(d, call, l.channelId);
    const leg = await placeLeg(d, call, target, 'xfer');
    call.add(leg, 'third');
    d.report({ callId: call.id, action: 'transfer_blind', by, channelId: leg.channelId, detail: { ...describeTarget(target), from: agent.channelId } });
    await agent.hangup('normal');
    if (!(await leg.answered)) {
      const held = others.filter((l) => l.live);
      for (const l of held) await unholdLeg(d, call, l.channelId).catch(() => false);
      d.report({ callId: call.id, action: 'transfer_failed', by: 'system', channelId: leg.channelId, detail: { outcome: (await leg.ended).outcome } });
      await Promise.all(held.map((l) => playPrompt({ leg: l, stats: d.prompts, log: d.log }, 'targetNotReached', d.cfg.media.targetNotReached, d.cfg.fallbackMedia.targetNotReached).finished));
      return { status: 'not_reached', channelId: leg.channelId, target: await leg.ended };
    }
    await d.adapter.addToBridge(call.bridgeId, [leg.channelId]);
    for (const l of others) if (l.live) await unholdLeg(d, call, l.channelId);
    d.report({ callId: call.id, action: 'party_joined', by: 'system', channelId: leg.channelId });
    return { status: 'transferred', channelId: leg.channelId };
  });
}

export async function consult(d: ControlDeps, call: ControlledCall, target: CallTarget, by: string): Promise<TransferResult> {
  return call.run(async () => {
    if (call.consult) throw new ControlError('state', 'a consultation is already in progress');
    const { agent, others } = parts(call);
    for (const l of others) await holdLeg(d, call, l.channelId);
    const bridgeId = `${call.id}-consult${call.next()}`;
    await d.adapter.createBridge({ bridgeId, type: 'mixing', name: `${call.id} consult` });
    await d.adapter.addToBridge(bridgeId, [agent.channelId]);
    const leg = await placeLeg(d, call, target, 'consult');
    call.consult = { bridgeId, target: leg, by };
    call.add(leg, 'third');
    d.report({ callId: call.id, action: 'consult', by, channelId: leg.channelId, detail: describeTarget(target) });
    if (await leg.answered) {
      await d.adapter.addToBridge(bridgeId, [leg.channelId]);
      // the consultation ends by itself when the target hangs up before complete/cancel
      void leg.ended.then(() => call.consult?.target === leg && void call.run(() => endConsult(d, call, false)).catch(() => undefined));
      return { status: 'consulting', channelId: leg.channelId };
    }
    d.report({ callId: call.id, action: 'transfer_failed', by: 'system', channelId: leg.channelId, detail: { outcome: (await leg.ended).outcome } });
    await endConsult(d, call, false);
    return { status: 'not_reached', channelId: leg.channelId, target: await leg.ended };
  });
}

/** Agent back in the mixing bridge, consultation bridge gone; `unhold`: the held parties too. */
async function endConsult(d: ControlDeps, call: ControlledCall, unhold: boolean): Promise<void> {
  const c = call.consult;
  if (!c) return;
  call.consult = undefined;
  const agent = call.find('agent');
  if (agent?.leg.live) await d.adapter.addToBridge(call.bridgeId, [agent.leg.channelId]).catch(() => undefined);
  if (unhold) for (const id of [...call.held]) await unholdLeg(d, call, id);
  await d.adapter.destroyBridge(c.bridgeId).catch(() => false);
}

export async function completeTransfer(d: ControlDeps, call: ControlledCall, by: string): Promise<void> {
  return call.run(async () => {
    const c = call.consult;
    if (!c || c.target.state !== 'up') throw new ControlError('state', 'no answered consultation to complete');
    const agent = call.find('agent');
    call.consult = undefined;
    await d.adapter.addToBridge(call.bridgeId, [c.target.channelId]);
    for (const id of [...call.held]) await unholdLeg(d, call, id);
    d.report({ callId: call.id, action: 'transfer_complete', by, channelId: c.target.channelId, detail: { from: agent?.leg.channelId } });
    if (agent) await agent.leg.hangup('normal');
    await d.adapter.destroyBridge(c.bridgeId).catch(() => false);
  });
}

export async function cancelTransfer(d: ControlDeps, call: ControlledCall, by: string): Promise<void> {
  return call.run(async () => {
    const c = call.consult;
    if (!c) throw new ControlError('state', 'no consultation to cancel');
    d.report({ callId: call.id, action: 'transfer_cancel', by, channelId: c.target.channelId });
    await endConsult(d, call, true);
    await c.target.hangup('normal');
  });
}
