/**
 * Scale-out (issue 24) with real processes on loopback: three gateway nodes (`gateway/main.ts`), one PostgreSQL, a
 * real Redis and HAProxy running the README's `haproxy.cfg` (addresses and ports swapped for loopback ones).
 * 300 watches and 100 MQTT fall sensors connect through HAProxy and spread over the nodes; an agent's dashboard on
 * each node.
 * - an SOS from a watch held by node A shows on the dashboards on B and C, and pops on one agent;
 * - a command sent through node C reaches a watch held by node B;
 * - kill -9 of a node during an alarm burst: its devices reconnect through HAProxy to the others, every alarm of
 *   the burst lands exactly once (one row, count 1), and the node's singletons move to a live node; an escalation
 *   callback that comes due meanwhile is placed once, by the node that took telephony over (the nodes share a
 *   simulated Asterisk in this process);
 * - Redis restarted: the nodes reconnect, their dashboards reload what they may have missed, and an SOS after it
 *   still reaches every dashboard.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.js';
import { ASTERISK_TEST_NUMBERS } from '../../simulators/asterisk/test-numbers.js';
import { FleetCore } from '../../simulators/fleet/index.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { ADMIN_PASSWORD } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { accepting, freePort, startRedis, type TestRedis } from '../helpers/redis.js';
import { missingTools } from '../helpers/tools.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

const skip = missingTools(['redis-server', 'haproxy'], 'redis-server haproxy');
const ROOT = resolve(import.meta.dirname, '../..');
const WATCHES = Array.from({ length: 300 }, (_, i) => `86024${String(i).padStart(10, '0')}`);
const SENSORS = Array.from({ length: 100 }, (_, i) => `fs24-${String(i).padStart(3, '0')}`);
const PORTS = ['8080', '5093', '5023', '1883'] as const;

interface Node {
  id: string;
  ports: Record<(typeof PORTS)[number], number>;
  dataDir: string;
  proc?: ChildProcess;
}

let redis: TestRedis;
let ari: AsteriskSim;
let databaseUrl: string;
let check: pg.Client;
let haproxy: ChildProcess | undefined;
let front: Record<(typeof PORTS)[number], number>;
const nodes: Node[] = [];
let fleet: FleetCore | undefined;
let token: string;
const sockets: WsClient[] = [];
const agents: { id: number; token: string; ws?: WsClient }[] = [];

/** The README's haproxy.cfg, run as written but for the addresses: node n's 10.0.0.1n:PORT → its loopback port. */
function haproxyConfig(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /```cfg readme-haproxy\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no ```cfg readme-haproxy block');
  let cfg = m[1]!;
  for (const p of PORTS) {
    cfg = cfg.replaceAll(`bind *:${p}`, `bind 127.0.0.1:${front[p]}`);
    nodes.forEach((n, k) => (cfg = cfg.replaceAll(`10.0.0.1${k + 1}:${p}`, `127.0.0.1:${n.ports[p]}`)));
    // health checks go to the node's own HTTP port
  }
  nodes.forEach((n, k) => (cfg = cfg.replace(new RegExp(`(server n${k + 1} 127\\.0\\.0\\.1:\\d+)`, 'g'), `$1 port ${n.ports['8080']}`)));
  // two descriptors per connection: 200,000 needs `ulimit -n` of 400,000 (Debian's haproxy unit sets it); not here
  return cfg.replaceAll('check port 8080', 'check').replace('maxconn 200000', 'maxconn 4000');
}

