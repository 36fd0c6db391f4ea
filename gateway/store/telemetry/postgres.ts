import type { Db } from '../db.js';
import { BatchingWriter, type BatchingOptions } from './batching.js';
import type { TelemetryPoint, TelemetryQuery, TelemetryRow, TimeWindow } from './types.js';

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
  };
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
