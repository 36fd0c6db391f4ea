/**
 * The sounds a `sound:` playback can find. A real Asterisk answers the play request (201), sends
 * PlaybackStarted and then at once PlaybackFinished with state "failed" when the file is missing
 * (issue 17 item 2, captured on Asterisk 22.10.1), so the simulator needs to know what is "installed":
 *   - the Debian core sounds directory when present (asterisk-core-sounds-en, names like `hello-world`, `digits/1`);
 *   - otherwise a list of common core sounds of that package;
 *   - Anxin's own prompts, the keys of telephony/prompts/prompts.json (read as data, not imported), which CI
 *     installs into the real Asterisk;
 *   - whatever the caller adds (the `sounds` option).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CORE_SOUNDS_DIR = '/usr/share/asterisk/sounds/en';

/** Part of asterisk-core-sounds-en (1.6.x), used when the directory is not there. */
const CORE_SOUNDS_FALLBACK = [
  'hello-world', 'beep', 'beeperr', 'demo-congrats', 'demo-echotest', 'demo-echodone', 'demo-thanks', 'goodbye',
  'auth-thankyou', 'auth-incorrect', 'agent-pass', 'agent-user', 'all-circuits-busy-now', 'an-error-has-occurred',
  'conf-onlyperson', 'conf-waitforleader', 'pls-hold-while-try', 'pls-try-call-later', 'please-try-again',
  'queue-thankyou', 'silence/1', 'silence/2', 'silence/3', 'silence/5', 'silence/10', 'tt-monkeys', 'tt-weasels',
  'tt-allbusy', 'ss-noservice', 'vm-goodbye', 'vm-intro', 'vm-press', 'vm-star-cancel', 'welcome', 'you-entered',
  'to-enter-a-number', 'transfer', 'privacy-unident', 'invalid', 'letters/a', 'letters/b',
  // telephony/flows/prompts.ts FALLBACK_MEDIA: the built-in sounds played when one of Anxin's prompts fails
  'one-moment-please', 'please-try-call-later', 'if-correct-press',
  ...Array.from({ length: 10 }, (_, i) => `digits/${i}`),
];

const PROMPTS_JSON = new URL('../../telephony/prompts/prompts.json', import.meta.url);

/** Sound names (without extension, with sub-folder) under `dir`. */
function listDir(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listDir(path, `${prefix}${name}/`));
    else out.push(`${prefix}${name.replace(/\.[^.]+$/, '')}`);
  }
  return out;
}

function anxinPrompts(): string[] {
  try {
    const data = JSON.parse(readFileSync(PROMPTS_JSON, 'utf8')) as Record<string, unknown>;
    return Object.keys(data).filter((k) => !k.startsWith('_'));
  } catch {
    return [];
  }
}

/** The set of playable sound names. `dir` null skips the directory (tests that must not depend on the host). */
export function knownSounds(extra: readonly string[] = [], dir: string | null = CORE_SOUNDS_DIR): Set<string> {
  const fromDir = dir && existsSync(dir) ? listDir(dir) : CORE_SOUNDS_FALLBACK;
  return new Set([...fromDir, ...anxinPrompts(), ...extra]);
}
