import type { Db, Queryable } from './db.js';
import { tx } from './db.js';
import { camel, setClause } from './rows.js';

export interface ContactInput {
  name: string;
  relation?: string;
  phone: string;
  notes?: string;
  /** further numbers, called after `phone` */
  altPhones?: string[];
  /** holds a key to the home (持钥匙人) */
  keyHolder?: boolean;
  /** next of kin (直系亲属) */
  nextOfKin?: boolean;
  /** may receive SMS notifications */
  maySms?: boolean;
}
export interface Contact extends Required<ContactInput> {
  id: number;
  elderId: number;
  position: number;
}

export interface ElderInput {
  name: string;
  gender?: 'male' | 'female' | 'other';
  idNumber?: string;
  birthDate?: string;
  phone?: string;
  address?: string;
  lat?: number;
  lon?: number;
  conditions?: string;
  medications?: string;
  allergies?: string;
  dialect?: string;
  livesAlone?: boolean;
  accessNotes?: string;
  rules?: Record<string, unknown>;
  responsePlan?: Record<string, unknown> | null;
  /** the centre's own key for the elder (外部编号): import files refer to elders by it */
  externalKey?: string | null;
  /** area, community or street office (片区/社区) */
  area?: string;
  /** care categories (ELDER_CATEGORIES) */
  categories?: string[];
  /** family doctor (家庭医生) */
  doctor?: string;
}

/** Care categories: 失能 (disabled), 独居 (lives alone), 空巢 (empty nest), 高龄 (advanced age, 80+). */
export const ELDER_CATEGORIES = ['disabled', 'living_alone', 'empty_nest', 'advanced_age'] as const;

export interface Elder extends ElderInput {
  id: number;
  createdAt: Date;
  updatedAt: Date;
  /** an image is stored (GET /api/elders/:id/photo); the bytes themselves never ride along with the record */
  hasPhoto: boolean;
  photoUpdatedAt: Date | null;
}

/** A row of GET /api/elders: the record with what the list shows beside it. */
export interface ElderListItem extends Elder {
  /** alarms of the elder not closed or cleared, test alarms left out */
  openAlarms: number;
  /** identifiers of the elder's devices */
  devices: string[];
}

const FIELDS = ['name', 'gender', 'idNumber', 'birthDate', 'phone', 'address', 'lat', 'lon', 'conditions', 'medications', 'allergies', 'dialect', 'livesAlone', 'accessNotes', 'rules', 'responsePlan', 'externalKey', 'area', 'categories', 'doctor'] as const;

/**
 * Every column but the photo's bytes and type, which only GET /api/elders/:id/photo reads: a list of 100 elders
 * must not haul 100 images out of the database, and no elder JSON may carry them.
 */
const COLS = [
  'id', 'name', 'gender', 'id_number', 'birth_date', 'phone', 'address', 'lat', 'lon', 'conditions', 'medications', 'allergies', 'dialect',
  'lives_alone', 'access_notes', 'rules', 'response_plan', 'external_key', 'area', 'categories', 'doctor', 'created_at', 'updated_at', 'photo_updated_at',
];
const cols = (t?: string) => [...COLS.map((c) => (t ? `${t}.${c}` : c)), `(${t ? `${t}.` : ''}photo IS NOT NULL) AS has_photo`].join(', ');

function toElder(r: Record<string, unknown>): Elder {
  const { photo: _p, photoType: _t, ...e } = camel<Record<string, unknown>>(r);
  if (e.birthDate instanceof Date) e.birthDate = toIsoDate(e.birthDate);
  return e as unknown as Elder;
}

function toIsoDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export async function createElder(db: Db, input: ElderInput, contacts: ContactInput[] = []): Promise<Elder & { contacts: Contact[] }> {
  return tx(db, async (c) => {
    const { sql, values } = setClause(input as unknown as Record<string, unknown>, FIELDS);
    const names = sql.split(', ').map((s) => s.split(' = ')[0]);
    const r = await c.query(
      `INSERT INTO elders (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING ${cols()}`,
      values.map(jsonify),
    );
    const elder = toElder(r.rows[0]);
    const saved = await replaceContacts(c, elder.id, contacts);
    return { ...elder, contacts: saved };
  });
}

function jsonify(v: unknown): unknown {
  return v !== null && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v) ? JSON.stringify(v) : v;
}

export async function getElder(db: Queryable, id: number): Promise<Elder | undefined> {
  const r = await db.query(`SELECT ${cols()} FROM elders WHERE id = $1`, [id]);
  return r.rows[0] ? toElder(r.rows[0]) : undefined;
}

/** `q` with LIKE's wildcards taken literally. */
const likeText = (q: string) => q.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The last 4–6 characters of an ID number, as a caller reads them out (the last may be X); shorter would match too many. */
export const isIdSuffix = (q: string) => /^(\d{4,6}|\d{3,5}[Xx])$/.test(q);

export interface ElderQuery {
  /** a name, phone, address or area fragment, a device identifier or SIM number, or (with idSuffix) the end of the ID number */
  q?: string;
  /** search the ID number's last 4–6 characters too (not for roles that may not see it at all) */
  idSuffix?: boolean;
  area?: string;
  category?: string;
  limit: number;
  offset: number;
}

