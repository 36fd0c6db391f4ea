/**
 * cluster (issue 24): gateway nodes on one PostgreSQL database and one Redis (Debian's redis-server, started here),
 * each node a child process with its own ports. Three measurements in one run:
 * 1. Throughput with 1, 2 and 3 nodes: the same offered load (watch position reports) split evenly, each node's
 *    share of the fleet connected straight to that node's watch port. On this machine every node, the fleet,
 *    PostgreSQL, InfluxDB and Redis share the same cores: the ratio says what an added node buys here, not on its
 *    own machine.
 * 2. Alarm → screen-pop across nodes: the agent's WebSocket is on node 1; SOS from watches on nodes 2 and 3, and
 *    from watches on node 1 interleaved as the baseline.
 * 3. Takeover: kill -9 the node holding the `alarm-engine-timer` singleton and time until another node's /metrics
 *    shows it held, with LEADER_TAKEOVER_S at its default (10) and at 3; likewise the `telephony` singleton (the ARI
 *    application: the time until another node holds it, its /healthz telephony up, connected to Asterisk).
 */
import { Fleet } from '../../simulators/fleet/index.js';
import type { AlarmRecord } from '../../simulators/fleet/core.js';
import { startGateway, type Gateway } from '../lib/gateway.js';
import { matchAlarms, type Ctx } from '../lib/measure.js';
import { startRedis, type LocalRedis } from '../../testkit/redis.js';
import type { ScenarioResult } from '../lib/result.js';
import { coresBusy, machineCpu, pidsNamed, procCpuSeconds, round, sleep } from '../lib/stats.js';
import type { ServerStats } from '../server.js';

const SINGLETON = 'alarm-engine-timer';
const leaderLine = (singleton: string) => new RegExp(`^anxin_singleton_leader\\{singleton="${singleton}"\\} 1$`, 'm');
const LEADER_LINE = leaderLine(SINGLETON);
const TELEPHONY_LINE = leaderLine('telephony');

interface Node {
  id: string;
  gw: Gateway;
  dead: boolean;
}

interface Step {
  nodes: number;
  offeredPerS: number;
  seconds: number;
  decodedPerS: number;
  storedPointsPerS: number;
  shedPerS: number;
  /** decoded and not shed by the overload guard: handled in full (stored, judged by the rules) */
  keptPerS: number;
  pointsDropped: number;
  perNode: { node: string; decodedPerS: number; storedPointsPerS: number; cpuPct: number; connections: number; eldP99Ms: number }[];
  /** all gateway nodes together, % of one core */
  gatewaysCpuPct: number;
  fleetCpuPct: number;
  postgresCpuPct: number;
  influxdCpuPct: number;
  redisCpuPct: number;
  machineCores: number;
  cores: number;
  /** this step's figure over the 1-node step's */
  decodedVs1?: number;
  storedVs1?: number;
  keptVs1?: number;
}

