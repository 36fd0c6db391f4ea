import { describe, expect, it } from 'vitest';
import { decodeZigbee2mqtt, parseStatePayload, parseStateTopic, reportedIeee, selectMapping, type ZigbeeInput, type ZigbeeOutcome } from '../../../protocols/zigbee2mqtt/index.js';
import { VENDORS } from '../../../simulators/fall-sensor/facts.js';
import { loadVectors } from '../../helpers/vectors.js';

const receivedAt = new Date('2026-08-01T02:00:00Z');
const decode = (payload: Record<string, unknown>, extra: Partial<ZigbeeInput> = {}) =>
  decodeZigbee2mqtt({ identifier: 'bedroom', payload, raw: JSON.stringify(payload), receivedAt, ...extra });

function ok(out: ZigbeeOutcome) {
  if (!out.ok) throw new Error(`not mapped: ${out.reason}`);
  return out;
}

const vectors = loadVectors();
interface Z2mVector {
  model: string;
  payload: Record<string, unknown>;
}
/** What each shared vector must become, by the vector's model text (protocols.md §5). */
const EXPECTED: Record<string, { alarms?: string[]; states?: Record<string, boolean> } | 'nothing'> = {
  'Tuya MIR-HE200-TY (TS0601)': { alarms: ['fall'], states: { presence: true, occupancy: true } },
  'Heiman HS2FD-EF1-3.0': { alarms: ['fall'], states: { occupancy: true } },
  'OWON FDS315': { alarms: ['fall'], states: { occupancy: true } },
  'IAS SOS button (e.g. Feibit, fz.ias_sos_alarm_2)': { alarms: ['sos'] },
  // an emergency button publishing actions: no mapping of actions yet, so nothing is guessed
  'Heiman HS1EB/HS1EB-E emergency button': 'nothing',
};

describe.skipIf(!vectors)('zigbee2mqtt: the shared vectors', () => {
  const list = (vectors?.zigbee2mqtt ?? []) as Z2mVector[];
  it('has the vectors this suite expects', () => {
    expect(list.map((v) => v.model).sort()).toEqual(Object.keys(EXPECTED).sort());
  });
  it.each(list.map((v) => [v.model, v] as const))('%s, registered without a model (detected from its keys)', (_, v) => {
    const want = EXPECTED[v.model]!;
    const out = decode(v.payload);
    if (want === 'nothing') return expect(out).toEqual({ ok: false, reason: 'no_mapping' });
    const m = ok(out).message;
    expect(m.alarms).toEqual(want.alarms);
    expect(m.kind).toBe('alarm');
    if (want.states) expect(m.states).toEqual(want.states);
    expect(m.raw).toBe(JSON.stringify(v.payload));
  });
  // the vendor's model as an installer would type it ("Tuya MIR-HE200-TY"); the generic IAS entry has no vendor model
  const vendorVectors = list.filter((v) => EXPECTED[v.model] !== 'nothing' && !v.model.startsWith('IAS'));
  it.each(vendorVectors.map((v) => [v.model.split(' (')[0]!, v] as const))('%s, registered with that model', (model, v) => {
    const out = ok(decode(v.payload, { model }));
    expect(out.by).toBe('model');
    expect(out.message.alarms).toEqual(['fall']);
  });
});

describe('zigbee2mqtt: choosing a mapping', () => {
  it('by the registered model: whole text or one word of it, any case', () => {
    for (const model of ['MIR-HE200-TY', 'Tuya MIR-HE200-TY', 'mir-he200-ty', 'tuya-mir-he200-ty']) {
      expect(selectMapping(model, {})).toMatchObject({ ok: true, by: 'model', mapping: { id: 'tuya-mir-he200-ty' } });
    }
    expect(selectMapping('FDS315', {})).toMatchObject({ ok: true, mapping: { id: 'owon-fds315' } });
  });
  it('an unknown model is not guessed from keys', () => {
    expect(selectMapping('SNZB-03', { fall_down_status: 'fall' })).toEqual({ ok: false, reason: 'unknown_model' });
    expect(decode({ fall_down_status: 'fall' }, { model: 'SNZB-03' })).toEqual({ ok: false, reason: 'unknown_model' });
  });
  it('the model Zigbee2MQTT reports (include_device_information) when none is registered', () => {
    const p = { status: 'falling', device: { ieeeAddr: '0x00158D0001A2B3C4', model: 'FDS315' } };
    expect(selectMapping('', p)).toMatchObject({ ok: true, by: 'reported_model', mapping: { id: 'owon-fds315' } });
    expect(reportedIeee(p)).toBe('0x00158d0001a2b3c4');
    expect(reportedIeee({ device: { ieeeAddr: 'kitchen' } })).toBeUndefined();
  });
  it('detection needs a known value, not just a known key', () => {
    expect(selectMapping(undefined, { status: 'on' })).toEqual({ ok: false, reason: 'no_mapping' });
    expect(selectMapping(undefined, { status: 'on_the_bed' })).toMatchObject({ ok: true, mapping: { id: 'owon-fds315' } });
  });
});

