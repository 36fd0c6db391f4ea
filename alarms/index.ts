/** Public API of alarms/: pure rules, lifecycle and escalation. gateway/ persists and acts. */
export {
  ALARM_STATES,
  ACTIONS,
  OUTCOME_CODES,
  CONDITION_KINDS,
  transition,
  allowedActions,
  isOpen,
  isTerminal,
  isOutcomeCode,
  alarmClassOf,
  priorityOf,
  type AlarmState,
  type AlarmAction,
  type AlarmClass,
  type OutcomeCode,
  type OutcomeInfo,
  type TransitionOptions,
  type TransitionError,
  type TransitionResult,
} from './lifecycle.ts';

export {
  RuleSetSchema,
  GeofenceSchema,
  VitalRuleSchema,
  VITAL_NAMES,
  resolveRules,
  type RuleSet,
  type Geofence,
  type VitalRule,
  type VitalName,
  type QuietHours,
  type ResolveRulesResult,
} from './rules/schema.ts';
export { DEFAULT_RULES } from './rules/defaults.ts';
export {
  evaluateMessage,
  evaluateTick,
  createRuleState,
  cloneRuleState,
  isSuppressed,
  type RuleState,
  type Raise,
  type EvalResult,
  type EvalOptions,
  type VitalTrack,
  type FenceTrack,
} from './rules/evaluate.ts';
export {
  haversineM,
  signedDistanceM,
  signedDistanceToCircleM,
  signedDistanceToPolygonM,
  pointInPolygon,
  distanceToPolygonEdgesM,
  type LatLon,
  type FenceShape,
} from './rules/geo.ts';
export { inWindow, windowStart, localSecondsOfDay, parseHHMM, isValidTimeZone } from './rules/schedule.ts';

export {
  ESCALATION_ACTIONS,
  EscalationPlanSchema,
  DEFAULT_ESCALATION_PLAN,
  planSteps,
  nextDue,
  stepsDue,
  escalationActive,
  resolveEscalationPlan,
  type EscalationAction,
  type EscalationStep,
  type EscalationPlan,
  type PlannedStep,
  type ResolvePlanResult,
} from './escalation.ts';

export { mergePatch, type FieldError } from './merge.ts';
