import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALARM_KINDS, ALARM_PRIORITY, type AlarmKind } from '../../../protocols/message.ts';
import {
  DEFAULT_RULES,
  cloneRuleState,
  createRuleState,
  evaluateMessage,
  evaluateTick,
  resolveRules,
  type RuleSet,
  type RuleState,
} from '../../../alarms/index.ts';
import { Device, H, T0, at, east, kinds, msg, north, rules } from './helpers.ts';

describe('direct alarms and restores', () => {
  it('passes device alarms through (the device fence too) and turns restores into clears', () => {
    const d = new Device(rules());
    const r = d.message(T0, { kind: 'alarm', alarms: ['sos', 'fall', 'geofence_exit', 'power_cut'] });
    expect(kinds(r)).toEqual(['sos', 'fall', 'geofence_exit', 'power_cut']);
    expect(r.raise[0]!.detail).toEqual({ source: 'device' });
    expect(r.raise[2]!.detail).toEqual({ source: 'device', fence: 'device' });
    expect(d.state!.active).toEqual(['geofence_exit', 'power_cut']);
    const r2 = d.message(at(60), { kind: 'status', restores: ['power_cut', 'geofence_exit'] });
    expect(r2.clear).toEqual(['power_cut', 'geofence_exit']);
    expect(r2.raise).toEqual([]);
    expect(d.state!.active).toEqual([]);
  });

  it('never modifies the state it is given', () => {
    const s0: RuleState = createRuleState(T0);
    const frozen = JSON.stringify(s0);
    Object.freeze(s0);
    evaluateMessage(DEFAULT_RULES, s0, msg({ battery: 5, health: { heartRate: 200 } }), T0);
    evaluateTick(DEFAULT_RULES, s0, at(10 * H));
    expect(JSON.stringify(s0)).toBe(frozen);
  });
});

describe('in place, for the owner of the state', () => {
  it('evolves the given state itself and gives the same outcome as the copying form', () => {
    const a = createRuleState(T0);
    const b = createRuleState(T0);
    const m = msg({ battery: 5, health: { heartRate: 200 } });
    const copy = evaluateMessage(DEFAULT_RULES, a, m, at(60));
    const inPlace = evaluateMessage(DEFAULT_RULES, b, m, at(60), { inPlace: true });
    expect(inPlace.state).toBe(b);
    expect(copy.state).not.toBe(a);
    expect(inPlace).toEqual(copy);
    const t = evaluateTick(DEFAULT_RULES, b, at(10 * H), { inPlace: true });
    expect(t.state).toBe(b);
    expect(t).toEqual(evaluateTick(DEFAULT_RULES, copy.state, at(10 * H)));
  });
});

describe('cloneRuleState', () => {
  it('is a deep copy equal to structuredClone, sharing nothing with its input', () => {
    const s: RuleState = {
      ...createRuleState(T0),
      lastSeenAt: 5,
      vitals: { heartRate: { since: 1, reported: true } },
      fences: { home: { outside: true, reported: false, distanceM: 12.5 } },
      active: ['geofence_exit'],
      ...({ future: 'kept' } as object),
    };
    const c = cloneRuleState(s);
    expect(c).toEqual(structuredClone(s));
    c.vitals.heartRate!.reported = false;
    c.fences.home!.outside = false;
    c.active.push('sos');
    expect(s.vitals.heartRate!.reported).toBe(true);
    expect(s.fences.home!.outside).toBe(true);
    expect(s.active).toEqual(['geofence_exit']);
  });
});

