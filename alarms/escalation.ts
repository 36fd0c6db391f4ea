/**
 * The response plan (architecture.md, "Escalation") as data, and pure deadline arithmetic.
 *
 * The caller stores, per alarm, the plan it started with, the time it started (raisedAt) and the
 * indexes of the steps it has done, in the same transaction as the work. After a restart it asks
 * `stepsDue` again: done steps are never returned twice and overdue ones are not lost.
 *
 * Escalation stops once the alarm is accepted: before doing a step the caller checks
 * `escalationActive(state)` (raised or presented) under the alarm's row lock.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { AlarmState } from './lifecycle.ts';
import { mergeAndValidate, type FieldError } from './merge.ts';

export const ESCALATION_ACTIONS = [
  /** screen-pop to the agent idle the longest, with sound and spoken alert */
  'present_longest_idle',
  /** pop to every logged-in agent and alert the supervisor */
  'present_all_and_alert_supervisor',
  /** call the elder back (if plan.callbackElder) and start the contact cascade through ARI */
  'callback_and_cascade',
] as const;
export type EscalationAction = (typeof ESCALATION_ACTIONS)[number];

export const EscalationStepSchema = Type.Object(
  {
    /** seconds after the alarm was raised */
    atS: Type.Number({ minimum: 0 }),
    action: Type.Union(ESCALATION_ACTIONS.map((a) => Type.Literal(a))),
  },
  { additionalProperties: false },
);

export const EscalationPlanSchema = Type.Object(
  {
    steps: Type.Array(EscalationStepSchema, { minItems: 1 }),
    cascade: Type.Object(
      {
        /** times round the contact list */
        rounds: Type.Integer({ minimum: 1 }),
        /** how long each contact rings before the next one */
        ringTimeoutS: Type.Number({ exclusiveMinimum: 0 }),
        /** the DTMF digit a contact presses to accept responsibility */
        acceptDigit: Type.String({ pattern: '^[0-9*#]$' }),
      },
      { additionalProperties: false },
    ),
    /** call the elder back before the cascade */
    callbackElder: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type EscalationStep = Static<typeof EscalationStepSchema>;
export type EscalationPlan = Static<typeof EscalationPlanSchema>;

export const DEFAULT_ESCALATION_PLAN: EscalationPlan = Object.freeze({
  steps: [
    { atS: 0, action: 'present_longest_idle' },
    { atS: 30, action: 'present_all_and_alert_supervisor' },
    { atS: 60, action: 'callback_and_cascade' },
  ],
  cascade: { rounds: 2, ringTimeoutS: 30, acceptDigit: '1' },
  callbackElder: true,
}) as EscalationPlan;

export interface PlannedStep {
  /** index in plan.steps: the identity the caller records as done */
  index: number;
  action: EscalationAction;
  dueAt: Date;
}

/** Every step with its deadline, in the order they fall due (ties: plan order). */
export function planSteps(plan: EscalationPlan, raisedAt: Date): PlannedStep[] {
  const t0 = raisedAt.getTime();
  return plan.steps
    .map((s, index) => ({ index, action: s.action, dueAt: new Date(t0 + s.atS * 1000) }))
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.index - b.index);
}

/** The next step not yet done (due or not), or null when all are done: arm a timer for its dueAt. */
export function nextDue(plan: EscalationPlan, raisedAt: Date, doneIndexes: readonly number[]): PlannedStep | null {
  const done = new Set(doneIndexes);
  return planSteps(plan, raisedAt).find((s) => !done.has(s.index)) ?? null;
}

/** Steps not yet done whose deadline is at or before `now`, in order (after a long outage there may be several). */
export function stepsDue(plan: EscalationPlan, raisedAt: Date, doneIndexes: readonly number[], now: Date): PlannedStep[] {
  const done = new Set(doneIndexes);
  const t = now.getTime();
  return planSteps(plan, raisedAt).filter((s) => !done.has(s.index) && s.dueAt.getTime() <= t);
}

/** Escalation runs only while nobody owns the alarm (raised or presented). */
export function escalationActive(state: AlarmState): boolean {
  return state === 'raised' || state === 'presented';
}

export type ResolvePlanResult = { ok: true; plan: EscalationPlan } | { ok: false; errors: FieldError[] };

/** Merge a per-elder override onto a plan (JSON Merge Patch: `steps` replaces as a whole) and validate. */
export function resolveEscalationPlan(defaults: EscalationPlan, override: unknown): ResolvePlanResult {
  const r = mergeAndValidate(EscalationPlanSchema, defaults, override, () => []);
  return r.ok ? { ok: true, plan: r.value } : r;
}
