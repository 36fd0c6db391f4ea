/**
 * Scale-out (issue 24): one device's frames are handled in order across nodes. Two gateway nodes in this process
 * share one PostgreSQL and one real Redis; a watch (the watch text protocol over real TCP on loopback) reports
 * numbered step counts (LK,<n>,0,80) to node A, whose handling of them is slowed, and reconnects to node B
 * mid-burst while A still has frames of it read and not yet handled:
 * - its old connection still open (the mobile network lost it without a FIN): B asks A to release the device, A
 *   closes that connection ('moved'), handles the frames it had read, answers, and only then does B handle its own;
 * - its old connection closed by the watch (a FIN) just before: A gives the device up only once the frames it had
 *   read are handled, and B waits for that too.
 * Every frame is handled once, in the order the watch sent it (the order of the pipeline's `device.message` on
 * both nodes, which share this process's clock). Without the handover B handles its frames while A still works
 * through its backlog, and the order breaks.
 * - A holder slower than HANDOVER_WAIT_MS: B goes on after that bound (nothing lost, order no longer promised) and
 *   keeps the device (A's backlog does not take it back).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { HANDOVER_WAIT_MS } from '../../gateway/cluster/devices.js';
import { writeFrame } from '../../simulators/watch/wire.js';
import { login, startTestApp } from '../helpers/app.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { missingTools } from '../helpers/tools.js';
import { metricValue, until } from '../helpers/until.js';

const skip = missingTools(['redis-server'], 'redis-server');
const W1 = '8800024301';
const W2 = '8800024302';
const W3 = '8800024303';
/** how long node A takes over each frame of the test's watches: W3's burst outlasts HANDOVER_WAIT_MS */
const SLOW_MS = new Map([
  [W1, 40],
  [W2, 40],
  [W3, 250],
]);
const BURST = 20;

let redis: TestRedis;
let a: App;
let b: App;
const sockets: Socket[] = [];
/** frames handled, as (node, device, steps), in the order the pipelines handled them */
const handled: { node: string; imei: string; steps: number; at: number }[] = [];
const stepsOf = (imei: string) => handled.filter((h) => h.imei === imei).map((h) => h.steps);

const lk = (imei: string, steps: number) => writeFrame('3G', imei, `LK,${steps},0,80`);
const burst = (imei: string, from: number, to: number) => Buffer.concat(Array.from({ length: to - from + 1 }, (_, i) => lk(imei, from + i)));

async function open(app: App): Promise<{ s: Socket; gone: Promise<void> }> {
  const s = connect({ host: '127.0.0.1', port: app.watch.port });
  s.on('error', () => undefined);
  s.on('data', () => undefined);
  await new Promise<void>((r) => s.once('connect', () => r()));
  sockets.push(s);
  return { s, gone: new Promise<void>((r) => s.once('close', () => r())) };
}

/** connected to node A, identified, and known by node B to be held by A */
async function onA(imei: string) {
  const c = await open(a);
  c.s.write(lk(imei, 0));
  await until(() => a.watch.sessions.has(imei));
  await until(() => b.cluster.devices!.onlineElsewhere(imei));
  return c;
}

