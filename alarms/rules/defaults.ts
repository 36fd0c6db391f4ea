import type { RuleSet } from './schema.ts';

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Defaults for every elder (frozen; `resolveRules` copies before merging an override).
 * `silent.intervalS` is a placeholder: set it from the device model's reporting interval
 * (override `{ silent: { intervalS } }`); the grace is 10 minutes.
 * Inactivity only applies once a device has reported some activity (steps, presence);
 * the periodic test is off until enabled for devices that send tests.
 */
export const DEFAULT_RULES: RuleSet = deepFreeze<RuleSet>({
  vitals: {
    heartRate: { min: 40, max: 120, forSeconds: 300 },
    spo2: { min: 90, forSeconds: 120 },
    temperature: { max: 38.5, forSeconds: 600 },
    systolic: { max: 180, forSeconds: 300 },
  },
  geofences: [],
  geofenceAccuracyM: 100,
  silent: { intervalS: 600, graceS: 600 },
  lowBattery: { belowPct: 20, restoreAbovePct: 30 },
  inactivity: { enabled: true, hours: 4, schedule: { from: '08:00', to: '20:00' } },
  periodicTest: { enabled: false, intervalH: 24, graceH: 1 },
  quietHours: [],
  timezone: 'Asia/Shanghai',
});
