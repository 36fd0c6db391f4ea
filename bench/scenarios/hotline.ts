/**
 * Hotline screen-pop (issue 19, 来电弹屏): from the moment an agent's phone starts ringing for a hotline caller
 * (the simulated Asterisk receives the originate of the agent's leg; the phone rings at once) to the moment the
 * `incoming_call` pop with the caller's file reaches that agent's WebSocket.
 *
 *   a. baseline, same run: one caller at a time, 10 agents ready (no queue);
 *   b. 30 callers at once, 10 agents (20 wait in the holding bridge; each agent answers after 0.5 s, talks 2 s,
 *      hangs up, and is rung again for the next caller), in waves.
 * Callers call from the seeded elders' numbers, so every pop is matched to an elder with their open alarms and
 * recent calls read from PostgreSQL, as on a real desk. Reported: pop latency p50/p99 per phase and the ratio of
 * the queued p99 to the baseline p99; calls per agent (the ACD's spread); target p99 ≤ 300 ms.
 */
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../lib/gateway.js';
import type { Ctx } from '../lib/measure.js';
import type { ScenarioResult } from '../lib/result.js';
import { elderPhone } from '../lib/services.js';
import { dist, round, sleep, type Dist } from '../lib/stats.js';

const DID = '12349';
const AGENTS = 10;
const CALLERS = 30;
const RING_S = 0.5;
const TALK_S = 2;
const PASSWORD = 'bench-agent-password';

interface Agent {
  id: number;
  extension: string;
  ws: WebSocket;
  calls: number;
}

interface Pop {
  entryId: string;
  channelId: string;
  at: number;
  agent: string;
  matched: boolean;
}

