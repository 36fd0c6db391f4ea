/**
 * Issue 17 item 2: a prompt that fails to play (a real Asterisk: PlaybackStarted, then at once PlaybackFinished
 * state "failed") falls back to the built-in sound, is counted, and makes health degraded until it plays again.
 */
import { describe, expect, it } from 'vitest';
import type { Leg, PlayResult } from '../../../telephony/calls.ts';
import { FALLBACK_MEDIA, playPrompt, PromptStats } from '../../../telephony/flows/prompts.ts';

function fakeLeg(results: Record<string, PlayResult>) {
  const played: string[] = [];
  const leg = {
    live: true,
    channelId: 'c1',
    play(media: string[]) {
      played.push(...media);
      return { playbackId: 'p', finished: Promise.resolve(results[media[0] ?? ''] ?? 'done'), stop: async () => {} };
    },
  };
  return { leg: leg as unknown as Leg, played };
}
const log = { warn() {} };

describe('prompts with a fallback', () => {
  it('plays each item on its own; a missing one is counted and the fallback plays instead of the rest', async () => {
    const { leg, played } = fakeLeg({ 'sound:anxin-press-1': 'failed' });
    const stats = new PromptStats();
    const r = await playPrompt({ leg, stats, log }, 'cascadePrompt', ['sound:anxin-alarm-for-elder', 'sound:anxin-press-1']).finished;
    expect(r).toBe('done');
    expect(played).toEqual(['sound:anxin-alarm-for-elder', 'sound:anxin-press-1', ...FALLBACK_MEDIA.cascadePrompt]);
    expect(FALLBACK_MEDIA.cascadePrompt).toEqual(['sound:if-correct-press', 'sound:digits/1']);
    expect(stats.degraded).toBe(true);
    expect(stats.health()).toMatchObject({ failures: 1, lastFailedPrompt: 'sound:anxin-press-1', failing: ['sound:anxin-press-1'] });
  });

  it('a prompt that plays again clears degraded (the file was installed); the count stays', async () => {
    const stats = new PromptStats();
    await playPrompt({ leg: fakeLeg({ 'sound:x': 'failed' }).leg, stats, log }, 'callbackGreeting', ['sound:x']).finished;
    expect(stats.degraded).toBe(true);
    await playPrompt({ leg: fakeLeg({}).leg, stats, log }, 'callbackGreeting', ['sound:x']).finished;
    expect(stats.degraded).toBe(false);
    expect(stats.health().failures).toBe(1);
  });

  it('a failing fallback is counted too and reported as failed; a refused request is not a missing prompt', async () => {
    const stats = new PromptStats();
    const r = await playPrompt({ leg: fakeLeg({ 'sound:x': 'failed', 'sound:one-moment-please': 'failed' }).leg, stats, log }, 'callbackGreeting', ['sound:x']).finished;
    expect(r).toBe('failed');
    expect(stats.health()).toMatchObject({ failures: 2, lastFailedPrompt: 'sound:one-moment-please' });
    const other = new PromptStats();
    expect(await playPrompt({ leg: fakeLeg({ 'sound:x': 'error' }).leg, stats: other, log }, 'callbackGreeting', ['sound:x']).finished).toBe('error');
    expect(other.health().failures).toBe(0);
  });
});
