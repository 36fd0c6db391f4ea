/** Work orders (工单) and their timeline: SQL only. The lifecycle rules are in workorders/; the service in gateway/workorders/. */
import type { Queryable } from './db.js';
import { camel, snake } from './rows.js';

export interface WorkOrder {
  id: number;
  type: string;
  state: string;
  priority: number;
  elderId: number | null;
  alarmId: number | null;
  callId: string | null;
  title: string;
  description: string;
  stationId: number | null;
  staffId: number | null;
  result: string | null;
  satisfaction: number | null;
  followUpComment: string | null;
  cancelReason: string | null;
  createdBy: number | null;
  followUpAgentId: number | null;
  dueFollowUpAt: Date | null;
  receivedAt: Date;
  dispatchedAt: Date | null;
  acceptedAt: Date | null;
  onSiteAt: Date | null;
  doneAt: Date | null;
  repliedAt: Date | null;
  followedUpAt: Date | null;
  archivedAt: Date | null;
  cancelledAt: Date | null;
  updatedAt: Date;
}

export interface WorkOrderEvent {
  id: number;
  orderId: number;
  at: Date;
  actor: string;
  action: string;
  fromState: string | null;
  toState: string | null;
  detail: Record<string, unknown>;
}

export interface NewWorkOrder {
  type: string;
  priority: number;
  elderId: number | null;
  alarmId: number | null;
  callId: string | null;
  title: string;
  description: string;
  createdBy: number | null;
}

/** Unique index: one open emergency order per alarm (the HTTP error handler maps it to 409). */
export const ONE_OPEN_EMERGENCY = 'work_orders_one_open_emergency';

export async function insertWorkOrder(c: Queryable, o: NewWorkOrder): Promise<WorkOrder> {
  const r = await c.query(
    `INSERT INTO work_orders (type, priority, elder_id, alarm_id, call_id, title, description, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [o.type, o.priority, o.elderId, o.alarmId, o.callId, o.title, o.description, o.createdBy],
  );
  return camel<WorkOrder>(r.rows[0]);
}

export async function getWorkOrder(c: Queryable, id: number, lock = false): Promise<WorkOrder | undefined> {
  const r = await c.query(`SELECT * FROM work_orders WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? camel<WorkOrder>(r.rows[0]) : undefined;
}

/** The open emergency order of an alarm, if any. */
export async function openEmergencyForAlarm(c: Queryable, alarmId: number): Promise<WorkOrder | undefined> {
  const r = await c.query(`SELECT * FROM work_orders WHERE alarm_id = $1 AND type = 'emergency' AND state NOT IN ('archived', 'cancelled') LIMIT 1`, [alarmId]);
  return r.rows[0] ? camel<WorkOrder>(r.rows[0]) : undefined;
}

const UPDATABLE = [
  'state', 'stationId', 'staffId', 'result', 'satisfaction', 'followUpComment', 'cancelReason', 'followUpAgentId', 'dueFollowUpAt',
  'receivedAt', 'dispatchedAt', 'acceptedAt', 'onSiteAt', 'doneAt', 'repliedAt', 'followedUpAt', 'archivedAt', 'cancelledAt',
] as const;
export type WorkOrderPatch = Partial<Pick<WorkOrder, (typeof UPDATABLE)[number]>>;

/** Updates an order inside the caller's transaction (the caller holds the row lock). */
export async function updateWorkOrder(c: Queryable, id: number, patch: WorkOrderPatch): Promise<WorkOrder> {
  const keys = (Object.keys(patch) as (keyof WorkOrderPatch)[]).filter((k) => (UPDATABLE as readonly string[]).includes(k) && patch[k] !== undefined);
  const cols = keys.map((k, i) => `${snake(k)} = $${i + 2}`);
  const r = await c.query(`UPDATE work_orders SET ${[...cols, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`, [id, ...keys.map((k) => patch[k])]);
  return camel<WorkOrder>(r.rows[0]);
}

export async function addWorkOrderEvent(c: Queryable, orderId: number, actor: string, action: string, from: string | null, to: string | null, detail: Record<string, unknown> = {}): Promise<WorkOrderEvent> {
  const r = await c.query(
    'INSERT INTO work_order_events (order_id, actor, action, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
    [orderId, actor, action, from, to, JSON.stringify(detail)],
  );
  return camel<WorkOrderEvent>(r.rows[0]);
}

/** The staff members the order was ever dispatched to (its timeline's dispatch and reassign rows). */
export async function staffDispatchedTo(c: Queryable, orderId: number): Promise<number[]> {
  const r = await c.query(
    `SELECT DISTINCT (detail->>'staffId')::bigint AS id FROM work_order_events
      WHERE order_id = $1 AND action IN ('dispatch', 'reassign') AND detail->>'staffId' IS NOT NULL`,
    [orderId],
  );
  return r.rows.map((x) => Number(x.id));
}

export async function listWorkOrderEvents(c: Queryable, orderId: number): Promise<WorkOrderEvent[]> {
  const r = await c.query('SELECT * FROM work_order_events WHERE order_id = $1 ORDER BY at, id', [orderId]);
  return r.rows.map((x) => camel<WorkOrderEvent>(x));
}

export interface WorkOrderFilter {
  state?: string;
  type?: string;
  elderId?: number;
  alarmId?: number;
  stationId?: number;
  staffId?: number;
  /** replied orders whose follow-up call (回访) is due by now, soonest first */
  dueFollowUp?: boolean;
  /** not archived nor cancelled */
  open?: boolean;
  /** the agent the follow-up call is assigned to */
  followUpAgentId?: number;
  limit: number;
  offset: number;
}

export async function listWorkOrders(c: Queryable, f: WorkOrderFilter, now = new Date()): Promise<WorkOrder[]> {
  const where: string[] = [];
  const p: unknown[] = [f.limit, f.offset];
  if (f.state) where.push(`state = $${p.push(f.state)}`);
  if (f.type) where.push(`type = $${p.push(f.type)}`);
  if (f.elderId !== undefined) where.push(`elder_id = $${p.push(f.elderId)}`);
  if (f.alarmId !== undefined) where.push(`alarm_id = $${p.push(f.alarmId)}`);
  if (f.stationId !== undefined) where.push(`station_id = $${p.push(f.stationId)}`);
  if (f.staffId !== undefined) where.push(`staff_id = $${p.push(f.staffId)}`);
  if (f.open) where.push(`state NOT IN ('archived', 'cancelled')`);
  if (f.followUpAgentId !== undefined) where.push(`follow_up_agent_id = $${p.push(f.followUpAgentId)}`);
  if (f.dueFollowUp) where.push(`state = 'replied' AND due_follow_up_at <= $${p.push(now)}`);
  const order = f.dueFollowUp ? 'due_follow_up_at, id' : 'priority, received_at DESC, id DESC';
  const r = await c.query(`SELECT * FROM work_orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT $1 OFFSET $2`, p);
  return r.rows.map((x) => camel<WorkOrder>(x));
}

/** The elder of a call (flow), if the call is known: undefined = no such call. */
export async function elderOfCall(c: Queryable, flowId: string): Promise<{ elderId: number | null; alarmId: number | null } | undefined> {
  const r = await c.query(
    `SELECT max(elder_id) AS elder_id, max(alarm_id) AS alarm_id, count(*)::int AS n FROM calls WHERE flow_id = $1`,
    [flowId],
  );
  const row = r.rows[0] as { elder_id: number | null; alarm_id: number | null; n: number };
  return row.n === 0 ? undefined : { elderId: row.elder_id, alarmId: row.alarm_id };
}
