/**
 * Part 7: telephony: ARI to a real Asterisk, or the built-in simulator (labelled as such), or off.
 *
 * A singleton (issue 24): one node at a time holds the ARI application connection (a second connection for the same
 * app would take it over: ApplicationReplaced). The holder marks the previous holder's calls lost (those still up on
 * Asterisk are taken over as it connects), runs the escalations' automatic callbacks (alarm-callbacks.ts) and the
 * work other parts hand it (`onHolder`: care's welfare calls). The other nodes stand by; their call-control requests
 * are forwarded to the holder (http/holder-forward.ts). One node holds it at once on a single node too.
 */
import type { AgentStates } from '../alarms/agent-states.js';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { Bus } from '../bus.js';
import { AlarmCallbacks } from '../alarm-callbacks.js';
import type { ClusterPresence } from '../cluster/members.js';
import { nodeIdOf } from '../cluster/redis.js';
import { startSingleton } from '../cluster/leader.js';
import type { Registry } from '../registry.js';
import { endOrphanCalls } from '../store/calls.js';
import type { Db } from '../store/db.js';
import { startTelephonyService, type TelephonyHandle } from '../telephony-service.js';
import { RecordingRetention } from '../recording-retention.js';
import { Stops, type Part, type PartContext } from './part.js';

/** Work that runs on the telephony node only: started when this node takes telephony, stopped when it loses it. */
export interface HolderWork {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface TelephonyPart extends Part {
  /** undefined while telephony is off, did not start, or runs on another node */
  handle(): TelephonyHandle | undefined;
  /** this node holds the telephony singleton (also with TELEPHONY=off: the callbacks and care calls run here) */
  leading(): boolean;
  /** runs `w` on the holder: now if this node holds telephony, and on every later acquire */
  onHolder(w: HolderWork): Promise<void>;
}

export async function startTelephony(
  ctx: PartContext,
  d: { db: Db; alarms: AlarmService; registry: Registry; agents: AgentStates; presence?: ClusterPresence; agentEvents?: Bus },
): Promise<TelephonyPart> {
  const { cfg, log, health, bus, summary } = ctx;
  const stops = new Stops(log);
  const { db } = d;
  const node = nodeIdOf(cfg);
  let handle: TelephonyHandle | undefined;
  let error: string | undefined;
  let leading = false;
  const work: HolderWork[] = [];
  // acquire, lose and late onHolder calls in order: a loss during a slow start stops what that start started
  let chain: Promise<void> = Promise.resolve();
  const serial = (fn: () => Promise<void>) => (chain = chain.then(fn).catch((e) => log.error({ err: e }, 'telephony takeover step failed')));
  const callbacks = new AlarmCallbacks({ db, bus, node, telephony: () => handle?.telephony, log: log.child({ part: 'alarm-callbacks' }) });

  const acquire = () =>
    serial(async () => {
      const orphans = await endOrphanCalls(db, new Date());
      // Issue 19: calls still up on Asterisk (hotline callers waiting, conversations) are taken over by telephony/'s
      // recovery once it connects, which re-opens their records (CallLog.reopen); the rest stay lost.
      if (orphans) log.warn({ calls: orphans }, 'calls left live by the previous telephony holder marked lost (their flows ended with it; those still on Asterisk are taken over)');
      try {
        handle = await startTelephonyService({ cfg, db, bus, alarms: d.alarms, registry: d.registry, agents: d.agents, agentEvents: d.agentEvents, log: log.child({ part: 'telephony' }) });
        error = undefined;
      } catch (e) {
        // A wrong ARI password must be loud, but alarms keep popping without telephony.
        error = (e as Error).message;
        log.error({ err: e }, 'telephony did not start; alarms still work, calls do not');
      }
      leading = true;
      callbacks.start();
      for (const w of work) await w.start().catch((e) => log.error({ err: e, work: w.name }, 'telephony node work did not start'));
      d.presence?.beatNow();
    });
  const lose = () =>
    serial(async () => {
      leading = false;
      d.presence?.beatNow();
      for (const w of [...work].reverse()) await w.stop().catch((e) => log.error({ err: e, work: w.name }, 'telephony node work did not stop cleanly'));
      callbacks.stop();
      const h = handle;
      handle = undefined;
      await h?.stop();
    });

  if (d.presence) d.presence.runsTelephony = () => leading;
  const lease = await startSingleton(ctx, db, 'telephony', { onAcquire: acquire, onLose: lose });
  stops.add('telephony', async () => {
    await lease.stop();
    await chain;
  });
  // RECORDING_RETENTION_DAYS (issue 19): old recordings are deleted from Asterisk through ARI, daily (by the holder).
  const retention = new RecordingRetention({ db, recordings: () => handle?.telephony.recordings, days: cfg.recordingRetentionDays, log: log.child({ part: 'recordings' }) });
  retention.start();
  stops.add('recording-retention', async () => retention.stop());
  health.register(
    'telephony',
    async () => {
      if (!leading) {
        const holder = await lease.holder();
        // calls work through the holder (forwarded); none while nobody holds it (a takeover within LEADER_TAKEOVER_S)
        if (holder) return { state: 'up', mode: 'standby', detail: `telephony runs on node ${holder}; call control is forwarded there` };
        return { state: 'degraded', mode: 'standby', detail: `telephony_moving: no node runs telephony yet; taken over within ${cfg.leaderTakeoverS} s` };
      }
      if (cfg.telephony === 'off') return { state: 'disabled', mode: 'off' };
      if (!handle) return { state: 'down', detail: `telephony_down: ${error ?? 'not started'}`, mode: cfg.telephony };
      const h = handle.telephony.health();
      if (h.state !== 'up') return { state: 'down', detail: `telephony_down: ${h.reason}`, mode: handle.mode };
      // Calls still work with a failed prompt (its built-in fallback plays), so degraded, not down (issue 17 item 2).
      if (h.degraded) {
        const failing = h.failingPrompts.slice(0, 5).join(', ');
        return { state: 'degraded', detail: `prompts failing to play (built-in fallback used): ${failing}; ${h.promptFailures} failures, last ${h.lastFailedPrompt ?? '?'}`, mode: handle.mode };
      }
      return { state: 'up', mode: handle.mode };
    },
    false,
  );
  summary.push(
    !leading
      ? `Telephony    STANDBY    (node ${(await lease.holder()) ?? '?'} runs it; this node forwards call control there and takes over if it dies)`
      : cfg.telephony === 'off'
        ? 'Telephony    off        (TELEPHONY=off: no calls)'
        : cfg.telephony === 'simulated'
          ? `Telephony    SIMULATED  ${handle?.url ?? '(failed)'}  (built-in Asterisk simulator: no real phone calls)`
          : `Telephony    ARI        ${cfg.ariUrl}  app ${cfg.ariApp}`,
  );
  return {
    handle: () => handle,
    leading: () => leading,
    onHolder: (w) => {
      work.push(w);
      return serial(async () => {
        if (leading) await w.start();
      });
    },
    stop: () => stops.stop(),
  };
}
