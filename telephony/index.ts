/**
 * telephony/: Anxin's phone side over Asterisk ARI. gateway/ creates it once, implements the ports
 * (ports.ts), and wires the results into alarms, call records and agent states.
 *
 *   const tel = createTelephony({ url, username, password, app: 'alarmhub', trunkTemplate: 'PJSIP/{number}@trunk',
 *                                 agentTemplate: 'PJSIP/{ext}', redDid: '96110', greenDid: '96120', ports, log });
 *   await tel.start();
 *   const t = await tel.callback({ idempotencyKey: `alarm:${id}:callback`, number, alarmId: id, agent });
 *   t.callId;            // at once: for hangup(callId) and the HTTP answer
 *   await t.done;        // when the flow is over
 */
import { AriAdapter, type AriAdapterOptions, type AriHealth } from './ari.ts';
import { CallTracker, type CallUpdate } from './calls.ts';
import { Emitter } from './emitter.ts';
import { startCallback, type CallbackRequest, type CallbackResult } from './flows/callback.ts';
import { startCascade, type CascadeRequest, type CascadeResult } from './flows/cascade.ts';
import { startClickToCall, type ClickToCallRequest, type ClickToCallResult } from './flows/click-to-call.ts';
import { startWelfareCall, type WelfareRequest, type WelfareResult } from './flows/welfare.ts';
import { FlowRegistry, type FlowContext, type FlowDone, type TelephonyConfig, type Ticket } from './flows/context.ts';
import { InboundHandler } from './flows/inbound.ts';
import { HotlineHandler } from './flows/hotline.ts';
import { queueOptions, type HotlineConfig, type QueueOptions } from './flows/hotline-config.ts';
import { Recovery, type RecoveryReport } from './flows/recover.ts';
import type { HotlineEvents } from './flows/hotline-events.ts';
import type { WaitingCaller } from './flows/hotline-queue.ts';
import type { QueueStats } from './flows/hotline-stats.ts';
import { FALLBACK_MEDIA, PromptStats } from './flows/prompts.ts';
import { errText, silentLog, type TelephonyLog } from './log.ts';
import type { AgentPhoneChange, CallAction, CallRecording, OneKeyEvent, TelephonyPorts } from './ports.ts';
import { CallControls } from './controls/index.ts';
import { CallRecorder, recordingsApi, type Recordings } from './recording.ts';
import { callActionReporter } from './controls/report.ts';

export type * from './ports.ts';
export type { AriHealth, HangupReason } from './ari.ts';
export { AriAdapter, AriError, channelIdFor } from './ari.ts';
export type { CallUpdate, LegResult } from './calls.ts';
export { classifyEnd } from './calls.ts';
export type { CallbackRequest, CallbackResult, CallbackStatus } from './flows/callback.ts';
export type { CascadeContact, CascadeRequest, CascadeResult, CascadeStatus } from './flows/cascade.ts';
export type { ClickToCallRequest, ClickToCallResult, ClickToCallStatus } from './flows/click-to-call.ts';
export type { FlowDone, TelephonyConfig, Ticket } from './flows/context.ts';
export type { WelfareKind, WelfareRequest, WelfareResult, WelfareStatus } from './flows/welfare.ts';
export { FALLBACK_MEDIA } from './flows/prompts.ts';
export { flowIdFor } from './flows/context.ts';
export { isSupervisorLegKey } from './snoop.ts';
export type { TelephonyLog } from './log.ts';
export type { HotlineConfig, HotlineIvr, OverflowTarget, QueueMedia, QueueOptions } from './flows/hotline-config.ts';
export type { HotlineAnswered, HotlineDone, HotlineEvents, HotlineMissed, HotlineQueued } from './flows/hotline-events.ts';
export type { WaitingCaller } from './flows/hotline-queue.ts';
export type { QueueStats } from './flows/hotline-stats.ts';
export type { RecoveryReport } from './flows/recover.ts';

