import type { Db } from '../db.js';
import { BatchingWriter, type BatchingOptions } from './batching.js';
import { VITAL_FIELDS, type SeriesWindow, type TelemetryPoint, type TelemetryQuery, type TelemetryRow, type TimeWindow, type VitalsSeries, type VitalStat } from './types.js';

/** The embedded default: telemetry rows in PostgreSQL's `telemetry` table, one multi-row INSERT per batch. */
export function createPgTelemetryWriter(db: Db, o: Omit<BatchingOptions, 'maxBatch'> & { maxBatch?: number }): BatchingWriter {
  return new BatchingWriter(
    'postgres',
    async (batch: TelemetryPoint[]) => {
      await db.query(
        `INSERT INTO telemetry (time, measurement, device, elder_id, protocol, fields)
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::jsonb[])`,
        [
          batch.map((p) => p.time),
          batch.map((p) => p.measurement),
          batch.map((p) => p.tags.device),
          batch.map((p) => (p.tags.elder ? Number(p.tags.elder) : null)),
          batch.map((p) => p.tags.protocol),
          batch.map((p) => JSON.stringify(p.fields)),
        ],
      );
    },
    { maxBatch: 1000, ...o },
  );
}

/** The dashboard's reads in SQL, served by the telemetry table's (device|elder_id, measurement, time DESC) indexes. */
export function createPgTelemetryQuery(db: Db): TelemetryQuery {
  return {
    async lastPositions(devices) {
      const r = await db.query(
        `SELECT DISTINCT ON (device) time, device, elder_id, fields FROM telemetry
         WHERE measurement = 'position' ${devices?.length ? 'AND device = ANY($1)' : ''} ORDER BY device, time DESC`,
        devices?.length ? [devices] : [],
      );
      return r.rows.map(toRow);
    },
    track: (elderId, w) => series(db, 'position', elderId, w),
    vitals: (elderId, w) => series(db, 'health', elderId, w, w.field),
    vitalsSeries: (elderId, w) => vitalsSeries(db, elderId, w),
  };
}

/** A field as a number; a point whose field is not a number (never written so, but jsonb allows it) is not counted. */
const num = (f: string) => `CASE WHEN jsonb_typeof(fields -> '${f}') = 'number' THEN (fields ->> '${f}')::float8 END`;

/**
 * The buckets with date_bin (the same boundaries as InfluxQL's GROUP BY time(every, offset)) and each field's newest
 * reading, one index lookup per field (telemetry_elder_time). Field names come from VITAL_FIELDS, never from a request.
 */
async function vitalsSeries(db: Db, elderId: number, w: SeriesWindow): Promise<VitalsSeries> {
  const cols = VITAL_FIELDS.map((f) => `min(${num(f)}) AS "${f}_min", avg(${num(f)}) AS "${f}_avg", max(${num(f)}) AS "${f}_max", count(${num(f)})::int AS "${f}_count"`);
  const params = [elderId, w.from, w.to];
  const [b, l] = await Promise.all([
    db.query(
      `SELECT date_bin(make_interval(secs => $4), time, to_timestamp($5)) AS time, ${cols.join(', ')}
       FROM telemetry WHERE measurement = 'health' AND elder_id = $1 AND time >= $2 AND time <= $3
       GROUP BY 1 ORDER BY 1`,
      [...params, w.everyS, w.offsetS],
    ),
    db.query(
      `SELECT f AS field, l.time, l.value FROM unnest($4::text[]) AS f
       CROSS JOIN LATERAL (
         SELECT time, (fields ->> f)::float8 AS value FROM telemetry
         WHERE measurement = 'health' AND elder_id = $1 AND time >= $2 AND time <= $3 AND jsonb_typeof(fields -> f) = 'number'
         ORDER BY time DESC LIMIT 1
       ) l`,
      [...params, [...VITAL_FIELDS]],
    ),
  ]);
  const out: VitalsSeries = { buckets: [], latest: {} };
  for (const r of b.rows as Record<string, number | Date | null>[]) {
    const fields: VitalsSeries['buckets'][number]['fields'] = {};
    for (const f of VITAL_FIELDS) {
      if (!r[`${f}_count`]) continue;
      fields[f] = { min: r[`${f}_min`], avg: r[`${f}_avg`], max: r[`${f}_max`], count: r[`${f}_count`] } as VitalStat;
    }
    out.buckets.push({ time: r.time as Date, fields });
  }
  for (const r of l.rows as { field: (typeof VITAL_FIELDS)[number]; time: Date; value: number }[]) out.latest[r.field] = { time: r.time, value: r.value };
  return out;
}

/** With a field, only points that carry it, and only that field (as the InfluxQL SELECT of one field does). */
async function series(db: Db, measurement: string, elderId: number, w: TimeWindow, field?: string): Promise<TelemetryRow[]> {
  const r = await db.query(
    `SELECT time, device, elder_id, CASE WHEN $6::text IS NULL THEN fields ELSE jsonb_build_object($6::text, fields -> $6::text) END AS fields
     FROM telemetry
     WHERE measurement = $1 AND elder_id = $2 AND time >= $3 AND time <= $4 AND ($6::text IS NULL OR fields ? $6::text)
     ORDER BY time LIMIT $5`,
    [measurement, elderId, w.from, w.to, w.limit, field ?? null],
  );
  return r.rows.map(toRow);
}

const toRow = (r: { time: Date; device: string; elder_id: number | null; fields: TelemetryRow['fields'] }): TelemetryRow => ({
  time: r.time,
  device: r.device,
  elderId: r.elder_id,
  fields: r.fields,
});
