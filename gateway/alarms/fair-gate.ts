/**
 * Fair turns for alarm commits (issue 15). The pool's own queue is first come, first served, so a flood of
 * alarm-bearing frames (fuzzed, or from unregistered Contact ID accounts) made a registered watch's SOS wait tens of
 * seconds (bench fuzz: ack p99 28.7 s). Here each source has its own queue and at most one commit in flight;
 * sources take turns round-robin, registered devices before unregistered sources; and no more than `slots`
 * commits run at once, so nothing waits inside the pool (where it would time out). A source whose queue is full is
 * refused: its frame is not acknowledged and the device sends it again.
 *
 * Among registered devices, a quiet one goes first: a device whose last commit ended more than `quietMs` ago (a
 * watch's SOS every few seconds) takes its turn ahead of devices that commit back to back (under the fuzz bench,
 * 70 registered devices did). Round-robin alone made the SOS wait one turn behind every busy device (bench fuzz:
 * ack p99 5.9 s); a busy device still gets every other free slot's worth of turns, so nothing starves.
 */
export class GateFull extends Error {}

interface Source {
  key: string;
  tasks: (() => void)[];
  busy: boolean;
}

export class FairGate {
  private running = 0;
  private readonly sources = new Map<string, Source>();
  /** sources with a task waiting and none in flight, in turn order: quiet registered, busy registered, unregistered */
  private readonly turns: [Source[], Source[], Source[]] = [[], [], []];
  /** when each source's last commit ended, oldest first (entries older than quietMs are pruned) */
  private readonly lastDone = new Map<string, number>();

  constructor(
    private readonly slots: number,
    private readonly perSource = 64,
    private readonly quietMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  private lane(s: Source, registered: boolean): 0 | 1 | 2 {
    if (!registered) return 2;
    const t = this.lastDone.get(s.key);
    return t !== undefined && this.now() - t < this.quietMs ? 1 : 0;
  }

  run<T>(source: string, registered: boolean, fn: () => Promise<T>): Promise<T> {
    let s = this.sources.get(source);
    if (!s) this.sources.set(source, (s = { key: source, tasks: [], busy: false }));
    if (s.tasks.length >= this.perSource) return Promise.reject(new GateFull(`too many alarm commits waiting for ${source}`));
    const src = s;
    return new Promise<T>((resolve, reject) => {
      src.tasks.push(() => {
        fn().then(resolve, reject).finally(() => this.done(src, registered));
      });
      if (!src.busy && src.tasks.length === 1) this.turns[this.lane(src, registered)].push(src);
      this.pump();
    });
  }

  /** commits waiting, all sources */
  get waiting(): number {
    let n = 0;
    for (const s of this.sources.values()) n += s.tasks.length;
    return n;
  }

  private pump(): void {
    while (this.running < this.slots) {
      const s = this.turns[0].shift() ?? this.turns[1].shift() ?? this.turns[2].shift();
      if (!s) return;
      const task = s.tasks.shift();
      if (!task) continue;
      s.busy = true;
      this.running++;
      task();
    }
  }

  private done(s: Source, registered: boolean): void {
    this.running--;
    s.busy = false;
    const now = this.now();
    // re-inserted, so the map stays in order of time; the old ones go
    this.lastDone.delete(s.key);
    this.lastDone.set(s.key, now);
    for (const [key, t] of this.lastDone) {
      if (now - t < this.quietMs) break;
      this.lastDone.delete(key);
    }
    // a source with more waiting has just committed: it is busy
    if (s.tasks.length) this.turns[registered ? 1 : 2].push(s);
    else this.sources.delete(s.key);
    this.pump();
  }
}
