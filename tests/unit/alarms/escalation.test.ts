import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ESCALATION_PLAN,
  escalationActive,
  nextDue,
  planSteps,
  resolveEscalationPlan,
  stepsDue,
  type EscalationPlan,
} from '../../../alarms/index.ts';

const raisedAt = new Date('2025-03-01T02:00:00Z');
const at = (s: number) => new Date(raisedAt.getTime() + s * 1000);

describe('escalation plan', () => {
  it('default plan is the architecture’s', () => {
    expect(DEFAULT_ESCALATION_PLAN).toEqual({
      steps: [
        { atS: 0, action: 'present_longest_idle' },
        { atS: 30, action: 'present_all_and_alert_supervisor' },
        { atS: 60, action: 'callback_and_cascade' },
      ],
      cascade: { rounds: 2, ringTimeoutS: 30, acceptDigit: '1' },
      callbackElder: true,
    });
  });

  it('plans deadlines from raisedAt', () => {
    expect(planSteps(DEFAULT_ESCALATION_PLAN, raisedAt)).toEqual([
      { index: 0, action: 'present_longest_idle', dueAt: at(0) },
      { index: 1, action: 'present_all_and_alert_supervisor', dueAt: at(30) },
      { index: 2, action: 'callback_and_cascade', dueAt: at(60) },
    ]);
  });

  it('steps come due in order and a done step is never returned again (restart-safe)', () => {
    const done: number[] = []; // what the database holds
    const run = (now: Date) => {
      const due = stepsDue(DEFAULT_ESCALATION_PLAN, raisedAt, done, now);
      for (const s of due) done.push(s.index); // done + committed
      return due.map((s) => s.action);
    };
    expect(run(at(0))).toEqual(['present_longest_idle']);
    expect(run(at(10))).toEqual([]);
    expect(nextDue(DEFAULT_ESCALATION_PLAN, raisedAt, done)).toMatchObject({ index: 1, dueAt: at(30) });
    expect(run(at(29.999))).toEqual([]);
    expect(run(at(30))).toEqual(['present_all_and_alert_supervisor']);
    // the process restarts here; `done` comes back from the database
    const reloaded = JSON.parse(JSON.stringify(done)) as number[];
    expect(stepsDue(DEFAULT_ESCALATION_PLAN, raisedAt, reloaded, at(45))).toEqual([]);
    expect(stepsDue(DEFAULT_ESCALATION_PLAN, raisedAt, reloaded, at(61)).map((s) => s.index)).toEqual([2]);
    done.push(2);
    expect(nextDue(DEFAULT_ESCALATION_PLAN, raisedAt, done)).toBeNull();
    expect(stepsDue(DEFAULT_ESCALATION_PLAN, raisedAt, done, at(3600))).toEqual([]);
  });

  it('after an outage every overdue step is returned once, in order', () => {
    expect(stepsDue(DEFAULT_ESCALATION_PLAN, raisedAt, [], at(120)).map((s) => s.index)).toEqual([0, 1, 2]);
    expect(stepsDue(DEFAULT_ESCALATION_PLAN, raisedAt, [1], at(120)).map((s) => s.index)).toEqual([0, 2]);
  });

  it('orders out-of-order plans by time, keeping plan indexes', () => {
    const plan: EscalationPlan = {
      ...DEFAULT_ESCALATION_PLAN,
      steps: [
        { atS: 90, action: 'callback_and_cascade' },
        { atS: 0, action: 'present_all_and_alert_supervisor' },
      ],
    };
    expect(planSteps(plan, raisedAt).map((s) => s.index)).toEqual([1, 0]);
    expect(nextDue(plan, raisedAt, [1])).toMatchObject({ index: 0, action: 'callback_and_cascade' });
  });

  it('escalation stops once accepted', () => {
    expect(escalationActive('raised')).toBe(true);
    expect(escalationActive('presented')).toBe(true);
    for (const s of ['accepted', 'in_progress', 'resolved', 'followed_up', 'closed', 'cleared'] as const) expect(escalationActive(s)).toBe(false);
  });

  it('per-elder overrides are merged and validated', () => {
    const ok = resolveEscalationPlan(DEFAULT_ESCALATION_PLAN, { callbackElder: false, cascade: { rounds: 3 } });
    expect(ok).toMatchObject({ ok: true, plan: { callbackElder: false, cascade: { rounds: 3, ringTimeoutS: 30, acceptDigit: '1' } } });
    const bad = resolveEscalationPlan(DEFAULT_ESCALATION_PLAN, { steps: [{ atS: -1, action: 'page_everyone' }], cascade: { acceptDigit: '12' } });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.map((e) => e.path).sort()).toEqual(['/cascade/acceptDigit', '/steps/0/action', '/steps/0/atS']);
  });
});
