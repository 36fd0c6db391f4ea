/**
 * Issue 23: GET /api/elders/:id/vitals/series buckets an elder's vital signs in the telemetry store itself
 * (InfluxQL GROUP BY time() for the InfluxDB 1.x and 2.x/3.x APIs, date_bin in PostgreSQL) and sends the elder's
 * effective alarm thresholds with them. The same readings through each backend give the same hand-computed
 * buckets; buckets of the 30-day range start at the centre's midnight (Asia/Shanghai, UTC+8).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { DeviceMessage } from '../../protocols/message.js';
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
  const name = `anxin_v_${randomBytes(4).toString('hex')}`;
  await influxql(influxUrl, `CREATE DATABASE "${name}"`);
  return name;
}

/** The window's end: 08:00 in Shanghai. The 24 h window starts at 2026-03-01T00:00Z. */
const TO = '2026-03-02T00:00:00.000Z';
const t = (iso: string) => new Date(iso);

function reading(deviceId: string, time: string, health: DeviceMessage['health']): DeviceMessage {
  return { deviceId, protocol: 'watch', kind: 'health', deviceTime: t(time), receivedAt: t(time), health, raw: `HEALTH ${deviceId} ${time}` };
}

const READINGS: DeviceMessage[] = [
  reading('8800000301', '2026-02-28T23:59:00Z', { heartRate: 200 }), // before the 24 h window, inside 7 d
  reading('8800000301', '2026-03-01T00:01:00Z', { heartRate: 70, spo2: 96 }),
  reading('8800000301', '2026-03-01T00:04:00Z', { heartRate: 80 }),
  reading('8800000302', '2026-03-01T00:07:00Z', { heartRate: 90, systolic: 130, diastolic: 85 }),
  reading('8800000301', '2026-03-01T00:12:00Z', { steps: 1200 }),
  reading('8800000301', '2026-03-01T00:18:00Z', { steps: 1500 }),
  reading('8800000301', '2026-03-01T00:25:00Z', { temperature: 36.5 }),
  reading('8800000301', '2026-03-01T00:28:00Z', { temperature: 37 }),
  reading('8800000301', TO, { heartRate: 66 }), // exactly at the end: inclusive
  reading('8800000301', '2026-03-02T00:00:01Z', { heartRate: 99 }), // after the end
];

const stat = (min: number, avg: number, max: number, count: number) => ({ min, avg, max, count });

