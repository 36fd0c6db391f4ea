/**
 * A real influxd with a tiny max-values-per-tag: a batch the server refuses for good (400, partial write) is
 * dropped and counted instead of retried forever, and the points after it are still written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInflux1Writer } from '../../gateway/store/telemetry/influx1.js';
import type { TelemetryPoint } from '../../gateway/store/telemetry/types.js';
import { influxql } from '../helpers/influx-http.js';
import { influxAvailable, startInfluxd, type Influxd } from '../../testkit/influxd.js';

const HAS_INFLUXD = influxAvailable({ ownServer: true });
let influx: Influxd;

beforeAll(async () => {
  if (HAS_INFLUXD) influx = await startInfluxd({ maxValuesPerTag: 2 });
}, 60_000);
afterAll(async () => influx?.destroy());

const point = (device: string, t: number): TelemetryPoint => ({ measurement: 'device', time: new Date(t), tags: { device, protocol: 'watch' }, fields: { battery: 50 } });

describe.skipIf(!HAS_INFLUXD)('InfluxDB 1.x refusing a batch for good', () => {
  it('drops and counts the refused batch, says why, and writes the next one', async () => {
    const errors: string[] = [];
    const w = createInflux1Writer({ url: influx.url, database: 'limits' }, { flushMs: 60_000, maxBuffer: 1000, onBatch: (r, _n, _ms, e) => r === 'error' && errors.push(e ?? '') });
    await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE limits')}`, { method: 'POST' });
    const t = Date.now() - 60_000;
    w.write([point('d1', t), point('d2', t)]);
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 2, dropped: 0 });
    w.write([point('d3', t + 1), point('d1', t + 1)]); // a third value of the tag `device`: refused (partial write)
    await w.flush();
    expect(w.stats()).toMatchObject({ buffered: 0, written: 2, dropped: 2, failing: true });
    expect(errors[0]).toMatch(/400.*max-values-per-tag/);
    w.write([point('d1', t + 2), point('d2', t + 2)]);
    await w.flush();
    expect(w.stats()).toMatchObject({ buffered: 0, written: 4, dropped: 2, failing: false });
    // d1 of the refused batch was kept by the partial write: 2 + 1 + 2
    const r = await influxql(influx.url, 'SELECT count("battery") FROM "device"', 'limits');
    expect(r.results[0]!.series![0]!.values[0]![1]).toBe(5);
    await w.close();
  });
});