export async function listElders(db: Queryable, opts: ElderQuery): Promise<{ items: ElderListItem[]; total: number }> {
  const params: unknown[] = [opts.limit, opts.offset];
  const arg = (v: unknown) => `$${params.push(v)}`;
  const where: string[] = [];
  const q = opts.q?.trim();
  if (q) {
    const p = arg(`%${likeText(q)}%`);
    const any = [
      `e.name ILIKE ${p}`, `e.phone LIKE ${p}`, `e.address ILIKE ${p}`, `e.area ILIKE ${p}`,
      `EXISTS (SELECT 1 FROM devices d WHERE d.elder_id = e.id AND (d.identifier ILIKE ${p} OR d.sim_phone LIKE ${p}))`,
    ];
    if (opts.idSuffix && isIdSuffix(q)) any.push(`e.id_number LIKE ${arg(`%${q.toUpperCase()}`)}`);
    where.push(`(${any.join(' OR ')})`);
  }
  if (opts.area) where.push(`e.area = ${arg(opts.area)}`);
  if (opts.category) where.push(`${arg(opts.category)} = ANY(e.categories)`);
  const r = await db.query(
    `SELECT ${cols('e')},
       (SELECT count(*)::int FROM alarms a WHERE a.elder_id = e.id AND a.state NOT IN ('closed', 'cleared') AND NOT a.test) AS open_alarms,
       ARRAY(SELECT d.identifier FROM devices d WHERE d.elder_id = e.id ORDER BY d.id) AS devices,
       count(*) OVER () AS total
     FROM elders e ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.id LIMIT $1 OFFSET $2`,
    params,
  );
  const total = r.rows[0] ? Number(r.rows[0].total) : 0;
  return { items: r.rows.map(({ total: _t, ...row }) => toElder(row) as ElderListItem), total };
}

/** The elder's photo, if any. */
export async function getElderPhoto(db: Queryable, id: number): Promise<{ bytes: Buffer; type: string; updatedAt: Date } | undefined> {
  const r = await db.query('SELECT photo, photo_type, photo_updated_at FROM elders WHERE id = $1 AND photo IS NOT NULL', [id]);
  const row = r.rows[0];
  return row ? { bytes: row.photo, type: row.photo_type, updatedAt: row.photo_updated_at } : undefined;
}

/** Stores (bytes) or removes (null) the elder's photo; false if there is no such elder. */
export async function setElderPhoto(db: Queryable, id: number, photo: { bytes: Buffer; type: string } | null): Promise<boolean> {
  const r = photo
    ? await db.query('UPDATE elders SET photo = $2, photo_type = $3, photo_updated_at = now() WHERE id = $1', [id, photo.bytes, photo.type])
    : await db.query(`UPDATE elders SET photo = NULL, photo_type = NULL, photo_updated_at = CASE WHEN photo IS NULL THEN photo_updated_at ELSE now() END WHERE id = $1`, [id]);
  return r.rowCount === 1;
}

export async function updateElder(db: Queryable, id: number, patch: Partial<ElderInput>): Promise<Elder | undefined> {
  const { sql, values } = setClause(patch as Record<string, unknown>, FIELDS, 2);
  if (!sql) return getElder(db, id);
  const r = await db.query(`UPDATE elders SET ${sql}, updated_at = now() WHERE id = $1 RETURNING ${cols()}`, [id, ...values.map(jsonify)]);
  return r.rows[0] ? toElder(r.rows[0]) : undefined;
}

export async function deleteElder(db: Queryable, id: number): Promise<boolean> {
  const r = await db.query('DELETE FROM elders WHERE id = $1', [id]);
  return r.rowCount === 1;
}

export async function listContacts(db: Queryable, elderId: number): Promise<Contact[]> {
  const r = await db.query('SELECT * FROM contacts WHERE elder_id = $1 ORDER BY position', [elderId]);
  return r.rows.map((x) => camel<Contact>(x));
}

/** Replaces the ordered contact list (position = index + 1). */
export async function replaceContacts(db: Queryable, elderId: number, contacts: ContactInput[]): Promise<Contact[]> {
  await db.query('DELETE FROM contacts WHERE elder_id = $1', [elderId]);
  for (const [i, ct] of contacts.entries()) {
    await db.query(
      'INSERT INTO contacts (elder_id, position, name, relation, phone, notes, alt_phones, key_holder, next_of_kin, may_sms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      [elderId, i + 1, ct.name, ct.relation ?? '', ct.phone, ct.notes ?? '', ct.altPhones ?? [], ct.keyHolder ?? false, ct.nextOfKin ?? false, ct.maySms ?? false],
    );
  }
  return listContacts(db, elderId);
}

export async function setContactsTx(db: Db, elderId: number, contacts: ContactInput[]): Promise<Contact[]> {
  return tx(db, (c) => replaceContacts(c, elderId, contacts));
}

/** Caller-ID lookup: an elder whose own phone or a bound device's number matches. */
export async function findElderByPhone(db: Queryable, phone: string): Promise<Elder | undefined> {
  const r = await db.query(
    `SELECT ${cols('e')} FROM elders e WHERE e.phone = $1
     UNION SELECT ${cols('e')} FROM elders e JOIN devices d ON d.elder_id = e.id WHERE d.sim_phone = $1 LIMIT 1`,
    [phone],
  );
  return r.rows[0] ? toElder(r.rows[0]) : undefined;
}
