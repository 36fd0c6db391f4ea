/**
 * Hotline settings (issue 19): HOTLINE_DIDS, HOTLINE_IVR, RING_TIMEOUT_S, QUEUE_MAX_WAIT_S, QUEUE_OVERFLOW,
 * VOICEMAIL_MAX_S and NIGHT_NUMBER, turned into createTelephony's `hotlines` and `queue`. Pure apart from reading HOTLINE_IVR
 * from a file when it is a path; every problem is reported at once (config.ts lists them).
 *
 * HOTLINE_IVR is a JSON object keyed by DID, each value telephony's HotlineIvr:
 *   {"12349": {"greeting": {"zh-CN": ["sound:anxin-hotline-welcome"], "en": ["sound:anxin-hotline-welcome"]},
 *              "options": {"1": "emergency", "2": "services"}, "timeoutS": 5, "noInput": "services"}}
 * A DID without an entry has no IVR (straight into the queue). A value not starting with `{` is a file path.
 */
import { readFileSync } from 'node:fs';
import type { HotlineConfig, HotlineIvr, OverflowTarget, QueueOptions } from '../telephony/index.js';

export const HOTLINE_IVR_EXAMPLE = '{"12349":{"greeting":{"zh-CN":["sound:anxin-hotline-welcome"]},"options":{"1":"emergency","2":"services"}}}';

const DID_RE = /^[0-9*#+]{2,20}$/;
const CHOICES = new Set(['emergency', 'services']);

export interface HotlineSettingsInput {
  hotlineDids?: string;
  hotlineIvr?: unknown;
  ringTimeoutS: number;
  queueMaxWaitS: number;
  queueOverflow: 'voicemail' | 'night' | 'hangup';
  voicemailMaxS: number;
  nightNumber?: string;
}

export interface HotlineSettings {
  hotlines: HotlineConfig[];
  queue: Partial<QueueOptions>;
}

export function parseDids(text: string | undefined): string[] {
  return [...new Set((text ?? '').split(/[,\s;]+/).filter(Boolean))];
}

function readIvr(raw: unknown, problems: string[]): Record<string, unknown> {
  if (raw === undefined || raw === '') return {};
  let v = raw;
  if (typeof v === 'string') {
    const text = v.trim();
    try {
      v = JSON.parse(text.startsWith('{') ? text : readFileSync(text, 'utf8'));
    } catch (e) {
      problems.push(`HOTLINE_IVR is neither a JSON object nor a readable JSON file: ${(e as Error).message}`);
      return {};
    }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    problems.push(`HOTLINE_IVR must be a JSON object keyed by DID, e.g. ${HOTLINE_IVR_EXAMPLE}`);
    return {};
  }
  return v as Record<string, unknown>;
}

function checkIvr(did: string, v: unknown, problems: string[]): HotlineIvr | undefined {
  const at = `HOTLINE_IVR["${did}"]`;
  const o = v as Partial<HotlineIvr> | null;
  const before = problems.length;
  if (!o || typeof o !== 'object') {
    problems.push(`${at} must be an object with greeting and options`);
    return undefined;
  }
  const greeting = o.greeting;
  if (!greeting || typeof greeting !== 'object' || !Object.values(greeting).every((m) => Array.isArray(m) && m.every((x) => typeof x === 'string' && x.length > 0))) {
    problems.push(`${at}.greeting must map a language to media, e.g. {"zh-CN": ["sound:anxin-hotline-welcome"]}`);
  }
  const options = o.options;
  if (!options || typeof options !== 'object' || !Object.entries(options).every(([d, c]) => /^[0-9*#]$/.test(d) && CHOICES.has(c as string))) {
    problems.push(`${at}.options must map single digits to "emergency" or "services", e.g. {"1": "emergency", "2": "services"}`);
  }
  if (o.timeoutS !== undefined && !(typeof o.timeoutS === 'number' && o.timeoutS > 0 && o.timeoutS <= 60)) problems.push(`${at}.timeoutS must be 1-60 seconds`);
  if (o.noInput !== undefined && !CHOICES.has(o.noInput)) problems.push(`${at}.noInput must be "emergency" or "services"`);
  return problems.length === before ? (o as HotlineIvr) : undefined;
}

/** The hotlines and queue options; `problems` empty when the settings are usable. */
export function hotlineSettings(s: HotlineSettingsInput): HotlineSettings & { problems: string[] } {
  const problems: string[] = [];
  const dids = parseDids(s.hotlineDids);
  for (const d of dids) if (!DID_RE.test(d)) problems.push(`HOTLINE_DIDS: "${d}" is not a dialled number (digits, 2-20)`);
  const ivr = readIvr(s.hotlineIvr, problems);
  for (const k of Object.keys(ivr)) if (!dids.includes(k)) problems.push(`HOTLINE_IVR has an entry for ${k}, which is not in HOTLINE_DIDS`);
  if (s.queueOverflow === 'night' && !s.nightNumber) problems.push('QUEUE_OVERFLOW=night needs NIGHT_NUMBER (the duty phone)');
  const overflow: OverflowTarget =
    s.queueOverflow === 'night' && s.nightNumber ? { to: 'night', number: s.nightNumber } : s.queueOverflow === 'hangup' ? { to: 'hangup' } : { to: 'voicemail', maxS: s.voicemailMaxS };
  const hotlines = dids.map((did): HotlineConfig => {
    const h: HotlineConfig = { did, name: did };
    const i = ivr[did] !== undefined ? checkIvr(did, ivr[did], problems) : undefined;
    if (i) h.ivr = i;
    return h;
  });
  return { hotlines, queue: { ringTimeoutS: s.ringTimeoutS, maxWaitS: s.queueMaxWaitS, overflow }, problems };
}
