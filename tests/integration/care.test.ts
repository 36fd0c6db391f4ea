/**
 * Care programmes (issue 22) through the gateway, with explicit clocks in Asia/Shanghai (no DST): schedules through
 * the API and their refusals; the runs of an occurrence made once, across a restart; an attempt's retries as
 * durable jobs and a welfare_check_failed alarm with the attempts on its timeline and SMS to the contacts; a job
 * repeated changes nothing; the green key in the check-in window is a check-in (no alarm) and cancels the day's call,
 * outside it a service request; device activity as a check-in; an SMS reminder; care tasks and birthdays; the report
 * with elders who missed 2 days in a row. Telephony is off here (tests/integration/care-telephony.test.ts calls).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';

let app: App;
let databaseUrl: string;
let admin: { authorization: string };
let agent: { authorization: string };

const inject = async (method: string, url: string, payload?: unknown, who = admin) => {
  const r = await app.http.inject({ method: method as 'POST', url, headers: who, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: r.body ? r.json() : undefined };
};
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
/** 2027-03-01 08:30 in Shanghai (00:30Z): a Monday, far from the real clock so no run comes due by itself */
const T0 = new Date('2027-03-01T00:30:00Z');
const FAR = { kind: 'every', n: 1, from: '2027-03-01' };

async function elder(name: string, extra: Record<string, unknown> = {}): Promise<number> {
  const r = await inject('POST', '/api/elders', { name, phone: '13800138000', area: '幸福社区', ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}

beforeAll(async () => {
  databaseUrl = await createTestDatabase('care');
  app = await startTestApp({ databaseUrl }, { TZ_CENTRE: 'Asia/Shanghai' });
  admin = await login(app);
  expect((await inject('POST', '/api/users', { username: 'zuoxi', role: 'agent', password: 'password-123' })).status).toBe(201);
  agent = await login(app, 'zuoxi', 'password-123');
}, 60_000);

afterAll(async () => app?.stop());

describe('care schedules through the API', () => {
  it('are created by supervisors and admins, checked, and listed with their next run; agents may read only', async () => {
    const id = await elder('王秀英');
    const ok = await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: FAR, times: ['15:00', '09:00', '09:00'], checkinWindow: { from: '07:00', to: '10:00' } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body).toMatchObject({ elderId: id, kind: 'welfare_call', channel: 'call', times: ['09:00', '15:00'], retries: 2, retryIntervalMin: 10, active: true, nextAt: '2027-03-01T01:00:00.000Z' });
    const bad = await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: { kind: 'days', days: [] }, times: ['09:00'] });
    expect(bad.status).toBe(400);
    const sms = await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', channel: 'sms', recurrence: { kind: 'daily' }, times: ['09:00'] });
    expect(sms.status).toBe(400);
    expect(JSON.stringify(sms.body)).toContain('body/channel');
    const allDay = await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: { kind: 'daily' }, times: ['09:00'], checkinWindow: { from: '08:00', to: '08:00' } });
    expect(allDay.status).toBe(400);
    expect(JSON.stringify(allDay.body)).toContain('body/checkinWindow');
    const wrongTime = await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'medication', recurrence: { kind: 'daily' }, times: ['25:00'] });
    expect(wrongTime.status).toBe(400);
    expect((await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: { kind: 'daily' }, times: ['09:00'] }, agent)).status).toBe(403);
    expect((await inject('GET', `/api/elders/${id}/care-schedules`, undefined, agent)).body).toHaveLength(1);
    expect((await inject('GET', '/api/elders/999999/care-schedules')).status).toBe(404);
    const off = await inject('PATCH', `/api/care-schedules/${ok.body.id}`, { active: false });
    expect(off.body).toMatchObject({ active: false, nextAt: null });
    expect((await q(`SELECT count(*)::int AS n FROM audit_log WHERE action LIKE 'care_schedule_%'`))[0]!.n).toBe(2);
    expect((await inject('DELETE', `/api/care-schedules/${ok.body.id}`)).status).toBe(204);
  });
});

