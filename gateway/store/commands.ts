import type { Queryable } from './db.js';
import { camel } from './rows.js';

export interface DeviceCommand {
  id: number;
  deviceId: number;
  command: Record<string, unknown>;
  keyword: string;
  state: 'queued' | 'sent' | 'acknowledged' | 'expired' | 'failed';
  createdBy: number | null;
  createdAt: Date;
  expiresAt: Date;
  sentAt: Date | null;
  ackedAt: Date | null;
  result: string | null;
}

export async function queueCommand(c: Queryable, deviceId: number, command: Record<string, unknown>, keyword: string, ttlS: number, userId?: number): Promise<DeviceCommand> {
  const r = await c.query(
    `INSERT INTO device_commands (device_id, command, keyword, created_by, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING *`,
    [deviceId, JSON.stringify(command), keyword, userId ?? null, ttlS],
  );
  return camel<DeviceCommand>(r.rows[0]);
}

/** Expires stale commands, then returns the queued ones for a device, oldest first. */
export async function pendingCommands(c: Queryable, deviceId: number): Promise<DeviceCommand[]> {
  await c.query(`UPDATE device_commands SET state = 'expired' WHERE device_id = $1 AND state = 'queued' AND expires_at < now()`, [deviceId]);
  const r = await c.query(`SELECT * FROM device_commands WHERE device_id = $1 AND state = 'queued' ORDER BY id`, [deviceId]);
  return r.rows.map((x) => camel<DeviceCommand>(x));
}

export async function markSent(c: Queryable, id: number): Promise<void> {
  await c.query(`UPDATE device_commands SET state = 'sent', sent_at = now() WHERE id = $1 AND state = 'queued'`, [id]);
}

export async function requeue(c: Queryable, id: number): Promise<void> {
  await c.query(`UPDATE device_commands SET state = 'queued', sent_at = NULL WHERE id = $1 AND state = 'sent'`, [id]);
}

/** Records a device's echo as the result of the oldest sent command with that keyword. */
export async function acknowledgeByKeyword(c: Queryable, deviceId: number, keyword: string, result: string): Promise<DeviceCommand | undefined> {
  const r = await c.query(
    `UPDATE device_commands SET state = 'acknowledged', acked_at = now(), result = $3
     WHERE id = (SELECT id FROM device_commands WHERE device_id = $1 AND upper(keyword) = upper($2) AND state = 'sent' ORDER BY id LIMIT 1)
     RETURNING *`,
    [deviceId, keyword, result],
  );
  return r.rows[0] ? camel<DeviceCommand>(r.rows[0]) : undefined;
}

export async function getCommand(c: Queryable, id: number): Promise<DeviceCommand | undefined> {
  const r = await c.query('SELECT * FROM device_commands WHERE id = $1', [id]);
  return r.rows[0] ? camel<DeviceCommand>(r.rows[0]) : undefined;
}

export async function listCommands(c: Queryable, deviceId: number): Promise<DeviceCommand[]> {
  const r = await c.query('SELECT * FROM device_commands WHERE device_id = $1 ORDER BY id DESC LIMIT 100', [deviceId]);
  return r.rows.map((x) => camel<DeviceCommand>(x));
}
