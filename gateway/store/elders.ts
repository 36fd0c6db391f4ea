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
}

const FIELDS = ['name', 'gender', 'idNumber', 'birthDate', 'phone', 'address', 'lat', 'lon', 'conditions', 'medications', 'allergies', 'dialect', 'livesAlone', 'accessNotes', 'rules', 'responsePlan', 'externalKey', 'area', 'categories', 'doctor'] as const;

function toElder(r: Record<string, unknown>): Elder {
  const e = camel<Record<string, unknown>>(r);
  if (e.birthDate instanceof Date) e.birthDate = toIsoDate(e.birthDate);
  return e as unknown as Elder;
}

function toIsoDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export async function createElder(db: Db, input: ElderInput, contacts: ContactInput[] = []): Promise<Elder & { contacts: Contact[] }> {
  return tx(db, async (c) => {
    const { sql, values } = setClause(input as unknown as Record<string, unknown>, FIELDS);
    const cols = sql.split(', ').map((s) => s.split(' = ')[0]);
    const r = await c.query(
      `INSERT INTO elders (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
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
  const r = await db.query('SELECT * FROM elders WHERE id = $1', [id]);
  return r.rows[0] ? toElder(r.rows[0]) : undefined;
}

export async function listElders(db: Queryable, opts: { q?: string; limit: number; offset: number }): Promise<{ items: Elder[]; total: number }> {
  const where = opts.q ? `WHERE name ILIKE $3 OR phone LIKE $3 OR address ILIKE $3` : '';
  const params: unknown[] = [opts.limit, opts.offset];
  if (opts.q) params.push(`%${opts.q}%`);
  const r = await db.query(`SELECT *, count(*) OVER () AS total FROM elders ${where} ORDER BY id LIMIT $1 OFFSET $2`, params);
  const total = r.rows[0] ? Number(r.rows[0].total) : 0;
  return { items: r.rows.map(({ total: _t, ...row }) => toElder(row)), total };
}

export async function updateElder(db: Queryable, id: number, patch: Partial<ElderInput>): Promise<Elder | undefined> {
  const { sql, values } = setClause(patch as Record<string, unknown>, FIELDS, 2);
  if (!sql) return getElder(db, id);
  const r = await db.query(`UPDATE elders SET ${sql}, updated_at = now() WHERE id = $1 RETURNING *`, [id, ...values.map(jsonify)]);
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
    `SELECT e.* FROM elders e WHERE e.phone = $1
     UNION SELECT e.* FROM elders e JOIN devices d ON d.elder_id = e.id WHERE d.sim_phone = $1 LIMIT 1`,
    [phone],
  );
  return r.rows[0] ? toElder(r.rows[0]) : undefined;
}