function startNode(n: Node): void {
  const env = {
    PATH: process.env.PATH!, HOME: process.env.HOME!, DATABASE_URL: databaseUrl, DATA_DIR: n.dataDir, REDIS_URL: redis.url, NODE_ID: n.id,
    HTTP_HOST: '127.0.0.1', HTTP_PORT: String(n.ports['8080']), WATCH_HOST: '127.0.0.1', WATCH_PORT: String(n.ports['5093']),
    GT06_HOST: '127.0.0.1', GT06_PORT: String(n.ports['5023']), DC09_TCP_PORT: '0', DC09_UDP_PORT: '0', SCAIP_SIP_PORT: '0', MQTT_HOST: '127.0.0.1', MQTT_PORT: String(n.ports['1883']),
    ADMIN_PASSWORD, LOG_LEVEL: 'warn', LEADER_TAKEOVER_S: '3',
    TELEPHONY: 'ari', ARI_URL: ari.url, ARI_USERNAME: ari.username, ARI_PASSWORD: ari.password, ARI_APP: 'anxin',
    ARI_TRUNK_TEMPLATE: 'Local/{number}@sim-trunk', ARI_AGENT_TEMPLATE: 'Local/{ext}@sim-agents',
  };
  const log = openSync(join(n.dataDir, 'node.log'), 'a');
  n.proc = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], { cwd: ROOT, env, stdio: ['ignore', log, log] });
}

/** Up and healthy; if not in time, the node's own log says why. */
const healthy = (n: Node) =>
  until(async () => (await fetch(`http://127.0.0.1:${n.ports['8080']}/healthz`).catch(() => undefined))?.status === 200, 60_000).catch(async (e) => {
    const h = await fetch(`http://127.0.0.1:${n.ports['8080']}/healthz`).then((r) => r.text(), () => 'no answer');
    throw new Error(`${n.id} not healthy (${(e as Error).message}): /healthz ${h}; log: ${readFileSync(join(n.dataDir, 'node.log'), 'utf8').slice(-3000)}`);
  });

/** Which live nodes hold a singleton (its gauge on each node's /metrics): by default the alarm engine's time rules. */
async function timerHolders(live: Node[], singleton = 'alarm-engine-timer'): Promise<string[]> {
  const out: string[] = [];
  for (const n of live) {
    const m = await (await fetch(`http://127.0.0.1:${n.ports['8080']}/metrics`)).text();
    if (m.includes(`\nanxin_singleton_leader{singleton="${singleton}"} 1\n`)) out.push(n.id);
  }
  return out;
}

async function api(method: string, path: string, body?: unknown, port = front['8080']): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, json: (await r.json().catch(() => ({}))) as Record<string, unknown> };
}

/** The node holding a watch's session, from the registry in Redis. */
async function holderOf(identifier: string): Promise<string | null> {
  const { Redis } = await import('ioredis');
  const r = new Redis(redis.url);
  try {
    return await r.get(`anxin:dev:${identifier}`);
  } finally {
    r.disconnect();
  }
}