export async function cluster(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = performance.now();
  const q = ctx.quick;
  const watches = q ? 3000 : 6000;
  // more than one node keeps up with on this shared machine (it sheds routine reports), so what more nodes add
  // shows; at 12,000/s one node in cluster mode stopped answering altogether (its PostgreSQL pool exhausted)
  const offered = q ? 6000 : 12000;
  const warmS = q ? 3 : 5;
  const windowS = q ? 10 : 20;
  const alarmS = q ? 15 : 45;
  const alarmsPerS = 3;
  const kills = q ? 1 : 2;
  const res: ScenarioResult = {
    name: 'cluster',
    description: `1, 2, 3 gateway nodes on one PostgreSQL + one Redis, all on this machine's cores; ${watches.toLocaleString('en')} watches split over the nodes, ${offered.toLocaleString('en')} UD/s offered for ${windowS} s per step; SOS on nodes 2-3 vs node 1 → agent on node 1 (${alarmsPerS}/s for ${alarmS} s); kill -9 of the ${SINGLETON} holder, LEADER_TAKEOVER_S 10 and 3`,
    ok: false,
    wallSeconds: 0,
    devices: { watch: watches, mqtt: 0 },
    offeredPerS: offered,
    notes: [],
  };
  let redis: LocalRedis | undefined;
  const nodes: Node[] = [];
  let fleets: Fleet[] = [];
  const stopFleets = async () => {
    await Promise.all(fleets.map((f) => f.stop().catch(() => undefined)));
    fleets = [];
  };
  try {
    redis = await startRedis();
    ctx.log(`  [cluster] redis-server at ${redis.url}`);
    const env = (id: string, takeoverS?: number): Record<string, string> => ({ REDIS_URL: redis!.url, NODE_ID: id, ...(takeoverS ? { LEADER_TAKEOVER_S: String(takeoverS) } : {}) });
    const addNode = async (takeoverS?: number) => {
      const id = `node-${nodes.length + 1}`;
      const first = nodes[0]?.gw;
      const gw = await startGateway({ name: `cluster-${id}`, pgAdminUrl: ctx.pgAdminUrl, influxUrl: ctx.influxUrl, watches, mqtt: 0, env: env(id, takeoverS), execArgv: ctx.gatewayExecArgv, logDir: ctx.logDir, ...(first ? { join: first } : {}) });
      nodes.push({ id, gw, dead: false });
      ctx.log(`  [cluster] ${id} up (pid ${gw.pid}, watch port ${gw.watchPort}, http ${gw.httpPort})`);
    };

    // 1. throughput with 1, 2, 3 nodes
    const steps: Step[] = [];
    for (let n = 1; n <= 3; n++) {
      while (nodes.length < n) await addNode();
      await stopFleets();
      fleets = await connectShares(ctx, nodes.slice(0, n), n, q);
      steps.push(await measureStep(ctx, nodes.slice(0, n), fleets, offered, warmS, windowS, redis.pid));
      const s = steps.at(-1)!;
      s.decodedVs1 = round(s.decodedPerS / steps[0]!.decodedPerS, 2);
      s.storedVs1 = round(s.storedPointsPerS / steps[0]!.storedPointsPerS, 2);
      s.keptVs1 = round(s.keptPerS / steps[0]!.keptPerS, 2);
      ctx.log(`  [cluster] ${n} node(s): ${s.decodedPerS.toLocaleString('en')} decoded/s, ${s.keptPerS.toLocaleString('en')} kept/s (${s.keptVs1}× 1 node), ${s.storedPointsPerS.toLocaleString('en')} points stored/s (${s.storedVs1}× 1 node), ${s.shedPerS.toLocaleString('en')} shed/s, gateways ${s.gatewaysCpuPct} % CPU, machine ${s.machineCores}/${s.cores} cores`);
    }

    // 2. alarm → screen-pop on node 1's agent, from watches on each node (fleet k is node k's share)
    const alarms = await alarmPhase(ctx, nodes, fleets, alarmsPerS, alarmS);
    await stopFleets();
    res.alarms = alarms.remote;

    // 3. takeover after kill -9 of the holder: the nodes running now (default setting), then three fresh nodes at 3 s
    const takeover: { leaderTakeoverS: number; seconds: (number | null)[]; telephonySeconds: (number | null)[] }[] = [];
    const tel10: (number | null)[] = [];
    takeover.push({ leaderTakeoverS: 10, seconds: await killHolders(ctx, nodes, kills, 10, tel10), telephonySeconds: tel10 });
    for (const x of nodes.slice(1)) if (!x.dead) await x.gw.stop(); // released cleanly: the 3 s nodes start free
    for (const x of nodes.slice(1)) x.dead = true;
    if (!nodes[0]!.dead) {
      await nodes[0]!.gw.child.stop();
      nodes[0]!.dead = true;
    }
    for (let k = 0; k < 3; k++) await addNode(3);
    const tel3: (number | null)[] = [];
    takeover.push({ leaderTakeoverS: 3, seconds: await killHolders(ctx, nodes.filter((x) => !x.dead), kills, 3, tel3), telephonySeconds: tel3 });

    const best = steps.reduce((a, s) => (s.storedPointsPerS > a.storedPointsPerS ? s : a), steps[0]!);
    res.extra = {
      cores: steps[0]!.cores,
      sharedCores: `every node, the fleet, PostgreSQL, InfluxDB and Redis run on these ${steps[0]!.cores} cores: the ratio is what an added node buys on one machine, not what a node on its own machine would add`,
      steps,
      bestStep: best.nodes,
      alarms: { local: alarms.local, remote: alarms.remote, p99Ratio: alarms.ratio, byNode: alarms.byNode },
      takeover,
    };
    for (const t of takeover) {
      const missed = t.seconds.filter((s) => s === null).length;
      if (missed) res.notes.push(`LEADER_TAKEOVER_S=${t.leaderTakeoverS}: ${missed} kill(s) with no takeover seen within the bound`);
    }
    res.ok = true;
  } catch (e) {
    res.error = (e as Error).message;
    ctx.log(`  [cluster] FAILED: ${res.error}`);
  } finally {
    await stopFleets();
    // joiners first: the first node's stop drops the shared database
    for (const x of [...nodes].reverse()) await x.gw.stop().catch(() => undefined);
    await redis?.destroy().catch(() => undefined);
    res.wallSeconds = Math.round((performance.now() - t0) / 1000);
  }
  return res;
}

