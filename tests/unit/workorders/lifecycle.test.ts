import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  WORK_ORDER_ACTIONS,
  WORK_ORDER_STATES,
  WORK_ORDER_TYPES,
  allowedActions,
  applyPatch,
  decide,
  isFinal,
  type ActionInput,
  type OrderSnapshot,
  type WorkOrderAction,
  type WorkOrderState,
  type WorkOrderType,
} from '../../../workorders/index.ts';

/** The allowed edges, written from the brief independently of the implementation. */
const EDGES: [WorkOrderState, WorkOrderAction, WorkOrderState][] = [
  ['received', 'dispatch', 'dispatched'],
  ['dispatched', 'accept', 'accepted'],
  ['accepted', 'arrive', 'on_site'],
  ['on_site', 'done', 'done'],
  ['done', 'reply', 'replied'],
  ['replied', 'follow_up', 'followed_up'],
  ['followed_up', 'archive', 'archived'],
  ['dispatched', 'reassign', 'dispatched'],
  ['dispatched', 'reassign', 'received'],
  ['accepted', 'reassign', 'dispatched'],
  ['accepted', 'reassign', 'received'],
  ...(['received', 'dispatched', 'accepted', 'on_site', 'done', 'replied', 'followed_up'] as const).map((s) => [s, 'cancel', 'cancelled'] as [WorkOrderState, WorkOrderAction, WorkOrderState]),
];
/** Desk orders (enquiry, complaint) may also be done by the agent straight from received. */
const DESK_EDGE: [WorkOrderState, WorkOrderAction, WorkOrderState] = ['received', 'done', 'done'];
const edgesFor = (t: WorkOrderType) => (t === 'enquiry' || t === 'complaint' ? [...EDGES, DESK_EDGE] : EDGES);
const FINALS: WorkOrderState[] = ['archived', 'cancelled'];
const NOW = new Date('2026-12-06T10:00:00Z');

const fresh = (type: WorkOrderType): OrderSnapshot & { cancelReason?: string | null } => ({ type, state: 'received', stationId: null, staffId: null, result: null, satisfaction: null });

const inputArb: fc.Arbitrary<ActionInput> = fc.record(
  {
    stationId: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    staffId: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    result: fc.constantFrom('fixed the tap', '', '   ', '<script>x</script>'),
    satisfaction: fc.constantFrom(0, 1, 3, 5, 6, 2.5, -1),
    comment: fc.constantFrom('ok', ''),
    reason: fc.constantFrom('duplicate', '', ' '),
  },
  { requiredKeys: [] },
);
const stepArb = fc.record({ action: fc.constantFrom(...WORK_ORDER_ACTIONS), input: inputArb });

/** What must hold of every order the lifecycle can produce. */
function invariantProblem(o: OrderSnapshot & { cancelReason?: string | null }): string | undefined {
  if (!WORK_ORDER_STATES.includes(o.state)) return `unknown state ${o.state}`;
  const responder = o.stationId !== null || o.staffId !== null;
  if (['dispatched', 'accepted', 'on_site'].includes(o.state) && !responder) return `${o.state} without a responder`;
  if (o.state === 'received' && responder) return 'received but still holding a responder';
  if (['done', 'replied', 'followed_up', 'archived'].includes(o.state) && !(o.result && o.result.trim())) return `${o.state} without a result`;
  if (['followed_up', 'archived'].includes(o.state) && !(Number.isInteger(o.satisfaction) && o.satisfaction! >= 1 && o.satisfaction! <= 5)) return `${o.state} without a satisfaction 1-5`;
  if (o.state === 'cancelled' && !(o.cancelReason && o.cancelReason.trim())) return 'cancelled without a reason';
  return undefined;
}