describe.skipIf(skip)('three gateway nodes behind HAProxy, with Redis and PostgreSQL', () => {
  beforeAll(async () => {
    redis = await startRedis();
    ari = await startAsteriskSim({ port: 0, timeScale: 0.2, app: 'anxin', directory: ASTERISK_TEST_NUMBERS });
    databaseUrl = await createTestDatabase('cluster');
    check = new pg.Client({ connectionString: databaseUrl });
    await check.connect();
    for (const id of ['n1', 'n2', 'n3']) {
      const ports = Object.fromEntries(await Promise.all(PORTS.map(async (p) => [p, await freePort()]))) as Node['ports'];
      nodes.push({ id, ports, dataDir: mkdtempSync(join(tmpdir(), `anxin-${id}-`)) });
    }
    // one node first: it migrates the database and makes the admin; then the others
    startNode(nodes[0]!);
    await healthy(nodes[0]!);
    startNode(nodes[1]!);
    startNode(nodes[2]!);
    await Promise.all([healthy(nodes[1]!), healthy(nodes[2]!)]);
    front = Object.fromEntries(await Promise.all(PORTS.map(async (p) => [p, await freePort()]))) as Node['ports'];
    const dir = mkdtempSync(join(tmpdir(), 'anxin-haproxy-'));
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig());
    haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let haproxyErr = '';
    haproxy.stderr!.on('data', (d: Buffer) => (haproxyErr += d.toString()));
    await until(async () => (await accepting(front['8080'])) || (haproxy!.exitCode !== null && Promise.reject(new Error(`haproxy exited: ${haproxyErr}`))), 15_000);
    // through HAProxy from here on
    token = (await until(async () => (await api('POST', '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).json.token as string | undefined, 20_000))!;
    for (let k = 0; k < WATCHES.length; k += 25) {
      const rs = await Promise.all(WATCHES.slice(k, k + 25).map((identifier) => api('POST', '/api/devices', { identifier, protocol: 'watch' })));
      for (const r of rs) expect(r.status).toBe(201);
    }
    const secrets: string[] = [];
    for (let k = 0; k < SENSORS.length; k += 10) {
      const rs = await Promise.all(SENSORS.slice(k, k + 10).map((identifier) => api('POST', '/api/devices', { identifier, protocol: 'mqtt-json', kind: 'fall_sensor' })));
      for (const r of rs) {
        expect(r.status).toBe(201);
        secrets.push(r.json.mqttSecret as string);
      }
    }
    fleet = new FleetCore({
      watch: { host: '127.0.0.1', port: front['5093'] },
      mqtt: { host: '127.0.0.1', port: front['1883'] },
      devices: [{ protocol: 'watch', ids: WATCHES }, ...SENSORS.map((id, k) => ({ protocol: 'mqtt' as const, ids: [id], secret: secrets[k] }))],
      alarmRetryMs: 2000,
      reconnect: { minMs: 200, maxMs: 1500 },
    });
    expect(await fleet.connect({ perS: 200, timeoutMs: 60_000 })).toEqual({ ready: 400, failed: 0 });
    // an agent with a dashboard on each node, signed in and ready
    for (const [k, n] of nodes.entries()) {
      const username = `agent-${n.id}`;
      const u = await api('POST', '/api/users', { username, role: 'agent', password: 'password-123', displayName: `坐席${k + 1}` });
      expect(u.status).toBe(201);
      const l = await api('POST', '/api/auth/login', { username, password: 'password-123' }, n.ports['8080']);
      const a = { id: u.json.id as number, token: l.json.token as string, ws: await WsClient.open(n.ports['8080'], l.json.token as string) };
      sockets.push(a.ws);
      agents.push(a);
      const as = async (path: string, body: unknown) => (await fetch(`http://127.0.0.1:${n.ports['8080']}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}` }, body: JSON.stringify(body) })).status;
      expect(await as('/api/agents/me/sign-in', { extension: `824${k}` })).toBe(200);
      expect(await as('/api/agents/me/state', { state: 'ready' })).toBe(200);
    }
  }, 300_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await fleet?.stop();
    haproxy?.kill('SIGKILL');
    for (const n of nodes) n.proc?.kill('SIGKILL');
    await check?.end();
    await redis?.destroy();
    await ari?.stop();
  });

  it('spreads the devices over the three nodes', async () => {
    const held = await until(async () => {
      const hs = await Promise.all(nodes.map(async (n) => (await (await fetch(`http://127.0.0.1:${n.ports['8080']}/metrics`)).text()).match(/^anxin_node_devices (\d+)/m)?.[1]));
      const counts = hs.map(Number);
      return counts.reduce((x, y) => x + y, 0) === 400 ? counts : undefined;
    }, 20_000);
    for (const c of held) expect(c).toBeGreaterThan(50);
  });

  it('an SOS from a watch held by one node shows on the dashboards on the other two, and pops on one agent', async () => {
    const i = WATCHES.findIndex(() => true);
    const holder = await until(() => holderOf(WATCHES[i]!));
    const rec = await fleet!.alarm(i);
    expect(rec.ackAt).toBeGreaterThanOrEqual(rec.sentAt);
    const others = nodes.map((n, k) => ({ n, a: agents[k]! })).filter((x) => x.n.id !== holder);
    expect(others).toHaveLength(2);
    for (const { a } of others) {
      const m = await a.ws!.waitFor((x) => x.type === 'alarm' && x.action === 'raised' && (x.alarm as { sourceKey?: string; kind: string }).kind === 'sos', 10_000);
      expect(m).toBeTruthy();
    }
    const pops = await until(() => {
      const p = agents.flatMap((a) => a.ws!.messages.filter((x) => x.type === 'present'));
      return p.length ? p : undefined;
    });
    expect(pops).toHaveLength(1);
  });

  it('a command sent through one node reaches a watch held by another, and its echo acknowledges it', async () => {
    const imei = '8602499999999';
    const d = await api('POST', '/api/devices', { identifier: imei, protocol: 'watch' });
    expect(d.status).toBe(201);
    const w = new SimulatedWatch({ host: '127.0.0.1', port: front['5093'], deviceId: imei, lkOnConnect: true, alarmRetryMs: 60_000, lkRetryMs: 60_000 });
    w.on('error', () => undefined);
    await w.connect();
    try {
      const holder = await until(() => holderOf(imei));
      const via = nodes.find((n) => n.id !== holder)!;
      const found = new Promise<void>((r) => w.once('find', () => r()));
      const r = await api('POST', `/api/devices/${d.json.id}/commands`, { type: 'FIND' }, via.ports['8080']);
      expect(r.status).toBe(202);
      expect(r.json.delivery).toBe('sent');
      await found;
      const id = (r.json.command as { id: number }).id;
      await until(async () => (await check.query(`SELECT state FROM device_commands WHERE id = $1`, [id])).rows[0]?.state === 'acknowledged');
    } finally {
      await w.close();
    }
  });

  it('kill -9 of a node during an alarm burst: its devices reconnect to the others and every alarm lands exactly once', async () => {
    // the victim is the node running the alarm engine's time rules, so the test sees that singleton move
    const before = await until(async () => ((await timerHolders(nodes)).length === 1 ? timerHolders(nodes) : undefined));
    const victim = nodes.find((n) => n.id === before[0])!;
    // it runs telephony too (the first node started took every singleton)
    expect(await timerHolders(nodes, 'telephony')).toEqual([victim.id]);
    // an elder whose plan calls back 2 s into the escalation: due while the victim is frozen or dead
    const ELDER = '13800000001';
    const e = await api('POST', '/api/elders', { name: '孙桂芳', phone: ELDER, responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 2, action: 'callback_and_cascade' }], callbackElder: true } });
    expect(e.status).toBe(201);
    const imei = '8602488888888';
    expect((await api('POST', '/api/devices', { identifier: imei, protocol: 'watch', elderId: e.json.id })).status).toBe(201);
    const w = new SimulatedWatch({ host: '127.0.0.1', port: front['5093'], deviceId: imei, lkOnConnect: true, alarmRetryMs: 2000, lkRetryMs: 60_000 });
    w.on('error', () => undefined);
    await w.connect();
    const watchBurst = Array.from({ length: 80 }, (_, k) => 10 + k);
    const sensorBurst = Array.from({ length: 20 }, (_, k) => WATCHES.length + k);
    const held = await Promise.all(watchBurst.map(async (i) => ({ i, node: await holderOf(fleet!.idOf(i)) })));
    const onVictim = new Set(held.filter((h) => h.node === victim.id).map((h) => h.i));
    expect(onVictim.size).toBeGreaterThan(5);
    // the first half of the burst is answered as usual
    const first = [...watchBurst.slice(0, 40), ...sensorBurst.slice(0, 10)];
    const firstRecs = await Promise.all(first.map((i) => fleet!.alarm(i)));
    // then the node freezes with the second half written to it (in flight: journaled or half committed, never
    // acknowledged), and dies
    await w.sendAlarm('sos');
    const callbackAlarm = Number((await check.query(`SELECT id FROM alarms WHERE source_key = $1 AND kind = 'sos'`, [imei])).rows[0]?.id);
    expect(callbackAlarm).toBeGreaterThan(0);
    victim.proc!.kill('SIGSTOP');
    const second = [...watchBurst.slice(40), ...sensorBurst.slice(10)];
    const acks = second.map((i) => fleet!.alarm(i));
    await new Promise((r) => setTimeout(r, 500));
    victim.proc!.kill('SIGKILL');
    const recs = await Promise.all(acks.map((p) => Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('an alarm was never acknowledged')), 90_000))])));
    expect(firstRecs.length + recs.length).toBe(100);
    // the victim's devices sent their alarm twice at least: once into the dead node, again after reconnecting
    const retried = second.filter((i) => onVictim.has(i)).map((i) => recs[second.indexOf(i)]!);
    expect(retried.length).toBeGreaterThan(0);
    for (const r of retried) expect(r.attempts).toBeGreaterThanOrEqual(2);
    const ids = [...first, ...second].map((i) => fleet!.idOf(i));
    const rows = (await check.query(`SELECT source_key, count FROM alarms WHERE source_key = ANY($1) ORDER BY source_key`, [ids])).rows;
    expect(rows).toHaveLength(ids.length);
    for (const r of rows) expect(r.count).toBe(1);
    // the time rules moved to exactly one live node (LEADER_TAKEOVER_S=3; generous bound, not a timing assertion)
    const live = nodes.filter((n) => n !== victim);
    const after = await until(async () => ((await timerHolders(live)).length === 1 ? timerHolders(live) : undefined), 30_000);
    expect(after[0]).not.toBe(victim.id);
    // telephony too; the callback was placed once, by a live node
    await until(async () => (await timerHolders(live, 'telephony')).length === 1, 30_000);
    const cb = await until(async () => (await check.query(`SELECT started_by, done_at, outcome FROM alarm_callbacks WHERE alarm_id = $1`, [callbackAlarm])).rows.find((r) => r.done_at), 60_000);
    expect(cb.started_by).not.toBe(victim.id);
    expect(ari.originateLog().filter((o) => o.op === 'originate' && JSON.stringify(o.params ?? o.query).includes(ELDER))).toHaveLength(1);
    expect((await check.query(`SELECT count(*)::int AS n FROM calls WHERE alarm_id = $1 AND number = $2`, [callbackAlarm, ELDER])).rows[0].n).toBe(1);
    await w.close();
    // the victim's devices are on the other two now
    await until(async () => {
      const hs = await Promise.all(live.map(async (n) => Number((await (await fetch(`http://127.0.0.1:${n.ports['8080']}/metrics`)).text()).match(/^anxin_node_devices (\d+)/m)?.[1])));
      return hs[0]! + hs[1]! === 400;
    }, 60_000);
  }, 150_000);

  it('Redis restarted: the nodes reconnect and an SOS still reaches every live dashboard', async () => {
    const sinceStop = agents.filter((_, k) => nodes[k]!.proc!.exitCode === null && nodes[k]!.proc!.signalCode === null).map((a) => a.ws!.messages.length);
    await redis.stop('SIGKILL');
    await redis.restart();
    const live = nodes.filter((n) => n.proc!.exitCode === null && n.proc!.signalCode === null);
    expect(live).toHaveLength(2);
    for (const n of live) {
      await until(async () => ((await (await fetch(`http://127.0.0.1:${n.ports['8080']}/healthz`)).json()) as { parts: { cluster: { state: string; detail: string } } }).parts.cluster.detail.includes('2 nodes'), 30_000);
    }
    // each node subscribed again and reloaded its dashboards (what other nodes published meanwhile is gone)
    const liveAgents = agents.filter((_, k) => live.includes(nodes[k]!));
    for (const [k, a] of liveAgents.entries()) await a.ws!.waitFor((x) => x.type === 'snapshot' && a.ws!.messages.indexOf(x) >= sinceStop[k]!, 30_000);
    const i = 200;
    await until(() => fleet!.isReady(i), 30_000);
    const before = liveAgents.map((a) => a.ws!.messages.length);
    await fleet!.alarm(i);
    for (const [k, a] of liveAgents.entries()) {
      await a.ws!.waitFor((x) => x.type === 'alarm' && x.action === 'raised' && a.ws!.messages.indexOf(x) >= before[k]!, 10_000);
    }
  }, 90_000);
});
