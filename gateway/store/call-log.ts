/**
 * The call centre's reads over `calls` (issue 19): who a live call belongs to (the controls' permission check),
 * the call log screen's search, and the recordings retention sweeps. A "call" here is a flow (`flow_id`: one
 * click-to-call, callback, hotline entry …); its legs are the rows.
 */
import type { Queryable } from './db.js';
import { camel } from './rows.js';

export interface CallSummary {
  flowId: string;
  legs: number;
  /** agents on any leg of the call: they may control it */
  agentIds: number[];
  alarmId: number | null;
  elderId: number | null;
  /** the stored recording's name, when the call record names one (and retention has not deleted it) */
  recording: string | null;
  endedAt: Date | null;
}

/** One call (flow) in brief, or undefined when no leg has this flow id. */
export async function callSummary(c: Queryable, flowId: string): Promise<CallSummary | undefined> {
  const r = await c.query(
    `SELECT count(*)::int AS legs,
            COALESCE(array_agg(DISTINCT agent_id) FILTER (WHERE agent_id IS NOT NULL), '{}') AS agent_ids,
            max(alarm_id) AS alarm_id, max(elder_id) AS elder_id, max(recording) FILTER (WHERE recording_state IS DISTINCT FROM 'deleted') AS recording,
            CASE WHEN bool_and(ended_at IS NOT NULL) THEN max(ended_at) END AS ended_at
       FROM calls WHERE flow_id = $1 AND channel_id IS NOT NULL`,
    [flowId],
  );
  const row = r.rows[0];
  if (!row || row.legs === 0) return undefined;
  return {
    flowId,
    legs: row.legs,
    agentIds: (row.agent_ids as string[]).map(Number),
    alarmId: row.alarm_id === null ? null : Number(row.alarm_id),
    elderId: row.elder_id === null ? null : Number(row.elder_id),
    recording: row.recording ?? null,
    endedAt: row.ended_at ?? null,
  };
}

export interface CallLogFilter {
  /** digits: any part of the number */
  number?: string;
  elderId?: number;
  /** legs of this agent, and the other legs of their calls */
  agentId?: number;
  direction?: 'inbound' | 'outbound';
  outcome?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** the last id of the page before (keyset paging: stable while new calls arrive) */
  cursor?: number;
  /** the legs of one call (flow) */
  flowId?: string;
  /** the agents' own legs too (one call's detail) */
  agentLegs?: boolean;
}

export interface CallLogRow {
  id: number;
  flowId: string | null;
  flow: string | null;
  direction: string;
  party: string;
  number: string | null;
  outcome: string | null;
  createdAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationS: number | null;
  talkS: number | null;
  alarmId: number | null;
  elderId: number | null;
  elderName: string | null;
  contactId: number | null;
  agentId: number | null;
  agentName: string | null;
  recording: string | null;
  hasRecording: boolean;
}