export interface TelephonyOptions {
  /** ARI base URL, `http://host:8088`. */
  url: string;
  username: string;
  password: string;
  /** Stasis application name (the dialplan sends inbound calls to `Stasis(<app>)`). */
  app: string;
  /** Outbound trunk endpoint with `{number}`: `PJSIP/{number}@trunk`. */
  trunkTemplate: string;
  /** Agent extension endpoint with `{ext}`: `PJSIP/{ext}`. */
  agentTemplate: string;
  /** The red-line DID (emergency), as dialled (`dialplan.exten`). */
  redDid: string;
  /** The green-line DID (service). */
  greenDid: string;
  ports: TelephonyPorts;
  log?: TelephonyLog;
  /** `"Anxin" <96110>`: caller ID on outbound calls. */
  callerId?: string;
  /** Area code for landline numbers given without one; default '021'. */
  areaCode?: string;
  /** Defaults for the flows (the per-request values win). */
  defaults?: Partial<Pick<TelephonyConfig, 'ringTimeoutS' | 'agentRingTimeoutS' | 'dtmfTimeoutS' | 'rounds' | 'acceptDigit' | 'downWaitS'>>;
  media?: Partial<TelephonyConfig['media']>;
  /** Media of other languages than zh-CN (welfare calls, issue 22); merged per language over the default `en` (`sound:en/anxin-*`). */
  mediaByLanguage?: Record<string, Partial<TelephonyConfig['media']>>;
  /** What plays when a prompt fails (default FALLBACK_MEDIA: Asterisk's core sounds). */
  fallbackMedia?: Partial<TelephonyConfig['fallbackMedia']>;
  inbound?: Partial<TelephonyConfig['inbound']>;
  /** Issue 19: hotline numbers (HOTLINE_DIDS), each with an optional IVR; calls to them are queued to agents. */
  hotlines?: HotlineConfig[];
  /** Issue 19: the hotline queue and ACD (ring timeout, max wait, overflow target, announcements, media). */
  queue?: Partial<QueueOptions>;
  /** ARI client tuning (timeouts, reconnect backoff, WebSocket keepalive). */
  ari?: Pick<AriAdapterOptions, 'requestTimeoutMs' | 'connectTimeoutMs' | 'reconnect' | 'keepalive'>;
  /** Multiplies the hub's own timers (ring backstop, DTMF wait, press window); tests against a time-scaled simulator. Default 1. */
  timeScale?: number;
  /** Live calls are given up as `lost` when telephony stays down this long; default 60000 ms. */
  lostAfterDownMs?: number;
}

/** Issue 19: the hotline_* events are in flows/hotline-events.ts. */
export interface TelephonyEvents extends HotlineEvents {
  up: AriHealth;
  down: AriHealth;
  /** Every leg state change (dialling, ringing, up, ended with outcome). */
  call: CallUpdate;
  agent_phone: AgentPhoneChange;
  /** The first press of a one-key event (the same object OneKeyPort.pressed gets). */
  inbound: OneKeyEvent;
  /** A further press folded into the event (count n). */
  inbound_repeat: OneKeyEvent;
  /** A callback / click-to-call / cascade finished. */
  flow_done: FlowDone;
  /** Issue 19: an in-call action (the same object CallLog.action gets), for the call's timeline and audit. */
  call_action: CallAction;
  /** Issue 19: a call's recording was stored (the same object CallLog.recorded gets). */
  recording: CallRecording;
  /** Issue 19 (a restart mid-flow): what was taken over from Asterisk after a (re)connection (flows/recover.ts). */
  recovered: RecoveryReport;
}

/** The connection state plus what makes a connected hub degraded, and counters for diagnostics. */
export type TelephonyHealth = AriHealth & {
  /** A prompt failed (not installed?) and has not played since: its built-in fallback plays instead. */
  degraded: boolean;
  promptFailures: number;
  lastFailedPrompt?: string;
  lastFailedPromptAt?: Date;
  failingPrompts: string[];
  /** ARI event frames the adapter does not decode, per type (ChannelVarset, ChannelDialplan, …). */
  unknownEvents: Record<string, number>;
  /** Call legs being tracked now (0 when no call is live: anything else would be a leak). */
  liveLegs: number;
};

