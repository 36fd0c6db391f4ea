import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULES,
  distanceToPolygonEdgesM,
  haversineM,
  inWindow,
  pointInPolygon,
  resolveRules,
  signedDistanceToCircleM,
  signedDistanceToPolygonM,
  windowStart,
} from '../../../alarms/index.ts';

describe('resolveRules', () => {
  it('returns the defaults for an empty override, with schema defaults filled', () => {
    const r = resolveRules(DEFAULT_RULES, undefined);
    expect(r).toEqual({ ok: true, rules: DEFAULT_RULES });
    expect(DEFAULT_RULES.vitals.heartRate).toEqual({ min: 40, max: 120, forSeconds: 300 });
    expect(DEFAULT_RULES.vitals.spo2).toEqual({ min: 90, forSeconds: 120 });
    expect(DEFAULT_RULES.vitals.temperature).toEqual({ max: 38.5, forSeconds: 600 });
    expect(DEFAULT_RULES.vitals.systolic).toEqual({ max: 180, forSeconds: 300 });
    expect(DEFAULT_RULES.silent.graceS).toBe(600);
  });

  it('deep-merges a partial override without touching the defaults', () => {
    const before = JSON.stringify(DEFAULT_RULES);
    const r = resolveRules(DEFAULT_RULES, {
      vitals: { heartRate: { max: 110 }, diastolic: { max: 110, forSeconds: 300 }, spo2: null },
      silent: { intervalS: 300 },
      geofences: [{ id: 'home', name: 'Home', shape: { type: 'circle', center: { lat: 31.23, lon: 121.47 }, radiusM: 150 } }],
      timezone: null,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rules.vitals.heartRate).toEqual({ min: 40, max: 110, forSeconds: 300 });
    expect(r.rules.vitals.diastolic).toEqual({ max: 110, forSeconds: 300 });
    expect(r.rules.vitals.spo2).toBeUndefined();
    expect(r.rules.silent).toEqual({ intervalS: 300, graceS: 600 });
    expect(r.rules.geofences[0]!.hysteresisM).toBe(30);
    expect(r.rules.timezone).toBe('Asia/Shanghai');
    expect(r.rules.lowBattery).toEqual({ belowPct: 20, restoreAbovePct: 30 });
    expect(JSON.stringify(DEFAULT_RULES)).toBe(before);
  });

  it('gives per-field errors', () => {
    const r = resolveRules(DEFAULT_RULES, {
      vitals: { heartRate: { min: 'forty' }, heartrate: { max: 1 } },
      geofences: [
        { id: 'a', name: 'A', shape: { type: 'polygon', points: [{ lat: 1, lon: 1 }] } },
        { id: 'b', name: 'B', shape: { type: 'square' } },
        { id: 'c', name: 'C', shape: { type: 'circle', center: { lat: 95, lon: 0 }, radiusM: -1 } },
      ],
      lowBattery: { belowPct: 120 },
      quietHours: [{ from: '24:00', to: '07:00', kinds: ['nope'] }],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.errors.map((e) => [e.path, e.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        '/vitals/heartrate',
        '/vitals/heartRate/min',
        '/geofences/0/shape/points',
        '/geofences/1/shape/type',
        '/geofences/2/shape/center/lat',
        '/geofences/2/shape/radiusM',
        '/lowBattery/belowPct',
        '/quietHours/0/from',
        '/quietHours/0/kinds/0',
      ].sort(),
    );
    expect(byPath['/vitals/heartrate']).toMatch(/unexpected property/i);
    expect(byPath['/vitals/heartRate/min']).toMatch(/number/);
    expect(byPath['/geofences/1/shape/type']).toMatch(/"circle", "polygon"/);
    expect(byPath['/quietHours/0/from']).toMatch(/HH:MM/);
    expect(byPath['/quietHours/0/kinds/0']).toMatch(/"sos".*got "nope"/);
  });

  it('checks what a schema cannot: min < max, hysteresis of battery, unique fence ids, timezone, P1 quiet hours', () => {
    const r = resolveRules(DEFAULT_RULES, {
      vitals: { heartRate: { min: 130 }, temperature: { max: null } },
      lowBattery: { belowPct: 40 },
      geofences: [
        { id: 'x', name: 'X', shape: { type: 'circle', center: { lat: 0, lon: 0 }, radiusM: 10 } },
        { id: 'x', name: 'Y', shape: { type: 'circle', center: { lat: 0, lon: 0 }, radiusM: 10 } },
      ],
      quietHours: [{ from: '22:00', to: '07:00', kinds: ['sos'] }],
      timezone: 'Mars/Olympus',
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        { path: '/vitals/heartRate/max', message: 'max (120) must be greater than min (130)' },
        { path: '/vitals/temperature', message: 'needs min or max (set the vital to null to turn it off)' },
        { path: '/geofences/1/id', message: 'duplicate geofence id "x"' },
        { path: '/lowBattery/restoreAbovePct', message: 'restoreAbovePct (30) must not be below belowPct (40)' },
        { path: '/quietHours/0/kinds/0', message: 'sos is a P1 kind and can never be suppressed by quiet hours' },
        { path: '/timezone', message: 'unknown timezone "Mars/Olympus"' },
      ],
    });
  });

  it('refuses an override that is not an object', () => {
    expect(resolveRules(DEFAULT_RULES, [1, 2])).toEqual({ ok: false, errors: [{ path: '', message: 'override must be an object' }] });
    expect(resolveRules(DEFAULT_RULES, 'x')).toMatchObject({ ok: false });
  });
});

describe('geometry', () => {
  const C = { lat: 31.2304, lon: 121.4737 };
  it('haversine', () => {
    expect(haversineM(C, { lat: C.lat + 1, lon: C.lon })).toBeCloseTo(111_195, -1);
    expect(haversineM({ lat: 39.9042, lon: 116.4074 }, { lat: 31.2304, lon: 121.4737 })).toBeCloseTo(1_067_000, -4);
  });
  it('signed distance to a circle', () => {
    const p = { lat: C.lat + 300 / 111_195, lon: C.lon };
    expect(signedDistanceToCircleM(p, C, 200)).toBeCloseTo(100, 0);
    expect(signedDistanceToCircleM(C, C, 200)).toBe(-200);
  });
  it('point in polygon and distance to edges', () => {
    const d = 0.001; // ≈ 111 m of latitude
    const sq = [
      { lat: C.lat - d, lon: C.lon - d },
      { lat: C.lat - d, lon: C.lon + d },
      { lat: C.lat + d, lon: C.lon + d },
      { lat: C.lat + d, lon: C.lon - d },
    ];
    expect(pointInPolygon(C, sq)).toBe(true);
    expect(pointInPolygon({ lat: C.lat + 2 * d, lon: C.lon }, sq)).toBe(false);
    expect(distanceToPolygonEdgesM(C, sq)).toBeCloseTo(Math.min(111.195, 111.195 * Math.cos((C.lat * Math.PI) / 180)), 0);
    expect(signedDistanceToPolygonM({ lat: C.lat + 2 * d, lon: C.lon }, sq)).toBeCloseTo(111.2, 0);
    expect(signedDistanceToPolygonM(C, sq)).toBeLessThan(0);
    // concave: an L shape, the notch is outside
    const L = [
      { lat: 0, lon: 0 },
      { lat: 0, lon: 2 * d },
      { lat: d, lon: 2 * d },
      { lat: d, lon: d },
      { lat: 2 * d, lon: d },
      { lat: 2 * d, lon: 0 },
    ];
    expect(pointInPolygon({ lat: 1.5 * d, lon: 1.5 * d }, L)).toBe(false);
    expect(pointInPolygon({ lat: 0.5 * d, lon: 1.5 * d }, L)).toBe(true);
  });
});

describe('schedules', () => {
  const sh = (t: string) => new Date(`${t}+08:00`);
  it('windows within a day and across midnight, in Asia/Shanghai', () => {
    expect(inWindow(sh('2025-03-01T08:00:00'), '08:00', '20:00', 'Asia/Shanghai')).toBe(true);
    expect(inWindow(sh('2025-03-01T19:59:59'), '08:00', '20:00', 'Asia/Shanghai')).toBe(true);
    expect(inWindow(sh('2025-03-01T20:00:00'), '08:00', '20:00', 'Asia/Shanghai')).toBe(false);
    expect(inWindow(sh('2025-03-01T07:59:00'), '08:00', '20:00', 'Asia/Shanghai')).toBe(false);
    expect(inWindow(sh('2025-03-01T23:30:00'), '22:00', '07:00', 'Asia/Shanghai')).toBe(true);
    expect(inWindow(sh('2025-03-02T00:00:00'), '22:00', '07:00', 'Asia/Shanghai')).toBe(true);
    expect(inWindow(sh('2025-03-02T06:59:00'), '22:00', '07:00', 'Asia/Shanghai')).toBe(true);
    expect(inWindow(sh('2025-03-02T07:00:00'), '22:00', '07:00', 'Asia/Shanghai')).toBe(false);
    expect(inWindow(sh('2025-03-02T12:00:00'), '22:00', '07:00', 'Asia/Shanghai')).toBe(false);
    // the same instant in another timezone: 23:30 in Shanghai is 15:30 UTC
    expect(inWindow(sh('2025-03-01T23:30:00'), '22:00', '07:00', 'UTC')).toBe(false);
    expect(inWindow(sh('2025-03-01T12:00:00'), '00:00', '00:00', 'Asia/Shanghai')).toBe(true);
    expect(() => inWindow(sh('2025-03-01T12:00:00'), '8:00', '20:00', 'Asia/Shanghai')).toThrow(RangeError);
  });
  it('windowStart finds the start of the current occurrence', () => {
    expect(windowStart(sh('2025-03-02T03:15:20'), '22:00', '07:00', 'Asia/Shanghai')).toEqual(sh('2025-03-01T22:00:00'));
    expect(windowStart(sh('2025-03-01T12:00:00'), '22:00', '07:00', 'Asia/Shanghai')).toBeNull();
  });
});
