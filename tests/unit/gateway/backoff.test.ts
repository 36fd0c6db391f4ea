import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../gateway/backoff.js';

describe('Backoff', () => {
  it('doubles from the first delay up to the cap, and starts again after a success', () => {
    const b = new Backoff(500, 30_000);
    expect(b.failing).toBe(false);
    expect(Array.from({ length: 9 }, () => b.next())).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(b.failing).toBe(true);
    b.reset();
    expect(b.failing).toBe(false);
    expect(b.next()).toBe(500);
  });

  it('stays at the cap however many failures (no overflow to Infinity or NaN)', () => {
    const b = new Backoff(250, 30_000);
    for (let i = 0; i < 10_000; i++) b.next();
    expect(b.next()).toBe(30_000);
  });

  it('a first delay above the cap waits the cap', () => {
    expect(new Backoff(200, 100).next()).toBe(100);
  });
});
