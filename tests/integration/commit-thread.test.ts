/**
 * Alarm commits on their own thread (issue 25): the transaction runs on the thread's connections, a retransmission
 * is still one alarm, a thread that dies fails its commits in flight (never a fake success) and the next commit
 * starts it again, errors keep their codes, and ALARM_COMMIT_THREAD=false commits on the main loop.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CommitError, CommitThread } from '../../gateway/alarms/commit-thread.js';
import type { EscalationPass } from '../../gateway/alarms/escalate-tx.js';
import { COMMIT_THREAD_NAME } from '../../gateway/alarms/commit-thread-types.js';
import { commitInDb, type JournalPayload } from '../../gateway/alarms/commit-tx.js';
import { freePort } from '../../testkit/free-port.js';
import { createPool, type Queryable } from '../../gateway/store/db.js';
import { createUser } from '../../gateway/store/users.js';
import { startTestApp } from '../helpers/app.js';
import { createMigratedDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

const payload = (identifier: string, raw: string): JournalPayload => ({
  device: { id: null, identifier, elderId: null, protocol: 'watch' },
  msg: { protocol: 'watch', deviceId: identifier, raw, deviceTime: new Date().toISOString(), receivedAt: new Date().toISOString() },
  raise: [{ kind: 'sos', detail: { note: '<b>王</b>' } }],
  clear: [],
  windowS: null,
});

async function client(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  cleanups.push(() => c.end());
  return c;
}

describe('the alarm commit thread', () => {
  it('commits on its own connections; the same key again is a retransmission, no second alarm', async () => {
    const url = await createMigratedDatabase('ct');
    const t = new CommitThread({ databaseUrl: url, poolSize: 2 });
    cleanups.push(() => t.stop());
    const first = await t.commit('watch:ct1:sos-1', payload('ct1', 'sos-1'));
    expect(first.done).toBe(true);
    expect(first.changes.map((c) => [c.action, c.alarm.kind, c.alarm.sourceKey])).toEqual([['raised', 'sos', 'ct1']]);
    // rows cross the thread boundary as they are: dates stay dates, ids numbers, detail as stored
    expect(first.changes[0]!.alarm.firstAt).toBeInstanceOf(Date);
    expect(typeof first.changes[0]!.alarm.id).toBe('number');
    expect(first.changes[0]!.alarm.detail).toMatchObject({ note: '<b>王</b>', protocol: 'watch' });
    const again = await t.commit('watch:ct1:sos-1', payload('ct1', 'sos-1'));
    expect(again).toEqual({ done: false, changes: [], tests: [] });
    const c = await client(url);
    expect((await c.query(`SELECT count(*)::int AS n FROM alarms`)).rows[0].n).toBe(1);
    const names = (await c.query(`SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows;
    expect(names).toEqual([{ application_name: COMMIT_THREAD_NAME }]);
  });

  it('a thread that dies fails the commit in flight; the next commit starts it again and the alarm lands once', async () => {
    const url = await createMigratedDatabase('ct');
    const t = new CommitThread({ databaseUrl: url, poolSize: 2 });
    cleanups.push(() => t.stop());
    t.start();
    const blocker = await client(url);
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    const inFlight = t.commit('watch:ct2:sos-1', payload('ct2', 'sos-1'));
    await until(() => t.inFlight === 1);
    // (pg_stat_activity is read once per transaction: the blocker, inside its own, would see the same rows forever)
    const watcher = await client(url);
    await until(async () => (await watcher.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [COMMIT_THREAD_NAME])).rows[0].n === 1);
    await (t as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(inFlight).rejects.toThrow(/exited/);
    expect(t.inFlight).toBe(0);
    await blocker.query('COMMIT');
    // the dead thread's transaction went with its connection: the device retransmits, and this commit is the one
    const retry = await t.commit('watch:ct2:sos-1', payload('ct2', 'sos-1'));
    expect(retry.done).toBe(true);
    expect((await blocker.query(`SELECT kind, count FROM alarms WHERE source_key = 'ct2'`)).rows).toEqual([{ kind: 'sos', count: 1 }]);
  });

  it("after a commit that raised, the thread runs the steps due at once (the screen-pop) by itself; a P1 nobody took goes to the supervisors who are looking", async () => {
    const url = await createMigratedDatabase('ct');
    const t = new CommitThread({ databaseUrl: url, poolSize: 2 });
    cleanups.push(() => t.stop());
    const c = await client(url);
    const lead = (await createUser(c as unknown as Queryable, { username: 'lead', displayName: '<i>组长</i>', role: 'supervisor', passwordHash: 'x' })).id;
    const passes: EscalationPass[] = [];
    t.onEscalated = (pass) => passes.push(pass);
    // nobody looking: no agent ready, no supervisor with a dashboard open
    const first = await t.commit('watch:ct5:sos-1', payload('ct5', 'sos-1'), []);
    const id = first.changes[0]!.alarm.id;
    await until(() => passes.length === 1);
    expect(passes[0]!.steps).toEqual(['present_longest_idle']);
    expect(passes[0]!.effects.map((e) => [e.kind, e.alarm.id, e.kind === 'present' ? e.userIds : null])).toEqual([['present', id, []], ['supervisor', id, null]]);
    // its step is done: the escalator's own pass finds nothing due
    expect(await t.escalate(new Date(), [])).toEqual({ due: 0, steps: [], effects: [] });
    // a retransmission raises nothing, so nothing escalates; a second SOS of another watch, with the supervisor
    // looking this time, does
    expect((await t.commit('watch:ct5:sos-1', payload('ct5', 'sos-1'), [])).done).toBe(false);
    const second = await t.commit('watch:ct6:sos-1', payload('ct6', 'sos-1'), [lead]);
    const alarm = second.changes[0]!.alarm;
    await until(() => passes.length === 2);
    const pop = passes[1]!.effects.find((e) => e.kind === 'present');
    expect(pop && pop.kind === 'present' && [pop.alarm.id, pop.userIds, pop.alarm.presentedTo]).toEqual([alarm.id, [lead], [lead]]);
    const timeline = (await c.query(`SELECT action, detail FROM alarm_events WHERE alarm_id = $1 ORDER BY id`, [alarm.id])).rows;
    expect(timeline.map((r) => r.action)).toEqual(['raised', 'present']);
    expect(timeline[1].detail.toNames).toEqual(['<i>组长</i>']);
  });

  it("the steps run after a commit are the new alarm's alone: older alarms' due steps wait for the escalator's pass, not the pop", async () => {
    const url = await createMigratedDatabase('ct');
    const t = new CommitThread({ databaseUrl: url, poolSize: 2 });
    cleanups.push(() => t.stop());
    const pool = createPool(url, 1);
    cleanups.push(() => pool.end());
    // 25 older alarms whose first step is due (committed in-process, which does not escalate): more than one pass
    const older: number[] = [];
    for (let i = 0; i < 25; i++) older.push((await commitInDb(pool, `watch:old${i}:sos-1`, payload(`old${i}`, 'sos-1'))).changes[0]!.alarm.id);
    const passes: EscalationPass[] = [];
    t.onEscalated = (pass) => passes.push(pass);
    const fresh = (await t.commit('watch:ct8:sos-1', payload('ct8', 'sos-1'), [])).changes[0]!.alarm.id;
    await until(() => passes.length === 1);
    expect(passes[0]!.due).toBe(1);
    expect(passes[0]!.effects.filter((e) => e.kind === 'present').map((e) => e.alarm.id)).toEqual([fresh]);
    // the older ones are still due, and the escalator's passes take them (20 to a pass), the new one not again
    const a = await t.escalate(new Date(), []);
    const b = await t.escalate(new Date(), []);
    const presented = [...a.effects, ...b.effects].filter((e) => e.kind === 'present').map((e) => e.alarm.id);
    expect([a.due, b.due]).toEqual([20, 5]);
    expect(presented.sort((x, y) => x - y)).toEqual(older);
    expect(await t.escalate(new Date(), [])).toEqual({ due: 0, steps: [], effects: [] });
  });

  it("the escalator's passes and an agent's offer run on the thread too", async () => {
    const url = await createMigratedDatabase('ct');
    const t = new CommitThread({ databaseUrl: url, poolSize: 2 });
    cleanups.push(() => t.stop());
    // an alarm whose first step is not due yet (the in-process commit does not escalate): the pass takes it when due
    const c = await client(url);
    const pool = createPool(url, 1);
    cleanups.push(() => pool.end());
    const raised = await commitInDb(pool, 'watch:ct7:sos-1', payload('ct7', 'sos-1'));
    const pass = await t.escalate(new Date(), null);
    expect([pass.due, pass.steps]).toEqual([1, ['present_longest_idle']]);
    expect((await c.query(`SELECT esc_done FROM alarms WHERE id = $1`, [raised.changes[0]!.alarm.id])).rows[0].esc_done).toEqual([0]);
    expect(await t.offer([12345])).toEqual({ offered: 0, effects: [] });
  });

  it('a database that does not answer is an error with its code, not an outcome', async () => {
    const port = await freePort();
    const t = new CommitThread({ databaseUrl: `postgres://anxin:x@127.0.0.1:${port}/none`, poolSize: 1 });
    cleanups.push(() => t.stop());
    const e = await t.commit('watch:ct3:sos-1', payload('ct3', 'sos-1')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CommitError);
    expect((e as CommitError).code).toBe('ECONNREFUSED');
    await t.stop();
    await expect(t.commit('watch:ct3:sos-2', payload('ct3', 'sos-2'))).rejects.toThrow(/stopped/);
  });

  it('the gateway commits on the thread by default, and on its own loop with ALARM_COMMIT_THREAD=false', async () => {
    for (const alarmCommitThread of [true, false]) {
      const url = await createMigratedDatabase('ct');
      const app = await startTestApp({ databaseUrl: url, alarmCommitThread });
      cleanups.push(() => app.stop());
      const c = await client(url);
      const threadConns = async () => (await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [COMMIT_THREAD_NAME])).rows[0].n as number;
      const alarms = await app.alarms.commit(
        { protocol: 'watch', deviceId: 'ct4', kind: 'alarm', receivedAt: new Date(), raw: `sos-${alarmCommitThread}` },
        { id: null, identifier: 'ct4', elderId: null, protocol: 'watch' },
        [{ kind: 'sos' }],
        [],
      );
      expect(alarms.map((a) => a.kind)).toEqual(['sos']);
      expect((await c.query(`SELECT count(*)::int AS n FROM alarms WHERE source_key = 'ct4'`)).rows[0].n).toBe(1);
      if (alarmCommitThread) expect(await threadConns()).toBeGreaterThan(0);
      else expect(await threadConns()).toBe(0);
      await app.stop();
      // stopped, the thread's connections are gone
      expect(await threadConns()).toBe(0);
    }
  });
});
