/**
 * Escalation's transactions: one pass over the alarms whose next step is due, and the offer of a waiting alarm to
 * an agent who just became ready. Each step and its "done" mark are one transaction under the row lock. Pure of the
 * bus: what happened comes back as effects, which the escalator applies after COMMIT. Like commit-tx.ts, these run
 * on the alarm commit thread (a screen-pop's round trips do not wait behind device traffic, issue 25), or
 * in-process when the thread is off.
 */
import { escalationActive, nextDue, stepsDue, transition, type AlarmState, type EscalationPlan, type PlannedStep } from '../../alarms/index.js';
import { tx, type Db, type Queryable } from '../store/db.js';
import { addEvent, lockDueEscalations, lockWaitingFor, presentAlarm, updateAlarm, type Alarm } from '../store/alarms.js';
import { requestCallback } from '../store/alarm-callbacks.js';
import { longestIdleReady, signedInAgents, supervisorIds, wrapUpAgents } from '../store/agents.js';

export type Effect =
  | { kind: 'present'; alarm: Alarm; userIds: number[]; step: string }
  | { kind: 'supervisor'; alarm: Alarm; reason: string }
  | { kind: 'callback'; alarm: Alarm; plan: EscalationPlan };

export interface EscalationPass {
  /** alarms whose deadline had passed (0: nothing more is due) */
  due: number;
  /** the actions of the steps performed, in order */
  steps: string[];
  effects: Effect[];
}

/**
 * `online`: the users with a dashboard open (supervisors are alerted only when one is looking); null when nobody
 * tracks it, and then every supervisor counts as looking.
 */
export async function escalateInDb(db: Db, now: Date, online: number[] | null, ids?: number[]): Promise<EscalationPass> {
  const pass: EscalationPass = { due: 0, steps: [], effects: [] };
  const looking = online ? new Set(online) : null;
  await tx(db, async (c) => {
    const due = await lockDueEscalations(c, now, 20, ids);
    pass.due = due.length;
    for (const a of due) await advance(c, a, now, pass, looking);
  });
  return pass;
}

/**
 * Passes until nothing is due, as one (the commit thread, right after a commit that raised alarms). `ids`: only
 * those alarms. The commit thread passes the ones just raised: with hundreds of alarms open, older alarms' steps
 * fall due all the time, and a pass takes the earliest due first, so a new alarm's screen-pop waited behind them
 * (issue 25: 1.3 s at p99 beyond its ack at 30,000 reports/s). The escalator's own pass (every second) takes the rest.
 */
export async function escalateDue(db: Db, now: Date, online: number[] | null, ids?: number[]): Promise<EscalationPass> {
  const all: EscalationPass = { due: 0, steps: [], effects: [] };
  for (;;) {
    const pass = await escalateInDb(db, now, online, ids);
    if (pass.due === 0) return all;
    all.due += pass.due;
    all.steps.push(...pass.steps);
    all.effects.push(...pass.effects);
  }
}

async function advance(c: Queryable, a: Alarm, now: Date, pass: EscalationPass, looking: Set<number> | null): Promise<void> {
  const plan = a.plan as unknown as EscalationPlan | null;
  if (!plan || !a.escStartedAt || !escalationActive(a.state as AlarmState)) {
    await updateAlarm(c, a.id, { nextStepAt: null });
    return;
  }
  const steps = stepsDue(plan, a.escStartedAt, a.escDone, now);
  let alarm = a;
  for (const step of steps) alarm = await perform(c, alarm, step, plan, pass, looking);
  const done = [...new Set([...a.escDone, ...steps.map((s) => s.index)])].sort((x, y) => x - y);
  const next = nextDue(plan, a.escStartedAt, done);
  await updateAlarm(c, alarm.id, { escDone: done, nextStepAt: next?.dueAt ?? null });
}

async function perform(c: Queryable, alarm: Alarm, step: PlannedStep, plan: EscalationPlan, pass: EscalationPass, looking: Set<number> | null): Promise<Alarm> {
  pass.steps.push(step.action);
  if (step.action === 'callback_and_cascade') {
    await addEvent(c, alarm.id, 'system', 'callback_requested', alarm.state, alarm.state, { step: step.index });
    // durable, with the step: the node holding telephony runs it, even one that takes over later (alarm-callbacks.ts)
    await requestCallback(c, alarm.id, plan);
    pass.effects.push({ kind: 'callback', alarm, plan });
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
    const leads = (await supervisorIds(c)).filter((id) => !looking || looking.has(id));
    targets = [...new Set([...(await wrapUpAgents(c)).map((x) => x.userId), ...leads])];
    alertLeads = true;
  } else if (!targets.length) reason = 'no_agent_ready';
  return present(c, alarm, targets, step.action, pass.effects, { reason, alertLeads });
}

/** Presents an alarm to users (a screen-pop), with a timeline row that names them or says nobody was ready. */
async function present(c: Queryable, alarm: Alarm, targets: number[], step: string, effects: Effect[], o: { reason?: string; alertLeads?: boolean }): Promise<Alarm> {
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
export async function offerInDb(db: Db, userIds: number[]): Promise<{ offered: number; effects: Effect[] }> {
  const effects: Effect[] = [];
  let offered = 0;
  await tx(db, async (c) => {
    for (const userId of userIds) {
      const ready = await longestIdleReady(c);
      if (!ready) return;
      if (ready.userId !== userId) continue; // someone idle longer comes first; they get theirs on their own turn
      const waiting = await lockWaitingFor(c, userId);
      if (!waiting) return;
      await present(c, waiting, [userId], 'agent_ready', effects, {});
      offered++;
    }
  });
  return { offered, effects };
}
