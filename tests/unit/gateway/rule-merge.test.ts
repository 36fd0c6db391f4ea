import { describe, expect, it } from 'vitest';
import { createRuleState, type RuleState } from '../../../alarms/index.js';
import { knowsLater, mergeRuleState } from '../../../gateway/alarms/rule-merge.js';

const T0 = new Date('2025-03-01T08:00:00Z');
const min = 60_000;
const state = (over: Partial<RuleState>): RuleState => ({ ...createRuleState(T0), ...over });

describe('merging a rule state saved by another node', () => {
  it('takes the saved state when it knows a later fact and this node is not the authority', () => {
    const ours = state({ lastSeenAt: T0.getTime(), active: ['low_battery'] });
    const row = state({ lastSeenAt: T0.getTime() + 10 * min, active: [] });
    const m = mergeRuleState(ours, row, false);
    expect(m).toMatchObject({ adopted: true, clear: [] });
    expect(m.state.active).toEqual([]);
    expect(m.state.lastSeenAt).toBe(row.lastSeenAt);
    // neither input is modified
    expect(ours.active).toEqual(['low_battery']);
  });

  it('keeps its own copy as the base while it handles the device, with the later time fields of both', () => {
    const ours = state({ lastSeenAt: T0.getTime() + 5 * min, active: ['low_battery'] });
    const row = state({ lastSeenAt: T0.getTime(), lastActivityAt: T0.getTime() + 6 * min, active: [] });
    const m = mergeRuleState(ours, row, true);
    expect(m.adopted).toBe(false);
    expect(m.state.active).toEqual(['low_battery']);
    expect(m.state.lastActivityAt).toBe(T0.getTime() + 6 * min);
    expect(m.state.lastSeenAt).toBe(T0.getTime() + 5 * min);
  });

  it('the leader raised device_silent; the other node saw the device after: cleared, not kept', () => {
    const leader = state({ lastSeenAt: T0.getTime(), active: ['device_silent'] });
    const other = state({ lastSeenAt: T0.getTime() + 30 * min, active: [] });
    const m = mergeRuleState(leader, other, false);
    expect(m.clear).toEqual(['device_silent']);
    expect(m.state.active).toEqual([]);
  });

  it('the saved state has not heard of a kind the leader raised (no later fact): kept active', () => {
    const leader = state({ lastSeenAt: T0.getTime(), lastActivityAt: T0.getTime(), active: ['inactivity'] });
    // a later message without activity (lastSeenAt moved, lastActivityAt did not)
    const other = state({ lastSeenAt: T0.getTime() + 30 * min, lastActivityAt: T0.getTime(), active: [] });
    const m = mergeRuleState(leader, other, false);
    expect(m.adopted).toBe(true);
    expect(m.clear).toEqual([]);
    expect(m.state.active).toEqual(['inactivity']);
  });

  it('a node about to handle the device takes over the device_silent the leader raised, unless it saw the device since', () => {
    const row = state({ lastSeenAt: T0.getTime(), active: ['device_silent'] });
    const same = mergeRuleState(state({ lastSeenAt: T0.getTime(), active: [] }), row, true);
    expect(same.state.active).toEqual(['device_silent']);
    expect(same.clear).toEqual([]);
    const seenSince = mergeRuleState(state({ lastSeenAt: T0.getTime() + min, active: [] }), row, true);
    expect(seenSince.state.active).toEqual([]);
    expect(seenSince.clear).toEqual(['device_silent']);
  });

  it('missed tests: the count of the latest test known, or the larger count for the same test', () => {
    const t = T0.getTime();
    expect(mergeRuleState(state({ lastTestAt: t, testMissedReported: 2 }), state({ lastTestAt: t, testMissedReported: 1 }), true).state.testMissedReported).toBe(2);
    expect(mergeRuleState(state({ lastTestAt: t, testMissedReported: 2 }), state({ lastTestAt: t + min, testMissedReported: 0 }), true).state.testMissedReported).toBe(0);
  });

  it('an unknown device takes the saved state as it is; knowsLater compares the facts only', () => {
    const row = state({ lastSeenAt: T0.getTime(), active: ['low_battery'] });
    expect(mergeRuleState(undefined, row, false)).toMatchObject({ adopted: true, clear: [], state: row });
    expect(knowsLater(row, state({ lastSeenAt: T0.getTime() }))).toBe(false);
    expect(knowsLater(state({ lastTestAt: 1 }), state({ lastSeenAt: T0.getTime() }))).toBe(true);
  });
});
