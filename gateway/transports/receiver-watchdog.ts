/**
 * Supervision of one alarm receiver: a receiver that prints no line for two heartbeat periods is silent
 * (protocols.md §3.4: heartbeats about every 30 s; the computer must watch for them).
 *
 * Any line that parses counts as a sign of life, not only heartbeats: a receiver sends its heartbeat when the
 * link is idle, so a busy receiver may send none for a while.
 *
 * The alarm change is committed through callbacks (raise / clear) that may fail (PostgreSQL down): the watchdog
 * keeps the wanted state and retries until what is committed matches it. At start the committed state is
 * unknown, so the first sign of life clears a `receiver_silent` left open by an earlier run.
 */

export interface WatchdogOptions {
  /** silence that makes the receiver silent (2 × heartbeat) */
  silentAfterMs: number;
  /** wait before retrying a raise or clear that failed */
  retryMs: number;
  /** commit the receiver_silent alarm; `silentMs` is how long nothing was heard */
  raise(silentMs: number, lastLineAt: Date | undefined): Promise<void>;
  /** clear the receiver_silent alarm (a no-op when none is open) */
  clear(): Promise<void>;
  /** a raise or clear failed; it will be retried */
  onError?(err: unknown, action: 'raise' | 'clear'): void;
}

export class ReceiverWatchdog {
  /** what the receiver's lines say */
  private silent = false;
  /** what the database holds; undefined until the first raise or clear succeeds */
  private committed: boolean | undefined;
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private startedAt = Date.now();
  lastLineAt: Date | undefined;

  constructor(private readonly o: WatchdogOptions) {}

  /** Starts counting: a receiver never heard from is silent after `silentAfterMs` too. */
  start(): void {
    this.startedAt = Date.now();
    this.arm();
  }

  /** true while the receiver is silent (whether or not the alarm is committed yet) */
  get isSilent(): boolean {
    return this.silent;
  }

  /** The receiver printed a valid line. */
  alive(at = new Date()): void {
    if (this.stopped) return;
    this.lastLineAt = at;
    this.silent = false;
    this.arm();
    this.sync();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.silent = true;
      this.sync();
    }, this.o.silentAfterMs);
    this.timer.unref();
  }

  /** Brings the committed state to the wanted one, one commit at a time. */
  private sync(): void {
    if (this.busy || this.stopped || this.committed === this.silent) return;
    clearTimeout(this.retryTimer);
    const want = this.silent;
    const action = want ? 'raise' : 'clear';
    this.busy = true;
    const since = this.lastLineAt?.getTime() ?? this.startedAt;
    const p = want ? this.o.raise(Date.now() - since, this.lastLineAt) : this.o.clear();
    p.then(
      () => {
        this.busy = false;
        this.committed = want;
        this.sync();
      },
      (e: unknown) => {
        this.busy = false;
        this.o.onError?.(e, action);
        if (this.stopped) return;
        this.retryTimer = setTimeout(() => this.sync(), this.o.retryMs);
        this.retryTimer.unref();
      },
    );
  }
}
