/**
 * No alarm lost, none doubled:
 * - outage: PostgreSQL stops; the watch's SOS is journaled but not acknowledged; PostgreSQL returns; the alarm
 *   lands once and the watch is acknowledged;
 * - crash: kill -9 the server after the journal write and before the commit; on restart the alarm lands once;
 * - restart: stored escalation deadlines are neither lost nor repeated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startEmbeddedPg } from '../../gateway/store/embedded.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { freePort } from '../../testkit/free-port.js';
import { until } from '../helpers/until.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { ROOT } from '../helpers/vectors.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});


async function registerWatch(app: App, imei: string) {
  const auth = await login(app);
  const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '王建国' } });
  const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: imei, protocol: 'watch', elderId: e.json().id } });
  expect(d.statusCode).toBe(201);
}

describe('alarm durability', () => {
  it('outage: while PostgreSQL is down the device gets no acknowledgement; when it returns the alarm lands once and is acknowledged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anxin-outage-'));
    chmodSync(dir, 0o755);
    const port = await freePort();
    let db = await startEmbeddedPg(join(dir, 'pg'), port);
    cleanups.push(() => db.stop());
    const app = await startTestApp({ databaseUrl: db.url });
    cleanups.push(() => app.stop());
    await registerWatch(app, '8800000021');
    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: '8800000021', alarmRetryMs: 300 });
    w.on('error', () => undefined);
    cleanups.push(() => w.close());
    await w.connect();
    await w.sendLK();

    await db.stop();
    const acked = w.sendAlarm('sos');
    await until(() => app.alarms.journalDepth === 1);
    await until(() => w.sent.filter((s) => s.frame.includes('*AL,')).length >= 3); // the watch keeps retrying
    expect(w.received.some((f) => f.content === 'AL')).toBe(false);
    const h = await app.http.inject({ url: '/healthz' });
    expect(h.statusCode).toBe(503);
    expect(h.json().parts.alarm_journal.state).toBe('degraded');

    db = await startEmbeddedPg(join(dir, 'pg'), port);
    const r = await acked;
    expect(r.attempts).toBeGreaterThan(2);
    await until(() => app.alarms.journalDepth === 0);
    const rows = (await app.db.query(`SELECT kind, count FROM alarms WHERE source_key = '8800000021'`)).rows;
    expect(rows).toEqual([{ kind: 'sos', count: 1 }]);
  }, 60_000);

  it('crash: kill -9 after the journal write and before the commit; on restart the alarm lands exactly once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'anxin-crash-'));
    const databaseUrl = await createTestDatabase('crash');
    const [http, watchPort, mqtt] = await Promise.all([freePort(), freePort(), freePort()]);
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME!, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, HTTP_PORT: String(http), WATCH_PORT: String(watchPort), GT06_PORT: '0', DC09_TCP_PORT: '0', DC09_UDP_PORT: '0', SCAIP_SIP_PORT: '0', MQTT_PORT: String(mqtt), ADMIN_PASSWORD, LOG_LEVEL: 'warn', TELEPHONY: 'off' };
    const start = () => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], { cwd: ROOT, env, stdio: 'ignore' });
      cleanups.push(() => p.kill('SIGKILL'));
      return p;
    };
    const healthy = () => until(async () => (await fetch(`http://127.0.0.1:${http}/healthz`).catch(() => undefined))?.status === 200, 30_000);
    const api = async (path: string, body: unknown, token?: string) =>
      (await fetch(`http://127.0.0.1:${http}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })).json() as Promise<Record<string, unknown>>;

    let child: ChildProcess = start();
    await healthy();
    const { token } = (await api('/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD })) as { token: string };
    await api('/api/devices', { identifier: '8800000031', protocol: 'watch' }, token);
    const w = new SimulatedWatch({ host: '127.0.0.1', port: watchPort, deviceId: '8800000031', alarmRetryMs: 60_000 });
    w.on('error', () => undefined);
    await w.connect();
    await w.sendLK();

    // Hold the alarms table: the server journals the SOS, then blocks inside its transaction.
    const blocker = new pg.Client({ connectionString: databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    w.sendAlarm('sos').catch(() => undefined);
    const journal = join(dataDir, 'journal', 'alarms.journal');
    await until(() => existsSync(journal) && readFileSync(journal, 'utf8').includes('"op":"add"'));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await blocker.query('COMMIT');
    await blocker.end();
    const alFrame = w.sent.find((s) => s.frame.includes('*AL,'))!.frame;
    await w.close().catch(() => undefined);
    const check = new pg.Client({ connectionString: databaseUrl });
    await check.connect();
    cleanups.push(() => check.end());
    expect((await check.query(`SELECT count(*)::int n FROM alarms`)).rows[0].n).toBe(0); // not committed before the crash

    child = start();
    await healthy();
    expect((await check.query(`SELECT kind, count FROM alarms WHERE source_key = '8800000031'`)).rows).toEqual([{ kind: 'sos', count: 1 }]);
    // The watch, never acknowledged, sends the same frame again: acknowledged now, still one alarm.
    const w2 = new SimulatedWatch({ host: '127.0.0.1', port: watchPort, deviceId: '8800000031', lkOnConnect: false });
    w2.on('error', () => undefined);
    await w2.connect();
    const reply = new Promise<string>((r) => w2.on('received', (f: { content: string }) => f.content === 'AL' && r(f.content)));
    w2.sendRaw(alFrame);
    expect(await reply).toBe('AL');
    expect((await check.query(`SELECT count FROM alarms WHERE source_key = '8800000031'`)).rows).toEqual([{ count: 1 }]);
    await w2.close();
    child.kill('SIGTERM');
  }, 90_000);

  it('restart: an escalation step due while the server was down runs once after it comes back', async () => {
    const databaseUrl = await createTestDatabase('esc');
    const app1 = await startTestApp({ databaseUrl });
    const auth = await login(app1);
    const e = await app1.http.inject({
      method: 'POST', url: '/api/elders', headers: auth,
      payload: { name: '李秀兰', responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 2, action: 'present_all_and_alert_supervisor' }] } },
    });
    await app1.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: '8800000041', protocol: 'watch', elderId: e.json().id } });
    await app1.pipeline.handle([{ deviceId: '8800000041', protocol: 'watch', kind: 'alarm', alarms: ['fall'], receivedAt: new Date(), raw: 'fall-x' }]);
    const id = (await app1.db.query(`SELECT id FROM alarms WHERE source_key = '8800000041'`)).rows[0].id;
    await until(async () => (await app1.db.query('SELECT esc_done FROM alarms WHERE id = $1', [id])).rows[0].esc_done.length === 1);
    await app1.stop();
    // Step 2 falls due while nothing runs: the clock jumps 2.5 s ahead (and runs on from there) while the
    // server is down. The deadlines are judged by the server's Date, which is the test's.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    try {
      vi.setSystemTime(Date.now() + 2500);
      const app2 = await startTestApp({ databaseUrl });
      cleanups.push(() => app2.stop());
      await until(async () => (await app2.db.query('SELECT esc_done FROM alarms WHERE id = $1', [id])).rows[0].esc_done.length === 2);
      // and not again: a pass 1.5 s later finds nothing due
      expect(await app2.escalator.runOnce(new Date(Date.now() + 1500))).toBe(0);
      const presents = (await app2.db.query(`SELECT detail->>'step' AS step FROM alarm_events WHERE alarm_id = $1 AND action = 'present' ORDER BY id`, [id])).rows;
      expect(presents.map((r) => r.step)).toEqual(['present_longest_idle', 'present_all_and_alert_supervisor']);
    } finally {
      vi.useRealTimers();
    }
  }, 60_000);
});
