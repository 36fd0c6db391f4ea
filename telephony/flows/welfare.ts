/**
 * The automated welfare call (平安呼叫) and the reminder calls (issue 22): one outbound leg to the elder. On answer
 * the prompt plays in the elder's language ("if you are well press 1, if you need help press 2"; or a medication /
 * appointment reminder with the same choice); the digit is listened for during the prompt and `dtmfTimeoutS` after
 * it. 1 → goodbye, hang up ('ok'). 2 → "someone will contact you, say what you need after the tone", the channel is
 * recorded (POST /channels/{id}/record, `anxin-welfare-<callId>`), thanks, hang up ('help'; a recording that fails
 * leaves 'help' without `recording`: the help request is never lost). No digit in time or a hang-up first:
 * 'no_key'; not answered: 'no_answer'; busy: 'busy'; anything else: 'failed'.
 *
 * Language: zh-CN (default) plays `ctx.cfg.media` (`sound:anxin-*`, the sounds directory itself, where
 * `npm run prompts -- --install` puts zh-CN); another language plays `ctx.cfg.mediaByLanguage[lang]` (en:
 * `sound:en/anxin-*`, the `en/` directory the install fills). A path, not ARI's `lang` parameter: with `lang=en`
 * (also a channel's default language) Asterisk 22 looks in `en/` and then silently plays the zh-CN file of the
 * same name, while a path that is not installed fails and the English core-sound fallback plays (and is counted).
 */
import { normalisePhone } from '../phone.ts';
import type { Leg } from '../calls.ts';
import { errText } from '../log.ts';
import type { CallOutcome } from '../ports.ts';
import { flowIdFor, scaledMs, sleep, teardown, type ActiveFlow, type FlowContext, type TelephonyConfig, type Ticket } from './context.ts';
import { playPrompt, type PromptKind, type PromptPlayback } from './prompts.ts';
import { dialOut, settled, startFlow } from './skeleton.ts';

export type WelfareKind = 'welfare' | 'medication' | 'appointment';

export interface WelfareRequest {
  idempotencyKey: string;
  /** The elder's number, any usual form (normalised with normalisePhone). */
  number: string;
  elderId?: string;
  /** 'zh-CN' (default) or 'en'; an unknown language plays zh-CN. */
  language?: string;
  /** Default 'welfare' (平安呼叫); 'medication' / 'appointment' are the reminder calls. */
  kind?: WelfareKind;
  /** Default cfg.ringTimeoutS. */
  ringTimeoutS?: number;
  /** Seconds to wait for the digit after the prompt has finished; default cfg.dtmfTimeoutS. */
  dtmfTimeoutS?: number;
  /** Longest help message after 2, in seconds; default 20. */
  recordS?: number;
}

export type WelfareStatus =
  /** Pressed 1: well (welfare) / heard it (reminders). */
  | 'ok'
  /** Pressed 2: needs help; `recording` is the spoken request when it was stored. */
  | 'help'
  /** Answered, but no 1 or 2 in time (or hung up first). */
  | 'no_key'
  | 'no_answer'
  | 'busy'
  /** Rejected, unreachable, refused originate, an invalid number, or the flow broke. */
  | 'failed'
  /** The idempotency key was used before: nothing was dialled. */
  | 'duplicate';

export interface WelfareResult {
  callId: string;
  status: WelfareStatus;
  kind: WelfareKind;
  /** The language the prompts were played in ('zh-CN' or a key of cfg.mediaByLanguage). */
  language: string;
  /** The number dialled (normalised), or as given when it was invalid. */
  number: string;
  digit?: '1' | '2';
  /** Stored recording name (`anxin-welfare-<callId>`, wav): `tel.recordings.file(name)`. */
  recording?: string;
  /** The leg's outcome (answered legs: accepted_by_dtmf after 1 or 2, not_accepted without). */
  outcome?: CallOutcome | 'invalid_number';
  channelId?: string;
  detail?: string;
}

export const DEFAULT_LANGUAGE = 'zh-CN';
const DEFAULT_RECORD_S = 20;
const MAX_SILENCE_S = 5;

type Media = TelephonyConfig['media'];
const CHECK: Record<WelfareKind, keyof Media> = { welfare: 'welfareCheck', medication: 'reminderMedication', appointment: 'reminderAppointment' };

/** The language whose media is played: the request's (or its base, 'en-US' → 'en') when configured, else zh-CN. */
export function welfareLanguage(cfg: TelephonyConfig, lang: string | undefined): string {
  if (!lang) return DEFAULT_LANGUAGE;
  if (lang === DEFAULT_LANGUAGE || cfg.mediaByLanguage[lang]) return lang;
  const base = lang.split(/[-_]/)[0] ?? '';
  return cfg.mediaByLanguage[base] ? base : DEFAULT_LANGUAGE;
}

export function welfareMedia(cfg: TelephonyConfig, lang: string, kind: keyof Media): string[] {
  return (lang === DEFAULT_LANGUAGE ? undefined : cfg.mediaByLanguage[lang]?.[kind]) ?? cfg.media[kind];
}

