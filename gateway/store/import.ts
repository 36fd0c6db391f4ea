/**
 * Bulk import and export of elders, contacts and devices (issue 20): the look-ups a dry run needs and the
 * multi-row writes of an import, all run on the one transaction's client the caller passes.
 */
import type { Queryable } from './db.js';
import type { ContactInput, ElderInput } from './elders.js';
import type { DeviceInput } from './devices.js';
import { camel } from './rows.js';

export interface ElderRef {
  id: number;
  externalKey: string | null;
  idNumber: string | null;
}

/** Elders by external key and by "#id" (the key an export gives an elder that has none). */
export async function eldersByKeys(db: Queryable, keys: string[]): Promise<Map<string, ElderRef>> {
  const ext = keys.filter((k) => !k.startsWith('#'));
  const ids = keys.filter((k) => /^#\d{1,15}$/.test(k)).map((k) => Number(k.slice(1)));
  const r = await db.query('SELECT id, external_key, id_number FROM elders WHERE external_key = ANY($1::text[]) OR id = ANY($2::bigint[])', [ext, ids]);
  const out = new Map<string, ElderRef>();
  for (const row of r.rows) {
    const e = camel<ElderRef>(row);
    if (e.externalKey && ext.includes(e.externalKey)) out.set(e.externalKey, e);
    if (ids.includes(e.id)) out.set(`#${e.id}`, e);
  }
  return out;
}

/** Which of these ID numbers are on file, and whose they are. */
export async function elderIdsByIdNumber(db: Queryable, idNumbers: string[]): Promise<Map<string, number>> {
  const r = await db.query('SELECT id, id_number FROM elders WHERE id_number = ANY($1::text[])', [idNumbers]);
  return new Map(r.rows.map((x) => [x.id_number as string, x.id as number]));
}

export interface DeviceRef {
  id: number;
  identifier: string;
  protocol: string;
  kind: string;
  model: string;
  simPhone: string | null;
  elderId: number | null;
}

export async function devicesByIdentifiers(db: Queryable, identifiers: string[]): Promise<Map<string, DeviceRef>> {
  const r = await db.query('SELECT id, identifier, protocol, kind, model, sim_phone, elder_id FROM devices WHERE identifier = ANY($1::text[])', [identifiers]);
  return new Map(r.rows.map((x) => [x.identifier as string, camel<DeviceRef>(x)]));
}

/** SIM numbers already bound to a device: number → the device's identifier. */
export async function devicesBySimPhone(db: Queryable, sims: string[]): Promise<Map<string, string>> {
  const r = await db.query('SELECT identifier, sim_phone FROM devices WHERE sim_phone = ANY($1::text[])', [sims]);
  return new Map(r.rows.map((x) => [x.sim_phone as string, x.identifier as string]));
}

const list = (v: string[] | undefined) => (v ?? []).join('\u001f');

/** New elders in one statement per call; returns their ids by external key. */
export async function insertElders(db: Queryable, rows: (ElderInput & { externalKey: string })[]): Promise<Map<string, number>> {
  if (!rows.length) return new Map();
  const col = <T>(f: (e: ElderInput & { externalKey: string }) => T) => rows.map(f);
  const r = await db.query(
    `INSERT INTO elders (external_key, name, gender, id_number, birth_date, phone, address, area, lives_alone, dialect, categories, conditions, medications, allergies, doctor, access_notes)
     SELECT k, n, g, i, b, p, a, ar, la, d, CASE WHEN c = '' THEN '{}'::text[] ELSE string_to_array(c, E'\\x1f') END, co, me, al, doc, acc
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::text[], $9::bool[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
       AS t(k, n, g, i, b, p, a, ar, la, d, c, co, me, al, doc, acc)
     RETURNING id, external_key`,
    [
      col((e) => e.externalKey),
      col((e) => e.name),
      col((e) => e.gender ?? null),
      col((e) => e.idNumber ?? null),
      col((e) => e.birthDate ?? null),
      col((e) => e.phone ?? null),
      col((e) => e.address ?? ''),
      col((e) => e.area ?? ''),
      col((e) => e.livesAlone ?? false),
      col((e) => e.dialect ?? ''),
      col((e) => list(e.categories)),
      col((e) => e.conditions ?? ''),
      col((e) => e.medications ?? ''),
      col((e) => e.allergies ?? ''),
      col((e) => e.doctor ?? ''),
      col((e) => e.accessNotes ?? ''),
    ],
  );
  return new Map(r.rows.map((x) => [x.external_key as string, x.id as number]));
}

/** Replaces the contacts of these elders with the given ones (positions as given). */
export async function replaceContactsOf(db: Queryable, elderIds: number[], rows: (ContactInput & { elderId: number; position: number })[]): Promise<void> {
  if (!elderIds.length) return;
  await db.query('DELETE FROM contacts WHERE elder_id = ANY($1::bigint[])', [elderIds]);
  if (!rows.length) return;
  const col = <T>(f: (c: (typeof rows)[number]) => T) => rows.map(f);
  await db.query(
    `INSERT INTO contacts (elder_id, position, name, relation, phone, notes, alt_phones, key_holder, next_of_kin, may_sms)
     SELECT e, p, n, r, ph, no, CASE WHEN alt = '' THEN '{}'::text[] ELSE string_to_array(alt, E'\\x1f') END, kh, nk, sms
     FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::bool[], $10::bool[])
       AS t(e, p, n, r, ph, no, alt, kh, nk, sms)`,
    [
      col((c) => c.elderId),
      col((c) => c.position),
      col((c) => c.name),
      col((c) => c.relation ?? ''),
      col((c) => c.phone),
      col((c) => c.notes ?? ''),
      col((c) => list(c.altPhones)),
      col((c) => c.keyHolder ?? false),
      col((c) => c.nextOfKin ?? false),
      col((c) => c.maySms ?? false),
    ],
  );
}

/** New devices in one statement per call (the MQTT secret hash where the protocol has one). */
export async function insertDevices(db: Queryable, rows: (DeviceInput & { mqttSecretHash?: string })[]): Promise<void> {
  if (!rows.length) return;
  const col = <T>(f: (d: (typeof rows)[number]) => T) => rows.map(f);
  await db.query(
    `INSERT INTO devices (identifier, protocol, model, kind, sim_phone, elder_id, mqtt_secret_hash)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])`,
    [
      col((d) => d.identifier),
      col((d) => d.protocol),
      col((d) => d.model ?? ''),
      col((d) => d.kind ?? 'watch'),
      col((d) => d.simPhone ?? null),
      col((d) => d.elderId ?? null),
      col((d) => d.mqttSecretHash ?? null),
    ],
  );
  await db.query('DELETE FROM unknown_devices WHERE identifier = ANY($1::text[])', [col((d) => d.identifier)]);
}

/** An export's rows, in id order. */
export interface ElderExportRow extends ElderInput {
  id: number;
}
export async function exportElders(db: Queryable): Promise<ElderExportRow[]> {
  const r = await db.query(
    `SELECT id, external_key, name, gender, id_number, to_char(birth_date, 'YYYY-MM-DD') AS birth_date, phone, address, area, lives_alone, dialect,
            categories, conditions, medications, allergies, doctor, access_notes
     FROM elders ORDER BY id`,
  );
  return r.rows.map((x) => camel<ElderExportRow>(x));
}

export interface ContactExportRow extends Required<ContactInput> {
  elderId: number;
  elderKey: string | null;
  position: number;
}
export async function exportContacts(db: Queryable): Promise<ContactExportRow[]> {
  const r = await db.query(
    `SELECT c.elder_id, e.external_key AS elder_key, c.position, c.name, c.relation, c.phone, c.alt_phones, c.key_holder, c.next_of_kin, c.may_sms, c.notes
     FROM contacts c JOIN elders e ON e.id = c.elder_id ORDER BY c.elder_id, c.position`,
  );
  return r.rows.map((x) => camel<ContactExportRow>(x));
}

export interface DeviceExportRow {
  identifier: string;
  protocol: string;
  kind: string;
  model: string;
  simPhone: string | null;
  elderId: number | null;
  elderKey: string | null;
}
export async function exportDevices(db: Queryable): Promise<DeviceExportRow[]> {
  const r = await db.query(
    `SELECT d.identifier, d.protocol, d.kind, d.model, d.sim_phone, d.elder_id, e.external_key AS elder_key
     FROM devices d LEFT JOIN elders e ON e.id = d.elder_id ORDER BY d.id`,
  );
  return r.rows.map((x) => camel<DeviceExportRow>(x));
}
