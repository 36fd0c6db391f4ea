/**
 * Telephony in the gateway: implements telephony/'s ports against PostgreSQL and the alarm engine, starts the
 * built-in Asterisk simulator when no real Asterisk is configured. The automatic response escalation asks for
 * (callback to the elder, then the contact cascade) is alarm-callbacks.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import { createTelephony, type Telephony, type TelephonyPorts } from '../telephony/index.js';
import type { CallRecord as TelCallRecord, OneKeyEvent } from '../telephony/ports.js';
import type { AlarmService } from './alarms/alarm-service.js';
import type { Bus } from './bus.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Registry } from './registry.js';
import type { Db } from './store/db.js';
import { addEvent, getAlarm } from './store/alarms.js';
import { audit } from './store/audit.js';
import { addCallAction, callAnswered, callEnded, callRecorded, claimCall, createCall, reopenCall as reopenCallRow } from './store/calls.js';
import { findElderByPhone } from './store/elders.js';
import type { AgentStates } from './alarms/agent-states.js';
import { acdPort, hotlineLegEnded, hotlinePort, resetRinging, wireAcd, type HotlineDeps } from './hotline-service.js';
import { wireCallActions, wireScreenPop } from './hotline-screen.js';
import { hotlineSettings } from './hotline-settings.js';

const num = (s?: string) => (s === undefined || s === '' ? null : Number(s));

export interface TelephonyHandle {
  telephony: Telephony;
  mode: 'simulated' | 'ari';
  url: string;
  stop(): Promise<void>;
}

/**
 * Spawns simulators/asterisk as a separate process (the gateway never imports simulator code). Its stdin is a pipe
 * we never write to: when the gateway dies, even by kill -9, the pipe closes and the simulator exits
 * (--exit-with-stdin), so it cannot outlive us and keep its port.
 */
async function startSimulator(port: number, cfg: Config, log: Logger): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'simulators/asterisk/cli.ts'), '--port', String(port), '--user', cfg.ariUsername, '--password', cfg.ariPassword, '--app', cfg.ariApp, '--quiet', '--exit-with-stdin'], {
    cwd: ROOT,
    stdio: ['pipe', 'ignore', 'pipe'],
    // Its own process group: Ctrl-C in a terminal reaches only us, and we stop it in order (stopSimulator).
    detached: true,
  });
  proc.stdin?.on('error', () => undefined); // the simulator may be gone first
  proc.stderr?.on('data', (d) => log.warn({ part: 'asterisk-sim' }, String(d).trim()));
  const url = `http://127.0.0.1:${port}`;
  const auth = `Basic ${Buffer.from(`${cfg.ariUsername}:${cfg.ariPassword}`).toString('base64')}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/ari/asterisk/info`, { headers: { authorization: auth } }).then((r) => r.ok, () => false);
    if (ok) return { url, proc };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopSimulator(proc);
  throw new Error(`the Asterisk simulator did not start on port ${port}`);
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the simulator has exited (its port is free again). */
async function stopSimulator(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}

