/**
 * Reports in-call actions (issue 19 "Every action is on the call record's timeline", "All of it is audited"):
 * each one is emitted at once (`call_action`) and written through CallLog.action, in order per call.
 */
import { errText, type TelephonyLog } from '../log.ts';
import type { CallAction, TelephonyPorts } from '../ports.ts';

export function callActionReporter(ports: TelephonyPorts, log: TelephonyLog, emit: (a: CallAction) => void): (a: Omit<CallAction, 'at'>) => void {
  const chains = new Map<string, Promise<void>>();
  return (partial) => {
    const a: CallAction = { ...partial, at: new Date() };
    if (a.detail) a.detail = Object.fromEntries(Object.entries(a.detail).filter(([, v]) => v !== undefined));
    emit(a);
    const write = ports.calls.action;
    if (!write) return;
    const next = (chains.get(a.callId) ?? Promise.resolve()).then(() =>
      write.call(ports.calls, a).catch((err: unknown) => log.error({ err: errText(err), callId: a.callId, action: a.action }, 'telephony: calls.action failed')),
    );
    chains.set(a.callId, next);
    // forget a finished call's chain once its last write is done
    if (a.action === 'ended') void next.then(() => chains.get(a.callId) === next && chains.delete(a.callId));
  };
}
