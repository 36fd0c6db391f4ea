/**
 * Reassembly of concatenated inbound SMS (sms.md A6 "MO", B7): parts come in any order and may repeat; they are
 * keyed by (sender, ref, total), and an incomplete set is dropped after `timeoutMs`. Clock passed in, no timers.
 */
export interface InboundPart {
  from: string;
  ref: number;
  total: number;
  seq: number;
  text: string;
}

interface Pending {
  parts: Map<number, string>;
  firstAt: number;
}

export class Reassembler {
  private readonly pending = new Map<string, Pending>();
  /** sets dropped incomplete (counted, for metrics) */
  dropped = 0;

  constructor(readonly timeoutMs = 10 * 60_000) {}

  /** Adds one part; returns the whole text once every part is in, else undefined. */
  add(p: InboundPart, now = Date.now()): string | undefined {
    this.expire(now);
    if (p.total <= 1) return p.text;
    if (p.seq < 1 || p.seq > p.total) return undefined;
    const key = `${p.from}\u0000${p.ref}\u0000${p.total}`;
    let set = this.pending.get(key);
    if (!set) {
      set = { parts: new Map(), firstAt: now };
      this.pending.set(key, set);
    }
    set.parts.set(p.seq, p.text); // a repeat overwrites itself
    if (set.parts.size < p.total) return undefined;
    this.pending.delete(key);
    let text = '';
    for (let i = 1; i <= p.total; i++) text += set.parts.get(i) ?? '';
    return text;
  }

  expire(now = Date.now()): void {
    for (const [k, v] of this.pending) {
      if (now - v.firstAt > this.timeoutMs) {
        this.pending.delete(k);
        this.dropped++;
      }
    }
  }

  get size(): number {
    return this.pending.size;
  }
}
