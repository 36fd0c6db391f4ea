/** What the in-call controls use, the errors they throw, and how they place a leg for a call. */
import type { AriAdapter } from '../ari.ts';
import type { CallTracker, Leg, LegSpec } from '../calls.ts';
import { agentEndpoint, trunkEndpoint, type TelephonyConfig } from '../flows/context.ts';
import type { PromptStats } from '../flows/prompts.ts';
import type { TelephonyLog } from '../log.ts';
import { normalisePhone } from '../phone.ts';
import type { CallAction, TelephonyPorts } from '../ports.ts';
import type { CallRecorder } from '../recording.ts';
import type { ControlledCall } from './call.ts';

export interface ControlDeps {
  adapter: AriAdapter;
  tracker: CallTracker;
  ports: TelephonyPorts;
  log: TelephonyLog;
  cfg: TelephonyConfig;
  prompts: PromptStats;
  recorder: CallRecorder;
  /** Emits `call_action` and calls CallLog.action (in order per call). */
  report(a: Omit<CallAction, 'at'>): void;
}

export type ControlErrorCode =
  /** No bridged call with this id is under control (never was, or it is over). */
  | 'no_call'
  /** The call has no such party (or it already left). */
  | 'no_party'
  /** Not possible in the call's state (a transfer already in progress, nothing to complete, …). */
  | 'state'
  /** A bad argument (number, extension, digits). */
  | 'invalid';

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Where a transfer, consultation, conference or supervisor leg goes. */
export type CallTarget =
  /** An agent's (or supervisor's) extension: agentTemplate `{ext}`. */
  | { extension: string; agentId?: string }
  /** A number through the trunk: 120, 110, a doctor, a family member (normalisePhone). */
  | { number: string; party?: 'elder' | 'contact' | 'unknown'; contactId?: string; elderId?: string };

export const describeTarget = (t: CallTarget): Record<string, string> => ('extension' in t ? { extension: t.extension } : { number: t.number });

/** Places a leg for the call (its record: the call's flow id and kind, key `<prefix>#<tag><n>`), adopted by the flow. */
export async function placeLeg(d: ControlDeps, call: ControlledCall, target: CallTarget, tag: string): Promise<Leg> {
  let spec: LegSpec;
  const base = { idempotencyKey: call.key(tag), flowId: call.id, flow: call.spec.flow };
  try {
    if ('extension' in target) {
      spec = { ...base, party: 'agent', number: target.extension, endpoint: agentEndpoint(d.cfg, target.extension), timeoutS: d.cfg.agentRingTimeoutS, extension: target.extension };
      if (target.agentId) spec.agentId = target.agentId;
    } else {
      const n = normalisePhone(target.number, d.cfg.areaCode);
      if (!n.ok) throw new Error(`${target.number}: ${n.reason}`);
      spec = { ...base, party: target.party ?? 'unknown', number: n.number, endpoint: trunkEndpoint(d.cfg, n.number), timeoutS: d.cfg.ringTimeoutS };
      if (d.cfg.callerId) spec.callerId = d.cfg.callerId;
      if (target.contactId) spec.contactId = target.contactId;
      if (target.elderId) spec.elderId = target.elderId;
    }
  } catch (err) {
    throw new ControlError('invalid', (err as Error).message);
  }
  if (call.spec.alarmId) spec.alarmId = call.spec.alarmId;
  if (call.spec.elderId && !spec.elderId) spec.elderId = call.spec.elderId;
  const placed = await d.tracker.place(spec);
  if (placed.duplicate) throw new ControlError('state', `leg ${spec.idempotencyKey} was placed before`);
  call.spec.adopt?.(placed.leg);
  return placed.leg;
}
