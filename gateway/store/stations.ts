/** Service stations (服务站), their staff and the staff's duty rotas (排班): SQL only. */
import type { Queryable } from './db.js';
import { camel, setClause } from './rows.js';

export interface Station {
  id: number;
  name: string;
  area: string;
  lat: number | null;
  lon: number | null;
  phone: string | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface Staff {
  id: number;
  name: string;
  phone: string;
  skills: string[];
  stationId: number | null;
  userId: number | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** One shift; `start`/`end` are HH:MM local time (see workorders/rota.ts). */
export interface RotaRow {
  staffId: number;
  weekday: number | null;
  date: string | null;
  start: string;
  end: string;
}

const STATION_FIELDS = ['name', 'area', 'lat', 'lon', 'phone', 'active'] as const;
const STAFF_FIELDS = ['name', 'phone', 'skills', 'stationId', 'userId', 'active'] as const;
export type StationInput = Partial<Pick<Station, (typeof STATION_FIELDS)[number]>>;
export type StaffInput = Partial<Pick<Staff, (typeof STAFF_FIELDS)[number]>>;

export async function createStation(c: Queryable, s: StationInput & { name: string }): Promise<Station> {
  const r = await c.query('INSERT INTO stations (name, area, lat, lon, phone, active) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *', [
    s.name, s.area ?? '', s.lat ?? null, s.lon ?? null, s.phone ?? null, s.active ?? true,
  ]);
  return camel<Station>(r.rows[0]);
}

export async function updateStation(c: Queryable, id: number, patch: StationInput): Promise<Station | undefined> {
  const set = setClause(patch, STATION_FIELDS, 2);
  const r = await c.query(`UPDATE stations SET ${[set.sql, 'updated_at = now()'].filter(Boolean).join(', ')} WHERE id = $1 RETURNING *`, [id, ...set.values]);
  return r.rows[0] ? camel<Station>(r.rows[0]) : undefined;
}

export async function getStation(c: Queryable, id: number): Promise<Station | undefined> {
  const r = await c.query('SELECT * FROM stations WHERE id = $1', [id]);
  return r.rows[0] ? camel<Station>(r.rows[0]) : undefined;
}

export async function listStations(c: Queryable, f: { active?: boolean; area?: string } = {}): Promise<Station[]> {
  const where: string[] = [];
  const p: unknown[] = [];
  if (f.active !== undefined) where.push(`active = $${p.push(f.active)}`);
  if (f.area) where.push(`area = $${p.push(f.area)}`);
  const r = await c.query(`SELECT * FROM stations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name, id`, p);
  return r.rows.map((x) => camel<Station>(x));
}

/** Deletes a station; its staff stay, without a station. false = no such station. */
export async function deleteStation(c: Queryable, id: number): Promise<boolean> {
  const r = await c.query('DELETE FROM stations WHERE id = $1', [id]);
  return (r.rowCount ?? 0) > 0;
}

export async function createStaff(c: Queryable, s: StaffInput & { name: string; phone: string }): Promise<Staff> {
  const r = await c.query('INSERT INTO staff (name, phone, skills, station_id, user_id, active) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *', [
    s.name, s.phone, s.skills ?? [], s.stationId ?? null, s.userId ?? null, s.active ?? true,
  ]);
  return camel<Staff>(r.rows[0]);
}

export async function updateStaff(c: Queryable, id: number, patch: StaffInput): Promise<Staff | undefined> {
  const set = setClause(patch, STAFF_FIELDS, 2);
  const r = await c.query(`UPDATE staff SET ${[set.sql, 'updated_at = now()'].filter(Boolean).join(', ')} WHERE id = $1 RETURNING *`, [id, ...set.values]);
  return r.rows[0] ? camel<Staff>(r.rows[0]) : undefined;
}

export async function getStaff(c: Queryable, id: number): Promise<Staff | undefined> {
  const r = await c.query('SELECT * FROM staff WHERE id = $1', [id]);
  return r.rows[0] ? camel<Staff>(r.rows[0]) : undefined;
}

export async function listStaff(c: Queryable, f: { stationId?: number; active?: boolean; skill?: string } = {}): Promise<Staff[]> {
  const where: string[] = [];
  const p: unknown[] = [];
  if (f.stationId !== undefined) where.push(`station_id = $${p.push(f.stationId)}`);
  if (f.active !== undefined) where.push(`active = $${p.push(f.active)}`);
  if (f.skill) where.push(`$${p.push(f.skill)} = ANY(skills)`);
  const r = await c.query(`SELECT * FROM staff ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name, id`, p);
  return r.rows.map((x) => camel<Staff>(x));
}

export async function deleteStaff(c: Queryable, id: number): Promise<boolean> {
  const r = await c.query('DELETE FROM staff WHERE id = $1', [id]);
  return (r.rowCount ?? 0) > 0;
}

const ROTA_COLS = `staff_id, weekday, to_char(date, 'YYYY-MM-DD') AS date, start_time AS start, end_time AS "end"`;

export async function getRota(c: Queryable, staffId: number): Promise<RotaRow[]> {
  const r = await c.query(`SELECT ${ROTA_COLS} FROM rotas WHERE staff_id = $1 ORDER BY weekday NULLS LAST, date, start_time, id`, [staffId]);
  return r.rows.map((x) => camel<RotaRow>(x));
}

/** Replaces a staff member's whole rota; the caller's transaction makes it all or nothing. */
export async function replaceRota(c: Queryable, staffId: number, rows: Omit<RotaRow, 'staffId'>[]): Promise<RotaRow[]> {
  await c.query('DELETE FROM rotas WHERE staff_id = $1', [staffId]);
  for (const x of rows) {
    await c.query('INSERT INTO rotas (staff_id, weekday, date, start_time, end_time) VALUES ($1, $2, $3, $4, $5)', [staffId, x.weekday, x.date, x.start, x.end]);
  }
  return getRota(c, staffId);
}

/** Everything the dispatch suggestion needs: active stations, active staff and their rotas. */
export async function dutyData(c: Queryable): Promise<{ stations: Station[]; staff: Staff[]; rotas: RotaRow[] }> {
  const [stations, staff, rotas] = await Promise.all([
    listStations(c, { active: true }),
    listStaff(c, { active: true }),
    c.query(`SELECT ${ROTA_COLS} FROM rotas r WHERE EXISTS (SELECT 1 FROM staff s WHERE s.id = r.staff_id AND s.active)`),
  ]);
  return { stations, staff, rotas: rotas.rows.map((x) => camel<RotaRow>(x)) };
}