function backendSuite(name: string, env: () => Promise<Record<string, string>>) {
  describe(`vitals series through ${name}`, () => {
    let app: App;
    let admin: { authorization: string };
    let elder: number;
    let strict: number;
    let quiet: number;
    const get = (url: string, headers = admin) => app.http.inject({ url, headers });

    beforeAll(async () => {
      app = await startTestApp({}, { TELEMETRY_FLUSH_MS: '100', TZ_CENTRE: 'Asia/Shanghai', ...(await env()) });
      admin = await login(app);
      const mk = async (payload: object) => {
        const r = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload });
        expect(r.statusCode, r.body).toBe(201);
        return r.json().id as number;
      };
      elder = await mk({ name: '周秀兰' });
      // an override: tighter heart rate, SpO₂ not checked, a diastolic limit the defaults lack
      strict = await mk({ name: '吴国华', rules: { vitals: { heartRate: { min: 50, max: 110, forSeconds: 300 }, spo2: null, diastolic: { max: 100, forSeconds: 300 } } } });
      quiet = await mk({ name: '郑玉珍' });
      for (const [identifier, elderId] of [['8800000301', elder], ['8800000302', elder]] as const) {
        const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier, protocol: 'watch', elderId } });
        expect(r.statusCode, r.body).toBe(201);
      }
      for (const m of READINGS) expect((await app.pipeline.handle([m])).ok).toBe(true);
      await app.telemetry.flush();
      expect(app.telemetry.stats()).toMatchObject({ buffered: 0, failing: false });
    }, 60_000);
    afterAll(async () => app?.stop());

    it('24 h: ten-minute buckets of min, avg, max and count per field, and the newest reading of each', async () => {
      const r = await get(`/api/elders/${elder}/vitals/series?range=24h&to=${TO}`);
      expect(r.statusCode, r.body).toBe(200);
      const body = r.json();
      expect(body).toMatchObject({ range: '24h', from: '2026-03-01T00:00:00.000Z', to: TO, everyS: 600, timezone: 'Asia/Shanghai' });
      expect(body.buckets).toEqual([
        { time: '2026-03-01T00:00:00.000Z', fields: { heartRate: stat(70, 80, 90, 3), spo2: stat(96, 96, 96, 1), systolic: stat(130, 130, 130, 1), diastolic: stat(85, 85, 85, 1) } },
        { time: '2026-03-01T00:10:00.000Z', fields: { steps: stat(1200, 1350, 1500, 2) } },
        { time: '2026-03-01T00:20:00.000Z', fields: { temperature: stat(36.5, 36.75, 37, 2) } },
        { time: TO, fields: { heartRate: stat(66, 66, 66, 1) } },
      ]);
      expect(body.latest).toEqual({
        heartRate: { time: TO, value: 66 },
        spo2: { time: '2026-03-01T00:01:00.000Z', value: 96 },
        systolic: { time: '2026-03-01T00:07:00.000Z', value: 130 },
        diastolic: { time: '2026-03-01T00:07:00.000Z', value: 85 },
        temperature: { time: '2026-03-01T00:28:00.000Z', value: 37 },
        steps: { time: '2026-03-01T00:18:00.000Z', value: 1500 },
      });
    });

    it('7 d: hourly buckets, the reading before the day included', async () => {
      const body = (await get(`/api/elders/${elder}/vitals/series?range=7d&to=${TO}`)).json();
      expect(body).toMatchObject({ from: '2026-02-23T00:00:00.000Z', everyS: 3600 });
      expect(body.buckets.map((b: { time: string; fields: { heartRate?: object } }) => [b.time, b.fields.heartRate])).toEqual([
        ['2026-02-28T23:00:00.000Z', stat(200, 200, 200, 1)],
        ['2026-03-01T00:00:00.000Z', stat(70, 80, 90, 3)],
        [TO, stat(66, 66, 66, 1)],
      ]);
      expect(body.buckets[1].fields.temperature).toEqual(stat(36.5, 36.75, 37, 2));
    });

    it("30 d: six-hour buckets that start at the centre's midnight (16:00 UTC), not UTC's", async () => {
      const body = (await get(`/api/elders/${elder}/vitals/series?range=30d&to=${TO}`)).json();
      expect(body.everyS).toBe(21600);
      // 23:59Z and 00:01Z are 07:59 and 08:01 in Shanghai: one bucket, 06:00–12:00 local (22:00Z–04:00Z)
      expect(body.buckets).toEqual([
        {
          time: '2026-02-28T22:00:00.000Z',
          fields: { heartRate: stat(70, 110, 200, 4), spo2: stat(96, 96, 96, 1), systolic: stat(130, 130, 130, 1), diastolic: stat(85, 85, 85, 1), steps: stat(1200, 1350, 1500, 2), temperature: stat(36.5, 36.75, 37, 2) },
        },
        { time: '2026-03-01T22:00:00.000Z', fields: { heartRate: stat(66, 66, 66, 1) } },
      ]);
    });

    it("thresholds: the default rules, or the elder's override merged onto them", async () => {
      expect((await get(`/api/elders/${elder}/vitals/series?range=24h&to=${TO}`)).json().thresholds).toEqual({
        heartRate: { min: 40, max: 120 },
        spo2: { min: 90 },
        temperature: { max: 38.5 },
        systolic: { max: 180 },
      });
      expect((await get(`/api/elders/${strict}/vitals/series?range=24h&to=${TO}`)).json().thresholds).toEqual({
        heartRate: { min: 50, max: 110 },
        temperature: { max: 38.5 },
        systolic: { max: 180 },
        diastolic: { max: 100 },
      });
    });

    it('an elder without readings gets no buckets and no latest', async () => {
      const r = await get(`/api/elders/${quiet}/vitals/series?range=30d&to=${TO}`);
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ buckets: [], latest: {} });
    });

    it('refuses a bad range, a bad end, an unknown elder; installers and anonymous callers', async () => {
      expect((await get(`/api/elders/${elder}/vitals/series?range=1y`)).json()).toMatchObject({ error: 'validation' });
      expect((await get(`/api/elders/${elder}/vitals/series?range=1y`)).statusCode).toBe(400);
      expect((await get(`/api/elders/${elder}/vitals/series`)).statusCode).toBe(400);
      expect((await get(`/api/elders/${elder}/vitals/series?range=24h&to=yesterday`)).statusCode).toBe(400);
      expect((await get('/api/elders/999999/vitals/series?range=24h')).statusCode).toBe(404);
      const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: `inst_${randomBytes(3).toString('hex')}`, displayName: '装维', role: 'installer', password: 'installer-pass-1' } });
      expect(u.statusCode, u.body).toBe(201);
      const installer = await login(app, u.json().username, 'installer-pass-1');
      expect((await get(`/api/elders/${elder}/vitals/series?range=24h`, installer)).statusCode).toBe(403);
      expect((await get(`/api/elders/${elder}/vitals/series?range=24h`, {} as { authorization: string })).statusCode).toBe(401);
      // the agents who answer alarms do see it
      const a = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: `agent_${randomBytes(3).toString('hex')}`, displayName: '坐席', role: 'agent', password: 'agent-pass-123' } });
      expect((await get(`/api/elders/${elder}/vitals/series?range=24h`, await login(app, a.json().username, 'agent-pass-123'))).statusCode).toBe(200);
    });
  });
}

const influxSkip = HAS_INFLUX ? describe : describe.skip;

influxSkip('InfluxDB 1.x API', () => backendSuite('InfluxDB 1.x', async () => ({ INFLUX_URL: influxUrl, INFLUX_DATABASE: await newInfluxDb() })));
influxSkip('InfluxDB 2.x/3.x API (test stand-in for /api/v2/write in front of influxd 1.x)', () =>
  backendSuite('the 2.x/3.x API', async () => ({ INFLUX_URL: proxy!.url, INFLUX_API: '2', INFLUX_ORG: '安心', INFLUX_BUCKET: await newInfluxDb(), INFLUX_TOKEN: TOKEN })),
);
describe('PostgreSQL', () => backendSuite('PostgreSQL', async () => ({})));

describe('a telemetry store that does not answer', () => {
  let app: App;
  beforeAll(async () => {
    // nothing listens on port 9 of loopback: every query fails at once
    app = await startTestApp({}, { INFLUX_URL: 'http://127.0.0.1:9', INFLUX_DATABASE: 'anxin' });
  });
  afterAll(async () => app?.stop());

  it('answers 503 telemetry_unavailable, so the dashboard offers a retry', async () => {
    const admin = await login(app);
    const id = (await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '冯桂香' } })).json().id as number;
    const r = await app.http.inject({ url: `/api/elders/${id}/vitals/series?range=24h`, headers: admin });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ error: 'telemetry_unavailable' });
  });
});
