/**
 * Sound and speech. A beep pattern per priority repeats while any alarm waits to be accepted (P1 the most
 * urgent: fast, high, square-wave triplets); a spoken alert in the locale announces each new alarm
 * (「紧急呼叫，张秀英，跌倒报警」). Browsers keep audio suspended until a click: the app shows a prompt then.
 */

interface Pattern {
  /** frequencies of the beeps in one burst */
  tones: number[];
  wave: OscillatorType;
  beepMs: number;
  gapMs: number;
  /** from the start of one burst to the next */
  everyMs: number;
  volume: number;
}

export const PATTERNS: Record<number, Pattern> = {
  1: { tones: [988, 1319, 988, 1319], wave: 'square', beepMs: 140, gapMs: 70, everyMs: 2000, volume: 0.22 },
  2: { tones: [784, 988], wave: 'square', beepMs: 160, gapMs: 90, everyMs: 5000, volume: 0.16 },
  3: { tones: [659], wave: 'triangle', beepMs: 220, gapMs: 0, everyMs: 10000, volume: 0.16 },
  4: { tones: [523], wave: 'sine', beepMs: 260, gapMs: 0, everyMs: 30000, volume: 0.14 },
  5: { tones: [659, 880], wave: 'sine', beepMs: 200, gapMs: 60, everyMs: 30000, volume: 0.12 },
};

let ctx: AudioContext | null = null;
let blockedListener: (blocked: boolean) => void = () => undefined;

export function onSoundBlocked(fn: (blocked: boolean) => void): void {
  blockedListener = fn;
}

function audio(): AudioContext | null {
  if (ctx) return ctx;
  const C = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!C) return null;
  try {
    ctx = new C();
    ctx.onstatechange = () => blockedListener(ctx?.state === 'suspended');
  } catch {
    ctx = null;
  }
  return ctx;
}

/** Call from a click or key handler: browsers only start audio after a user gesture. */
export function unlockSound(): void {
  const c = audio();
  if (c && c.state === 'suspended') void c.resume().then(() => blockedListener(false)).catch(() => undefined);
  // Chrome needs a gesture for speech as well; an empty utterance primes it.
  try {
    if ('speechSynthesis' in window) window.speechSynthesis.getVoices();
  } catch {
    /* no speech */
  }
}

function playBurst(p: Pattern): void {
  const c = audio();
  if (!c) return;
  if (c.state === 'suspended') {
    blockedListener(true);
    void c.resume().catch(() => undefined);
    return;
  }
  let at = c.currentTime + 0.02;
  for (const f of p.tones) {
    const osc = c.createOscillator();
    const gain = c.createGain();
    osc.type = p.wave;
    osc.frequency.value = f;
    const end = at + p.beepMs / 1000;
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(p.volume, at + 0.01);
    gain.gain.setValueAtTime(p.volume, end - 0.02);
    gain.gain.linearRampToValueAtTime(0, end);
    osc.connect(gain).connect(c.destination);
    osc.start(at);
    osc.stop(end + 0.01);
    at = end + p.gapMs / 1000;
  }
}

/**
 * The repeating alarm sound. `waiting()` returns the priority of the most urgent alarm waiting to be accepted
 * (or null); the loop plays its pattern and comes back after that pattern's period.
 */
export class AlarmSound {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastBurst = 0;
  private lastPriority: number | null = null;

  constructor(private readonly waiting: () => number | null) {}

  start(): void {
    this.stop();
    this.loop();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Re-evaluate at once (a new or more urgent alarm should not wait for the current period). */
  poke(): void {
    if (this.timer === undefined) return;
    const p = this.waiting();
    if (p !== null && (this.lastPriority === null || p < this.lastPriority)) {
      this.lastBurst = 0;
      this.start();
    }
  }

  private loop = () => {
    const p = this.waiting();
    this.lastPriority = p;
    let next = 1000;
    if (p !== null) {
      const pattern = PATTERNS[p] ?? PATTERNS[3]!;
      const now = Date.now();
      if (now - this.lastBurst >= pattern.everyMs - 50) {
        playBurst(pattern);
        this.lastBurst = now;
      }
      next = Math.min(1000, pattern.everyMs);
    }
    this.timer = setTimeout(this.loop, next);
  };
}

/** Speaks a sentence in the locale; silently does nothing where speech is unavailable. */
export function speak(text: string, lang: string, urgent = false): void {
  try {
    if (!('speechSynthesis' in window)) return;
    const u = new SpeechSynthesisUtterance(text);
    u.lang = lang === 'en' ? 'en-US' : 'zh-CN';
    const voice = window.speechSynthesis.getVoices().find((v) => v.lang.replace('_', '-').startsWith(u.lang.slice(0, 2)));
    if (voice) u.voice = voice;
    u.rate = urgent ? 1.05 : 1;
    u.volume = 1;
    window.speechSynthesis.speak(u);
  } catch {
    /* no speech */
  }
}
