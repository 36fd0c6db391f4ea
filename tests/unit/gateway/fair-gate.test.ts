/**
 * Issue 15: alarm commits take fair turns. One source never has two commits in flight; registered devices go before
 * unregistered sources; a flood from many sources cannot make a registered device wait behind all of it.
 */
import { describe, expect, it } from 'vitest';
import { FairGate, GateFull } from '../../../gateway/alarms/fair-gate.js';

const later = () => {
  let release!: () => void;
  const p = new Promise<void>((r) => (release = r));
  return { p, release };
};

describe('FairGate', () => {
  it('a registered SOS goes next even behind a flood from many unregistered sources', async () => {
    const gate = new FairGate(2);
    const order: string[] = [];
    const blockers = [later(), later()];
    // two slots held by the flood
    const held = blockers.map((b, i) => gate.run(`u:${i}`, false, async () => (order.push(`u:${i}`), b.p)));
    const flood = Array.from({ length: 200 }, (_, i) => gate.run(`u:f${i}`, false, async () => void order.push(`u:f${i}`)));
    const sos = gate.run('d:7', true, async () => void order.push('d:7'));
    expect(gate.waiting).toBe(201);
    blockers[0]!.release();
    await sos;
    expect(order.indexOf('d:7')).toBe(2); // the first slot that frees goes to the registered device
    blockers[1]!.release();
    await Promise.all([...held, ...flood]);
    expect(order).toHaveLength(203);
  });

  it('one commit in flight per source, in order; a source with a full queue is refused', async () => {
    const gate = new FairGate(4, 3);
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    const job = (n: number) => async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(n);
      inFlight--;
    };
    // one in flight and three waiting; a fifth is refused
    const ok = [0, 1, 2, 3].map((n) => gate.run('d:1', true, job(n)));
    await expect(gate.run('d:1', true, job(4))).rejects.toBeInstanceOf(GateFull);
    await Promise.all(ok);
    expect(most).toBe(1);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(gate.waiting).toBe(0);
  });

  it('a quiet registered device goes before registered devices that commit back to back', async () => {
    let t = 0;
    const gate = new FairGate(1, 64, 1000, () => t);
    const order: string[] = [];
    const first = later();
    // d:1 and d:2 are busy: each has just committed and has more waiting
    const busy = ['d:1', 'd:2'].flatMap((k) => [0, 1, 2].map((n) => gate.run(k, true, async () => void order.push(`${k}#${n}`))));
    await Promise.all(busy.filter((_, i) => i % 3 === 0));
    const blocker = gate.run('d:3', true, async () => (order.push('d:3'), first.p));
    t += 10;
    const sos = gate.run('d:7', true, async () => void order.push('d:7'));
    first.release();
    await Promise.all([...busy, blocker, sos]);
    // d:7 (no commit within the last second) takes the first free slot after d:3, ahead of d:1's and d:2's backlog
    expect(order.indexOf('d:7')).toBe(order.indexOf('d:3') + 1);
    expect(order).toHaveLength(8);
  });

  it('a failing commit frees its slot and its source', async () => {
    const gate = new FairGate(1);
    await expect(gate.run('d:1', true, async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    await expect(gate.run('d:1', true, async () => 42)).resolves.toBe(42);
  });
});
