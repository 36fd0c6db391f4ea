/**
 * A real influxd with a tiny max-values-per-tag: a point the server refuses for good (400, partial write) is
 * split out of its batch, dropped and counted instead of retried forever; the rest of the batch and the points
 * after it are still written.
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
  it('drops and counts the refused point, says why, and writes the rest and the next batch', async () => {
    const errors: string[] = [];
    const refused: [number, string][] = [];
    const w = createInflux1Writer({ url: influx.url, database: 'limits' }, { flushMs: 60_000, maxBuffer: 1000, onBatch: (r, _n, _ms, e) => r === 'error' && errors.push(e ?? ''), onRefused: (n, r) => refused.push([n, r]) });
    await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE limits')}`, { method: 'POST' });
    const t = Date.now() - 60_000;
    w.write([point('d1', t), point('d2', t)]);
    await w.flush();
    expect(w.stats()).toMatchObject({ written: 2, dropped: 0 });
    w.write([point('d3', t + 1), point('d1', t + 1)]); // a third value of the tag `device`: refused (partial write)
    await w.flush();
    expect(w.stats()).toMatchObject({ buffered: 0, written: 3, refused: 1, dropped: 0, failing: true });
    expect(errors[0]).toMatch(/400.*max-values-per-tag/);
    expect(refused).toEqual([[1, 'max_values_per_tag']]);
    w.write([point('d1', t + 2), point('d2', t + 2)]);
    await w.flush();
    expect(w.stats()).toMatchObject({ buffered: 0, written: 5, refused: 1, dropped: 0, failing: false });
    // d1 of the refused batch was written (1.x's partial write had kept it too; the rewrite is idempotent): 2 + 1 + 2
    const r = await influxql(influx.url, 'SELECT count("battery") FROM "device"', 'limits');
    expect(r.results[0]!.series![0]!.values[0]![1]).toBe(5);
    await w.close();
  });
});
