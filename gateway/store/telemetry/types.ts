import type { DeviceMessage } from '../../../protocols/message.js';
import { deviceTimeProblem } from './time-guard.js';

/** Documented schema (README "Telemetry"): measurements position, health, device; tags device, elder, protocol. */
export interface TelemetryPoint {
  measurement: 'position' | 'health' | 'device';
  time: Date;
  tags: { device: string; elder?: string; protocol: string };
  fields: Record<string, number | boolean | string>;
}

export interface TelemetryWriter {
  readonly name: string;
  /** Never blocks and never throws: points are buffered, and shed by the overflow policy. */
  write(points: TelemetryPoint[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** dropped: shed by the overflow policy; refused: refused by the store for good (isolated from their batch) */
  stats(): { buffered: number; dropped: number; refused: number; written: number; failing: boolean; lastError?: string };
}

/** One stored point as the dashboard reads it back; the same shape from every backend. */
export interface TelemetryRow {
  time: Date;
  device: string;
  elderId: number | null;
  fields: Record<string, number | boolean | string>;
}

/** The health fields an agent can chart, in the names the schema stores them under. */
export const VITAL_FIELDS = ['heartRate', 'spo2', 'systolic', 'diastolic', 'temperature', 'steps'] as const;
export type VitalField = (typeof VITAL_FIELDS)[number];

export interface TimeWindow {
  from: Date;
  to: Date;
  limit: number;
}

/** Dashboard reads, implemented once per backend (InfluxQL for InfluxDB, SQL for PostgreSQL). */
export interface TelemetryQuery {
  /** The newest position of each device (optionally only these devices). */
  lastPositions(devices?: string[]): Promise<TelemetryRow[]>;
  /** An elder's positions in the window, oldest first, across all their devices. */
  track(elderId: number, w: TimeWindow): Promise<TelemetryRow[]>;
  /** An elder's health points in the window, oldest first; with a field, only points that carry it. */
  vitals(elderId: number, w: TimeWindow & { field?: VitalField }): Promise<TelemetryRow[]>;
  /** An elder's health fields per time bucket, aggregated by the store itself, and the newest reading of each. */
  vitalsSeries(elderId: number, w: SeriesWindow): Promise<VitalsSeries>;
}

/**
 * Buckets of `everyS` seconds, starting at `offsetS` past the Unix epoch plus whole buckets (so a day's buckets
 * can start at the centre's local midnight). `from` and `to` are inclusive; only buckets with readings come back.
 */
export interface SeriesWindow {
  from: Date;
  to: Date;
  everyS: number;
  offsetS: number;
}

/** One field in one bucket. For steps (a counter that grows through the day and restarts at midnight) use max. */
export interface VitalStat {
  min: number;
  avg: number;
  max: number;
  count: number;
}

export interface VitalsSeries {
  /** oldest first; `time` is the bucket's start (the first one may start before `from`) */
  buckets: { time: Date; fields: Partial<Record<VitalField, VitalStat>> }[];
  /** the newest reading of each field in the window */
  latest: Partial<Record<VitalField, { time: Date; value: number }>>;
}

const UNSAFE_TAG = /[\r\n]|\\$/;

/**
 * Tags as line protocol can carry them: it has no escape for line breaks, and a value ending in a
 * backslash would escape the separator after it. Empty tags are invalid, so they are left out.
 */
export function lineSafeTags(tags: TelemetryPoint['tags']): Record<string, string> {
  const out: Record<string, string> = {};
  // Sorted by key, as InfluxDB recommends (it sorts them itself otherwise).
  for (const k of Object.keys(tags).sort()) {
    const v = tags[k as keyof typeof tags];
    if (v === undefined) continue;
    // per point: the regexes run only when there is something to clean
    const clean = UNSAFE_TAG.test(v) ? v.replace(/[\r\n]+/g, ' ').replace(/\\+$/, '') : v;
    if (clean !== '') out[k] = clean;
  }
  return out;
}

/** Drops undefined and non-finite values (a plain loop: this runs for every message, Object.entries allocated). */
function defined(o: Record<string, number | boolean | string | undefined>): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && !Number.isFinite(v))) out[k] = v;
  }
  return out;
}

/**
 * A message's telemetry points. `onIgnoredTime` hears of a device time not used as the points' time
 * (time-guard.ts): they are kept at the receive time with the device's claim as `deviceTimeMs`.
 */
export function pointsFromMessage(msg: DeviceMessage, elderId?: number | null, onIgnoredTime?: (why: string) => void): TelemetryPoint[] {
  const problem = msg.deviceTime && deviceTimeProblem(msg.deviceTime, msg.receivedAt);
  const time = msg.deviceTime && !problem ? msg.deviceTime : msg.receivedAt;
  // NaN for an invalid date: left out by defined()
  const claimed = problem ? msg.deviceTime!.getTime() : undefined;
  const tags = { device: msg.deviceId, protocol: msg.protocol, ...(elderId ? { elder: String(elderId) } : {}) };
  const out: TelemetryPoint[] = [];
  const p = msg.position;
  if (p && Number.isFinite(p.lat) && Number.isFinite(p.lon) && !(p.lat === 0 && p.lon === 0)) {
    out.push({
      measurement: 'position',
      time,
      tags,
      fields: defined({ lat: p.lat, lon: p.lon, speed: p.speed, course: p.course, altitude: p.altitude, satellites: p.satellites, accuracy: p.accuracy, source: p.source, valid: p.valid, deviceTimeMs: claimed }),
    });
  }
  if (msg.health) {
    const h = msg.health;
    const f = defined({ heartRate: h.heartRate, spo2: h.spo2, systolic: h.systolic, diastolic: h.diastolic, temperature: h.temperature, steps: h.steps });
    if (Object.keys(f).length) out.push({ measurement: 'health', time, tags, fields: claimed === undefined ? f : defined({ ...f, deviceTimeMs: claimed }) });
  }
  if (problem && (out.length || msg.battery !== undefined || msg.signal !== undefined)) onIgnoredTime?.(problem);
  if (msg.battery !== undefined || msg.signal !== undefined) {
    out.push({ measurement: 'device', time: msg.receivedAt, tags, fields: defined({ battery: msg.battery, signal: msg.signal }) });
  }
  return out;
}
