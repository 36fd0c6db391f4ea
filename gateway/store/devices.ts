import type { Queryable } from './db.js';
import { camel, setClause } from './rows.js';

export const DEVICE_KINDS = ['watch', 'one_key_caller', 'fall_sensor', 'panel', 'pendant', 'other'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export interface DeviceInput {
  identifier: string;
  protocol: string;
  model?: string;
  kind?: DeviceKind;
  simPhone?: string | null;
  elderId?: number | null;
  meta?: Record<string, unknown>;
}

export interface Device {
  id: number;
  identifier: string;
  protocol: string;
  model: string;
  kind: DeviceKind;
  simPhone: string | null;
  elderId: number | null;
  state: 'registered' | 'active' | 'disabled';
  lastSeen: Date | null;
  battery: number | null;
  signal: number | null;
  meta: Record<string, unknown>;
  createdAt: Date;
  /** 设备开通: when and by whom its activation test was signed off (null until then) */
  activatedAt: Date | null;
  activatedBy: number | null;
  /** end of its activation test window: until then its alarms are test alarms (store/activation.ts) */
  testUntil: Date | null;
  /** a symmetric key is set (DC-09 AES); the key itself is never read with the device */
  hasKey?: boolean;
}

const PUBLIC_COLS = 'id, identifier, protocol, model, kind, sim_phone, elder_id, state, last_seen, battery, signal, meta, created_at, activated_at, activated_by, test_until, key_sealed IS NOT NULL AS has_key';

/** `keySealed`: the device's symmetric key, already sealed by gateway/device-keys.ts (never the key itself). */
export async function registerDevice(db: Queryable, d: DeviceInput, mqttSecretHash?: string, keySealed?: string): Promise<Device> {
  const r = await db.query(
    `INSERT INTO devices (identifier, protocol, model, kind, sim_phone, elder_id, meta, mqtt_secret_hash, key_sealed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PUBLIC_COLS}`,
    [d.identifier, d.protocol, d.model ?? '', d.kind ?? 'watch', d.simPhone ?? null, d.elderId ?? null, JSON.stringify(d.meta ?? {}), mqttSecretHash ?? null, keySealed ?? null],
  );
  await db.query('DELETE FROM unknown_devices WHERE identifier = $1', [d.identifier]);
  return camel<Device>(r.rows[0]);
}

export async function getDevice(db: Queryable, id: number): Promise<Device | undefined> {
  const r = await db.query(`SELECT ${PUBLIC_COLS} FROM devices WHERE id = $1`, [id]);
  return r.rows[0] ? camel<Device>(r.rows[0]) : undefined;
}

export async function getDeviceByIdentifier(db: Queryable, identifier: string): Promise<Device | undefined> {
  const r = await db.query(`SELECT ${PUBLIC_COLS} FROM devices WHERE identifier = $1`, [identifier]);
  return r.rows[0] ? camel<Device>(r.rows[0]) : undefined;
}

/** Several devices in one query (the registry's background refresh); those not found are missing from the answer. */
export async function getDevicesByIdentifiers(db: Queryable, identifiers: string[]): Promise<Device[]> {
  const r = await db.query(`SELECT ${PUBLIC_COLS} FROM devices WHERE identifier = ANY($1)`, [identifiers]);
  return r.rows.map((x) => camel<Device>(x));
}

/** The device's sealed symmetric key (gateway/device-keys.ts opens it), or undefined: no such device, or no key. */
export async function getDeviceKeySealed(db: Queryable, identifier: string): Promise<string | undefined> {
  const r = await db.query('SELECT key_sealed FROM devices WHERE identifier = $1', [identifier]);
  return (r.rows[0]?.key_sealed as string | null | undefined) ?? undefined;
}

/** Sets (sealed) or removes (null) the device's symmetric key. */
export async function setDeviceKeySealed(db: Queryable, id: number, keySealed: string | null): Promise<Device | undefined> {
  const r = await db.query(`UPDATE devices SET key_sealed = $2 WHERE id = $1 RETURNING ${PUBLIC_COLS}`, [id, keySealed]);
  return r.rows[0] ? camel<Device>(r.rows[0]) : undefined;
}

export async function getMqttSecretHash(db: Queryable, identifier: string): Promise<string | undefined> {
  const r = await db.query(`SELECT mqtt_secret_hash FROM devices WHERE identifier = $1 AND state <> 'disabled'`, [identifier]);
  return r.rows[0]?.mqtt_secret_hash ?? undefined;
}

export interface DeviceFilter {
  elderId?: number;
  protocol?: string;
  /** a substring of the identifier, model or SIM number */
  q?: string;
  /** only devices bound to no elder */
  unbound?: boolean;
  limit: number;
  offset: number;
}

export async function listDevices(db: Queryable, f: DeviceFilter): Promise<Device[]> {
  const where: string[] = [];
  const params: unknown[] = [f.limit, f.offset];
  if (f.elderId !== undefined) where.push(`elder_id = $${params.push(f.elderId)}`);
  if (f.protocol) where.push(`protocol = $${params.push(f.protocol)}`);
  if (f.unbound) where.push('elder_id IS NULL');
  if (f.q) {
    // a literal substring: LIKE's own wildcards in the text are escaped
    const n = params.push(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`(identifier ILIKE $${n} OR model ILIKE $${n} OR sim_phone ILIKE $${n})`);
  }
  const r = await db.query(
    `SELECT ${PUBLIC_COLS} FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $1 OFFSET $2`,
    params,
  );
  return r.rows.map((x) => camel<Device>(x));
}

export async function updateDevice(db: Queryable, id: number, patch: Partial<DeviceInput> & { state?: Device['state'] }): Promise<Device | undefined> {
  const { sql, values } = setClause(patch as Record<string, unknown>, ['model', 'kind', 'simPhone', 'elderId', 'state', 'protocol', 'meta'], 2);
  if (!sql) return getDevice(db, id);
  const r = await db.query(`UPDATE devices SET ${sql} WHERE id = $1 RETURNING ${PUBLIC_COLS}`, [id, ...values]);
  return r.rows[0] ? camel<Device>(r.rows[0]) : undefined;
}

export async function deleteDevice(db: Queryable, id: number): Promise<boolean> {
  const r = await db.query('DELETE FROM devices WHERE id = $1', [id]);
  return r.rowCount === 1;
}

export interface UnknownDevice {
  identifier: string;
  protocol: string;
  firstSeen: Date;
  lastSeen: Date;
  attempts: number;
  remote: string | null;
}

export async function noteUnknownDevice(db: Queryable, identifier: string, protocol: string, remote?: string): Promise<void> {
  await db.query(
    `INSERT INTO unknown_devices (identifier, protocol, remote) VALUES ($1, $2, $3)
     ON CONFLICT (identifier) DO UPDATE SET last_seen = now(), attempts = unknown_devices.attempts + 1, remote = EXCLUDED.remote`,
    [identifier, protocol, remote ?? null],
  );
}

/** Keeps the `keep` most recently seen unknown devices; returns how many older rows were deleted. */
export async function trimUnknownDevices(db: Queryable, keep: number): Promise<number> {
  const r = await db.query(
    `DELETE FROM unknown_devices WHERE identifier IN (SELECT identifier FROM unknown_devices ORDER BY last_seen DESC OFFSET $1)`,
    [keep],
  );
  return r.rowCount ?? 0;
}

export async function listUnknownDevices(db: Queryable): Promise<UnknownDevice[]> {
  const r = await db.query('SELECT * FROM unknown_devices ORDER BY last_seen DESC LIMIT 500');
  return r.rows.map((x) => camel<UnknownDevice>(x));
}