describe('vital signs: only sustained out-of-range readings alarm', () => {
  it('heart rate: 119 s out of range is no alarm, 300 s is; back in range clears', () => {
    const d = new Device(rules());
    expect(d.message(T0, { kind: 'health', health: { heartRate: 130 } }).raise).toEqual([]);
    expect(d.message(at(119), { kind: 'health', health: { heartRate: 131 } }).raise).toEqual([]);
    expect(d.message(at(299), { kind: 'health', health: { heartRate: 132 } }).raise).toEqual([]);
    const r = d.message(at(300), { kind: 'health', health: { heartRate: 133 } });
    expect(r.raise).toEqual([{ kind: 'vitals_abnormal', detail: { vital: 'heartRate', value: 133, min: 40, max: 120, outOfRangeS: 300 } }]);
    // still high: raised once, not on every reading
    expect(d.message(at(360), { kind: 'health', health: { heartRate: 140 } }).raise).toEqual([]);
    const back = d.message(at(400), { kind: 'health', health: { heartRate: 80 } });
    expect(back.clear).toEqual(['vitals_abnormal']);
    expect(d.state!.vitals).toEqual({});
  });

  it('SpO2 < 90: 119 s no alarm, 120 s alarm', () => {
    const d = new Device(rules());
    d.message(T0, { kind: 'health', health: { spo2: 88 } });
    expect(d.message(at(119), { kind: 'health', health: { spo2: 87 } }).raise).toEqual([]);
    expect(kinds(d.message(at(120), { kind: 'health', health: { spo2: 86 } }))).toEqual(['vitals_abnormal']);
  });

  it('a single reading is not enough, and an in-range reading resets the timer', () => {
    const d = new Device(rules());
    expect(d.message(T0, { kind: 'health', health: { heartRate: 30 } }).raise).toEqual([]);
    d.message(at(100), { kind: 'health', health: { heartRate: 70 } });
    d.message(at(200), { kind: 'health', health: { heartRate: 30 } });
    expect(d.message(at(450), { kind: 'health', health: { heartRate: 30 } }).raise).toEqual([]); // only 250 s
    expect(kinds(d.message(at(500), { kind: 'health', health: { heartRate: 30 } }))).toEqual(['vitals_abnormal']);
  });

  it('clears only when no other vital is still abnormal; a vital set to null is not checked', () => {
    const d = new Device(rules());
    d.message(T0, { kind: 'health', health: { heartRate: 130, temperature: 39 } });
    d.message(at(600), { kind: 'health', health: { heartRate: 130, temperature: 39 } });
    expect(d.state!.active).toEqual(['vitals_abnormal']);
    expect(d.message(at(700), { kind: 'health', health: { heartRate: 80 } }).clear).toEqual([]);
    expect(d.message(at(800), { kind: 'health', health: { temperature: 36.8 } }).clear).toEqual(['vitals_abnormal']);

    const noSpo2 = new Device(rules({ vitals: { spo2: null } }));
    noSpo2.message(T0, { kind: 'health', health: { spo2: 70 } });
    expect(noSpo2.message(at(3600), { kind: 'health', health: { spo2: 70 } }).raise).toEqual([]);
  });
});

