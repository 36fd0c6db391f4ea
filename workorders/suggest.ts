/**
 * Dispatch suggestions (派单建议): the on-duty stations and staff nearest to an elder. Pure.
 *
 * Ranking: an exact area match (片区/社区, trimmed, case-insensitive) comes first, then the great-circle distance
 * from the elder's position (nearest first; unknown distance last), then the id for a stable order.
 * A staff member is where their station is (staff records carry no position of their own). A station is on duty
 * when at least one of its active staff is on duty: a station nobody is rostered at cannot take an order now.
 */
import { haversineM, type LatLon } from '../alarms/rules/geo.ts';
import { onDutyStaff, type RotaEntry } from './rota.ts';

export interface SuggestElder {
  area: string | null;
  lat: number | null;
  lon: number | null;
}
export interface SuggestStation {
  id: number;
  name: string;
  area: string;
  lat: number | null;
  lon: number | null;
  active: boolean;
}
export interface SuggestStaff {
  id: number;
  name: string;
  stationId: number | null;
  skills: string[];
  active: boolean;
}

export interface StationSuggestion {
  id: number;
  name: string;
  area: string;
  areaMatch: boolean;
  /** metres from the elder; null when either position is unknown */
  distanceM: number | null;
  onDutyStaffIds: number[];
}
export interface StaffSuggestion {
  id: number;
  name: string;
  stationId: number | null;
  skills: string[];
  areaMatch: boolean;
  distanceM: number | null;
}
export interface Suggestions {
  /** what the ranking could use: the elder's area, position, both, or neither */
  basis: { area: boolean; position: boolean };
  stations: StationSuggestion[];
  staff: StaffSuggestion[];
}

export interface SuggestInput {
  elder: SuggestElder;
  stations: readonly SuggestStation[];
  staff: readonly SuggestStaff[];
  rotas: readonly RotaEntry[];
  now: Date;
  timeZone: string;
  /** only staff with this skill (nurse, handyman, volunteer …) */
  skill?: string;
  limit?: number;
}

const norm = (s: string | null | undefined) => (s ?? '').trim().toLowerCase();
const posOf = (x: { lat: number | null; lon: number | null }): LatLon | null => (x.lat !== null && x.lon !== null && Number.isFinite(x.lat) && Number.isFinite(x.lon) ? { lat: x.lat, lon: x.lon } : null);

function rank<T extends { id: number; areaMatch: boolean; distanceM: number | null }>(a: T, b: T): number {
  if (a.areaMatch !== b.areaMatch) return a.areaMatch ? -1 : 1;
  if (a.distanceM !== b.distanceM) {
    if (a.distanceM === null) return 1;
    if (b.distanceM === null) return -1;
    return a.distanceM - b.distanceM;
  }
  return a.id - b.id;
}

export function suggestResponders(i: SuggestInput): Suggestions {
  const area = norm(i.elder.area);
  const at = posOf(i.elder);
  const onDuty = onDutyStaff(i.rotas, i.now, i.timeZone);
  const stations = new Map(i.stations.filter((s) => s.active).map((s) => [s.id, s]));
  const place = (s: SuggestStation | undefined) => {
    const p = s ? posOf(s) : null;
    return { areaMatch: area !== '' && s !== undefined && norm(s.area) === area, distanceM: at && p ? Math.round(haversineM(at, p)) : null };
  };
  const staff: StaffSuggestion[] = i.staff
    .filter((m) => m.active && onDuty.has(m.id) && (m.stationId === null || stations.has(m.stationId)))
    .filter((m) => !i.skill || m.skills.includes(i.skill))
    .map((m) => ({ id: m.id, name: m.name, stationId: m.stationId, skills: m.skills, ...place(m.stationId === null ? undefined : stations.get(m.stationId)) }))
    .sort(rank);
  const byStation = new Map<number, number[]>();
  for (const m of staff) if (m.stationId !== null) byStation.set(m.stationId, [...(byStation.get(m.stationId) ?? []), m.id]);
  const stationList: StationSuggestion[] = [...stations.values()]
    .filter((s) => byStation.has(s.id))
    .map((s) => ({ id: s.id, name: s.name, area: s.area, ...place(s), onDutyStaffIds: byStation.get(s.id)! }))
    .sort(rank);
  const limit = i.limit ?? 10;
  return { basis: { area: area !== '', position: at !== null }, stations: stationList.slice(0, limit), staff: staff.slice(0, limit) };
}
