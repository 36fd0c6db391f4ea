/**
 * The identity form's values and what a save sends: only the fields that changed (PATCH), or that were filled in
 * (POST). A masked ID number ("**************1234", as non-admins get it) is never sent back; fields the gateway
 * hides from installers are neither shown to nor sent by them.
 */
/** What GET /api/elders answers an installer without (gateway/http/schemas.ts elderFor): their inputs are hidden too. */
export const NOT_FOR_INSTALLERS = ['idNumber', 'birthDate', 'conditions', 'medications', 'allergies', 'accessNotes', 'livesAlone', 'dialect', 'doctor'] as const;

export interface ElderFormValues {
  name: string;
  gender: string;
  birthDate: string;
  idNumber: string;
  phone: string;
  address: string;
  lat: string;
  lon: string;
  area: string;
  dialect: string;
  livesAlone: boolean;
  accessNotes: string;
  conditions: string;
  medications: string;
  allergies: string;
  doctor: string;
  categories: string[];
}

/** Plain text fields, sent as typed (an emptied one as ""). */
const TEXT = ['name', 'phone', 'address', 'area', 'dialect', 'accessNotes', 'conditions', 'medications', 'allergies', 'doctor'] as const;

/** From the elder as the API answers it (any of its fields may be missing or null). */
export function formOf(e: { [K in keyof ElderFormValues]?: unknown } | null): ElderFormValues {
  const s = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  return {
    name: s(e?.name),
    gender: s(e?.gender),
    birthDate: s(e?.birthDate),
    idNumber: s(e?.idNumber),
    phone: s(e?.phone),
    address: s(e?.address),
    lat: s(e?.lat),
    lon: s(e?.lon),
    area: s(e?.area),
    dialect: s(e?.dialect),
    livesAlone: e?.livesAlone === true,
    accessNotes: s(e?.accessNotes),
    conditions: s(e?.conditions),
    medications: s(e?.medications),
    allergies: s(e?.allergies),
    doctor: s(e?.doctor),
    categories: Array.isArray(e?.categories) ? e.categories.map(String) : [],
  };
}

export const isMasked = (id: string) => id.includes('*');

export function hiddenFor(role: string | undefined): Set<string> {
  return new Set(role === 'installer' ? NOT_FOR_INSTALLERS : []);
}

/** The request body: the changes against `was` (the form of the elder as loaded; formOf(null) for a new one). */
export function bodyOf(f: ElderFormValues, was: ElderFormValues, role: string | undefined): Record<string, unknown> {
  const hidden = hiddenFor(role);
  const body: Record<string, unknown> = {};
  for (const k of TEXT) {
    if (hidden.has(k)) continue;
    const v = k === 'name' ? f[k].trim() : f[k];
    if (v !== was[k]) body[k] = v;
  }
  // these cannot be emptied through the API (a format or a closed set): a cleared one is left as it was
  if (f.gender && f.gender !== was.gender) body.gender = f.gender;
  if (!hidden.has('birthDate') && f.birthDate && f.birthDate !== was.birthDate) body.birthDate = f.birthDate;
  const id = f.idNumber.trim().toUpperCase();
  if (!hidden.has('idNumber') && id && !isMasked(id) && id !== was.idNumber.toUpperCase()) body.idNumber = id;
  if (!hidden.has('livesAlone') && f.livesAlone !== was.livesAlone) body.livesAlone = f.livesAlone;
  const lat = Number(f.lat);
  const lon = Number(f.lon);
  if (f.lat.trim() && f.lon.trim() && Number.isFinite(lat) && Number.isFinite(lon) && (f.lat !== was.lat || f.lon !== was.lon)) {
    body.lat = lat;
    body.lon = lon;
  }
  const cats = [...f.categories].sort();
  if (cats.join() !== [...was.categories].sort().join()) body.categories = cats;
  return body;
}
