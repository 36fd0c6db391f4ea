/**
 * Picks the telemetry backend: InfluxDB when INFLUX_URL is set (1.x or 2.x/3.x API by INFLUX_API),
 * otherwise the PostgreSQL table (the embedded default). One writer and one query per backend.
 */
import type { Config } from '../../config.js';
import type { Db } from '../db.js';
import type { BatchingOptions } from './batching.js';
import { createInflux1Query, createInflux1Writer } from './influx1.js';
import { createInflux2Query, createInflux2Writer } from './influx2.js';
import { createPgTelemetryQuery, createPgTelemetryWriter } from './postgres.js';
import type { TelemetryQuery, TelemetryWriter } from './types.js';

export type TelemetryConfig = Pick<
  Config,
  'influxUrl' | 'influxApi' | 'influxDatabase' | 'influxRetentionPolicy' | 'influxUsername' | 'influxPassword' | 'influxOrg' | 'influxBucket' | 'influxToken' | 'telemetryBatchSize' | 'telemetryFlushMs' | 'telemetryMaxBuffer'
>;

export interface TelemetryStore {
  writer: TelemetryWriter;
  query: TelemetryQuery;
  /** for the start-up summary: which backend and where (no credentials) */
  describe: string;
}

/** hooks: metric callbacks; the writer's name is passed so the labels match the backend. */
export function createTelemetryStore(
  cfg: TelemetryConfig,
  db: Db,
  hooks: (writer: string) => Pick<BatchingOptions, 'onBatch' | 'onDrop' | 'onDepth' | 'onRefused'>,
  warn: (message: string) => void = () => undefined,
): TelemetryStore {
  const batching = (writer: string) => ({ maxBatch: cfg.telemetryBatchSize, flushMs: cfg.telemetryFlushMs, maxBuffer: cfg.telemetryMaxBuffer, ...logged(hooks(writer), cfg.telemetryMaxBuffer, warn) });
  if (!cfg.influxUrl) {
    return { writer: createPgTelemetryWriter(db, batching('postgres')), query: createPgTelemetryQuery(db), describe: 'postgres   (no INFLUX_URL set)' };
  }
  const where = safeUrl(cfg.influxUrl);
  if (cfg.influxApi === '2') {
    const o = { url: cfg.influxUrl, org: cfg.influxOrg ?? '', bucket: cfg.influxBucket ?? '', token: cfg.influxToken ?? '', warn };
    return { writer: createInflux2Writer(o, batching('influxdb2')), query: createInflux2Query(o), describe: `influxdb2  ${where}  (2.x/3.x API, bucket ${o.bucket})` };
  }
  const o = { url: cfg.influxUrl, database: cfg.influxDatabase, retentionPolicy: cfg.influxRetentionPolicy, username: cfg.influxUsername, password: cfg.influxPassword };
  const rp = o.retentionPolicy ? `, retention policy ${o.retentionPolicy}` : '';
  return { writer: createInflux1Writer(o, batching('influxdb1')), query: createInflux1Query(o), describe: `influxdb1  ${where}  (1.x API, database ${o.database}${rp})` };
}

/** One log line when writes start failing, when shedding starts, and when writes recover; not one per batch. */
function logged(h: Pick<BatchingOptions, 'onBatch' | 'onDrop' | 'onDepth' | 'onRefused'>, bound: number, warn: (m: string) => void): typeof h {
  let failing = false;
  let shedding = false;
  return {
    ...h,
    onBatch: (result, size, ms, error) => {
      h.onBatch?.(result, size, ms, error);
      if ((result === 'error') === failing) return;
      failing = result === 'error';
      if (failing) warn(`telemetry writes are failing (${error ?? 'unknown error'}); points wait in memory (at most ${bound}) and are retried, points the store refuses for good are split out of their batch, dropped and counted`);
      else warn(`telemetry writes recovered${shedding ? '; some points were dropped (anxin_telemetry_dropped_total)' : ''}`);
      if (!failing) shedding = false;
    },
    onDrop: (n) => {
      h.onDrop?.(n);
      if (shedding) return;
      shedding = true;
      warn('telemetry buffer full: dropping the oldest points (counted in anxin_telemetry_dropped_total)');
    },
  };
}

function safeUrl(u: string): string {
  try {
    const x = new URL(u);
    x.username = '';
    x.password = '';
    return x.origin + (x.pathname === '/' ? '' : x.pathname);
  } catch {
    return '(unparseable)';
  }
}
