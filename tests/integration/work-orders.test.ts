/**
 * Issue 21, work orders (工单) against the real gateway: an alarm's emergency order from received to archived with
 * its timeline, audit rows and WebSocket pushes; 409 for illegal transitions and for a second open order of one
 * alarm; dispatch suggestions by area and by distance from the duty rotas; hostile text kept as text; bad bodies
 * answered 400 naming the field; installers kept out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { until } from '../helpers/until.js';
import { login, startTestApp } from '../helpers/app.js';
import { WsClient } from '../helpers/ws.js';

let app: App;
let admin: Record<string, string>;
let agent: Record<string, string>;
let agentToken: string;
let installer: Record<string, string>;
let ws: WsClient;
let elderId: number;
let farElderId: number;
const staffIds: Record<'happy' | 'peace' | 'offDuty', number> = { happy: 0, peace: 0, offDuty: 0 };
const stationIds: Record<'happy' | 'peace', number> = { happy: 0, peace: 0 };

const req = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
const post = (url: string, payload: unknown = {}, who = agent) => req('POST', url, who, payload);
const get = (url: string, who = agent) => req('GET', url, who);

async function user(username: string, role: string): Promise<{ headers: Record<string, string>; token: string }> {
  const u = await post('/api/users', { username, role, password: 'password-123' }, admin);
  expect(u.statusCode, u.body).toBe(201);
  const h = await login(app, username, 'password-123');
  return { headers: h, token: h.authorization.slice(7) };
}

async function alarm(sourceKey: string, forElder = elderId): Promise<number> {
  const r = await app.db.query(`INSERT INTO alarms (kind, priority, source_key, elder_id, state) VALUES ('fall', 1, $1, $2, 'accepted') RETURNING id`, [sourceKey, forElder]);
  return Number(r.rows[0].id);
}

beforeAll(async () => {
  app = await startTestApp({}, { LOGIN_RATE_PER_MIN: '1000' });
  admin = await login(app);
  const a = await user('wo-agent', 'agent');
  agent = a.headers;
  agentToken = a.token;
  installer = (await user('wo-installer', 'installer')).headers;
  ws = await WsClient.open(app.httpPort, agentToken);

  // The elder lives in 幸福社区 (Happiness); the Happiness station is 10 km away, the Peace station 1 km.
  elderId = (await post('/api/elders', { name: '王秀英', area: '幸福社区', lat: 31.2, lon: 121.4, address: '幸福路 8 号' }, admin)).json().id;
  farElderId = (await post('/api/elders', { name: '李建国', area: '无人社区', lat: 31.2, lon: 121.6 }, admin)).json().id;
  for (const [k, body] of [
    ['happy', { name: '幸福服务站', area: '幸福社区', lat: 31.2, lon: 121.5045, phone: '02162180001' }],
    ['peace', { name: '和平服务站', area: '和平社区', lat: 31.2, lon: 121.4105 }],
  ] as const) {
    const r = await post('/api/stations', body, admin);
    expect(r.statusCode, r.body).toBe(201);
    stationIds[k] = r.json().id;
  }
  for (const [k, station, phone] of [
    ['happy', 'happy', '13800000001'],
    ['peace', 'peace', '13800000002'],
    ['offDuty', 'happy', '13800000003'],
  ] as const) {
    const r = await post('/api/staff', { name: `员工-${k}`, phone, skills: ['nurse'], stationId: stationIds[station] }, admin);
    expect(r.statusCode, r.body).toBe(201);
    staffIds[k] = r.json().id;
  }
  // On duty round the clock, every day (equal start and end: a 24-hour shift); the third only on a past date.
  for (const k of ['happy', 'peace'] as const) {
    const entries = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '00:00' }));
    const r = await req('PUT', `/api/staff/${staffIds[k]}/rota`, admin, { entries });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toHaveLength(7);
  }
  expect((await req('PUT', `/api/staff/${staffIds.offDuty}/rota`, admin, { entries: [{ date: '2020-01-01', start: '08:00', end: '17:00' }] })).statusCode).toBe(200);
});
afterAll(async () => {
  ws?.close();
  await app?.stop();
});

describe('work orders (工单)', () => {
  it('runs an emergency order from an alarm to archived, with the timeline, audit rows and pushes', async () => {
    const alarmId = await alarm('wo-happy');
    const opened = await post('/api/work-orders', { alarmId });
    expect(opened.statusCode, opened.body).toBe(201);
    const order = opened.json();
    expect(order).toMatchObject({ type: 'emergency', state: 'received', priority: 1, alarmId, elderId });

    const again = await post('/api/work-orders', { alarmId });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: 'alarm_has_order' });
    expect(again.json().message).toContain(`#${order.id}`);

    const sug = await get(`/api/work-orders/${order.id}/suggest`);
    expect(sug.statusCode, sug.body).toBe(200);
    expect(sug.json().staff.map((s: { id: number }) => s.id)).toEqual([staffIds.happy, staffIds.peace]);
    expect(sug.json().stations[0]).toMatchObject({ id: stationIds.happy, areaMatch: true, onDutyStaffIds: [staffIds.happy] });

    const steps: [string, Record<string, unknown>, string][] = [
      ['dispatch', { staffId: staffIds.happy, note: '请尽快上门' }, 'dispatched'],
      ['accept', {}, 'accepted'],
      ['arrive', {}, 'on_site'],
      ['done', { result: '老人摔倒，已送医 / taken to hospital' }, 'done'],
      ['reply', { note: '已告知女儿' }, 'replied'],
    ];
    for (const [action, body, state] of steps) {
      const r = await post(`/api/work-orders/${order.id}/${action}`, body);
      expect(r.statusCode, `${action}: ${r.body}`).toBe(200);
      expect(r.json().state).toBe(state);
    }
    // Dispatching a staff member brings their station along.
    const now = (await get(`/api/work-orders/${order.id}`)).json().order;
    expect(now).toMatchObject({ stationId: stationIds.happy, staffId: staffIds.happy, result: '老人摔倒，已送医 / taken to hospital' });
    for (const t of ['receivedAt', 'dispatchedAt', 'acceptedAt', 'onSiteAt', 'doneAt', 'repliedAt', 'dueFollowUpAt']) expect(now[t], t).toEqual(expect.any(String));

    // Replied: due for its follow-up call (回访).
    const due = (await get('/api/work-orders?due=true')).json().map((o: { id: number }) => o.id);
    expect(due).toContain(order.id);
    // assigned to the agent who replied to the family: on their list, on nobody else's
    const me = Number((await app.db.query(`SELECT id FROM users WHERE username = 'wo-agent'`)).rows[0].id);
    expect(now.followUpAgentId).toBe(me);
    expect((await get(`/api/work-orders?due=true&followUpAgentId=${me}`)).json().map((o: { id: number }) => o.id)).toContain(order.id);
    expect((await get(`/api/work-orders?due=true&followUpAgentId=${me + 1000}`)).json()).toEqual([]);

    const fu = await post(`/api/work-orders/${order.id}/follow-up`, { satisfaction: 5, comment: '很满意' });
    expect(fu.json()).toMatchObject({ state: 'followed_up', satisfaction: 5, followUpComment: '很满意' });
    expect((await post(`/api/work-orders/${order.id}/archive`)).json().state).toBe('archived');

    const detail = (await get(`/api/work-orders/${order.id}`)).json();
    expect(detail.allowedActions).toEqual([]);
    expect(detail.timeline.map((e: { action: string; fromState: string | null; toState: string }) => [e.action, e.fromState, e.toState])).toEqual([
      ['open', null, 'received'],
      ['dispatch', 'received', 'dispatched'],
      ['accept', 'dispatched', 'accepted'],
      ['arrive', 'accepted', 'on_site'],
      ['done', 'on_site', 'done'],
      ['reply', 'done', 'replied'],
      ['follow_up', 'replied', 'followed_up'],
      ['archive', 'followed_up', 'archived'],
    ]);
    expect(detail.timeline[1].detail).toMatchObject({ staffId: staffIds.happy, stationId: stationIds.happy, note: '请尽快上门' });
    expect(detail.timeline[6].detail).toMatchObject({ satisfaction: 5, comment: '很满意' });

    const audit = await app.db.query(`SELECT actor, action, detail FROM audit_log WHERE target = $1 ORDER BY id`, [`work_order:${order.id}`]);
    expect(audit.rows.map((r) => r.action)).toEqual(['open', 'dispatch', 'accept', 'arrive', 'done', 'reply', 'follow_up', 'archive'].map((a) => `work_order_${a}`));
    // The audit log holds ids and scores, not the result's or the comment's text.
    expect(JSON.stringify(audit.rows)).not.toMatch(/送医|很满意/);

    const pushed = await ws.waitFor((m) => m.type === 'work_order' && m.action === 'archive' && (m.order as { id: number }).id === order.id);
    expect(pushed.order).toMatchObject({ state: 'archived', alarmId });
    expect(ws.messages.filter((m) => m.type === 'work_order' && (m.order as { id: number }).id === order.id).map((m) => m.action)).toEqual([
      'open', 'dispatch', 'accept', 'arrive', 'done', 'reply', 'follow_up', 'archive',
    ]);

    // Archived, it no longer blocks a new emergency order for the alarm; final, it accepts nothing.
    expect((await post('/api/work-orders', { alarmId })).statusCode).toBe(201);
    const late = await post(`/api/work-orders/${order.id}/cancel`, { reason: 'too late' });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ error: 'illegal_transition' });
    expect(late.json().message).toMatch(/已归档.*archived/);
  });

  it('opens one emergency order when two agents open the same alarm at once', async () => {
    const alarmId = await alarm('wo-race');
    const both = await Promise.all([post('/api/work-orders', { alarmId }), post('/api/work-orders', { alarmId })]);
    expect(both.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    expect((await get(`/api/work-orders?alarmId=${alarmId}`)).json()).toHaveLength(1);
  });

  it('answers 409 for an action the state does not allow, and keeps the state', async () => {
    const o = (await post('/api/work-orders', { elderId, type: 'service', title: '助餐' })).json();
    for (const action of ['accept', 'arrive', 'reply', 'archive', 'reassign']) {
      const r = await post(`/api/work-orders/${o.id}/${action}`, {});
      expect(r.statusCode, `${action}: ${r.body}`).toBe(409);
      expect(r.json().error).toBe('illegal_transition');
      expect(r.json().message).toMatch(/不能.* \/ cannot/);
    }
    const done = await post(`/api/work-orders/${o.id}/done`, { result: 'x' });
    expect(done.statusCode, 'a service order needs a responder before done').toBe(409);
    expect((await get(`/api/work-orders/${o.id}`)).json().order.state).toBe('received');
    expect((await get(`/api/work-orders/${o.id}`)).json().timeline).toHaveLength(1);

    // Reassign to the same responder is a conflict; to nobody puts the order back in the pool.
    await post(`/api/work-orders/${o.id}/dispatch`, { stationId: stationIds.peace });
    const same = await post(`/api/work-orders/${o.id}/reassign`, { stationId: stationIds.peace });
    expect(same.statusCode).toBe(409);
    expect(same.json().error).toBe('same_responder');
    const back = await post(`/api/work-orders/${o.id}/reassign`, {});
    expect(back.json()).toMatchObject({ state: 'received', stationId: null, staffId: null, dispatchedAt: null });
    const cancelled = await post(`/api/work-orders/${o.id}/cancel`, { reason: '家属已处理' });
    expect(cancelled.json()).toMatchObject({ state: 'cancelled', cancelReason: '家属已处理' });
  });

  it('an enquiry is done at the desk; an order from a call takes the call’s elder', async () => {
    const q = (await post('/api/work-orders', { type: 'enquiry', title: '咨询助浴服务' })).json();
    expect((await post(`/api/work-orders/${q.id}/done`, { result: '已解答' })).json().state).toBe('done');
    await app.db.query(`INSERT INTO calls (direction, party, flow_id, elder_id) VALUES ('inbound', 'elder', 'wo-flow-1', $1)`, [elderId]);
    const c = await post('/api/work-orders', { callId: 'wo-flow-1' });
    expect(c.statusCode, c.body).toBe(201);
    expect(c.json()).toMatchObject({ type: 'service', callId: 'wo-flow-1', elderId });
    const listed = (await get(`/api/work-orders?elderId=${elderId}&type=service&state=received`)).json().map((o: { id: number }) => o.id);
    expect(listed).toContain(c.json().id);
  });

  it('suggests the nearest on-duty responder when no area matches', async () => {
    const o = (await post('/api/work-orders', { elderId: farElderId })).json();
    const s = (await get(`/api/work-orders/${o.id}/suggest`)).json();
    expect(s.basis).toEqual({ area: true, position: true });
    // The far elder sits 9 km from the Happiness station and 18 km from Peace; the off-duty one is never offered.
    expect(s.staff.map((x: { id: number }) => x.id)).toEqual([staffIds.happy, staffIds.peace]);
    expect(s.staff.every((x: { areaMatch: boolean }) => !x.areaMatch)).toBe(true);
    expect(s.staff[0].distanceM).toBeGreaterThan(8_000);
    expect(s.staff[0].distanceM).toBeLessThan(10_000);
    expect(s.staff[1].distanceM).toBeGreaterThan(17_000);
  });

  it('stores hostile text as text and returns it unchanged', async () => {
    const title = `<script>alert(1)</script>'); DROP TABLE work_orders; --`;
    const description = '<img src=x onerror=alert(1)> 𠮷 \\u0000 "quoted"';
    const r = await post('/api/work-orders', { title, description });
    expect(r.statusCode, r.body).toBe(201);
    const back = (await get(`/api/work-orders/${r.json().id}`)).json().order;
    expect(back).toMatchObject({ title, description });
    const nul = await post('/api/work-orders', { title: 'a\u0000b' });
    expect(nul.statusCode).toBe(400);
    expect(nul.json().fields[0].field).toBe('body/title');
  });

  it('answers bad bodies with 400 naming the field', async () => {
    const o = (await post('/api/work-orders', { elderId })).json();
    const cases: [string, unknown, string][] = [
      [`/api/work-orders/${o.id}/dispatch`, {}, 'body/stationId'],
      [`/api/work-orders/${o.id}/dispatch`, { staffId: 999999 }, 'body/staffId'],
      [`/api/work-orders/${o.id}/dispatch`, { stationId: 'one' }, 'body/stationId'],
      [`/api/work-orders/${o.id}/dispatch`, { stationId: stationIds.peace, bogus: 1 }, 'body/bogus'],
      [`/api/work-orders/${o.id}/cancel`, {}, 'body/reason'],
      [`/api/work-orders/${o.id}/cancel`, { reason: '   ' }, 'body/reason'],
      ['/api/work-orders', { alarmId: 999999 }, 'body/alarmId'],
      ['/api/work-orders', { elderId: 999999 }, 'body/elderId'],
      ['/api/work-orders', { callId: 'no-such-flow' }, 'body/callId'],
      ['/api/work-orders', { type: 'party' }, 'body/type'],
    ];
    for (const [url, body, field] of cases) {
      const r = await post(url, body);
      expect(r.statusCode, `${url} ${JSON.stringify(body)}: ${r.body}`).toBe(400);
      expect(r.json().fields.map((f: { field: string }) => f.field), `${url} ${JSON.stringify(body)}`).toContain(field);
    }
    await post(`/api/work-orders/${o.id}/dispatch`, { stationId: stationIds.peace });
    await post(`/api/work-orders/${o.id}/accept`);
    await post(`/api/work-orders/${o.id}/arrive`);
    for (const [body, field] of [[{}, 'body/result'], [{ result: ' ' }, 'body/result']] as const) {
      const r = await post(`/api/work-orders/${o.id}/done`, body);
      expect(r.statusCode).toBe(400);
      expect(r.json().fields[0].field).toBe(field);
    }
    await post(`/api/work-orders/${o.id}/done`, { result: 'ok' });
    await post(`/api/work-orders/${o.id}/reply`);
    for (const satisfaction of [0, 6, 2.5]) {
      const r = await post(`/api/work-orders/${o.id}/follow-up`, { satisfaction });
      expect(r.statusCode).toBe(400);
      expect(r.json().fields[0].field).toBe('body/satisfaction');
    }
    const rota = await req('PUT', `/api/staff/${staffIds.peace}/rota`, admin, { entries: [{ weekday: 1, date: '2026-12-07', start: '08:00', end: '09:00' }] });
    expect(rota.statusCode).toBe(400);
    expect(rota.json().fields[0].field).toBe('body/entries/0/weekday');
    const badTime = await req('PUT', `/api/staff/${staffIds.peace}/rota`, admin, { entries: [{ weekday: 1, start: '8:00', end: '09:00' }] });
    expect(badTime.json().fields[0].field).toBe('body/entries/0/start');
  });

  it('keeps installers out; agents read stations and staff but only admins write them', async () => {
    expect((await get('/api/work-orders', installer)).statusCode).toBe(403);
    expect((await post('/api/work-orders', { title: 'x' }, installer)).statusCode).toBe(403);
    expect((await get('/api/stations')).statusCode).toBe(200);
    expect((await get(`/api/staff/${staffIds.happy}/rota`)).json()).toHaveLength(7);
    expect((await post('/api/stations', { name: 'x' })).statusCode).toBe(403);
    const patched = await req('PATCH', `/api/staff/${staffIds.offDuty}`, admin, { skills: ['handyman', 'volunteer'] });
    expect(patched.json().skills).toEqual(['handyman', 'volunteer']);
  });
  it('an alarm resolved with "service staff dispatched" opens its emergency order in the agent\'s name, once', async () => {
    const agentId = Number((await app.db.query(`SELECT id FROM users WHERE username = 'wo-agent'`)).rows[0].id);
    const r = await app.db.query(`INSERT INTO alarms (kind, priority, source_key, elder_id, state, owner_id) VALUES ('fall', 1, 'wo-resolve', $1, 'in_progress', $2) RETURNING id`, [elderId, agentId]);
    const alarmId = Number(r.rows[0].id);
    const resolved = await post(`/api/alarms/${alarmId}/resolve`, { outcome: 'service_dispatched', note: '派服务站上门' });
    expect(resolved.statusCode, resolved.body).toBe(200);
    await until(async () => (await get(`/api/work-orders?alarmId=${alarmId}`)).json().length === 1, 10_000);
    expect((await get(`/api/work-orders?alarmId=${alarmId}`)).json()).toMatchObject([{ type: 'emergency', state: 'received', createdBy: agentId }]);
    // an elder-ok outcome opens nothing
    const r2 = await app.db.query(`INSERT INTO alarms (kind, priority, source_key, elder_id, state, owner_id) VALUES ('fall', 1, 'wo-resolve-ok', $1, 'in_progress', $2) RETURNING id`, [elderId, agentId]);
    expect((await post(`/api/alarms/${r2.rows[0].id}/resolve`, { outcome: 'elder_ok' })).statusCode).toBe(200);
    await new Promise((res) => setTimeout(res, 300));
    expect((await get(`/api/work-orders?alarmId=${r2.rows[0].id}`)).json()).toEqual([]);
  });
});
