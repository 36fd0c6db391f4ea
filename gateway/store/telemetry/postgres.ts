import type { Db } from '../db.js';
import { BatchingWriter, type BatchingOptions } from './batching.js';
import type { TelemetryPoint } from './types.js';

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

export async function lastPositions(db: Db, devices?: string[]): Promise<{ device: string; time: Date; fields: Record<string, unknown> }[]> {
  const r = await db.query(
    `SELECT DISTINCT ON (device) device, time, fields FROM telemetry
     WHERE measurement = 'position' ${devices ? 'AND device = ANY($1)' : ''} ORDER BY device, time DESC`,
    devices ? [devices] : [],
  );
  return r.rows;
}

export async function series(db: Db, f: { measurement: string; elderId?: number; device?: string; from: Date; to: Date; limit: number }): Promise<{ time: Date; device: string; fields: Record<string, unknown> }[]> {
  const p: unknown[] = [f.measurement, f.from, f.to, f.limit];
  const who = f.device ? `device = $${p.push(f.device)}` : `elder_id = $${p.push(f.elderId)}`;
  const r = await db.query(
    `SELECT time, device, fields FROM telemetry WHERE measurement = $1 AND ${who} AND time >= $2 AND time <= $3 ORDER BY time LIMIT $4`,
    p,
  );
  return r.rows;
}
