import type { Queryable } from './db.js';
import { camel } from './rows.js';

export interface CallRecord {
  id: number;
  alarmId: number | null;
  direction: 'inbound' | 'outbound';
  party: string;
  number: string | null;
  agentId: number | null;
  channelId: string | null;
  idempotencyKey: string | null;
  createdAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationS: number | null;
  cause: number | null;
  outcome: string | null;
  recording: string | null;
}

export async function listCallsForAlarm(c: Queryable, alarmId: number): Promise<CallRecord[]> {
  const r = await c.query('SELECT * FROM calls WHERE alarm_id = $1 ORDER BY id', [alarmId]);
  return r.rows.map((x) => camel<CallRecord>(x));
}
