/**
 * The agents' state history (issue 23, the agents report): every agent.changed on the bus closes the agent's open
 * interval and, while the agent is signed in, opens the next (store/reports.ts recordAgentState, one statement).
 * Changes of one agent are written in the order they were heard, each stamped when it was heard. Signed out: the
 * sign-out is the one change that leaves the extension empty (a signed-in agent always has one), so it only closes.
 * A failed write is logged, never thrown into the bus.
 */
import type { Bus } from '../bus.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { recordAgentState } from '../store/reports.js';

export class AgentHistory {
  private off?: () => void;
  /** the last pending write of each agent: the next one waits for it */
  private readonly pending = new Map<number, Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly log?: Logger,
  ) {}

  start(): void {
    this.off = this.bus.on('agent.changed', (a) => {
      const at = new Date();
      const change = { userId: a.userId, state: a.state, extension: a.extension ?? null, reason: a.reason ?? null, at, open: !!a.extension };
      const next = (this.pending.get(a.userId) ?? Promise.resolve())
        .then(() => recordAgentState(this.db, change))
        .catch((err) => this.log?.warn({ err, userId: a.userId, state: a.state }, 'agent state history: write failed'));
      this.pending.set(a.userId, next);
      void next.then(() => {
        if (this.pending.get(a.userId) === next) this.pending.delete(a.userId);
      });
    });
  }

  /** Waits for the writes heard so far. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending.values()]);
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
    await this.flush();
  }
}
