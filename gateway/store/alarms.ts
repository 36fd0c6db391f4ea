import type { Queryable } from './db.js';
import { camel } from './rows.js';

export interface Alarm {
  id: number;
  kind: string;
  priority: number;
  alarmClass: 'operator' | 'condition';
  state: string;
  deviceId: number | null;
  elderId: number | null;
  sourceKey: string | null;
  zone: string | null;
  count: number;
  firstAt: Date;
  lastAt: Date;
  ownerId: number | null;
  outcome: string | null;
  detail: Record<string, unknown>;
  lat: number | null;
  lon: number | null;
  closedAt: Date | null;
  updatedAt: Date;
  plan: Record<string, unknown> | null;
  escStartedAt: Date | null;
  escDone: number[];
  nextStepAt: Date | null;
  presentedTo: number[];
  acceptedAt: Date | null;
  resolvedAt: Date | null;
  /** raised during its device's activation test (设备开通): closed at once, never presented nor escalated */
  test: boolean;
}

export interface AlarmEvent {
  id: number;
  alarmId: number;
  at: Date;
  actor: string;
  action: string;
  fromState: string | null;
  toState: string | null;
  detail: Record<string, unknown>;
}

export interface RaiseInput {
  kind: string;
  priority: number;
  alarmClass: 'operator' | 'condition';
  deviceId: number | null;
  elderId: number | null;
  sourceKey: string;
  zone?: string | null;
  at: Date;
  lat?: number | null;
  lon?: number | null;
  detail?: Record<string, unknown>;
}

const OPEN = `state NOT IN ('closed', 'cleared')`;
/**
 * Unhandled or in hand: the only states a repeat may fold into (the partial unique index alarms_one_open has
 * the same predicate). From resolved on, a new event of the same kind is a new alarm (issue 14).
 */
const IN_HAND = `state IN ('raised', 'presented', 'accepted', 'in_progress')`;
/** A new alarm links to the last one of its source and kind resolved within this window ("again, 12 min after #41"). */
const RECUR_LINK_H = 24;

/** What a new alarm starts its escalation with (written with the row, so a new alarm costs no second statement). */
export interface EscalationStart {
  plan: Record<string, unknown>;
  escStartedAt: Date;
  nextStepAt: Date | null;
}

/**
 * Raises an alarm, or folds a repeat into the open alarm for (source, kind): count + 1, last_at. The timeline's
 * raised/repeated line is written by the same statement, and a new alarm gets `start` (its plan) with it: round trips
 * are what an alarm's commit waits for when the event loop is busy with device traffic (issue 25).
 * Must run inside the caller's transaction.
 */
export async function raiseOrRepeat(c: Queryable, a: RaiseInput, actor = 'device', start?: EscalationStart): Promise<{ alarm: Alarm; created: boolean }> {
  const r = await c.query(
    `WITH a AS (
       INSERT INTO alarms (kind, priority, alarm_class, device_id, elder_id, source_key, zone, first_at, last_at, lat, lon, detail, plan, esc_started_at, next_step_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $13, $14, $15)
       ON CONFLICT (source_key, kind) WHERE ${IN_HAND}
       DO UPDATE SET count = alarms.count + 1, last_at = GREATEST(alarms.last_at, EXCLUDED.last_at),
         lat = COALESCE(EXCLUDED.lat, alarms.lat), lon = COALESCE(EXCLUDED.lon, alarms.lon), updated_at = now()
       RETURNING *, (xmax = 0) AS created
     ), e AS (
       INSERT INTO alarm_events (alarm_id, actor, action, from_state, to_state, detail)
       SELECT id, $12, CASE WHEN created THEN 'raised' ELSE 'repeated' END, CASE WHEN created THEN NULL ELSE state END, state,
              CASE WHEN created THEN $11::jsonb ELSE jsonb_build_object('count', count) END
       FROM a
     )
     SELECT * FROM a`,
    [
      a.kind, a.priority, a.alarmClass, a.deviceId, a.elderId, a.sourceKey, a.zone ?? null, a.at, a.lat ?? null, a.lon ?? null, JSON.stringify(a.detail ?? {}), actor,
      start ? JSON.stringify(start.plan) : null, start?.escStartedAt ?? null, start?.nextStepAt ?? null,
    ],
  );
  const { created, ...row } = r.rows[0];
  const alarm = camel<Alarm>(row);
  if (created) await linkRecurrence(c, alarm);
  return { alarm, created: Boolean(created) };
}

/**
 * A test alarm (the device is in its activation test window): stored closed at once with outcome 'test', with no
 * plan nor next step, so nothing presents, escalates or calls back; its timeline says raised then closed.
 * Inserted closed, it never meets the one-open-alarm index, so it never folds into (nor blocks) a real alarm.
 * Must run inside the caller's transaction.
 */
