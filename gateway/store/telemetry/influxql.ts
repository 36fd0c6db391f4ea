/**
 * The dashboard's reads as InfluxQL, shared by the 1.x and the 2.x/3.x backends: both serve InfluxQL on
 * /query (2.x through its bucket's DBRP mapping, 3.x natively). Builders and the result parser are pure.
 */
import { VITAL_FIELDS, type SeriesWindow, type TelemetryRow, type TimeWindow, type VitalField, type VitalStat, type VitalsSeries } from './types.js';

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

const STATS = [['min', 'min'], ['avg', 'mean'], ['max', 'max'], ['count', 'count']] as const;

/**
 * Statement 0: min, mean, max and count of every vital per bucket (InfluxDB aggregates; empty buckets left out);
 * statements 1…n: the newest reading of each field (one last() per statement, so each keeps its own time).
 * The offset is taken modulo the bucket, as GROUP BY time() wants it.
 */
export function vitalsSeriesQuery(src: string, elderId: number, w: SeriesWindow): string {
  const where = `"elder" = ${lit(String(elderId))} AND time >= ${lit(w.from.toISOString())} AND time <= ${lit(w.to.toISOString())}`;
  const offset = ((w.offsetS % w.everyS) + w.everyS) % w.everyS;
  const cols = VITAL_FIELDS.flatMap((f) => STATS.map(([name, fn]) => `${fn}(${ident(f)}) AS ${ident(`${f}_${name}`)}`));
  const series = `SELECT ${cols.join(', ')} FROM ${src} WHERE ${where} GROUP BY time(${w.everyS}s, ${offset}s) fill(none)`;
  const latest = VITAL_FIELDS.map((f) => `SELECT last(${ident(f)}) AS "value" FROM ${src} WHERE ${where}`);
  return [series, ...latest].join('; ');
}

/** The answer to vitalsSeriesQuery, asked with epoch=ms. */
export function parseVitalsSeries(res: QueryResponse): VitalsSeries {
  const err = res.error ?? res.results?.find((r) => r.error)?.error;
  if (err) throw new Error(`InfluxDB query failed: ${err}`);
  const results = res.results ?? [];
  const statement = (i: number) => results.find((r, at) => (r.statement_id ?? at) === i)?.series?.[0];
  const out: VitalsSeries = { buckets: [], latest: {} };
  const s = statement(0);
  if (s) {
    const col = new Map(s.columns.map((c, i) => [c, i]));
    for (const v of s.values) {
      const fields: VitalsSeries['buckets'][number]['fields'] = {};
      for (const f of VITAL_FIELDS) {
        const stat = Object.fromEntries(STATS.map(([name]) => [name, v[col.get(`${f}_${name}`) ?? -1]]));
        if (typeof stat.min === 'number' && typeof stat.count === 'number' && stat.count > 0) fields[f] = stat as unknown as VitalStat;
      }
      out.buckets.push({ time: new Date(Number(v[col.get('time') ?? 0])), fields });
    }
  }
  VITAL_FIELDS.forEach((f, i) => {
    const row = statement(i + 1)?.values[0];
    if (row && typeof row[1] === 'number') out.latest[f] = { time: new Date(Number(row[0])), value: row[1] };
  });
  return out;
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
