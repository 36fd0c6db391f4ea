/**
 * In-call controls (issue 19 "In the call", "Recording", "Supervisor") on any flow's bridged call.
 *
 * A flow hands its call over with `converse(spec)` once the agent leg and the far leg are both in its mixing
 * bridge, and awaits it instead of "either leg ends → hang up the other": it resolves when the call is over
 * (at most one party left, the rest hung up); the recording is stored right after (event `recording`, then
 * `call_action` ended). Then the flow tears down as before (its teardown
 * hangs up what is left, destroys the mixing bridge, waits for the records). click-to-call and callback do
 * this; the hotline flow does the same with its caller leg as `far`.
 *
 * Every control takes `by` (the user id, for the timeline and audit_log) and reports a CallAction
 * (telephony event `call_action`, CallLog.action). Errors: ControlError (no_call, no_party, state, invalid),
 * or AriError from Asterisk.
 */
import type { ControlledCall as Call, BridgedCallSpec, PartyRole } from './call.ts';
import { ControlledCall } from './call.ts';
import { ControlError, describeTarget, placeLeg, type CallTarget, type ControlDeps } from './deps.ts';
import { holdLeg, unholdLeg } from './hold.ts';
import { cancelTransfer, completeTransfer, consult, transferBlind, type TransferResult } from './transfer.ts';
import { changeMode, detach, endSupervision, supervise, type SuperviseMode, type Supervisor } from '../snoop.ts';
import { errText } from '../log.ts';

export type { BridgedCallSpec, PartyRole } from './call.ts';
export { ControlError, type CallTarget, type ControlDeps, type ControlErrorCode } from './deps.ts';
export type { TransferResult } from './transfer.ts';
export type { SuperviseMode, Supervisor } from '../snoop.ts';

/** Who in the call: a role (the agent, the original far party) or a leg's channel id. */
export type Who = PartyRole | string;

export interface CallInfo {
  callId: string;
  bridgeId: string;
  parties: { channelId: string; role: PartyRole; party: string; number: string; state: string; held: boolean }[];
  consulting?: { bridgeId: string; channelId: string };
  supervisors: { sessionId: string; mode: SuperviseMode; state: string }[];
}