export async function insertTestAlarm(c: Queryable, a: RaiseInput, actor = 'device'): Promise<Alarm> {
  const r = await c.query(
    `INSERT INTO alarms (kind, priority, alarm_class, device_id, elder_id, source_key, zone, first_at, last_at, lat, lon, detail, state, outcome, closed_at, test)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, 'closed', 'test', now(), true)
     RETURNING *`,
    [a.kind, a.priority, a.alarmClass, a.deviceId, a.elderId, a.sourceKey, a.zone ?? null, a.at, a.lat ?? null, a.lon ?? null, JSON.stringify(a.detail ?? {})],
  );
  const alarm = camel<Alarm>(r.rows[0]);
  await addEvent(c, alarm.id, actor, 'raised', null, 'raised', { ...a.detail, test: true });
  await addEvent(c, alarm.id, 'system', 'close', 'raised', 'closed', { test: true, outcome: 'test' });
  return alarm;
}

/**
 * Both timelines of a recurrence: the new alarm says "again, N min after #41 was resolved", and #41 says which
 * alarm followed. Only an earlier alarm of the same source and kind that a person resolved counts.
 */
async function linkRecurrence(c: Queryable, alarm: Alarm): Promise<void> {
  const r = await c.query(
    `SELECT id, resolved_at, state FROM alarms
     WHERE source_key = $1 AND kind = $2 AND id < $3 AND resolved_at IS NOT NULL AND resolved_at > $4::timestamptz - make_interval(hours => $5)
     ORDER BY id DESC LIMIT 1`,
    [alarm.sourceKey, alarm.kind, alarm.id, alarm.firstAt, RECUR_LINK_H],
  );
  const prev = r.rows[0] as { id: string; resolved_at: Date; state: string } | undefined;
  if (!prev) return;
  const minutesAfter = Math.max(0, Math.round((alarm.firstAt.getTime() - new Date(prev.resolved_at).getTime()) / 60_000));
  await addEvent(c, alarm.id, 'system', 'recurred', alarm.state, alarm.state, { previousId: Number(prev.id), minutesAfter, previousState: prev.state });
  await addEvent(c, Number(prev.id), 'system', 'recurred_as', prev.state, prev.state, { nextId: alarm.id, minutesAfter });
}

export async function addEvent(c: Queryable, alarmId: number, actor: string, action: string, from: string | null, to: string | null, detail: Record<string, unknown> = {}): Promise<void> {
  await c.query('INSERT INTO alarm_events (alarm_id, actor, action, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5, $6)', [alarmId, actor, action, from, to, JSON.stringify(detail)]);
}

/** Clears the open condition alarm for (source, kind), if any. */
export async function clearOpen(c: Queryable, sourceKey: string, kind: string, actor = 'device'): Promise<Alarm | undefined> {
  const r = await c.query(
    `UPDATE alarms SET state = 'cleared', closed_at = now(), updated_at = now()
     WHERE source_key = $1 AND kind = $2 AND state IN ('raised', 'presented') AND alarm_class = 'condition' RETURNING *`,
    [sourceKey, kind],
  );
  if (!r.rows[0]) return undefined;
  const alarm = camel<Alarm>(r.rows[0]);
  await addEvent(c, alarm.id, actor, 'clear', 'raised', 'cleared');
  return alarm;
}

/** A restore for an operator alarm does not close it (someone must still handle it): it goes on the timeline. */
export async function noteRestore(c: Queryable, sourceKey: string, kind: string, actor = 'device'): Promise<Alarm | undefined> {
  // In hand first; else the latest one still awaiting follow-up or close.
  const r = await c.query(`SELECT * FROM alarms WHERE source_key = $1 AND kind = $2 AND ${OPEN} ORDER BY (${IN_HAND}) DESC, id DESC LIMIT 1`, [sourceKey, kind]);
  if (!r.rows[0]) return undefined;
  const alarm = camel<Alarm>(r.rows[0]);
  await addEvent(c, alarm.id, actor, 'restore_received', alarm.state, alarm.state);
  return alarm;
}

/** Housekeeping: de-duplication keys are only needed while a device might still retransmit. */
export async function pruneProcessedMessages(c: Queryable, olderThanDays = 7): Promise<number> {
  const r = await c.query(`DELETE FROM processed_messages WHERE at < now() - make_interval(days => $1)`, [olderThanDays]);
  return r.rowCount ?? 0;
}

/**
 * Message-level idempotency, with what the commit reads next in the same round trip: whether the device is in its
 * activation test window (not locked: a window that ends during the commit is a race either answer is right for;
 * and only for the device's own alarms, same identifier: a hotline emergency call that names the elder's device is
 * never a test) and the elder's response plan (rule-state.ts elderRules). `seen` is null for a new message,
 * or the alarm ids already recorded for it; `windowS` bounds how long an identical key counts as a retransmission
 * (for frames without a device time).
 */
