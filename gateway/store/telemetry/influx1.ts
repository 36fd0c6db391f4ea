/**
 * Telemetry through the InfluxDB 1.x API: POST /write?db=&rp=&precision=ms with our own line protocol (line.ts), reads
 * as InfluxQL over /query with the `influx` package. Numbers are written as floats on purpose, so the 2.x/3.x writer
 * and this one agree on field types.
 */
import { InfluxDB } from 'influx';
import { BatchingWriter, RejectedBatch, type BatchingOptions } from './batching.js';
import { from, lastPositionsQuery, parseRows, parseVitalsSeries, trackQuery, vitalsQuery, vitalsSeriesQuery, type QueryResponse } from './influxql.js';
import { toFlatLine } from './line.js';
import type { TelemetryQuery } from './types.js';

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

/** POST /write?db=&rp=&precision=ms (InfluxDB 1.x HTTP API); resolves on 204, throws with the server's words otherwise. */
function lineWriter(o: Influx1Options): (body: string) => Promise<void> {
  const u = new URL(o.url);
  const user = o.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const password = o.password ?? (u.password ? decodeURIComponent(u.password) : '');
  const target = new URL(`${u.pathname.replace(/\/+$/, '')}/write`, `${u.protocol}//${u.host}`);
  target.searchParams.set('db', o.database);
  if (o.retentionPolicy) target.searchParams.set('rp', o.retentionPolicy);
  target.searchParams.set('precision', 'ms');
  // Basic auth only with a user: the `influx` package would otherwise have sent root:root
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (user !== undefined) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return async (body) => {
    const r = await fetch(target, { method: 'POST', headers, body, signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
    if (r.status === 204 || r.status === 200) {
      await r.body?.cancel();
      return;
    }
    const text = `InfluxDB /write answered ${r.status}: ${(await r.text()).slice(0, 300)}`;
    // 400 bad data or a partial write (the rest was refused, e.g. max-values-per-tag), 413 too large: for good.
    // 404 (no database yet), 401/403 (credentials), 429 and 5xx may pass later: kept and retried.
    if (r.status === 400 || r.status === 413 || r.status === 422) throw new RejectedBatch(text);
    throw new Error(text);
  };
}

/** Points are buffered as their lines (BatchingWriter's `encode`): a batch is joined into the request body. */
export function createInflux1Writer(o: Influx1Options, b: Omit<BatchingOptions, 'maxBatch'> & { maxBatch?: number }): BatchingWriter<string> {
  const influx = createInflux1Client(o);
  const write = lineWriter(o);
  return new BatchingWriter<string>(
    'influxdb1',
    async (lines) => {
      try {
        await write(lines.join('\n'));
      } catch (e) {
        // A fresh server has no database yet: create it (idempotent), and let the retry write the batch.
        if (/database not found/i.test((e as Error).message)) await influx.createDatabase(o.database).catch(() => undefined);
        throw e;
      }
    },
    { maxBatch: 1000, ...b },
    toFlatLine,
  );
}

export function createInflux1Query(o: Influx1Options): TelemetryQuery {
  const influx = createInflux1Client(o);
  const raw = async (text: string) => (await influx.queryRaw(text, { database: o.database, precision: 'ms' })) as QueryResponse;
  const q = async (text: string) => parseRows(await raw(text));
  const src = (m: string) => from(m, o);
  return {
    lastPositions: (devices) => q(lastPositionsQuery(src('position'), devices)),
    track: (elderId, w) => q(trackQuery(src('position'), elderId, w)),
    vitals: (elderId, w) => q(vitalsQuery(src('health'), elderId, w)),
    vitalsSeries: async (elderId, w) => parseVitalsSeries(await raw(vitalsSeriesQuery(src('health'), elderId, w))),
  };
}
