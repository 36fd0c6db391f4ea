/**
 * Telemetry through the InfluxDB 2.x / 3.x API (`@influxdata/influxdb-client`): POST /api/v2/write?org=&bucket=&precision=ms
 * with `Authorization: Token …`. 3.x takes the bucket as its database and ignores org.
 * Reads are InfluxQL over /query?db=<bucket> (2.x maps the bucket through its DBRP mapping; 3.x serves it natively),
 * because Flux is gone in 3.x and SQL is not served by 2.x.
 */
import { InfluxDB, Point, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { BatchingWriter, RejectedBatch, type BatchingOptions } from './batching.js';
import { lastPositionsQuery, parseRows, parseVitalsSeries, trackQuery, vitalsQuery, vitalsSeriesQuery, type QueryResponse } from './influxql.js';
import { lineSafeTags, type TelemetryPoint, type TelemetryQuery } from './types.js';

export interface Influx2Options {
  url: string;
  org: string;
  bucket: string;
  token: string;
  timeoutMs?: number;
  /** where the client library's own messages go (it writes to the console otherwise) */
  warn?: (message: string) => void;
}

/** Numbers as floats, like the 1.x writer, so both APIs may feed one server without field type conflicts. */
export function toInflux2Point(p: TelemetryPoint): Point {
  const pt = new Point(p.measurement).timestamp(p.time);
  for (const [k, v] of Object.entries(lineSafeTags(p.tags))) pt.tag(k, v);
  for (const [k, v] of Object.entries(p.fields)) {
    if (typeof v === 'number') pt.floatField(k, v);
    else if (typeof v === 'boolean') pt.booleanField(k, v);
    else pt.stringField(k, v);
  }
  return pt;
}

export function createInflux2Writer(o: Influx2Options, b: Omit<BatchingOptions, 'maxBatch'> & { maxBatch?: number }): BatchingWriter {
  const maxBatch = b.maxBatch ?? 1000;
  const warn = o.warn ?? (() => undefined);
  setLogger({ error: (m, e) => warn(`${m} ${e?.message ?? ''}`), warn: (m, e) => warn(`${m} ${e?.message ?? ''}`) });
  // The client's batching, timer and retries are switched off: BatchingWriter owns them, and a failed
  // flush rejects (writeFailed returns the error) with the lines handed back to us, not kept for a hidden retry.
  const api: WriteApi = new InfluxDB({ url: o.url, token: o.token, timeout: o.timeoutMs ?? 10_000 }).getWriteApi(o.org, o.bucket, 'ms', {
    batchSize: maxBatch + 1,
    flushInterval: 0,
    maxRetries: 0,
    writeFailed: (e) => Promise.reject(e),
  });
  return new BatchingWriter(
    'influxdb2',
    async (batch) => {
      api.writePoints(batch.map(toInflux2Point));
      try {
        await api.flush();
      } catch (e) {
        // as the 1.x writer: bad data (400, 422) or too large (413) fails again, so it is refused for good
        const status = (e as { statusCode?: number }).statusCode;
        if (status === 400 || status === 413 || status === 422) throw new RejectedBatch(`InfluxDB write answered ${status}: ${(e as Error).message.slice(0, 300)}`);
        throw e;
      }
    },
    { ...b, maxBatch },
  );
}

export function createInflux2Query(o: Influx2Options): TelemetryQuery {
  const raw = async (text: string) => {
    const u = new URL('query', o.url.endsWith('/') ? o.url : `${o.url}/`);
    u.search = new URLSearchParams({ db: o.bucket, epoch: 'ms', q: text }).toString();
    const r = await fetch(u, { headers: { Authorization: `Token ${o.token}`, Accept: 'application/json' }, signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
    if (!r.ok) throw new Error(`InfluxDB /query answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
    return (await r.json()) as QueryResponse;
  };
  const q = async (text: string) => parseRows(await raw(text));
  return {
    lastPositions: (devices) => q(lastPositionsQuery('"position"', devices)),
    track: (elderId, w) => q(trackQuery('"position"', elderId, w)),
    vitals: (elderId, w) => q(vitalsQuery('"health"', elderId, w)),
    vitalsSeries: async (elderId, w) => parseVitalsSeries(await raw(vitalsSeriesQuery('"health"', elderId, w))),
  };
}
