/** What every flow gets: the adapter, the leg tracker, the ports, the configuration, and the flow registry. */
import type { AriAdapter } from '../ari.ts';
import { channelIdFor } from '../ari.ts';
import type { CallTracker, Leg, LegResult } from '../calls.ts';
import { errText, type TelephonyLog } from '../log.ts';
import type { TelephonyPorts } from '../ports.ts';
import type { PromptStats } from './prompts.ts';
import type { CallControls } from '../controls/index.ts';

export interface TelephonyConfig {
  /** Outbound trunk endpoint, `{number}` replaced: `PJSIP/{number}@trunk`. */
  trunkTemplate: string;
  /** Agent extension endpoint, `{ext}` replaced: `PJSIP/{ext}`. */
  agentTemplate: string;
  /** Caller ID presented on outbound calls, `"Name" <number>`. */
  callerId?: string;
  /** Area code for landlines given without one (normalisePhone). */
  areaCode: string;
  redDid: string;
  greenDid: string;
  timeScale: number;
  ringTimeoutS: number;
  agentRingTimeoutS: number;
  dtmfTimeoutS: number;
  rounds: number;
  acceptDigit: string;
  /** How long a flow waits for telephony to come back before an attempt counts as failed. */
  downWaitS: number;
  media: {
    /** Played to the elder when the callback is answered. */
    callbackGreeting: string[];
    /** Played to the elder when no agent could be reached. */
    callbackNoAgent: string[];
    /** Played to a contact: the alarm, then "press 1 to accept". */
    cascadePrompt: string[];
    /** Played after the accept digit. */
    cascadeAccepted: string[];
    /** Played to the agent when the target of a click-to-call is not reached. */
    targetNotReached: string[];
    /** Welfare call (issue 22): "if you are well press 1, if you need help press 2". */
    welfareCheck: string[];
    /** Reminder calls (issue 22): the medication / appointment reminder, with the same 1 / 2 choice. */
    reminderMedication: string[];
    reminderAppointment: string[];
    /** Welfare / reminder call: after 1, the goodbye. */
    welfareOk: string[];
    /** After 2: "someone will contact you; after the tone say what help you need". */
    welfareHelp: string[];
    /** After the help message was recorded. */
    welfareThanks: string[];
  };
  /**
   * Media per language for the prompts that have one (the welfare call, issue 22), over `media` (zh-CN, the
   * default language: `sound:anxin-*` from the sounds directory itself). Default `en`: `sound:en/anxin-*` (where
   * `npm run prompts -- --install` puts English).
   */
  mediaByLanguage: Record<string, Partial<TelephonyConfig['media']>>;
  /** Played instead when a prompt fails (not installed): Asterisk's built-in sounds (prompts.ts FALLBACK_MEDIA). */
  fallbackMedia: TelephonyConfig['media'];
  inbound: {
    /** 'ring': let it ring until the box hangs up (default); 'answer_hangup': answer and hang up at once. */
    mode: 'ring' | 'answer_hangup';
    /** Presses of the same line from the same number within this many seconds of the previous one are one event. */
    pressWindowS: number;
    /** The hub hangs up an inbound call still ringing after this many seconds. */
    maxRingS: number;
  };
}

export class ActiveFlow {
  readonly legs = new Set<Leg>();
  cancelled = false;
  bridgeId: string | undefined;

  constructor(
    readonly id: string,
    readonly kind: 'callback' | 'click_to_call' | 'cascade' | 'welfare',
  ) {}

  add(leg: Leg): Leg {
    this.legs.add(leg);
    return leg;
  }

  /** hangup(callId): stop the flow, hang every live leg up. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    await Promise.all([...this.legs].filter((l) => l.live).map((l) => l.hangup('normal')));
  }
}

export class FlowRegistry {
  private readonly active = new Map<string, ActiveFlow>();

  /** undefined when a flow with this id is already running in this process (a duplicate request). */
  begin(id: string, kind: ActiveFlow['kind']): ActiveFlow | undefined {
    if (this.active.has(id)) return undefined;
    const f = new ActiveFlow(id, kind);
    this.active.set(id, f);
    return f;
  }

  end(id: string): void {
    this.active.delete(id);
  }

  get(id: string): ActiveFlow | undefined {
    return this.active.get(id);
  }

  all(): ActiveFlow[] {
    return [...this.active.values()];
  }
}

export interface FlowDone {
  callId: string;
  kind: ActiveFlow['kind'];
  status: string;
}

export interface FlowContext {
  adapter: AriAdapter;
  tracker: CallTracker;
  ports: TelephonyPorts;
  log: TelephonyLog;
  cfg: TelephonyConfig;
  flows: FlowRegistry;
  /** Failed prompts, for health (issue 17 item 2). */
  prompts: PromptStats;
  flowDone(d: FlowDone): void;
  /** In-call controls (issue 19): a flow hands its bridged call over with controls.converse(). */
  controls: CallControls;
}

/** A started flow: its id at once (for hangup(callId) and the HTTP answer), its result when it is over. */
export interface Ticket<R> {
  callId: string;
  /** true: this idempotency key was used before; nothing was dialled, `done` resolves at once. */
  duplicate: boolean;
  done: Promise<R>;
}

/** The flow id (callId) of a request: deterministic from its idempotency key. */
export const flowIdFor = (idempotencyKey: string): string => channelIdFor(idempotencyKey);

const NUMBER_RE = /^\+?[0-9*#]{2,32}$/;
const EXT_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export function trunkEndpoint(cfg: TelephonyConfig, number: string): string {
  if (!NUMBER_RE.test(number)) throw new Error(`not a dialable number: ${number}`);
  return cfg.trunkTemplate.replaceAll('{number}', number);
}

export function agentEndpoint(cfg: TelephonyConfig, extension: string): string {
  if (!EXT_RE.test(extension)) throw new Error(`not a valid extension: ${extension}`);
  return cfg.agentTemplate.replaceAll('{ext}', extension).replaceAll('{extension}', extension);
}

export const isValidExtension = (ext: string): boolean => EXT_RE.test(ext);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** Hangs up every live leg, destroys the bridge, and waits until the call records are written. */
export async function teardown(ctx: FlowContext, flow: ActiveFlow): Promise<LegResult[]> {
  const legs = [...flow.legs];
  await Promise.all(legs.filter((l) => l.live).map((l) => l.hangup('normal')));
  const results = await Promise.all(legs.map((l) => l.ended));
  if (flow.bridgeId) {
    const id = flow.bridgeId;
    flow.bridgeId = undefined;
    await ctx.adapter.destroyBridge(id).catch((err: unknown) => ctx.log.warn({ err: errText(err), bridgeId: id }, 'telephony: destroy bridge failed'));
  }
  await Promise.all(legs.map((l) => l.flushed()));
  return results;
}

/** Creates the flow's bridge (id derived from the flow id) and puts the legs in it. */
export async function bridge(ctx: FlowContext, flow: ActiveFlow, legs: Leg[]): Promise<void> {
  if (!flow.bridgeId) {
    const bridgeId = `${flow.id}-br`;
    await ctx.adapter.createBridge({ bridgeId, type: 'mixing', name: flow.id });
    flow.bridgeId = bridgeId;
  }
  await ctx.adapter.addToBridge(flow.bridgeId, legs.map((l) => l.channelId));
}

export function scaledMs(ctx: FlowContext, seconds: number): number {
  return seconds * 1000 * ctx.cfg.timeScale;
}