/** The fleet split evenly over `nodes`, each share connected straight to its node's watch port. */
async function connectShares(ctx: Ctx, nodes: Node[], n: number, quick: boolean): Promise<Fleet[]> {
  const ids = nodes[0]!.gw.watchIds;
  const fleets: Fleet[] = [];
  try {
    for (let k = 0; k < nodes.length; k++) {
      const share = ids.slice(Math.floor((ids.length * k) / nodes.length), Math.floor((ids.length * (k + 1)) / nodes.length));
      // a source address per step and node: no 4-tuple left in TIME_WAIT by the previous step is reused
      fleets.push(await Fleet.start({ watch: { host: '127.0.0.1', port: nodes[k]!.gw.watchPort }, devices: [{ protocol: 'watch', ids: share }], sourceAddress: (j) => `127.0.${n * 4 + k}.${2 + j}` }));
    }
    const t = performance.now();
    const r = await Promise.all(fleets.map((f) => f.connect({ perS: 2000, maxPending: 1000, timeoutMs: quick ? 120_000 : 300_000 })));
    const ready = r.reduce((a, x) => a + x.ready, 0);
    ctx.log(`  [cluster] ${n} node(s): ${ready.toLocaleString('en')}/${ids.length.toLocaleString('en')} watches logged in after ${round((performance.now() - t) / 1000, 1)} s`);
    // a few logins time out while the machine is saturated: the step is measured with those that made it (logged)
    if (ready < ids.length * 0.95) throw new Error(`only ${ready} of ${ids.length} watches logged in`);
    return fleets;
  } catch (e) {
    await Promise.all(fleets.map((f) => f.stop().catch(() => undefined)));
    throw e;
  }
}

const others = (redisPid: number) => ({
  pg: pidsNamed('postgres').reduce((a, p) => a + procCpuSeconds(p), 0),
  influx: pidsNamed('influxd').reduce((a, p) => a + procCpuSeconds(p), 0),
  redis: procCpuSeconds(redisPid),
});

