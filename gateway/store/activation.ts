/**
 * A device's activation test (设备开通): a window (devices.test_started_at .. test_until) during which every alarm
 * it raises is a test alarm (alarms.test; gateway/alarms/alarm-service.ts), and the sign-off that ends it
 * (activated_at / activated_by).
 */
import type { Queryable } from './db.js';
import { getDevice, type Device } from './devices.js';
import { camel } from './rows.js';

export interface ActivationRow {
  deviceId: number;
  identifier: string;
  protocol: string;
  kind: string;
  elderId: number | null;
  activatedAt: Date | null;
  activatedBy: number | null;
  startedAt: Date | null;
  until: Date | null;
  active: boolean;
  lastSeen: Date | null;
  battery: number | null;
  signal: number | null;
}

export interface TestAlarm {
  id: number;
  kind: string;
  at: Date;
  zone: string | null;
  /** one-key callers: the line the call came in on (red / green) */
  line?: string;
}

export async function getActivation(c: Queryable, deviceId: number): Promise<ActivationRow | undefined> {
  const r = await c.query(
    `SELECT id AS device_id, identifier, protocol, kind, elder_id, activated_at, activated_by, test_started_at AS started_at,
            test_until AS until, COALESCE(test_until > now(), false) AS active, last_seen, battery, signal
     FROM devices WHERE id = $1`,
    [deviceId],
  );
  return r.rows[0] ? camel<ActivationRow>(r.rows[0]) : undefined;
}

/** Starts (or restarts) the test window: from now, for `minutes`. */
export async function startActivationTest(c: Queryable, deviceId: number, minutes: number): Promise<boolean> {
  const r = await c.query(`UPDATE devices SET test_started_at = now(), test_until = now() + make_interval(mins => $2) WHERE id = $1`, [deviceId, minutes]);
  return r.rowCount === 1;
}

/** Ends the window now (if one is running); its start stays, so the test's alarms can still be listed. */
export async function endActivationTest(c: Queryable, deviceId: number): Promise<boolean> {
  const r = await c.query(`UPDATE devices SET test_until = LEAST(test_until, now()) WHERE id = $1`, [deviceId]);
  return r.rowCount === 1;
}

/** Signs the device off as activated by `userId`, and ends its test window. */
export async function finishActivation(c: Queryable, deviceId: number, userId: number | null): Promise<Device | undefined> {
  const r = await c.query(`UPDATE devices SET activated_at = now(), activated_by = $2, test_until = LEAST(test_until, now()) WHERE id = $1`, [deviceId, userId]);
  return r.rowCount === 1 ? getDevice(c, deviceId) : undefined;
}

/** The device's test alarms stored since `since`, newest first. */
export async function testAlarmsSince(c: Queryable, deviceId: number, since: Date, limit = 50): Promise<TestAlarm[]> {
  const r = await c.query(
    `SELECT id, kind, first_at AS at, zone, detail ->> 'line' AS line FROM alarms
     WHERE device_id = $1 AND test AND closed_at >= $2 ORDER BY id DESC LIMIT $3`,
    [deviceId, since, limit],
  );
  return r.rows.map((x) => {
    const { line, ...rest } = camel<TestAlarm & { line: string | null }>(x);
    return line ? { ...rest, line } : rest;
  });
}
