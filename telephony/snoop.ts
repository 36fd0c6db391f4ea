/**
 * Supervisor listen / whisper / barge (班长监听, issue 19 "Supervisor"), through ARI snoop channels.
 *  listen   POST /channels/{agent}/snoop spy=both whisper=none: a Snoop/… channel that carries both directions
 *           of the agent's audio enters our app; it is bridged (`<callId>-supN`, mixing) with the supervisor's
 *           extension (agentTemplate), so the supervisor hears the call and nobody hears the supervisor.
 *  whisper  the same with whisper=out: what the supervisor says goes out to the agent only (coaching).
 *  barge    no snoop: the supervisor's leg joins the call's mixing bridge; everyone hears everyone.
 * On a real Asterisk 22.10.1 the snoop channel's StasisStart (state Up, args as given) usually comes before the HTTP 200
 * (not always under load: attach waits for it, CallTracker.inStasis),
 * and a hung-up snoop channel gets StasisEnd and no ChannelDestroyed (captured, ari-scenarios-controls.ts), so
 * its channel id is registered in CallTracker.expected and it is never tracked as a call leg.
 * Snoop needs no permission beyond the ARI user (res_stasis_snoop loaded; it is in ../shared/asterisk).
 */
import type { ControlledCall, SupervisorSession } from './controls/call.ts';
import { ControlError, placeLeg, type ControlDeps } from './controls/deps.ts';

/** The tag of a supervisor's leg in its idempotency key (`<call>#sup<n>`): the gateway tells these legs from an agent's. */
export const SUPERVISOR_LEG_TAG = 'sup';
export const isSupervisorLegKey = (key: string | null | undefined): boolean => !!key && new RegExp(`#${SUPERVISOR_LEG_TAG}\\d+$`).test(key);
import { errText } from './log.ts';

export type SuperviseMode = SupervisorSession['mode'];

export interface Supervisor {
  /** The supervisor's extension (agentTemplate `{ext}`). */
  extension: string;
  agentId?: string;
}

const SPY: Record<Exclude<SuperviseMode, 'barge'>, { spy: 'both'; whisper: 'none' | 'out' }> = {
  listen: { spy: 'both', whisper: 'none' },
  whisper: { spy: 'both', whisper: 'out' },
};

/** Rings the supervisor and, once answered, connects them in `mode`. status 'not_reached': nobody answered. */
export async function supervise(d: ControlDeps, call: ControlledCall, mode: SuperviseMode, sup: Supervisor, by: string): Promise<{ sessionId: string; status: 'connected' | 'not_reached' }> {
  return call.run(async () => {
    if (mode !== 'barge' && !call.find('agent')) throw new ControlError('no_party', `call ${call.id} has no agent leg to listen to`);
    const target = sup.agentId ? { extension: sup.extension, agentId: sup.agentId } : { extension: sup.extension };
    const leg = await placeLeg(d, call, target, SUPERVISOR_LEG_TAG);
    call.add(leg, 'supervisor');
    const session: SupervisorSession = { id: leg.channelId, mode, leg, by };
    call.supervisors.set(session.id, session);
    void leg.ended.then(() => {
      call.supervisors.delete(session.id);
      void detach(d, session);
      d.report({ callId: call.id, action: 'supervisor_left', by: 'system', channelId: leg.channelId });
    });
    d.report({ callId: call.id, action: mode, by, channelId: leg.channelId, detail: { extension: sup.extension, agent: call.find('agent')?.leg.channelId } });
    if (!(await leg.answered)) return { sessionId: session.id, status: 'not_reached' };
    await attach(d, call, session, mode);
    return { sessionId: session.id, status: 'connected' };
  });
}

/** Switches a connected supervisor between listen, whisper and barge (same supervisor leg). */
export async function changeMode(d: ControlDeps, call: ControlledCall, sessionId: string, mode: SuperviseMode, by: string): Promise<void> {
  return call.run(async () => {
    const s = call.supervisors.get(sessionId);
    if (!s || s.leg.state !== 'up') throw new ControlError('no_party', `no connected supervisor ${sessionId}`);
    const from = s.mode;
    if (from === mode) return;
    await detach(d, s);
    await attach(d, call, s, mode);
    d.report({ callId: call.id, action: mode, by, channelId: s.leg.channelId, detail: { from } });
  });
}

/** Hangs the supervisor's leg up (the call goes on). */
export async function endSupervision(call: ControlledCall, sessionId: string): Promise<void> {
  const s = call.supervisors.get(sessionId);
  if (!s) throw new ControlError('no_party', `no supervisor ${sessionId}`);
  await s.leg.hangup('normal');
}

async function attach(d: ControlDeps, call: ControlledCall, s: SupervisorSession, mode: SuperviseMode): Promise<void> {
  s.mode = mode;
  if (mode === 'barge') {
    await d.adapter.addToBridge(call.bridgeId, [s.leg.channelId]);
    return;
  }
  const agent = call.find('agent');
  if (!agent) throw new ControlError('no_party', `call ${call.id} has no agent leg to listen to`);
  const n = call.next();
  const snoopId = `${call.id}-snoop${n}`;
  d.tracker.expected.add(snoopId);
  s.snoopId = snoopId;
  await d.adapter.snoop(agent.leg.channelId, { snoopId, ...SPY[mode], appArgs: ['snoop', call.id] });
  await d.tracker.inStasis(snoopId);
  s.bridgeId ??= `${call.id}-sup${n}`;
  await d.adapter.createBridge({ bridgeId: s.bridgeId, type: 'mixing', name: `${call.id} supervisor` });
  await d.adapter.addToBridge(s.bridgeId, [snoopId, s.leg.channelId]);
}

/** Removes the snoop channel and the supervisor bridge of a session (idempotent). */
export async function detach(d: ControlDeps, s: SupervisorSession): Promise<void> {
  const { snoopId, bridgeId } = s;
  s.snoopId = undefined;
  s.bridgeId = undefined;
  if (snoopId) {
    await d.adapter.hangup(snoopId, 'normal').catch((err: unknown) => d.log.warn({ err: errText(err), snoopId }, 'telephony: snoop hangup failed'));
    // its StasisEnd may still be on its way: forget the id a little later
    setTimeout(() => d.tracker.forgetExpected(snoopId), 5000).unref();
  }
  if (bridgeId) await d.adapter.destroyBridge(bridgeId).catch(() => false);
}
