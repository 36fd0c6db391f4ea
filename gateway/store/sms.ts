/** SMS messages (issue 21): what was sent or received, its delivery state, what it was about; opt-outs (退订). */
import type { Queryable } from './db.js';
import { camel } from './rows.js';

export interface SmsMessage {
  id: number;
  direction: 'out' | 'in';
  number: string;
  body: string;
  template: string | null;
  state: string;
  reason: string | null;
  parts: number | null;
  messageIds: string[];
  alarmId: number | null;
  workOrderId: number | null;
  elderId: number | null;
  contactId: number | null;
  staffId: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SmsAbout {
  alarmId?: number | null;
  workOrderId?: number | null;
  elderId?: number | null;
  contactId?: number | null;
  staffId?: number | null;
}

export async function insertSms(c: Queryable, m: { direction: 'out' | 'in'; number: string; body: string; template?: string; state: string; reason?: string } & SmsAbout): Promise<SmsMessage> {
  const r = await c.query(
    `INSERT INTO sms_messages (direction, number, body, template, state, reason, alarm_id, work_order_id, elder_id, contact_id, staff_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
    [m.direction, m.number, m.body, m.template ?? null, m.state, m.reason ?? null, m.alarmId ?? null, m.workOrderId ?? null, m.elderId ?? null, m.contactId ?? null, m.staffId ?? null],
  );
  return camel<SmsMessage>(r.rows[0]);
}

export async function getSms(c: Queryable, id: number): Promise<SmsMessage | undefined> {
  const r = await c.query('SELECT * FROM sms_messages WHERE id = $1', [id]);
  return r.rows[0] ? camel<SmsMessage>(r.rows[0]) : undefined;
}

/** A state change; `sent` adds the transport's part ids. Answers the row, or undefined for an unknown id. */
export async function setSmsState(c: Queryable, id: number, state: string, o: { reason?: string | null; parts?: number; messageIds?: string[] } = {}): Promise<SmsMessage | undefined> {
  const r = await c.query(
    // A receipt may be handled before the send's own "submitted" is written (the SMSC answers in milliseconds, the
    // process may be busy): "submitted" never overwrites what a receipt already said.
    `UPDATE sms_messages SET state = CASE WHEN $2 = 'submitted' AND state NOT IN ('queued', 'held') THEN state ELSE $2 END,
            reason = COALESCE($3, reason), parts = COALESCE($4, parts), message_ids = COALESCE($5, message_ids), updated_at = now()
      WHERE id = $1 RETURNING *`,
    [id, state, o.reason ?? null, o.parts ?? null, o.messageIds ?? null],
  );
  return r.rows[0] ? camel<SmsMessage>(r.rows[0]) : undefined;
}

/** Outbound messages to the number since then that count against its rate limit (not suppressed ones). */
export async function sentToSince(c: Queryable, number: string, since: Date): Promise<number> {
  const r = await c.query(`SELECT count(*)::int AS n FROM sms_messages WHERE direction = 'out' AND number = $1 AND created_at >= $2 AND state <> 'suppressed'`, [number, since]);
  return r.rows[0].n as number;
}

export async function listSms(c: Queryable, f: SmsAbout & { limit: number }): Promise<SmsMessage[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [k, col] of [['alarmId', 'alarm_id'], ['workOrderId', 'work_order_id'], ['elderId', 'elder_id'], ['staffId', 'staff_id']] as const) {
    const v = f[k];
    if (v !== undefined && v !== null) where.push(`${col} = $${params.push(v)}`);
  }
  const r = await c.query(`SELECT * FROM sms_messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.push(f.limit)}`, params);
  return r.rows.map((x) => camel<SmsMessage>(x));
}

export async function isOptedOut(c: Queryable, number: string): Promise<boolean> {
  return ((await c.query('SELECT 1 FROM sms_optouts WHERE number = $1', [number])).rowCount ?? 0) > 0;
}

export async function setOptOut(c: Queryable, number: string, out: boolean): Promise<void> {
  if (out) await c.query('INSERT INTO sms_optouts (number) VALUES ($1) ON CONFLICT DO NOTHING', [number]);
  else await c.query('DELETE FROM sms_optouts WHERE number = $1', [number]);
}

/** Who a number is in our records: staff members and elders' contacts with that phone (national form). */
export async function whoIsNumber(c: Queryable, national: string): Promise<{ staffIds: number[]; contactIds: number[] }> {
  const [s, ct] = await Promise.all([
    c.query('SELECT id FROM staff WHERE phone = $1 AND active', [national]),
    c.query('SELECT id FROM contacts WHERE phone = $1 OR $1 = ANY(alt_phones)', [national]),
  ]);
  return { staffIds: s.rows.map((x) => Number(x.id)), contactIds: ct.rows.map((x) => Number(x.id)) };
}

/** The staff member's newest order waiting for their answer (dispatched to them). */
export async function orderAwaitingStaff(c: Queryable, staffId: number): Promise<number | undefined> {
  const r = await c.query(`SELECT id FROM work_orders WHERE staff_id = $1 AND state = 'dispatched' ORDER BY dispatched_at DESC LIMIT 1`, [staffId]);
  return r.rows[0] ? Number(r.rows[0].id) : undefined;
}