export interface Telephony {
  /**
   * Connects; rejects only on wrong ARI credentials (401). Otherwise health() tells, and it keeps retrying.
   * When up, it resolves after the calls a previous run left on Asterisk were taken over (event `recovered`);
   * that runs again after every reconnection.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): TelephonyHealth;
  /** Resolves true once up (false after timeoutMs). */
  waitUntilUp(timeoutMs: number): Promise<boolean>;
  callback(req: CallbackRequest): Promise<Ticket<CallbackResult>>;
  clickToCall(req: ClickToCallRequest): Promise<Ticket<ClickToCallResult>>;
  cascade(req: CascadeRequest): Promise<Ticket<CascadeResult>>;
  /** Issue 22: the automated welfare call (平安呼叫) or a medication / appointment reminder call (flows/welfare.ts). */
  welfareCall(req: WelfareRequest): Promise<Ticket<WelfareResult>>;
  /** Hangs up a flow (callId from a ticket: every leg, stops a cascade) or a single leg (its channel id). False if unknown. */
  hangup(callId: string): Promise<boolean>;
  on<K extends keyof TelephonyEvents>(type: K, fn: (e: TelephonyEvents[K]) => void): () => void;
  /** The adapter, for diagnostics (and anything the flows do not cover). */
  readonly ari: AriAdapter;
  /** Issue 19: the hotline queue, for the wallboard and the agent-state side of the ACD. */
  readonly hotline: {
    /** KPIs since start (offered, answered, abandoned, overflowed, waits, answered-within rates). */
    stats(): QueueStats;
    /** The callers queued now, in order. */
    waiting(): WaitingCaller[];
    /** An agent became ready (or signed in): run the ACD now instead of at the next poll. */
    agentsChanged(): void;
    resetStats(): void;
  };
  /** Issue 19: hold, mute, DTMF, transfer, conference, supervisor on bridged calls (controls/index.ts). */
  readonly controls: CallControls;
  /** Issue 19: stored recordings (get, file bytes, delete for retention). */
  readonly recordings: Recordings;
  /** Issue 19 dial pad: click-to-call to a number not in the file (target party 'unknown'). */
  dialPad(req: Omit<ClickToCallRequest, 'target'> & { number: string }): Promise<Ticket<ClickToCallResult>>;
}

const DEFAULT_MEDIA: TelephonyConfig['media'] = {
  callbackGreeting: ['sound:anxin-callback-greeting'],
  callbackNoAgent: ['sound:anxin-no-agent'],
  cascadePrompt: ['sound:anxin-alarm-for-elder', 'sound:anxin-press-1'],
  cascadeAccepted: ['sound:anxin-thank-you'],
  targetNotReached: ['sound:anxin-not-reached'],
  welfareCheck: ['sound:anxin-welfare-check'],
  reminderMedication: ['sound:anxin-reminder-medication'],
  reminderAppointment: ['sound:anxin-reminder-appointment'],
  welfareOk: ['sound:anxin-welfare-ok'],
  welfareHelp: ['sound:anxin-welfare-help'],
  welfareThanks: ['sound:anxin-welfare-thanks'],
};

/** English (issue 22): the `en/` directory `npm run prompts -- --install` fills (flows/welfare.ts says why a path). */
const EN_MEDIA: Partial<TelephonyConfig['media']> = {
  welfareCheck: ['sound:en/anxin-welfare-check'],
  reminderMedication: ['sound:en/anxin-reminder-medication'],
  reminderAppointment: ['sound:en/anxin-reminder-appointment'],
  welfareOk: ['sound:en/anxin-welfare-ok'],
  welfareHelp: ['sound:en/anxin-welfare-help'],
  welfareThanks: ['sound:en/anxin-welfare-thanks'],
};

