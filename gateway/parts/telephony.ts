/** Part 7: telephony: ARI to a real Asterisk, or the built-in simulator (labelled as such), or off. */
import type { AgentStates } from '../alarms/agent-states.js';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { Registry } from '../registry.js';
import { endOrphanCalls } from '../store/calls.js';
import type { Db } from '../store/db.js';
import { startTelephonyService, type TelephonyHandle } from '../telephony-service.js';
import { RecordingRetention } from '../recording-retention.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface TelephonyPart extends Part {
  /** undefined while telephony is off or did not start */
  handle(): TelephonyHandle | undefined;
}

export async function startTelephony(
  { cfg, log, health, bus, summary }: PartContext,
  d: { db: Db; alarms: AlarmService; registry: Registry; agents: AgentStates },
): Promise<TelephonyPart> {
  const stops = new Stops(log);
  const { db } = d;
  const orphans = await endOrphanCalls(db, new Date());
  // Issue 19: calls still up on Asterisk (hotline callers waiting, conversations) are taken over by telephony/'s
  // recovery once it connects, which re-opens their records (CallLog.reopen); the rest stay lost.
  if (orphans) log.warn({ calls: orphans }, 'calls left live by the previous run marked lost (their flows ended with that process; those still on Asterisk are taken over)');
  let telephonyHandle: TelephonyHandle | undefined;
  let telephonyError: string | undefined;
  try {
    telephonyHandle = await startTelephonyService({ cfg, db, bus, alarms: d.alarms, registry: d.registry, agents: d.agents, log: log.child({ part: 'telephony' }) });
  } catch (e) {
    // A wrong ARI password must be loud, but alarms keep popping without telephony.
    telephonyError = (e as Error).message;
    log.error({ err: e }, 'telephony did not start; alarms still work, calls do not');
  }
  if (telephonyHandle) stops.add('telephony', () => telephonyHandle.stop());
  // RECORDING_RETENTION_DAYS (issue 19): old recordings are deleted from Asterisk through ARI, daily.
  const retention = new RecordingRetention({ db, recordings: () => telephonyHandle?.telephony.recordings, days: cfg.recordingRetentionDays, log: log.child({ part: 'recordings' }) });
  retention.start();
  stops.add('recording-retention', async () => retention.stop());
  health.register(
    'telephony',
    () => {
      if (cfg.telephony === 'off') return { state: 'disabled', mode: 'off' };
      if (!telephonyHandle) return { state: 'down', detail: `telephony_down: ${telephonyError ?? 'not started'}`, mode: cfg.telephony };
      const h = telephonyHandle.telephony.health();
      if (h.state !== 'up') return { state: 'down', detail: `telephony_down: ${h.reason}`, mode: telephonyHandle.mode };
      // Calls still work with a failed prompt (its built-in fallback plays), so degraded, not down (issue 17 item 2).
      if (h.degraded) {
        const failing = h.failingPrompts.slice(0, 5).join(', ');
        return { state: 'degraded', detail: `prompts failing to play (built-in fallback used): ${failing}; ${h.promptFailures} failures, last ${h.lastFailedPrompt ?? '?'}`, mode: telephonyHandle.mode };
      }
      return { state: 'up', mode: telephonyHandle.mode };
    },
    false,
  );
  summary.push(
    cfg.telephony === 'off'
      ? 'Telephony    off        (TELEPHONY=off: no calls)'
      : cfg.telephony === 'simulated'
        ? `Telephony    SIMULATED  ${telephonyHandle?.url ?? '(failed)'}  (built-in Asterisk simulator: no real phone calls)`
        : `Telephony    ARI        ${cfg.ariUrl}  app ${cfg.ariApp}`,
  );
  return { handle: () => telephonyHandle, stop: () => stops.stop() };
}