async function api<T>(g: Gateway, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${g.httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function agentOf(g: Gateway, k: number, pops: Pop[], done: Set<string>): Promise<Agent> {
  const extension = String(8100 + k);
  const username = `bench-agent-${k}`;
  const u = await api<{ id: number }>(g, g.adminToken, 'POST', '/api/users', { username, role: 'agent', password: PASSWORD, extension, displayName: `坐席 ${k}` });
  const r = await fetch(`http://127.0.0.1:${g.httpPort}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }) });
  const token = ((await r.json()) as { token: string }).token;
  await api(g, token, 'POST', '/api/agents/me/sign-in', { extension, state: 'ready' });
  const ws = new WebSocket(`ws://127.0.0.1:${g.httpPort}/api/ws?token=${encodeURIComponent(token)}`);
  const agent: Agent = { id: u.id, extension, ws, calls: 0 };
  ws.on('message', (d) => {
    const at = Date.now();
    const m = JSON.parse(String(d)) as { type: string; entryId?: string; channelId?: string; match?: unknown };
    if (m.type === 'incoming_call') {
      pops.push({ entryId: m.entryId!, channelId: m.channelId!, at, agent: extension, matched: m.match !== null });
      agent.calls++;
    } else if (m.type === 'hotline_done') done.add(m.entryId!);
  });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  return agent;
}

/** Pop latency of each pop: its WebSocket arrival minus the simulator's receipt of the agent leg's originate. */
function latencies(g: Gateway, pops: Pop[]): { ms: number[]; unmatched: number } {
  const rang = new Map<string, number>();
  for (const e of g.ari.originateLog()) if (e.channelId && e.op === 'originate') rang.set(e.channelId, e.receivedAtMs);
  const ms: number[] = [];
  let unmatched = 0;
  for (const p of pops) {
    const t = rang.get(p.channelId);
    if (t === undefined) unmatched++;
    else ms.push(p.at - t);
  }
  return { ms, unmatched };
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms / 1000} s`);
    await sleep(20);
  }
}

export async function hotline(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const baselineCalls = ctx.quick ? 5 : 20;
  const waves = ctx.quick ? 1 : 3;
  const notes: string[] = [];
  const g = await startGateway({
    name: 'hotline',
    pgAdminUrl: ctx.pgAdminUrl,
    watches: CALLERS,
    mqtt: 0,
    logDir: ctx.logDir,
    execArgv: ctx.gatewayExecArgv,
    // the agents' phones: ring at once, answer after RING_S, hang up after TALK_S
    ariDirectory: [{ match: '81*', label: 'bench agent', ringAfter: 0, answerAfter: RING_S, hangupAfter: TALK_S }],
    env: { HOTLINE_DIDS: DID, RING_TIMEOUT_S: '20', QUEUE_MAX_WAIT_S: '900', QUEUE_OVERFLOW: 'hangup', WRAP_UP_S: '0', BENCH_SERVER_LOG: 'warn' },
  });
  const agents: Agent[] = [];
  try {
    const pops: Pop[] = [];
    const done = new Set<string>();
    // startGateway signs the admin in to 8001 (for the alarm scenarios): only the bench's agents take calls here
    await api(g, g.adminToken, 'POST', '/api/agents/me/sign-out');
    for (let k = 1; k <= AGENTS; k++) agents.push(await agentOf(g, k, pops, done));
    let n = 0;
    const call = (k: number) => g.ari.injectCall({ from: elderPhone(k), to: DID, args: [], hangupAfter: null, channelId: `bench-caller-${++n}` });

    // a. one caller at a time
    ctx.log(`hotline: baseline, ${baselineCalls} callers one at a time, ${AGENTS} agents ready`);
    for (let i = 0; i < baselineCalls; i++) {
      const before = done.size;
      call((i % CALLERS) + 1);
      await until('baseline call done', () => done.size > before, 30_000).catch((e) => {
        console.error(JSON.stringify({ channels: g.ari.channels().map((c) => [c.id, c.name, c.state]), bridges: g.ari.bridges().map((b) => [b.id, b.bridge_type, b.channels]), pops, originates: g.ari.originateLog().map((o) => [o.endpoint, o.channelId, o.status]) }));
        throw e;
      });
    }
    const baselinePops = pops.splice(0);
    const base = latencies(g, baselinePops);

    // b. waves of 30 callers at once
    const queuedPops: Pop[] = [];
    const waveSeconds: number[] = [];
    for (let w = 0; w < waves; w++) {
      ctx.log(`hotline: wave ${w + 1}/${waves}, ${CALLERS} callers at once, ${AGENTS} agents`);
      const before = done.size;
      const ws0 = Date.now();
      for (let k = 1; k <= CALLERS; k++) call(k);
      await until(`wave ${w + 1} done`, () => done.size >= before + CALLERS, 180_000);
      waveSeconds.push((Date.now() - ws0) / 1000);
      queuedPops.push(...pops.splice(0));
    }
    const queued = latencies(g, queuedPops);
    const b: Dist = dist(base.ms);
    const q: Dist = dist(queued.ms);
    if (base.unmatched + queued.unmatched) notes.push(`${base.unmatched + queued.unmatched} pops without a matching originate (not timed)`);
    const perAgent = agents.map((a) => a.calls);
    const ratio = b.p99 && q.p99 ? q.p99 / b.p99 : undefined;
    const matched = [...baselinePops, ...queuedPops].filter((p) => p.matched).length;
    notes.push(`ring → pop p99 with ${CALLERS} callers and ${AGENTS} agents: ${round(q.p99, 1)} ms (target ≤ 300 ms); ${round(ratio, 2)}× the one-caller baseline's p99 ${round(b.p99, 1)} ms`);
    return {
      name: 'hotline',
      description: `hotline ring → screen-pop, ${CALLERS} callers queued for ${AGENTS} agents (simulated Asterisk), against one caller at a time`,
      ok: true,
      wallSeconds: Math.round((Date.now() - t0) / 1000),
      extra: {
        baseline: { calls: baselineCalls, popMs: b },
        queued: { waves, callersPerWave: CALLERS, agents: AGENTS, popMs: q, waveSeconds },
        p99VsBaseline: round(ratio, 3),
        popsMatchedToElder: matched,
        callsPerAgent: perAgent,
        target: { p99Ms: 300, met: q.p99 !== undefined ? q.p99 <= 300 : null },
      },
      notes,
    };
  } finally {
    for (const a of agents) a.ws.close();
    await g.stop();
  }
}
