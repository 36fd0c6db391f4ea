/**
 * Scale-out (issue 24): the rule engine on two nodes sharing one PostgreSQL and one real Redis. Node A holds the
 * time-based rules (the leader); the watches report through node B, or move from A to B. What the leader judges
 * silence by is what B saw (the states B saved, merged before each tick), and what the leader raised reaches B
 * (the saved state B reads when a watch connects to it), so:
 * - a watch reporting through B gets no device_silent from the leader, which saw none of its messages;
 * - a watch that goes silent while on B gets one device_silent from the leader, cleared when it reports to B again;
 * - a watch that moves from A to B keeps its active kinds: B clears A's low_battery when the battery is back.
 * Silence takes 18 minutes for a watch (480 s + 600 s grace): the leader's ticks are shifted forward by the test
 * (its clock, not the rules, is what is faked) instead of waited for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { App } from '../../gateway/app.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { startTestApp } from '../helpers/app.js';
import { createMigratedDatabase } from '../helpers/db.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { missingTools } from '../helpers/tools.js';
import { metricValue, until } from '../helpers/until.js';

const skip = missingTools(['redis-server'], 'redis-server');
const MIN = 60_000;
/** registered 15 minutes before the nodes start: both nodes load it, last seen never */
const W1 = '8800024101';
const W2 = '8800024102';
const W3 = '8800024103';
const W4 = '8800024104';

let redis: TestRedis;
let url: string;
let db: pg.Client;
let a: App;
let b: App;
const watches: SimulatedWatch[] = [];
/** how far the leader's ticks are shifted forward, and how many it made */
let shiftMs = 0;
let ticks = 0;

async function connect(app: App, imei: string, battery = 80): Promise<SimulatedWatch> {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: imei, lkOnConnect: true, lkIntervalMs: 3_600_000, lkRetryMs: 3_600_000, battery });
  w.on('error', () => undefined);
  watches.push(w);
  await w.connect();
  await until(() => app.watch.sessions.has(imei));
  return w;
}

/** waits for `n` more passes of the leader's time-based rules */
async function passes(n: number): Promise<void> {
  const goal = ticks + n;
  await until(() => ticks >= goal, 30_000);
}

const savedState = async (imei: string) =>
  (await db.query(`SELECT s.state FROM device_rule_state s JOIN devices d ON d.id = s.device_id WHERE d.identifier = $1`, [imei])).rows[0]?.state as
    | { lastSeenAt?: number; active: string[] }
    | undefined;
const alarmsOf = async (imei: string, kind: string) =>
  (await db.query(`SELECT id, state, count FROM alarms WHERE source_key = $1 AND kind = $2 ORDER BY id`, [imei, kind])).rows as { id: number; state: string; count: number }[];

describe.skipIf(skip)('the rule engine on two nodes', () => {
  beforeAll(async () => {
    redis = await startRedis();
    url = await createMigratedDatabase('rules');
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query(`INSERT INTO devices (identifier, protocol, state, created_at) VALUES ($1, 'watch', 'active', now() - interval '15 minutes')`, [W1]);
    await db.query(`INSERT INTO devices (identifier, protocol, state) VALUES ($1, 'watch', 'active'), ($2, 'watch', 'active'), ($3, 'watch', 'active')`, [W2, W3, W4]);
    const env = { REDIS_URL: redis.url, LEADER_TAKEOVER_S: '2' };
    a = await startTestApp({ databaseUrl: url }, { ...env, NODE_ID: 'rules-a' });
    b = await startTestApp({ databaseUrl: url }, { ...env, NODE_ID: 'rules-b' });
    const tick = a.rules.tick.bind(a.rules);
    a.rules.tick = (now, yieldEvery) => {
      ticks++;
      return tick(new Date(now.getTime() + shiftMs), yieldEvery);
    };
  }, 120_000);
  afterAll(async () => {
    for (const w of watches) await w.close().catch(() => undefined);
    await b?.stop();
    await a?.stop();
    await db?.end();
    await redis?.destroy();
  });

  it('node A runs the time-based rules', async () => {
    const leads = (app: App) => metricValue(app.metrics.registry, 'anxin_singleton_leader', 'singleton="alarm-engine-timer"');
    expect([await leads(a), await leads(b)]).toEqual([1, 0]);
    await passes(1);
  });

  it('a watch reporting through node B gets no device_silent from the leader, which saw none of its messages', async () => {
    const since = Date.now();
    await connect(b, W1);
    // B saved what it saw (the first message of a device is saved at B's next pass)
    await until(async () => ((await savedState(W1))?.lastSeenAt ?? 0) >= since, 20_000);
    // 25 minutes after A last knew of the watch (its registration), 10 after its last report: not silent
    shiftMs = 10 * MIN;
    await passes(3);
    shiftMs = 0;
    expect(await alarmsOf(W1, 'device_silent')).toEqual([]);
  }, 60_000);

  it('a watch that goes silent on node B gets one device_silent from the leader, cleared when it reports to B again', async () => {
    const w = await connect(b, W2);
    await until(async () => (await savedState(W2)) !== undefined, 20_000);
    shiftMs = 2 * 60 * MIN;
    await until(async () => (await alarmsOf(W2, 'device_silent')).length > 0, 30_000);
    // what the leader raised is saved for B to read
    await until(async () => (await savedState(W2))?.active.includes('device_silent') === true, 20_000);
    await passes(2);
    shiftMs = 0;
    const raised = await alarmsOf(W2, 'device_silent');
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ state: expect.stringMatching(/raised|presented/), count: 1 });

    // the watch's link went with its silence: it reconnects to B and reports
    await w.close();
    await connect(b, W2);
    await until(async () => (await alarmsOf(W2, 'device_silent'))[0]?.state === 'cleared', 20_000);
    await passes(2);
    expect(await alarmsOf(W2, 'device_silent')).toEqual([expect.objectContaining({ id: raised[0]!.id, state: 'cleared', count: 1 })]);
    await until(async () => (await savedState(W2))?.active.includes('device_silent') === false, 20_000);
  }, 90_000);

  it('a watch silent but still connected to node B: the leader clears its device_silent once B saved it seen again', async () => {
    const w = await connect(b, W4);
    await until(async () => (await savedState(W4)) !== undefined, 20_000);
    shiftMs = 2 * 60 * MIN;
    await until(async () => (await savedState(W4))?.active.includes('device_silent') === true, 30_000);
    shiftMs = 0;
    // B's copy never had device_silent: its message clears nothing itself
    await w.sendLK();
    // B saves a moved lastSeenAt once it moved a minute (TIME_SLACK_MS); a silence is longer than that: save it now
    await b.rules.persist(true);
    await until(async () => (await alarmsOf(W4, 'device_silent'))[0]?.state === 'cleared', 20_000);
    expect(await alarmsOf(W4, 'device_silent')).toHaveLength(1);
  }, 60_000);

  it('a watch that moves from node A to node B keeps its active kinds: B clears the low_battery A raised', async () => {
    const w = await connect(a, W3, 10);
    await until(async () => (await alarmsOf(W3, 'low_battery'))[0]?.state !== undefined, 20_000);
    await until(async () => (await savedState(W3))?.active.includes('low_battery') === true, 20_000);
    await w.close();
    await connect(b, W3, 90);
    await until(async () => (await alarmsOf(W3, 'low_battery'))[0]?.state === 'cleared', 20_000);
    expect(await alarmsOf(W3, 'low_battery')).toHaveLength(1);
  }, 60_000);
});