describe('runs, attempts and escalation', () => {
  it('an occurrence is one run and one job, whatever the planner does, across a restart', async () => {
    const id = await elder('李桂兰');
    const s = (await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: FAR, times: ['09:00', '15:00'] })).body;
    await app.care.plan(T0);
    await app.care.plan(T0);
    const runs = async () => q(`SELECT local_date::text AS d, due_at FROM care_runs WHERE schedule_id = $1 ORDER BY due_at`, [s.id]);
    // 26 h from 08:30 on the 1st: 09:00 and 15:00 that day, 09:00 the next
    expect((await runs()).map((r) => [r.d, (r.due_at as Date).toISOString()])).toEqual([
      ['2027-03-01', '2027-03-01T01:00:00.000Z'],
      ['2027-03-01', '2027-03-01T07:00:00.000Z'],
      ['2027-03-02', '2027-03-02T01:00:00.000Z'],
    ]);
    const jobs = async () => Number((await q(`SELECT count(*) FROM pgboss.job WHERE name = 'care-attempt' AND data->>'runId' IN (SELECT id::text FROM care_runs WHERE schedule_id = $1)`, [s.id]))[0]!.count);
    expect(await jobs()).toBe(3);
    await app.stop();
    app = await startTestApp({ databaseUrl }, { TZ_CENTRE: 'Asia/Shanghai', ADMIN_PASSWORD });
    admin = await login(app);
    agent = await login(app, 'zuoxi', 'password-123');
    await app.care.plan(T0);
    expect(await runs()).toHaveLength(3);
    expect(await jobs()).toBe(3);
  }, 60_000);

  it('without an answer an attempt retries as a job; the last raises welfare_check_failed with the attempts and texts the contacts; a repeated job changes nothing', async () => {
    const id = await elder('赵玉珍', { contacts: [{ name: '赵明', relation: '儿子', phone: '13900139011', maySms: true }, { name: '邻居', relation: '邻居', phone: '13700137011' }] });
    const s = (await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: FAR, times: ['09:00'], retries: 1, retryIntervalMin: 5 })).body;
    await app.care.plan(T0);
    const run = (await q(`SELECT id FROM care_runs WHERE schedule_id = $1 ORDER BY due_at LIMIT 1`, [s.id]))[0]!;
    const at = new Date('2027-03-01T01:00:05Z');
    await app.care.attempt({ runId: run.id, n: 1 }, at);
    const state = async () => (await q(`SELECT state, attempts, next_attempt_at, alarm_id FROM care_runs WHERE id = $1`, [run.id]))[0]!;
    await until(async () => (await state()).state === 'retry_wait', 5000);
    const waiting = await state();
    expect(waiting.attempts).toMatchObject([{ n: 1, outcome: 'failed:telephony_off' }]);
    // the retry is a durable job, due retryIntervalMin after the attempt ended
    expect(Number((await q(`SELECT count(*) FROM pgboss.job WHERE name = 'care-attempt' AND data = $1::jsonb`, [JSON.stringify({ runId: run.id, n: 2 })]))[0]!.count)).toBe(1);
    await app.care.attempt({ runId: run.id, n: 1 }, at); // the first job again: nothing
    expect((await state()).attempts).toHaveLength(1);
    await app.care.attempt({ runId: run.id, n: 2 }, new Date('2027-03-01T01:06:00Z'));
    await until(async () => (await state()).state === 'failed', 5000);
    const failed = await state();
    expect(failed.alarm_id).not.toBeNull(); // the run ends with its alarm, in one commit
    const alarm = (await q(`SELECT kind, priority, elder_id FROM alarms WHERE id = $1`, [failed.alarm_id]))[0];
    expect(alarm).toEqual({ kind: 'welfare_check_failed', priority: 2, elder_id: id });
    const events = await q(`SELECT action, detail FROM alarm_events WHERE alarm_id = $1 AND action = 'care_attempt' ORDER BY id`, [failed.alarm_id]);
    expect(events.map((e) => [e.detail.n, e.detail.outcome])).toEqual([[1, 'failed:telephony_off'], [2, 'failed:telephony_off']]);
    const sms = await q(`SELECT number, template FROM sms_messages WHERE alarm_id = $1`, [failed.alarm_id]);
    expect(sms).toEqual([{ number: '13900139011', template: 'welfare_failed' }]);
    await app.care.attempt({ runId: run.id, n: 2 }, new Date()); // a late repeat: still one alarm
    expect(Number((await q(`SELECT count(*) FROM alarms WHERE kind = 'welfare_check_failed' AND elder_id = $1`, [id]))[0]!.count)).toBe(1);
  });

  it('a process that died mid-call leaves the run calling: the next start counts that attempt as lost and goes on', async () => {
    const id = await elder('孙秀兰');
    const s = (await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: FAR, times: ['15:00'], retries: 2 })).body;
    await app.care.plan(T0);
    const run = (await q(`SELECT id FROM care_runs WHERE schedule_id = $1 ORDER BY due_at LIMIT 1`, [s.id]))[0]!;
    await q(`UPDATE care_runs SET state = 'calling', attempts = '[{"n":1,"at":"2027-03-01T07:00:00Z","outcome":null,"callId":"x"}]' WHERE id = $1`, [run.id]);
    expect(await app.care.recoverStale(new Date(), 0)).toBeGreaterThanOrEqual(1);
    const r = (await q(`SELECT state, attempts FROM care_runs WHERE id = $1`, [run.id]))[0]!;
    expect(r.state).toBe('retry_wait');
    expect(r.attempts[0].outcome).toBe('failed:lost');
  });
});

