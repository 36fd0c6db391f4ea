/**
 * Telemetry through the InfluxDB 1.x API (`influx` package): POST /write?db=&rp=&precision=ms, reads as InfluxQL
 * over /query. Numbers are written as floats on purpose, so the 2.x/3.x writer and this one agree on field types.
 */
import { InfluxDB, type IPoint } from 'influx';
import { BatchingWriter, type BatchingOptions } from './batching.js';
import { from, lastPositionsQuery, parseRows, trackQuery, vitalsQuery, type QueryResponse } from './influxql.js';
import { lineSafeTags, type TelemetryPoint, type TelemetryQuery } from './types.js';

export interface Influx1Options {
  url: string;
  database: string;
  retentionPolicy?: string;
  username?: string;
  password?: string;
  /** per request; a hung server must not hold a batch forever */
  timeoutMs?: number;
}

/** The pool's own host backoff would stack on BatchingWriter's; a zero delay keeps the one host always eligible. */
const NO_BACKOFF = { getDelay: () => 0, next: () => NO_BACKOFF, reset: () => NO_BACKOFF };

export function createInflux1Client(o: Influx1Options): InfluxDB {
  const u = new URL(o.url);
  return new InfluxDB({
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
    protocol: u.protocol === 'https:' ? 'https' : 'http',
    path: u.pathname === '/' ? undefined : u.pathname,
    database: o.database,
    // user:password in the URL works too; INFLUX_USERNAME/INFLUX_PASSWORD win. Without a user, null: the
    // package would otherwise fill in root:root and send it as Basic auth.
    username: o.username ?? (u.username ? decodeURIComponent(u.username) : (null as unknown as string)),
    password: o.password ?? (u.password ? decodeURIComponent(u.password) : (null as unknown as string)),
    pool: { maxRetries: 0, requestTimeout: o.timeoutMs ?? 10_000, backoff: NO_BACKOFF },
  });
}

export function toInflux1Point(p: TelemetryPoint): IPoint {
  return { measurement: p.measurement, tags: lineSafeTags(p.tags), fields: p.fields, timestamp: p.time };
}

export function createInflux1Writer(o: Influx1Options, b: Omit<BatchingOptions, 'maxBatch'> & { maxBatch?: number }): BatchingWriter {
  const influx = createInflux1Client(o);
  return new BatchingWriter(
    'influxdb1',
    async (batch) => {
      try {
        await influx.writePoints(batch.map(toInflux1Point), { precision: 'ms', retentionPolicy: o.retentionPolicy });
      } catch (e) {
        // A fresh server has no database yet: create it (idempotent), and let the retry write the batch.
        if (/database not found/i.test((e as Error).message)) await influx.createDatabase(o.database).catch(() => undefined);
        throw e;
      }
    },
    { maxBatch: 1000, ...b },
  );
}

export function createInflux1Query(o: Influx1Options): TelemetryQuery {
  const influx = createInflux1Client(o);
  const q = async (text: string) => parseRows((await influx.queryRaw(text, { database: o.database, precision: 'ms' })) as QueryResponse);
  const src = (m: string) => from(m, o);
  return {
    lastPositions: (devices) => q(lastPositionsQuery(src('position'), devices)),
    track: (elderId, w) => q(trackQuery(src('position'), elderId, w)),
    vitals: (elderId, w) => q(vitalsQuery(src('health'), elderId, w)),
  };
}
