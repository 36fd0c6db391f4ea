import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALARM_KINDS } from '../../../protocols/message.ts';
import {
  ACTIONS,
  ALARM_STATES,
  OUTCOME_CODES,
  alarmClassOf,
  allowedActions,
  isOpen,
  isTerminal,
  transition,
  type AlarmAction,
  type AlarmClass,
  type AlarmState,
} from '../../../alarms/index.ts';

/** The allowed table, written from the brief independently of the implementation. */
const OPERATOR_EDGES: [AlarmState, AlarmAction, AlarmState][] = [
  ['raised', 'present', 'presented'],
  ['raised', 'note', 'raised'],
  ['presented', 'present', 'presented'],
  ['presented', 'accept', 'accepted'],
  ['presented', 'note', 'presented'],
  ['accepted', 'start', 'in_progress'],
  ['accepted', 'note', 'in_progress'],
  ['accepted', 'release', 'presented'],
  ['in_progress', 'note', 'in_progress'],
  ['in_progress', 'release', 'presented'],
  ['in_progress', 'resolve', 'resolved'],
  ['resolved', 'note', 'resolved'],
  ['resolved', 'follow_up', 'followed_up'],
  ['resolved', 'close', 'closed'],
  ['followed_up', 'note', 'followed_up'],
  ['followed_up', 'close', 'closed'],
];
const CONDITION_EDGES: [AlarmState, AlarmAction, AlarmState][] = [
  ...OPERATOR_EDGES,
  ['raised', 'clear', 'cleared'],
  ['presented', 'clear', 'cleared'],
];
const edgesFor = (c: AlarmClass) => (c === 'condition' ? CONDITION_EDGES : OPERATOR_EDGES);
const edge = (c: AlarmClass, s: AlarmState, a: AlarmAction) => edgesFor(c).find(([f, x]) => f === s && x === a);
const TERMINALS: AlarmState[] = ['closed', 'cleared'];

const stepArb = fc.record({
  action: fc.constantFrom(...ACTIONS),
  outcome: fc.option(fc.constantFrom(...Object.keys(OUTCOME_CODES), 'bogus', ''), { nil: undefined }),
  followUpRequired: fc.option(fc.boolean(), { nil: undefined }),
});

describe('lifecycle state machine', () => {
  it('no sequence of actions reaches an illegal state (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom<AlarmClass>('operator', 'condition'), fc.array(stepArb, { maxLength: 40 }), (cls, steps) => {
        let state: AlarmState = 'raised';
        for (const st of steps) {
          const before = state;
          const r = transition(before, st.action, { alarmClass: cls, outcome: st.outcome, followUpRequired: st.followUpRequired });
          const e = edge(cls, before, st.action);
          if (r.ok) {
            // every transition taken is in the allowed table
            expect(e).toBeDefined();
            expect(r.next).toBe(e![2]);
            expect(ALARM_STATES).toContain(r.next);
            if (st.action === 'resolve') expect(Object.keys(OUTCOME_CODES)).toContain(st.outcome);
            if (st.action === 'close' && before === 'resolved') expect(st.followUpRequired).toBe(false);
            state = r.next;
          } else {
            if (TERMINALS.includes(before) || !e) expect(r.code).toBe('illegal_transition');
            if (e && st.action === 'resolve') {
              // resolve without an outcome is refused
              expect(r.code).toBe(st.outcome === undefined || st.outcome === '' ? 'outcome_required' : 'bad_outcome');
            }
            expect(r.message.length).toBeGreaterThan(0);
          }
          // terminal states stay terminal
          if (TERMINALS.includes(before)) expect(state).toBe(before);
          if (cls === 'operator') expect(state).not.toBe('cleared');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('every allowed edge is actually taken (the machine is not stricter than the table)', () => {
    for (const cls of ['operator', 'condition'] as const) {
      for (const [from, action, to] of edgesFor(cls)) {
        const r = transition(from, action, { alarmClass: cls, outcome: 'elder_ok', followUpRequired: false });
        expect(r).toEqual({ ok: true, next: to });
        expect(allowedActions(from, cls)).toContain(action);
      }
      for (const t of TERMINALS) expect(allowedActions(t, cls)).toEqual([]);
    }
  });

  it('resolve needs a known outcome code', () => {
    expect(transition('in_progress', 'resolve', { alarmClass: 'operator' })).toMatchObject({ ok: false, code: 'outcome_required' });
    expect(transition('in_progress', 'resolve', { alarmClass: 'operator', outcome: 'fine' })).toMatchObject({ ok: false, code: 'bad_outcome' });
    expect(transition('in_progress', 'resolve', { alarmClass: 'operator', outcome: 'ambulance_120' })).toEqual({ ok: true, next: 'resolved' });
    expect(transition('presented', 'resolve', { alarmClass: 'operator', outcome: 'ambulance_120' })).toMatchObject({ ok: false, code: 'illegal_transition' });
  });

  it('close from resolved only without required follow-up; note moves accepted to in_progress', () => {
    expect(transition('resolved', 'close', { alarmClass: 'operator' })).toMatchObject({ ok: false, code: 'illegal_transition' });
    expect(transition('resolved', 'close', { alarmClass: 'operator', followUpRequired: false })).toEqual({ ok: true, next: 'closed' });
    expect(transition('accepted', 'note', { alarmClass: 'operator', note: 'called daughter' })).toEqual({ ok: true, next: 'in_progress' });
    expect(transition('presented', 'present', { alarmClass: 'operator' })).toEqual({ ok: true, next: 'presented' });
    expect(transition('raised', 'clear', { alarmClass: 'operator' })).toMatchObject({ ok: false, code: 'illegal_transition' });
    expect(transition('accepted', 'clear', { alarmClass: 'condition' })).toMatchObject({ ok: false, code: 'illegal_transition' });
  });

  it('outcome codes carry zh-CN and en labels', () => {
    expect(Object.keys(OUTCOME_CODES).sort()).toEqual(
      ['accidental_press', 'ambulance_120', 'contact_attended', 'elder_ok', 'police_110', 'service_dispatched', 'test', 'visit_dispatched'].sort(),
    );
    for (const v of Object.values(OUTCOME_CODES)) {
      expect(v.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(v.en.length).toBeGreaterThan(2);
    }
  });

  it('open and terminal states; alarm classes', () => {
    expect(ALARM_STATES.filter(isOpen)).toEqual(['raised', 'presented', 'accepted', 'in_progress']);
    expect(ALARM_STATES.filter(isTerminal)).toEqual(['closed', 'cleared']);
    const condition = ALARM_KINDS.filter((k) => alarmClassOf(k) === 'condition').sort();
    expect(condition).toEqual(
      ['device_silent', 'geofence_exit', 'inactivity', 'low_battery', 'power_cut', 'receiver_silent', 'test_missed', 'vitals_abnormal'].sort(),
    );
    expect(alarmClassOf('sos')).toBe('operator');
    expect(alarmClassOf('one_key_service')).toBe('operator');
  });
});
