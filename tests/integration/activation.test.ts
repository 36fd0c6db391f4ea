/**
 * 设备开通 against the real server: an installer starts a watch's activation test, the watch connects over TCP and
 * reports a position and an SOS; the status shows it online with its battery, position and one test alarm; the SOS
 * is acknowledged after its commit, a retransmission makes no second alarm, and nothing reaches the agents (no
 * alarm.raised, no screen-pop, no WebSocket message, not in their open list). Finish signs it off (409 not_bound
 * for an unbound device); after a cancel an SOS is a real alarm again. A one-key caller's alarm goes the same way.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { Alarm } from '../../gateway/store/alarms.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

let app: App;
let admin: { authorization: string };
let installer: { authorization: string };
let agent: { id: number; auth: { authorization: string }; token: string };
let elderId: number;
let deviceId: number;
const IMEI = '8800002001';
const HOME: [number, number] = [31.2304, 121.4737];
const watches: SimulatedWatch[] = [];
const bus = { raised: [] as Alarm[][], changed: [] as Alarm[], presented: [] as Alarm[], tests: [] as Alarm[] };

const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, payload: payload as object });

async function user(username: string, role: string) {
  const u = await inject('POST', '/api/users', admin, { username, role, password: 'password-123', displayName: username });
  expect(u.statusCode).toBe(201);
  const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'password-123' } });
  return { id: u.json().id as number, auth: { authorization: `Bearer ${l.json().token}` }, token: l.json().token as string };
}

async function newWatch() {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: IMEI, lkOnConnect: false, alarmRetryMs: 60_000, lkRetryMs: 60_000, battery: 67, path: [HOME] });
  w.on('error', () => undefined);
  watches.push(w);
  await w.connect();
  return w;
}

const alarmsOf = async (id: number) => (await app.db.query('SELECT id, kind, state, outcome, test, next_step_at, closed_at FROM alarms WHERE device_id = $1 ORDER BY id', [id])).rows;

beforeAll(async () => {
  app = await startTestApp();
  admin = await login(app);
  installer = (await user('installer1', 'installer')).auth;
  agent = await user('agent1', 'agent');
  expect((await inject('POST', '/api/agents/me/sign-in', agent.auth, { extension: '8201' })).statusCode).toBe(200);
  app.bus.on('alarm.raised', ({ alarms }) => void bus.raised.push(alarms));
  app.bus.on('alarm.changed', ({ alarm }) => void bus.changed.push(alarm));
  app.bus.on('alarm.presented', ({ alarm }) => void bus.presented.push(alarm));
  app.bus.on('device.test_alarm', ({ alarm }) => void bus.tests.push(alarm));
  const e = await inject('POST', '/api/elders', admin, { name: '周桂英' });
  elderId = e.json().id;
  const d = await inject('POST', '/api/devices', installer, { identifier: IMEI, protocol: 'watch', elderId, model: 'Y3-activation' });
  expect(d.statusCode).toBe(201);
  expect(d.json()).toMatchObject({ activatedAt: null, activatedBy: null, testUntil: null, online: false });
  deviceId = d.json().id;
});
afterAll(async () => {
  for (const w of watches) await w.close().catch(() => undefined);
  await app?.stop();
});

describe('设备开通: the activation test', () => {
  it('lists devices by a substring and unbound ones only', async () => {
    await inject('POST', '/api/devices', installer, { identifier: '8800002999', protocol: 'watch' });
    const q = await inject('GET', '/api/devices?q=activation', installer);
    expect(q.json().map((x: { identifier: string }) => x.identifier)).toEqual([IMEI]);
    const unbound = await inject('GET', '/api/devices?unbound=true', installer);
    expect(unbound.json().map((x: { identifier: string }) => x.identifier)).toEqual(['8800002999']);
    // a LIKE wildcard in q is a literal character
    expect((await inject('GET', '/api/devices?q=%25', installer)).json()).toEqual([]);
  });

  it('the test window: online, battery, position and one test alarm; the SOS is acked; nothing reaches agents', async () => {
    const ws = await WsClient.open(app.httpPort, agent.token);
    await ws.waitFor((m) => m.type === 'snapshot');
    const start = await inject('POST', `/api/devices/${deviceId}/activation`, installer, { minutes: 10 });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ deviceId, identifier: IMEI, protocol: 'watch', elderId, active: true, online: false, testAlarms: [], position: null });
    const until_ = new Date(start.json().until).getTime() - new Date(start.json().startedAt).getTime();
    expect(until_).toBe(10 * 60_000);

    const w = await newWatch();
    await w.sendLK();
    await until(async () => (await inject('GET', `/api/devices/${deviceId}`, installer)).json().online === true);
    w.sendUD(HOME);
    const acked = await w.sendAlarm('sos', { point: HOME });
    expect(acked.attempts).toBe(1);

    await app.telemetry.flush();
    const status = await until(async () => {
      const s = (await inject('GET', `/api/devices/${deviceId}/activation`, installer)).json();
      return s.battery !== null && s.position && s.testAlarms.length ? s : undefined;
    });
    expect(status).toMatchObject({ active: true, online: true, battery: 67, position: { lat: HOME[0], lon: HOME[1] }, testAlarms: [{ kind: 'sos', zone: null }] });
    expect(status.lastSeen).not.toBeNull();

    // stored as a test alarm: closed at once, outcome 'test', no escalation step; raised then closed on its timeline
    const rows = await alarmsOf(deviceId);
    expect(rows).toMatchObject([{ kind: 'sos', state: 'closed', outcome: 'test', test: true, next_step_at: null }]);
    expect(rows[0].closed_at).not.toBeNull();
    const detail = (await inject('GET', `/api/alarms/${rows[0].id}`, admin)).json();
    expect(detail.alarm.test).toBe(true);
    expect(detail.timeline.map((x: { action: string }) => x.action)).toEqual(['raised', 'close']);

    // the same SOS again (a retransmission): acknowledged, no second alarm
    const alFrame = w.sent.filter((s) => s.frame.includes('*AL,')).at(-1)!.frame;
    const repliesBefore = w.received.filter((f) => f.keyword === 'AL').length;
    w.sendRaw(alFrame);
    await until(() => w.received.filter((f) => f.keyword === 'AL').length > repliesBefore);
    expect(await alarmsOf(deviceId)).toHaveLength(1);

    // nothing for agents: no bus event, no screen-pop, no WebSocket message, not in the open list nor a resync
    expect(bus.tests.map((a) => a.id)).toEqual([rows[0].id]);
    expect(bus.raised).toEqual([]);
    expect(bus.changed.filter((a) => a.deviceId === deviceId)).toEqual([]);
    expect(bus.presented).toEqual([]);
    const open = await inject('GET', '/api/alarms', agent.auth);
    expect(open.statusCode).toBe(200);
    expect(open.json()).toEqual([]);
    ws.ws.send(JSON.stringify({ type: 'resync' }));
    await until(() => ws.messages.filter((m) => m.type === 'snapshot').length >= 2);
    for (const m of ws.messages) expect(JSON.stringify(m)).not.toContain(`"id":${rows[0].id},`);
    expect(ws.messages.filter((m) => m.type === 'alarm' || m.type === 'present')).toEqual([]);
    ws.close();

    // the answered-in-time rates count no test alarm
    expect((await inject('GET', '/api/alarms/stats', admin)).json().total).toBe(0);
  });

  it('finish signs the device off and ends the window; an unbound device is refused with not_bound', async () => {
    const done = await inject('POST', `/api/devices/${deviceId}/activation/finish`, installer);
    expect(done.statusCode).toBe(200);
    const me = (await inject('GET', '/api/auth/me', installer)).json().user;
    expect(done.json()).toMatchObject({ id: deviceId, activatedBy: me.id, online: true });
    expect(done.json().activatedAt).not.toBeNull();
    expect(new Date(done.json().testUntil).getTime()).toBeLessThanOrEqual(Date.now());
    expect((await inject('GET', `/api/devices/${deviceId}/activation`, installer)).json()).toMatchObject({ active: false, activatedBy: me.id });
    const audit = await app.db.query(`SELECT action FROM audit_log WHERE target = $1 AND action LIKE 'device_activation%' ORDER BY id`, [`device:${deviceId}`]);
    expect(audit.rows.map((x) => x.action)).toEqual(['device_activation_start', 'device_activation_finish']);

    const loose = (await inject('GET', '/api/devices?unbound=true', installer)).json()[0];
    const refused = await inject('POST', `/api/devices/${loose.id}/activation/finish`, installer);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toBe('not_bound');
    expect((await inject('POST', `/api/devices/${loose.id}/activation`, agent.auth, {})).statusCode).toBe(403);
    expect((await inject('POST', '/api/devices/999999/activation', installer, {})).statusCode).toBe(404);
  });

  it('after a cancel, an SOS is a real alarm again: raised, presented to the agent', async () => {
    expect((await inject('POST', `/api/devices/${deviceId}/activation`, installer)).json().active).toBe(true);
    const cancelled = await inject('POST', `/api/devices/${deviceId}/activation/cancel`, installer);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ active: false, testAlarms: [] });
    const w = watches[0]!;
    await w.sendAlarm('fall', { point: HOME });
    const real = (await alarmsOf(deviceId)).filter((a) => !a.test);
    expect(real).toMatchObject([{ kind: 'fall', test: false }]);
    expect(real[0].next_step_at ?? real[0].state).not.toBeNull();
    expect(bus.raised.flat().map((a) => a.kind)).toEqual(['fall']);
    await until(() => bus.presented.some((a) => a.deviceId === deviceId));
    expect((await inject('GET', '/api/alarms', agent.auth)).json().map((a: { kind: string; test: boolean }) => [a.kind, a.test])).toEqual([['fall', false]]);
  });

  it("a one-key caller's press during its test is a test alarm with its line; the hotline naming the elder's device is not", async () => {
    const d = await inject('POST', '/api/devices', installer, { identifier: '02161230001', protocol: 'phone', elderId });
    expect(d.statusCode).toBe(201);
    const phone = d.json();
    expect(phone).toMatchObject({ kind: 'one_key_caller', online: false });
    const call = { protocol: 'phone' as const, kind: 'call' as const, receivedAt: new Date() };
    const source = { id: phone.id, identifier: phone.identifier, elderId, protocol: 'phone' };
    // a real condition alarm from before the test: a restore during the test leaves it with its agent
    const [lowBattery] = await app.alarms.commit({ ...call, deviceId: phone.identifier, raw: 'battery-low' }, source, [{ kind: 'low_battery' }], []);
    await inject('POST', `/api/devices/${phone.id}/activation`, installer, { minutes: 5 });
    await app.alarms.commit({ ...call, deviceId: phone.identifier, raw: 'battery-ok' }, source, [], ['low_battery']);
    expect((await app.db.query('SELECT state FROM alarms WHERE id = $1', [lowBattery!.id])).rows[0].state).not.toBe('cleared');
    const raisedBefore = bus.raised.length;
    // as telephony-service.ts raiseOneKey commits a press
    const out = await app.alarms.commit({ ...call, deviceId: phone.identifier, raw: 'onekey:e1:1' }, source, [{ kind: 'one_key_emergency', detail: { line: 'red', presses: 1 } }], []);
    expect(out).toMatchObject([{ kind: 'one_key_emergency', state: 'closed', outcome: 'test', test: true }]);
    // the same press again (no device time: the 120 s window): a retransmission, though its test alarm is closed
    const again = await app.alarms.commit({ ...call, deviceId: phone.identifier, raw: 'onekey:e1:1' }, source, [{ kind: 'one_key_emergency', detail: { line: 'red', presses: 1 } }], []);
    expect(again).toEqual([]);
    const s = (await inject('GET', `/api/devices/${phone.id}/activation`, installer)).json();
    expect(s.testAlarms).toMatchObject([{ kind: 'one_key_emergency', line: 'red' }]);
    expect(s.testAlarms).toHaveLength(1);
    expect(bus.raised.length).toBe(raisedBefore);

    // a hotline emergency call names the elder's device but is not the device's own alarm: real
    const hotline = await app.alarms.commit(
      { ...call, deviceId: 'hotline:13900001111', raw: 'hotline:h1:emergency' },
      { id: phone.id, identifier: 'hotline:13900001111', elderId, protocol: 'phone' },
      [{ kind: 'one_key_emergency', detail: { via: 'hotline' } }],
      [],
    );
    expect(hotline).toMatchObject([{ kind: 'one_key_emergency', state: 'raised', test: false }]);
  });

  it('an MQTT device is online while it is logged in to the broker', async () => {
    const d = await inject('POST', '/api/devices', installer, { identifier: 'mqtt-act-1', protocol: 'mqtt-json', elderId });
    expect(d.json()).toMatchObject({ online: false });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${app.broker.port}`, { clientId: 'mqtt-act-1', username: 'mqtt-act-1', password: d.json().mqttSecret, reconnectPeriod: 0 });
    try {
      expect((await inject('GET', `/api/devices/${d.json().id}`, installer)).json().online).toBe(true);
    } finally {
      await c.endAsync();
    }
    await until(async () => (await inject('GET', `/api/devices/${d.json().id}`, installer)).json().online === false);
  });

  it('the protocol catalogue is there for every role', async () => {
    const r = await inject('GET', '/api/protocols', agent.auth);
    expect(r.statusCode).toBe(200);
    const watch = r.json().find((p: { name: string }) => p.name === 'watch');
    expect(watch).toMatchObject({ transport: 'tcp', identifierIsPhone: false, deviceSecret: false, settings: null });
    expect(watch.commands.find((c: { type: string }) => c.type === 'UPLOAD')).toMatchObject({ common: true, dangerous: false, params: { properties: { seconds: { minimum: 60 } } } });
    const mqtt = r.json().find((p: { name: string }) => p.name === 'mqtt-json');
    expect(mqtt).toMatchObject({ deviceSecret: true, transport: 'mqtt', commands: [] });
  });
});
