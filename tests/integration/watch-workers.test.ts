/**
 * WATCH_WORKERS: what only the worker processes have (the shared behaviour runs in watch.test.ts for both modes):
 * a worker that dies is replaced and its devices come back; a device moving between workers keeps one session.
 */
import { execFileSync } from 'node:child_process';
import cluster from 'node:cluster';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { openFilesLimit } from '../../gateway/transports/fd-limit.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

let app: App;
const watches: SimulatedWatch[] = [];
const IMEIS = ['8800000031', '8800000032', '8800000033', '8800000034'];

async function watch(id: string) {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: id, lkOnConnect: true, alarmRetryMs: 200, lkRetryMs: 60_000 });
  w.on('error', () => undefined);
  watches.push(w);
  await w.connect();
  await w.sendLK();
  return w;
}

beforeAll(async () => {
  app = await startTestApp({ watchWorkers: 2 });
  const auth = await login(app);
  const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '李桂兰' } });
  for (const id of IMEIS) await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: id, protocol: 'watch', elderId: e.json().id } });
});
afterAll(async () => {
  for (const w of watches) await w.close().catch(() => undefined);
  await app?.stop();
});

describe('watch connection workers', () => {
  it('spreads connections over the workers and counts them all', async () => {
    for (const id of IMEIS) await watch(id);
    await until(() => app.watch.connectionCount === 4);
    expect(Object.keys(cluster.workers ?? {})).toHaveLength(2);
    for (const id of IMEIS) expect(app.watch.sessions.has(id)).toBe(true);
  });

  it('replaces a worker that dies; its devices go offline and come back on reconnect, alarms still acknowledged', async () => {
    const victim = Object.values(cluster.workers ?? {})[0]!;
    const pid = victim.process.pid!;
    process.kill(pid, 'SIGKILL');
    await until(() => app.watch.connectionCount < 4 && IMEIS.some((id) => !app.watch.sessions.has(id)));
    await until(() => Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead()).length === 2 && !Object.values(cluster.workers ?? {}).some((w) => w?.process.pid === pid));
    // the dropped devices reconnect, as real watches do
    for (const id of IMEIS.filter((i) => !app.watch.sessions.has(i))) await watch(id);
    await until(() => IMEIS.every((id) => app.watch.sessions.has(id)));
    const latest = watches.filter((x) => x.deviceId === IMEIS[0]).pop()!;
    await latest.sendAlarm('fall'); // resolves on the AL reply, sent after the commit
    const rows = await app.db.query(`SELECT kind FROM alarms WHERE source_key = $1`, [IMEIS[0]]);
    expect(rows.rows).toEqual([{ kind: 'fall' }]);
  });

  it('reads its open-files limit as the shell does', () => {
    const shell = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    expect(openFilesLimit()).toBe(shell === 'unlimited' ? Number.POSITIVE_INFINITY : Number(shell));
  });
});
