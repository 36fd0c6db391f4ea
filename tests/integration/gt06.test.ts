/**
 * The simulated GT06 tracker (simulators/gt06, its own bytes) against the real gateway, in the gateway process
 * and in worker processes (GT06_WORKERS): login → position on the map's API → SOS → commit → reply → screen-pop;
 * a fall the same; commands out and responses back; an unregistered IMEI refused; a bad CRC rejected unanswered.
 */
import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedTracker } from '../../simulators/gt06/tracker.js';
import { packet } from '../../simulators/gt06/wire.js';
import { login, startTestApp } from '../helpers/app.js';
import { metricValue, until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

const IMEI = '868120000000015';
let app: App;
let admin: { authorization: string };
let agent: { auth: { authorization: string }; token: string };
let deviceId: number;
const trackers: SimulatedTracker[] = [];
const port = () => app.servers.get('gt06')!.port;
const metric = (name: string, label = '') => metricValue(app.metrics.registry, name, label);

async function tracker(imei = IMEI, extra: Partial<ConstructorParameters<typeof SimulatedTracker>[0]> = {}) {
  const t = new SimulatedTracker({ host: '127.0.0.1', port: port(), imei, alarmRetryMs: 150, heartbeatMs: 60_000, ...extra });
  t.on('error', () => undefined);
  trackers.push(t);
  await t.connect();
  return t;
}

describe.each([0, 2])('GT06 over TCP, end to end (GT06_WORKERS=%i)', (workers) => {
  beforeAll(async () => {
    trackers.length = 0;
    app = await startTestApp({ gt06Workers: workers });
    admin = await login(app);
    const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'gt06-agent', role: 'agent', password: 'password-123' } });
    expect(u.statusCode).toBe(201);
    const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'gt06-agent', password: 'password-123' } });
    agent = { auth: { authorization: `Bearer ${l.json().token}` }, token: l.json().token };
    await app.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: agent.auth, payload: { extension: '8101' } });
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '王秀兰' } });
    const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: IMEI, protocol: 'gt06', elderId: e.json().id, meta: { vendor: 'concox' } } });
    expect(d.statusCode).toBe(201);
    deviceId = d.json().id;
  });
  afterAll(async () => {
    for (const t of trackers) await t.close().catch(() => undefined);
    await app?.stop();
  });

  it('logs in, answers the heartbeat, and the position reaches the map', async () => {
    const t = await tracker();
    expect(t.isLoggedIn).toBe(true);
    await t.heartbeat();
    await t.position([30.2741, 120.1551]);
    const near = (f: { lat: number; lon: number }) => Math.abs(f.lat - 30.2741) < 1e-5 && Math.abs(f.lon - 120.1551) < 1e-5;
    const row = await until(async () => {
      await app.telemetry.flush();
      const r = await app.http.inject({ url: `/api/telemetry/last-positions?device=${IMEI}`, headers: agent.auth });
      return (r.json() as { device: string; fields: { lat: number; lon: number; source: string; valid: boolean } }[]).find((x) => x.device === IMEI && near(x.fields));
    }, 30_000); // the first telemetry read of a fresh gateway can be slow on a loaded 2-core CI machine
    expect(row.fields).toMatchObject({ source: 'gps', valid: true });
    await t.close();
  });

  it('SOS: the reply leaves only after the alarm is committed, resends make one alarm, and it pops on screen', async () => {
    const ws = await WsClient.open(app.httpPort, agent.token);
    const t = await tracker();
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    const acked = t.alarm('sos');
    const waitingForLock = async () => (await app.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n > 0;
    await until(waitingForLock);
    await until(() => t.sent.filter((s) => s.proto === 0x16).length >= 3);
    expect(t.received.filter((r) => r.proto === 0x16)).toHaveLength(0); // not acknowledged while uncommitted
    const committedAt = Date.now();
    await blocker.query('COMMIT');
    await blocker.end();
    const r = await acked;
    expect(r.ackedAt).toBeGreaterThanOrEqual(committedAt);
    expect(r.attempts).toBeGreaterThan(1);
    const rows = await app.db.query(`SELECT kind, priority, count FROM alarms WHERE source_key = $1`, [IMEI]);
    expect(rows.rows).toEqual([{ kind: 'sos', priority: 1, count: 1 }]);
    const pop = await ws.waitFor((m) => m.type === 'present' && (m.alarm as { kind: string }).kind === 'sos');
    expect(pop.alarm).toMatchObject({ kind: 'sos', state: 'presented' });
    ws.close();
    await t.close();
  });

  it('a fall pops the same way', async () => {
    const ws = await WsClient.open(app.httpPort, agent.token);
    const t = await tracker();
    const r = await t.alarm('fall');
    expect(r.attempts).toBeGreaterThanOrEqual(1);
    const pop = await ws.waitFor((m) => m.type === 'present' && (m.alarm as { kind: string }).kind === 'fall');
    expect(pop.alarm).toMatchObject({ kind: 'fall', priority: 1 });
    ws.close();
    await t.close();
  });

  it('commands go out as 0x80 and the 0x15 response is recorded as the result', async () => {
    const t = await tracker(IMEI, { timerUnitMs: 10 });
    await until(() => app.servers.get('gt06')!.sessions.has(IMEI));
    const send = async (payload: object) => {
      const res = await app.http.inject({ method: 'POST', url: `/api/devices/${deviceId}/commands`, headers: admin, payload });
      expect(res.statusCode).toBe(202);
      expect(res.json().delivery).toBe('sent');
      const id = res.json().command.id;
      return until(async () => {
        const c = (await app.http.inject({ url: `/api/devices/${deviceId}/commands/${id}`, headers: admin })).json();
        return c.state === 'acknowledged' ? (c as { result: string }) : undefined;
      });
    };
    expect((await send({ type: 'WHERE' })).result).toMatch(/^WHERE,Lat:N31\.230416,Lon:E121\.473701$/);
    expect((await send({ type: 'SOS', numbers: ['13800138000', '13900139000'] })).result).toBe('SOS,SOS numbers: 13800138000,13900139000');
    expect(t.sosNumbers).toEqual(['13800138000', '13900139000']);
    await send({ type: 'FALLDOWN', on: false });
    expect(t.fallDetection).toBe(false);
    await send({ type: 'TIMER', seconds: 30 });
    expect(t.positionMs).toBe(300);
    await send({ type: 'RESET' });
    expect(t.received.filter((x) => x.role === 'command').map((x) => x.text)).toEqual(['WHERE#', 'SOS,A,13800138000,13900139000#', 'FALLDOWN,OFF#', 'TIMER,30#', 'RESET#']);
    const bad = await app.http.inject({ method: 'POST', url: `/api/devices/${deviceId}/commands`, headers: admin, payload: { type: 'TIMER', seconds: 1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].field).toBe('body/seconds');
    await t.close();
  });

  it('a command for an offline tracker is queued and sent after it logs in', async () => {
    await until(() => !app.servers.get('gt06')!.sessions.has(IMEI));
    const res = await app.http.inject({ method: 'POST', url: `/api/devices/${deviceId}/commands`, headers: admin, payload: { type: 'WHERE' } });
    expect(res.json().delivery).toBe('queued');
    const t = await tracker();
    await until(() => t.received.some((x) => x.text === 'WHERE#'));
    const id = res.json().command.id;
    await until(async () => (await app.http.inject({ url: `/api/devices/${deviceId}/commands/${id}`, headers: admin })).json().state === 'acknowledged');
    await t.close();
  });

  it('an unregistered IMEI is refused: no login reply, counted, closed, listed as awaiting registration', async () => {
    const before = await metric('anxin_unknown_device_frames_total');
    const t = new SimulatedTracker({ host: '127.0.0.1', port: port(), imei: '868120000009999', loginOnConnect: false });
    t.on('error', () => undefined);
    trackers.push(t);
    await t.connect();
    const closed = new Promise<void>((r) => t.once('close', () => r()));
    t.login().catch(() => undefined);
    await closed;
    expect(t.received).toHaveLength(0);
    expect(await metric('anxin_unknown_device_frames_total')).toBe(before + 1);
    const list = await app.http.inject({ url: '/api/devices/unregistered', headers: admin });
    expect(list.json()).toEqual(expect.arrayContaining([expect.objectContaining({ identifier: '868120000009999', protocol: 'gt06' })]));
  });

  it('a bad CRC is rejected, counted by reason, and gets no reply; frames before login are refused', async () => {
    const before = await metric('anxin_bad_frames_total', 'reason="bad_crc"');
    const beforeNl = await metric('anxin_bad_frames_total', 'reason="not_logged_in"');
    const sock = connect(port(), '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise((r) => sock.once('connect', r));
    const got: Buffer[] = [];
    sock.on('data', (c) => got.push(c));
    sock.write(packet(0x13, [0x44, 4, 4, 0, 2], 1)); // before login
    const loginFrame = packet(0x01, [0x08, 0x68, 0x12, 0x00, 0x00, 0x00, 0x00, 0x15], 2);
    const corrupt = Buffer.from(loginFrame);
    corrupt.writeUInt8(corrupt[corrupt.length - 3]! ^ 0x55, corrupt.length - 3);
    sock.write(corrupt);
    await until(async () => (await metric('anxin_bad_frames_total', 'reason="bad_crc"')) === before + 1);
    expect(await metric('anxin_bad_frames_total', 'reason="not_logged_in"')).toBe(beforeNl + 1);
    sock.write(loginFrame); // the good one is answered
    await until(() => got.length > 0);
    expect(Buffer.concat(got).toString('hex')).toBe(packet(0x01, [], 2).toString('hex'));
    sock.destroy();
  });
});
