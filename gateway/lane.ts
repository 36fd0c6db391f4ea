/**
 * The routine lane (issue 25): routine reports wait here and run in slices of `sliceMs` between turns of the event
 * loop, so whatever else the loop has (an alarm frame just read, the database's answer to an alarm's commit) waits
 * at most one slice for them, never a whole backlog. A report that waited `maxWaitMs` is shed: the lane is then
 * behind by more than the overload guard allows.
 *
 * Order per key (a device): the items of one key run in the order they were added, and `expedite` runs a key's
 * waiting items at once, so a frame that must not wait can first have its device's earlier reports run.
 *
 * What `expedite` runs between two slices is bounded by one slice too: past `sliceMs` of it, or for an item that
 * waited `maxWaitMs`, the items are shed instead. Expedite runs in the middle of the loop's reads, for every device
 * that sends while its reports wait; when the lane is behind (30,000 reports/s offered) that is nearly every
 * device, and running them all there made one turn of reads last 1.4-2.3 s, with alarms read and presented after it
 * (issue 25).
 */
import type { Metrics } from './metrics.js';

export interface LaneOptions<M, D, R> {
  sliceMs: number;
  /** 0 = never shed */
  maxWaitMs: number;
  run(key: string, msgs: M, dev: D): R | Promise<R>;
  shed(msgs: M, dev: D): R;
  metrics: Pick<Metrics, 'laneWaiting' | 'laneWaitMs'>;
}

interface Item<M, D, R> {
  key: string;
  msgs: M;
  dev: D;
  at: number;
  done: boolean;
  /** the key's item added before this one, while it waited */
  prev: Item<M, D, R> | undefined;
  resolve(r: R | Promise<R>): void;
}

export class RoutineLane<M, D, R> {
  private q: (Item<M, D, R> | undefined)[] = [];
  private head = 0;
  private waiting = 0;
  /** each key's last waiting item (earlier ones through `prev`) */
  private readonly last = new Map<string, Item<M, D, R>>();
  private scheduled = false;
  private emptied: (() => void)[] = [];
  /** ms spent running expedited items since the last slice (or since the lane was last empty) */
  private expeditedMs = 0;

  constructor(private readonly o: LaneOptions<M, D, R>) {}

  get size(): number {
    return this.waiting;
  }

  add(key: string, msgs: M, dev: D): Promise<R> {
    return new Promise<R>((resolve) => {
      const item: Item<M, D, R> = { key, msgs, dev, at: performance.now(), done: false, prev: this.last.get(key), resolve };
      this.last.set(key, item);
      this.q.push(item);
      this.waiting++;
      if (!this.scheduled) {
        this.scheduled = true;
        this.expeditedMs = 0;
        setImmediate(this.slice);
      }
    });
  }

  /** Runs the key's waiting items now, oldest first; sheds them past this turn's budget, or if they waited too long. */
  expedite(key: string): void {
    let it = this.last.get(key);
    if (!it) return;
    const items: Item<M, D, R>[] = [];
    for (; it && !it.done; it = it.prev) items.push(it);
    for (let i = items.length - 1; i >= 0; i--) {
      const item = items[i]!;
      const t0 = performance.now();
      if (this.expeditedMs >= this.o.sliceMs || (this.o.maxWaitMs > 0 && t0 - item.at >= this.o.maxWaitMs)) {
        this.take(item);
        item.resolve(this.o.shed(item.msgs, item.dev));
        continue;
      }
      this.run(item);
      this.expeditedMs += performance.now() - t0;
    }
  }

  /** Resolves once nothing waits (shutdown drain). */
  flush(): Promise<void> {
    return this.waiting === 0 ? Promise.resolve() : new Promise((r) => this.emptied.push(r));
  }

  private take(it: Item<M, D, R>): void {
    it.done = true;
    it.prev = undefined;
    this.waiting--;
    if (this.last.get(it.key) === it) this.last.delete(it.key);
  }

  private run(it: Item<M, D, R>): void {
    this.take(it);
    let r: R | Promise<R>;
    try {
      r = this.o.run(it.key, it.msgs, it.dev);
    } catch (e) {
      r = Promise.reject(e);
    }
    it.resolve(r);
  }

  private readonly slice = (): void => {
    this.scheduled = false;
    this.expeditedMs = 0;
    const start = performance.now();
    const shedBefore = this.o.maxWaitMs > 0 ? start - this.o.maxWaitMs : -Infinity;
    let oldest = -1;
    while (this.head < this.q.length) {
      const it = this.q[this.head]!;
      this.q[this.head++] = undefined;
      if (it.done) continue;
      if (oldest < 0) oldest = start - it.at;
      if (it.at < shedBefore) {
        this.take(it);
        it.resolve(this.o.shed(it.msgs, it.dev));
      } else this.run(it);
      // shed ones count too: their replies are written once the slice is over, and a backlog of them is long
      if (performance.now() - start >= this.o.sliceMs) break;
    }
    if (this.head === this.q.length) {
      this.q = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    this.o.metrics.laneWaiting.set(this.waiting);
    if (oldest >= 0) this.o.metrics.laneWaitMs.set(Math.round(oldest));
    if (this.waiting > 0) {
      this.scheduled = true;
      setImmediate(this.slice);
    } else if (this.emptied.length) {
      for (const r of this.emptied.splice(0)) r();
    }
  };
}
