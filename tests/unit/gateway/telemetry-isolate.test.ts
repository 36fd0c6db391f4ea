/** A refused batch split until its refused points stand alone (gateway/store/telemetry/isolate.ts), on a fake store. */
import { describe, expect, it } from 'vitest';
import { BatchingWriter } from '../../../gateway/store/telemetry/batching.js';
import { isolateRefused, RejectedBatch, refusalReason } from '../../../gateway/store/telemetry/isolate.js';
import type { TelemetryPoint } from '../../../gateway/store/telemetry/types.js';

const pt = (n: number): TelemetryPoint => ({ measurement: 'device', time: new Date(1_700_000_000_000 + n), tags: { device: `d${n}`, protocol: 'watch' }, fields: { battery: n } });

/** A store that refuses any batch holding a bad point (as InfluxDB 2.x does) and keeps the rest of what it is sent. */
function fakeStore(bad: Set<number>, opts: { downAfter?: number } = {}) {
  const stored = new Set<number>();
  let calls = 0;
  const sink = async (b: TelemetryPoint[]) => {
    calls++;
    if (opts.downAfter !== undefined && calls > opts.downAfter) throw new Error('connect ECONNREFUSED');
    const refused = b.filter((p) => bad.has(p.fields.battery as number));
    if (refused.length) throw new RejectedBatch(`InfluxDB /write answered 400: {"error":"partial write: unable to parse 'x': time outside range"}`);
    for (const p of b) stored.add(p.fields.battery as number);
  };
  return { sink, stored, calls: () => calls };
}

describe('isolating refused points', () => {
  it('writes the good points of a refused batch and counts the bad ones by reason', async () => {
    const batch = Array.from({ length: 100 }, (_, i) => pt(i));
    const s = fakeStore(new Set([17, 64]));
    const r = await isolateRefused(batch, new RejectedBatch('400 time outside range'), s.sink);
    expect(r.written).toBe(98);
    expect([...r.refused]).toEqual([['time_out_of_range', 2]]);
    expect(r.retry).toEqual([]);
    expect(s.stored.size).toBe(98);
    expect(s.stored.has(17) || s.stored.has(64)).toBe(false);
    expect(s.calls()).toBeLessThan(30); // ~2 log2(n) per bad point
  });

  it('stops at its request budget and counts what it could not settle', async () => {
    const batch = Array.from({ length: 64 }, (_, i) => pt(i));
    const s = fakeStore(new Set(batch.map((_, i) => i)));
    const r = await isolateRefused(batch, new RejectedBatch('400 x'), s.sink, 10);
    expect(r.written).toBe(0);
    expect([...r.refused.values()].reduce((a, v) => a + v, 0)).toBe(64);
    expect(r.refused.get('not_isolated')).toBeGreaterThan(0);
  });

  it('hands back what a passing failure left unsettled, for the retry', async () => {
    const batch = Array.from({ length: 8 }, (_, i) => pt(i));
    const s = fakeStore(new Set([0]), { downAfter: 2 });
    const r = await isolateRefused(batch, new RejectedBatch('400 x'), s.sink);
    expect(r.written + [...r.refused.values()].reduce((a, v) => a + v, 0) + r.retry.length).toBe(8);
    expect(r.retry.length).toBeGreaterThan(0);
  });

  it('names the reasons InfluxDB gives', () => {
    expect(refusalReason(`partial write: unable to parse 'device battery=1 253370764800000': time outside range -9223372036854775806 - 9223372036854775806 dropped=0`)).toBe('time_out_of_range');
    expect(refusalReason('{"error":"field type conflict"}')).toBe('field_type_conflict');
    expect(refusalReason('partial write: max-values-per-tag limit exceeded (3/2)')).toBe('max_values_per_tag');
    expect(refusalReason('partial write: points beyond retention policy dropped=1')).toBe('beyond_retention');
    expect(refusalReason("unable to parse 'x': missing fields")).toBe('unparseable');
    expect(refusalReason('InfluxDB /write answered 413: Request Entity Too Large')).toBe('too_large');
  });

  it('BatchingWriter: good points written, refused ones counted, nothing else lost', async () => {
    const s = fakeStore(new Set([3]));
    const refused: [number, string][] = [];
    const w = new BatchingWriter('fake', s.sink, { maxBatch: 10, flushMs: 60_000, maxBuffer: 1000, onRefused: (n, r) => refused.push([n, r]) });
    w.write(Array.from({ length: 10 }, (_, i) => pt(i)));
    await w.flush();
    expect(w.stats()).toMatchObject({ buffered: 0, written: 9, refused: 1, dropped: 0 });
    expect(refused).toEqual([[1, 'time_out_of_range']]);
    await w.close();
  });
});
