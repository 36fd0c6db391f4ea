import { describe, expect, it } from 'vitest';
import { RoutineLane } from '../../../gateway/lane.js';

const gauges = () => {
  const seen = { waiting: [] as number[], waitMs: [] as number[] };
  return { seen, metrics: { laneWaiting: { set: (v: number) => seen.waiting.push(v) }, laneWaitMs: { set: (v: number) => seen.waitMs.push(v) } } as never };
};
const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('routine lane', () => {
  it('runs each key in order, and expedite runs a key\'s waiting items at once, oldest first', async () => {
    const ran: string[] = [];
    const { metrics } = gauges();
    const lane = new RoutineLane<string, null, string>({ sliceMs: 50, maxWaitMs: 0, metrics, run: (k, m) => (ran.push(`${k}:${m}`), m), shed: () => 'shed' });
    const ps = [lane.add('a', 'a1', null), lane.add('b', 'b1', null), lane.add('a', 'a2', null), lane.add('c', 'c1', null)];
    lane.expedite('a');
    expect(ran).toEqual(['a:a1', 'a:a2']); // before the lane's slice, in the order sent
    lane.expedite('a'); // nothing left of a
    expect(await Promise.all(ps)).toEqual(['a1', 'b1', 'a2', 'c1']);
    expect(ran).toEqual(['a:a1', 'a:a2', 'b:b1', 'c:c1']);
    expect(lane.size).toBe(0);
  });

  it('yields to the event loop between slices: a timer set after 60 slow items fires before they are all done', async () => {
    let ran = 0;
    const { metrics } = gauges();
    const lane = new RoutineLane<number, null, number>({ sliceMs: 4, maxWaitMs: 0, metrics, run: (_k, m) => (spin(1), ++ran, m), shed: () => -1 });
    const all = Array.from({ length: 60 }, (_, i) => lane.add(`d${i}`, i, null));
    // once the first slice has run (a timer set before it could fire first: timers come before immediates)
    await all[0];
    const atTimer = await new Promise<number>((r) => setTimeout(() => r(ran), 0));
    expect(atTimer).toBeGreaterThan(0);
    expect(atTimer).toBeLessThan(60);
    expect(await Promise.all(all)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    await lane.flush();
  });

  it('sheds what waited past maxWaitMs, and runs what came after', async () => {
    const ran: number[] = [];
    const { metrics, seen } = gauges();
    const lane = new RoutineLane<number, null, string>({ sliceMs: 50, maxWaitMs: 20, metrics, run: (_k, m) => (ran.push(m), 'ran'), shed: () => 'shed' });
    const old = [lane.add('a', 1, null), lane.add('b', 2, null)];
    spin(30); // the loop was busy: both waited past 20 ms before the lane's turn
    const fresh = lane.add('c', 3, null);
    expect(await Promise.all([...old, fresh])).toEqual(['shed', 'shed', 'ran']);
    expect(ran).toEqual([3]);
    expect(seen.waitMs.at(-1)).toBeGreaterThanOrEqual(20);
    expect(seen.waiting.at(-1)).toBe(0);
  });

  it('expedite between two slices runs at most one slice of work: past it, and for items that waited past maxWaitMs, it sheds', async () => {
    const ran: string[] = [];
    const { metrics } = gauges();
    const lane = new RoutineLane<string, null, string>({ sliceMs: 4, maxWaitMs: 1000, metrics, run: (k, m) => (spin(3), ran.push(`${k}:${m}`), 'ran'), shed: () => 'shed' });
    const ps = ['a', 'b', 'c', 'd'].map((k) => lane.add(k, `${k}1`, null));
    // a turn of reads in which every device sent again while its report waited: 3 ms each against a 4 ms slice
    for (const k of ['a', 'b', 'c']) lane.expedite(k);
    expect(ran).toEqual(['a:a1', 'b:b1']); // c's came past the budget: shed, not run
    expect(await Promise.all(ps)).toEqual(['ran', 'ran', 'shed', 'ran']); // d's ran in the lane's slice, as usual
    // the slice gave the next turn its budget back
    const next = lane.add('a', 'a2', null);
    lane.expedite('a');
    expect(await next).toBe('ran');
    expect(ran).toEqual(['a:a1', 'b:b1', 'd:d1', 'a:a2']);
    // an item that waited past maxWaitMs is shed when expedited, as the slice would have
    const slow = new RoutineLane<string, null, string>({ sliceMs: 50, maxWaitMs: 20, metrics, run: () => 'ran', shed: () => 'shed' });
    const old = slow.add('a', 'a1', null);
    spin(25);
    const young = slow.add('a', 'a2', null);
    slow.expedite('a');
    expect(await Promise.all([old, young])).toEqual(['shed', 'ran']);
    expect(lane.size + slow.size).toBe(0);
  });

  it('a run that throws rejects only its own item; flush resolves once nothing waits', async () => {
    const { metrics } = gauges();
    const lane = new RoutineLane<number, null, number>({
      sliceMs: 50, maxWaitMs: 0, metrics, shed: () => -1,
      run: (_k, m) => {
        if (m === 2) throw new Error('boom');
        return m;
      },
    });
    const ps = [1, 2, 3].map((m) => lane.add(`k${m}`, m, null));
    const flushed = lane.flush();
    const out = await Promise.allSettled(ps);
    await flushed;
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await expect(lane.flush()).resolves.toBeUndefined();
  });
});
