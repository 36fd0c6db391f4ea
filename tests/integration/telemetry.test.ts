/**
 * Telemetry end to end through the real server: device messages → pipeline → writer → store → HTTP reads,
 * for each backend: InfluxDB 1.x API (real influxd), the 2.x/3.x API (the real writer through a test
 * stand-in for /api/v2/write in front of the same influxd, see helpers/influx-http.ts), and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { DeviceMessage } from '../../protocols/message.js';
import { createInflux1Query, createInflux1Writer } from '../../gateway/store/telemetry/influx1.js';
import { createInflux2Query, createInflux2Writer } from '../../gateway/store/telemetry/influx2.js';
import type { TelemetryPoint, TelemetryQuery, TelemetryWriter } from '../../gateway/store/telemetry/types.js';
import { login, startTestApp } from '../helpers/app.js';
import { influx2Proxy, influxql } from '../helpers/influx-http.js';
import { influxAvailable, sharedOrPrivateInfluxd } from '../../testkit/influxd.js';

const HAS_INFLUX = influxAvailable();
let influxUrl = '';
let stopInflux = async () => undefined as void;
let proxy: Awaited<ReturnType<typeof influx2Proxy>> | undefined;
const TOKEN = 'test-token';

beforeAll(async () => {
  if (!HAS_INFLUX) return;
  const i = await sharedOrPrivateInfluxd();
  influxUrl = i.url;
  stopInflux = () => i.destroy();
  proxy = await influx2Proxy(influxUrl, TOKEN);
});
afterAll(async () => {
  await proxy?.close();
  await stopInflux();
});

async function newInfluxDb(): Promise<string> {
  const name = `anxin_t_${randomBytes(4).toString('hex')}`;
  await influxql(influxUrl, `CREATE DATABASE "${name}"`);
  return name;
}

const BASE = Date.parse('2026-03-01T08:00:00.000Z');
const at = (min: number) => new Date(BASE + min * 60_000);
const iso = (min: number) => at(min).toISOString();

function position(deviceId: string, min: number, lat: number, lon: number): DeviceMessage {
  return {
    deviceId,
    protocol: 'watch',
    kind: 'position',
    deviceTime: at(min),
    receivedAt: at(min),
    position: { lat, lon, valid: true, source: 'gps', speed: 3.5, satellites: 8 },
    raw: `UD ${deviceId} ${min}`,
  };
}
function vitals(deviceId: string, min: number, health: DeviceMessage['health']): DeviceMessage {
  return { deviceId, protocol: 'watch', kind: 'health', deviceTime: at(min), receivedAt: at(min), health, raw: `HEALTH ${deviceId} ${min}` };
}

function backendSuite(name: string, env: () => Promise<Record<string, string>>, expectMode: string) {
  describe(`telemetry through ${name}`, () => {
    let app: App;
    let auth: { authorization: string };
    let elderA: number;
    let elderB: number;

    beforeAll(async () => {
      app = await startTestApp({}, { TELEMETRY_FLUSH_MS: '100', ...(await env()) });
      auth = await login(app);
      const mk = async (name: string) => (await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name } })).json().id as number;
      elderA = await mk('王桂兰');
      elderB = await mk('李建国');
      for (const [identifier, elderId] of [['8800000101', elderA], ['8800000102', elderA], ['8800000201', elderB]] as const) {
        const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: auth, payload: { identifier, protocol: 'watch', elderId } });
        expect(r.statusCode).toBe(201);
      }
      // Elder A wears two devices over an hour; elder B one. Minutes 0..60.
      const msgs: DeviceMessage[] = [
        position('8800000101', 0, 31.2301, 121.4701),
        position('8800000101', 10, 31.2302, 121.4702),
        position('8800000102', 20, 31.2303, 121.4703),
        position('8800000101', 30, 31.2304, 121.4704),
        position('8800000201', 25, 39.9001, 116.4001),
        position('8800000201', 55, 39.9002, 116.4002),
        vitals('8800000101', 5, { heartRate: 72, spo2: 97 }),
        vitals('8800000101', 15, { systolic: 128, diastolic: 82 }),
        vitals('8800000102', 35, { heartRate: 75, temperature: 36.6 }),
      ];
      for (const m of msgs) expect((await app.pipeline.handle([m])).ok).toBe(true);
      await app.telemetry.flush();
      expect(app.telemetry.stats()).toMatchObject({ buffered: 0, failing: false, lastError: undefined });
    });
    afterAll(async () => app?.stop());

    it(`says which backend it uses (${expectMode})`, async () => {
      expect(app.summary.find((l) => l.startsWith('Telemetry'))).toContain(expectMode);
      const h = await app.http.inject({ url: '/healthz' });
      expect(h.json().parts.telemetry).toMatchObject({ state: 'up', mode: expectMode });
      const docs = (await app.http.inject({ url: '/docs/json' })).json();
      expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/api/telemetry/last-positions', '/api/elders/{id}/track', '/api/elders/{id}/vitals']));
    });

    it('counts batches, their latency, the points and the buffer depth', async () => {
      const m = await app.metrics.registry.metrics();
      const value = (series: string) => Number(m.split('\n').find((l) => l.startsWith(series))?.split(' ').pop());
      expect(value(`anxin_telemetry_points_total{writer="${expectMode}"}`)).toBe(9);
      expect(value(`anxin_telemetry_batches_total{writer="${expectMode}",result="ok"}`)).toBeGreaterThan(0);
      expect(value(`anxin_telemetry_write_seconds_count{writer="${expectMode}",result="ok"}`)).toBe(value(`anxin_telemetry_batches_total{writer="${expectMode}",result="ok"}`));
      expect(value(`anxin_telemetry_buffer{writer="${expectMode}"}`)).toBe(0);
    });

    it('last positions: the newest point of each device, with its elder', async () => {
      const r = await app.http.inject({ url: '/api/telemetry/last-positions', headers: auth });
      expect(r.statusCode).toBe(200);
      const rows = (r.json() as { device: string }[]).sort((a, b) => a.device.localeCompare(b.device));
      expect(rows).toEqual([
        { time: iso(30), device: '8800000101', elderId: elderA, fields: { lat: 31.2304, lon: 121.4704, source: 'gps', valid: true, speed: 3.5, satellites: 8 } },
        { time: iso(20), device: '8800000102', elderId: elderA, fields: { lat: 31.2303, lon: 121.4703, source: 'gps', valid: true, speed: 3.5, satellites: 8 } },
        { time: iso(55), device: '8800000201', elderId: elderB, fields: { lat: 39.9002, lon: 116.4002, source: 'gps', valid: true, speed: 3.5, satellites: 8 } },
      ]);
      const one = await app.http.inject({ url: '/api/telemetry/last-positions?device=8800000201', headers: auth });
      expect(one.json().map((x: { device: string }) => x.device)).toEqual(['8800000201']);
    });

    it("track: the elder's positions in the window, oldest first, across their devices", async () => {
      const r = await app.http.inject({ url: `/api/elders/${elderA}/track?from=${iso(5)}&to=${iso(30)}`, headers: auth });
      expect(r.statusCode).toBe(200);
      expect(r.json().map((x: { time: string; device: string; fields: { lat: number } }) => [x.time, x.device, x.fields.lat])).toEqual([
        [iso(10), '8800000101', 31.2302],
        [iso(20), '8800000102', 31.2303],
        [iso(30), '8800000101', 31.2304],
      ]);
      const limited = await app.http.inject({ url: `/api/elders/${elderA}/track?from=${iso(0)}&to=${iso(60)}&limit=2`, headers: auth });
      expect(limited.json().map((x: { time: string }) => x.time)).toEqual([iso(0), iso(10)]);
    });

    it('vitals: one field only where it was measured, or every health field', async () => {
      const hr = await app.http.inject({ url: `/api/elders/${elderA}/vitals?from=${iso(0)}&to=${iso(60)}&field=heartRate`, headers: auth });
      expect(hr.statusCode).toBe(200);
      expect(hr.json()).toEqual([
        { time: iso(5), device: '8800000101', elderId: elderA, fields: { heartRate: 72 } },
        { time: iso(35), device: '8800000102', elderId: elderA, fields: { heartRate: 75 } },
      ]);
      const all = await app.http.inject({ url: `/api/elders/${elderA}/vitals?from=${iso(0)}&to=${iso(60)}`, headers: auth });
      expect(all.json().map((x: { fields: object }) => x.fields)).toEqual([{ heartRate: 72, spo2: 97 }, { systolic: 128, diastolic: 82 }, { heartRate: 75, temperature: 36.6 }]);
      const none = await app.http.inject({ url: `/api/elders/${elderB}/vitals?from=${iso(0)}&to=${iso(60)}`, headers: auth });
      expect(none.json()).toEqual([]);
    });

    it('refuses bad windows, unknown elders, unknown fields and anonymous callers', async () => {
      const get = (url: string, headers = auth) => app.http.inject({ url, headers });
      expect((await get(`/api/elders/${elderA}/track?from=${iso(30)}&to=${iso(10)}`)).statusCode).toBe(400);
      expect((await get(`/api/elders/${elderA}/track?from=${iso(10)}&to=${iso(10)}`)).statusCode).toBe(400);
      expect((await get(`/api/elders/${elderA}/track?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z`)).json()).toMatchObject({ error: 'validation', fields: [{ field: 'querystring/to' }] });
      expect((await get(`/api/elders/${elderA}/track?from=yesterday`)).statusCode).toBe(400);
      expect((await get(`/api/elders/${elderA}/track`)).statusCode).toBe(400);
      expect((await get(`/api/elders/${elderA}/vitals?from=${iso(0)}&field=mood`)).statusCode).toBe(400);
      expect((await get(`/api/elders/999999/track?from=${iso(0)}&to=${iso(60)}`)).statusCode).toBe(404);
      expect((await get('/api/telemetry/last-positions', {} as { authorization: string })).statusCode).toBe(401);
    });
  });
}

const influxSkip = HAS_INFLUX ? describe : describe.skip;

influxSkip('InfluxDB 1.x API', () => backendSuite('InfluxDB 1.x', async () => ({ INFLUX_URL: influxUrl, INFLUX_DATABASE: await newInfluxDb() }), 'influxdb1'));
influxSkip('InfluxDB 2.x/3.x API (test stand-in for /api/v2/write in front of influxd 1.x)', () =>
  backendSuite('the 2.x/3.x API', async () => ({ INFLUX_URL: proxy!.url, INFLUX_API: '2', INFLUX_ORG: '安心', INFLUX_BUCKET: await newInfluxDb(), INFLUX_TOKEN: TOKEN }), 'influxdb2'),
);
describe('PostgreSQL', () => backendSuite('PostgreSQL', async () => ({}), 'postgres'));

/** Awkward tag values and field strings survive a round trip through a real server. */
influxSkip('escaping against real influxd', () => {
  const awkward: TelemetryPoint[] = [
    { measurement: 'position', time: new Date(BASE), tags: { device: '张 三,x=y', protocol: 'mqtt-json', elder: '7' }, fields: { lat: 1, lon: 2, source: 'say "hi" \\ there', valid: true } },
    { measurement: 'position', time: new Date(BASE), tags: { device: 'a=b c,d\\e', protocol: 'mqtt-json' }, fields: { lat: 3, lon: 4, source: 'back\\slash at end\\', valid: false } },
  ];
  const roundTrip = async (w: TelemetryWriter, q: TelemetryQuery) => {
    w.write(awkward);
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 2, failing: false });
    await w.close();
    const rows = (await q.lastPositions(['张 三,x=y', 'a=b c,d\\e'])).sort((a, b) => a.device.localeCompare(b.device));
    expect(rows).toEqual([
      { time: new Date(BASE), device: 'a=b c,d\\e', elderId: null, fields: { lat: 3, lon: 4, source: 'back\\slash at end\\', valid: false } },
      { time: new Date(BASE), device: '张 三,x=y', elderId: 7, fields: { lat: 1, lon: 2, source: 'say "hi" \\ there', valid: true } },
    ]);
  };
  const batching = { flushMs: 60_000, maxBuffer: 100 };

  it('1.x API', async () => {
    const o = { url: influxUrl, database: await newInfluxDb() };
    await roundTrip(createInflux1Writer(o, batching), createInflux1Query(o));
    // and the server itself sees the tag values as we meant them
    const raw = await influxql(influxUrl, 'SHOW TAG VALUES FROM "position" WITH KEY = "device"', o.database);
    expect(raw.results[0]!.series![0]!.values.map((v) => v[1]).sort()).toEqual(['a=b c,d\\e', '张 三,x=y']);
  });

  it('2.x/3.x API (through the test stand-in)', async () => {
    const o = { url: proxy!.url, org: 'o', bucket: await newInfluxDb(), token: TOKEN };
    await roundTrip(createInflux2Writer(o, batching), createInflux2Query(o));
  });
});
