import argon2 from 'argon2';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { DeviceMessage } from '../../protocols/message.js';
import { metricValue, until } from '../helpers/until.js';
import { login, startTestApp } from '../helpers/app.js';

let app: App;
let auth: { authorization: string };
let elderId: number;
const INTEGRATOR = { name: 'district-platform', password: 'integrator-pass-456' };

const msg = (over: Partial<DeviceMessage>): DeviceMessage => ({
  deviceId: '8800000015',
  protocol: 'watch',
  kind: 'heartbeat',
  receivedAt: new Date(),
  raw: '[3G*8800000015*0002*LK]',
  ...over,
});

beforeAll(async () => {
  app = await startTestApp({}, { MQTT_INTEGRATORS: `${INTEGRATOR.name}:${await argon2.hash(INTEGRATOR.password)}` });
  auth = await login(app);
  const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '张秀英' } });
  elderId = e.json().id;
  const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: '8800000015', protocol: 'watch', elderId } });
  expect(d.statusCode).toBe(201);
});
afterAll(async () => app?.stop());

const metric = (name: string, label = '') => metricValue(app.metrics.registry, name, label);

describe('pipeline', () => {
  it('rejects an unregistered device, counts it and lists it as awaiting registration', async () => {
    const before = await metric('anxin_unknown_device_frames_total');
    const r = await app.pipeline.handle([msg({ deviceId: '9999999999' })], '127.0.0.1:1');
    expect(r).toMatchObject({ ok: false, reason: 'unknown_device' });
    expect(await metric('anxin_unknown_device_frames_total')).toBe(before + 1);
    const list = await app.http.inject({ url: '/api/devices/unregistered', headers: auth });
    expect(list.json().map((d: { identifier: string }) => d.identifier)).toContain('9999999999');
    expect((await app.db.query('SELECT count(*)::int n FROM alarms')).rows[0].n).toBe(0);
  });

  it('records a command echo with a NUL byte in it without an error (found by the fuzz bench)', async () => {
    const before = await metric('anxin_process_errors_total', 'stage="command_echo"');
    const r = await app.pipeline.handle([msg({ kind: 'status', raw: '[3G*8800000015*000A*UPLOAD,6\u00000]', commandEcho: { keyword: 'UPLOAD', args: ['6\u00000'] } })]);
    expect(r.ok).toBe(true);
    expect(await metric('anxin_process_errors_total', 'stage="command_echo"')).toBe(before);
  });

  it('hands positions to telemetry and publishes the normalised event on the broker', async () => {
    // an integrator's subscription, as over the network: events are built only while someone subscribes
    const got: string[] = [];
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${app.broker.port}`, { reconnectPeriod: 0, username: INTEGRATOR.name, password: INTEGRATOR.password });
    sub.on('message', (_t, p) => got.push(p.toString()));
    await sub.subscribeAsync('anxin/devices/8800000015/events');
    const r = await app.pipeline.handle([msg({ kind: 'position', position: { lat: 31.2, lon: 121.4, valid: true, source: 'gps' }, battery: 80, raw: 'ud-1' })]);
    expect(r.ok).toBe(true);
    await app.telemetry.flush();
    const rows = await app.db.query(`SELECT measurement, elder_id, fields FROM telemetry WHERE device = '8800000015' ORDER BY measurement`);
    expect(rows.rows.map((x) => x.measurement)).toEqual(['device', 'position']);
    expect(rows.rows[1]).toMatchObject({ elder_id: elderId, fields: { lat: 31.2, lon: 121.4, source: 'gps', valid: true } });
    await until(() => got.length > 0);
    await sub.endAsync();
    expect(JSON.parse(got[0]!)).toMatchObject({ deviceId: '8800000015', kind: 'position', elder: elderId });
  });

  it('commits an alarm before resolving, and a retransmission never makes a second alarm', async () => {
    const sos = msg({ kind: 'alarm', alarms: ['sos'], deviceTime: new Date('2026-11-22T08:00:00Z'), raw: '[3G*8800000015*0002*AL,221126,080000,...]' });
    const r1 = await app.pipeline.handle([sos]);
    expect(r1.ok).toBe(true);
    const a = await app.db.query(`SELECT kind, priority, state, count, elder_id FROM alarms WHERE source_key = '8800000015'`);
    expect(a.rows).toEqual([{ kind: 'sos', priority: 1, state: 'raised', count: 1, elder_id: elderId }]);
    await app.pipeline.handle([{ ...sos, receivedAt: new Date() }]);
    const again = await app.db.query(`SELECT count FROM alarms WHERE source_key = '8800000015'`);
    expect(again.rows).toEqual([{ count: 1 }]);
    // A new press (another frame) folds into the open alarm: count 2, still one row.
    await app.pipeline.handle([{ ...sos, raw: 'another press', deviceTime: new Date('2026-11-22T08:01:00Z') }]);
    const third = await app.db.query(`SELECT count FROM alarms WHERE source_key = '8800000015'`);
    expect(third.rows).toEqual([{ count: 2 }]);
  });

  it('does not acknowledge when the alarm cannot be committed', async () => {
    const broken = { handle: async () => { throw new Error('db down'); } };
    const original = (app.pipeline as unknown as { d: { alarms: unknown } }).d.alarms;
    (app.pipeline as unknown as { d: { alarms: unknown } }).d.alarms = broken;
    try {
      const r = await app.pipeline.handle([msg({ kind: 'alarm', alarms: ['fall'], raw: 'fall-1' })]);
      expect(r).toMatchObject({ ok: false, reason: 'alarm_not_committed' });
    } finally {
      (app.pipeline as unknown as { d: { alarms: unknown } }).d.alarms = original;
    }
  });
  it('while overloaded, sheds routine reports (counted, not stored) and still commits alarms', async () => {
    await app.telemetry.flush();
    const rowsBefore = (await app.db.query(`SELECT count(*)::int n FROM telemetry WHERE device = '8800000015'`)).rows[0].n;
    const shedBefore = await metric('anxin_shed_messages_total');
    app.overload.shedding = true;
    try {
      const r = await app.pipeline.handle([msg({ kind: 'position', position: { lat: 31.3, lon: 121.5, valid: true, source: 'gps' }, raw: 'ud-shed' })]);
      expect(r.ok).toBe(true);
      const fall = await app.pipeline.handle([msg({ kind: 'alarm', alarms: ['fall'], raw: '[3G*8800000015*0002*AL,shed-test]' })]);
      expect(fall.ok).toBe(true);
    } finally {
      app.overload.shedding = false;
    }
    await app.telemetry.flush();
    expect(await metric('anxin_shed_messages_total')).toBe(shedBefore + 1);
    expect((await app.db.query(`SELECT count(*)::int n FROM telemetry WHERE device = '8800000015'`)).rows[0].n).toBe(rowsBefore);
    const alarms = await app.db.query(`SELECT a.kind FROM alarms a JOIN devices d ON d.id = a.device_id WHERE d.identifier = '8800000015' AND a.kind = 'fall'`);
    expect(alarms.rows).toHaveLength(1);
  });

  it('an alarm frame goes ahead of other devices\' routine reports waiting in the lane, but never ahead of its own device\'s', async () => {
    const others: string[] = [];
    for (const n of [1, 2, 3]) {
      const identifier = `880000016${n}`;
      const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier, protocol: 'watch', elderId } });
      expect(d.statusCode).toBe(201);
      others.push(identifier);
    }
    const order: string[] = [];
    const off = app.bus.on('device.message', ({ msg: m }) => void order.push(`${m.deviceId}:${m.raw}`));
    try {
      const pos = (deviceId: string, raw: string) => msg({ deviceId, kind: 'position', position: { lat: 31.2, lon: 121.4, valid: true, source: 'gps' }, raw });
      const reports = Array.from({ length: 3000 }, (_, i) => app.pipeline.handle([pos(others[i % 3]!, `lane-${i}`)]));
      const own = app.pipeline.handle([pos('8800000015', 'own-before-sos')]);
      const sos = app.pipeline.handle([msg({ kind: 'alarm', alarms: ['sos'], raw: '[3G*8800000015*0002*AL,lane-test]' })]);
      const results = await Promise.all([...reports, own, sos]);
      expect(results.every((r) => r.ok)).toBe(true);
      const sosAt = order.indexOf('8800000015:[3G*8800000015*0002*AL,lane-test]');
      const ownAt = order.indexOf('8800000015:own-before-sos');
      expect(ownAt).toBeGreaterThanOrEqual(0);
      expect(ownAt).toBeLessThan(sosAt); // its own device's report first
      expect(sosAt).toBeLessThan(order.indexOf('880000016' + '3:lane-2999')); // ahead of reports that were sent before it
      // every other device's reports in the order they were sent
      for (const id of others) {
        const mine = order.filter((o) => o.startsWith(`${id}:`)).map((o) => Number(o.split('-')[1]));
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
        expect(mine).toHaveLength(1000);
      }
    } finally {
      off();
    }
  });
});
