/**
 * Singletons (issue 24, gateway/cluster/leader.ts) on a real PostgreSQL: of two nodes exactly one holds a singleton;
 * when the holder's session dies (pg_terminate_backend: what PostgreSQL sees when a node is kill -9'd) its work stops
 * and the other node takes over, never both at once; two whole apps on one database run the alarm engine's
 * time-based rules on one of them only, and stopping that app moves them to the other.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { Leader } from '../../gateway/cluster/leader.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { missingTools } from '../helpers/tools.js';
import { createPtyPair, type PtyPair } from '../../simulators/alarm-receiver/pty.js';
import { metricValue, until } from '../helpers/until.js';

const log = pino({ level: 'silent' });
const TAKEOVER_S = 2;

describe('a singleton lease on two nodes', () => {
  let url: string;
  let admin: pg.Client;
  const leaders: Leader[] = [];
  /** what the work saw: how many nodes ran it at once, at most, and each node's starts and stops */
  const work = { running: 0, most: 0, events: [] as string[] };

  const node = (id: string, connectionString = url) =>
    new Leader({
      name: 'test-work',
      connection: { connectionString },
      nodeId: id,
      takeoverS: TAKEOVER_S,
      log,
      onAcquire: () => {
        work.running++;
        work.most = Math.max(work.most, work.running);
        work.events.push(`${id}:acquire`);
      },
      onLose: () => {
        work.running--;
        work.events.push(`${id}:lose`);
      },
    });

  beforeAll(async () => {
    url = await createTestDatabase('leader');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });
  afterAll(async () => {
    for (const l of leaders) await l.stop();
    await admin?.end();
  });

  it('one node of two holds it; the other names the holder; killing the holder\'s session moves it', async () => {
    const a = node('node-a');
    const b = node('node-b');
    leaders.push(a, b);
    await a.start();
    await b.start();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(work.events).toEqual(['node-a:acquire']);
    expect(await b.holder()).toBe('node-a');
    expect(await a.holder()).toBe('node-a');

    // what PostgreSQL sees of a node killed with -9: its sessions end, and their locks with them
    const pid = (await admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'anxin:node-a'`)).rows;
    expect(pid).toHaveLength(1);
    await admin.query('SELECT pg_terminate_backend($1)', [pid[0].pid]);
    await until(() => b.isLeader, 20_000);
    expect(a.isLeader).toBe(false);
    expect(work.events.slice(0, 3)).toEqual(['node-a:acquire', 'node-a:lose', 'node-b:acquire']);
    expect(work.most).toBe(1);
    // node-a reconnects and stands by behind node-b
    await until(async () => (await a.holder()) === 'node-b', 20_000);
    expect(a.isLeader).toBe(false);
  });

  it('stopping the holder releases the lock at once and the other takes over', async () => {
    const [a, b] = leaders as [Leader, Leader];
    await b.stop();
    expect(work.events).toContain('node-b:lose');
    await until(() => a.isLeader, 20_000);
    // node-b's work stopped before node-a's started
    expect(work.events.slice(-2)).toEqual(['node-b:lose', 'node-a:acquire']);
    expect(work.running).toBe(1);
    expect(work.most).toBe(1);
    const held = await admin.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2`);
    expect(held.rows[0].n).toBe(1);
  });

  it('a holder cut off from PostgreSQL (the path goes dark, nothing is closed) stops its work; the other takes over', async () => {
    const [a] = leaders as [Leader];
    await a.stop();
    let proxy: TcpProxy | undefined;
    try {
      proxy = await startTcpProxy(url.replace(/^postgres(ql)?:/, 'http:'));
      const viaProxy = new URL(url);
      viaProxy.port = new URL(proxy.url).port;
      const c = node('node-c', viaProxy.toString());
      const d = node('node-d');
      leaders.push(c, d);
      await c.start();
      await d.start();
      expect([c.isLeader, d.isLeader]).toEqual([true, false]);
      proxy.freeze();
      // node-c's ping goes unanswered: it stops its work on its own, then drops its connection, which frees the lock
      await until(() => d.isLeader, 20_000);
      expect(c.isLeader).toBe(false);
      expect(work.events.slice(-2)).toEqual(['node-c:lose', 'node-d:acquire']);
      expect(work.most).toBe(1);
    } finally {
      await proxy?.close();
    }
  });
});

describe('two apps on one database', () => {
  let a: App;
  let b: App;
  /** a serial line both apps are configured to read (skipped without socat): only the holder may open it */
  let pty: PtyPair | undefined;
  const ticks = new Map<App, number>();
  /** counts the time-based rule passes each app makes (the work the lease gates) */
  const countTicks = (app: App) => {
    ticks.set(app, 0);
    const tick = app.rules.tick.bind(app.rules);
    app.rules.tick = (...args) => {
      ticks.set(app, (ticks.get(app) ?? 0) + 1);
      return tick(...args);
    };
  };
  const leads = (app: App, singleton: string) => metricValue(app.metrics.registry, 'anxin_singleton_leader', `singleton="${singleton}"`);

  beforeAll(async () => {
    if (!missingTools(['socat'], 'socat')) pty = await createPtyPair();
    const env = { LEADER_TAKEOVER_S: String(TAKEOVER_S), ...(pty ? { RECEIVERS: JSON.stringify([{ name: 'desk', path: pty.b, heartbeatS: 600 }]) } : {}) };
    a = await startTestApp({}, { NODE_ID: 'app-a', ...env });
    b = await startTestApp({ databaseUrl: a.databaseUrl }, { NODE_ID: 'app-b', ...env });
    countTicks(a);
    countTicks(b);
  }, 120_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await pty?.close();
  });

  it("run the engine timer's time-based rules and the serial receivers on one app only", async () => {
    expect([await leads(a, 'alarm-engine-timer'), await leads(b, 'alarm-engine-timer')]).toEqual([1, 0]);
    const health = await b.health.report();
    expect(health.parts['singleton:alarm-engine-timer']).toMatchObject({ state: 'up', mode: 'standby', detail: 'held by node app-a' });
    // more than one timer period: the holder ticked, the other did not
    await until(() => (ticks.get(a) ?? 0) >= 2, 20_000);
    expect(ticks.get(b)).toBe(0);
    if (pty) {
      expect([await leads(a, 'receivers'), await leads(b, 'receivers')]).toEqual([1, 0]);
      await until(() => a.receivers.get('desk')?.port.state === 'open');
      expect(b.receivers.list).toEqual([]);
      expect(b.summary.join('\n')).toContain('Receivers    standby');
    }
  }, 60_000);

  it('stopping that app moves them to the other', async () => {
    await a.stop();
    await until(async () => (await leads(b, 'alarm-engine-timer')) === 1, 20_000);
    await until(() => (ticks.get(b) ?? 0) >= 1, 20_000);
    expect((await b.health.report()).parts['singleton:alarm-engine-timer']).toMatchObject({ mode: 'leader', detail: 'held by this node (app-b)' });
    if (pty) {
      await until(() => b.receivers.get('desk')?.port.state === 'open', 20_000);
      expect(await leads(b, 'receivers')).toBe(1);
    }
  }, 60_000);
});
