/**
 * A real influxd refusing points inside a batch: one with a time outside InfluxDB's range (1.x: a partial
 * write that names the line), one whose field type conflicts with what is stored (1.x: the whole batch is
 * refused). The writer splits the batch until the bad point stands alone: every good point is stored, the bad
 * one is counted by reason, and nothing is left buffered.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInflux1Writer } from '../../gateway/store/telemetry/influx1.js';
import type { TelemetryPoint } from '../../gateway/store/telemetry/types.js';
import { influxql } from '../helpers/influx-http.js';
import { influxAvailable, sharedOrPrivateInfluxd } from '../../testkit/influxd.js';

const HAS_INFLUX = influxAvailable();
let url = '';
let stop = async () => undefined as void;

beforeAll(async () => {
  if (!HAS_INFLUX) return;
  const i = await sharedOrPrivateInfluxd();
  url = i.url;
  stop = () => i.destroy();
}, 60_000);
afterAll(async () => stop());

const T = Date.now() - 3_600_000;
const point = (n: number, time = new Date(T + n), battery: number | string = n): TelemetryPoint => ({ measurement: 'device', time, tags: { device: `d${n % 7}`, protocol: 'mqtt-json' }, fields: { battery } });

async function count(db: string): Promise<number> {
  const r = await influxql(url, 'SELECT count("battery") FROM "device"', db);
  return (r.results[0]!.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

describe.skipIf(!HAS_INFLUX)('InfluxDB refusing one point of a batch', () => {
  for (const c of [
    { name: 'a time outside its range', bad: (n: number) => point(n, new Date('9999-01-01T00:00:00Z')), reason: 'time_out_of_range' },
    { name: 'a field type conflict', bad: (n: number) => point(n, new Date(T + n), 'full'), reason: 'field_type_conflict' },
  ]) {
    it(`stores the good points and counts the bad one: ${c.name}`, async () => {
      const db = `anxin_r_${randomBytes(4).toString('hex')}`;
      await influxql(url, `CREATE DATABASE "${db}"`);
      const refused: [number, string][] = [];
      const w = createInflux1Writer({ url, database: db }, { maxBatch: 500, flushMs: 60_000, maxBuffer: 10_000, onRefused: (n, r) => refused.push([n, r]) });
      // the field's type is a float once stored: a string for it later conflicts
      w.write([point(0)]);
      await w.flush();
      const batch = Array.from({ length: 500 }, (_, i) => (i === 321 ? c.bad(1 + i) : point(1 + i)));
      w.write(batch);
      await w.flush();
      expect(w.stats()).toMatchObject({ buffered: 0, written: 500, refused: 1, dropped: 0 });
      expect(refused).toEqual([[1, c.reason]]);
      expect(await count(db)).toBe(500);
      await w.close();
      await influxql(url, `DROP DATABASE "${db}"`);
    });
  }
});