describe('work-order lifecycle', () => {
  it('no sequence of actions reaches an illegal state; every accepted transition is in the table; final states accept nothing (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WORK_ORDER_TYPES), fc.array(stepArb, { maxLength: 40 }), (type, steps) => {
        let o = fresh(type);
        for (const { action, input } of steps) {
          const before = o.state;
          const d = decide(o, action, input, NOW);
          if (isFinal(before)) expect(d.ok, `${before} accepted ${action}`).toBe(false);
          if (d.ok) {
            expect(edgesFor(type).some(([f, a, t]) => f === before && a === action && t === d.next), `${before} -${action}-> ${d.next} is not in the table`).toBe(true);
            o = { ...applyPatch(o, d), cancelReason: d.patch.cancelReason ?? o.cancelReason };
            expect(o.state).toBe(d.next);
          } else {
            expect(o.state).toBe(before);
          }
          expect(invariantProblem(o)).toBeUndefined();
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('every edge of the table is reachable with a valid input', () => {
    const valid: ActionInput = { stationId: 1, staffId: 2, result: 'done', satisfaction: 4, reason: 'no longer needed' };
    for (const type of WORK_ORDER_TYPES) {
      for (const [from, action, to] of edgesFor(type)) {
        const o: OrderSnapshot = { type, state: from, stationId: from === 'received' ? null : 1, staffId: from === 'received' ? null : 1, result: 'r', satisfaction: 3 };
        const input = action === 'reassign' && to === 'received' ? {} : valid;
        const d = decide(o, action, input, NOW);
        expect(d.ok && d.next, `${type}: ${from} -${action}-> ${to}`).toBe(to);
      }
    }
  });

  it('says what each action needs, with the field', () => {
    const at = (state: WorkOrderState): OrderSnapshot => ({ type: 'service', state, stationId: 1, staffId: null, result: 'r', satisfaction: null });
    const cases: [WorkOrderState, WorkOrderAction, ActionInput, string, string][] = [
      ['received', 'dispatch', {}, 'responder_required', 'body/stationId'],
      ['on_site', 'done', { result: '  ' }, 'result_required', 'body/result'],
      ['replied', 'follow_up', { satisfaction: 6 }, 'bad_satisfaction', 'body/satisfaction'],
      ['replied', 'follow_up', {}, 'bad_satisfaction', 'body/satisfaction'],
      ['done', 'cancel', { reason: '' }, 'reason_required', 'body/reason'],
      ['dispatched', 'reassign', { stationId: 1 }, 'same_responder', 'body/staffId'],
    ];
    for (const [state, action, input, code, field] of cases) {
      const d = decide(at(state), action, input, NOW);
      expect(d.ok ? 'ok' : [d.code, d.field], `${state} ${action}`).toEqual([code, field]);
    }
  });

  it('refuses in both languages, naming the state', () => {
    const d = decide({ ...fresh('service'), state: 'archived' }, 'dispatch', { stationId: 1 }, NOW);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.code).toBe('illegal_transition');
      expect(d.message).toContain('已归档');
      expect(d.message).toContain('archived is final');
    }
  });

  it('stamps the time of the state it enters; reassign to the pool clears the responder and its times, not the reception time', () => {
    const d = decide({ ...fresh('emergency'), state: 'accepted', stationId: 1, staffId: 2 }, 'reassign', {}, NOW);
    expect(d.ok && d.patch).toMatchObject({ state: 'received', stationId: null, staffId: null, dispatchedAt: null, acceptedAt: null });
    expect(d.ok && 'receivedAt' in d.patch, 'back in the pool keeps its reception time').toBe(false);
    const e = decide({ ...fresh('emergency'), state: 'accepted', stationId: 1, staffId: 2 }, 'reassign', { staffId: 3 }, NOW);
    expect(e.ok && e.patch).toMatchObject({ state: 'dispatched', stationId: null, staffId: 3, acceptedAt: null, dispatchedAt: NOW });
  });

  it('allowedActions lists exactly the table', () => {
    for (const type of WORK_ORDER_TYPES) {
      for (const s of WORK_ORDER_STATES) {
        const expected = [...new Set(edgesFor(type).filter(([f]) => f === s).map(([, a]) => a))].sort();
        expect([...allowedActions(type, s)].sort(), `${type} ${s}`).toEqual(expected);
        if (FINALS.includes(s)) expect(allowedActions(type, s)).toEqual([]);
      }
    }
  });
});
