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
  flow: string | null;
  flowId: string | null;
  elderId: number | null;
  contactId: number | null;
  did: string | null;
  line: string | null;
  talkS: number | null;
  causeText: string | null;
  /** hotline caller legs (issue 19): entering the queue → agent, overflow or hang-up */
  queueWaitMs?: number | null;
  /** answered, abandoned, night, voicemail, ivr, failed */
  queueResult?: string | null;
  /** the whole queue summary (priority, IVR choice, missed agents, voicemail) */
  queue?: Record<string, unknown> | null;
  /** the bridge recording's length as Asterisk reported it, and its state (done, failed) */
  recordingS?: number | null;
  recordingState?: string | null;
}

export async function listCallsForAlarm(c: Queryable, alarmId: number): Promise<CallRecord[]> {
  const r = await c.query('SELECT * FROM calls WHERE alarm_id = $1 ORDER BY id', [alarmId]);
  return r.rows.map((x) => camel<CallRecord>(x));
}

/** A placeholder row that reserves the idempotency key: a retried request finds it and dials nothing. */
export async function claimCall(c: Queryable, idempotencyKey: string): Promise<boolean> {
  const r = await c.query(
    `INSERT INTO calls (idempotency_key, direction, party) VALUES ($1, 'outbound', 'unknown') ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    [idempotencyKey],
  );
  return r.rowCount === 1;
}

export interface NewCall {
  idempotencyKey: string;
  channelId: string;
  flow: string;
  flowId: string;
  direction: 'inbound' | 'outbound';
  party: string;
  number: string;
  alarmId?: number | null;
  agentId?: number | null;
  elderId?: number | null;
  contactId?: number | null;
  endpoint?: string;
  did?: string;
  line?: string;
  createdAt: Date;
}

/** Fills the claimed row (inbound calls are not claimed first: their key comes from the channel). */
export async function createCall(c: Queryable, n: NewCall): Promise<void> {
  await c.query(
    `INSERT INTO calls (idempotency_key, channel_id, flow, flow_id, direction, party, number, alarm_id, agent_id, elder_id, contact_id, endpoint, did, line, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (idempotency_key) DO UPDATE SET channel_id = EXCLUDED.channel_id, flow = EXCLUDED.flow, flow_id = EXCLUDED.flow_id,
       direction = EXCLUDED.direction, party = EXCLUDED.party, number = EXCLUDED.number, alarm_id = EXCLUDED.alarm_id,
       agent_id = EXCLUDED.agent_id, elder_id = EXCLUDED.elder_id, contact_id = EXCLUDED.contact_id, endpoint = EXCLUDED.endpoint,
       did = EXCLUDED.did, line = EXCLUDED.line, created_at = EXCLUDED.created_at`,
    [n.idempotencyKey, n.channelId, n.flow, n.flowId, n.direction, n.party, n.number, n.alarmId ?? null, n.agentId ?? null, n.elderId ?? null, n.contactId ?? null, n.endpoint ?? null, n.did ?? null, n.line ?? null, n.createdAt],
  );
}

export async function callAnswered(c: Queryable, channelId: string, at: Date): Promise<void> {
  await c.query('UPDATE calls SET answered_at = $2 WHERE channel_id = $1', [channelId, at]);
}

export async function callEnded(
  c: Queryable,
  channelId: string,
  e: { at: Date; cause: number | null; causeText: string; outcome: string; durationMs: number; talkMs: number; detail?: string; queue?: { waitMs: number; result: string } },
): Promise<CallRecord | undefined> {
  const r = await c.query(
    `UPDATE calls SET ended_at = $2, cause = $3, cause_text = $4, outcome = $5, duration_s = $6, talk_s = $7, detail = $8,
       queue_wait_ms = $9, queue_result = $10, queue = $11 WHERE channel_id = $1 RETURNING *`,
    [channelId, e.at, e.cause, e.causeText, e.outcome, Math.round(e.durationMs / 1000), Math.round(e.talkMs / 1000), e.detail ?? null,
      e.queue ? Math.round(e.queue.waitMs) : null, e.queue?.result ?? null, e.queue ? JSON.stringify(e.queue) : null],
  );
  return r.rows[0] ? camel<CallRecord>(r.rows[0]) : undefined;
}

/** Live state of a call record: ringing until answered, up until ended. */
export type LiveState = 'ringing' | 'up' | 'ended';
export function liveStateOf(r: Pick<CallRecord, 'answeredAt' | 'endedAt'>): LiveState {
  return r.endedAt ? 'ended' : r.answeredAt ? 'up' : 'ringing';
}

/** Calls not yet ended are "live" only for a while: a record the gateway lost track of (crash mid-call) must not stay live forever. */
const LIVE_WINDOW = `created_at > now() - interval '4 hours'`;

/**
 * At start: call records a previous run left without an end. Their flows lived in that process's memory, so
 * nobody can hang them up or see them end; they are marked lost rather than shown live for hours.
 * (One gateway per database today; several nodes would need a node id per call.)
 */
export async function endOrphanCalls(c: Queryable, startedAt: Date): Promise<number> {
  const r = await c.query(
    `UPDATE calls SET ended_at = $1, outcome = COALESCE(outcome, 'lost'), cause_text = COALESCE(cause_text, 'gateway restarted during the call')
     WHERE ended_at IS NULL AND channel_id IS NOT NULL AND created_at < $1`,
    [startedAt],
  );
  return r.rowCount ?? 0;
}

/**
 * Issue 19 (a restart mid-flow): the record of a channel that outlived the previous run is live again, to end when
 * the call does. Only a record still live or ended by endOrphanCalls, from the last 4 hours (Asterisk's channel ids
 * repeat after its own restart). Returns the row, undefined when there is none.
 */
export async function reopenCall(c: Queryable, channelId: string): Promise<(CallRecord & { endpoint: string | null }) | undefined> {
  const r = await c.query(
    `UPDATE calls SET ended_at = NULL, outcome = NULL, cause_text = NULL, cause = NULL, duration_s = NULL, talk_s = NULL, detail = NULL
      WHERE id = (SELECT id FROM calls WHERE channel_id = $1 AND ${LIVE_WINDOW}
                    AND (ended_at IS NULL OR (outcome = 'lost' AND cause_text = 'gateway restarted during the call'))
                  ORDER BY id DESC LIMIT 1)
      RETURNING *`,
    [channelId],
  );
  return r.rows[0] ? camel<CallRecord & { endpoint: string | null }>(r.rows[0]) : undefined;
}

/** Whether a call of this alarm is still live (ringing or up). */
export async function hasLiveCall(c: Queryable, alarmId: number): Promise<boolean> {
  const r = await c.query(`SELECT 1 FROM calls WHERE alarm_id = $1 AND channel_id IS NOT NULL AND ended_at IS NULL AND ${LIVE_WINDOW} LIMIT 1`, [alarmId]);
  return r.rowCount === 1;
}

/** An agent's live calls (click-to-call legs not yet ended), newest first: for a reload or a new login mid-call. */
export async function liveCallsOfAgent(c: Queryable, agentId: number): Promise<CallRecord[]> {
  const r = await c.query(
    `SELECT * FROM calls WHERE agent_id = $1 AND channel_id IS NOT NULL AND ended_at IS NULL AND ${LIVE_WINDOW} ORDER BY id DESC`,
    [agentId],
  );
  return r.rows.map((x) => camel<CallRecord>(x));
}

export async function getCallByChannel(c: Queryable, channelId: string): Promise<CallRecord | undefined> {
  const r = await c.query('SELECT * FROM calls WHERE channel_id = $1', [channelId]);
  return r.rows[0] ? camel<CallRecord>(r.rows[0]) : undefined;
}

export async function listCalls(c: Queryable, f: { alarmId?: number; flowId?: string; limit: number }): Promise<CallRecord[]> {
  const where: string[] = ['channel_id IS NOT NULL'];
  const p: unknown[] = [f.limit];
  if (f.alarmId !== undefined) where.push(`alarm_id = $${p.push(f.alarmId)}`);
  if (f.flowId !== undefined) where.push(`flow_id = $${p.push(f.flowId)}`);
  const r = await c.query(`SELECT * FROM calls WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $1`, p);
  return r.rows.map((x) => camel<CallRecord>(x));
}

/** One in-call action (hold, transfer, conference, supervisor…) on a call's timeline (issue 19). */
export interface CallActionRow {
  id: number;
  callId: string;
  action: string;
  byUser: string;
  at: Date;
  channelId: string | null;
  detail: Record<string, unknown>;
  /** the user's display name (or username) when byUser is a user id */
  byName: string | null;
}

export async function addCallAction(c: Queryable, a: { callId: string; action: string; by: string; at: Date; channelId?: string; detail?: Record<string, unknown> }): Promise<void> {
  await c.query(`INSERT INTO call_actions (call_id, action, by_user, at, channel_id, detail) VALUES ($1, $2, $3, $4, $5, $6)`, [
    a.callId, a.action, a.by, a.at, a.channelId ?? null, JSON.stringify(a.detail ?? {}),
  ]);
}

export async function listCallActions(c: Queryable, callId: string): Promise<CallActionRow[]> {
  const r = await c.query(
    `SELECT a.*, COALESCE(NULLIF(u.display_name, ''), u.username) AS by_name
       FROM call_actions a LEFT JOIN users u ON u.id = CASE WHEN a.by_user ~ '^[0-9]{1,18}$' THEN a.by_user::bigint END
      WHERE a.call_id = $1 ORDER BY a.id`,
    [callId],
  );
  return r.rows.map((x) => ({ ...camel<CallActionRow>(x), id: Number(x.id), byName: x.by_name ?? null }));
}

/**
 * Links a call's bridge recording to its records: the legs of the flow (callId = flow id) that were in the
 * call, i.e. the answered ones. Returns how many rows were linked.
 */
export async function callRecorded(c: Queryable, r: { callId: string; name: string; durationS?: number; state: string }): Promise<number> {
  const res = await c.query(
    `UPDATE calls SET recording = $2, recording_s = $3, recording_state = $4 WHERE flow_id = $1 AND answered_at IS NOT NULL`,
    [r.callId, r.name, r.durationS ?? null, r.state],
  );
  return res.rowCount ?? 0;
}

/** A hotline caller who pressed the emergency digit: their call record belongs to the alarm raised. */
export async function linkCallToAlarm(c: Queryable, channelId: string, alarmId: number): Promise<void> {
  await c.query('UPDATE calls SET alarm_id = $2 WHERE channel_id = $1 AND alarm_id IS NULL', [channelId, alarmId]);
}

/** A welfare call whose answer raised an alarm (issue 22): its legs belong to that alarm (its calls, its recording). */
export async function linkFlowToAlarm(c: Queryable, flowId: string, alarmId: number): Promise<void> {
  await c.query('UPDATE calls SET alarm_id = $2 WHERE flow_id = $1 AND alarm_id IS NULL', [flowId, alarmId]);
}
