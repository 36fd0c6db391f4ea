/**
 * Fair turns for alarm commits (issue 15). The pool's own queue is first come, first served, so a flood of
 * alarm-bearing frames (fuzzed, or from unregistered Contact ID accounts) made a registered watch's SOS wait tens of
 * seconds (bench fuzz: ack p99 28.7 s). Here each source has its own queue and at most one commit in flight;
 * sources take turns round-robin, registered devices before unregistered sources; and no more than `slots`
 * commits run at once, so nothing waits inside the pool (where it would time out). A source whose queue is full is
 * refused: its frame is not acknowledged and the device sends it again.
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
  /** sources with a task waiting and none in flight, in turn order; registered ones first */
  private readonly turns: [Source[], Source[]] = [[], []];

  constructor(
    private readonly slots: number,
    private readonly perSource = 64,
  ) {}

  run<T>(source: string, registered: boolean, fn: () => Promise<T>): Promise<T> {
    let s = this.sources.get(source);
    if (!s) this.sources.set(source, (s = { key: source, tasks: [], busy: false }));
    if (s.tasks.length >= this.perSource) return Promise.reject(new GateFull(`too many alarm commits waiting for ${source}`));
    const src = s;
    return new Promise<T>((resolve, reject) => {
      src.tasks.push(() => {
        fn().then(resolve, reject).finally(() => this.done(src, registered));
      });
      if (!src.busy && src.tasks.length === 1) this.turns[registered ? 0 : 1].push(src);
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
      const s = this.turns[0].shift() ?? this.turns[1].shift();
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
    if (s.tasks.length) this.turns[registered ? 0 : 1].push(s);
    else this.sources.delete(s.key);
    this.pump();
  }
}
