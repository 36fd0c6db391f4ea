/**
 * What the InfluxDB writers put on the wire, checked against a node:http server that records requests:
 * the 2.x/3.x request contract and line-protocol escaping for both APIs, and the InfluxQL we send.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInflux1Writer } from '../../../gateway/store/telemetry/influx1.js';
import { createInflux2Query, createInflux2Writer } from '../../../gateway/store/telemetry/influx2.js';
import { ident, lastPositionsQuery, lit, parseRows, trackQuery, vitalsQuery } from '../../../gateway/store/telemetry/influxql.js';
import { toFlatLine, toLine, toLines } from '../../../gateway/store/telemetry/line.js';
import { lineSafeTags, type TelemetryPoint } from '../../../gateway/store/telemetry/types.js';
import { captureServer } from '../../helpers/influx-http.js';

let cap: Awaited<ReturnType<typeof captureServer>>;
beforeAll(async () => (cap = await captureServer()));
afterAll(async () => cap.close());
beforeEach(() => {
  cap.requests.length = 0;
  cap.status.code = 204;
});

const T = new Date('2026-01-01T00:00:00.000Z'); // 1767225600000 ms
const awkward: TelemetryPoint = {
  measurement: 'position',
  time: T,
  tags: { device: '张 三,x=y', protocol: 'mqtt-json', elder: '42' },
  fields: { lat: 31.2, lon: 121.4, satellites: 7, source: 'say "hi" \\ there', valid: true },
};
const batching = { flushMs: 60_000, maxBuffer: 100 };

describe('InfluxDB 2.x/3.x writer: request contract', () => {
  it('POSTs line protocol to /api/v2/write?org=&bucket=&precision=ms with Authorization: Token', async () => {
    const w = createInflux2Writer({ url: cap.url, org: '安心 org', bucket: 'telemetry', token: 's3cret' }, batching);
    w.write([awkward, { measurement: 'device', time: new Date(T.getTime() + 1), tags: { device: '860000000000001', protocol: 'watch' }, fields: { battery: 80, signal: 4 } }]);
    await w.flush();
    await w.close();
    expect(cap.requests).toHaveLength(1);
    const r = cap.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url.pathname).toBe('/api/v2/write');
    expect(Object.fromEntries(r.url.searchParams)).toEqual({ org: '安心 org', bucket: 'telemetry', precision: 'ms' });
    expect(r.headers.authorization).toBe('Token s3cret');
    expect(r.body.split('\n')).toEqual([
      'position,device=张\\ 三\\,x\\=y,elder=42,protocol=mqtt-json lat=31.2,lon=121.4,satellites=7,source="say \\"hi\\" \\\\ there",valid=T 1767225600000',
      'device,device=860000000000001,protocol=watch battery=80,signal=4 1767225600001',
    ]);
  });

  it('gzips a body over 1000 bytes (Content-Encoding: gzip), as InfluxDB 2.x and 3.x accept', async () => {
    const w = createInflux2Writer({ url: cap.url, org: 'o', bucket: 'b', token: 't' }, batching);
    w.write(Array.from({ length: 20 }, (_, i) => ({ ...awkward, time: new Date(T.getTime() + i) })));
    await w.flush();
    await w.close();
    expect(cap.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(cap.requests[0]!.body.split('\n')).toHaveLength(20);
  });

  it('keeps the batch when the server refuses, and sends it again once it accepts', async () => {
    const w = createInflux2Writer({ url: cap.url, org: 'o', bucket: 'b', token: 't' }, batching);
    cap.status.code = 503;
    w.write([awkward]);
    await w.flush();
    expect(w.stats()).toMatchObject({ buffered: 1, failing: true, written: 0 });
    cap.status.code = 204;
    await w.flush();
    expect(w.stats()).toMatchObject({ buffered: 0, failing: false, written: 1 });
    expect(cap.requests.map((r) => r.body)).toEqual([cap.requests[0]!.body, cap.requests[0]!.body]);
    await w.close();
  });

  it('reads with InfluxQL on /query?db=<bucket>&epoch=ms, with the token', async () => {
    cap.status.code = 200;
    await createInflux2Query({ url: cap.url, org: 'o', bucket: 'telemetry', token: 's3cret' })
      .lastPositions()
      .catch(() => undefined); // the capture server's empty body is not JSON; the request is what we check
    const r = cap.requests[0]!;
    expect(r.url.pathname).toBe('/query');
    expect(r.headers.authorization).toBe('Token s3cret');
    expect(Object.fromEntries(r.url.searchParams)).toEqual({ db: 'telemetry', epoch: 'ms', q: 'SELECT * FROM "position" GROUP BY "device" ORDER BY time DESC LIMIT 1' });
  });
});

describe('InfluxDB 1.x writer', () => {
  it('POSTs /write?db=&rp=&precision=ms with tags escaped and field strings quoted', async () => {
    const w = createInflux1Writer({ url: cap.url, database: 'anxin', retentionPolicy: 'two weeks' }, batching);
    w.write([awkward]);
    await w.flush();
    await w.close();
    const r = cap.requests[0]!;
    expect(r.url.pathname).toBe('/write');
    expect(Object.fromEntries(r.url.searchParams)).toEqual({ db: 'anxin', rp: 'two weeks', precision: 'ms' });
    expect(r.headers.authorization).toBeUndefined(); // no user configured: no made-up root:root
    expect(r.body).toBe('position,device=张\\ 三\\,x\\=y,elder=42,protocol=mqtt-json lat=31.2,lon=121.4,satellites=7,source="say \\"hi\\" \\\\ there",valid=true 1767225600000');
  });

  it('sends Basic auth when a user is configured', async () => {
    const w = createInflux1Writer({ url: cap.url, database: 'anxin', username: 'gw', password: 'pw' }, batching);
    w.write([awkward]);
    await w.flush();
    await w.close();
    expect(cap.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('gw:pw').toString('base64')}`);
  });
});

describe('line protocol', () => {
  it('escapes each part by its own rules and writes numbers as floats, time in ms', () => {
    const p: TelemetryPoint = { measurement: 'my pos,x' as TelemetryPoint['measurement'], time: T, tags: { device: 'd=1', protocol: 'watch' }, fields: { 'a b': 1.5, 'c=d': -2, ok: false, note: 'back\\slash "q"' } };
    expect(toLine(p)).toBe('my\\ pos\\,x,device=d\\=1,protocol=watch a\\ b=1.5,c\\=d=-2,ok=false,note="back\\\\slash \\"q\\"" 1767225600000');
    expect(toFlatLine(p)).toBe(toLine(p)); // the form the 1.x writer buffers: the same line
  });

  it('leaves out non-finite numbers, and a point with no field left', () => {
    expect(toLine({ measurement: 'health', time: T, tags: { device: 'd', protocol: 'p' }, fields: { heartRate: Number.NaN, steps: 5 } })).toBe('health,device=d,protocol=p steps=5 1767225600000');
    expect(toLine({ measurement: 'health', time: T, tags: { device: 'd', protocol: 'p' }, fields: { heartRate: Number.POSITIVE_INFINITY } })).toBeNull();
    expect(toFlatLine({ measurement: 'health', time: T, tags: { device: 'd', protocol: 'p' }, fields: { heartRate: Number.POSITIVE_INFINITY } })).toBeNull();
    expect(toLines([{ measurement: 'health', time: T, tags: { device: 'd', protocol: 'p' }, fields: {} }, awkward]).split('\n')).toHaveLength(1);
  });

  it('1.x: an error answer keeps the batch and carries the status', async () => {
    const w = createInflux1Writer({ url: cap.url, database: 'fresh' }, batching);
    cap.status.code = 404;
    w.write([awkward]);
    await w.flush();
    expect(w.stats()).toMatchObject({ buffered: 1, failing: true, written: 0 });
    expect(w.stats().lastError).toMatch(/^InfluxDB \/write answered 404/);
    await w.close();
  });
});

describe('tags line protocol cannot carry', () => {
  it('turns line breaks into spaces, drops a trailing backslash and leaves out empty tags, sorted by key', () => {
    expect(lineSafeTags({ protocol: 'watch', device: 'a\r\nb\\\\', elder: '' })).toEqual({ device: 'a b', protocol: 'watch' });
    expect(Object.keys(lineSafeTags({ protocol: 'p', elder: '1', device: 'd' }))).toEqual(['device', 'elder', 'protocol']);
  });
});

describe('InfluxQL', () => {
  it('escapes string literals and identifiers, the backslash included', () => {
    expect(lit("it's")).toBe("'it\\'s'");
    expect(lit('ends\\')).toBe("'ends\\\\'");
    expect(lit("x' OR '1'='1")).toBe("'x\\' OR \\'1\\'=\\'1'");
    expect(ident('heartRate')).toBe('"heartRate"');
  });

  it('builds the three dashboard queries', () => {
    const w = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z'), limit: 50 };
    expect(lastPositionsQuery('"position"', ['a', "b'"])).toBe(`SELECT * FROM "position" WHERE "device" = 'a' OR "device" = 'b\\'' GROUP BY "device" ORDER BY time DESC LIMIT 1`);
    expect(trackQuery('"anxin"."week"."position"', 7, w)).toBe(
      `SELECT * FROM "anxin"."week"."position" WHERE "elder" = '7' AND time >= '2026-01-01T00:00:00.000Z' AND time <= '2026-01-02T00:00:00.000Z' ORDER BY time ASC LIMIT 50`,
    );
    expect(vitalsQuery('"health"', 7, { ...w, field: 'heartRate' })).toMatch(/^SELECT "heartRate", "device", "elder" FROM "health" WHERE "elder" = '7' AND /);
  });

  it('parses grouped and ungrouped answers, dropping nulls and 3.x metadata columns', () => {
    const rows = parseRows({
      results: [
        {
          statement_id: 0,
          series: [
            { name: 'position', tags: { device: 'd1' }, columns: ['time', 'elder', 'lat', 'protocol', 'speed', 'iox::measurement'], values: [[1000, '5', 31.2, 'watch', null, 'position']] },
            { name: 'position', tags: { device: 'd2' }, columns: ['time', 'elder', 'lat', 'protocol', 'speed'], values: [[2000, null, 30, 'gt06', 3]] },
          ],
        },
      ],
    });
    expect(rows).toEqual([
      { time: new Date(1000), device: 'd1', elderId: 5, fields: { lat: 31.2 } },
      { time: new Date(2000), device: 'd2', elderId: null, fields: { lat: 30, speed: 3 } },
    ]);
    expect(parseRows({ results: [{ statement_id: 0 }] })).toEqual([]);
    expect(() => parseRows({ results: [{ error: 'database not found: x' }] })).toThrow(/database not found/);
  });
});
