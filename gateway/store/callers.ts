/**
 * Hotline caller match (issue 19, 来电弹屏): a number → the elder whose own phone or device SIM it is, or a
 * contact of an elder (whose contact, what relation), with the elder's open alarms and recent calls for the pop.
 */
import type { Queryable } from './db.js';
import { camel } from './rows.js';

export interface CallerElder {
  id: number;
  name: string;
  dialect: string;
  deviceId: number | null;
}

export interface CallerContact {
  id: number;
  elderId: number;
  name: string;
  relation: string;
}

export interface CallerRow {
  elder: CallerElder;
  contact?: CallerContact;
}

/** The caller's own elder file first (elder phone, then a bound device's SIM), else the first contact with that phone. */
export async function matchCallerNumber(c: Queryable, phone: string): Promise<CallerRow | undefined> {
  const own = await c.query(
    `SELECT e.id, e.name, e.dialect, NULL::bigint AS device_id, 0 AS rank FROM elders e WHERE e.phone = $1
     UNION ALL SELECT e.id, e.name, e.dialect, d.id, 1 FROM elders e JOIN devices d ON d.elder_id = e.id WHERE d.sim_phone = $1
     ORDER BY rank, id LIMIT 1`,
    [phone],
  );
  if (own.rows[0]) {
    const e = own.rows[0];
    return { elder: { id: Number(e.id), name: String(e.name), dialect: String(e.dialect ?? ''), deviceId: e.device_id == null ? null : Number(e.device_id) } };
  }
  const ct = await c.query(
    `SELECT k.id, k.elder_id, k.name AS contact_name, k.relation, e.name, e.dialect FROM contacts k JOIN elders e ON e.id = k.elder_id
     WHERE k.phone = $1 ORDER BY k.position, k.id LIMIT 1`,
    [phone],
  );
  const k = ct.rows[0];
  if (!k) return undefined;
  return {
    elder: { id: Number(k.elder_id), name: String(k.name), dialect: String(k.dialect ?? ''), deviceId: null },
    contact: { id: Number(k.id), elderId: Number(k.elder_id), name: String(k.contact_name), relation: String(k.relation ?? '') },
  };
}

export interface OpenAlarmBrief {
  id: number;
  kind: string;
  priority: number;
  state: string;
  firstAt: Date;
}

/** The elder's open alarms (unhandled or in hand), most urgent first (P1/P2 among them make a hotline caller jump the queue). */
export async function openAlarmsOfElder(c: Queryable, elderId: number, limit = 20): Promise<OpenAlarmBrief[]> {
  const r = await c.query(
    `SELECT id, kind, priority, state, first_at FROM alarms WHERE elder_id = $1 AND state IN ('raised', 'presented', 'accepted', 'in_progress')
     ORDER BY priority, first_at DESC LIMIT $2`,
    [elderId, limit],
  );
  return r.rows.map((x) => camel<OpenAlarmBrief>(x));
}

export interface RecentCall {
  id: number;
  flow: string | null;
  direction: string;
  party: string;
  outcome: string | null;
  createdAt: Date;
  talkS: number | null;
  agentId: number | null;
}

/** The last calls with an elder or from a number (their legs to agents, and the call `exceptFlow` itself, left out), newest first. */
export async function recentCalls(c: Queryable, f: { elderId?: number; number: string; exceptFlow?: string; limit?: number }): Promise<RecentCall[]> {
  const r = await c.query(
    `SELECT id, flow, direction, party, outcome, created_at, talk_s, agent_id FROM calls
     WHERE channel_id IS NOT NULL AND party <> 'agent' AND (elder_id = $1 OR number = $2) AND flow_id IS DISTINCT FROM $4
     ORDER BY id DESC LIMIT $3`,
    [f.elderId ?? null, f.number, f.limit ?? 5, f.exceptFlow ?? null],
  );
  return r.rows.map((x) => camel<RecentCall>(x));
}
