/** The device-time guard (gateway/store/telemetry/time-guard.ts) and the points it shapes. */
import { describe, expect, it } from 'vitest';
import { DEVICE_TIME_EARLIEST_MS, DEVICE_TIME_MAX_AHEAD_MS, deviceTimeProblem } from '../../../gateway/store/telemetry/time-guard.js';
import { pointsFromMessage } from '../../../gateway/store/telemetry/types.js';
import type { DeviceMessage } from '../../../protocols/message.js';

const received = new Date('2026-06-01T12:00:00.000Z');
const msg = (deviceTime?: Date): DeviceMessage => ({
  deviceId: 'd1',
  protocol: 'mqtt-json',
  kind: 'position',
  receivedAt: received,
  deviceTime,
  position: { lat: 31.2, lon: 121.4, valid: true, source: 'gps' },
  health: { heartRate: 70 },
  battery: 80,
  raw: '{}',
});

describe('device time guard', () => {
  it('trusts times from 2000 up to a day ahead of the receive time', () => {
    expect(deviceTimeProblem(received, received)).toBeUndefined();
    expect(deviceTimeProblem(new Date(received.getTime() + DEVICE_TIME_MAX_AHEAD_MS), received)).toBeUndefined();
    expect(deviceTimeProblem(new Date(received.getTime() - 400 * 86_400_000), received)).toBeUndefined(); // a re-upload a year late
    expect(deviceTimeProblem(new Date(DEVICE_TIME_EARLIEST_MS), received)).toBeUndefined();
  });

  it('names what is wrong with the rest', () => {
    expect(deviceTimeProblem(new Date(received.getTime() + DEVICE_TIME_MAX_AHEAD_MS + 1), received)).toBe('future');
    expect(deviceTimeProblem(new Date('9999-12-31T00:00:00Z'), received)).toBe('future');
    expect(deviceTimeProblem(new Date('2000-01-01T00:00:00Z'), received)).toBe('past'); // a clock reset to its epoch
    expect(deviceTimeProblem(new Date(0), received)).toBe('past');
    expect(deviceTimeProblem(new Date(Number.NaN), received)).toBe('invalid');
  });

  it('keeps a good device time as the points’ time', () => {
    const t = new Date(received.getTime() - 60_000);
    const seen: string[] = [];
    const pts = pointsFromMessage(msg(t), 7, (w) => seen.push(w));
    expect(pts.find((p) => p.measurement === 'position')!.time).toEqual(t);
    expect(pts.find((p) => p.measurement === 'health')!.time).toEqual(t);
    expect(pts.every((p) => !('deviceTimeMs' in p.fields))).toBe(true);
    expect(seen).toEqual([]);
  });

  it('puts a point with a wild device time at the receive time, with the claim beside it, and says so once', () => {
    const wild = new Date('+050000-01-01T00:00:00Z');
    const seen: string[] = [];
    const pts = pointsFromMessage(msg(wild), 7, (w) => seen.push(w));
    expect(pts.map((p) => p.time.getTime())).toEqual([received.getTime(), received.getTime(), received.getTime()]);
    expect(pts.find((p) => p.measurement === 'position')!.fields.deviceTimeMs).toBe(wild.getTime());
    expect(pts.find((p) => p.measurement === 'health')!.fields.deviceTimeMs).toBe(wild.getTime());
    expect(seen).toEqual(['future']);
  });

  it('leaves an invalid device time out of the fields', () => {
    const seen: string[] = [];
    const pts = pointsFromMessage(msg(new Date('not a date')), null, (w) => seen.push(w));
    expect(pts.find((p) => p.measurement === 'position')!.time).toEqual(received);
    expect(pts.find((p) => p.measurement === 'position')!.fields).not.toHaveProperty('deviceTimeMs');
    expect(seen).toEqual(['invalid']);
  });
});
