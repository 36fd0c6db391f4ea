/**
 * Work orders' service levels (issue 21) on the durable job queue: a dispatch nobody accepts in time goes on the
 * order's timeline as missed, is pushed to the dashboards, and (emergencies) goes once down the list of on-duty
 * staff; an order accepted in time is left alone. The timers are jobs in PostgreSQL: a gateway killed with
 * SIGKILL right after the dispatch runs the check when it is back, exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { freePort } from '../../testkit/free-port.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';
import { ROOT } from '../helpers/vectors.js';
import { WsClient } from '../helpers/ws.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> & { id?: number } }>;
const ALL_DAY = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '00:00' }));

/** A station with two staff on duty round the clock, an elder in its area, and an emergency order for her. */
async function centre(call: Call): Promise<{ orderId: number; staff: [number, number] }> {
  const station = await call('POST', '/api/stations', { name: '幸福服务站', area: '幸福社区', lat: 31.2, lon: 121.5 });
  expect(station.status, JSON.stringify(station.body)).toBe(201);
  const staff: number[] = [];
  for (const [name, phone] of [['张护士', '13800000011'], ['李护士', '13800000012']]) {
    const s = await call('POST', '/api/staff', { name, phone, skills: ['nurse'], stationId: station.body.id });
    expect(s.status, JSON.stringify(s.body)).toBe(201);
    expect((await call('PUT', `/api/staff/${s.body.id}/rota`, { entries: ALL_DAY })).status).toBe(200);
    staff.push(s.body.id!);
  }
  const elder = await call('POST', '/api/elders', { name: '王秀英', area: '幸福社区', lat: 31.2, lon: 121.5 });
  const order = await call('POST', '/api/work-orders', { type: 'emergency', elderId: elder.body.id, title: '跌倒后上门查看' });
  expect(order.status, JSON.stringify(order.body)).toBe(201);
  return { orderId: order.body.id!, staff: staff as [number, number] };
}

const events = async (db: { query: pg.Pool['query'] }, orderId: number) =>
  (await db.query(`SELECT action, detail FROM work_order_events WHERE order_id = $1 ORDER BY id`, [orderId])).rows as { action: string; detail: Record<string, unknown> }[];

