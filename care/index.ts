/** Public API of care/ (issue 22): care schedules' runs, call attempts, the agents' daily list. Pure; gateway/care/ stores and acts. */
export {
  dateOfDay,
  dayNumber,
  inWindow,
  isLocalDate,
  localDate,
  localTime,
  localToInstant,
  nextOccurrence,
  normaliseTimes,
  occurrences,
  runsOn,
  validateRule,
  type Clock,
  type Occurrence,
  type Recurrence,
  type RuleProblem,
  type ScheduleRule,
} from './schedule.ts';
export { ATTEMPT_OUTCOMES, decideAfterAttempt, missedStreaks, type AttemptDecision, type AttemptOutcome, type MissedStreak } from './attempts.ts';
export { CARE_TASK_REASONS, birthdaysOn, type CareTaskReason } from './due.ts';
