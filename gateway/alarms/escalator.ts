/**
 * Escalation runner. Deadlines live in PostgreSQL (alarms.next_step_at, esc_done), so after a restart a
 * step is neither lost nor repeated: each step and its "done" mark are one transaction under the row lock.
 */
import { escalationActive, nextDue, stepsDue, transition, type AlarmState, type EscalationPlan, type PlannedStep } from '../../alarms/index.js';
import type { Bus } from '../bus.js';
import type { Presence } from './presence.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { tx, type Db } from '../store/db.js';
import { addEvent, lockDueEscalations, lockWaitingFor, presentAlarm, updateAlarm, type Alarm } from '../store/alarms.js';
import { requestCallback } from '../store/alarm-callbacks.js';
import { longestIdleReady, signedInAgents, supervisorIds, wrapUpAgents } from '../store/agents.js';

type Effect =
  | { kind: 'present'; alarm: Alarm; userIds: number[]; step: string }
  | { kind: 'supervisor'; alarm: Alarm; reason: string }
  | { kind: 'callback'; alarm: Alarm; plan: EscalationPlan };

export class Escalator {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    /** who has a dashboard open; without it every supervisor counts as looking */
    private readonly presence?: Presence,
  ) {}

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
      const effects: Effect[] = [];
      const n = await tx(this.db, async (c) => {
        const due = await lockDueEscalations(c, now);
        for (const a of due) total += await this.advance(c, a, now, effects);
        return due.length;
      });
      this.apply(effects);
      if (n === 0) return total;
    }
  }

  private async advance(c: Parameters<typeof lockDueEscalations>[0], a: Alarm, now: Date, effects: Effect[]): Promise<number> {
    const plan = a.plan as unknown as EscalationPlan | null;
    if (!plan || !a.escStartedAt || !escalationActive(a.state as AlarmState)) {
      await updateAlarm(c, a.id, { nextStepAt: null });
      return 0;
    }
    const steps = stepsDue(plan, a.escStartedAt, a.escDone, now);
    let alarm = a;
    for (const step of steps) alarm = await this.perform(c, alarm, step, plan, effects);
    const done = [...new Set([...a.escDone, ...steps.map((s) => s.index)])].sort((x, y) => x - y);
    const next = nextDue(plan, a.escStartedAt, done);
    await updateAlarm(c, alarm.id, { escDone: done, nextStepAt: next?.dueAt ?? null });
    return steps.length;
  }

  private async perform(c: Parameters<typeof lockDueEscalations>[0], alarm: Alarm, step: PlannedStep, plan: EscalationPlan, effects: Effect[]): Promise<Alarm> {
    this.metrics.escalationSteps.inc({ action: step.action });
    if (step.action === 'callback_and_cascade') {
      await addEvent(c, alarm.id, 'system', 'callback_requested', alarm.state, alarm.state, { step: step.index });
      // durable, with the step: the node holding telephony runs it, even one that takes over later (alarm-callbacks.ts)
      await requestCallback(c, alarm.id, plan);
      effects.push({ kind: 'callback', alarm, plan });
      return alarm;
    }
    let reason: string | undefined;
    let targets =
      step.action === 'present_longest_idle'
        ? [await longestIdleReady(c)].filter((x) => x !== undefined).map((x) => x.userId)
        : (await signedInAgents(c)).map((x) => x.userId);
    // A P1 that finds nobody ready goes at once to the agents in wrap-up and to the supervisors: it must not wait
    // for the +30 s step (issue 14).
    let alertLeads = step.action === 'present_all_and_alert_supervisor';
    if (!targets.length && step.action === 'present_longest_idle' && alarm.priority === 1) {
      reason = 'no_agent_ready';
      const leads = (await supervisorIds(c)).filter((id) => !this.presence || this.presence.online(id));
      targets = [...new Set([...(await wrapUpAgents(c)).map((x) => x.userId), ...leads])];
      alertLeads = true;
    } else if (!targets.length) reason = 'no_agent_ready';
    return this.present(c, alarm, targets, step.action, effects, { reason, alertLeads, stepIndex: step.index });
  }

  /** Presents an alarm to users (a screen-pop), with a timeline row that names them or says nobody was ready. */
  private async present(
    c: Parameters<typeof lockDueEscalations>[0],
    alarm: Alarm,
    targets: number[],
    step: string,
    effects: Effect[],
    o: { reason?: string; alertLeads?: boolean; stepIndex?: number },
  ): Promise<Alarm> {
    let state = alarm.state;
    if (targets.length && state === 'raised') {
      const t = transition('raised', 'present', { alarmClass: alarm.alarmClass });
      if (t.ok) state = t.next;
    }
    const updated = await presentAlarm(c, alarm.id, {
      from: alarm.state,
      state,
      presentedTo: [...new Set([...alarm.presentedTo, ...targets])],
      targets,
      detail: { step, to: targets, ...(o.reason ? { reason: o.reason } : {}) },
    });
    effects.push({ kind: 'present', alarm: updated, userIds: targets, step });
    if (o.alertLeads) effects.push({ kind: 'supervisor', alarm: updated, reason: o.reason ?? 'not accepted in time' });
    return updated;
  }

  /**
   * Agents who just became ready (wrap-up over, back from a break) get the most urgent alarm nobody was given yet,
   * at once, instead of waiting for the next escalation step.
   */
  async offer(userIds: number[]): Promise<number> {
    const effects: Effect[] = [];
    let n = 0;
    await tx(this.db, async (c) => {
      for (const userId of userIds) {
        const ready = await longestIdleReady(c);
        if (!ready) return;
        if (ready.userId !== userId) continue; // someone idle longer comes first; they get theirs on their own turn
        const waiting = await lockWaitingFor(c, userId);
        if (!waiting) return;
        await this.present(c, waiting, [userId], 'agent_ready', effects, {});
        n++;
      }
    });
    this.apply(effects);
    return n;
  }

  private apply(effects: Effect[]): void {
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
