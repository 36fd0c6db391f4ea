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
  /** why it was sent: required for dangerous commands, optional otherwise */
  reason: string | null;
  /** a raw or dangerous command (admin-only, with a reason; see gateway/commands.ts) */
  dangerous: boolean;
  /** the elder the device was bound to when the command was sent */
  elderId: number | null;
  /** who sent it (display name, else username); only in lists */
  createdByName?: string | null;
}

export interface QueueOptions {
  userId?: number;
  reason?: string;
  dangerous?: boolean;
  elderId?: number | null;
}

export async function queueCommand(c: Queryable, deviceId: number, command: Record<string, unknown>, keyword: string, ttlS: number, o: QueueOptions = {}): Promise<DeviceCommand> {
  const r = await c.query(
    `INSERT INTO device_commands (device_id, command, keyword, created_by, expires_at, reason, dangerous, elder_id)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6, $7, $8) RETURNING *`,
    [deviceId, JSON.stringify(command), keyword, o.userId ?? null, ttlS, o.reason ?? null, o.dangerous ?? false, o.elderId ?? null],
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

/** A queued command that may no longer go out (e.g. MONITOR after the centre switched it off). */
export async function markFailed(c: Queryable, id: number, result: string): Promise<void> {
  await c.query(`UPDATE device_commands SET state = 'failed', result = $2 WHERE id = $1 AND state = 'queued'`, [id, result]);
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

const WITH_NAME = `SELECT c.*, NULLIF(COALESCE(NULLIF(u.display_name, ''), u.username), '') AS created_by_name
  FROM device_commands c LEFT JOIN users u ON u.id = c.created_by`;

export async function listCommands(c: Queryable, deviceId: number): Promise<DeviceCommand[]> {
  const r = await c.query(`${WITH_NAME} WHERE c.device_id = $1 ORDER BY c.id DESC LIMIT 100`, [deviceId]);
  return r.rows.map((x) => camel<DeviceCommand>(x));
}

export type TimelineEntry =
  | { at: Date; kind: 'alarm'; alarmId: number; alarmKind: string; priority: number; state: string; deviceId: number | null; count: number }
  | { at: Date; kind: 'command'; command: DeviceCommand; deviceIdentifier: string | null }
  /** a care call an agent made (issue 22), with its result */
  | { at: Date; kind: 'care_task'; taskId: number; reason: string; result: string | null; note: string; resultNote: string | null; doneBy: number | null }
  /** a welfare call or reminder that ended (issue 22) */
  | { at: Date; kind: 'care_run'; runId: number; careKind: string; state: string; attempts: number; alarmId: number | null };

/**
 * An elder's timeline, newest first: their alarms (at when each was raised) and the commands sent to their
 * devices (at when each was created; the elder is the one the device was bound to then).
 */
export async function elderTimeline(c: Queryable, elderId: number, limit = 100, care = false): Promise<TimelineEntry[]> {
  const [alarms, commands, tasks, runs] = await Promise.all([
    c.query('SELECT id, kind, priority, state, device_id, count, first_at FROM alarms WHERE elder_id = $1 ORDER BY first_at DESC LIMIT $2', [elderId, limit]),
    c.query(`SELECT x.*, d.identifier AS device_identifier FROM (${WITH_NAME} WHERE c.elder_id = $1 ORDER BY c.id DESC LIMIT $2) x LEFT JOIN devices d ON d.id = x.device_id`, [elderId, limit]),
    care ? c.query(`SELECT id, reason, result, note, result_note, done_by, done_at FROM care_tasks WHERE elder_id = $1 AND state = 'done' ORDER BY done_at DESC LIMIT $2`, [elderId, limit]) : { rows: [] },
    care ? c.query(`SELECT id, kind, state, jsonb_array_length(attempts) AS n, alarm_id, updated_at FROM care_runs WHERE elder_id = $1 AND state IN ('ok', 'help', 'failed', 'checked_in') ORDER BY updated_at DESC LIMIT $2`, [elderId, limit]) : { rows: [] },
  ]);
  const out: TimelineEntry[] = [
    ...alarms.rows.map((a) => ({
      at: a.first_at as Date,
      kind: 'alarm' as const,
      alarmId: Number(a.id),
      alarmKind: a.kind as string,
      priority: Number(a.priority),
      state: a.state as string,
      deviceId: a.device_id === null ? null : Number(a.device_id),
      count: Number(a.count),
    })),
    ...commands.rows.map((row) => {
      const { deviceIdentifier, ...command } = camel<DeviceCommand & { deviceIdentifier: string | null }>(row);
      return { at: command.createdAt, kind: 'command' as const, command, deviceIdentifier };
    }),
    ...tasks.rows.map((t) => ({ at: t.done_at as Date, kind: 'care_task' as const, taskId: Number(t.id), reason: String(t.reason), result: t.result as string | null, note: String(t.note), resultNote: t.result_note as string | null, doneBy: t.done_by === null ? null : Number(t.done_by) })),
    ...runs.rows.map((r) => ({ at: r.updated_at as Date, kind: 'care_run' as const, runId: Number(r.id), careKind: String(r.kind), state: String(r.state), attempts: Number(r.n), alarmId: r.alarm_id === null ? null : Number(r.alarm_id) })),
  ];
  return out.sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, limit);
}
