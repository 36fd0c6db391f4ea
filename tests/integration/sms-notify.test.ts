/**
 * SMS in the centre (issue 21), through the gateway and the SMSC simulator over real SMPP:
 * - an alarm raised tells the elder's contacts marked "may receive SMS", and only them; the receipt marks it delivered;
 * - a dispatched work order texts the staff member (a long Chinese text, concatenated and reassembled), and their
 *   reply "1" accepts it; a reply from an unknown number changes nothing and is counted;
 * - 退订 (TD) is honoured, the rate limit per number holds, quiet hours hold non-P1 messages as durable jobs;
 * - with the SMSC gone the alarm still commits at once; its SMS waits as `queued`.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSecondsOfDay } from '../../alarms/rules/schedule.ts';
import { SmsService, nationalNumber, parseQuietHours, quietEnd } from '../../gateway/notify/sms-service.js';
import { JobQueue } from '../../gateway/store/jobs.js';
import type { App } from '../../gateway/app.js';
import { SimulatedSmsc, type MessageSeen } from '../../simulators/smsc/smsc.ts';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

let smsc: SimulatedSmsc;
let app: App;
let admin: { authorization: string };
let elderId: number;
const seen: MessageSeen[] = [];
let bound = false;

const inject = async (method: string, url: string, payload?: unknown) => {
  const r = await app.http.inject({ method: method as 'POST', url, headers: admin, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: r.json() };
};
const rows = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
const raise = (kind: 'sos' | 'fall' | 'low_battery', raw: string) =>
  app.alarms.commit({ protocol: 'phone', kind: 'call', deviceId: 'sms-test', receivedAt: new Date(), raw }, { id: null, identifier: `sms-test-${raw}`, elderId, protocol: 'phone' }, [{ kind }], []);

beforeAll(async () => {
  smsc = new SimulatedSmsc({ systemId: 'anxin', password: 'secret', receiptDelayMs: 30 });
  smsc.on('message', (m: MessageSeen) => seen.push(m));
  smsc.on('bind', () => (bound = true));
  const port = await smsc.listen();
  app = await startTestApp({}, { SMS_TRANSPORT: 'smpp', SMPP_HOST: '127.0.0.1', SMPP_PORT: String(port), SMPP_SYSTEM_ID: 'anxin', SMPP_PASSWORD: 'secret', SMS_QUIET_HOURS: 'off', SMS_RATE_PER_HOUR: '4' });
  admin = await login(app);
  const e = await inject('POST', '/api/elders', {
    name: '王秀英', address: '上海市徐汇区漕溪北路 88 弄 3 号 502 室', area: '幸福社区', lat: 31.2, lon: 121.5, accessNotes: '钥匙在 501 邻居家，门禁密码 2580#，进门后请先喊一声，老人耳背，请耐心等待她来开门，谢谢',
    contacts: [
      { name: '李明', relation: '儿子', phone: '13900139001', maySms: true },
      { name: '王桂兰', relation: '邻居', phone: '13700137001' },
    ],
  });
  expect(e.status, JSON.stringify(e.body)).toBe(201);
  elderId = e.body.id;
  await until(() => bound, 15_000); // Anxin started without waiting for the SMSC; it binds in the background
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await smsc?.close();
});

describe('SMS through the gateway', () => {
  it('an alarm texts the contact who may receive SMS, only them; the receipt marks it delivered, and agents are told', async () => {
    const pushed: { state: string; alarmId: number | null; keys: string[] }[] = [];
    const off = app.bus.on('ws.push', ({ to, message }) => {
      if (message.type !== 'sms') return;
      expect(to).toEqual({ roles: ['agent', 'supervisor', 'admin'] });
      pushed.push({ state: message.sms.state, alarmId: message.sms.alarmId, keys: Object.keys(message.sms) });
    });
    const [alarm] = await raise('sos', 'a1');
    await until(() => seen.some((m) => m.destination.endsWith('13900139001')), 15_000);
    const m = seen.find((x) => x.destination.endsWith('13900139001'))!;
    expect(m.text).toContain('王秀英');
    expect(m.text).toContain('SOS求救');
    expect(m.text).toContain('回复TD退订'); // to a family: how to stop
    expect(seen.some((x) => x.destination.endsWith('13700137001'))).toBe(false);
    await until(async () => (await rows(`SELECT state FROM sms_messages WHERE alarm_id = $1`, [alarm!.id]))[0]?.state === 'delivered', 10_000);
    // each change is pushed so a screen listing the SMS refreshes; the number and the text are not in the push
    await until(() => pushed.some((p) => p.alarmId === alarm!.id && p.state === 'delivered'), 5_000);
    off();
    expect(pushed.filter((p) => p.alarmId === alarm!.id).map((p) => p.state)).toEqual(['queued', 'submitted', 'delivered']);
    for (const p of pushed) expect(p.keys).not.toContain('number');
    const listed = await inject('GET', `/api/sms?alarmId=${alarm!.id}`);
    expect(listed.body).toMatchObject([{ direction: 'out', number: '13900139001', template: 'alarm_raised', state: 'delivered', parts: 1 }]);
    expect((await inject('GET', '/api/sms')).status).toBe(400); // say what about
  });

  it('a dispatched order texts the staff member in parts; their reply 1 accepts it; an unknown number changes nothing', async () => {
    const station = await inject('POST', '/api/stations', { name: '幸福服务站', area: '幸福社区', lat: 31.2, lon: 121.5 });
    const staff = await inject('POST', '/api/staff', { name: '张护士', phone: '13800138077', skills: ['nurse'], stationId: station.body.id });
    const order = await inject('POST', '/api/work-orders', { type: 'service', elderId, title: '上门测量血压并协助老人服药，检查家中药品是否过期' });
    expect((await inject('POST', `/api/work-orders/${order.body.id}/dispatch`, { staffId: staff.body.id })).status).toBe(200);
    await until(() => seen.some((m) => m.destination.endsWith('13800138077')), 15_000);
    const m = seen.find((x) => x.destination.endsWith('13800138077'))!;
    expect(m.parts).toBeGreaterThan(1); // long Chinese: UCS2 in parts, reassembled by the SMSC
    expect(m.text).toContain('门禁密码 2580#');
    expect(m.text).toContain('回复1接单');
    expect(m.text).not.toContain('退订'); // staff, not the public

    const unmatchedBefore = await metric('in', 'unmatched');
    smsc.injectMo('8613600136000', '1'); // nobody we know
    await until(async () => (await metric('in', 'unmatched')) === unmatchedBefore + 1, 10_000);
    expect((await inject('GET', `/api/work-orders/${order.body.id}`)).body.order.state).toBe('dispatched');

    smsc.injectMo('8613800138077', '1');
    await until(async () => (await inject('GET', `/api/work-orders/${order.body.id}`)).body.order.state === 'accepted', 10_000);
    const tl = (await inject('GET', `/api/work-orders/${order.body.id}`)).body.timeline as { action: string; actor: string; detail: Record<string, unknown> }[];
    expect(tl.at(-1)).toMatchObject({ action: 'accept', actor: `staff:${staff.body.id}`, detail: { via: 'sms' } });
    expect((await rows(`SELECT direction, state FROM sms_messages WHERE number = '13800138077' ORDER BY id`)).map((r) => `${r.direction}:${r.state}`)).toEqual([expect.stringMatching(/^out:(submitted|delivered)$/), 'in:received']);
  });

  it('退订 is honoured and the rate limit per number holds; both are stored as suppressed, with the reason', async () => {
    smsc.injectMo('8613900139001', 'TD');
    await until(async () => (await rows(`SELECT 1 FROM sms_optouts WHERE number = '13900139001'`)).length === 1, 10_000);
    const [alarm] = await raise('fall', 'a2');
    await until(async () => (await rows(`SELECT state, reason FROM sms_messages WHERE alarm_id = $1`, [alarm!.id])).length === 1, 10_000);
    expect(await rows(`SELECT state, reason FROM sms_messages WHERE alarm_id = $1`, [alarm!.id])).toEqual([{ state: 'suppressed', reason: 'opted_out' }]);

    // SMS_RATE_PER_HOUR=4 to one number
    const states: string[] = [];
    for (let i = 0; i < 6; i++) states.push((await app.sms.send('welfare_failed', { elder: '王秀英' }, { number: '+8613500135001', priority: 1, elderId })).state);
    expect(states).toEqual(['queued', 'queued', 'queued', 'queued', 'suppressed', 'suppressed']);
    expect((await rows(`SELECT DISTINCT reason FROM sms_messages WHERE number = '13500135001' AND state = 'suppressed'`)).map((r) => r.reason)).toEqual(['rate_limited']);
  });

  it('in the quiet hours a non-P1 message to a family is held as a durable job until they end; P1 goes; without a transport it fails as sms_off', async () => {
    const hhmm = (s: number) => `${String(Math.floor(s / 3600) % 24).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}`;
    const now = localSecondsOfDay(new Date(), 'Asia/Shanghai');
    const quiet = { from: hhmm(now + 86400 - 3600), to: hhmm(now + 3600) }; // an hour ago to an hour from now
    const jobs = new JobQueue(app.databaseUrl, pino({ level: 'silent' }));
    await jobs.start();
    try {
      const svc = new SmsService(app.db, undefined, app.bus, jobs, { ratePerHour: 100, quietHours: quiet, timeZone: 'Asia/Shanghai', locale: 'zh-CN' }, { inc: () => undefined }, pino({ level: 'silent' }));
      const held = await svc.send('alarm_outcome', { elder: '王秀英', kind: '低电量', outcome: '已处理' }, { number: '13300133001', priority: 3, public: true, elderId });
      // a staff member on duty is not held: a night dispatch is their job
      expect((await svc.send('dispatch', { order: 1 }, { number: '13300133009', priority: 3 })).state).toBe('queued');
      expect(held).toMatchObject({ state: 'held', reason: 'quiet_hours' });
      const job = await rows(`SELECT start_after FROM pgboss.job WHERE name = 'sms-held' AND data->>'id' = $1`, [String(held.id)]);
      const wait = new Date(job[0].start_after).getTime() - Date.now();
      expect(wait).toBeGreaterThan(50 * 60_000); // the end of the quiet hours, about an hour away
      expect(wait).toBeLessThan(61 * 60_000);
      const urgent = await svc.send('alarm_raised', { elder: '王秀英', kind: 'SOS求救', time: '03:00' }, { number: '13300133001', priority: 1, elderId });
      expect(urgent.state).toBe('queued');
      await until(async () => (await rows(`SELECT state, reason FROM sms_messages WHERE id = $1`, [urgent.id]))[0].state === 'failed', 10_000);
      expect((await rows(`SELECT reason FROM sms_messages WHERE id = $1`, [urgent.id]))[0].reason).toBe('sms_off');
    } finally {
      await jobs.stop();
    }
  });

  it('a receipt handled before the send wrote "submitted" is not undone by it', async () => {
    const { insertSms, setSmsState } = await import('../../gateway/store/sms.js');
    const m = await insertSms(app.db, { direction: 'out', number: '13900139001', body: '测试', state: 'queued' });
    await setSmsState(app.db, m.id, 'delivered');
    const after = await setSmsState(app.db, m.id, 'submitted', { parts: 2, messageIds: ['A', 'B'] });
    expect(after).toMatchObject({ state: 'delivered', parts: 2, messageIds: ['A', 'B'] });
    expect((await setSmsState(app.db, (await insertSms(app.db, { direction: 'out', number: '13900139001', body: '测试', state: 'queued' })).id, 'submitted'))!.state).toBe('submitted');
  });

  it('numbers and quiet hours as people write them', () => {
    expect(['+8613800138000', '8613800138000', '138 0013 8000', '13800138000'].map(nationalNumber)).toEqual(Array(4).fill('13800138000'));
    expect(parseQuietHours('22:00-07:00')).toEqual({ from: '22:00', to: '07:00' });
    expect(parseQuietHours('off')).toBeNull();
    expect(() => parseQuietHours('10pm-7am')).toThrow(/HH:MM-HH:MM/);
    // 23:00 in Shanghai (15:00 UTC): quiet until 07:00, 8 hours later
    expect(quietEnd(new Date('2026-12-06T15:00:00Z'), { to: '07:00' }, 'Asia/Shanghai')).toEqual(new Date('2026-12-06T23:00:00Z'));
  });

  it('with the SMSC gone an alarm still commits at once; its SMS waits, queued, not lost', async () => {
    await smsc.close();
    const e = await inject('POST', '/api/elders', { name: '陈建国', contacts: [{ name: '陈丽', relation: '女儿', phone: '13600136002', maySms: true }] });
    const [alarm] = await app.alarms.commit({ protocol: 'phone', kind: 'call', deviceId: 'sms-down', receivedAt: new Date(), raw: 'down1' }, { id: null, identifier: 'sms-down', elderId: e.body.id, protocol: 'phone' }, [{ kind: 'sos' }], []);
    expect(alarm).toMatchObject({ kind: 'sos', elderId: e.body.id });
    await until(async () => (await rows(`SELECT state FROM sms_messages WHERE alarm_id = $1`, [alarm!.id])).length === 1, 10_000);
    expect((await rows(`SELECT state FROM sms_messages WHERE alarm_id = $1`, [alarm!.id]))[0].state).toBe('queued');
  });
});

async function metric(direction: string, state: string): Promise<number> {
  const m = await app.metrics.sms.get();
  return m.values.find((v) => v.labels.direction === direction && v.labels.state === state)?.value ?? 0;
}
