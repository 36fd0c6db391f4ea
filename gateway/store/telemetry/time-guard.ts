/**
 * How far a device's own clock is trusted as a telemetry point's time (README "Telemetry"). A device with an
 * unset or broken clock (or a fuzzed message) can claim any time: InfluxDB refuses times outside its range
 * (1677–2262) and a wild time would put the point where no chart looks. Such a point is kept at the time it
 * was received, with the device's claim beside it (`deviceTimeMs`) and counted
 * (`anxin_telemetry_device_time_ignored_total`).
 */

/** Ahead of the receive time: a clock a day fast is broken, not a time zone (those are at most 14 h). */
export const DEVICE_TIME_MAX_AHEAD_MS = 24 * 60 * 60 * 1000;
/** Before this no device of ours existed: a clock reset to its epoch (GPS 1980, Unix 1970, 2000-01-01 00:00 on many trackers). */
export const DEVICE_TIME_EARLIEST_MS = Date.UTC(2000, 0, 1, 0, 0, 1);

export type DeviceTimeProblem = 'invalid' | 'future' | 'past';

/** Why the device's time cannot be the point's time, or undefined when it can. */
export function deviceTimeProblem(deviceTime: Date, receivedAt: Date): DeviceTimeProblem | undefined {
  const t = deviceTime.getTime();
  if (!Number.isFinite(t)) return 'invalid';
  if (t > receivedAt.getTime() + DEVICE_TIME_MAX_AHEAD_MS) return 'future';
  if (t < DEVICE_TIME_EARLIEST_MS) return 'past';
  return undefined;
}