const DTMF_RE = /^[0-9*#A-Da-d,]{1,64}$/;

export class CallControls {
  private readonly calls = new Map<string, Call>();

  constructor(private readonly d: ControlDeps) {}

  /** Takes a bridged call under control; resolves when it is over (see the top of this file). */
  async converse(spec: BridgedCallSpec): Promise<void> {
    if (this.calls.has(spec.callId)) throw new ControlError('state', `call ${spec.callId} is already under control`);
    const call = new ControlledCall(spec, (c) => this.end(c));
    this.calls.set(call.id, call);
    call.add(spec.agent, 'agent');
    call.add(spec.far, 'far');
    this.d.report({ callId: call.id, action: 'connected', by: 'system', detail: { bridgeId: spec.bridgeId, agent: spec.agent.channelId, far: spec.far.channelId } });
    if (spec.record !== false) await call.run(() => this.d.recorder.start(call.id, spec.bridgeId)).catch(() => undefined);
    call.check();
    await call.over;
  }

  get(callId: string): CallInfo | undefined {
    const c = this.calls.get(callId);
    if (!c) return undefined;
    const info: CallInfo = {
      callId: c.id,
      bridgeId: c.bridgeId,
      parties: [...c.parties.values()].map((p) => ({ channelId: p.leg.channelId, role: p.role, party: p.party, number: p.leg.record.number, state: p.leg.state, held: c.held.has(p.leg.channelId) })),
      supervisors: [...c.supervisors.values()].map((s) => ({ sessionId: s.id, mode: s.mode, state: s.leg.state })),
    };
    if (c.consult) info.consulting = { bridgeId: c.consult.bridgeId, channelId: c.consult.target.channelId };
    return info;
  }

  list(): CallInfo[] {
    return [...this.calls.keys()].flatMap((id) => this.get(id) ?? []);
  }

  /** Holds a party (default the far party) in the call's holding bridge with MOH. */
  async hold(callId: string, o: { by: string; who?: Who }): Promise<void> {
    const c = this.call(callId);
    const p = this.party(c, o.who ?? 'far');
    return c.run(async () => {
      if (await holdLeg(this.d, c, p.channelId)) this.d.report({ callId, action: 'hold', by: o.by, channelId: p.channelId });
    });
  }

  async unhold(callId: string, o: { by: string; who?: Who }): Promise<void> {
    const c = this.call(callId);
    const p = this.party(c, o.who ?? 'far');
    return c.run(async () => {
      if (c.consult) throw new ControlError('state', 'a consultation is in progress: complete or cancel it');
      if (await unholdLeg(this.d, c, p.channelId)) this.d.report({ callId, action: 'unhold', by: o.by, channelId: p.channelId });
    });
  }

  /** Mutes a party (default the agent). direction `in` (default): they are not heard; `out`: they hear nothing; `both`. */
  async mute(callId: string, o: { by: string; who?: Who; direction?: 'in' | 'out' | 'both' }, on = true): Promise<void> {
    const c = this.call(callId);
    const p = this.party(c, o.who ?? 'agent');
    const direction = o.direction ?? 'in';
    await this.d.adapter.mute(p.channelId, on, direction);
    this.d.report({ callId, action: on ? 'mute' : 'unmute', by: o.by, channelId: p.channelId, detail: { direction } });
  }

  unmute(callId: string, o: { by: string; who?: Who; direction?: 'in' | 'out' | 'both' }): Promise<void> {
    return this.mute(callId, o, false);
  }

  /** Sends DTMF into a party's leg (default the far party: a doctor's IVR). 0-9 * # A-D, `,` = pause. */
  async sendDtmf(callId: string, digits: string, o: { by: string; who?: Who }): Promise<void> {
    if (!DTMF_RE.test(digits)) throw new ControlError('invalid', `not DTMF digits: ${digits}`);
    const c = this.call(callId);
    const p = this.party(c, o.who ?? 'far');
    await this.d.adapter.sendDtmf(p.channelId, digits, { between: 100, duration: 120 });
    this.d.report({ callId, action: 'dtmf', by: o.by, channelId: p.channelId, detail: { digits } });
  }

  async transferBlind(callId: string, target: CallTarget, o: { by: string }): Promise<TransferResult> {
    return transferBlind(this.d, this.call(callId), target, o.by);
  }

  /** Attended transfer, step 1: hold the far party, consult the target; then completeTransfer or cancelTransfer. */
  async consult(callId: string, target: CallTarget, o: { by: string }): Promise<TransferResult> {
    return consult(this.d, this.call(callId), target, o.by);
  }

  async completeTransfer(callId: string, o: { by: string }): Promise<void> {
    return completeTransfer(this.d, this.call(callId), o.by);
  }

  async cancelTransfer(callId: string, o: { by: string }): Promise<void> {
    return cancelTransfer(this.d, this.call(callId), o.by);
  }

  /** Three-way conference (三方通话): dials the target into the call's mixing bridge. */
  async addParty(callId: string, target: CallTarget, o: { by: string }): Promise<TransferResult> {
    const c = this.call(callId);
    return c.run(async () => {
      const leg = await placeLeg(this.d, c, target, 'conf');
      c.add(leg, 'third');
      this.d.report({ callId, action: 'conference_add', by: o.by, channelId: leg.channelId, detail: describeTarget(target) });
      if (!(await leg.answered)) return { status: 'not_reached', channelId: leg.channelId, target: await leg.ended };
      await this.d.adapter.addToBridge(c.bridgeId, [leg.channelId]);
      this.d.report({ callId, action: 'party_joined', by: 'system', channelId: leg.channelId });
      return { status: 'transferred', channelId: leg.channelId };
    });
  }

  /** One party leaves (hung up); the others carry on while two remain. */
  async removeParty(callId: string, o: { by: string; who: Who }): Promise<void> {
    const c = this.call(callId);
    const p = this.party(c, o.who);
    this.d.report({ callId, action: 'party_left', by: o.by, channelId: p.channelId });
    await p.hangup('normal');
  }

  async supervise(callId: string, mode: SuperviseMode, sup: Supervisor, o: { by: string }): Promise<{ sessionId: string; status: 'connected' | 'not_reached' }> {
    return supervise(this.d, this.call(callId), mode, sup, o.by);
  }

  listen(callId: string, sup: Supervisor, o: { by: string }) {
    return this.supervise(callId, 'listen', sup, o);
  }

  whisper(callId: string, sup: Supervisor, o: { by: string }) {
    return this.supervise(callId, 'whisper', sup, o);
  }

  barge(callId: string, sup: Supervisor, o: { by: string }) {
    return this.supervise(callId, 'barge', sup, o);
  }

  async changeSupervisorMode(callId: string, sessionId: string, mode: SuperviseMode, o: { by: string }): Promise<void> {
    return changeMode(this.d, this.call(callId), sessionId, mode, o.by);
  }

  async endSupervision(callId: string, sessionId: string): Promise<void> {
    return endSupervision(this.call(callId), sessionId);
  }

  // ---------------------------------------------------------------- internals

  private call(callId: string): Call {
    const c = this.calls.get(callId);
    if (!c || c.ending) throw new ControlError('no_call', `no bridged call ${callId} under control`);
    return c;
  }

  private party(c: Call, who: Who) {
    const p = c.find(who);
    if (!p || !p.leg.live) throw new ControlError('no_party', `call ${c.id} has no live party '${who}'`);
    return p.leg;
  }

  /**
   * At most one party left: hang up what remains, supervisors and snoops, side bridges. The recording is stored
   * in the background (then `ended` is reported): the flow's `done` does not wait for Asterisk's RecordingFinished,
   * so an agent is free for the next call as soon as the legs are down.
   */
  private async end(c: Call): Promise<void> {
    try {
      await Promise.all([...c.parties.values()].filter((p) => p.leg.live).map((p) => p.leg.hangup('normal')));
      for (const s of c.supervisors.values()) await detach(this.d, s);
      for (const b of [c.holdBridgeId, c.consult?.bridgeId]) if (b) await this.d.adapter.destroyBridge(b).catch(() => false);
    } catch (err) {
      this.d.log.warn({ err: errText(err), callId: c.id }, 'telephony: ending a controlled call failed');
    } finally {
      this.calls.delete(c.id);
      void this.d.recorder
        .finish(c.id)
        .catch((err: unknown) => this.d.log.warn({ err: errText(err), callId: c.id }, 'telephony: storing the recording failed'))
        .finally(() => this.d.report({ callId: c.id, action: 'ended', by: 'system' }));
    }
  }
}
