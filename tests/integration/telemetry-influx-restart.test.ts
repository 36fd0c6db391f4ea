/**
 * InfluxDB stopped and restarted under the writers: nothing within the buffer bound is lost, beyond it the
 * oldest points are dropped and counted, and alarms commit while InfluxDB is down. Each test runs its own
 * influxd on free ports so it can stop and start it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { createInflux1Writer } from '../../gateway/store/telemetry/influx1.js';
import { createInflux2Writer } from '../../gateway/store/telemetry/influx2.js';
import type { TelemetryPoint, TelemetryWriter } from '../../gateway/store/telemetry/types.js';
import { login, startTestApp } from '../helpers/app.js';
import { influx2Proxy, influxql } from '../helpers/influx-http.js';
import { influxAvailable, startInfluxd, until, type Influxd } from '../../testkit/influxd.js';

const HAS_INFLUXD = influxAvailable({ ownServer: true });
const TOKEN = 'restart-token';
const BASE = Date.parse('2026-04-01T00:00:00.000Z');

let influxd: Influxd;
let proxy: Awaited<ReturnType<typeof influx2Proxy>>;
let n = 0;

beforeAll(async () => {
  if (!HAS_INFLUXD) return;
  influxd = await startInfluxd();
  proxy = await influx2Proxy(influxd.url, TOKEN);
});
afterAll(async () => {
  await proxy?.close();
  await influxd?.destroy();
});

const points = (device: string, from: number, count: number): TelemetryPoint[] =>
  Array.from({ length: count }, (_, i) => ({ measurement: 'position', time: new Date(BASE + (from + i) * 1000), tags: { device, protocol: 'watch' }, fields: { lat: 31 + (from + i) / 1e5, lon: 121, seq: from + i } }));

async function newDb(): Promise<string> {
  const name = `anxin_restart_${++n}`;
  await influxql(influxd.url, `CREATE DATABASE "${name}"`);
  return name;
}

async function stored(db: string, device: string): Promise<{ count: number; first: number }> {
  const r = await influxql(influxd.url, `SELECT count("seq"), min("seq") FROM "position" WHERE "device" = '${device}'`, db);
  const v = r.results[0]!.series?.[0]?.values[0] ?? [0, 0, null];
  return { count: v[1] as number, first: v[2] as number };
}

/** Small batches, a short flush interval and a short backoff, so the test does not wait on defaults. */
const batching = { maxBatch: 100, flushMs: 50, maxBuffer: 1000, minBackoffMs: 50, maxBackoffMs: 200 };
const writers: [string, (db: string) => TelemetryWriter][] = [
  ['1.x API', (db) => createInflux1Writer({ url: influxd.url, database: db }, batching)],
  ['2.x/3.x API (through the test stand-in)', (db) => createInflux2Writer({ url: proxy.url, org: 'o', bucket: db, token: TOKEN }, batching)],
];

describe.skipIf(!HAS_INFLUXD)('InfluxDB stopped and restarted', () => {
  for (const [name, make] of writers) {
    describe(name, () => {
      it('loses nothing within the bound', async () => {
        const db = await newDb();
        const w = make(db);
        w.write(points('d1', 0, 300));
        await w.flush();
        expect(w.stats()).toMatchObject({ written: 300, buffered: 0 });

        await influxd.stop();
        w.write(points('d1', 300, 600));
        await until(() => w.stats().failing, 'the writer notices InfluxDB is down');
        expect(w.stats()).toMatchObject({ buffered: 600, dropped: 0 });

        await influxd.start();
        await w.flush();
        expect(w.stats()).toMatchObject({ buffered: 0, dropped: 0, written: 900, failing: false });
        expect(await stored(db, 'd1')).toEqual({ count: 900, first: 0 });
        await w.close();
      });

      it('beyond the bound drops the oldest and counts them', async () => {
        const db = await newDb();
        const w = make(db);
        await influxd.stop();
        w.write(points('d2', 0, 1500));
        await until(() => w.stats().failing && w.stats().buffered <= batching.maxBuffer, 'the failed batch rejoins the buffer');
        expect(w.stats()).toMatchObject({ buffered: 1000, dropped: 500 });

        await influxd.start();
        await w.flush();
        expect(w.stats()).toMatchObject({ buffered: 0, dropped: 500, written: 1000 });
        expect(await stored(db, 'd2')).toEqual({ count: 1000, first: 500 });
        await w.close();
      });
    });
  }
});

describe.skipIf(!HAS_INFLUXD)('the gateway while InfluxDB is down', () => {
  let app: App;
  beforeAll(async () => {
    app = await startTestApp({}, { INFLUX_URL: influxd.url, INFLUX_DATABASE: await newDb(), TELEMETRY_FLUSH_MS: '50' });
  });
  afterAll(async () => app?.stop());

  it('commits alarms, reports telemetry degraded (not failing), and catches up when InfluxDB returns', async () => {
    const auth = await login(app);
    const elder = (await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '赵淑珍' } })).json().id as number;
    await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier: '8800000301', protocol: 'watch', elderId: elder } });

    await influxd.stop();
    const t = new Date(BASE);
    const r = await app.pipeline.handle([
      { deviceId: '8800000301', protocol: 'watch', kind: 'alarm', alarms: ['sos'], deviceTime: t, receivedAt: new Date(), position: { lat: 31.1, lon: 121.1, valid: true, source: 'gps' }, raw: 'AL sos while influx is down' },
    ]);
    expect(r.ok).toBe(true);
    expect((await app.db.query(`SELECT kind FROM alarms WHERE source_key = '8800000301'`)).rows).toEqual([{ kind: 'sos' }]);
    await until(() => app.telemetry.stats().failing, 'the writer notices InfluxDB is down');
    const h = await app.http.inject({ url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json().parts.telemetry).toMatchObject({ state: 'degraded', mode: 'influxdb1' });
    expect(await app.http.inject({ url: '/api/telemetry/last-positions', headers: auth }).then((x) => x.statusCode)).toBe(503);

    await influxd.start();
    await app.telemetry.flush();
    const last = await app.http.inject({ url: '/api/telemetry/last-positions', headers: auth });
    expect(last.json()).toEqual([{ time: t.toISOString(), device: '8800000301', elderId: elder, fields: { lat: 31.1, lon: 121.1, valid: true, source: 'gps' } }]);
    expect((await app.http.inject({ url: '/healthz' })).json().parts.telemetry.state).toBe('up');
  });
});