async function measureStep(ctx: Ctx, nodes: Node[], fleets: Fleet[], offered: number, warmS: number, windowS: number, redisPid: number): Promise<Step> {
  const n = nodes.length;
  await Promise.all(fleets.map((f) => f.setRate('ud', offered / n)));
  await sleep(warmS * 1000);
  await Promise.all(nodes.map((x) => x.gw.resetEld()));
  const snap = async () => ({ at: performance.now(), s: await Promise.all(nodes.map((x) => x.gw.stats())), f: (await Promise.all(fleets.map((f) => f.stats()))).reduce((a, x) => a + x.cpuUs, 0), m: machineCpu(), o: others(redisPid) });
  const a = await snap();
  for (let sec = 5; sec <= windowS; sec += 5) {
    await sleep(5000);
    if (sec < windowS) ctx.log(`  [cluster] ${n} node(s): ${sec}/${windowS} s`);
  }
  await sleep(Math.max(0, a.at + windowS * 1000 - performance.now()));
  const b = await snap();
  await Promise.all(fleets.map((f) => f.setRate('ud', 0)));
  const secs = (b.at - a.at) / 1000;
  const per = (k: (s: ServerStats) => number, i: number) => (k(b.s[i]!) - k(a.s[i]!)) / secs;
  const total = (k: (s: ServerStats) => number) => Math.round(nodes.reduce((acc, _x, i) => acc + per(k, i), 0));
  const step: Step = {
    nodes: n,
    offeredPerS: offered,
    seconds: round(secs, 1)!,
    decodedPerS: total((s) => s.messages),
    storedPointsPerS: total((s) => s.telemetry.written),
    shedPerS: total((s) => s.shed),
    keptPerS: total((s) => s.messages) - total((s) => s.shed),
    pointsDropped: b.s.reduce((acc, s, i) => acc + s.telemetry.dropped - a.s[i]!.telemetry.dropped, 0),
    perNode: nodes.map((x, i) => ({
      node: x.id,
      decodedPerS: Math.round(per((s) => s.messages, i)),
      storedPointsPerS: Math.round(per((s) => s.telemetry.written, i)),
      cpuPct: Math.round(per((s) => s.cpuUs, i) / 1e4),
      connections: b.s[i]!.watchConnections,
      eldP99Ms: round(b.s[i]!.eld.p99, 1)!,
    })),
    gatewaysCpuPct: Math.round(nodes.reduce((acc, _x, i) => acc + per((s) => s.cpuUs, i), 0) / 1e4),
    fleetCpuPct: Math.round((b.f - a.f) / 1e4 / secs),
    postgresCpuPct: Math.max(0, Math.round(((b.o.pg - a.o.pg) / secs) * 100)),
    influxdCpuPct: Math.round(((b.o.influx - a.o.influx) / secs) * 100),
    redisCpuPct: Math.round(((b.o.redis - a.o.redis) / secs) * 100),
    machineCores: round(coresBusy(a.m, b.m), 2)!,
    cores: a.m.cores,
  };
  // the backlog written out before the next step, so one step's leftovers do not count in the next (bounded)
  const until = performance.now() + 60_000;
  while (performance.now() < until && (await Promise.all(nodes.map((x) => x.gw.stats()))).some((s) => s.telemetry.buffered > 1000)) await sleep(250);
  return step;
}

/** SOS round-robin over the nodes' fleets; screen-pops timed on node 1's agent WebSocket. */
async function alarmPhase(ctx: Ctx, nodes: Node[], fleets: Fleet[], perS: number, seconds: number) {
  const first = nodes[0]!.gw;
  await Promise.all(nodes.map((x) => x.gw.stages(true)));
  first.ws.splice(0);
  await Promise.all(fleets.map((f) => f.alarms(true)));
  let turn = 0;
  let busy = 0;
  const timer = setInterval(() => {
    if (busy > 10) return; // the fleet answers in microseconds: a backlog here means something is wedged
    busy++;
    void fleets[turn++ % fleets.length]!
      .alarm('watch')
      .catch(() => null)
      .finally(() => busy--);
  }, 1000 / perS);
  for (let sec = 5; sec <= seconds; sec += 5) {
    await sleep(5000);
    const s = await Promise.all(fleets.map((f) => f.stats()));
    ctx.log(`  [cluster] alarms ${sec}/${seconds} s: ${s.map((x, k) => `node-${k + 1} ${x.alarmsAcked}/${x.alarmsSent} acked`).join(', ')} · ${first.ws.filter((w) => w.type === 'present').length} pops on node-1`);
  }
  clearInterval(timer);
  const until = performance.now() + 30_000;
  while (performance.now() < until && (await Promise.all(fleets.map((f) => f.stats()))).some((s) => s.alarmsPending > 0)) await sleep(250);
  await sleep(1000); // pops trail the acknowledgement a little, more so across nodes
  const records: AlarmRecord[][] = await Promise.all(fleets.map((f) => f.alarms(true)));
  const stages = (await Promise.all(nodes.map((x) => x.gw.stages(true)))).flat();
  const ws = first.ws.splice(0);
  const local = matchAlarms(records[0]!, stages, ws);
  const remote = matchAlarms(records.slice(1).flat(), stages, ws);
  const byNode = Object.fromEntries(records.map((r, k) => [`node-${k + 1}`, { injected: r.length, screenPop: matchAlarms(r, stages, ws).stages.screenPop }]));
  const lp = local.stages.screenPop.p99;
  const rp = remote.stages.screenPop.p99;
  const ratio = lp && rp ? round(rp / lp, 2) : undefined;
  ctx.log(`  [cluster] screen-pop p50/p99 ms: same node ${local.stages.screenPop.p50}/${lp} (${local.stages.screenPop.n}/${local.injected}), other nodes ${remote.stages.screenPop.p50}/${rp} (${remote.stages.screenPop.n}/${remote.injected}), p99 ratio ${ratio}`);
  return { local, remote, ratio, byNode };
}