describe('geofences with hysteresis', () => {
  const C = { lat: 31.2304, lon: 121.4737 };
  const circle = rules({ geofences: [{ id: 'home', name: '家', shape: { type: 'circle', center: C, radiusM: 200 } }] });

  it('circle: a track zig-zagging across the border raises once and clears once', () => {
    const d = new Device(circle);
    // metres from the centre; the border is at 200, the band 170–230
    const track = [50, 150, 190, 210, 225, 195, 228, 172, 229, 240, 225, 185, 215, 175, 235, 190, 171, 160, 210, 229, 185];
    const raises: number[] = [];
    const clears: number[] = [];
    track.forEach((m, i) => {
      const r = d.message(at(i * 30), { kind: 'position', position: east(C.lat, C.lon, m) });
      if (r.raise.length) raises.push(m);
      if (r.clear.length) clears.push(m);
    });
    expect(raises).toEqual([240]);
    expect(clears).toEqual([160]);
  });

  it('circle: exit detail names the fence and the distance beyond the border', () => {
    const d = new Device(circle);
    d.message(T0, { kind: 'position', position: east(C.lat, C.lon, 0) });
    const r = d.message(at(60), { kind: 'position', position: east(C.lat, C.lon, 500) });
    expect(r.raise).toHaveLength(1);
    expect(r.raise[0]).toMatchObject({ kind: 'geofence_exit', detail: { fenceId: 'home', fenceName: '家' } });
    expect(r.raise[0]!.detail!.distanceM).toBeCloseTo(300, -1);
  });

  it('polygon: zig-zag across the top edge raises once', () => {
    // a square of about 400 m x 400 m around the centre
    const sq = [north(C.lat, C.lon, -200), north(C.lat, C.lon, 200)];
    const west = east(C.lat, C.lon, -200).lon;
    const eastLon = east(C.lat, C.lon, 200).lon;
    const points = [
      { lat: sq[0]!.lat, lon: west },
      { lat: sq[0]!.lat, lon: eastLon },
      { lat: sq[1]!.lat, lon: eastLon },
      { lat: sq[1]!.lat, lon: west },
    ];
    const d = new Device(rules({ geofences: [{ id: 'block', name: 'Block 3', shape: { type: 'polygon', points }, hysteresisM: 30 }] }));
    // metres north of the centre: the top edge is at 200
    const track = [0, 180, 215, 190, 225, 240, 210, 185, 226, 172, 150, 205, 228];
    const raises: number[] = [];
    const clears: number[] = [];
    track.forEach((m, i) => {
      const r = d.message(at(i * 30), { kind: 'position', position: north(C.lat, C.lon, m) });
      if (r.raise.length) raises.push(m);
      if (r.clear.length) clears.push(m);
    });
    expect(raises).toEqual([240]);
    expect(clears).toEqual([150]);
  });

  it('removing the fence from the rules clears its exit; quiet hours hold an exit until the window ends', () => {
    const d = new Device(circle);
    d.message(T0, { kind: 'position', position: east(C.lat, C.lon, 1000) });
    expect(d.state!.active).toEqual(['geofence_exit']);
    d.rules = rules();
    expect(d.tick(at(60)).clear).toEqual(['geofence_exit']);
    expect(d.state!.fences).toEqual({});

    const q = new Device(rules({ geofences: circle.geofences, silent: { intervalS: 100 * H }, quietHours: [{ from: '09:00', to: '11:00', kinds: ['geofence_exit'] }] }));
    const r = q.message(T0, { kind: 'position', position: east(C.lat, C.lon, 1000) }); // 10:00 local
    expect(r.raise).toEqual([]);
    expect(r.suppressed.map((x) => x.kind)).toEqual(['geofence_exit']);
    expect(q.tick(at(H - 1)).raise).toEqual([]);
    expect(q.tick(at(H)).raise).toMatchObject([{ kind: 'geofence_exit', detail: { fenceId: 'home' } }]); // 11:00
    expect(q.tick(at(H + 60)).raise).toEqual([]);
  });

  it("the watch's own fence (AL bit 18) raises geofence_exit; positions inside Anxin's fences do not clear it, bit 19 does", () => {
    const d = new Device(circle);
    d.message(T0, { kind: 'position', position: east(C.lat, C.lon, 0) });
    const r = d.message(at(30), { kind: 'alarm', alarms: ['geofence_exit'], position: east(C.lat, C.lon, 0) });
    expect(r.raise).toEqual([{ kind: 'geofence_exit', detail: { source: 'device', fence: 'device' } }]);
    expect(r.clear).toEqual([]);
    expect(d.message(at(60), { kind: 'position', position: east(C.lat, C.lon, 10) }).clear).toEqual([]);
    expect(d.tick(at(90)).clear).toEqual([]);
    expect(d.state!.active).toEqual(['geofence_exit']);
    // Anxin's own fence is left too, then re-entered: the device's exit still holds the alarm
    expect(kinds(d.message(at(120), { kind: 'position', position: east(C.lat, C.lon, 1000) }))).toEqual(['geofence_exit']);
    expect(d.message(at(150), { kind: 'position', position: east(C.lat, C.lon, 0) }).clear).toEqual([]);
    // the watch reports the entry: now nothing holds it
    expect(d.message(at(180), { kind: 'alarm', restores: ['geofence_exit'] }).clear).toEqual(['geofence_exit']);
    expect(d.state!.active).toEqual([]);
    // a second exit is a new raise
    expect(kinds(d.message(at(240), { kind: 'alarm', alarms: ['geofence_exit'] }))).toEqual(['geofence_exit']);
  });

  it("quiet hours hold the watch's own fence exit back until the window ends, like Anxin's", () => {
    const q = new Device(rules({ silent: { intervalS: 100 * H }, quietHours: [{ from: '09:00', to: '11:00', kinds: ['geofence_exit'] }] }));
    const r = q.message(T0, { kind: 'alarm', alarms: ['geofence_exit'] }); // 10:00 local
    expect(r.raise).toEqual([]);
    expect(q.tick(at(H - 1)).raise).toEqual([]);
    expect(q.tick(at(H)).raise).toEqual([{ kind: 'geofence_exit', detail: { source: 'device', fence: 'device' } }]);
    expect(q.tick(at(H + 60)).raise).toEqual([]);
  });

  it('only valid, accurate fixes count', () => {
    const d = new Device(circle);
    d.message(T0, { kind: 'position', position: east(C.lat, C.lon, 0) });
    expect(d.message(at(30), { kind: 'position', position: east(C.lat, C.lon, 5000, { valid: false }) }).raise).toEqual([]);
    expect(d.message(at(60), { kind: 'position', position: east(C.lat, C.lon, 5000, { source: 'lbs', accuracy: 1500 }) }).raise).toEqual([]);
    expect(d.message(at(90), { kind: 'position', position: east(C.lat, C.lon, 5000, { source: 'lbs' }) }).raise).toEqual([]);
    expect(kinds(d.message(at(120), { kind: 'position', position: east(C.lat, C.lon, 5000, { source: 'wifi', accuracy: 40 }) }))).toEqual([
      'geofence_exit',
    ]);
  });
});

