/**
 * Hotline settings (issue 19: HOTLINE_DIDS, the IVR as data per number, RING_TIMEOUT_S, QUEUE_MAX_WAIT_S, the
 * overflow target as a setting). Global queue settings with per-hotline overrides.
 */
import type { IvrChoice } from '../hotline-ports.ts';

export interface HotlineIvr {
  /** Greeting per language ('zh-CN', 'en'): media URIs; the caller's language, else zh-CN, else the first. */
  greeting: Record<string, string[]>;
  /** Digit → choice, e.g. { '1': 'emergency', '2': 'services' }. */
  options: Record<string, IvrChoice>;
  /** Seconds to wait for a digit after the greeting (default 5). */
  timeoutS?: number;
  /** Choice when no (or no valid) digit is pressed; default 'services'. */
  noInput?: IvrChoice;
}

export type OverflowTarget =
  /** Bridge the caller to an outside duty phone through the trunk; voicemail when it is not answered. */
  | { to: 'night'; number: string; ringTimeoutS?: number }
  /** Record the caller's message into a stored recording. */
  | { to: 'voicemail'; maxS?: number }
  /** Play the "all agents busy" prompt and hang up. */
  | { to: 'hangup' };

export interface HotlineConfig {
  /** As dialled (`dialplan.exten`), e.g. '12349'. */
  did: string;
  name: string;
  ivr?: HotlineIvr;
  ringTimeoutS?: number;
  queueMaxWaitS?: number;
  overflow?: OverflowTarget;
}

/** Queue media per language; `{n}` in an item is replaced by the position (sound:digits/{n}). */
export interface QueueMedia {
  position: string[];
  emergencyNoted: string[];
  voicemail: string[];
  night: string[];
  busy: string[];
  thanks: string[];
}

export interface QueueOptions {
  /** Ring time per agent before the next one rings (RING_TIMEOUT_S); default 15. */
  ringTimeoutS: number;
  /** Longest wait in the queue before overflow (QUEUE_MAX_WAIT_S); default 120. */
  maxWaitS: number;
  overflow: OverflowTarget;
  /** Position announced on entry and then every this many seconds; default 30 (0: on entry only). */
  announceEveryS: number;
  /** musiconhold.conf class for the holding bridge; default Asterisk's `default`. */
  mohClass?: string;
  /** How often the ACD asks pickAgent again while callers wait (besides agentsChanged()); default 2. */
  agentPollS: number;
  /** Media per language (zh-CN is the default language). */
  media: Record<string, QueueMedia>;
  /** Played when an anxin-* prompt fails: Asterisk's core sounds. */
  fallback: QueueMedia;
}

const ANXIN: QueueMedia = {
  position: ['sound:anxin-queue-position', 'sound:digits/{n}', 'sound:anxin-queue-wait'],
  emergencyNoted: ['sound:anxin-emergency-noted'],
  voicemail: ['sound:anxin-queue-voicemail'],
  night: ['sound:anxin-queue-night'],
  busy: ['sound:anxin-no-agent'],
  thanks: ['sound:anxin-queue-thanks'],
};

export const QUEUE_FALLBACK: QueueMedia = {
  position: ['sound:queue-thereare', 'sound:digits/{n}', 'sound:queue-callswaiting'],
  emergencyNoted: ['sound:one-moment-please'],
  voicemail: ['sound:vm-intro'],
  night: ['sound:pls-hold-while-try'],
  busy: ['sound:please-try-call-later'],
  thanks: ['sound:auth-thankyou'],
};

export const DEFAULT_HOTLINE_IVR_GREETING = ['sound:anxin-hotline-welcome'];

export function queueOptions(o: Partial<QueueOptions> = {}): QueueOptions {
  return {
    ringTimeoutS: 15,
    maxWaitS: 120,
    overflow: { to: 'voicemail' },
    announceEveryS: 30,
    agentPollS: 2,
    ...o,
    media: { 'zh-CN': ANXIN, en: ANXIN, ...o.media },
    fallback: { ...QUEUE_FALLBACK, ...o.fallback },
  };
}

export const DEFAULT_LANGUAGE = 'zh-CN';

/** The media of a language, `{n}` filled in; digits/N exists for 0-20, `number:` says larger ones. */
export function queueMedia(q: QueueOptions, lang: string, kind: keyof QueueMedia, n?: number): { media: string[]; fallback: string[] } {
  const fill = (items: string[]) =>
    items.map((m) => (n === undefined ? m : n > 20 && m === 'sound:digits/{n}' ? `number:${n}` : m.replaceAll('{n}', String(n))));
  const set = q.media[lang] ?? q.media[DEFAULT_LANGUAGE] ?? ANXIN;
  return { media: fill(set[kind]), fallback: fill(q.fallback[kind]) };
}