describe('check-ins', () => {
  it('the green key in the window is a check-in: no alarm, the day’s call cancelled; outside the window it is a service request', async () => {
    const id = await elder('周淑珍');
    const s = (await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: FAR, times: ['10:00'], checkinWindow: { from: '07:00', to: '10:00' } })).body;
    await app.care.plan(T0);
    const dev = (await inject('POST', '/api/devices', { identifier: '02162188001', protocol: 'phone', elderId: id })).body;
    const green = (raw: string, at: Date) =>
      app.alarms.commit({ protocol: 'phone', kind: 'call', deviceId: '02162188001', receivedAt: at, raw }, { id: dev.id, identifier: '02162188001', elderId: id, protocol: 'phone' }, [{ kind: 'one_key_service' }], []);
    expect(await green('g1', new Date('2027-03-01T00:45:00Z'))).toEqual([]); // 08:45: in the window
    const run = (await q(`SELECT state, reason FROM care_runs WHERE schedule_id = $1 AND local_date = '2027-03-01'`, [s.id]))[0];
    expect(run).toEqual({ state: 'checked_in', reason: 'green_key' });
    expect((await q(`SELECT source, device_id FROM care_checkins WHERE elder_id = $1`, [id]))).toEqual([{ source: 'green_key', device_id: dev.id }]);
    expect(Number((await q(`SELECT count(*) FROM alarms WHERE elder_id = $1`, [id]))[0]!.count)).toBe(0);
    const later = await green('g2', new Date('2027-03-01T05:00:00Z')); // 13:00: a service request
    expect(later.map((a) => a.kind)).toEqual(['one_key_service']);
    // tomorrow's run is untouched by today's check-in
    expect((await q(`SELECT state FROM care_runs WHERE schedule_id = $1 AND local_date = '2027-03-02'`, [s.id]))[0]!.state).toBe('scheduled');
  });

  it('device activity in the hour before counts when the schedule says so', async () => {
    const id = await elder('吴桂英');
    const s = (await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: FAR, times: ['11:00'], activityCheckin: true })).body;
    await app.care.plan(T0);
    const dev = (await inject('POST', '/api/devices', { identifier: '860000000000221', protocol: 'watch', elderId: id })).body;
    const run = (await q(`SELECT id FROM care_runs WHERE schedule_id = $1 ORDER BY due_at LIMIT 1`, [s.id]))[0]!;
    const at = new Date('2027-03-01T03:00:00Z');
    await q(`UPDATE devices SET last_seen = $2 WHERE id = $1`, [dev.id, new Date(at.getTime() - 20 * 60_000)]);
    await app.care.attempt({ runId: run.id, n: 1 }, at);
    expect((await q(`SELECT state, reason FROM care_runs WHERE id = $1`, [run.id]))[0]).toEqual({ state: 'checked_in', reason: 'activity' });
  });
});