export async function claimForCommit(
  c: Queryable,
  key: string,
  windowS: number | null,
  who: { deviceId: number | null; identifier: string; elderId: number | null },
): Promise<{ seen: number[] | null; testing: boolean; responsePlan: unknown }> {
  const r = await c.query(
    `WITH ins AS (INSERT INTO processed_messages (dedup_key) VALUES ($1) ON CONFLICT DO NOTHING RETURNING dedup_key)
     SELECT EXISTS (SELECT 1 FROM ins) AS claimed,
            COALESCE((SELECT test_until > now() FROM devices WHERE id = $2 AND identifier = $3), false) AS testing,
            (SELECT response_plan FROM elders WHERE id = $4) AS "responsePlan"`,
    [key, who.deviceId, who.identifier, who.elderId],
  );
  const row = r.rows[0] as { claimed: boolean; testing: boolean; responsePlan: unknown };
  return { seen: row.claimed ? null : await claimedBefore(c, key, windowS), testing: row.testing, responsePlan: row.responsePlan };
}

/** The key was claimed before: a retransmission (its alarm ids), or null when it counts as a new event again. */
async function claimedBefore(c: Queryable, key: string, windowS: number | null): Promise<number[] | null> {
  const r = await c.query('SELECT alarm_ids, at FROM processed_messages WHERE dedup_key = $1 FOR UPDATE', [key]);
  const row = r.rows[0];
  const ids: number[] = row.alarm_ids.map(Number);
  if (windowS !== null) {
    // Without a device time, identical bytes may be a new event (a second fall, a second press). Only treat
    // them as a retransmission inside the window AND while what they raised is still in hand: re-raising after
    // an agent resolved the alarm is the safe side (issue 14: a new event is never silently absorbed).
    const expired = Date.now() - new Date(row.at).getTime() > windowS * 1000;
    // A test alarm is closed at birth, yet its retransmission inside the window is still the same press.
    const closed = ids.length > 0 && (await c.query(`SELECT bool_and(NOT (${IN_HAND}) AND NOT test) AS done FROM alarms WHERE id = ANY($1)`, [ids])).rows[0].done === true;
    if (expired || closed) {
      await c.query(`UPDATE processed_messages SET at = now(), alarm_ids = '{}' WHERE dedup_key = $1`, [key]);
      return null;
    }
  }
  return ids;
}

export async function recordMessageAlarms(c: Queryable, key: string, ids: number[]): Promise<void> {
  await c.query('UPDATE processed_messages SET alarm_ids = $2 WHERE dedup_key = $1', [key, ids]);
}

