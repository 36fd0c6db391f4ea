/**
 * The simulator's sounds without Debian's core sounds installed (`npm start` on a bare machine): Anxin's own prompts
 * and every built-in fallback the flows play when a prompt fails are known, and a made-up name is not.
 */
import { describe, expect, it } from 'vitest';
import { knownSounds } from '../../../simulators/asterisk/sounds.ts';
import { FALLBACK_MEDIA } from '../../../telephony/flows/prompts.ts';
import prompts from '../../../telephony/prompts/prompts.json' with { type: 'json' };

describe('simulated Asterisk sounds with no core sounds directory', () => {
  const sounds = knownSounds([], null);
  it('knows every built-in fallback of the flows', () => {
    for (const media of Object.values(FALLBACK_MEDIA).flat()) expect(sounds.has(media.replace(/^sound:/, '')), media).toBe(true);
  });
  it("knows Anxin's prompts and not a made-up name", () => {
    for (const name of Object.keys(prompts).filter((k) => k.startsWith('anxin-'))) expect(sounds.has(name), name).toBe(true);
    expect(sounds.has('anxin-no-such-prompt')).toBe(false);
  });
});
