/**
 * Reports (issue 23) against the real gateway with fixtures at explicit instants around midnight and the month's
 * edges in Asia/Shanghai (UTC+8, no DST): an alarm at 2026-10-31T16:30Z is 2026-11-01 00:30 local, so November's,
 * day 1; one at 2026-10-31T15:59Z is October's. Every figure below is computed by hand from the fixtures. Also: the
 * xlsx export read back with exceljs equals the JSON, the CSV starts with a BOM, the role checks, and the agents'
 * state history written from sign-in → not ready → ready → sign-out through the API.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';

let app: App;
type Who = { authorization: string };
let admin: Who;
let sup: Who;
let a1: Who;
let inst: Who;
const id: Record<string, number> = {};

const get = async (url: string, who: Who = admin) => {
  const r = await app.http.inject({ method: 'GET', url, headers: who });
  return { status: r.statusCode, headers: r.headers, raw: r.rawPayload, body: r.headers['content-type']?.toString().startsWith('application/json') ? r.json() : undefined };
};
const post = async (url: string, who: Who, payload: object = {}) => {
  const r = await app.http.inject({ method: 'POST', url, headers: who, payload });
  expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
  return r.json();
};
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
const at = (iso: string, plusS = 0) => new Date(new Date(iso).getTime() + plusS * 1000);
const NOV = 'from=2026-11-01&to=2026-11-30';

async function user(username: string, role: string): Promise<Who> {
  const r = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username, role, password: 'password-123' } });
  expect(r.statusCode, r.body).toBe(201);
  id[username] = r.json().id;
  return login(app, username, 'password-123');
}

async function alarm(a: { kind: string; priority: number; first: string; acceptS?: number; resolveS?: number; closeS?: number; owner?: string; elder?: string; device?: string; outcome?: string; test?: boolean; cls?: string }) {
  const first = at(a.first);
  await q(
    `INSERT INTO alarms (kind, priority, alarm_class, state, first_at, last_at, accepted_at, resolved_at, closed_at, owner_id, elder_id, device_id, outcome, test)
     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      a.kind, a.priority, a.cls ?? 'operator', a.closeS !== undefined ? 'closed' : a.resolveS !== undefined ? 'resolved' : a.acceptS !== undefined ? 'accepted' : 'raised', first,
      a.acceptS !== undefined ? at(a.first, a.acceptS) : null, a.resolveS !== undefined ? at(a.first, a.resolveS) : null, a.closeS !== undefined ? at(a.first, a.closeS) : null,
      a.owner ? id[a.owner] : null, a.elder ? id[a.elder] : null, a.device ? id[a.device] : null, a.outcome ?? null, a.test ?? false,
    ],
  );
}

async function call(c: { party: string; direction: string; created: string; answered?: string; ended?: string; agent?: string; elder?: string; flow?: string; queueResult?: string; waitMs?: number }) {
  await q(
    `INSERT INTO calls (party, direction, created_at, answered_at, ended_at, agent_id, elder_id, flow_id, queue_result, queue_wait_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [c.party, c.direction, at(c.created), c.answered ? at(c.answered) : null, c.ended ? at(c.ended) : null, c.agent ? id[c.agent] : null, c.elder ? id[c.elder] : null, c.flow ?? null, c.queueResult ?? null, c.waitMs ?? null],
  );
}

beforeAll(async () => {
  app = await startTestApp({ databaseUrl: await createTestDatabase('reports') }, { TZ_CENTRE: 'Asia/Shanghai', LOGIN_RATE_PER_MIN: '1000' });
  admin = await login(app);
  sup = await user('sup', 'supervisor');
  a1 = await user('a1', 'agent');
  await user('a2', 'agent');
  inst = await user('inst', 'installer');

  for (const [k, name, area] of [['E1', '王秀英', '幸福社区'], ['E2', '李建国', '和平社区']] as const) {
    id[k] = (await q(`INSERT INTO elders (name, area) VALUES ($1, $2) RETURNING id`, [name, area]))[0].id;
  }
  const now = Date.now();
  const dev = async (k: string, elder: string | null, lastSeenH: number | null, battery: number | null, activated: boolean, state = 'active') => {
    id[k] = (
      await q(`INSERT INTO devices (identifier, protocol, elder_id, last_seen, battery, activated_at, state) VALUES ($1, 'watch', $2, $3, $4, $5, $6) RETURNING id`, [
        `imei-${k}`, elder ? id[elder] : null, lastSeenH === null ? null : new Date(now - lastSeenH * 3600_000), battery, activated ? new Date(now - 30 * 86400_000) : null, state,
      ])
    )[0].id;
  };
  await dev('D1', 'E1', 1, 15, true);
  await dev('D2', 'E2', 48, 80, true);
  await dev('D3', null, null, null, false);
  await dev('D4', 'E1', 1, 5, false, 'disabled');

  // Alarms (local times in the comments)
  await alarm({ kind: 'sos', priority: 1, first: '2026-10-31T16:30:00Z', acceptS: 30, resolveS: 300, closeS: 600, owner: 'a1', elder: 'E1', device: 'D1', outcome: 'accidental_press' }); // 11-01 00:30 Sun
  await alarm({ kind: 'sos', priority: 1, first: '2026-10-31T15:59:00Z', acceptS: 10, owner: 'a1', elder: 'E1', device: 'D1', outcome: 'accidental_press' }); // 10-31 23:59: October
  await alarm({ kind: 'fall', priority: 1, first: '2026-11-01T03:00:00Z', acceptS: 90, resolveS: 600, owner: 'a2', elder: 'E2', device: 'D2', outcome: 'accidental_press' }); // 11-01 11:00 Sun
  await alarm({ kind: 'sos', priority: 1, first: '2026-11-30T15:59:59Z', acceptS: 200, resolveS: 400, closeS: 1000, owner: 'a1', elder: 'E1', device: 'D1', outcome: 'accidental_press' }); // 11-30 23:59:59 Mon
  await alarm({ kind: 'sos', priority: 1, first: '2026-11-30T16:00:00Z', acceptS: 5, owner: 'a2', elder: 'E2' }); // 12-01 00:00: December
  await alarm({ kind: 'low_battery', priority: 4, first: '2026-11-15T02:00:00Z', elder: 'E1', device: 'D1' }); // 11-15 10:00 Sun, never accepted
  await alarm({ kind: 'sos', priority: 1, first: '2026-11-10T02:00:00Z', acceptS: 5, owner: 'a1', elder: 'E1', device: 'D1', test: true }); // a test alarm: never counted
  await alarm({ kind: 'power_cut', priority: 3, first: '2026-11-10T01:00:00Z', elder: 'E2', cls: 'condition' }); // 11-10 09:00 Tue, not an operator alarm

  // Calls: C1/C2 a click-to-call by a1 (agent leg + elder leg), C3/C4 a hotline call answered by a2, C5 abandoned at 00:10 local on 11-01, C6 in October, C7 a1's unanswered ring
  await call({ party: 'agent', direction: 'outbound', created: '2026-11-01T01:00:00Z', answered: '2026-11-01T01:00:05Z', ended: '2026-11-01T01:02:05Z', agent: 'a1', flow: 'f1' });
  await call({ party: 'elder', direction: 'outbound', created: '2026-11-01T01:00:06Z', answered: '2026-11-01T01:00:10Z', ended: '2026-11-01T01:02:05Z', agent: 'a1', elder: 'E1', flow: 'f1' });
  await call({ party: 'unknown', direction: 'inbound', created: '2026-11-02T02:00:00Z', answered: '2026-11-02T02:00:00Z', ended: '2026-11-02T02:05:20Z', elder: 'E2', flow: 'f2', queueResult: 'answered', waitMs: 20_000 });
  await call({ party: 'agent', direction: 'outbound', created: '2026-11-02T02:00:15Z', answered: '2026-11-02T02:00:20Z', ended: '2026-11-02T02:05:20Z', agent: 'a2', flow: 'f2' });
  await call({ party: 'unknown', direction: 'inbound', created: '2026-10-31T16:10:00Z', answered: '2026-10-31T16:10:00Z', ended: '2026-10-31T16:10:40Z', flow: 'f3', queueResult: 'abandoned', waitMs: 40_000 });
  await call({ party: 'unknown', direction: 'inbound', created: '2026-10-31T15:50:00Z', flow: 'f4', queueResult: 'abandoned', waitMs: 10_000 });
  await call({ party: 'agent', direction: 'outbound', created: '2026-11-03T01:00:00Z', agent: 'a1', flow: 'f5' });

  // State history: a1 ready across the month's start (clipped to 1 h), not ready 30 min, wrap-up across its end (clipped to 10 min); a2 still on a call since 23:59 on 11-30
  const hist = async (u: string, state: string, from: string, to: string | null) =>
    q(`INSERT INTO agent_state_history (user_id, state, extension, started_at, ended_at) VALUES ($1, $2, '8001', $3, $4)`, [id[u], state, at(from), to ? at(to) : null]);
  await hist('a1', 'ready', '2026-10-31T15:00:00Z', '2026-10-31T17:00:00Z');
  await hist('a1', 'not_ready', '2026-10-31T17:00:00Z', '2026-10-31T17:30:00Z');
  await hist('a1', 'wrap_up', '2026-11-30T15:50:00Z', '2026-11-30T16:10:00Z');
  await hist('a2', 'on_call', '2026-11-30T15:59:00Z', null);

  // Work orders: two service orders (one missed its SLA, satisfaction 5 and 3), a complaint at 00:05 on 11-01, an emergency in December
  const wo = async (type: string, state: string, received: string, satisfaction: number | null, elder: string) =>
    (await q(`INSERT INTO work_orders (type, state, title, received_at, satisfaction, elder_id) VALUES ($1, $2, 't', $3, $4, $5) RETURNING id`, [type, state, at(received), satisfaction, id[elder]]))[0].id;
  const w1 = await wo('service', 'followed_up', '2026-11-05T02:00:00Z', 5, 'E1');
  await q(`INSERT INTO work_order_events (order_id, actor, action) VALUES ($1, 'system', 'sla_overdue'), ($1, 'system', 'sla_overdue')`, [w1]);
  await wo('service', 'followed_up', '2026-11-06T02:00:00Z', 3, 'E2');
  await wo('complaint', 'received', '2026-10-31T16:05:00Z', null, 'E1');
  await wo('emergency', 'received', '2026-11-30T16:30:00Z', null, 'E1');
}, 60_000);

afterAll(async () => app?.stop());

describe('alarms report', () => {
  it('counts by local day × kind × priority, with the heat map and the false alarms, month edges in the centre’s zone', async () => {
    const r = await get(`/api/reports/alarms?${NOV}`, sup);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ report: 'alarms', from: '2026-11-01', to: '2026-11-30', groupBy: 'day', timezone: 'Asia/Shanghai', totals: null });
    expect(r.body.rows).toEqual([
      { bucket: '2026-11-01', kind: 'fall', priority: 1, count: 1 },
      { bucket: '2026-11-01', kind: 'sos', priority: 1, count: 1 },
      { bucket: '2026-11-10', kind: 'power_cut', priority: 3, count: 1 },
      { bucket: '2026-11-15', kind: 'low_battery', priority: 4, count: 1 },
      { bucket: '2026-11-30', kind: 'sos', priority: 1, count: 1 },
    ]);
    expect(r.body.heatmap).toEqual([
      { weekday: 1, hour: 23, count: 1 },
      { weekday: 2, hour: 9, count: 1 },
      { weekday: 7, hour: 0, count: 1 },
      { weekday: 7, hour: 10, count: 1 },
      { weekday: 7, hour: 11, count: 1 },
    ]);
    expect(r.body.falseAlarmsByDevice).toEqual([
      { deviceId: id.D1, identifier: 'imei-D1', deviceKind: 'watch', elderId: id.E1, elderName: '王秀英', count: 2 },
      { deviceId: id.D2, identifier: 'imei-D2', deviceKind: 'watch', elderId: id.E2, elderName: '李建国', count: 1 },
    ]);
    expect(r.body.falseAlarmsByElder).toEqual([
      { elderId: id.E1, elderName: '王秀英', area: '幸福社区', count: 2 },
      { elderId: id.E2, elderName: '李建国', area: '和平社区', count: 1 },
    ]);
    expect(r.body.columns.map((c: { key: string }) => c.key)).toEqual(['bucket', 'kind', 'priority', 'count']);
  });

  it('groups by month and by ISO week (Monday first), and filters by area, kind, priority and owner', async () => {
    const month = (await get(`/api/reports/alarms?${NOV}&groupBy=month`)).body.rows;
    expect(month).toEqual([
      { bucket: '2026-11-01', kind: 'fall', priority: 1, count: 1 },
      { bucket: '2026-11-01', kind: 'sos', priority: 1, count: 2 },
      { bucket: '2026-11-01', kind: 'power_cut', priority: 3, count: 1 },
      { bucket: '2026-11-01', kind: 'low_battery', priority: 4, count: 1 },
    ]);
    const week = (await get(`/api/reports/alarms?${NOV}&groupBy=week&kind=sos`)).body.rows;
    expect(week).toEqual([
      { bucket: '2026-10-26', kind: 'sos', priority: 1, count: 1 }, // Sunday 11-01 is in the week of Monday 10-26
      { bucket: '2026-11-30', kind: 'sos', priority: 1, count: 1 },
    ]);
    const area = (await get(`/api/reports/alarms?${NOV}&groupBy=month&area=${encodeURIComponent('和平社区')}`)).body.rows;
    expect(area).toEqual([
      { bucket: '2026-11-01', kind: 'fall', priority: 1, count: 1 },
      { bucket: '2026-11-01', kind: 'power_cut', priority: 3, count: 1 },
    ]);
    expect((await get(`/api/reports/alarms?${NOV}&groupBy=month&priority=4`)).body.rows).toEqual([{ bucket: '2026-11-01', kind: 'low_battery', priority: 4, count: 1 }]);
    const own = await get(`/api/reports/alarms?${NOV}&groupBy=month&agentId=${id.a1}`);
    expect(own.body.rows).toEqual([{ bucket: '2026-11-01', kind: 'sos', priority: 1, count: 2 }]);
    expect(own.body.filters).toEqual({ agentId: id.a1 });
    // October holds the alarm at 23:59 local on 10-31 (and only it)
    expect((await get('/api/reports/alarms?from=2026-10-01&to=2026-10-31&groupBy=month')).body.rows).toEqual([{ bucket: '2026-10-01', kind: 'sos', priority: 1, count: 1 }]);
  });

  it('refuses a bad range', async () => {
    expect((await get('/api/reports/alarms?from=2026-11-30&to=2026-11-01')).status).toBe(400);
    expect((await get('/api/reports/alarms?from=2026-02-30')).status).toBe(400);
    expect((await get('/api/reports/alarms?from=2020-01-01&to=2026-01-01')).status).toBe(400);
    expect((await get('/api/reports/nothing')).status).toBe(400);
    expect((await get('/api/reports/alarms?groupBy=year')).status).toBe(400);
  });

  it('defaults to this month in the centre’s zone', async () => {
    const r = (await get('/api/reports/alarms')).body;
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    expect(r.from).toBe(`${today.slice(0, 7)}-01`);
    expect(r.to.slice(0, 7)).toBe(today.slice(0, 7));
    expect(r.groupBy).toBe('day');
  });
});

describe('answering report', () => {
  it('has the 60 s and 180 s rates against 97.5 % and 99 %, and the times to accept, resolve and close, per day and in total', async () => {
    const r = (await get(`/api/reports/answering?${NOV}`)).body;
    expect(r.targets).toEqual({ rate60: 0.975, rate180: 0.99 });
    expect(r.rows).toHaveLength(30);
    expect(r.rows[0]).toEqual({
      bucket: '2026-11-01', alarms: 2, answered: 2, decided60: 2, decided180: 2, within60: 1, within180: 2, rate60: 0.5, rate180: 1, met60: false, met180: true,
      avgAcceptS: 60, maxAcceptS: 90, avgResolveS: 450, maxResolveS: 600, avgCloseS: 600, maxCloseS: 600,
    });
    expect(r.rows[1]).toMatchObject({ bucket: '2026-11-02', alarms: 0, answered: 0, decided60: 0, rate60: null, met60: null, avgAcceptS: null });
    expect(r.rows[14]).toMatchObject({ bucket: '2026-11-15', alarms: 1, answered: 0, decided60: 1, within60: 0, rate60: 0, met60: false, avgAcceptS: null });
    expect(r.rows[29]).toMatchObject({ bucket: '2026-11-30', alarms: 1, within60: 0, within180: 0, rate180: 0, avgAcceptS: 200 });
    // accept 30, 90, 200 (and one never); resolve 300, 600, 400; close 600, 1000.
    expect(r.totals).toEqual({
      bucket: null, alarms: 4, answered: 3, decided60: 4, decided180: 4, within60: 1, within180: 2, rate60: 0.25, rate180: 0.5, met60: false, met180: false,
      avgAcceptS: 106.7, maxAcceptS: 200, avgResolveS: 433.3, maxResolveS: 600, avgCloseS: 800, maxCloseS: 1000,
    });
    const week = (await get(`/api/reports/answering?${NOV}&groupBy=week`)).body.rows;
    expect(week.map((x: { bucket: string; alarms: number }) => [x.bucket, x.alarms])).toEqual([['2026-10-26', 2], ['2026-11-02', 0], ['2026-11-09', 1], ['2026-11-16', 0], ['2026-11-23', 0], ['2026-11-30', 1]]);
  });
});

describe('agents report', () => {
  it('has alarms handled, calls, talk time and the time in each state clipped to the range', async () => {
    const r = (await get(`/api/reports/agents?${NOV}`, sup)).body;
    const row = (u: string) => r.rows.find((x: { username: string }) => x.username === u);
    expect(row('a1')).toEqual({
      agentId: id.a1, username: 'a1', name: '', alarms: 2, calls: 1, talkS: 120, signedInS: 6000,
      readyS: 3600, notReadyS: 1800, awayS: 0, wrapUpS: 600, onCallS: 0, handlingS: 0, ringingS: 0,
    });
    expect(row('a2')).toMatchObject({ alarms: 1, calls: 1, talkS: 300, signedInS: 60, onCallS: 60, readyS: 0 });
    expect(row('sup')).toBeUndefined();
    expect(row('admin')).toBeUndefined();
    const future = (await get('/api/reports/agents?from=2099-01-01&to=2099-01-31', sup)).body.rows;
    expect(future.find((x: { username: string }) => x.username === 'a2')).toMatchObject({ alarms: 0, calls: 0, signedInS: 0 });
  });

  it('an agent sees only their own row; another agent’s id and the other reports are refused', async () => {
    const own = await get(`/api/reports/agents?${NOV}`, a1);
    expect(own.status).toBe(200);
    expect(own.body.rows.map((x: { agentId: number }) => x.agentId)).toEqual([id.a1]);
    expect(own.body.filters).toEqual({ agentId: id.a1 });
    expect((await get(`/api/reports/agents?${NOV}&agentId=${id.a1}`, a1)).status).toBe(200);
    expect((await get(`/api/reports/agents?${NOV}&agentId=${id.a2}`, a1)).status).toBe(403);
    for (const rep of ['alarms', 'answering', 'calls', 'work-orders', 'devices']) {
      expect((await get(`/api/reports/${rep}?${NOV}`, a1)).status, rep).toBe(403);
      expect((await get(`/api/reports/${rep}/export?${NOV}`, a1)).status, rep).toBe(403);
    }
    expect((await get(`/api/reports/agents/export?${NOV}&format=csv`, a1)).status).toBe(200);
    for (const rep of ['agents', 'alarms']) {
      expect((await get(`/api/reports/${rep}?${NOV}`, inst)).status).toBe(403);
      expect((await get(`/api/reports/${rep}/export?${NOV}`, inst)).status).toBe(403);
    }
    expect((await app.http.inject({ method: 'GET', url: `/api/reports/alarms?${NOV}` })).statusCode).toBe(401);
  });
});

describe('calls, work orders, devices', () => {
  it('calls: inbound, outbound, answered, abandoned and the average wait per day', async () => {
    const r = (await get(`/api/reports/calls?${NOV}`)).body;
    expect(r.rows).toHaveLength(30);
    expect(r.rows[0]).toEqual({ bucket: '2026-11-01', calls: 2, inbound: 1, outbound: 1, answered: 1, abandoned: 1, avgWaitS: 40 });
    expect(r.rows[1]).toEqual({ bucket: '2026-11-02', calls: 1, inbound: 1, outbound: 0, answered: 1, abandoned: 0, avgWaitS: 20 });
    expect(r.rows[2]).toEqual({ bucket: '2026-11-03', calls: 0, inbound: 0, outbound: 0, answered: 0, abandoned: 0, avgWaitS: null });
    expect(r.totals).toEqual({ bucket: null, calls: 3, inbound: 2, outbound: 1, answered: 2, abandoned: 1, avgWaitS: 30 });
    expect((await get(`/api/reports/calls?${NOV}&agentId=${id.a2}`)).body.totals).toMatchObject({ calls: 1, inbound: 1, answered: 1 });
    expect((await get(`/api/reports/calls?${NOV}&area=${encodeURIComponent('幸福社区')}`)).body.totals).toMatchObject({ calls: 1, outbound: 1, abandoned: 0 });
    expect((await get('/api/reports/calls?from=2026-10-31&to=2026-10-31')).body.totals).toMatchObject({ calls: 1, abandoned: 1, avgWaitS: 10 });
  });

  it('work orders: by type × state, SLA met and missed, satisfaction', async () => {
    const r = (await get(`/api/reports/work-orders?${NOV}`)).body;
    expect(r.rows).toEqual([
      { type: 'complaint', state: 'received', orders: 1, slaMet: 1, slaMissed: 0, rated: 0, avgSatisfaction: null },
      { type: 'service', state: 'followed_up', orders: 2, slaMet: 1, slaMissed: 1, rated: 2, avgSatisfaction: 4 },
    ]);
    expect(r.totals).toEqual({ type: null, state: null, orders: 3, slaMet: 2, slaMissed: 1, rated: 2, avgSatisfaction: 4 });
    expect((await get('/api/reports/work-orders?from=2026-01-01&to=2026-01-31')).body).toMatchObject({ rows: [], totals: { orders: 0, avgSatisfaction: null } });
  });

  it('devices now: online, silent, low battery, never activated, by area (disabled ones left out)', async () => {
    const r = (await get('/api/reports/devices')).body;
    expect(r.silentH).toBe(24);
    const row = (a: string) => r.rows.find((x: { area: string }) => x.area === a);
    expect(row('幸福社区')).toEqual({ area: '幸福社区', devices: 1, online: 1, silent: 0, lowBattery: 1, neverActivated: 0 });
    expect(row('和平社区')).toEqual({ area: '和平社区', devices: 1, online: 0, silent: 1, lowBattery: 0, neverActivated: 0 });
    expect(row('—')).toEqual({ area: '—', devices: 1, online: 0, silent: 1, lowBattery: 0, neverActivated: 1 });
    expect(r.totals).toEqual({ area: null, devices: 3, online: 1, silent: 2, lowBattery: 1, neverActivated: 1 });
    expect((await get('/api/reports/devices?silentH=72')).body.totals).toMatchObject({ online: 2, silent: 1 });
    expect((await get(`/api/reports/devices?area=${encodeURIComponent('和平社区')}`)).body.rows).toHaveLength(1);
  });
});

describe('export', () => {
  it('xlsx: one sheet, zh-CN and English headers, the same rows as the JSON then the totals; named by the month', async () => {
    const json = (await get(`/api/reports/answering?${NOV}&groupBy=week`)).body;
    const r = await get(`/api/reports/answering/export?${NOV}&groupBy=week&format=xlsx`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('spreadsheetml');
    expect(r.headers['content-disposition']).toBe('attachment; filename="anxin-answering-2026-11.xlsx"');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(r.raw as unknown as ExcelJS.Buffer);
    expect(wb.worksheets).toHaveLength(1);
    const ws = wb.worksheets[0]!;
    const keys: string[] = json.columns.map((c: { key: string }) => c.key);
    const values = (n: number) => keys.map((_, i) => ws.getRow(n).getCell(i + 1).value);
    expect(values(1)).toEqual(json.columns.map((c: { zh: string; en: string }) => `${c.zh} ${c.en}`));
    expect(values(1)[0]).toBe('时段 period');
    expect(ws.actualRowCount).toBe(1 + json.rows.length + 1);
    const cells = (row: Record<string, unknown>) => keys.map((k) => row[k]);
    json.rows.forEach((row: Record<string, unknown>, i: number) => expect(values(i + 2), `row ${i}`).toEqual(cells(row)));
    expect(values(json.rows.length + 2)).toEqual(cells({ ...json.totals, bucket: '合计 Total' }));
  });

  it('csv: UTF-8 with a BOM, the Chinese headers, the rows; file names for a day and a range', async () => {
    const r = await get(`/api/reports/alarms/export?${NOV}&groupBy=month&format=csv`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('text/csv');
    expect(r.headers['content-disposition']).toBe('attachment; filename="anxin-alarms-2026-11.csv"');
    expect([...r.raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = r.raw.subarray(3).toString('utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('时段 period,告警类型 kind,优先级 priority,数量 count');
    expect(lines.slice(1)).toEqual(['2026-11-01,fall,1,1', '2026-11-01,sos,1,2', '2026-11-01,power_cut,3,1', '2026-11-01,low_battery,4,1']);
    expect((await get('/api/reports/alarms/export?from=2026-11-01&to=2026-11-01&format=csv')).headers['content-disposition']).toBe('attachment; filename="anxin-alarms-2026-11-01.csv"');
    expect((await get('/api/reports/calls/export?from=2026-11-01&to=2026-11-15')).headers['content-disposition']).toBe('attachment; filename="anxin-calls-2026-11-01_2026-11-15.xlsx"');
  });
});

describe('agent state history', () => {
  it('records sign-in → not ready → ready → sign-out as closed intervals, end to start, and nothing open after', async () => {
    const a3 = await user('a3', 'agent');
    await post('/api/agents/me/sign-in', a3, { extension: '8103' });
    await post('/api/agents/me/state', a3, { state: 'not_ready' });
    await post('/api/agents/me/state', a3, { state: 'ready' });
    await post('/api/agents/me/sign-out', a3);
    const rows = await until(async () => {
      const h = await q(`SELECT state, extension, started_at, ended_at FROM agent_state_history WHERE user_id = $1 ORDER BY started_at, id`, [id.a3]);
      return h.length === 3 && h.every((x) => x.ended_at) ? h : undefined;
    });
    expect(rows.map((x) => [x.state, x.extension])).toEqual([['ready', '8103'], ['not_ready', '8103'], ['ready', '8103']]);
    for (let i = 0; i < rows.length; i++) {
      expect(rows[i].ended_at.getTime()).toBeGreaterThanOrEqual(rows[i].started_at.getTime());
      if (i > 0) expect(rows[i].started_at.getTime()).toBe(rows[i - 1].ended_at.getTime());
    }
    // and the agents report sees them today
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const mine = (await get(`/api/reports/agents?from=${today}&to=${today}`, a3)).body.rows;
    expect(mine).toHaveLength(1);
    expect(mine[0].signedInS).toBeGreaterThanOrEqual(0);
    expect(mine[0].awayS).toBe(0);
  });

  it('keeps one agent’s changes in the order heard, and a failing write never throws into the bus', async () => {
    const failures = app.bus.failures;
    expect(() => app.bus.emit('agent.changed', { userId: 987654, state: 'ready', extension: '8000' })).not.toThrow(); // no such user: the insert fails
    const a2 = id.a2!;
    const states = ['ready', 'ringing', 'on_call', 'wrap_up', 'ready', 'not_ready', 'away'];
    for (const state of states) app.bus.emit('agent.changed', { userId: a2, state, extension: '8102', reason: state === 'not_ready' ? 'no_answer' : null });
    app.bus.emit('agent.changed', { userId: a2, state: 'away', extension: null });
    const rows = await until(async () => {
      const h = await q(`SELECT state, reason, started_at, ended_at FROM agent_state_history WHERE user_id = $1 AND extension = '8102' ORDER BY id`, [id.a2]);
      return h.length === states.length && h.every((x) => x.ended_at) ? h : undefined;
    });
    expect(rows.map((x) => x.state)).toEqual(states);
    expect(rows.find((x) => x.state === 'not_ready').reason).toBe('no_answer');
    for (let i = 1; i < rows.length; i++) expect(rows[i].started_at.getTime()).toBe(rows[i - 1].ended_at.getTime());
    // the fixture's open on_call row of 11-30 was closed by the first of these
    expect(await q(`SELECT count(*)::int AS n FROM agent_state_history WHERE user_id = $1 AND ended_at IS NULL`, [id.a2])).toEqual([{ n: 0 }]);
    expect(await q(`SELECT count(*)::int AS n FROM agent_state_history WHERE user_id = 987654`)).toEqual([{ n: 0 }]);
    expect(app.bus.failures).toBe(failures);
  });
});
