/**
 * The rules form's override logic (dashboard/src/components/elders/schema-form.ts): the form shows the defaults
 * merged with the elder's override and saves only what differs, in the merge-patch form the gateway applies
 * (alarms/merge.ts). Checked against the real schemas and defaults, and against the server's own merge. Also the
 * identity form's body (elder-form.ts): only the changes, never a masked ID number, nothing an installer may not set.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ESCALATION_PLAN, DEFAULT_RULES, resolveEscalationPlan, resolveRules } from '../../../alarms/index.ts';
import { RuleSetSchema } from '../../../alarms/rules/schema.ts';
import { EscalationPlanSchema } from '../../../alarms/escalation.ts';
import { mergePatch as serverMerge } from '../../../alarms/merge.ts';
import {
  applyEdit, enumValues, errorsUnder, initialValue, isOverridden, kindOf, mergePatch, overriddenPaths, withOverride, withoutPath, type JsonSchema,
} from '../../../dashboard/src/components/elders/schema-form.ts';
import { bodyOf, formOf } from '../../../dashboard/src/components/elders/elder-form.ts';

const rulesSchema = JSON.parse(JSON.stringify(RuleSetSchema)) as JsonSchema;
const planSchema = JSON.parse(JSON.stringify(EscalationPlanSchema)) as JsonSchema;
const D = JSON.parse(JSON.stringify(DEFAULT_RULES)) as Record<string, unknown>;

describe('schema-form overrides', () => {
  it('a changed value becomes an override; changing it back to the default removes it, and the empty parents', () => {
    let o = applyEdit(D, {}, ['lowBattery', 'belowPct'], 15);
    expect(o).toEqual({ lowBattery: { belowPct: 15 } });
    expect(isOverridden(o, ['lowBattery', 'belowPct'])).toBe(true);
    expect(isOverridden(o, ['lowBattery', 'restoreAbovePct'])).toBe(false);
    o = applyEdit(D, o, ['lowBattery', 'belowPct'], 20);
    expect(o).toEqual({});
    expect(isOverridden(o, ['lowBattery', 'belowPct'])).toBe(false);
  });

  it('reset to default removes one field and keeps its siblings', () => {
    let o = applyEdit(D, {}, ['lowBattery', 'belowPct'], 15);
    o = applyEdit(D, o, ['lowBattery', 'restoreAbovePct'], 40);
    o = applyEdit(D, o, ['timezone'], 'Asia/Urumqi');
    o = withoutPath(o, ['lowBattery', 'belowPct']);
    expect(o).toEqual({ lowBattery: { restoreAbovePct: 40 }, timezone: 'Asia/Urumqi' });
    expect(overriddenPaths(o)).toEqual([['lowBattery', 'restoreAbovePct'], ['timezone']]);
    expect(withoutPath(o, ['nothing', 'here'])).toBe(o);
  });

  it('an absent value is null in the patch when the default has one (a vital turned off), nothing when it has none', () => {
    let o = withOverride({}, D, ['vitals', 'spo2'], undefined);
    expect(o).toEqual({ vitals: { spo2: null } });
    expect(isOverridden(o, ['vitals', 'spo2'])).toBe(true);
    expect((mergePatch(D, o) as { vitals: Record<string, unknown> }).vitals.spo2).toBeUndefined();
    // spo2 has no max by default: clearing it is no override
    expect(withOverride({}, D, ['vitals', 'spo2', 'max'], undefined)).toEqual({});
    // heartRate has a min: clearing it sends null
    expect(withOverride({}, D, ['vitals', 'heartRate', 'min'], undefined)).toEqual({ vitals: { heartRate: { min: null } } });
    // switched back on: the default again
    o = withOverride(o, D, ['vitals', 'spo2'], D.vitals && (D.vitals as Record<string, unknown>).spo2);
    expect(o).toEqual({});
  });

  it('an edit inside an array overrides the whole array (arrays replace in a merge patch)', () => {
    let p = applyEdit(DEFAULT_ESCALATION_PLAN, {}, ['steps', 1, 'atS'], 45);
    expect(p).toEqual({ steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 45, action: 'present_all_and_alert_supervisor' }, { atS: 60, action: 'callback_and_cascade' }] });
    p = applyEdit(DEFAULT_ESCALATION_PLAN, p, ['steps', 1, 'atS'], 30);
    expect(p).toEqual({});
    // a new quiet-hours entry, then one field of it
    let o = applyEdit(D, {}, ['quietHours'], [initialValue(rulesSchema.properties!.quietHours!.items!)]);
    o = applyEdit(D, o, ['quietHours', 0, 'from'], '22:00');
    expect(o).toEqual({ quietHours: [{ from: '22:00', to: '', kinds: [] }] });
  });

  it('what the form saves merges on the server to what the form showed', () => {
    let o = applyEdit(D, {}, ['lowBattery', 'belowPct'], 10);
    o = applyEdit(D, o, ['inactivity', 'schedule', 'from'], '07:30');
    o = withOverride(o, D, ['vitals', 'temperature'], undefined);
    expect(serverMerge(D, o)).toEqual(mergePatch(D, o));
    const r = resolveRules(DEFAULT_RULES, o);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.rules.lowBattery.belowPct).toBe(10);
      expect(r.rules.inactivity.schedule.from).toBe('07:30');
      expect(r.rules.vitals.temperature).toBeUndefined();
      expect(r.rules.vitals.heartRate).toEqual(DEFAULT_RULES.vitals.heartRate);
    }
    const p = applyEdit(DEFAULT_ESCALATION_PLAN, {}, ['cascade', 'rounds'], 3);
    const rp = resolveEscalationPlan(DEFAULT_ESCALATION_PLAN, p);
    expect(rp.ok && rp.plan.cascade).toEqual({ rounds: 3, ringTimeoutS: 30, acceptDigit: '1' });
  });

  it('reads the kinds of field from the schemas TypeBox writes', () => {
    const r = rulesSchema.properties!;
    expect(kindOf(r.vitals!)).toBe('object');
    expect(kindOf(r.timezone!)).toBe('string');
    expect(kindOf(r.quietHours!)).toBe('array-objects');
    expect(kindOf(r.quietHours!.items!.properties!.kinds!)).toBe('array-enum');
    expect(kindOf(r.silent!.properties!.kind!)).toBe('enum');
    expect(kindOf(r.inactivity!.properties!.enabled!)).toBe('boolean');
    expect(kindOf(planSchema.properties!.cascade!.properties!.rounds!)).toBe('integer');
    expect(kindOf(planSchema.properties!.steps!)).toBe('array-objects');
    expect(enumValues(planSchema.properties!.steps!.items!.properties!.action!)).toEqual(['present_longest_idle', 'present_all_and_alert_supervisor', 'callback_and_cascade']);
    // a new vital starts valid apart from its range: forSeconds from the schema's minimum
    expect(initialValue(r.vitals!.properties!.diastolic!)).toEqual({ forSeconds: 0 });
    expect(initialValue(r.silent!.properties!.intervalS!)).toBe(1);
  });

  it('maps the API field errors to the form fields', () => {
    const e = errorsUnder({ 'body/rules/lowBattery/restoreAbovePct': 'too low', 'body/responsePlan/cascade/rounds': 'min 1', 'body/name': 'x' }, 'body/rules');
    expect(e).toEqual({ 'lowBattery/restoreAbovePct': 'too low' });
  });
});

describe('the elder form sends only what changed', () => {
  const loaded = formOf({ id: 1, name: '王秀英', idNumber: '**************1234', phone: '13800138000', conditions: '高血压', categories: ['advanced_age'], lat: 31.2, lon: 121.4 } as never);

  it('never sends a masked ID number back, nor anything unchanged', () => {
    expect(bodyOf(loaded, loaded, 'supervisor')).toEqual({});
    expect(bodyOf({ ...loaded, phone: '13800138001' }, loaded, 'admin')).toEqual({ phone: '13800138001' });
    expect(bodyOf({ ...loaded, idNumber: '**************1235' }, loaded, 'admin')).toEqual({});
    expect(bodyOf({ ...loaded, idNumber: '31010419400512002x' }, loaded, 'admin')).toEqual({ idNumber: '31010419400512002X' });
    expect(bodyOf({ ...loaded, categories: ['living_alone', 'advanced_age'] }, loaded, 'admin')).toEqual({ categories: ['advanced_age', 'living_alone'] });
    expect(bodyOf({ ...loaded, lat: '31.25' }, loaded, 'admin')).toEqual({ lat: 31.25, lon: 121.4 });
  });

  it("an installer's save carries none of the fields the API hides from installers", () => {
    const body = bodyOf({ ...loaded, conditions: '', doctor: 'x', dialect: 'y', livesAlone: true, name: '王秀英 ' }, loaded, 'installer');
    expect(body).toEqual({});
  });

  it('a new elder sends the fields filled in', () => {
    expect(bodyOf({ ...formOf(null), name: ' 李建国 ', area: '和平社区' }, formOf(null), 'admin')).toEqual({ name: '李建国', area: '和平社区' });
  });
});
