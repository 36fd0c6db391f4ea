/**
 * Smoke test of the fleet simulator (simulators/fleet/) against the real server: watches and mqtt-json
 * devices log in, send on a schedule, and raise alarms that are acknowledged after the commit. No timings
 * are asserted; `npm run bench` measures them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { Fleet, FleetCore } from '../../simulators/fleet/index.js';
import { login, startTestApp } from '../helpers/app.js';
import { metricValue, until } from '../helpers/until.js';

let app: App;
let auth: { authorization: string };
const WATCHES = Array.from({ length: 20 }, (_, i) => `86000000${String(i).padStart(7, '0')}`);
const WORKER_WATCHES = Array.from({ length: 6 }, (_, i) => `86100000${String(i).padStart(7, '0')}`);
const SENSORS = ['fleet-fs-1', 'fleet-fs-2'];
const secrets = new Map<string, string>();

beforeAll(async () => {
  app = await startTestApp();
  auth = await login(app);
  for (const id of [...WATCHES, ...WORKER_WATCHES]) {
    const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: id, protocol: 'watch' } });
    expect(r.statusCode).toBe(201);
  }
  for (const id of SENSORS) {
    const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: id, protocol: 'mqtt-json', kind: 'fall_sensor' } });
    expect(r.statusCode).toBe(201);
    secrets.set(id, r.json().mqttSecret);
  }
});
afterAll(async () => {
  await app?.stop();
});

describe('fleet simulator against the real server', () => {
  it('logs in 20 watches and 2 MQTT devices, sends on schedule, and gets alarms acknowledged', async () => {
    const core = new FleetCore({
      watch: { host: '127.0.0.1', port: app.watch.port },
      mqtt: { host: '127.0.0.1', port: app.broker.port },
      devices: [{ protocol: 'watch', ids: WATCHES }, ...SENSORS.map((id) => ({ protocol: 'mqtt' as const, ids: [id], secret: secrets.get(id) }))],
      localAddresses: ['127.0.0.2', '127.0.0.3'],
    });
    try {
      const c = await core.connect({ perS: 200, timeoutMs: 20_000 });
      expect(c).toEqual({ ready: 22, failed: 0 });
      expect(app.watch.connectionCount).toBe(20);

      const before = await metricValue(app.metrics.registry, 'anxin_messages_total', 'kind="position"');
      core.setSchedules([{ kind: 'ud', periodMs: 500, share: 1 }]);
      await until(async () => (await metricValue(app.metrics.registry, 'anxin_messages_total', 'kind="position"')) >= before + 22);
      core.setSchedules([]);

      const watch = core.pickForAlarm('watch');
      const sensor = core.pickForAlarm('mqtt');
      expect(watch).toBeDefined();
      expect(sensor).toBeDefined();
      const acked = await Promise.all([core.alarm(watch!), core.alarm(sensor!)]);
      for (const r of acked) {
        expect(r.ackAt).toBeGreaterThanOrEqual(r.sentAt);
        expect(r.attempts).toBeGreaterThanOrEqual(1);
      }
      expect(acked.map((r) => r.kind).sort()).toEqual(['fall', 'sos']);
      // acknowledged only after the commit: the rows are there
      const rows = await app.db.query(`SELECT source_key, kind FROM alarms WHERE source_key = ANY($1) ORDER BY kind`, [acked.map((r) => r.device)]);
      expect(rows.rows.map((r) => r.kind)).toEqual(['fall', 'sos']);
      expect(core.stats()).toMatchObject({ ready: 22, alarmsSent: 2, alarmsAcked: 2, protocolErrors: 0 });
    } finally {
      await core.stop();
    }
  });

  it('spreads devices over worker processes and collects their alarm records', async () => {
    const fleet = await Fleet.start({ watch: { host: '127.0.0.1', port: app.watch.port }, devices: [{ protocol: 'watch', ids: WORKER_WATCHES }], minWorkers: 2 });
    try {
      expect(fleet.workerCount).toBe(2);
      expect(await fleet.connect({ perS: 100, timeoutMs: 20_000 })).toEqual({ ready: 6, failed: 0 });
      const ids = [await fleet.alarm(), await fleet.alarm()];
      expect(new Set(ids).size).toBe(2);
      const records = await until(async () => {
        const r = await fleet.alarms();
        return r.length === 2 && r.every((x) => x.ackAt !== undefined) ? r : undefined;
      });
      expect(records.map((r) => r.device).sort()).toEqual([...ids].sort());
      const s = await fleet.stats();
      expect(s).toMatchObject({ devices: 6, ready: 6, alarmsAcked: 2, protocolErrors: 0 });
      expect((await fleet.samples()).login.watch).toHaveLength(6);
    } finally {
      await fleet.stop();
    }
  });
});
