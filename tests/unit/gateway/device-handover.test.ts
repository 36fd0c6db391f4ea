/**
 * The device handover of the scale-out registry (issue 24, gateway/cluster/devices.ts), on a fake Redis (pub/sub
 * messages delivered by hand): a device held by no other live node costs no wait and no round trip; a holder asked
 * to release it that never answers (killed -9) holds this node's frames at most HANDOVER_WAIT_MS, and its other
 * devices are then not waited for until it is heard from; one that answers lets them go at once; and a node asked
 * to release answers only after its frames already read are handled.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { DeviceDirectory, HANDOVER_WAIT_MS } from '../../../gateway/cluster/devices.js';

const IMEI = '8800024901';

function fakeRedis() {
  const sub = Object.assign(new EventEmitter(), { subscribe: async () => 0 });
  const published: { channel: string; m: Record<string, string> }[] = [];
  const pub = {
    publish: async (channel: string, text: string) => (published.push({ channel, m: JSON.parse(text) }), 0),
    scan: async () => ['0', []],
    mget: async () => [],
    set: async () => 'OK',
    eval: async () => 0,
    get: async () => null,
  };
  return { redis: { pub: pub as unknown as Redis, sub: sub as unknown as Redis }, sub, published };
}

async function directory(o: { alive?: (n: string) => boolean; releaseHere?: (id: string) => Promise<void> } = {}) {
  const f = fakeRedis();
  const dir = new DeviceDirectory('node-b', f.redis, async () => 0, o.alive ?? (() => true), pino({ level: 'silent' }), o.releaseHere);
  await dir.start();
  const heldBy = (node: string, id = IMEI) => f.sub.emit('message', 'anxin:sessions', JSON.stringify({ t: 'on', id, n: node }));
  return { dir, heldBy, ...f };
}

const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('device handover between nodes', () => {
  it('a device no other node holds: no wait, nothing asked', async () => {
    const { dir, published } = await directory();
    expect(dir.handover(IMEI)).toBeUndefined();
    expect(published).toHaveLength(0);
  });

  it('a device held by a node that is no longer alive: no wait', async () => {
    const { dir, heldBy, published } = await directory({ alive: () => false });
    heldBy('node-a');
    expect(dir.handover(IMEI)).toBeUndefined();
    expect(published).toHaveLength(0);
  });

  it('a holder that never answers holds the frames HANDOVER_WAIT_MS, then they go on', async () => {
    vi.useFakeTimers();
    const { dir, heldBy, published } = await directory();
    heldBy('node-a');
    const wait = dir.handover(IMEI)!;
    expect(wait).toBeInstanceOf(Promise);
    expect(published).toEqual([{ channel: 'anxin:node:node-a', m: expect.objectContaining({ t: 'release', id: IMEI, reply: 'node-b' }) }]);
    // a second frame meanwhile waits for the same handover, and asks nothing more
    expect(dir.handover(IMEI)).toBe(wait);
    expect(published).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(HANDOVER_WAIT_MS - 1);
    expect(await settled(wait)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(wait)).toBe(true);
    expect(dir.handoverTimeouts).toBe(1);
    expect(dir.handovers).toBe(0);
    // asked once: the next frames are not held again
    expect(dir.handover(IMEI)).toBeUndefined();
    dir.stop();
  });

  it('after a timeout the silent node is asked for its other devices but not waited for, until it is heard from', async () => {
    vi.useFakeTimers();
    const { dir, heldBy, published } = await directory();
    const [other, third] = ['8800024902', '8800024903'];
    heldBy('node-a');
    heldBy('node-a', other);
    const first = dir.handover(IMEI)!;
    await vi.advanceTimersByTimeAsync(HANDOVER_WAIT_MS);
    expect(await settled(first)).toBe(true);
    // node-a's other devices (they reconnect in waves after a kill -9): asked, not waited for
    published.length = 0;
    expect(dir.handover(other)).toBeUndefined();
    expect(published).toEqual([{ channel: 'anxin:node:node-a', m: expect.objectContaining({ t: 'release', id: other }) }]);
    expect(dir.handoversUnwaited).toBe(1);
    // node-a is heard from again (a session news): its devices are waited for again
    heldBy('node-a', third);
    expect(dir.handover(third)).toBeInstanceOf(Promise);
    dir.stop();
  });

  it('a holder that answers released lets the frames go at once', async () => {
    vi.useFakeTimers();
    const { dir, heldBy, sub, published } = await directory();
    heldBy('node-a');
    const wait = dir.handover(IMEI)!;
    expect(await settled(wait)).toBe(false);
    sub.emit('message', 'anxin:node:node-b', JSON.stringify({ t: 'released', req: published[0]!.m.req, n: 'node-a' }));
    expect(await settled(wait)).toBe(true);
    expect(dir.handovers).toBe(1);
    expect(dir.handoverTimeouts).toBe(0);
  });

  it('asked to release, a node answers once the frames it had read are handled', async () => {
    let finish!: () => void;
    const asked: string[] = [];
    const { sub, published } = await directory({
      releaseHere: (id) => (asked.push(id), new Promise<void>((r) => (finish = r))),
    });
    sub.emit('message', 'anxin:node:node-b', JSON.stringify({ t: 'release', id: IMEI, req: 'r1', reply: 'node-c' }));
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toEqual([IMEI]);
    expect(published.filter((p) => p.m.t === 'released')).toHaveLength(0);
    finish();
    await new Promise((r) => setTimeout(r, 20));
    expect(published.filter((p) => p.m.t === 'released')).toEqual([{ channel: 'anxin:node:node-c', m: { t: 'released', req: 'r1', n: 'node-b' } }]);
  });
});