describe('zigbee2mqtt: the Aqara cube trap', () => {
  it('{"action":"fall"} is never a person falling', () => {
    expect(decode({ action: 'fall', battery: 91 })).toEqual({ ok: false, reason: 'no_mapping' });
    const registered = ok(decode({ action: 'fall', battery: 91 }, { model: 'MFKZQ01LM' }));
    expect(registered.message.alarms).toBeUndefined();
    expect(registered.message).toMatchObject({ kind: 'status', battery: 91 });
  });
});

describe('zigbee2mqtt: alarms fire on a change', () => {
  it('cache_state repeats do not raise again; a new fall after normal does', () => {
    const fall = { fall_down_status: 'fall', presence: true, occupancy: true };
    const first = ok(decode(fall));
    expect(first.message.alarms).toEqual(['fall']);
    const repeat = ok(decode({ ...fall, motion_speed: 3, linkquality: 90 }, { previous: first.watched }));
    expect(repeat.message.alarms).toBeUndefined();
    expect(repeat.message).toMatchObject({ kind: 'status', signal: 35 });
    const normal = ok(decode({ ...fall, fall_down_status: 'none' }, { previous: repeat.watched }));
    expect(normal.message.alarms).toBeUndefined();
    expect(ok(decode(fall, { previous: normal.watched })).message.alarms).toEqual(['fall']);
  });
  it('maybe_fall and fall_warning are not falls', () => {
    expect(ok(decode({ fall_down_status: 'maybe_fall' })).message.alarms).toBeUndefined();
    expect(ok(decode({ fall_status: 'fall_warning', occupancy: true })).message.alarms).toBeUndefined();
  });
  it('IAS: sos, tamper, and low battery that clears when it comes back', () => {
    const a = ok(decode({ sos: true, tamper: true, battery_low: true }));
    expect(a.message.alarms).toEqual(['sos', 'tamper', 'low_battery']);
    const b = ok(decode({ sos: false, tamper: false, battery_low: false, battery: 100 }, { previous: a.watched }));
    expect(b.message.alarms).toBeUndefined();
    expect(b.message.restores).toEqual(['low_battery']);
  });
  it('last_seen, when Zigbee2MQTT sends it, is the device time', () => {
    expect(ok(decode({ sos: true, last_seen: '2026-08-01T10:00:00+08:00' })).message.deviceTime).toEqual(new Date('2026-08-01T02:00:00Z'));
    expect(ok(decode({ sos: true, last_seen: 1785549600000 })).message.deviceTime).toEqual(new Date(1785549600000));
    expect(ok(decode({ sos: true, last_seen: 'never' })).message.deviceTime).toBeUndefined();
  });
  it('OWON: occupancy from status', () => {
    expect(ok(decode({ status: 'unoccupied' })).message.states).toEqual({ occupancy: false });
    expect(ok(decode({ status: 'on_the_bed' })).message.states).toEqual({ occupancy: true });
  });
});

describe('zigbee2mqtt: topics and payloads', () => {
  it('reads only single-level device state', () => {
    expect(parseStateTopic('zigbee2mqtt/bedroom', 'zigbee2mqtt')).toBe('bedroom');
    expect(parseStateTopic('zigbee2mqtt/0x00158d0001a2b3c4', 'zigbee2mqtt')).toBe('0x00158d0001a2b3c4');
    for (const t of ['zigbee2mqtt/bridge', 'zigbee2mqtt/bridge/state', 'zigbee2mqtt/bedroom/set', 'zigbee2mqtt/bedroom/availability', 'zigbee2mqtt/', 'other/bedroom']) {
      expect(parseStateTopic(t, 'zigbee2mqtt')).toBeNull();
    }
    expect(parseStateTopic('home/z2m/bedroom', 'home/z2m')).toBe('bedroom');
  });
  it('takes JSON objects only', () => {
    expect(parseStatePayload(Buffer.from('online'))).toBeNull();
    expect(parseStatePayload(Buffer.from('[1]'))).toBeNull();
    expect(parseStatePayload(Buffer.from('{"sos":true}'))?.value).toEqual({ sos: true });
  });
});

describe('zigbee2mqtt: the simulator speaks what the decoder reads', () => {
  it.each(Object.entries(VENDORS))('%s', (vendor, facts) => {
    const fall = decode(facts.payload({ alarm: true, present: true }), { model: facts.model });
    const calm = decode(facts.payload({ alarm: false, present: false }), { model: facts.model });
    if (vendor === 'cube') {
      expect(ok(fall).message.alarms).toBeUndefined();
      return;
    }
    expect(ok(fall).message.alarms).toEqual([vendor === 'ias' ? 'sos' : 'fall']);
    expect(ok(calm).message.alarms).toBeUndefined();
  });
});