export function createTelephony(opts: TelephonyOptions): Telephony {
  const log = opts.log ?? silentLog;
  const timeScale = opts.timeScale ?? 1;
  const cfg: TelephonyConfig = {
    trunkTemplate: opts.trunkTemplate,
    agentTemplate: opts.agentTemplate,
    areaCode: opts.areaCode ?? '021',
    redDid: opts.redDid,
    greenDid: opts.greenDid,
    timeScale,
    ringTimeoutS: opts.defaults?.ringTimeoutS ?? 30,
    agentRingTimeoutS: opts.defaults?.agentRingTimeoutS ?? 20,
    dtmfTimeoutS: opts.defaults?.dtmfTimeoutS ?? 10,
    rounds: opts.defaults?.rounds ?? 2,
    acceptDigit: opts.defaults?.acceptDigit ?? '1',
    downWaitS: opts.defaults?.downWaitS ?? 30,
    media: { ...DEFAULT_MEDIA, ...opts.media },
    mediaByLanguage: mergeLanguages({ en: EN_MEDIA }, opts.mediaByLanguage),
    fallbackMedia: { ...FALLBACK_MEDIA, ...opts.fallbackMedia },
    inbound: { mode: 'ring', pressWindowS: 120, maxRingS: 60, ...opts.inbound },
  };
  if (opts.callerId) cfg.callerId = opts.callerId;
  if (!cfg.trunkTemplate.includes('{number}')) throw new Error('telephony: trunkTemplate must contain {number}');
  if (!/\{ext(ension)?\}/.test(cfg.agentTemplate)) throw new Error('telephony: agentTemplate must contain {ext}');

  const emitter = new Emitter<TelephonyEvents>((type, err) => log.error({ err: errText(err), type }, 'telephony: event handler failed'));
  const adapterOpts: AriAdapterOptions = { url: opts.url, username: opts.username, password: opts.password, app: opts.app, log, ...opts.ari };
  const adapter = new AriAdapter(adapterOpts);
  const tracker = new CallTracker({
    adapter,
    ports: opts.ports,
    log,
    notify: { call: (u) => emitter.emit('call', u), agentPhone: (c) => emitter.emit('agent_phone', c) },
    timeScale,
    lostAfterDownMs: opts.lostAfterDownMs ?? 60_000,
  });
  const flows = new FlowRegistry();
  const prompts = new PromptStats();
  const report = callActionReporter(opts.ports, log, (a) => emitter.emit('call_action', a));
  const recorder = new CallRecorder({ adapter, ports: opts.ports, log, report, recorded: (r) => emitter.emit('recording', r), timeScale });
  const controls = new CallControls({ adapter, tracker, ports: opts.ports, log, cfg, prompts, recorder, report });
  const ctx: FlowContext = { adapter, tracker, ports: opts.ports, log, cfg, flows, prompts, flowDone: (d) => emitter.emit('flow_done', d), controls };
  const health = (): TelephonyHealth => {
    const p = prompts.health();
    const h: TelephonyHealth = {
      ...adapter.health(),
      degraded: prompts.degraded,
      promptFailures: p.failures,
      failingPrompts: p.failing,
      unknownEvents: adapter.unknownEvents(),
      liveLegs: tracker.size,
    };
    if (p.lastFailedPrompt) h.lastFailedPrompt = p.lastFailedPrompt;
    if (p.lastFailedAt) h.lastFailedPromptAt = p.lastFailedAt;
    return h;
  };
  const inbound = new InboundHandler(ctx, (type, e) => emitter.emit(type, e));
  const hotline = new HotlineHandler(ctx, opts.hotlines ?? [], queueOptions(opts.queue), (type, e) => emitter.emit(type, e as TelephonyEvents[typeof type]));
  tracker.onForeignStasisStart = (e) => {
    if (!hotline.handle(e)) inbound.handle(e);
  };
  // Issue 19 (a restart mid-flow): on every connection, before new hotline callers may enter the queue, take over
  // what a previous run (or this one while disconnected) left on Asterisk. One recovery at a time.
  let recovery: Promise<void> = Promise.resolve();
  let recoveries = 0;
  const recover = (): Promise<void> => {
    const first = recoveries++ === 0;
    const run = recovery.then(async () => {
      if (adapter.health().state !== 'up') return;
      try {
        emitter.emit('recovered', await new Recovery(ctx, hotline, first).run());
      } catch (err) {
        log.error({ err: errText(err) }, 'telephony: taking over the calls of a previous run failed');
      }
    });
    recovery = run;
    hotline.holdNewCallers(run);
    void run.then(() => hotline.queue.pump());
    return run;
  };
  adapter.on('up', () => void recover());
  adapter.on('up', (h) => emitter.emit('up', h));
  adapter.on('down', (h) => emitter.emit('down', h));
  let started = false;

  return {
    ari: adapter,
    hotline: {
      stats: () => hotline.queue.stats(),
      waiting: () => hotline.queue.waiting(),
      agentsChanged: () => hotline.queue.pump(),
      resetStats: () => hotline.queue.counters.reset(),
    },
    controls,
    recordings: recordingsApi(adapter),
    dialPad: ({ number, ...req }) => startClickToCall(ctx, { ...req, target: { party: 'unknown', number } }),
    async start() {
      if (!started) tracker.start();
      started = true;
      try {
        await adapter.start();
      } catch (err) {
        tracker.stop();
        started = false;
        throw err;
      }
      await recovery;
    },
    async stop() {
      await Promise.all(flows.all().map((f) => f.cancel()));
      tracker.stop();
      inbound.stop();
      hotline.stop();
      started = false;
      await adapter.stop();
    },
    health,
    waitUntilUp: (ms) => adapter.waitUntilUp(ms),
    callback: (req) => startCallback(ctx, req),
    clickToCall: (req) => startClickToCall(ctx, req),
    cascade: (req) => startCascade(ctx, req),
    welfareCall: (req) => startWelfareCall(ctx, req),
    async hangup(callId) {
      const flow = flows.get(callId);
      if (flow) {
        await flow.cancel();
        return true;
      }
      const leg = tracker.get(callId);
      if (leg) {
        await leg.hangup('normal');
        return true;
      }
      return false;
    },
    on: (type, fn) => emitter.on(type, fn),
  };
}

function mergeLanguages(
  base: Record<string, Partial<TelephonyConfig['media']>>,
  over: Record<string, Partial<TelephonyConfig['media']>> = {},
): Record<string, Partial<TelephonyConfig['media']>> {
  const out = { ...base };
  for (const [lang, media] of Object.entries(over)) out[lang] = { ...out[lang], ...media };
  return out;
}
