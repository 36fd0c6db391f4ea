/** Work orders' service levels (workorders/sla.ts): which checks a dispatch starts, when one is missed, overrides. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SLA, resolveSla, slaDeadlines, slaMissed } from '../../../workorders/index.ts';

const at = new Date('2026-12-06T10:00:00Z');

describe('slaDeadlines', () => {
  it('an emergency dispatch starts accept (5 min) and on-site (30 min) checks tied to that dispatch', () => {
    expect(slaDeadlines({ type: 'emergency', dispatchedAt: at })).toEqual([
      { check: 'accept', dueAt: new Date('2026-12-06T10:05:00Z'), dispatchedAt: at.toISOString() },
      { check: 'on_site', dueAt: new Date('2026-12-06T10:30:00Z'), dispatchedAt: at.toISOString() },
    ]);
  });

  it('desk orders and undispatched orders start none', () => {
    expect(slaDeadlines({ type: 'enquiry', dispatchedAt: at })).toEqual([]);
    expect(slaDeadlines({ type: 'complaint', dispatchedAt: at })).toEqual([]);
    expect(slaDeadlines({ type: 'emergency', dispatchedAt: null })).toEqual([]);
  });
});

describe('slaMissed', () => {
  const iso = at.toISOString();
  it('accept is missed only while the order still waits on that dispatch', () => {
    expect(slaMissed({ state: 'dispatched', dispatchedAt: at }, 'accept', iso)).toBe(true);
    expect(slaMissed({ state: 'accepted', dispatchedAt: at }, 'accept', iso)).toBe(false);
    expect(slaMissed({ state: 'cancelled', dispatchedAt: at }, 'accept', iso)).toBe(false);
  });

  it('on site is missed while dispatched or accepted, not once there or done', () => {
    expect(slaMissed({ state: 'accepted', dispatchedAt: at }, 'on_site', iso)).toBe(true);
    expect(slaMissed({ state: 'dispatched', dispatchedAt: at }, 'on_site', iso)).toBe(true);
    for (const state of ['on_site', 'done', 'replied', 'followed_up', 'archived'] as const) expect(slaMissed({ state, dispatchedAt: at }, 'on_site', iso)).toBe(false);
  });

  it('a reassigned order (a new dispatch) or one back in the pool is not held to the old dispatch', () => {
    expect(slaMissed({ state: 'dispatched', dispatchedAt: new Date(at.getTime() + 60_000) }, 'accept', iso)).toBe(false);
    expect(slaMissed({ state: 'received', dispatchedAt: null }, 'accept', iso)).toBe(false);
  });
});

describe('resolveSla (WORK_ORDER_SLA)', () => {
  it('changes one number and keeps the rest; null drops a check', () => {
    const { targets, problems } = resolveSla('{"emergency":{"accept":{"withinS":120}},"service":{"on_site":null}}');
    expect(problems).toEqual([]);
    expect(targets.emergency.accept).toEqual({ withinS: 120, escalate: true });
    expect(targets.emergency.on_site).toEqual(DEFAULT_SLA.emergency.on_site);
    expect(targets.service.on_site).toBeUndefined();
    expect(targets.service.accept).toEqual(DEFAULT_SLA.service.accept);
    expect(DEFAULT_SLA.service.on_site).toBeDefined(); // the defaults are not changed
  });

  it('lists every problem and keeps the defaults', () => {
    const r = resolveSla({ emergancy: {}, emergency: { accept: { withinS: -1 }, arrive: {} }, service: { on_site: { withinS: 60, escalate: 'yes' } } });
    expect(r.targets).toBe(DEFAULT_SLA);
    expect(r.problems).toEqual([
      expect.stringContaining('unknown work-order type "emergancy"'),
      expect.stringContaining('WORK_ORDER_SLA.emergency.accept.withinS'),
      expect.stringContaining('WORK_ORDER_SLA.emergency.arrive: unknown check'),
      expect.stringContaining('WORK_ORDER_SLA.service.on_site.escalate'),
    ]);
    expect(resolveSla('{not json').problems).toEqual(['WORK_ORDER_SLA is not JSON']);
    expect(resolveSla(undefined)).toEqual({ targets: DEFAULT_SLA, problems: [] });
  });
});