export async function startTelephonyService(o: { cfg: Config; db: Db; bus: Bus; alarms: AlarmService; registry: Registry; agents: AgentStates; log: Logger; agentEvents?: Bus }): Promise<TelephonyHandle | undefined> {
  const { cfg, db, bus, log } = o;
  if (cfg.telephony === 'off') return undefined;
  let url = cfg.ariUrl ?? '';
  let sim: ChildProcess | undefined;
  if (cfg.telephony === 'simulated') {
    const s = await startSimulator(cfg.simAsteriskPort, cfg, log);
    url = s.url;
    sim = s.proc;
  }

  const hd: HotlineDeps = { db, bus, alarms: o.alarms, registry: o.registry, agents: o.agents, log };
  await resetRinging(hd);
  const ports: TelephonyPorts = {
    calls: {
      claim: (key) => claimCall(db, key),
      create: (r) =>
        createCall(db, {
          ...r, alarmId: num(r.alarmId), agentId: num(r.agentId), elderId: num(r.elderId), contactId: num(r.contactId),
        }),
      answered: (channelId, at) => callAnswered(db, channelId, at),
      // Issue 19 (a restart mid-flow): a call that outlived the previous run is taken over; its record, ended as an
      // orphan at start (endOrphanCalls), is live again and ends when the call does.
      reopen: (channelId) => reopenCall(db, channelId),
      ended: async (channelId, end) => {
        const rec = await callEnded(db, channelId, end);
        if (rec?.alarmId) await addEvent(db, rec.alarmId, 'system', 'call_ended', null, null, { party: rec.party, outcome: end.outcome, cause: end.cause, callId: rec.id });
        if (rec) await hotlineLegEnded(hd, rec, end.outcome);
      },
      // Issue 19: the call's timeline (hold, transfer, conference, supervisor…) and its recording.
      action: (a) => addCallAction(db, a),
      recorded: async (r) => void (await callRecorded(db, r)),
    },
    hotline: hotlinePort(hd),
    callers: {
      lookupCaller: async (number) => {
        const device = await o.registry.lookup(number);
        const elderId = device?.elderId ?? (await findElderByPhone(db, number))?.id;
        return elderId ? { elderId: String(elderId), ...(device ? { deviceId: String(device.id) } : {}) } : undefined;
      },
    },
    oneKey: {
      pressed: (e) => raiseOneKey(o, e),
      repeated: (e) => raiseOneKey(o, e),
    },
    contacts: {
      accepted: async (a) => {
        await addEvent(db, Number(a.alarmId), 'system', 'contact_accepted', null, null, { contactId: num(a.contactId), round: a.round, position: a.contactIndex + 1 });
        await audit(db, 'system', 'alarm_contact_accepted', `alarm:${a.alarmId}`, { contactId: num(a.contactId) });
        const alarm = await getAlarm(db, Number(a.alarmId));
        if (alarm) bus.emit('alarm.changed', { alarm, action: 'contact_accepted', actor: 'system' });
      },
    },
    supervisor: {
      alert: async (a) => {
        await addEvent(db, Number(a.alarmId), 'system', 'cascade_exhausted', null, null, { rounds: a.rounds, attempts: a.attempts.length });
        const alarm = await getAlarm(db, Number(a.alarmId));
        if (alarm) bus.emit('supervisor.alert', { alarm, reason: 'cascade_exhausted' });
      },
    },
    agents: {
      ...acdPort(hd),
      // The phone drives the agent's state: on a call → on_call; hung up → wrap-up (话后整理).
      // Hung up while still holding an alarm → handling; else wrap-up with its timer (agent-states.ts).
      phoneStateChanged: async (c) => {
        const id = num(c.agentId);
        if (!id) return;
        if (c.state === 'on_call') await o.agents.phone(id, true);
        else if (c.state === 'idle') await o.agents.phone(id, false);
      },
    },
  };

  const telephony = createTelephony({
    url, username: cfg.ariUsername, password: cfg.ariPassword, app: cfg.ariApp,
    trunkTemplate: cfg.ariTrunkTemplate, agentTemplate: cfg.ariAgentTemplate, redDid: cfg.redLineDid, greenDid: cfg.greenLineDid,
    callerId: cfg.callerId, areaCode: cfg.areaCode, ports, log: log.child({ part: 'telephony' }),
    ari: { keepalive: { intervalMs: cfg.ariKeepaliveS * 1000 } },
    ...hotlineOptions(cfg),
  });
  const offAcd = wireAcd(telephony, o.agentEvents ?? bus);
  wireScreenPop(telephony, { db, bus, log });
  // every call's in-call actions (hold, mute, transfer …), not only the hotline's
  wireCallActions(telephony, { db, bus, log });
  telephony.on('call', (u) => bus.emit('call.changed', { update: u }));
  telephony.on('down', (h) => log.warn({ health: h }, 'telephony_down: Asterisk unreachable; alarms still pop, calls resume when it returns'));
  telephony.on('up', () => log.info('telephony up'));

  // Escalation step 3 (callback, cascade) is run by alarm-callbacks.ts on the node holding telephony (issue 24).

  await telephony.start();
  return {
    telephony,
    mode: cfg.telephony === 'simulated' ? 'simulated' : 'ari',
    url,
    stop: async () => {
      offAcd();
      try {
        await telephony.stop();
      } finally {
        if (sim) await stopSimulator(sim);
      }
    },
  };
}

/** The record of a channel that outlived the previous run, re-opened (store/calls.ts reopenCall), as telephony/ sees records. */
async function reopenCall(db: Db, channelId: string): Promise<(TelCallRecord & { answeredAt?: Date }) | undefined> {
  const c = await reopenCallRow(db, channelId);
  if (!c) return undefined;
  const str = (v: number | string | null | undefined) => (v === null || v === undefined ? undefined : String(v));
  const rec: TelCallRecord & { answeredAt?: Date } = {
    channelId,
    idempotencyKey: c.idempotencyKey ?? `inbound:${channelId}`,
    flowId: c.flowId ?? channelId,
    flow: (c.flow ?? 'hotline') as TelCallRecord['flow'],
    direction: c.direction,
    party: c.party as TelCallRecord['party'],
    number: c.number ?? '',
    createdAt: c.createdAt,
  };
  const opt = { alarmId: str(c.alarmId), agentId: str(c.agentId), elderId: str(c.elderId), contactId: str(c.contactId), endpoint: c.endpoint ?? undefined, did: c.did ?? undefined };
  for (const [k, v] of Object.entries(opt)) if (v !== undefined) (rec as unknown as Record<string, unknown>)[k] = v;
  if (c.line === 'red' || c.line === 'green' || c.line === 'other') rec.line = c.line;
  if (c.answeredAt) rec.answeredAt = c.answeredAt;
  return rec;
}

/** HOTLINE_DIDS and the queue settings (validated in loadConfig) as createTelephony's hotlines and queue. */
function hotlineOptions(cfg: Config) {
  const { hotlines, queue } = hotlineSettings(cfg);
  return { hotlines, queue };
}

/** A one-key press becomes an alarm (repeats within the window fold into it: count n). */
async function raiseOneKey(o: { alarms: AlarmService; registry: Registry }, e: OneKeyEvent): Promise<void> {
  const device = await o.registry.lookup(e.callerNumber);
  const elderId = e.elder ? Number(e.elder.elderId) : (device?.elderId ?? null);
  const identifier = device?.identifier ?? (e.elder ? e.callerNumber : `unknown:${e.callerNumber || 'withheld'}`);
  await o.alarms.commit(
    { deviceId: identifier, protocol: 'phone', kind: 'call', receivedAt: e.lastAt, raw: `onekey:${e.eventId}:${e.count}`, call: { caller: e.callerNumber, dialled: e.did } },
    { id: device?.id ?? null, identifier, elderId, protocol: 'phone' },
    [{ kind: e.kind, detail: { line: e.line, caller: e.elder ? 'known' : 'unknown_caller', presses: e.count } }],
    [],
  );
}