describe('work orders: service-level timers', () => {
  it('a missed accept is on the timeline and pushed, goes once down the on-duty list, and an accepted order is left alone', async () => {
    const app: App = await startTestApp({}, { WORK_ORDER_SLA: JSON.stringify({ emergency: { accept: { withinS: 1 } } }) });
    cleanups.push(() => app.stop());
    const admin = await login(app);
    const call: Call = async (method, url, body) => {
      const r = await app.http.inject({ method: method as 'POST', url, headers: admin, ...(body === undefined ? {} : { payload: body as object }) });
      return { status: r.statusCode, body: r.json() };
    };
    const { orderId, staff } = await centre(call);
    const ws = await WsClient.open(app.httpPort, admin.authorization.slice(7));
    cleanups.push(() => ws.close());

    expect((await call('POST', `/api/work-orders/${orderId}/dispatch`, { staffId: staff[0] })).status).toBe(200);
    // 1 s later nobody accepted: the miss is pushed, and the order goes to the other nurse with timers of its own
    const pushed = await ws.waitFor((m) => m.type === 'work_order' && m.action === 'sla_overdue', 10_000);
    expect((pushed.order as { id: number }).id).toBe(orderId);
    await until(async () => ((await call('GET', `/api/work-orders/${orderId}`)).body.order as { staffId: number }).staffId === staff[1], 10_000);
    // she misses it too: a second miss, and nobody left to give it to (it does not go round and round)
    await until(async () => (await events(app.db, orderId)).filter((e) => e.action === 'sla_overdue').length === 2, 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    const tl = await events(app.db, orderId);
    expect(tl.map((e) => e.action)).toEqual(['open', 'dispatch', 'sla_overdue', 'reassign', 'sla_overdue']);
    expect(tl[2]!.detail).toMatchObject({ check: 'accept', staffId: staff[0], withinS: 1 });
    expect(tl[3]!.detail).toMatchObject({ reason: 'sla', staffId: staff[1], previous: { staffId: staff[0] } });
    expect(tl[4]!.detail).toMatchObject({ check: 'accept', staffId: staff[1] });
    const audit = (await app.db.query(`SELECT actor, action FROM audit_log WHERE target = $1 ORDER BY id`, [`work_order:${orderId}`])).rows;
    expect(audit.filter((a) => a.actor === 'system').map((a) => a.action)).toEqual(['work_order_sla_overdue', 'work_order_reassign', 'work_order_sla_overdue']);
    // each nurse was texted the dispatch and, when she let it lapse, that it was overdue (no SMS transport here:
    // stored as failed, sms_off)
    await until(async () => (await app.db.query(`SELECT 1 FROM sms_messages WHERE work_order_id = $1 AND template = 'sla_overdue'`, [orderId])).rows.length === 2, 10_000);
    const texts = (await app.db.query(`SELECT staff_id, template FROM sms_messages WHERE work_order_id = $1 ORDER BY id`, [orderId])).rows.map((r) => `${r.staff_id}:${r.template}`);
    expect(texts.sort()).toEqual([`${staff[0]}:dispatch`, `${staff[0]}:sla_overdue`, `${staff[1]}:dispatch`, `${staff[1]}:sla_overdue`].sort());

    // an order accepted in time: its accept check finds nothing to do
    const other = await call('POST', '/api/work-orders', { type: 'emergency', elderId: ((await call('GET', `/api/work-orders/${orderId}`)).body.order as { elderId: number }).elderId, title: '送药' });
    expect((await call('POST', `/api/work-orders/${other.body.id}/dispatch`, { staffId: staff[0] })).status).toBe(200);
    expect((await call('POST', `/api/work-orders/${other.body.id}/accept`, {})).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await events(app.db, other.body.id!)).map((e) => e.action)).toEqual(['open', 'dispatch', 'accept']);
  }, 60_000);

  it('survives kill -9: a check due while the gateway is down runs once when it is back', async () => {
    const databaseUrl = await createTestDatabase('slacrash');
    const [http, watchPort, mqtt] = await Promise.all([freePort(), freePort(), freePort()]);
    const env = {
      PATH: process.env.PATH!, HOME: process.env.HOME!, DATABASE_URL: databaseUrl, DATA_DIR: mkdtempSync(join(tmpdir(), 'anxin-sla-')),
      HTTP_PORT: String(http), HTTP_HOST: '127.0.0.1', WATCH_PORT: String(watchPort), GT06_PORT: '0', DC09_TCP_PORT: '0', DC09_UDP_PORT: '0', SCAIP_SIP_PORT: '0', MQTT_PORT: String(mqtt), ADMIN_PASSWORD, LOG_LEVEL: 'warn', TELEPHONY: 'off',
      WORK_ORDER_SLA: JSON.stringify({ emergency: { accept: { withinS: 3 } } }),
    };
    const start = () => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], { cwd: ROOT, env, stdio: 'ignore' });
      cleanups.push(() => p.kill('SIGKILL'));
      return p;
    };
    const healthy = () => until(async () => (await fetch(`http://127.0.0.1:${http}/healthz`).catch(() => undefined))?.status === 200, 60_000);
    let token = '';
    const call: Call = async (method, path, body) => {
      const r = await fetch(`http://127.0.0.1:${http}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const check = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    cleanups.push(() => check.end());

    let child: ChildProcess = start();
    await healthy();
    token = ((await (await fetch(`http://127.0.0.1:${http}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) })).json()) as { token: string }).token;
    const { orderId, staff } = await centre(call);
    expect((await call('POST', `/api/work-orders/${orderId}/dispatch`, { staffId: staff[0] })).status).toBe(200);
    // the timers are rows in PostgreSQL, committed with the dispatch: accept (3 s) and on site (30 min)
    const jobs = await check.query(`SELECT data->>'check' AS check FROM pgboss.job WHERE name = 'work-order-sla' AND data->>'orderId' = $1 ORDER BY 1`, [String(orderId)]);
    expect(jobs.rows.map((j) => j.check)).toEqual(['accept', 'on_site']);
    const killed = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await killed;
    await new Promise((r) => setTimeout(r, 4000)); // due while nothing runs
    expect((await events(check, orderId)).map((e) => e.action)).toEqual(['open', 'dispatch']);

    child = start();
    await healthy();
    await until(async () => (await events(check, orderId)).some((e) => e.action === 'sla_overdue'), 30_000);
    await until(async () => (await events(check, orderId)).filter((e) => e.action === 'reassign').length === 1, 10_000);
    // and a further restart does not run it again
    const stopped = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await stopped;
    child = start();
    await healthy();
    await new Promise((r) => setTimeout(r, 5000)); // the second nurse's own 3 s check: one more miss, no more reassigning
    const tl = (await events(check, orderId)).map((e) => e.action);
    expect(tl).toEqual(['open', 'dispatch', 'sla_overdue', 'reassign', 'sla_overdue']);
    child.kill('SIGTERM');
  }, 150_000);
});
