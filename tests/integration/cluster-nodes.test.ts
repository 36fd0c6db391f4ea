/**
 * Scale-out (issue 24), two gateway nodes in this process sharing one PostgreSQL and one real Redis:
 * - an SOS from a watch on node A pops on an agent whose dashboard is on node B (the fan-out), once;
 * - presence is the cluster's: a supervisor looking at node B counts as present on node A (escalation's question);
 * - a command sent through node B's API reaches the watch held by node A, and is "sent", not "queued";
 * - node B's device list shows the watch online (its session is on A);
 * - a logout on node A closes the user's dashboard on node B;
 * - /healthz and /metrics on each node name the node and the cluster's two nodes with each one's share.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { missingTools } from '../helpers/tools.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

const skip = missingTools(['redis-server'], 'redis-server');
const IMEI = '8800024001';
let redis: TestRedis;
let a: App;
let b: App;
let admin: { authorization: string };
let agent: { id: number; token: string; auth: { authorization: string } };
let deviceId: number;
const watches: SimulatedWatch[] = [];
const sockets: WsClient[] = [];

const inject = (app: App, method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, payload: payload as object });

async function user(app: App, username: string, role: string) {
  const u = await inject(app, 'POST', '/api/users', admin, { username, role, password: 'password-123', displayName: username });
  expect(u.statusCode).toBe(201);
  const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'password-123' } });
  return { id: u.json().id as number, auth: { authorization: `Bearer ${l.json().token}` }, token: l.json().token as string };
}

describe.skipIf(skip)('two gateway nodes on one PostgreSQL and one Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
    a = await startTestApp({}, { REDIS_URL: redis.url, NODE_ID: 'node-a' });
    b = await startTestApp({ databaseUrl: a.databaseUrl }, { REDIS_URL: redis.url, NODE_ID: 'node-b' });
    admin = await login(a);
    agent = await user(a, 'agent24', 'agent');
    const e = await inject(a, 'POST', '/api/elders', admin, { name: '王秀兰' });
    const d = await inject(a, 'POST', '/api/devices', admin, { identifier: IMEI, protocol: 'watch', elderId: e.json().id });
    expect(d.statusCode).toBe(201);
    deviceId = d.json().id;
    // both nodes see each other's heartbeats
    await until(() => a.cluster.presence.members().length === 2 && b.cluster.presence.members().length === 2);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const w of watches) await w.close().catch(() => undefined);
    await b?.stop();
    await a?.stop();
    await redis?.destroy();
  });

  it('an SOS on node A pops on the agent whose dashboard is on node B, once', async () => {
    const ws = await WsClient.open(b.httpPort, agent.token);
    sockets.push(ws);
    await ws.waitFor((m) => m.type === 'snapshot');
    expect((await inject(b, 'POST', '/api/agents/me/sign-in', agent.auth, { extension: '8241' })).statusCode).toBe(200);
    expect((await inject(b, 'POST', '/api/agents/me/state', agent.auth, { state: 'ready' })).statusCode).toBe(200);
    // the agent is present on A too (A's escalator offers to present agents only)
    await until(() => a.cluster.presence.online(agent.id));
    const w = new SimulatedWatch({ host: '127.0.0.1', port: a.watch.port, deviceId: IMEI, lkOnConnect: true, alarmRetryMs: 60_000, lkRetryMs: 60_000, battery: 80, path: [[31.23, 121.47]] });
    w.on('error', () => undefined);
    watches.push(w);
    await w.connect();
    await until(() => a.watch.sessions.has(IMEI));
    const acked = await w.sendAlarm('sos');
    expect(acked).toBeTruthy();
    const pop = await ws.waitFor((m) => m.type === 'present', 10_000);
    expect((pop.alarm as { kind: string }).kind).toBe('sos');
    const raised = await ws.waitFor((m) => m.type === 'alarm' && m.action === 'raised');
    expect((raised.alarm as { id: number }).id).toBe((pop.alarm as { id: number }).id);
    // one alarm in the shared database, and B relayed A's events rather than making its own
    const rows = (await a.db.query('SELECT id FROM alarms WHERE device_id = $1', [deviceId])).rows;
    expect(rows).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(ws.messages.filter((m) => m.type === 'alarm' && m.action === 'raised')).toHaveLength(1);
    expect(b.cluster.fanout.received).toBeGreaterThan(0);
  });

  it("node B's device list shows the watch online though its session is on A", async () => {
    await until(async () => (await inject(b, 'GET', `/api/devices/${deviceId}`, admin)).json().online === true);
    expect(b.watch.sessions.has(IMEI)).toBe(false);
  });

  it('a command sent through node B reaches the watch held by node A, as sent', async () => {
    const w = watches[0]!;
    const found = new Promise<void>((r) => w.once('find', () => r()));
    const res = await inject(b, 'POST', `/api/devices/${deviceId}/commands`, admin, { type: 'FIND' });
    expect(res.statusCode).toBe(202);
    expect(res.json().delivery).toBe('sent');
    await found;
    const id = res.json().command.id;
    await until(async () => (await inject(b, 'GET', `/api/devices/${deviceId}/commands/${id}`, admin)).json().state === 'acknowledged');
    expect(b.cluster.devices!.forwarded).toBe(1);
  });

  it('a command for a device no node holds stays queued and goes out on its next connection, to whichever node', async () => {
    await watches[0]!.close();
    await until(async () => (await inject(b, 'GET', `/api/devices/${deviceId}`, admin)).json().online === false);
    const res = await inject(a, 'POST', `/api/devices/${deviceId}/commands`, admin, { type: 'UPLOAD', seconds: 600 });
    expect(res.json().delivery).toBe('queued');
    const w = new SimulatedWatch({ host: '127.0.0.1', port: b.watch.port, deviceId: IMEI, lkOnConnect: true, alarmRetryMs: 60_000, lkRetryMs: 60_000, battery: 80, path: [[31.23, 121.47]] });
    w.on('error', () => undefined);
    watches.push(w);
    await w.connect();
    await until(() => w.received.some((f) => f.content === 'UPLOAD,600'));
  });

  it('a supervisor looking at node B is present on node A', async () => {
    const sup = await user(a, 'sup24', 'supervisor');
    expect(a.cluster.presence.online(sup.id)).toBe(false);
    const ws = await WsClient.open(b.httpPort, sup.token);
    sockets.push(ws);
    await until(() => a.cluster.presence.online(sup.id));
    ws.close();
    await until(() => !a.cluster.presence.online(sup.id));
  });

  it("a logout on node A closes the user's dashboard on node B", async () => {
    const u = await user(a, 'agent24b', 'agent');
    const ws = await WsClient.open(b.httpPort, u.token);
    sockets.push(ws);
    await ws.waitFor((m) => m.type === 'snapshot');
    const closed = new Promise<number>((r) => ws.ws.once('close', (code) => r(code)));
    expect((await inject(a, 'POST', '/api/auth/logout', u.auth)).statusCode).toBeLessThan(300);
    expect(await closed).toBe(4401);
  });

  it('/healthz and /metrics name the node and show both nodes with their shares', async () => {
    const h = (await b.http.inject({ url: '/healthz' })).json();
    expect(h.node).toBe('node-b');
    expect(h.parts.cluster).toMatchObject({ state: 'up', mode: 'redis' });
    expect(h.parts.cluster.detail).toContain('2 nodes');
    expect(h.parts.cluster.detail).toContain('node-a');
    const m = (await a.http.inject({ url: '/metrics' })).body;
    expect(m).toContain('anxin_node_info{node="node-a"} 1');
    expect(m).toMatch(/anxin_cluster_nodes 2/);
    expect(m).toMatch(/anxin_node_share \d/);
  });
});
