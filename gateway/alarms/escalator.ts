/**
 * Escalation runner. Deadlines live in PostgreSQL (alarms.next_step_at, esc_done), so after a restart a
 * step is neither lost nor repeated: each step and its "done" mark are one transaction under the row lock
 * (escalate-tx.ts, run on the alarm commit thread when it runs).
 */
import type { Bus } from '../bus.js';
import type { Presence } from './presence.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import { escalateInDb, offerInDb, type Effect, type EscalationPass } from './escalate-tx.js';

/** Where escalation's transactions run: the commit thread (commit-thread.ts), or in-process. */
export interface EscalationRunner {
  escalate(now: Date, online: number[] | null): Promise<EscalationPass>;
  offer(userIds: number[]): Promise<{ offered: number; effects: Effect[] }>;
}

export class Escalator {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;

  constructor(
    db: Db,
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    /** who has a dashboard open; without it every supervisor counts as looking */
    private readonly presence?: Presence,
    runner?: EscalationRunner,
  ) {
    this.runner = runner ?? { escalate: (now, online) => escalateInDb(db, now, online), offer: (ids) => offerInDb(db, ids) };
  }

  private readonly runner: EscalationRunner;

  start(): void {
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.kick();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Runs due steps now (called after a new alarm is committed, so step 1 pops without waiting). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.runOnce(new Date())
      .catch((e) => this.log.error({ err: e }, 'escalation run failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One pass over every alarm whose deadline has passed. Returns the number of steps performed. */
  async runOnce(now: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const pass = await this.runner.escalate(now, this.presence ? this.presence.users() : null);
      total += pass.steps.length;
      this.apply(pass);
      if (pass.due === 0) return total;
    }
  }

  /**
   * Agents who just became ready (wrap-up over, back from a break) get the most urgent alarm nobody was given yet,
   * at once, instead of waiting for the next escalation step.
   */
  async offer(userIds: number[]): Promise<number> {
    const { offered, effects } = await this.runner.offer(userIds);
    this.apply({ due: 0, steps: [], effects });
    return offered;
  }

  /** What a pass did, after its COMMIT: the step counts, then the screen-pops, alerts and callbacks on the bus. */
  apply({ steps, effects }: EscalationPass): void {
    for (const action of steps) this.metrics.escalationSteps.inc({ action });
    for (const e of effects) {
      if (e.kind === 'present') {
        this.bus.emit('alarm.changed', { alarm: e.alarm, action: 'presented', actor: 'system' });
        this.bus.emit('alarm.presented', { alarm: e.alarm, userIds: e.userIds, step: e.step });
      } else if (e.kind === 'supervisor') {
        this.bus.emit('supervisor.alert', { alarm: e.alarm, reason: e.reason });
      } else {
        // tells the telephony node's callback runner to look now (the request is already committed)
        this.bus.emit('alarm.callback', { alarm: e.alarm, plan: e.plan as unknown as Record<string, unknown> });
      }
    }
  }
}