describe('low battery with hysteresis', () => {
  it('raises below 20 %, clears only above 30 %', () => {
    const d = new Device(rules());
    const seq: [number, string][] = [];
    for (const [i, b] of [25, 19, 18, 15, 22, 25, 30, 31, 25, 19].entries()) {
      const r = d.message(at(i * 600), { battery: b });
      seq.push([b, [...r.raise.map((x) => `+${x.kind}`), ...r.clear.map((k) => `-${k}`)].join(',')]);
    }
    expect(seq).toEqual([
      [25, ''],
      [19, '+low_battery'],
      [18, ''],
      [15, ''],
      [22, ''],
      [25, ''],
      [30, ''],
      [31, '-low_battery'],
      [25, ''],
      [19, '+low_battery'],
    ]);
  });
});

describe('time-based rules (evaluateTick)', () => {
  it('device silent: after interval + grace, raised once, cleared by any message', () => {
    const d = new Device(rules({ silent: { intervalS: 300, graceS: 600 } }));
    d.message(T0);
    expect(d.tick(at(899)).raise).toEqual([]);
    const r = d.tick(at(900));
    expect(r.raise).toEqual([{ kind: 'device_silent', detail: { lastSeenAt: T0.toISOString(), silentS: 900 } }]);
    expect(d.tick(at(1800)).raise).toEqual([]);
    expect(d.message(at(2000)).clear).toEqual(['device_silent']);
    expect(d.tick(at(2000 + 899)).raise).toEqual([]);
    expect(kinds(d.tick(at(2000 + 900)))).toEqual(['device_silent']);
  });

  it('a device that never reported goes silent from its state creation; receivers use receiver_silent', () => {
    const d = new Device(rules({ silent: { intervalS: 60, graceS: 60, kind: 'receiver_silent' } }));
    expect(d.tick(T0).raise).toEqual([]);
    expect(d.tick(at(120)).raise).toEqual([{ kind: 'receiver_silent', detail: { lastSeenAt: null, silentS: 120 } }]);
    expect(d.message(at(130), { protocol: 'contactid' }).clear).toEqual(['receiver_silent']);
  });

  const noSilence = { silent: { intervalS: 100 * H } };

  it('inactivity: no activity for 4 h inside 08:00–20:00 raises; activity clears', () => {
    const d = new Device(rules(noSilence));
    d.message(at(-H), { kind: 'health', health: { steps: 100 } }); // 09:00: first count is only a baseline
    d.message(T0, { kind: 'health', health: { steps: 150 } }); // 10:00: walking
    expect(d.state!.lastActivityAt).toBe(T0.getTime());
    expect(d.tick(at(4 * H - 1)).raise).toEqual([]);
    expect(kinds(d.tick(at(4 * H)))).toEqual(['inactivity']); // 14:00
    expect(d.tick(at(4.5 * H)).raise).toEqual([]);
    expect(d.message(at(5 * H), { kind: 'status', states: { presence: true } }).clear).toEqual(['inactivity']);
  });

  it('inactivity: time outside the schedule does not count', () => {
    const d = new Device(rules(noSilence));
    const evening = at(9 * H); // 19:00 local
    d.message(at(8 * H), { kind: 'status', states: { occupancy: false } });
    d.message(evening, { kind: 'status', states: { occupancy: true } });
    expect(d.tick(at(13.5 * H)).raise).toEqual([]); // 23:30, outside the window
    expect(d.tick(at(22 * H)).raise).toEqual([]); // 08:00 next day: window opens, the night does not count
    expect(d.tick(at(26 * H - 1)).raise).toEqual([]); // 11:59:59
    expect(kinds(d.tick(at(26 * H)))).toEqual(['inactivity']); // 12:00
  });

  it('inactivity: devices that never reported activity are not judged', () => {
    const d = new Device(rules());
    d.message(T0, { kind: 'heartbeat' });
    expect(d.tick(at(8 * H)).raise.map((r) => r.kind)).not.toContain('inactivity');
  });

  it('missed periodic test: once per missed period, a test clears it', () => {
    const d = new Device(rules({ periodicTest: { enabled: true }, silent: { intervalS: 100 * H } }));
    d.message(T0, { kind: 'test' });
    expect(d.tick(at(24 * H)).raise).toEqual([]);
    expect(d.tick(at(25 * H - 1)).raise).toEqual([]);
    expect(d.tick(at(25 * H)).raise).toEqual([{ kind: 'test_missed', detail: { missedPeriods: 1, lastTestAt: T0.toISOString() } }]);
    expect(d.tick(at(26 * H)).raise).toEqual([]);
    expect(d.tick(at(48 * H)).raise).toEqual([]);
    expect(d.tick(at(49 * H)).raise).toEqual([{ kind: 'test_missed', detail: { missedPeriods: 2, lastTestAt: T0.toISOString() } }]);
    expect(d.message(at(50 * H), { kind: 'test' }).clear).toEqual(['test_missed']);
    expect(d.tick(at(74 * H)).raise).toEqual([]);
    expect(kinds(d.tick(at(75 * H)))).toEqual(['test_missed']);
  });

  it('disabled periodic test never raises', () => {
    const d = new Device(rules({ silent: { intervalS: 100 * H } }));
    d.message(T0, { kind: 'test' });
    expect(d.tick(at(90 * H)).raise).toEqual([]);
  });
});

