/**
 * The alarm engine against real PostgreSQL: presenting to the longest-idle agent, escalation to everyone and
 * the supervisor, the automatic callback step, the claim race, the lifecycle through the API with its
 * timeline and audit trail, WebSocket push and resync, and rules (low battery with restore).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { DeviceMessage } from '../../protocols/message.js';
import { until } from '../helpers/until.js';
import { login, startTestApp } from '../helpers/app.js';
import { WsClient } from '../helpers/ws.js';

let app: App;
let admin: { authorization: string };
const agents: { id: number; auth: { authorization: string }; token: string }[] = [];
let elderId: number;
let n = 0;

const msg = (over: Partial<DeviceMessage>): DeviceMessage => ({
  deviceId: '8800000015', protocol: 'watch', kind: 'alarm', receivedAt: new Date(), raw: `frame-${++n}`, ...over,
});
const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, payload: payload as object });


beforeAll(async () => {
  app = await startTestApp();
  admin = await login(app);
  for (const name of ['agent-a', 'agent-b', 'agent-c']) {
    const u = await inject('POST', '/api/users', admin, { username: name, role: 'agent', password: 'password-123' });
    const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: name, password: 'password-123' } });
    agents.push({ id: u.json().id, auth: { authorization: `Bearer ${l.json().token}` }, token: l.json().token });
  }
  await inject('POST', '/api/users', admin, { username: 'lead', role: 'supervisor', password: 'password-123' });
  // A short response plan so escalation is observable: pop at +0 s, everyone at +1 s, callback at +2 s.
  const e = await inject('POST', '/api/elders', admin, {
    name: '张秀英',
    responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 1, action: 'present_all_and_alert_supervisor' }, { atS: 2, action: 'callback_and_cascade' }] },
  });
  expect(e.statusCode).toBe(201);
  elderId = e.json().id;
  await inject('POST', '/api/devices', admin, { identifier: '8800000015', protocol: 'watch', elderId });
  await inject('POST', '/api/devices', admin, { identifier: '8800000016', protocol: 'watch', elderId });
  // agent-b became ready first, so it has been idle longest; agent-a after; agent-c is signed in but busy.
  await inject('POST', '/api/agents/me/sign-in', agents[1]!.auth, { extension: '8002' });
  await new Promise((r) => setTimeout(r, 20));
  await inject('POST', '/api/agents/me/sign-in', agents[0]!.auth, { extension: '8001' });
  await inject('POST', '/api/agents/me/sign-in', agents[2]!.auth, { extension: '8003', state: 'not_ready' });
});
afterAll(async () => app?.stop());

describe('alarm engine', () => {
  it('presents to the longest-idle ready agent at once, then everyone + supervisor, then the callback', async () => {
    const wsB = await WsClient.open(app.httpPort, agents[1]!.token);
    const wsA = await WsClient.open(app.httpPort, agents[0]!.token);
    const callbacks: number[] = [];
    const alerts: number[] = [];
    app.bus.on('alarm.callback', ({ alarm }) => void callbacks.push(alarm.id));
    app.bus.on('supervisor.alert', ({ alarm }) => void alerts.push(alarm.id));
    expect((await app.pipeline.handle([msg({ alarms: ['fall'] })])).ok).toBe(true);
    const pop = await wsB.waitFor((m) => m.type === 'present');
    const alarm = pop.alarm as { id: number; kind: string; state: string; presentedTo: number[] };
    expect(alarm).toMatchObject({ kind: 'fall', state: 'presented', presentedTo: [agents[1]!.id] });
    expect(wsA.messages.some((m) => m.type === 'present')).toBe(false);
    // +1 s: everyone signed in (agent-a too), and the supervisor is alerted.
    await wsA.waitFor((m) => m.type === 'present' && (m.alarm as { id: number }).id === alarm.id);
    await until(async () => alerts.includes(alarm.id));
    // +2 s: automatic callback and cascade.
    await until(async () => callbacks.includes(alarm.id));
    const row = (await app.db.query('SELECT esc_done, next_step_at FROM alarms WHERE id = $1', [alarm.id])).rows[0];
    expect(row).toEqual({ esc_done: [0, 1, 2], next_step_at: null });
    wsA.close();
    wsB.close();
  });

  it('two agents accepting at once: exactly one wins, the other gets 409', async () => {
    await app.pipeline.handle([msg({ alarms: ['sos'] })]);
    const id = (await app.db.query(`SELECT id FROM alarms WHERE kind = 'sos' AND state NOT IN ('closed','cleared')`)).rows[0].id;
    const results = await Promise.all(agents.map((a) => inject('POST', `/api/alarms/${id}/accept`, a.auth)));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 409, 409]);
    const owner = (await app.db.query('SELECT owner_id FROM alarms WHERE id = $1', [id])).rows[0].owner_id;
    const winner = results.findIndex((r) => r.statusCode === 200);
    expect(owner).toBe(agents[winner]!.id);
  });

  it('walks the lifecycle through the API, with a timeline row per transition and an audit entry per action', async () => {
    await app.pipeline.handle([msg({ deviceId: '8800000016', alarms: ['sos'] })]);
    const id = (await app.db.query(`SELECT id FROM alarms WHERE source_key = '8800000016' AND kind = 'sos'`)).rows[0].id;
    const a = agents[0]!.auth;
    expect((await inject('POST', `/api/alarms/${id}/accept`, a)).json().state).toBe('accepted');
    expect((await inject('POST', `/api/alarms/${id}/release`, a)).json()).toMatchObject({ state: 'presented', ownerId: null });
    expect((await inject('POST', `/api/alarms/${id}/accept`, a)).statusCode).toBe(200);
    expect((await inject('POST', `/api/alarms/${id}/note`, a, { note: '老人说按错了' })).json().state).toBe('in_progress');
    const noOutcome = await inject('POST', `/api/alarms/${id}/resolve`, a, {});
    expect(noOutcome.statusCode).toBe(400);
    const badOutcome = await inject('POST', `/api/alarms/${id}/resolve`, a, { outcome: 'teleported' });
    expect(badOutcome.statusCode).toBe(400);
    expect((await inject('POST', `/api/alarms/${id}/close`, a)).statusCode).toBe(409);
    expect((await inject('POST', `/api/alarms/${id}/resolve`, a, { outcome: 'elder_ok' })).json()).toMatchObject({ state: 'resolved', outcome: 'elder_ok' });
    expect((await inject('POST', `/api/alarms/${id}/follow-up`, a, { note: '回访: 一切正常', satisfaction: 5 })).json().state).toBe('followed_up');
    expect((await inject('POST', `/api/alarms/${id}/close`, a)).json().state).toBe('closed');

    const full = (await inject('GET', `/api/alarms/${id}`, a)).json();
    expect(full.elder.name).toBe('张秀英');
    const actions = full.timeline.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['raised', 'accept', 'release', 'note', 'resolve', 'follow_up', 'close']));
    expect(full.timeline.find((e: { action: string }) => e.action === 'resolve').actor).toBe(`user:${agents[0]!.id}`);
    const audit = (await app.db.query(`SELECT action FROM audit_log WHERE target = $1 ORDER BY id`, [`alarm:${id}`])).rows.map((r) => r.action);
    expect(audit).toEqual(['alarm_accept', 'alarm_release', 'alarm_accept', 'alarm_note', 'alarm_resolve', 'alarm_follow_up', 'alarm_close']);
  });

  it('lists open alarms by priority, then age', async () => {
    await app.pipeline.handle([msg({ deviceId: '8800000016', kind: 'heartbeat', battery: 5, raw: 'lk-low' })]);
    const list = (await inject('GET', '/api/alarms', admin)).json() as { priority: number; firstAt: string }[];
    expect(list.length).toBeGreaterThan(1);
    for (let i = 1; i < list.length; i++) {
      const [p, c] = [list[i - 1]!, list[i]!];
      expect(p.priority < c.priority || (p.priority === c.priority && p.firstAt <= c.firstAt)).toBe(true);
    }
  });

  it('low battery raises a condition alarm and the restore clears it', async () => {
    const open = await app.db.query(`SELECT state FROM alarms WHERE source_key = '8800000016' AND kind = 'low_battery'`);
    expect(open.rows).toEqual([{ state: expect.stringMatching(/raised|presented/) }]);
    await app.pipeline.handle([msg({ deviceId: '8800000016', kind: 'heartbeat', battery: 90, raw: 'lk-full' })]);
    const after = await app.db.query(`SELECT state FROM alarms WHERE source_key = '8800000016' AND kind = 'low_battery'`);
    expect(after.rows).toEqual([{ state: 'cleared' }]);
  });

  it('a WebSocket client that reconnects gets a fresh snapshot', async () => {
    const ws = await WsClient.open(app.httpPort, agents[2]!.token);
    const snap = await ws.waitFor((m) => m.type === 'snapshot');
    expect(Array.isArray(snap.alarms)).toBe(true);
    ws.close();
    await app.pipeline.handle([msg({ alarms: ['removed'] })]);
    const again = await WsClient.open(app.httpPort, agents[2]!.token);
    const snap2 = await again.waitFor((m) => m.type === 'snapshot');
    expect((snap2.alarms as { kind: string }[]).some((a) => a.kind === 'removed')).toBe(true);
    again.ws.send(JSON.stringify({ type: 'resync' }));
    await until(async () => again.messages.filter((m) => m.type === 'snapshot').length === 2);
    again.close();
  });

  it('refuses a WebSocket without a session', async () => {
    await expect(WsClient.open(app.httpPort, 'nope').then((c) => new Promise((r) => c.ws.once('close', (code) => r(code))))).resolves.toBe(4401);
  });

  it('validates per-elder rule overrides per field', async () => {
    const r = await inject('PATCH', `/api/elders/${elderId}`, admin, { rules: { vitals: { heartRate: { min: 'low' } } } });
    expect(r.statusCode).toBe(400);
    expect(r.json().fields[0].field).toBe('body/rules/vitals/heartRate/min');
    const ok = await inject('PATCH', `/api/elders/${elderId}`, admin, { rules: { vitals: { heartRate: { max: 110 } } } });
    expect(ok.statusCode).toBe(200);
  });
});

describe('identical payloads without a device time', () => {
  it('a second event with the same bytes after the first alarm was closed raises a new alarm', async () => {
    const same = { deviceId: '8800000016', protocol: 'watch' as const, kind: 'alarm' as const, alarms: ['fall' as const], raw: 'same-bytes-no-time' };
    await app.pipeline.handle([{ ...same, receivedAt: new Date() }]);
    await app.pipeline.handle([{ ...same, receivedAt: new Date() }]); // a retransmission while open: folded
    const first = (await app.db.query(`SELECT id, count FROM alarms WHERE source_key = '8800000016' AND kind = 'fall'`)).rows;
    expect(first).toEqual([{ id: expect.any(Number), count: 1 }]);
    const a = agents[0]!.auth;
    const id = first[0].id;
    await inject('POST', `/api/alarms/${id}/accept`, a);
    await inject('POST', `/api/alarms/${id}/resolve`, a, { outcome: 'accidental_press' });
    const closed = await inject('POST', `/api/alarms/${id}/close`, a);
    expect(closed.json().state).toBe('closed');
    await app.pipeline.handle([{ ...same, receivedAt: new Date() }]); // the person falls again, same bytes
    const rows = (await app.db.query(`SELECT state FROM alarms WHERE source_key = '8800000016' AND kind = 'fall' ORDER BY id`)).rows;
    expect(rows.map((r) => r.state)).toEqual(['closed', expect.stringMatching(/raised|presented/)]);
  });
});
