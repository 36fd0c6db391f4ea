import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchingWriter } from '../../../gateway/store/telemetry/batching.js';
import type { TelemetryPoint } from '../../../gateway/store/telemetry/types.js';

const pt = (i: number): TelemetryPoint => ({ measurement: 'device', time: new Date(i), tags: { device: 'd', protocol: 'watch' }, fields: { battery: i } });

describe('BatchingWriter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('flushes by size at once and by time every flushMs', async () => {
    const batches: number[] = [];
    const w = new BatchingWriter('t', async (b) => void batches.push(b.length), { maxBatch: 3, flushMs: 1000, maxBuffer: 100 });
    w.write([pt(1), pt(2), pt(3)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([3]);
    w.write([pt(4)]);
    await vi.advanceTimersByTimeAsync(999);
    expect(batches).toEqual([3]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([3, 1]);
    await w.close();
  });

  it('drops the oldest beyond the bound and counts them', async () => {
    const written: number[] = [];
    const w = new BatchingWriter('t', async (b) => void written.push(...b.map((p) => p.fields.battery as number)), { maxBatch: 1000, flushMs: 1000, maxBuffer: 5 });
    w.write([1, 2, 3, 4, 5, 6, 7].map(pt));
    expect(w.stats().dropped).toBe(2);
    await w.flush();
    expect(written).toEqual([3, 4, 5, 6, 7]);
    await w.close();
  });

  it('keeps the batch while the sink fails and retries with backoff', async () => {
    let fail = true;
    const written: number[] = [];
    const w = new BatchingWriter(
      't',
      async (b) => {
        if (fail) throw new Error('down');
        written.push(...b.map((p) => p.fields.battery as number));
      },
      { maxBatch: 10, flushMs: 100, maxBuffer: 100, minBackoffMs: 200 },
    );
    w.write([pt(1), pt(2)]);
    await vi.advanceTimersByTimeAsync(100);
    expect(w.stats().failing).toBe(true);
    expect(w.stats().buffered).toBe(2);
    fail = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(written).toEqual([1, 2]);
    expect(w.stats()).toMatchObject({ buffered: 0, failing: false, written: 2 });
    await w.close();
  });
});