describe.skipIf(skip)('per-device order across two nodes (handover)', () => {
  beforeAll(async () => {
    redis = await startRedis();
    // never shed: a heartbeat shed while the two nodes start in one process is counted, not handled (not observed)
    a = await startTestApp({}, { REDIS_URL: redis.url, NODE_ID: 'node-a', OVERLOAD_LAG_MS: '0' });
    b = await startTestApp({ databaseUrl: a.databaseUrl }, { REDIS_URL: redis.url, NODE_ID: 'node-b', OVERLOAD_LAG_MS: '0' });
    const admin = await login(a);
    const e = await a.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '李桂英' } });
    for (const identifier of [W1, W2, W3]) {
      const d = await a.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier, protocol: 'watch', elderId: e.json().id } });
      expect(d.statusCode).toBe(201);
    }
    for (const [node, app] of [['a', a], ['b', b]] as const) {
      app.bus.on('device.message', ({ msg }) => {
        if (SLOW_MS.has(msg.deviceId) && msg.health?.steps !== undefined) handled.push({ node, imei: msg.deviceId, steps: msg.health.steps, at: Date.now() });
      });
    }
    // node A is slow with these watches: each frame is in flight SLOW_MS (its alarm hand-off, after device.message),
    // whichever way the pipeline hands it over (handle, or handleNow from the routine lane)
    const alarms = a.alarms;
    const handle = alarms.handle.bind(alarms);
    const handleNow = alarms.handleNow.bind(alarms);
    const slow = (ms: number) => new Promise((r) => setTimeout(r, ms));
    alarms.handle = async (msg, device) => {
      const ms = SLOW_MS.get(msg.deviceId);
      if (ms) await slow(ms);
      return handle(msg, device);
    };
    alarms.handleNow = (msg, device) => {
      const ms = SLOW_MS.get(msg.deviceId);
      return ms ? slow(ms).then(() => handle(msg, device)) : handleNow(msg, device);
    };
    await until(() => a.cluster.presence.members().length === 2 && b.cluster.presence.members().length === 2);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await b?.stop();
    await a?.stop();
    await redis?.destroy();
  });

  it('a watch that reconnects to B mid-burst, its old connection to A still open: A finishes, then B', async () => {
    const sa = await onA(W1);
    sa.s.write(burst(W1, 1, BURST));
    // A has read the burst and handles it slowly; the watch is on B now (the old connection lost, no FIN)
    await until(() => stepsOf(W1).includes(1));
    const sb = await open(b);
    for (let n = BURST + 1; n <= 2 * BURST; n += 5) {
      sb.s.write(burst(W1, n, n + 4));
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => stepsOf(W1).length >= 2 * BURST + 1, 20_000);
    await new Promise((r) => setTimeout(r, 200)); // nothing more comes
    const seen = handled.filter((h) => h.imei === W1);
    expect(seen.map((h) => h.steps)).toEqual(Array.from({ length: 2 * BURST + 1 }, (_, i) => i));
    // A handled what it had read, B the rest
    expect(seen.filter((h) => h.node === 'a').map((h) => h.steps)).toEqual(Array.from({ length: BURST + 1 }, (_, i) => i));
    // A closed its old connection for the handover; B holds the device now
    await sa.gone;
    expect(await metricValue(a.metrics.registry, 'anxin_connections_closed_total', 'reason="moved"')).toBe(1);
    expect(b.cluster.devices!.handovers).toBe(1);
    expect(b.cluster.devices!.handoverTimeouts).toBe(0);
    expect(await metricValue(b.metrics.registry, 'anxin_device_handovers_total', 'outcome="released"')).toBe(1);
    await until(() => b.watch.sessions.has(W1) && !a.watch.sessions.has(W1));
    await until(async () => (await b.cluster.devices!.holder(W1)) === 'node-b');
    expect(sb.s.destroyed).toBe(false);
  });

  it('a watch that closed its connection to A and reconnects to B: A gives it up only after the frames it had read', async () => {
    const before = b.cluster.devices!.handovers;
    const sa = await onA(W2);
    sa.s.write(burst(W2, 1, BURST));
    await until(() => stepsOf(W2).includes(1));
    sa.s.end(); // a FIN: A still has most of the burst to handle
    await sa.gone;
    const sb = await open(b);
    for (let n = BURST + 1; n <= 2 * BURST; n += 5) {
      sb.s.write(burst(W2, n, n + 4));
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => stepsOf(W2).length >= 2 * BURST + 1, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(stepsOf(W2)).toEqual(Array.from({ length: 2 * BURST + 1 }, (_, i) => i));
    expect(b.cluster.devices!.handovers).toBe(before + 1);
    expect(b.cluster.devices!.handoverTimeouts).toBe(0);
    await until(async () => (await b.cluster.devices!.holder(W2)) === 'node-b');
  });

  it('a holder slower than HANDOVER_WAIT_MS: B goes on after it, loses nothing and keeps the device', async () => {
    const timeouts = b.cluster.devices!.handoverTimeouts;
    const sa = await onA(W3);
    sa.s.write(burst(W3, 1, BURST)); // 20 × 250 ms on A
    await until(() => stepsOf(W3).includes(1));
    const sb = await open(b);
    const sentAt = Date.now();
    sb.s.write(burst(W3, BURST + 1, BURST + 5));
    await until(() => stepsOf(W3).length >= BURST + 6, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    // every frame once; B's waited the bound, then went on while A still had its backlog
    expect([...stepsOf(W3)].sort((x, y) => x - y)).toEqual(Array.from({ length: BURST + 6 }, (_, i) => i));
    const firstOnB = handled.find((h) => h.imei === W3 && h.node === 'b')!;
    expect(firstOnB.at - sentAt).toBeGreaterThanOrEqual(HANDOVER_WAIT_MS - 50);
    expect(handled.filter((h) => h.imei === W3 && h.node === 'a').at(-1)!.at).toBeGreaterThan(firstOnB.at);
    expect(b.cluster.devices!.handoverTimeouts).toBe(timeouts + 1);
    expect(await metricValue(b.metrics.registry, 'anxin_device_handovers_total', 'outcome="timeout"')).toBe(1);
    // A's backlog asked for nothing back: B's connection is open and holds the device
    await sa.gone;
    expect(sb.s.destroyed).toBe(false);
    expect(b.watch.sessions.has(W3)).toBe(true);
    expect(a.cluster.devices!.handovers + a.cluster.devices!.handoverTimeouts).toBe(0);
    await until(async () => (await b.cluster.devices!.holder(W3)) === 'node-b');
  });
});
