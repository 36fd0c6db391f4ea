/**
 * Work that is not a singleton but must still happen once when several nodes share one PostgreSQL (issue 24):
 * - the durable job queue (pg-boss through gateway/store/jobs.ts): two queues working the same jobs run each job once,
 *   due now or scheduled for later (pg-boss fetches with FOR UPDATE SKIP LOCKED);
 * - the escalator: two apps present an alarm's first step once (lockDueEscalations: FOR UPDATE SKIP LOCKED, and the
 *   step and its "done" mark in one transaction).
 */
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { JobQueue } from '../../gateway/store/jobs.js';
import { login, startTestApp } from '../helpers/app.js';
import { createMigratedDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';

const log = pino({ level: 'silent' });

describe('the job queue on two nodes', () => {
  const queues: JobQueue[] = [];
  afterAll(async () => {
    for (const q of queues) await q.stop();
  });

  it('runs every job once, whether due now or scheduled for later', async () => {
    const url = await createMigratedDatabase('jobs');
    const a = new JobQueue(url, log);
    const b = new JobQueue(url, log);
    queues.push(a, b);
    await a.start();
    await b.start();
    const runs = new Map<number, string[]>();
    const handler = (node: string) => async (job: { n: number }) => {
      runs.set(job.n, [...(runs.get(job.n) ?? []), node]);
      // long enough that the other node polls while this job is still being handled
      await new Promise((r) => setTimeout(r, 50));
    };
    await a.work('cluster-once', handler('a'));
    await b.work('cluster-once', handler('b'));
    const later = new Date(Date.now() + 1500);
    for (let n = 0; n < 12; n++) {
      await (n % 2 ? a : b).send('cluster-once', { n }, { startAfter: n < 6 ? new Date() : later, singletonKey: `cluster-once:${n}` });
    }
    await until(() => runs.size === 12, 30_000);
    // a few more polls of both nodes: nothing runs a second time
    await new Promise((r) => setTimeout(r, 2500));
    const twice = [...runs].filter(([, nodes]) => nodes.length !== 1);
    expect(twice).toEqual([]);
    expect(runs.size).toBe(12);
  }, 60_000);
});

describe('the escalator on two apps', () => {
  let a: App;
  let b: App;
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("presents an alarm's first step once across both apps", async () => {
    a = await startTestApp({}, { NODE_ID: 'esc-a' });
    b = await startTestApp({ databaseUrl: a.databaseUrl }, { NODE_ID: 'esc-b' });
    const presented: { node: string; alarmId: number; step: string }[] = [];
    for (const [node, app] of [['esc-a', a], ['esc-b', b]] as const) {
      app.bus.on('alarm.presented', ({ alarm, step }) => void presented.push({ node, alarmId: alarm.id, step }));
    }
    const admin = await login(a);
    const elder = await a.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '李桂兰', address: '和平路 3 号' } });
    expect(elder.statusCode).toBe(201);
    const r = await a.http.inject({ method: 'POST', url: '/api/alarms', headers: admin, payload: { elderId: elder.json().id, kind: 'sos' } });
    expect(r.statusCode, r.body).toBe(201);
    const alarmId = r.json().id as number;
    // both escalators at once, several times over, on top of app A's own kick and both apps' timers
    for (let i = 0; i < 5; i++) await Promise.all([a.escalator.runOnce(new Date()), b.escalator.runOnce(new Date())]);
    const rows = async () => (await a.db.query(`SELECT count(*)::int AS n FROM alarm_events WHERE alarm_id = $1 AND action = 'present'`, [alarmId])).rows[0].n as number;
    await until(async () => (await rows()) >= 1);
    // and once more after a full timer period of both apps
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 3; i++) await Promise.all([a.escalator.runOnce(new Date()), b.escalator.runOnce(new Date())]);
    expect(await rows()).toBe(1);
    expect(presented.filter((p) => p.alarmId === alarmId)).toHaveLength(1);
  }, 120_000);
});
