/**
 * Prompts with a fallback (issue 17 item 2). A real Asterisk fails a sound it does not have at once
 * (PlaybackStarted, then PlaybackFinished state "failed"); without the anxin-* files every contact in a cascade
 * would hear silence and nobody could accept. So each item is played on its own (in a list a real Asterisk skips
 * a missing item without saying so, so only a single-item playback tells which one failed), a failed item is
 * counted, and the prompt's built-in fallback (Asterisk's core sounds) is played instead of the rest.
 */
import type { Leg, PlayResult } from '../calls.ts';
import type { FlowContext, TelephonyConfig } from './context.ts';

export type PromptKind = keyof TelephonyConfig['media'];

/**
 * Built-in sounds of Debian's asterisk-core-sounds-en (the Asterisk README's runtime packages), one per prompt.
 * The cascade's says "if this is correct, press 1" (the DTMF listener runs through the prompt anyway).
 */
export const FALLBACK_MEDIA: Readonly<Record<PromptKind, string[]>> = {
  callbackGreeting: ['sound:one-moment-please'],
  callbackNoAgent: ['sound:please-try-call-later'],
  cascadePrompt: ['sound:if-correct-press', 'sound:digits/1'],
  cascadeAccepted: ['sound:auth-thankyou'],
  targetNotReached: ['sound:please-try-call-later'],
  // the welfare / reminder calls (issue 22): "if this is correct press 1" keeps the 1 findable; 2 is not said
  welfareCheck: ['sound:if-correct-press', 'sound:digits/1'],
  reminderMedication: ['sound:if-correct-press', 'sound:digits/1'],
  reminderAppointment: ['sound:if-correct-press', 'sound:digits/1'],
  welfareOk: ['sound:vm-goodbye'],
  welfareHelp: ['sound:vm-intro'],
  welfareThanks: ['sound:auth-thankyou'],
};

export interface PromptHealth {
  /** Items that failed since start (fallbacks included). */
  failures: number;
  lastFailedPrompt?: string;
  lastFailedAt?: Date;
  /** Items whose last playback failed: the hub is degraded until they play again (e.g. once installed). */
  failing: string[];
}

export class PromptStats {
  private failures = 0;
  private last: { media: string; at: Date } | undefined;
  private readonly failing = new Set<string>();

  failed(media: string): void {
    this.failures++;
    this.last = { media, at: new Date() };
    this.failing.add(media);
  }

  played(media: string): void {
    this.failing.delete(media);
  }

  get degraded(): boolean {
    return this.failing.size > 0;
  }

  health(): PromptHealth {
    const h: PromptHealth = { failures: this.failures, failing: [...this.failing] };
    if (this.last) {
      h.lastFailedPrompt = this.last.media;
      h.lastFailedAt = this.last.at;
    }
    return h;
  }
}

export interface PromptPlayback {
  /** 'failed' only when the fallback failed too; 'error' when the play request itself was refused. */
  finished: Promise<PlayResult>;
  stop(): Promise<void>;
}

/** Plays `media` (the prompt of `kind`, or a request's own) item by item, falling back to the built-in sound. */
export function playPrompt(o: { leg: Leg; stats: PromptStats; log: { warn(obj: object, msg?: string): void } }, kind: PromptKind, media: string[], fallback: string[] = FALLBACK_MEDIA[kind]): PromptPlayback {
  const { leg, stats, log } = o;
  let current: ReturnType<Leg['play']> | undefined;
  let stopped = false;
  const one = async (item: string): Promise<PlayResult> => {
    if (stopped) return 'stopped';
    current = leg.play([item]);
    const r = await current.finished;
    if (r === 'done') stats.played(item);
    if (r === 'failed' && leg.live) stats.failed(item);
    return r;
  };
  const run = async (): Promise<PlayResult> => {
    for (const item of media) {
      const r = await one(item);
      if (r !== 'failed') {
        if (r !== 'done') return r;
        continue;
      }
      if (!leg.live) return 'ended';
      log.warn({ channelId: leg.channelId, prompt: item, kind, fallback }, 'telephony: prompt failed to play, playing the built-in fallback');
      for (const f of fallback) {
        const fr = await one(f);
        if (fr !== 'done') return fr;
      }
      return 'done';
    }
    return stopped ? 'stopped' : 'done';
  };
  return {
    finished: run(),
    async stop() {
      stopped = true;
      await current?.stop();
    },
  };
}

/** A flow's prompt: the request's media or the configured one, with the configured fallback. */
export function prompt(ctx: FlowContext, leg: Leg, kind: PromptKind, media?: string[]): PromptPlayback {
  return playPrompt({ leg, stats: ctx.prompts, log: ctx.log }, kind, media ?? ctx.cfg.media[kind], ctx.cfg.fallbackMedia[kind]);
}
