/**
 * The hotline IVR (issue 19): a greeting in the caller's language, then one digit chooses (e.g. 1 emergency,
 * 2 services). A digit pressed during the greeting stops it. No digit, or one not in the options, takes
 * `noInput` (default services): a caller who cannot press still reaches an agent.
 */
import type { Leg } from '../calls.ts';
import type { IvrChoice } from '../hotline-ports.ts';
import { scaledMs, sleep, type FlowContext } from './context.ts';
import { DEFAULT_HOTLINE_IVR_GREETING, DEFAULT_LANGUAGE, type HotlineIvr } from './hotline-config.ts';
import { playPrompt, type PromptKind } from './prompts.ts';

/** Asterisk core sound played when the greeting fails (prompts.ts: a failed prompt must not leave silence). */
const GREETING_FALLBACK = ['sound:dir-welcome'];

export async function runIvr(ctx: FlowContext, leg: Leg, ivr: HotlineIvr, lang: string): Promise<{ choice: IvrChoice; digit?: string }> {
  let off: () => void = () => undefined;
  const pressed = new Promise<string>((resolve) => {
    off = leg.on('ChannelDtmfReceived', (e) => e.channel.id === leg.channelId && resolve(e.digit));
  });
  try {
    const greeting = ivr.greeting[lang] ?? ivr.greeting[DEFAULT_LANGUAGE] ?? Object.values(ivr.greeting)[0] ?? DEFAULT_HOTLINE_IVR_GREETING;
    const pb = playPrompt({ leg, stats: ctx.prompts, log: ctx.log }, 'hotlineGreeting' as PromptKind, greeting, GREETING_FALLBACK);
    let digit = await Promise.race([pressed, pb.finished.then(() => undefined)]);
    if (digit !== undefined) await pb.stop();
    else if (leg.live) digit = await Promise.race([pressed, sleep(scaledMs(ctx, ivr.timeoutS ?? 5)).then(() => undefined), leg.ended.then(() => undefined)]);
    const choice = (digit !== undefined ? ivr.options[digit] : undefined) ?? ivr.noInput ?? 'services';
    return digit === undefined ? { choice } : { choice, digit };
  } finally {
    off();
  }
}
