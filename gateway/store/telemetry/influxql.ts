/**
 * The dashboard's reads as InfluxQL, shared by the 1.x and the 2.x/3.x backends: both serve InfluxQL on
 * /query (2.x through its bucket's DBRP mapping, 3.x natively). Builders and the result parser are pure.
 */
import type { TelemetryRow, TimeWindow, VitalField } from './types.js';

/** A string literal: InfluxQL escapes the quote and the backslash (the `influx` package forgets the latter). */
export const lit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** A double-quoted identifier (field names such as heartRate are case-sensitive). */
export const ident = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** `"db"."rp"."m"` when a retention policy is named; otherwise the database's default policy is read. */
export function from(measurement: string, db?: { database: string; retentionPolicy?: string }): string {
  return db?.retentionPolicy ? `${ident(db.database)}.${ident(db.retentionPolicy)}.${ident(measurement)}` : ident(measurement);
}

const window = (w: TimeWindow) => `time >= ${lit(w.from.toISOString())} AND time <= ${lit(w.to.toISOString())}`;

export function lastPositionsQuery(src: string, devices?: string[]): string {
  const where = devices?.length ? ` WHERE ${devices.map((d) => `"device" = ${lit(d)}`).join(' OR ')}` : '';
  return `SELECT * FROM ${src}${where} GROUP BY "device" ORDER BY time DESC LIMIT 1`;
}

export function trackQuery(src: string, elderId: number, w: TimeWindow): string {
  return `SELECT * FROM ${src} WHERE "elder" = ${lit(String(elderId))} AND ${window(w)} ORDER BY time ASC LIMIT ${w.limit}`;
}

/** With a field, selecting only it returns only the points that carry it. */
export function vitalsQuery(src: string, elderId: number, w: TimeWindow & { field?: VitalField }): string {
  const cols = w.field ? `${ident(w.field)}, "device", "elder"` : '*';
  return `SELECT ${cols} FROM ${src} WHERE "elder" = ${lit(String(elderId))} AND ${window(w)} ORDER BY time ASC LIMIT ${w.limit}`;
}

interface Series {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}
export interface QueryResponse {
  results?: { statement_id?: number; error?: string; series?: Series[] }[];
  error?: string;
}

const TAGS = new Set(['device', 'elder', 'protocol']);

/**
 * Rows from a /query answer asked with epoch=ms. Tags come either as series tags (GROUP BY) or as
 * columns (SELECT *); null columns (fields a point lacks) are left out. Columns with `::` are
 * InfluxDB 3's own metadata (e.g. iox::measurement), not our fields.
 */
export function parseRows(res: QueryResponse): TelemetryRow[] {
  const err = res.error ?? res.results?.find((r) => r.error)?.error;
  if (err) throw new Error(`InfluxDB query failed: ${err}`);
  const out: TelemetryRow[] = [];
  for (const s of res.results?.flatMap((r) => r.series ?? []) ?? []) {
    for (const v of s.values) {
      const tags: Record<string, string> = { ...s.tags };
      const fields: TelemetryRow['fields'] = {};
      let time = 0;
      s.columns.forEach((c, i) => {
        const x = v[i];
        if (x === null || x === undefined || c.includes('::')) return;
        if (c === 'time') time = typeof x === 'number' ? x : Date.parse(String(x));
        else if (TAGS.has(c)) tags[c] = String(x);
        else if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string') fields[c] = x;
      });
      out.push({ time: new Date(time), device: tags.device ?? '', elderId: tags.elder ? Number(tags.elder) : null, fields });
    }
  }
  return out;
}