describe('quiet hours (Asia/Shanghai)', () => {
  const quiet = rules({ quietHours: [{ from: '22:00', to: '07:00', kinds: ['low_battery', 'device_silent', 'one_key_service'] }] });
  const local = (iso: string) => new Date(`${iso}+08:00`);

  it('suppresses configured kinds inside a window across midnight, and raises them after it', () => {
    for (const t of ['2025-03-01T22:00:00', '2025-03-01T23:59:00', '2025-03-02T00:00:00', '2025-03-02T06:59:59']) {
      const r = evaluateMessage(quiet, undefined, msg({ battery: 10, alarms: ['one_key_service'] }), local(t));
      expect(r.raise, t).toEqual([]);
      expect(r.suppressed.map((x) => x.kind).sort(), t).toEqual(['low_battery', 'one_key_service']);
      expect(r.state.active, t).toEqual([]);
    }
    for (const t of ['2025-03-01T21:59:59', '2025-03-02T07:00:00', '2025-03-02T12:00:00']) {
      const r = evaluateMessage(quiet, undefined, msg({ battery: 10 }), local(t));
      expect(kinds(r), t).toEqual(['low_battery']);
    }
    // kinds not listed still go through at night
    const d = new Device(quiet);
    expect(kinds(d.message(local('2025-03-01T23:00:00'), { alarms: ['removed'], battery: 10 }))).toEqual(['removed']);
    // the suppressed low battery is raised on the first reading after the window
    expect(kinds(d.message(local('2025-03-02T07:05:00'), { battery: 10 }))).toEqual(['low_battery']);
  });

  it('a silent device suppressed at night is raised by the first tick after the window', () => {
    const d = new Device(quiet);
    d.message(local('2025-03-01T21:00:00'));
    const night = d.tick(local('2025-03-02T03:00:00'));
    expect(night.raise).toEqual([]);
    expect(night.suppressed.map((x) => x.kind)).toEqual(['device_silent']);
    expect(kinds(d.tick(local('2025-03-02T07:00:00')))).toEqual(['device_silent']);
  });

  it('resolveRules refuses quiet hours for P1 kinds', () => {
    const res = resolveRules(DEFAULT_RULES, { quietHours: [{ from: '22:00', to: '07:00', kinds: ['low_battery', 'fall'] }] });
    expect(res).toEqual({
      ok: false,
      errors: [{ path: '/quietHours/0/kinds/1', message: 'fall is a P1 kind and can never be suppressed by quiet hours' }],
    });
  });

  it('P1 kinds are never suppressed, even by hand-built rules (property)', () => {
    const p1 = ALARM_KINDS.filter((k) => ALARM_PRIORITY[k] === 1);
    const allDay: RuleSet = { ...DEFAULT_RULES, quietHours: [{ from: '00:00', to: '00:00', kinds: [...ALARM_KINDS] }] };
    fc.assert(
      fc.property(
        fc.constantFrom(...p1),
        fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true }),
        (kind: AlarmKind, now: Date) => {
          const r = evaluateMessage(allDay, undefined, msg({ kind: 'alarm', alarms: [kind], battery: 5 }), now);
          expect(kinds(r)).toEqual([kind]);
          expect(r.suppressed.map((x) => x.kind)).toEqual(['low_battery']);
        },
      ),
      { numRuns: 300 },
    );
  });
});
