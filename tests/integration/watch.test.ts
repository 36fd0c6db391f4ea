/**
 * The simulated watch against the real server: SOS → committed alarm → AL reply (only after the commit),
 * retransmissions → one alarm, positions → telemetry, unregistered IMEI refused, commands round trip, bad input.
 */
import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { metricValue, until } from '../helpers/until.js';
import { login, startTestApp } from '../helpers/app.js';

let app: App;
let auth: { authorization: string };
let deviceId: number;
const IMEI = '8800000015';
/** one device per worker mode for the fence test: the two describe.each runs share the database */
const WORKER_FENCE_IMEI: Record<number, string> = { 0: '8800000041', 2: '8800000042' };
const watches: SimulatedWatch[] = [];

async function newWatch(id = IMEI, extra: Partial<ConstructorParameters<typeof SimulatedWatch>[0]> = {}) {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: id, lkOnConnect: true, alarmRetryMs: 150, lkRetryMs: 60_000, ...extra });
  w.on('error', () => undefined);
  watches.push(w);
  await w.connect();
  return w;
}

const metric = (name: string, label = '') => metricValue(app.metrics.registry, name, label);

// The same behaviour with the connections in the gateway process and in worker processes (WATCH_WORKERS).
describe.each([0, 2])('watch over TCP, end to end (WATCH_WORKERS=%i)', (workers) => {
  beforeAll(async () => {
    watches.length = 0;
    app = await startTestApp({ watchWorkers: workers });
    auth = await login(app);
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '张秀英' } });
    const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: IMEI, protocol: 'watch', elderId: e.json().id } });
    deviceId = d.json().id;
  });
  afterAll(async () => {
    for (const w of watches) await w.close().catch(() => undefined);
    await app?.stop();
  });

  it('answers LK, and keeps the device last-seen and battery', async () => {
    const w = await newWatch();
    await w.sendLK();
    await until(async () => (await app.db.query('SELECT last_seen, battery FROM devices WHERE id = $1', [deviceId])).rows[0]?.last_seen);
    await w.close();
  });

  it('SOS: the AL reply comes only after the alarm is committed, and resends make one alarm', async () => {
    const w = await newWatch();
    await w.sendLK();
    // Hold a lock on the alarms table: the commit cannot happen until we let go.
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    const acked = w.sendAlarm('sos');
    // The server is inside its commit, waiting for the lock, and the watch has resent meanwhile.
    const waitingForLock = async () => (await app.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n > 0;
    await until(waitingForLock);
    await until(() => w.sent.filter((s) => s.frame.includes('*AL,')).length >= 3);
    const alBefore = w.received.filter((f) => f.content === 'AL').length;
    expect(alBefore).toBe(0); // not acknowledged while uncommitted
    expect(w.sent.filter((s) => s.frame.includes('*AL,')).length).toBeGreaterThan(1); // the watch retransmitted
    const committedAt = Date.now();
    await blocker.query('COMMIT');
    await blocker.end();
    const r = await acked;
    expect(r.ackedAt).toBeGreaterThanOrEqual(committedAt);
    const rows = await app.db.query(`SELECT kind, priority, count, state FROM alarms WHERE source_key = $1`, [IMEI]);
    expect(rows.rows).toEqual([{ kind: 'sos', priority: 1, count: 1, state: 'raised' }]);
    // The resends queued behind the first frame are recognised as retransmissions.
    await until(async () => (await metric('anxin_duplicate_messages_total')) > 0);
    await w.close();
  });

  it("the watch's own fence: AL bit 18 raises geofence_exit, folds into Anxin's open fence alarm, bit 19 ends it", async () => {
    const FENCE_IMEI = WORKER_FENCE_IMEI[workers]!;
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '李桂兰' } });
    const elderId = e.json().id;
    // Anxin's own fence around home; the watch's own (family) fence is unknown to Anxin
    const home: [number, number] = [31.2304, 121.4737];
    const p = await app.http.inject({ method: 'PATCH', url: `/api/elders/${elderId}`, headers: auth, payload: { rules: { geofences: [{ id: 'home', name: '家', shape: { type: 'circle', center: { lat: home[0], lon: home[1] }, radiusM: 300 } }] } } });
    expect(p.statusCode).toBe(200);
    await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: FENCE_IMEI, protocol: 'watch', elderId } });
    const w = await newWatch(FENCE_IMEI, { path: [home] });
    await w.sendLK();
    const open = async () => (await app.db.query(`SELECT id, kind, count, state FROM alarms WHERE source_key = $1 AND kind = 'geofence_exit' ORDER BY id`, [FENCE_IMEI])).rows;

    // 1. inside Anxin's fence, the watch says it left the family's fence: an alarm, acknowledged after the commit
    await w.sendAlarm('fence_exit', { point: home });
    const first = await open();
    expect(first).toMatchObject([{ kind: 'geofence_exit', count: 1, state: 'raised' }]);
    const detail = await app.http.inject({ method: 'GET', url: `/api/alarms/${first[0].id}`, headers: auth });
    expect(JSON.stringify(detail.json())).toContain('"fence":"device"');

    // 2. a position inside Anxin's fence does not end it; a second exit (Anxin's fence) folds into the open alarm
    await w.sendAlarm('fence_exit', { point: [home[0] + 0.02, home[1]] });
    await until(async () => (await open())[0]?.count === 2);
    expect(await open()).toHaveLength(1);

    // 3. back home and inside the watch's fence (bit 19): acknowledged, the condition clears, nothing new is raised
    const r = await w.sendAlarm('fence_enter', { point: home });
    expect(r.ackedAt).toBeGreaterThan(0);
    await until(async () => (await open())[0]?.state === 'cleared');
    expect((await open()).map((a) => a.id)).toEqual([first[0].id]);
    await w.close();
  });

  it('a position reaches telemetry', async () => {
    const w = await newWatch(IMEI, { path: [[31.2304, 121.4737]] });
    await w.sendLK();
    w.sendUD();
    const near = (f: { lat: number; lon: number }) => Math.abs(f.lat - 31.2304) < 1e-6 && Math.abs(f.lon - 121.4737) < 1e-6;
    const row = await until(async () => {
      await app.telemetry.flush();
      const r = await app.db.query(`SELECT fields FROM telemetry WHERE device = $1 AND measurement = 'position'`, [IMEI]);
      return r.rows.find((x) => near(x.fields));
    });
    expect(row.fields).toMatchObject({ source: 'gps', valid: true });
    await w.close();
  });

  it('an unregistered IMEI gets no reply, is counted, and its connection is closed', async () => {
    const before = await metric('anxin_unknown_device_frames_total');
    const w = await newWatch('1234567890', { lkOnConnect: false });
    const closed = new Promise<void>((r) => w.once('close', () => r()));
    w.sendLK().catch(() => undefined);
    await closed;
    expect(w.received).toHaveLength(0);
    expect(await metric('anxin_unknown_device_frames_total')).toBe(before + 1);
    const list = await app.http.inject({ url: '/api/devices/unregistered', headers: auth });
    expect(list.json().map((x: { identifier: string }) => x.identifier)).toContain('1234567890');
  });

  it('a command makes the round trip: sent at once, echoed, recorded', async () => {
    const w = await newWatch();
    await w.sendLK();
    const found = new Promise<void>((r) => w.once('find', () => r()));
    const res = await app.http.inject({ method: 'POST', url: `/api/devices/${deviceId}/commands`, headers: auth, payload: { type: 'FIND' } });
    expect(res.statusCode).toBe(202);
    expect(res.json().delivery).toBe('sent');
    await found;
    const id = res.json().command.id;
    const c = await until(async () => {
      const r = await app.http.inject({ url: `/api/devices/${deviceId}/commands/${id}`, headers: auth });
      return r.json().state === 'acknowledged' ? (r.json() as { result: string }) : undefined;
    });
    expect(c.result).toBe('FIND');
    await w.close();
  });

  it('a command for an offline watch is queued and sent when it connects', async () => {
    await until(() => !app.watch.sessions.has(IMEI));
    const res = await app.http.inject({ method: 'POST', url: `/api/devices/${deviceId}/commands`, headers: auth, payload: { type: 'UPLOAD', seconds: 600 } });
    expect(res.json().delivery).toBe('queued');
    const w = await newWatch();
    await until(() => w.received.some((f) => f.content === 'UPLOAD,600'));
    const id = res.json().command.id;
    await until(async () => (await app.http.inject({ url: `/api/devices/${deviceId}/commands/${id}`, headers: auth })).json().state === 'acknowledged');
    await w.close();
  });

  it('refuses a bad command with a field error', async () => {
    const res = await app.http.inject({ method: 'POST', url: `/api/devices/${deviceId}/commands`, headers: auth, payload: { type: 'UPLOAD', seconds: 5 } });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields[0].field).toBe('body/seconds');
  });

  it('counts malformed frames per reason and closes the connection after repeated bad frames', async () => {
    const before = await metric('anxin_bad_frames_total');
    const closedBefore = await metric('anxin_connections_closed_total', 'reason="bad_frames"');
    const sock = connect(app.watch.port, '127.0.0.1');
    sock.on('error', () => undefined); // the server may reset a link it closes with our garbage still unread
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    for (let i = 0; i < 12; i++) sock.write('garbage!![nonsense][**]');
    await closed;
    // connection workers report their counts every 250 ms
    await until(async () => (await metric('anxin_bad_frames_total')) >= before + 10);
    await until(async () => (await metric('anxin_connections_closed_total', 'reason="bad_frames"')) === closedBefore + 1);
    expect(await metric('anxin_connections_closed_total', 'reason="bad_frames"')).toBe(closedBefore + 1);
    // The server carried on.
    const w = await newWatch();
    await w.sendLK();
    await w.close();
  });
});