/** Call legs newest first, agent legs left out (the agent is named on the far legs), with the names the screen shows. */
export async function searchCallLog(c: Queryable, f: CallLogFilter): Promise<{ items: CallLogRow[]; nextCursor: number | null }> {
  const where = [`c.channel_id IS NOT NULL`];
  if (!f.agentLegs) where.push(`c.party <> 'agent'`);
  const p: unknown[] = [];
  const arg = (v: unknown) => `$${p.push(v)}`;
  if (f.flowId !== undefined) where.push(`c.flow_id = ${arg(f.flowId)}`);
  if (f.number) where.push(`c.number LIKE ${arg(`%${f.number.replace(/[\\%_]/g, (x) => `\\${x}`)}%`)}`);
  if (f.elderId !== undefined) where.push(`c.elder_id = ${arg(f.elderId)}`);
  if (f.agentId !== undefined) {
    const a = arg(f.agentId);
    where.push(`(c.agent_id = ${a} OR c.flow_id IN (SELECT flow_id FROM calls WHERE agent_id = ${a} AND flow_id IS NOT NULL))`);
  }
  if (f.direction) where.push(`c.direction = ${arg(f.direction)}`);
  if (f.outcome) where.push(`c.outcome = ${arg(f.outcome)}`);
  if (f.from) where.push(`c.created_at >= ${arg(f.from)}`);
  if (f.to) where.push(`c.created_at < ${arg(f.to)}`);
  if (f.cursor !== undefined) where.push(`c.id < ${arg(f.cursor)}`);
  const r = await c.query(
    `SELECT c.id, c.flow_id, c.flow, c.direction, c.party, c.number, c.outcome, c.created_at, c.answered_at, c.ended_at,
            c.duration_s, c.talk_s, c.alarm_id, c.elder_id, e.name AS elder_name, c.contact_id,
            COALESCE(c.agent_id, ag.agent_id) AS agent_id, NULLIF(COALESCE(u.display_name, ''), '') AS display_name, u.username,
            rec.recording
       FROM calls c
       LEFT JOIN elders e ON e.id = c.elder_id
       LEFT JOIN LATERAL (SELECT agent_id FROM calls x WHERE x.flow_id = c.flow_id AND x.agent_id IS NOT NULL ORDER BY x.id LIMIT 1) ag ON c.agent_id IS NULL
       LEFT JOIN users u ON u.id = COALESCE(c.agent_id, ag.agent_id)
       LEFT JOIN LATERAL (SELECT y.recording FROM calls y WHERE (y.id = c.id OR y.flow_id = c.flow_id) AND y.recording IS NOT NULL AND y.recording_state IS DISTINCT FROM 'deleted' LIMIT 1) rec ON true
      WHERE ${where.join(' AND ')}
      ORDER BY c.id DESC LIMIT ${arg(f.limit + 1)}`,
    p,
  );
  const rows = r.rows.slice(0, f.limit).map((x) => {
    const { displayName, username, ...rest } = camel<CallLogRow & { displayName: string | null; username: string | null }>(x);
    return { ...rest, id: Number(rest.id), alarmId: rest.alarmId === null ? null : Number(rest.alarmId), elderId: rest.elderId === null ? null : Number(rest.elderId), contactId: rest.contactId === null ? null : Number(rest.contactId), agentId: rest.agentId === null ? null : Number(rest.agentId), agentName: displayName ?? username ?? null, hasRecording: rest.recording !== null };
  });
  return { items: rows, nextCursor: r.rows.length > f.limit ? rows[rows.length - 1]!.id : null };
}

/** A recording retention deleted is kept by name with this state, so the log can say it is gone. */
const LIVE_RECORDING = `recording IS NOT NULL AND recording_state IS DISTINCT FROM 'deleted'`;

/** Recordings of calls that ended before `before` (retention), one per call. */
export async function recordingsEndedBefore(c: Queryable, before: Date, limit = 200): Promise<{ flowId: string; recording: string }[]> {
  const r = await c.query(
    `SELECT flow_id, max(recording) AS recording FROM calls
      WHERE ${LIVE_RECORDING} AND flow_id IS NOT NULL
      GROUP BY flow_id HAVING bool_and(ended_at IS NOT NULL) AND max(ended_at) < $1
      ORDER BY max(ended_at) LIMIT $2`,
    [before, limit],
  );
  return r.rows.map((x) => ({ flowId: String(x.flow_id), recording: String(x.recording) }));
}

/** The call's recording is gone (retention deleted it): recording_state 'deleted', the name kept for the record. */
export async function recordingDeleted(c: Queryable, flowId: string): Promise<number> {
  const r = await c.query(`UPDATE calls SET recording_state = 'deleted' WHERE flow_id = $1 AND recording IS NOT NULL`, [flowId]);
  return r.rowCount ?? 0;
}

/** Voicemails on the call-back list left before `before` (retention). */
export async function voicemailsBefore(c: Queryable, before: Date, limit = 200): Promise<{ id: number; recording: string }[]> {
  const r = await c.query(`SELECT id, recording FROM callback_requests WHERE recording IS NOT NULL AND created_at < $1 ORDER BY id LIMIT $2`, [before, limit]);
  return r.rows.map((x) => ({ id: Number(x.id), recording: String(x.recording) }));
}

/** The voicemail's file is deleted: the row stays on the list (who called, when) without it. */
export async function voicemailDeleted(c: Queryable, id: number): Promise<void> {
  await c.query(`UPDATE callback_requests SET recording = NULL WHERE id = $1`, [id]);
}