describe('reminders, care tasks and the report', () => {
  it('an SMS reminder is sent (stored) and the run is done', async () => {
    const id = await elder('郑秀珍', { phone: '13800138099' });
    const s = (await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'medication', channel: 'sms', recurrence: FAR, times: ['08:45'], note: '降压药 1 片' })).body;
    expect(s.channel).toBe('sms');
    await app.care.plan(new Date('2027-03-01T00:00:00Z'));
    const run = (await q(`SELECT id FROM care_runs WHERE schedule_id = $1 ORDER BY due_at LIMIT 1`, [s.id]))[0]!;
    await app.care.attempt({ runId: run.id, n: 1 }, new Date('2027-03-01T00:45:00Z'));
    const m = (await q(`SELECT number, template, body FROM sms_messages WHERE elder_id = $1`, [id]))[0];
    expect(m).toMatchObject({ number: '13800138099', template: 'care_reminder' });
    expect(m.body).toContain('降压药 1 片');
    // SMS_TRANSPORT is off here: the message is stored and failed (sms_off), and the run says so
    expect((await q(`SELECT state FROM care_runs WHERE id = $1`, [run.id]))[0]!.state).toMatch(/^(ok|retry_wait)$/);
  });

  it('tasks: made, listed as due, done once; birthdays made once a day', async () => {
    const id = await elder('冯秀兰');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    const t = await inject('POST', '/api/care/tasks', { elderId: id, reason: 'after_hospital', dueDate: today, note: '<b>出院</b>第三天' }, agent);
    expect(t.status, JSON.stringify(t.body)).toBe(201);
    expect((await inject('POST', '/api/care/tasks', { elderId: id, reason: 'nope', dueDate: today }, agent)).status).toBe(400);
    expect((await inject('POST', '/api/care/tasks', { elderId: id, reason: 'custom', dueDate: '2027-02-30' }, agent)).status).toBe(400);
    const bday = await elder('陈寿星', { birthDate: `1940-${today.slice(5)}` });
    await app.care.plan();
    await app.care.plan();
    const due = (await inject('GET', '/api/care/due', undefined, agent)).body as { elderId: number; reason: string; state: string; elderName: string }[];
    expect(due.filter((x) => x.elderId === bday).map((x) => x.reason)).toEqual(['birthday']);
    expect(due.find((x) => x.elderId === id)).toMatchObject({ reason: 'after_hospital', state: 'open', elderName: '冯秀兰' });
    const done = await inject('POST', `/api/care/tasks/${t.body.id}/done`, { result: 'reached', note: '恢复良好' }, agent);
    expect(done.body).toMatchObject({ state: 'done', result: 'reached', resultNote: '恢复良好' });
    expect((await inject('POST', `/api/care/tasks/${t.body.id}/done`, { result: 'reached' }, agent)).status).toBe(409);
    expect((await inject('GET', '/api/care/due', undefined, agent)).body.find((x: { id: number }) => x.id === t.body.id)).toMatchObject({ state: 'done' });
    // the result is on the elder's timeline for staff; an installer's view leaves care out
    const tl = (await inject('GET', `/api/elders/${id}/timeline`, undefined, agent)).body.entries as { kind: string; result?: string; resultNote?: string }[];
    expect(tl.find((x) => x.kind === 'care_task')).toMatchObject({ result: 'reached', resultNote: '恢复良好' });
    expect((await inject('POST', '/api/users', { username: 'anzhuang', role: 'installer', password: 'password-123' })).status).toBe(201);
    const inst = await login(app, 'anzhuang', 'password-123');
    expect(((await inject('GET', `/api/elders/${id}/timeline`, undefined, inst)).body.entries as { kind: string }[]).some((x) => x.kind.startsWith('care'))).toBe(false);
  });

  it('the report counts per day and per area, and flags elders who missed 2 days in a row', async () => {
    const id = await elder('韩淑英', { area: '阳光社区' });
    const s = (await inject('POST', `/api/elders/${id}/care-schedules`, { kind: 'welfare_call', recurrence: { kind: 'daily' }, times: ['09:00'], active: false })).body;
    const mk = (date: string, state: string, attempts: unknown[]) =>
      q(`INSERT INTO care_runs (schedule_id, elder_id, kind, channel, local_date, due_at, state, attempts) VALUES ($1, $2, 'welfare_call', 'call', $3, $4, $5, $6)`, [s.id, id, date, `${date}T01:00:00Z`, state, JSON.stringify(attempts)]);
    await mk('2026-11-02', 'ok', [{ n: 1, outcome: 'ok' }]);
    await mk('2026-11-03', 'failed', [{ n: 1, outcome: 'no_answer' }, { n: 2, outcome: 'busy' }]);
    await mk('2026-11-04', 'failed', [{ n: 1, outcome: 'no_answer' }]);
    const r = (await inject('GET', '/api/care/report?from=2026-11-01&to=2026-11-30&groupBy=day')).body;
    expect(r.rows.map((x: { key: string; made: number; answered: number; ok: number; failed: number }) => [x.key, x.made, x.answered, x.ok, x.failed])).toEqual([
      ['2026-11-02', 1, 1, 1, 0],
      ['2026-11-03', 2, 0, 0, 1],
      ['2026-11-04', 1, 0, 0, 1],
    ]);
    expect(r.totals).toMatchObject({ made: 4, ok: 1, failed: 2 });
    expect(r.flagged).toEqual([{ elderId: id, name: '韩淑英', area: '阳光社区', days: 2, lastDate: '2026-11-04' }]);
    const byArea = (await inject('GET', '/api/care/report?from=2026-11-01&to=2026-11-30&groupBy=area')).body;
    expect(byArea.rows).toMatchObject([{ key: '阳光社区', made: 4 }]);
    expect((await inject('GET', '/api/care/report?from=2026-12-01&to=2026-11-01')).status).toBe(400);
    expect((await inject('GET', '/api/care/report', undefined, agent)).status).toBe(403);
  });
});