export async function getAlarm(c: Queryable, id: number, lock = false): Promise<Alarm | undefined> {
  const r = await c.query(`SELECT * FROM alarms WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  return r.rows[0] ? camel<Alarm>(r.rows[0]) : undefined;
}

export async function listAlarms(c: Queryable, f: { open?: boolean; state?: string; kind?: string; elderId?: number; priorityMax?: number; limit: number; offset: number }): Promise<Alarm[]> {
  const where: string[] = [];
  const p: unknown[] = [f.limit, f.offset];
  if (f.open) where.push(OPEN);
  if (f.state) where.push(`state = $${p.push(f.state)}`);
  if (f.kind) where.push(`kind = $${p.push(f.kind)}`);
  if (f.elderId !== undefined) where.push(`elder_id = $${p.push(f.elderId)}`);
  if (f.priorityMax !== undefined) where.push(`priority <= $${p.push(f.priorityMax)}`);
  const r = await c.query(
    `SELECT * FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY priority ASC, first_at ASC, id ASC LIMIT $1 OFFSET $2`,
    p,
  );
  return r.rows.map((x) => camel<Alarm>(x));
}

export async function listEvents(c: Queryable, alarmId: number): Promise<AlarmEvent[]> {
  const r = await c.query('SELECT * FROM alarm_events WHERE alarm_id = $1 ORDER BY at, id', [alarmId]);
  return r.rows.map((x) => camel<AlarmEvent>(x));
}

const UPDATABLE = ['state', 'ownerId', 'outcome', 'presentedTo', 'escDone', 'nextStepAt', 'escStartedAt', 'plan', 'acceptedAt', 'resolvedAt', 'closedAt'] as const;
export type AlarmPatch = Partial<Pick<Alarm, (typeof UPDATABLE)[number]>>;

/** Updates an alarm inside the caller's transaction (the caller holds the row lock). */
export async function updateAlarm(c: Queryable, id: number, patch: AlarmPatch): Promise<Alarm> {
  const keys = Object.keys(patch).filter((k) => (UPDATABLE as readonly string[]).includes(k)) as (keyof AlarmPatch)[];
  const cols = keys.map((k, i) => `${k.replace(/[A-Z]/g, (x) => `_${x.toLowerCase()}`)} = $${i + 2}`);
  const vals = keys.map((k) => (k === 'plan' && patch.plan ? JSON.stringify(patch.plan) : patch[k]));
  const r = await c.query(`UPDATE alarms SET ${[...cols, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`, [id, ...vals]);
  return camel<Alarm>(r.rows[0]);
}

/**
 * An alarm shown to users (a screen-pop): its state, whom it was shown to, and the timeline's `present` line naming
 * `targets` (display name, else username, else #id, in their order), in one statement: the screen-pop waits for
 * each round trip (issue 25). Must run inside the caller's transaction.
 */
export async function presentAlarm(
  c: Queryable,
  id: number,
  p: { from: string; state: string; presentedTo: number[]; targets: number[]; detail: Record<string, unknown> },
): Promise<Alarm> {
  const r = await c.query(
    `WITH u AS (UPDATE alarms SET state = $2, presented_to = $3, updated_at = now() WHERE id = $1 RETURNING *),
     names AS (
       SELECT COALESCE(jsonb_agg(COALESCE(NULLIF(x.display_name, ''), x.username, '#' || t.id) ORDER BY t.ord), '[]'::jsonb) AS list
       FROM unnest($4::bigint[]) WITH ORDINALITY AS t(id, ord) LEFT JOIN users x ON x.id = t.id
     ), e AS (
       INSERT INTO alarm_events (alarm_id, actor, action, from_state, to_state, detail)
       SELECT u.id, 'system', 'present', $5, u.state, $6::jsonb || jsonb_build_object('toNames', names.list) FROM u, names
     )
     SELECT * FROM u`,
    [id, p.state, p.presentedTo, p.targets, p.from, JSON.stringify(p.detail)],
  );
  return camel<Alarm>(r.rows[0]);
}

/**
 * Alarms whose next escalation step is due, locked; others' locked rows are skipped (a concurrent pass, several
 * nodes). `ids`: only
 * those alarms (the ones a commit just raised, so their screen-pop does not wait behind older alarms' steps).
 */
export async function lockDueEscalations(c: Queryable, now: Date, limit = 20, ids?: number[]): Promise<Alarm[]> {
  const r = ids
    ? await c.query(`SELECT * FROM alarms WHERE id = ANY($3) AND next_step_at IS NOT NULL AND next_step_at <= $1 ORDER BY next_step_at LIMIT $2 FOR UPDATE SKIP LOCKED`, [now, limit, ids])
    : await c.query(`SELECT * FROM alarms WHERE next_step_at IS NOT NULL AND next_step_at <= $1 ORDER BY next_step_at LIMIT $2 FOR UPDATE SKIP LOCKED`, [now, limit]);
  return r.rows.map((x) => camel<Alarm>(x));
}

/**
 * For an agent who just became ready: the most urgent alarm still waiting for someone, locked. That is one presented
 * to nobody yet, or a P1 not yet accepted that this agent has not been shown (it may sit with supervisors and
 * agents in wrap-up only).
 */
export async function lockWaitingFor(c: Queryable, userId: number): Promise<Alarm | undefined> {
  const r = await c.query(
    `SELECT * FROM alarms
     WHERE alarm_class = 'operator' AND NOT ($1 = ANY(presented_to))
       AND ((state = 'raised' AND cardinality(presented_to) = 0) OR (state = 'presented' AND priority = 1))
     ORDER BY priority, first_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [userId],
  );
  return r.rows[0] ? camel<Alarm>(r.rows[0]) : undefined;
}

/**
 * Answered-in-time rates for the supervisor (接通率 / 及时率): accepted within 60 s and 180 s of being raised.
 * An alarm counts toward a rate only once it is decided for that window: answered, or its window has passed
 * (an alarm waiting 36 s is neither a hit nor a miss for the 60 s rate yet). Each rate has its own denominator.
 */
export async function answerRates(c: Queryable, since: Date, now = new Date()): Promise<{ total: number; decided60: number; decided180: number; within60: number; within180: number }> {
  const r = await c.query(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE accepted_at IS NOT NULL OR $2::timestamptz - first_at > interval '60 seconds')::int AS decided60,
            count(*) FILTER (WHERE accepted_at IS NOT NULL OR $2::timestamptz - first_at > interval '180 seconds')::int AS decided180,
            count(*) FILTER (WHERE accepted_at - first_at <= interval '60 seconds')::int AS within60,
            count(*) FILTER (WHERE accepted_at - first_at <= interval '180 seconds')::int AS within180
     FROM alarms WHERE first_at >= $1 AND first_at <= $2 AND alarm_class = 'operator' AND NOT test`,
    [since, now],
  );
  return r.rows[0];
}
