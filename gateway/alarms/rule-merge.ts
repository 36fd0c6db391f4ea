/**
 * Merging a device's rule state saved by another gateway node into this node's copy (issue 24, scale-out).
 *
 * Each node evaluates the messages of the devices connected to it; one node, the leader, runs the time-based rules
 * for every device. So two copies of a state meet: the one of the node that handles the device's messages (its
 * authority on what the device said) and the one of the leader (its authority on what the time-based rules raised).
 * The time fields are facts (the device was seen, active, tested then): the later one wins on both sides. A kind
 * the time-based rules raise (silent, inactivity, missed test) that one copy has active and the other not is over
 * when the copy without it saw the matching fact later (the device spoke, moved, tested after what the other copy
 * knew): it is cleared; otherwise the copy without it had just not heard of it, and it is kept active. Unsure
 * cases keep a kind active only when no later fact says it is over, so a kind is never left active on a device
 * whose alarm was cleared (that would hide its next alarm).
 */
import { cloneRuleState, type RuleState } from '../../alarms/index.js';
import type { AlarmKind } from '../../protocols/message.js';

type TimeField = 'lastSeenAt' | 'lastActivityAt' | 'lastTestAt';
const TIME_FIELDS: TimeField[] = ['lastSeenAt', 'lastActivityAt', 'lastTestAt'];

/** The kinds the time-based rules raise, with the fact that ends each one. */
const TICK_KINDS: [AlarmKind, TimeField][] = [
  ['device_silent', 'lastSeenAt'],
  ['receiver_silent', 'lastSeenAt'],
  ['inactivity', 'lastActivityAt'],
  ['test_missed', 'lastTestAt'],
];

const later = (a: number | undefined, b: number | undefined): boolean => a !== undefined && (b === undefined || a > b);

/** Whether `row` knows a later fact about the device than `ours` does. */
export function knowsLater(row: RuleState, ours: RuleState): boolean {
  return TIME_FIELDS.some((f) => later(row[f], ours[f]));
}

export interface Merged {
  state: RuleState;
  /** kinds one copy had active that the other shows over: their open alarms are to be cleared */
  clear: AlarmKind[];
  /** whether the saved state was taken as the base (this node's copy was behind) */
  adopted: boolean;
}

/**
 * Merges `row` (saved by another node) into `ours`. `authority`: this node handles the device's messages now, so
 * its copy is the base whatever the row says; otherwise the row is the base when it knows a later fact.
 * Neither input is modified.
 */
export function mergeRuleState(ours: RuleState | undefined, row: RuleState, authority: boolean): Merged {
  if (!ours) return { state: cloneRuleState(row), clear: [], adopted: true };
  const adopted = !authority && knowsLater(row, ours);
  const into = cloneRuleState(adopted ? row : ours);
  const other = adopted ? ours : row;
  const clear: AlarmKind[] = [];
  for (const [kind, fact] of TICK_KINDS) {
    if (!other.active.includes(kind) || into.active.includes(kind)) continue;
    if (later(into[fact], other[fact])) clear.push(kind);
    else into.active.push(kind);
  }
  // the tests counted as missed belong to the latest test known; on the same test, the most periods reported
  if (later(other.lastTestAt, into.lastTestAt)) into.testMissedReported = other.testMissedReported;
  else if (other.lastTestAt === into.lastTestAt) into.testMissedReported = Math.max(into.testMissedReported, other.testMissedReported);
  for (const f of TIME_FIELDS) if (later(other[f], into[f])) into[f] = other[f];
  return { state: into, clear, adopted };
}
