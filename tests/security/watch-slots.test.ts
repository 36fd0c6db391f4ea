/**
 * Issue 15, item 2: one client must not fill every watch slot. A bounded replay of the attack on loopback: a cap
 * of 200 connections, 250 attacker connections (from 25 loopback addresses, so the per-address limit alone does
 * not stop them) that stay idle or drip one byte a second into a `[`, re-opened a second after the server closes
 * them. Throughout, a registered watch's SOS is acknowledged (the AL reply arrives), a registered watch that
 * connects at the cap gets in, and /healthz shows the watch part degraded near the cap. In the gateway process
 * and with connection workers (WATCH_WORKERS=2).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { metricValue, until } from '../helpers/until.js';

const CAP = 200;
const ATTACKERS = 250;
const IMEI = '8800001501';
const LATE = '8800001502';

/** Attacker connections: idle or dripping into an open frame, re-opened (after 1 s) when the server closes them. */
class Attack {
  private sockets = new Set<Socket>();
  private timers = new Set<NodeJS.Timeout>();
  private running = true;
  opened = 0;

  constructor(private readonly port: number) {}

  start(n: number): void {
    for (let i = 0; i < n; i++) this.open(i);
  }

  private open(i: number): void {
    if (!this.running) return;
    const s = connect({ port: this.port, host: '127.0.0.1', localAddress: `127.0.0.${10 + (i % 25)}` });
    this.sockets.add(s);
    this.opened++;
    s.on('error', () => undefined);
    let drip: NodeJS.Timeout | undefined;
    if (i % 2 === 1) {
      s.once('connect', () => {
        s.write('[');
        drip = setInterval(() => s.writable && s.write('A'), 1000);
      });
    }
    s.once('close', () => {
      clearInterval(drip);
      this.sockets.delete(s);
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.open(i);
      }, 1000);
      this.timers.add(t);
    });
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
  }
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

describe.each([0, 2])('watch slots under a connection flood (WATCH_WORKERS=%i)', (workers) => {
  let app: App;
  const watches: SimulatedWatch[] = [];
  let attack: Attack | undefined;

  const newWatch = async (id: string) => {
    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: id, lkOnConnect: true, alarmRetryMs: 500, lkRetryMs: 1000 });
    w.on('error', () => undefined);
    watches.push(w);
    await w.connect();
    await w.sendLK();
    return w;
  };
  const watchHealth = async () => (await app.http.inject({ url: '/healthz' })).json().parts.watch as { state: string; detail: string };

  beforeAll(async () => {
    app = await startTestApp({ watchWorkers: workers, watchMaxConnections: CAP, watchFirstFrameTimeoutS: 3, watchPartialFrameTimeoutS: 2 });
    const auth = await login(app);
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '王秀兰' } });
    for (const id of [IMEI, LATE]) {
      const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: id, protocol: 'watch', elderId: e.json().id } });
      expect(d.statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    attack?.stop();
    for (const w of watches) await w.close().catch(() => undefined);
    await app?.stop();
  });

  it('keeps acknowledging a registered watch SOS, admits a registered watch at the cap, and shows degraded near the cap', async () => {
    const w = await newWatch(IMEI);
    expect(await watchHealth()).toMatchObject({ state: 'up' });

    attack = new Attack(app.watch.port);
    attack.start(ATTACKERS);
    // the server is full: every slot but the watch's holds an attacker (workers report counts every 250 ms)
    await until(() => app.watch.connectionCount >= CAP * 0.9);
    const h = await until(async () => {
      const x = await watchHealth();
      return x.state === 'degraded' && x;
    });
    expect(h.detail).toContain(`of ${CAP} connections`);

    // an SOS now, then while the first timeouts fire, then after a round of re-opened attackers
    const acks: number[] = [];
    const started = Date.now();
    while (Date.now() - started < 5500) {
      const t0 = Date.now();
      await within(w.sendAlarm('sos'), 5000, 'AL reply');
      acks.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 700));
    }
    expect(acks.length).toBeGreaterThanOrEqual(5);

    // a registered watch connecting while the attackers hold the server gets in and is acknowledged (the
    // attackers come in waves: the server closes them together and they come back a second later)
    await until(() => app.watch.connectionCount >= CAP * 0.9);
    const late = await within(newWatch(LATE), 5000, 'LK reply to a watch connecting at the cap');
    await within(late.sendAlarm('fall'), 5000, 'AL reply to the late watch');
    expect(w.received.filter((f) => f.content === 'AL').length).toBeGreaterThanOrEqual(acks.length);

    // the defences that fired, by reason (workers report their counters every 250 ms)
    const closed = (reason: string) => metricValue(app.metrics.registry, 'anxin_connections_closed_total', `reason="${reason}"`);
    await until(async () => (await closed('first_frame_timeout')) > 0 && (await closed('partial_frame_timeout')) > 0 && (await closed('evicted')) > 0);

    attack.stop();
    await until(async () => app.watch.connectionCount <= 2 && (await watchHealth()).state === 'up');
    const rows = await app.db.query(`SELECT kind FROM alarms WHERE source_key = ANY($1) ORDER BY kind`, [[IMEI, LATE]]);
    expect(rows.rows.map((r) => r.kind)).toEqual(['fall', 'sos']);
    // both watches kept their sessions
    expect(app.watch.sessions.has(IMEI) && app.watch.sessions.has(LATE)).toBe(true);
  });

  it('refuses more unidentified connections from one address than WATCH_MAX_UNIDENTIFIED_PER_ADDRESS', async () => {
    const before = await metricValue(app.metrics.registry, 'anxin_connections_refused_total', 'reason="unidentified_per_address"');
    const socks: Socket[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const s = connect({ port: app.watch.port, host: '127.0.0.1', localAddress: '127.0.0.9' });
        s.on('error', () => undefined);
        socks.push(s);
      }
      // 20 are held (10 per worker with two workers); the rest are refused
      await until(async () => (await metricValue(app.metrics.registry, 'anxin_connections_refused_total', 'reason="unidentified_per_address"')) >= before + 10);
      // the registered watch from another address is not affected
      const w = watches[0]!;
      await within(w.sendAlarm('sos'), 5000, 'AL reply');
    } finally {
      for (const s of socks) s.destroy();
    }
  });
});
