/**
 * Issue 15, item 4 (clone part): the watch protocol has no secret, so anyone who knows an IMEI can connect
 * with `LK`. A second connection for a registered IMEI from another address (127.0.0.2) must not displace the
 * watch that has been reporting: it gets no command (sent or queued), the original keeps working, and one P3
 * `device_clone_suspected` alarm is raised for the episode. In the gateway process and with workers.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { metricValue, until } from '../helpers/until.js';

const IMEI = '8800001541';

/** A raw client speaking just enough of the protocol: it records everything the server sends it. */
class Clone {
  readonly socket: Socket;
  text = '';
  constructor(port: number, localAddress: string) {
    this.socket = connect({ port, host: '127.0.0.1', localAddress });
    this.socket.on('error', () => undefined);
    this.socket.on('data', (d) => (this.text += d.toString('latin1')));
  }
  async lk(): Promise<void> {
    const n = this.text.split('*LK]').length;
    this.socket.write(`[3G*${IMEI}*0002*LK]`);
    await until(() => this.text.split('*LK]').length > n);
  }
  close(): void {
    this.socket.destroy();
  }
}

describe.each([0, 2])('a second connection claiming a registered IMEI (WATCH_WORKERS=%i)', (workers) => {
  let app: App;
  let auth: { authorization: string };
  let deviceId: number;
  const closers: (() => unknown)[] = [];

  const watch = async () => {
    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: IMEI, lkOnConnect: false, alarmRetryMs: 300, lkRetryMs: 60_000 });
    w.on('error', () => undefined);
    closers.push(() => w.close());
    await w.connect();
    // one LK, answered: with lkOnConnect too, the first reply would settle both and the second LK could reach the
    // gateway after the clone's, which is then (rightly) two live connections claiming the IMEI
    await w.sendLK();
    return w;
  };
  const clone = (localAddress = '127.0.0.2') => {
    const c = new Clone(app.watch.port, localAddress);
    closers.push(() => c.close());
    return c;
  };
  const command = async (payload: Record<string, unknown>) => {
    const r = await app.http.inject({ method: 'POST', url: `/api/devices/${deviceId}/commands`, headers: auth, payload });
    expect(r.statusCode).toBe(202);
    return r.json() as { delivery: string; command: { id: number } };
  };
  const cloneAlarms = async () => (await app.db.query(`SELECT kind, priority, count, state, detail FROM alarms WHERE source_key = $1 AND kind = 'device_clone_suspected'`, [IMEI])).rows;

  beforeAll(async () => {
    app = await startTestApp({ watchWorkers: workers });
    auth = await login(app);
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '赵桂英' } });
    const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: IMEI, protocol: 'watch', elderId: e.json().id } });
    deviceId = d.json().id;
  });
  afterAll(async () => {
    for (const c of closers) await Promise.resolve(c()).catch(() => undefined);
    await app?.stop();
  });

  it('keeps the session with the watch that has been reporting, raises one alarm, and never sends the clone a command', async () => {
    const original = await watch();
    await until(() => app.watch.sessions.has(IMEI));
    const holder = app.watch.sessions.get(IMEI);

    const c = clone();
    await c.lk(); // answered: the protocol needs it, and it may be the real watch after a lost connection
    expect(app.watch.sessions.get(IMEI)).toBe(holder);
    expect(await cloneAlarms()).toEqual([]); // not yet: the first connection might be a dead one

    // the original reports again: two live connections from two addresses claim one IMEI
    await original.sendLK();
    const [alarm] = await until(async () => {
      const rows = await cloneAlarms();
      return rows.length > 0 && rows;
    });
    expect(alarm).toMatchObject({ kind: 'device_clone_suspected', priority: 3, count: 1, state: 'raised' });
    expect(JSON.stringify(alarm.detail)).toContain('127.0.0.2');

    // a command goes to the original only
    const found = new Promise<void>((r) => original.once('find', () => r()));
    expect((await command({ type: 'FIND' })).delivery).toBe('sent');
    await found;

    // both keep reporting: still one alarm, and the original's SOS is acknowledged
    for (let i = 0; i < 3; i++) {
      await c.lk();
      await original.sendLK();
    }
    await original.sendAlarm('sos');
    expect(await cloneAlarms()).toHaveLength(1);
    expect((await cloneAlarms())[0].count).toBe(1);
    expect(await metricValue(app.metrics.registry, 'anxin_device_clone_suspected_total')).toBe(1);
    expect(app.watch.sessions.get(IMEI)).toBe(holder);

    // the original goes offline: a command is queued, and the suspected clone still gets nothing
    await original.close();
    await until(() => !app.watch.sessions.has(IMEI));
    const queued = await command({ type: 'UPLOAD', seconds: 600 });
    expect(queued.delivery).toBe('queued');
    await c.lk();
    expect(app.watch.sessions.has(IMEI)).toBe(false);

    // the watch comes back: the queued command goes to it
    const back = await watch();
    await until(() => back.received.some((f) => f.content === 'UPLOAD,600'));
    await until(async () => (await app.http.inject({ url: `/api/devices/${deviceId}/commands/${queued.command.id}`, headers: auth })).json().state === 'acknowledged');

    await new Promise((r) => setTimeout(r, 200)); // anything misrouted would have arrived by now
    expect(c.text).not.toContain('FIND');
    expect(c.text).not.toContain('UPLOAD');
    expect(c.text.replaceAll(`[3G*${IMEI}*0002*LK]`, '')).toBe(''); // nothing but its LK replies
    expect(await cloneAlarms()).toHaveLength(1);
    c.close();
    await back.close();
  });

  it('a reconnect from the same address takes the session over (the old connection was lost)', async () => {
    await until(() => !app.watch.sessions.has(IMEI));
    const first = await watch();
    const oldLink = await until(() => app.watch.sessions.get(IMEI));
    // the watch reconnects without its old connection having closed (as after a NAT or radio drop)
    const again = await watch();
    await until(() => app.watch.sessions.get(IMEI) !== oldLink && app.watch.sessions.has(IMEI));
    const found = new Promise<void>((r) => again.once('find', () => r()));
    await command({ type: 'FIND' });
    await found;
    await again.sendAlarm('fall');
    expect(await metricValue(app.metrics.registry, 'anxin_device_clone_suspected_total')).toBe(1); // no new episode
    await first.close().catch(() => undefined);
    await again.close();
  });
});