/** Whether this node's /metrics shows it holding the singleton (false when it cannot be read). */
async function holds(gw: Gateway, line = LEADER_LINE): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`, { signal: AbortSignal.timeout(2000) });
    return r.ok && line.test(await r.text());
  } catch {
    return false;
  }
}

/** Whether this node runs telephony with ARI up (its /metrics gauge and its /healthz). */
async function runsTelephony(gw: Gateway): Promise<boolean> {
  if (!(await holds(gw, TELEPHONY_LINE))) return false;
  try {
    const r = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
    const h = (await r.json()) as { parts?: { telephony?: { state?: string; mode?: string } } };
    return h.parts?.telephony?.state === 'up' && h.parts.telephony.mode !== 'standby';
  } catch {
    return false;
  }
}

/** `times` rounds of: find the holder, kill -9 it, time until another live node's /metrics shows the gauge at 1. */
async function killHolders(ctx: Ctx, nodes: Node[], times: number, settingS: number, telephony: (number | null)[] = []): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  for (let k = 0; k < times; k++) {
    const live = nodes.filter((x) => !x.dead);
    if (live.length < 2) break;
    // a holder first: right after start, or after the previous takeover, give it the bound to appear
    let holder: Node | undefined;
    const findUntil = performance.now() + (3 * settingS + 10) * 1000;
    while (!holder && performance.now() < findUntil) {
      const h = await Promise.all(live.map((x) => holds(x.gw)));
      holder = live[h.indexOf(true)];
      if (!holder) await sleep(100);
    }
    if (!holder) throw new Error(`no node shows ${SINGLETON} held (LEADER_TAKEOVER_S=${settingS})`);
    const rest = live.filter((x) => x !== holder);
    await sleep(1000); // the standbys settled into their rhythm of tries
    // telephony is timed too when the same node held it (it usually does: the first node to start takes both)
    const heldTelephony = await holds(holder.gw, TELEPHONY_LINE);
    const t = performance.now();
    process.kill(holder.gw.pid, 'SIGKILL');
    holder.dead = true;
    await holder.gw.child.exited;
    let took: number | null = null;
    let tookTel: number | null = null;
    const bound = t + (3 * settingS + 10) * 1000;
    while ((took === null || (heldTelephony && tookTel === null)) && performance.now() < bound) {
      if (took === null && (await Promise.all(rest.map((x) => holds(x.gw)))).some(Boolean)) took = round((performance.now() - t) / 1000, 2)!;
      if (heldTelephony && tookTel === null && (await Promise.all(rest.map((x) => runsTelephony(x.gw)))).some(Boolean)) tookTel = round((performance.now() - t) / 1000, 2)!;
      await sleep(50);
    }
    ctx.log(`  [cluster] LEADER_TAKEOVER_S=${settingS}: killed ${holder.id} (the holder); ${took === null ? 'no takeover seen' : `another node held it after ${took} s`}${heldTelephony ? `; telephony ${tookTel === null ? 'not taken over' : `up on another node after ${tookTel} s`}` : ''}`);
    out.push(took);
    if (heldTelephony) telephony.push(tookTel);
  }
  return out;
}
