/**
 * The agent's state drives who gets the next alarm (issue 14, item 2). Accepting an alarm takes the agent out of
 * the ready pool (处理中 handling); resolving or releasing the last alarm they hold starts wrap-up (话后整理),
 * which ends by itself after WRAP_UP_S (自动置闲) or early at the agent's word. The phone adds on_call.
 * Changes inside an alarm transaction take its client; the bus hears about them after the commit.
 */
import type { Bus } from '../bus.js';
import type { Logger } from '../log.js';
import { tx, type Db, type Queryable } from '../store/db.js';
import { endDueWrapUps, getAgentStatus, heldAlarms, setAgentState, type AgentState, type AgentStatus } from '../store/agents.js';

export type StateRequest = { ok: true; status: AgentStatus } | { ok: false; heldAlarms: number[] };

export class AgentStates {
  private timer?: NodeJS.Timeout;
  /** called with agents that just became ready, so a waiting alarm can go to them at once */
  onReady?: (userIds: number[]) => void;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly wrapUpS: number,
    private readonly log?: Logger,
  ) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.sweep(new Date()).catch((e) => this.log?.warn({ err: e }, 'wrap-up sweep failed; will retry')), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  emit(s: AgentStatus): void {
    this.bus.emit('agent.changed', { userId: s.userId, state: s.state, extension: s.extension, wrapUpUntil: s.wrapUpUntil ? new Date(s.wrapUpUntil).toISOString() : null, reason: s.reason ?? null });
    if (s.state === 'ready' && s.signedIn) this.onReady?.([s.userId]);
  }

  /** Wrap-up (or ready at once when WRAP_UP_S is 0), with its end stored so a restart keeps the timer. */
  private wrapUp(c: Queryable, userId: number, now = new Date()): Promise<AgentStatus> {
    if (this.wrapUpS === 0) return setAgentState(c, userId, 'ready');
    return setAgentState(c, userId, 'wrap_up', { wrapUpUntil: new Date(now.getTime() + this.wrapUpS * 1000) });
  }

  /** After an accept, inside its transaction. The phone's on_call wins until the call ends. */
  async accepted(c: Queryable, userId: number): Promise<AgentStatus | undefined> {
    const cur = await getAgentStatus(c, userId);
    if (!cur?.signedIn || cur.state === 'on_call' || cur.state === 'handling') return undefined;
    return setAgentState(c, userId, 'handling');
  }

  /** After a resolve or release, inside its transaction: wrap-up once the agent holds nothing else. */
  async putDown(c: Queryable, userId: number): Promise<AgentStatus | undefined> {
    const cur = await getAgentStatus(c, userId);
    if (!cur?.signedIn || cur.state !== 'handling') return undefined;
    if ((await heldAlarms(c, userId)).length) return undefined;
    return this.wrapUp(c, userId);
  }

  /** The agent's phone changed (telephony): on a call → on_call; hung up → handling while an alarm is held, else wrap-up. */
  async phone(userId: number, onCall: boolean): Promise<AgentStatus | undefined> {
    const s = await tx(this.db, async (c) => {
      const cur = await getAgentStatus(c, userId);
      if (!cur?.signedIn) return undefined;
      if (onCall) return cur.state === 'on_call' ? undefined : setAgentState(c, userId, 'on_call');
      if (cur.state !== 'on_call') return undefined;
      return (await heldAlarms(c, userId)).length ? setAgentState(c, userId, 'handling') : this.wrapUp(c, userId);
    });
    if (s) this.emit(s);
    return s;
  }

  /** Hotline ACD (issue 19): the agent's phone rings with a hotline call (振铃); only a ready agent is taken. */
  async ringing(userId: number): Promise<AgentStatus | undefined> {
    return this.change(userId, (cur) => (cur.state === 'ready' ? { state: 'ringing' } : undefined));
  }

  /** The agent was rung and did not take the call: 置忙 with the reason (no_answer, busy, rejected, failed). */
  async missed(userId: number, reason: string): Promise<AgentStatus | undefined> {
    return this.change(userId, (cur) => (cur.state === 'ringing' || cur.state === 'ready' ? { state: 'not_ready', reason } : undefined));
  }

  /** The caller gave up while this agent's phone rang (not the agent's miss): ready again, their place kept. */
  async ringCancelled(userId: number): Promise<AgentStatus | undefined> {
    return this.change(userId, (cur) => (cur.state === 'ringing' ? { state: 'ready' } : undefined));
  }

  private async change(userId: number, next: (cur: AgentStatus) => { state: AgentState; reason?: string } | undefined): Promise<AgentStatus | undefined> {
    const s = await tx(this.db, async (c) => {
      const cur = await getAgentStatus(c, userId, true);
      const n = cur?.signedIn ? next(cur) : undefined;
      return n ? setAgentState(c, userId, n.state, n.reason ? { reason: n.reason } : {}) : undefined;
    });
    if (s) this.emit(s);
    return s;
  }

  /**
   * The agent asks for a state. Ready while holding an alarm is refused: the next alarm must not pop to someone
   * still working one. Wrap-up gets its timer; ready during wrap-up ends it early.
   */
  async request(userId: number, state: AgentState, patch: { extension?: string | null; signedIn?: boolean } = {}): Promise<StateRequest> {
    const r = await tx(this.db, async (c): Promise<StateRequest> => {
      const held = await heldAlarms(c, userId);
      if (state === 'ready' && held.length) return { ok: false, heldAlarms: held };
      const s =
        state === 'wrap_up' && this.wrapUpS > 0
          ? await setAgentState(c, userId, 'wrap_up', { ...patch, wrapUpUntil: new Date(Date.now() + this.wrapUpS * 1000) })
          : await setAgentState(c, userId, state === 'wrap_up' ? 'ready' : state, patch);
      return { ok: true, status: s };
    });
    if (r.ok) this.emit(r.status);
    return r;
  }

  /** Ends wrap-ups whose time is up. */
  async sweep(now: Date): Promise<AgentStatus[]> {
    const changed = await endDueWrapUps(this.db, now);
    for (const s of changed) this.emit(s);
    return changed;
  }
}