export async function startWelfareCall(ctx: FlowContext, req: WelfareRequest): Promise<Ticket<WelfareResult>> {
  const callId = flowIdFor(req.idempotencyKey);
  const kind: WelfareKind = req.kind ?? 'welfare';
  const language = welfareLanguage(ctx.cfg, req.language);
  const base = { callId, kind, language };
  const n = normalisePhone(req.number, ctx.cfg.areaCode);
  if (!n.ok) return settled(callId, { ...base, status: 'failed', number: req.number, outcome: 'invalid_number', detail: n.reason });
  const number = n.number;
  return startFlow<Leg, WelfareResult>(ctx, callId, 'welfare', {
    duplicate: () => ({ ...base, status: 'duplicate', number }),
    first: (flow) => dialOut(ctx, flow, { idempotencyKey: `${req.idempotencyKey}#elder`, party: 'elder', number, timeoutS: req.ringTimeoutS, elderId: req.elderId }),
    run: (flow, leg) => run(ctx, flow, req, leg, { ...base, number }),
    failed: (err, legs) => {
      const r: WelfareResult = { ...base, status: 'failed', number, detail: errText(err) };
      const l = legs[0];
      if (l) {
        r.outcome = l.outcome;
        r.channelId = l.channelId;
      }
      return r;
    },
  });
}

async function run(ctx: FlowContext, flow: ActiveFlow, req: WelfareRequest, leg: Leg, base: Pick<WelfareResult, 'callId' | 'kind' | 'language' | 'number'>): Promise<WelfareResult> {
  const say = (kind: PromptKind): PromptPlayback => playPrompt({ leg, stats: ctx.prompts, log: ctx.log }, kind, welfareMedia(ctx.cfg, base.language, kind), ctx.cfg.fallbackMedia[kind]);
  const result = async (status: WelfareStatus, extra: Partial<WelfareResult> = {}): Promise<WelfareResult> => {
    await teardown(ctx, flow);
    const end = await leg.ended;
    const r: WelfareResult = { ...base, status, ...extra, outcome: end.outcome, channelId: leg.channelId };
    if (end.detail && status === 'failed') r.detail = end.detail;
    return r;
  };

  if (!(await leg.answered)) {
    const { outcome } = await leg.ended;
    return result(outcome === 'busy' ? 'busy' : outcome === 'no_answer' ? 'no_answer' : flow.cancelled ? 'no_answer' : 'failed');
  }
  leg.setOutcome('not_accepted'); // until a digit comes: a hang-up or a timeout from here on is "no key"

  // the digit, during the prompt and dtmfTimeoutS after it
  let settle!: (digit: '1' | '2' | undefined) => void;
  const decision = new Promise<'1' | '2' | undefined>((r) => (settle = r));
  const offDtmf = leg.on('ChannelDtmfReceived', (e) => (e.digit === '1' || e.digit === '2') && settle(e.digit));
  void leg.ended.then(() => settle(undefined));
  const check = say(CHECK[base.kind]);
  let timer: NodeJS.Timeout | undefined;
  let decided = false;
  void check.finished.then(() => {
    if (!decided) timer = setTimeout(() => settle(undefined), scaledMs(ctx, req.dtmfTimeoutS ?? ctx.cfg.dtmfTimeoutS));
  });
  const digit = await decision;
  decided = true;
  offDtmf();
  if (timer) clearTimeout(timer);
  if (!digit || flow.cancelled || !leg.live) return result('no_key');

  leg.setOutcome('accepted_by_dtmf');
  await check.stop();
  if (digit === '1') {
    await say('welfareOk').finished;
    return result('ok', { digit });
  }
  const recording = await help(ctx, leg, say, base.callId, req.recordS ?? DEFAULT_RECORD_S);
  return result('help', recording ? { digit, recording } : { digit });
}

/** After 2: the prompt, the recording (the name when it was stored), the thanks. Never throws. */
async function help(ctx: FlowContext, leg: Leg, say: (kind: PromptKind) => PromptPlayback, callId: string, recordS: number): Promise<string | undefined> {
  await say('welfareHelp').finished;
  if (!leg.live) return undefined;
  const name = `anxin-welfare-${callId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  let stored = false;
  let off: (() => void) | undefined;
  try {
    // RecordingFinished / RecordingFailed are not decoded by the adapter: its `unknown` events (as in recording.ts)
    let finished!: () => void;
    const over = new Promise<void>((r) => (finished = r));
    off = ctx.adapter.on('unknown', (u) => {
      if (u.type !== 'RecordingFinished' && u.type !== 'RecordingFailed') return;
      const rec = (u.raw as { recording?: { name?: unknown } }).recording;
      if (rec?.name === name) finished();
    });
    await ctx.adapter.recordChannel(leg.channelId, { name, format: 'wav', beep: true, maxDurationSeconds: recordS, maxSilenceSeconds: MAX_SILENCE_S, terminateOn: '#', ifExists: 'fail' });
    // it ends by itself (max duration, silence, '#', the hang-up); a real Asterisk queues playbacks behind it
    await Promise.race([over, leg.ended, sleep(scaledMs(ctx, recordS) + 3000)]);
    stored = (await ctx.adapter.storedRecording(name).catch(() => undefined)) !== undefined;
    if (!stored) ctx.log.warn({ callId, name }, 'telephony: welfare help message not stored');
  } catch (err) {
    ctx.log.error({ err: errText(err), callId, name }, 'telephony: welfare help message not recorded (the help request stands)');
  } finally {
    off?.();
  }
  if (leg.live) await Promise.race([say('welfareThanks').finished, sleep(scaledMs(ctx, 15))]);
  return stored ? name : undefined;
}
