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

  it('flush() waits for every batch, the ones chained after a full batch included', async () => {
    const w = new BatchingWriter('t', () => new Promise<void>((res) => setTimeout(res, 10)), { maxBatch: 100, flushMs: 1000, maxBuffer: 10_000 });
    w.write(Array.from({ length: 300 }, (_, i) => pt(i))); // batch 1 goes out at once; 2 and 3 chain after it
    const done = w.flush();
    await vi.advanceTimersByTimeAsync(100);
    await done;
    expect(w.stats()).toMatchObject({ written: 300, buffered: 0 });
    await w.close();
  });

  it('flushes a trickle at least every flushMs, even below the batch size', async () => {
    const batches: number[] = [];
    const w = new BatchingWriter('t', async (b) => void batches.push(b.length), { maxBatch: 1000, flushMs: 1000, maxBuffer: 10_000 });
    for (let s = 0; s < 5; s++) {
      w.write([pt(s)]);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(batches).toEqual([1, 1, 1, 1, 1]);
    await w.close();
  });

  it('backs off exponentially up to the cap while the sink fails', async () => {
    const tries: number[] = [];
    const t0 = Date.now();
    const w = new BatchingWriter(
      't',
      async () => {
        tries.push(Date.now() - t0);
        throw new Error('down');
      },
      { maxBatch: 10, flushMs: 100, maxBuffer: 100, minBackoffMs: 200, maxBackoffMs: 1000 },
    );
    w.write([pt(1)]);
    await vi.advanceTimersByTimeAsync(5000);
    // first try at the first tick, then after 200, 400, 800, 1000, 1000 … (rounded up to the 100 ms tick)
    expect(tries.slice(0, 7)).toEqual([100, 300, 700, 1500, 2500, 3500, 4500]);
    expect(w.stats()).toMatchObject({ buffered: 1, failing: true, lastError: 'down' });
    await w.close();
  });

  it('never takes back the batch in flight; if it fails, it rejoins the front and the oldest points go first', async () => {
    let release!: (ok: boolean) => void;
    const written: number[] = [];
    const w = new BatchingWriter(
      't',
      (b) =>
        new Promise<void>((res, rej) => {
          release = (ok) => {
            if (!ok) return rej(new Error('down'));
            written.push(...b.map((p) => p.fields.battery as number));
            res();
          };
        }),
      { maxBatch: 3, flushMs: 1000, maxBuffer: 5, minBackoffMs: 10 },
    );
    w.write([1, 2, 3].map(pt)); // a full batch goes out at once and hangs
    await vi.advanceTimersByTimeAsync(0);
    w.write([4, 5, 6, 7].map(pt)); // 4 waiting: within the bound; the 3 in flight come on top
    expect(w.stats()).toMatchObject({ buffered: 7, dropped: 0 });
    release(false); // 1..7 waiting now: the oldest two (1, 2) are dropped
    await vi.advanceTimersByTimeAsync(0);
    expect(w.stats()).toMatchObject({ buffered: 5, dropped: 2, failing: true });
    w.write([8].map(pt)); // and the next oldest (3)
    expect(w.stats()).toMatchObject({ buffered: 5, dropped: 3 });
    const done = w.flush();
    for (let i = 0; i < 2; i++) {
      await vi.advanceTimersByTimeAsync(0);
      release(true);
    }
    await done;
    expect(written).toEqual([4, 5, 6, 7, 8]);
    expect(w.stats()).toMatchObject({ buffered: 0, dropped: 3, written: 5, failing: false });
    await w.close();
  });

  it('reports batches, drops and depth to its hooks', async () => {
    const events: string[] = [];
    let fail = true;
    const w = new BatchingWriter(
      't',
      async () => {
        if (fail) throw new Error('down');
      },
      {
        maxBatch: 2,
        flushMs: 100,
        maxBuffer: 3,
        minBackoffMs: 100,
        onBatch: (r, n) => events.push(`batch ${r} ${n}`),
        onDrop: (n) => events.push(`drop ${n}`),
        onDepth: (n) => events.push(`depth ${n}`),
      },
    );
    w.write([1, 2, 3, 4].map(pt));
    await vi.advanceTimersByTimeAsync(0);
    fail = false;
    await vi.advanceTimersByTimeAsync(200);
    expect(events.slice(0, 4)).toEqual(['drop 1', 'batch error 2', 'depth 3', 'depth 3']);
    expect(events).toContain('batch ok 2');
    expect(events.at(-1)).toBe('depth 0');
    await w.close();
  });

  it('keeps at most maxBuffer points under sustained overload and writes the newest in order', async () => {
    const written: number[] = [];
    let down = true;
    const w = new BatchingWriter(
      't',
      async (b) => {
        if (down) throw new Error('down');
        written.push(...b.map((p) => p.fields.battery as number));
      },
      { maxBatch: 500, flushMs: 1000, maxBuffer: 2000, minBackoffMs: 100 },
    );
    for (let i = 0; i < 50_000; i++) w.write([pt(i)]);
    expect(w.stats()).toMatchObject({ buffered: 2500, dropped: 47_500 }); // 2000 waiting + the first batch in flight
    await vi.advanceTimersByTimeAsync(0); // it fails and rejoins the front: now the bound holds
    expect(w.stats()).toMatchObject({ buffered: 2000, dropped: 48_000 });
    down = false;
    await w.flush();
    expect(written).toEqual(Array.from({ length: 2000 }, (_, i) => 48_000 + i));
    await w.close();
  });

  it('buffers what encode makes of each point, leaves out what it refuses, and sends that to the sink', async () => {
    const batches: string[][] = [];
    const w = new BatchingWriter<string>('t', async (b) => void batches.push(b), { maxBatch: 10, flushMs: 1000, maxBuffer: 4 }, (p) =>
      (p.fields.battery as number) % 2 ? `b=${p.fields.battery}` : null,
    );
    w.write([1, 2, 3, 4, 5].map(pt));
    expect(w.stats()).toMatchObject({ buffered: 3, dropped: 0 }); // 1, 3, 5: the even ones have nothing to write
    w.write([7, 9].map(pt));
    expect(w.stats()).toMatchObject({ buffered: 4, dropped: 1 }); // the bound counts encoded items
    await w.flush();
    expect(batches.flat()).toEqual(['b=3', 'b=5', 'b=7', 'b=9']);
    expect(w.stats()).toMatchObject({ written: 4, buffered: 0 });
    await w.close();
  });
});
