/**
 * Human passwords: argon2id, run with bounded concurrency so a login flood can never take the cores the alarm
 * path needs (issue 15: a 16-way flood raised the SOS acknowledgement median from 20 to 159 ms). Unknown users
 * are verified against a dummy hash, so a login costs the same whether or not the username exists.
 */
import argon2 from 'argon2';

export class Busy extends Error {}

/** A counting semaphore with a bounded queue: beyond it, callers are told to come back rather than queue forever. */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** how many jobs have run (the security tests check an unknown user costs one, like a known one) */
  runs = 0;

  constructor(
    private readonly max: number,
    private readonly maxQueue: number,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      if (this.waiting.length >= this.maxQueue) throw new Busy('too many password checks at once');
      await new Promise<void>((r) => this.waiting.push(r));
    } else this.active++;
    this.runs++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}

/** One hashing at a time on a 2-core machine: the other core stays with the alarm path. */
export const passwordGate = new Gate(1, 64);

let dummy: Promise<string> | undefined;

export function hashPassword(p: string): Promise<string> {
  return passwordGate.run(() => argon2.hash(p, { type: argon2.argon2id }));
}

/** Verifies a password against a hash, or against a dummy hash of the same cost when the user is unknown. */
export async function verifyPassword(hash: string | undefined, p: string): Promise<boolean> {
  dummy ??= argon2.hash('anxin-dummy-password', { type: argon2.argon2id });
  const h = hash ?? (await dummy);
  const ok = await passwordGate.run(() => argon2.verify(h, p).catch(() => false));
  return hash !== undefined && ok;
}
