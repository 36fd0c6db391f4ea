import type { Queryable } from './db.js';

export interface LastSeenRow {
  at: Date;
  battery?: number;
  signal?: number;
}

/**
 * Last seen, battery and signal of many devices in one UPDATE. last_seen never goes back; a row without battery or
 * signal keeps the stored value; a registered device that reports becomes active.
 */
export async function writeLastSeen(db: Queryable, rows: [number, LastSeenRow][]): Promise<void> {
  await db.query(
    `UPDATE devices d SET last_seen = GREATEST(COALESCE(d.last_seen, v.at), v.at),
       battery = COALESCE(v.battery, d.battery), signal = COALESCE(v.signal, d.signal),
       state = CASE WHEN d.state = 'registered' THEN 'active' ELSE d.state END
     FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[]) AS v(id, at, battery, signal) WHERE d.id = v.id`,
    [rows.map((r) => r[0]), rows.map((r) => r[1].at), rows.map((r) => r[1].battery ?? null), rows.map((r) => r[1].signal ?? null)],
  );
}
