/**
 * Care programmes in the gateway (issue 22, care/README.md). The planner turns each active schedule's next
 * occurrences into runs (unique per schedule and time) and gives each new run its first attempt as a durable job, in
 * the same commit; so a restart neither loses nor repeats a call. An attempt checks for the day's check-in first,
 * then calls (or texts) the elder; its outcome decides, by care/attempts.ts, whether to retry later (another job),
 * finish, or escalate: 2 pressed raises `help_requested`, every attempt failed raises `welfare_check_failed` with the
 * attempts on its timeline and texts the contacts who may receive SMS.
 */
import { birthdaysOn, decideAfterAttempt, inWindow, localDate, nextOccurrence, normaliseTimes, occurrences, validateRule, type AttemptOutcome, type ScheduleRule } from '../../care/index.js';
import type { AlarmService } from '../alarms/alarm-service.js';
import type { Bus } from '../bus.js';
import type { Logger } from '../log.js';
import type { SmsService } from '../notify/sms-service.js';
import { addEvent } from '../store/alarms.js';
import { linkFlowToAlarm } from '../store/calls.js';
import { listSms } from '../store/sms.js';
import {
  activeSchedules, checkedInOn, deleteSchedule, deviceActiveSince, dropFutureRuns, eldersWithBirthDates, finishTask, getRun, getSchedule, getTask, insertCheckin, insertRun,
  insertSchedule, insertTask, listHolidays, listSchedules, pendingRunsOf, staleCallingRuns, updateRun, updateSchedule, type CareAttempt, type CareRun, type CareScheduleRow, type CareTask,
  type ScheduleFields,
} from '../store/care.js';
import { audit } from '../store/audit.js';
import { Conflict, Invalid, NotFound, invalidField } from '../errors.js';
import { tx, type Db } from '../store/db.js';
import { getElder, listContacts } from '../store/elders.js';
import type { JobQueue } from '../store/jobs.js';
import { wire } from '../ws-messages.js';

export const CARE_QUEUE = 'care-attempt';

export interface CareJob {
  runId: number;
  n: number;
}

/** What telephony/'s welfare flow answers (tel.welfareCall). */
export interface WelfareCallResult {
  callId: string;
  status: 'ok' | 'help' | 'no_key' | 'no_answer' | 'busy' | 'failed' | 'duplicate' | 'cancelled';
  recording?: string;
}
export interface WelfareCaller {
  welfareCall(req: { idempotencyKey: string; number: string; elderId?: string; language?: string; kind?: 'welfare' | 'medication' | 'appointment'; ringTimeoutS?: number }): Promise<{ callId: string; duplicate: boolean; done: Promise<WelfareCallResult> }>;
}

export interface CareOptions {
  timeZone: string;
  log: Logger;
  alarms: AlarmService;
  sms?: SmsService;
  /** the phone side, when telephony is on and up */
  telephony: () => WelfareCaller | undefined;
  /** welfare calls at once (CARE_MAX_CALLS) */
  maxCalls: number;
  /** how long a call rings before it is not answered (CARE_RING_TIMEOUT_S) */
  ringTimeoutS?: number;
  /** how far ahead runs are made (hours) */
  horizonH?: number;
}

const KIND_OF_CALL = { welfare_call: 'welfare', medication: 'medication', appointment: 'appointment' } as const;
const WHAT: Record<string, string> = { medication: '按时服药', appointment: '今天有预约' };

export function ruleOf(s: Pick<CareScheduleRow, 'recurrence' | 'times' | 'skipHolidays'>): ScheduleRule {
  return { recurrence: s.recurrence, times: s.times, skipHolidays: s.skipHolidays };
}

export class CareService {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private planning: Promise<void> = Promise.resolve();
  private readonly calls = new Set<Promise<void>>();
  private calling = false;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly jobs: JobQueue,
    private readonly o: CareOptions,
  ) {}

  /** The planner: on every node (planning twice makes nothing twice). The calls start with startCalling. */
  async start(): Promise<void> {
    await this.plan();
    this.timer = setInterval(() => void this.plan().catch((e: unknown) => this.o.log.warn({ err: e }, 'care planner failed; next minute again')), 60_000);
    this.timer.unref();
  }

  /**
   * The calls and reminders, on the node that runs telephony only (issue 24): it handles the queue's jobs, and
   * the runs left 'calling' are the previous holder's (nothing calls here yet), so they are recovered.
   */
  async startCalling(): Promise<void> {
    if (this.calling) return;
    this.calling = true;
    await this.jobs.work<CareJob>(CARE_QUEUE, (j) => this.attempt(j));
    await this.recoverStale(new Date(), 0);
  }

  /** Telephony moved to another node: it handles the jobs from now on; calls in progress here end as they end. */
  async stopCalling(): Promise<void> {
    if (!this.calling) return;
    this.calling = false;
    await this.jobs.stopWork(CARE_QUEUE);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.stopCalling().catch(() => undefined);
    await Promise.allSettled([...this.calls]);
  }

  // ---------------------------------------------------------------- planning

  /** Makes the runs of every active schedule up to the horizon, and today's birthday tasks. Safe to run twice. */
  plan(now = new Date()): Promise<void> {
    this.planning = this.planning.then(async () => {
      const holidays = new Set(await listHolidays(this.db));
      for (const s of await activeSchedules(this.db)) await this.planSchedule(s, holidays, now);
      await this.birthdays(now);
    });
    return this.planning;
  }

  /** One schedule's runs from now to the horizon; its next run time for the screens. */
  async planSchedule(s: CareScheduleRow, holidays?: ReadonlySet<string>, now = new Date()): Promise<void> {
    const h = holidays ?? new Set(await listHolidays(this.db));
    const rule = ruleOf(s);
    const to = new Date(now.getTime() + (this.o.horizonH ?? 26) * 3600_000);
    await tx(this.db, async (c) => {
      if (!s.active) {
        await updateSchedule(c, s.id, { nextAt: null });
        return;
      }
      for (const occ of occurrences(rule, { holidays: h, timeZone: this.o.timeZone, from: now, to })) {
        const run = await insertRun(c, { scheduleId: s.id, elderId: s.elderId, kind: s.kind, channel: s.channel, localDate: occ.date, dueAt: occ.at });
        if (run) await this.jobs.send(CARE_QUEUE, { runId: run.id, n: 1 } satisfies CareJob, { startAfter: occ.at, singletonKey: `care:${run.id}:1`, in: c });
      }
      const next = nextOccurrence(rule, { holidays: h, timeZone: this.o.timeZone, after: now });
      await updateSchedule(c, s.id, { nextAt: next?.at ?? null });
    });
  }

  private async birthdays(now: Date): Promise<void> {
    const date = localDate(now, this.o.timeZone);
    for (const b of birthdaysOn(date, await eldersWithBirthDates(this.db))) {
      const t = await insertTask(this.db, { elderId: b.elderId, reason: 'birthday', dueDate: date, note: `${b.age} 岁生日 / ${b.age}th birthday`, createdBy: null, sourceKey: `birthday:${b.elderId}:${date}` });
      if (t) this.pushTask(t);
    }
  }

  // ---------------------------------------------------------------- schedules and tasks (the API)

  /** Creates (elderId) or changes (id) a schedule: checked, stored, audited, and its runs made again from now. */
  async saveSchedule(target: { elderId: number } | { id: number }, f: ScheduleFields, by: number, now = new Date()): Promise<CareScheduleRow> {
    const saved = await tx(this.db, async (c) => {
      const before = 'id' in target ? await getSchedule(c, target.id, true) : undefined;
      if ('id' in target && !before) throw new NotFound(`care schedule ${target.id}`);
      if ('elderId' in target && !(await getElder(c, target.elderId))) throw new NotFound(`elder ${target.elderId}`);
      const merged = { kind: f.kind ?? before?.kind ?? 'welfare_call', channel: f.channel ?? before?.channel ?? 'call', recurrence: f.recurrence ?? before?.recurrence, times: f.times ?? before?.times };
      if (!merged.recurrence) throw invalidField('body/recurrence', '必填 / required');
      if (!merged.times) throw invalidField('body/times', '必填 / required');
      const times = normaliseTimes(merged.times);
      const problems = validateRule({ recurrence: merged.recurrence, times, skipHolidays: f.skipHolidays ?? before?.skipHolidays ?? false });
      if (problems.length) throw new Invalid('validation', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems.map((p) => ({ field: `body/${p.field}`, message: p.message })));
      const win = f.checkinWindow;
      // a window of the whole day would make every green key a check-in: never a service request again
      if (win && win.from === win.to) throw invalidField('body/checkinWindow', '签到时段的开始与结束不能相同 / the window must not start and end at the same time');
      if (merged.kind === 'welfare_call' && merged.channel === 'sms') throw invalidField('body/channel', '平安呼叫只能打电话 / a welfare call is a call, not an SMS');
      const fields = { ...f, times };
      const row = 'id' in target ? (await updateSchedule(c, target.id, fields))! : await insertSchedule(c, target.elderId, { ...fields, kind: merged.kind, recurrence: merged.recurrence, times }, by);
      // runs not started yet follow the new rule (the planner makes them again); a run under way finishes as it began
      await dropFutureRuns(c, row.id, now);
      await audit(c, `user:${by}`, before ? 'care_schedule_update' : 'care_schedule_create', `elder:${row.elderId}`, { scheduleId: row.id, kind: row.kind, fields: Object.keys(f) });
      return row;
    });
    await this.planSchedule(saved, undefined, now);
    return (await getSchedule(this.db, saved.id))!;
  }

  async removeSchedule(id: number, by: number): Promise<void> {
    await tx(this.db, async (c) => {
      const s = await getSchedule(c, id, true);
      if (!s) throw new NotFound(`care schedule ${id}`);
      await deleteSchedule(c, id);
      await audit(c, `user:${by}`, 'care_schedule_delete', `elder:${s.elderId}`, { scheduleId: id, kind: s.kind });
    });
  }

  async addTask(t: { elderId: number; reason: string; dueDate: string; note?: string }, by: number): Promise<CareTask> {
    const task = await tx(this.db, async (c) => {
      if (!(await getElder(c, t.elderId))) throw invalidField('body/elderId', `老人 ${t.elderId} 不存在 / no elder ${t.elderId}`);
      const made = (await insertTask(c, { ...t, createdBy: by }))!;
      await audit(c, `user:${by}`, 'care_task_create', `elder:${t.elderId}`, { taskId: made.id, reason: t.reason });
      return made;
    });
    this.pushTask(task);
    return task;
  }

  /** A care call made: its result goes on the elder's timeline (the task) and in the audit log. */
  async doneTask(id: number, d: { result: 'reached' | 'not_reached'; note?: string }, by: number): Promise<CareTask> {
    const task = await tx(this.db, async (c) => {
      const t = await getTask(c, id, true);
      if (!t) throw new NotFound(`care task ${id}`);
      if (t.state === 'done') throw new Conflict('already_done', `关怀任务 ${id} 已完成 / care task ${id} is already done`);
      const done = await finishTask(c, id, { result: d.result, note: d.note?.trim() || null, by });
      await audit(c, `user:${by}`, 'care_task_done', `elder:${t.elderId}`, { taskId: id, result: d.result });
      return done;
    });
    this.pushTask(task);
    return task;
  }

  private pushTask(task: CareTask): void {
    this.bus.emit('ws.push', { to: { roles: ['agent', 'supervisor', 'admin'] }, message: { type: 'care_task', task: wire(task) as unknown as Record<string, unknown> } });
  }

  // ---------------------------------------------------------------- check-ins

  /**
   * A check-in (the green key, a watch's check-in, an agent's word): recorded, and the day's waiting welfare runs
   * of the elder end as checked in. Answers whether it fell in a schedule's check-in window (for the green key: then
   * it is a check-in, not a service request).
   */
  async checkin(elderId: number, source: string, deviceId: number | null, at = new Date()): Promise<boolean> {
    const schedules = (await listSchedules(this.db, elderId)).filter((s) => s.active && s.kind === 'welfare_call');
    const windowed = schedules.some((s) => s.checkinWindow && inWindow(s.checkinWindow, at, this.o.timeZone));
    if (source !== 'agent' && !windowed) return false;
    const date = localDate(at, this.o.timeZone);
    const ended = await tx(this.db, async (c) => {
      await insertCheckin(c, { elderId, source, deviceId, at, localDate: date });
      const out: CareRun[] = [];
      for (const r of await pendingRunsOf(c, elderId, date)) out.push(await updateRun(c, r.id, { state: 'checked_in', reason: source, nextAttemptAt: null }));
      return out;
    });
    for (const r of ended) this.pushRun(r);
    return true;
  }

  // ---------------------------------------------------------------- attempts

  /** One attempt of a run (a job). Does nothing when the run has moved on (a repeated or late job). */
  async attempt(job: CareJob, now = new Date()): Promise<void> {
    const started = await tx(this.db, async (c) => {
      const run = await getRun(c, job.runId, true);
      if (!run || (run.state !== 'scheduled' && run.state !== 'retry_wait') || run.attempts.length !== job.n - 1) return undefined;
      const s = await getSchedule(c, run.scheduleId);
      if (!s || !s.active) return { run: await updateRun(c, run.id, { state: 'skipped', reason: s ? 'inactive' : 'deleted', nextAttemptAt: null }) };
      const elder = await getElder(c, run.elderId);
      if (run.kind === 'welfare_call') {
        const k = await checkedInOn(c, run.elderId, run.localDate);
        if (k) return { run: await updateRun(c, run.id, { state: 'checked_in', reason: k.source, nextAttemptAt: null }) };
        if (s.activityCheckin) {
          const a = await deviceActiveSince(c, run.elderId, new Date(now.getTime() - 3600_000));
          if (a) {
            await insertCheckin(c, { elderId: run.elderId, source: 'activity', deviceId: a.deviceId, at: a.at, localDate: run.localDate });
            return { run: await updateRun(c, run.id, { state: 'checked_in', reason: 'activity', nextAttemptAt: null }) };
          }
        }
      }
      const attempts: CareAttempt[] = [...run.attempts, { n: job.n, at: now.toISOString(), outcome: null, callId: null }];
      const updated = await updateRun(c, run.id, { state: 'calling', attempts, nextAttemptAt: null });
      return { run: updated, schedule: s, phone: elder?.phone ?? null, language: /英|english|en\b/i.test(elder?.dialect ?? '') ? 'en' : 'zh-CN', elderName: elder?.name ?? '' };
    });
    if (!started) return;
    this.pushRun(started.run);
    if (!('schedule' in started) || !started.schedule) return;
    const { run, schedule } = started;
    if (run.channel === 'sms') {
      await this.remindBySms(run, schedule, started.phone, started.elderName);
      return;
    }
    if (!started.phone) {
      await this.finish(run.id, job.n, { status: 'failed' }, 'no_phone');
      return;
    }
    // the call runs in the background: the queue goes on to the next job (at most maxCalls at once)
    await this.slot();
    const p = this.call(run, job.n, started.phone, started.language).finally(() => {
      this.release();
      this.calls.delete(p);
    });
    this.calls.add(p);
  }

  private async call(run: CareRun, n: number, phone: string, language: string): Promise<void> {
    const tel = this.o.telephony();
    if (!tel) return this.finish(run.id, n, { status: 'failed' }, 'telephony_off');
    try {
      const t = await tel.welfareCall({ idempotencyKey: `care:${run.id}:${n}`, number: phone, elderId: String(run.elderId), language, kind: KIND_OF_CALL[run.kind as keyof typeof KIND_OF_CALL] ?? 'welfare', ...(this.o.ringTimeoutS ? { ringTimeoutS: this.o.ringTimeoutS } : {}) });
      await this.setCallId(run.id, n, t.callId);
      // a key placed before (the process died mid-call): its result is not known here; it counts as failed
      const r = t.duplicate ? { callId: t.callId, status: 'failed' as const } : await t.done;
      await this.finish(run.id, n, r, t.duplicate ? 'lost' : undefined);
    } catch (e) {
      this.o.log.warn({ err: e, runId: run.id }, 'welfare call not placed');
      await this.finish(run.id, n, { status: 'failed' }, 'not_placed');
    }
  }

  private async setCallId(runId: number, n: number, callId: string): Promise<void> {
    await tx(this.db, async (c) => {
      const run = await getRun(c, runId, true);
      if (!run) return;
      await updateRun(c, runId, { attempts: run.attempts.map((a) => (a.n === n ? { ...a, callId } : a)) });
    });
  }

  /** The outcome of attempt n: the run retries (a job), or ends, raising its alarm where it must. */
  async finish(runId: number, n: number, r: { status: WelfareCallResult['status']; callId?: string; recording?: string }, why?: string, now = new Date()): Promise<void> {
    const given: AttemptOutcome = r.status === 'duplicate' || r.status === 'cancelled' ? 'failed' : r.status;
    const done = await tx(this.db, async (c) => {
      const run = await getRun(c, runId, true);
      if (!run || run.state !== 'calling' || run.attempts.length !== n) return undefined;
      const s = await getSchedule(c, run.scheduleId);
      // an outcome already written (the process died before the alarm below) stands: a "2" stays help
      const prior = run.attempts[n - 1]?.outcome;
      const outcome = (prior ? prior.split(':')[0] : given) as AttemptOutcome;
      const attempts = prior ? run.attempts : run.attempts.map((a) => (a.n === n ? { ...a, outcome: why ? `${outcome}:${why}` : outcome, callId: r.callId ?? a.callId } : a));
      const d = decideAfterAttempt({ outcome, attemptsMade: n, retries: s?.retries ?? 0, retryIntervalMin: s?.retryIntervalMin ?? 10, at: now });
      if ('retryAt' in d) {
        await this.jobs.send(CARE_QUEUE, { runId, n: n + 1 } satisfies CareJob, { startAfter: d.retryAt, singletonKey: `care:${runId}:${n + 1}`, in: c });
        return { run: await updateRun(c, runId, { state: 'retry_wait', attempts, nextAttemptAt: d.retryAt }) };
      }
      // help and failed stay `calling` until their alarm is committed (below): a crash in between is recovered at start
      if (d.final !== 'ok') return { run: await updateRun(c, runId, { attempts }), final: d.final };
      return { run: await updateRun(c, runId, { state: d.final, attempts }), final: d.final };
    });
    if (!done) return;
    let run = done.run;
    if (done.final === 'help' || done.final === 'failed') run = await this.escalate(run, done.final, r.recording);
    this.pushRun(run);
  }

  /** help → help_requested (with the call and its recording); failed → welfare_check_failed, attempts on its timeline, SMS. */
  private async escalate(run: CareRun, final: 'help' | 'failed', recording?: string): Promise<CareRun> {
    const kind = final === 'help' ? 'help_requested' : 'welfare_check_failed';
    const identifier = `care:${run.elderId}`;
    const [alarm] = await this.o.alarms.commit(
      // deviceTime makes the journal key permanent: committed again after a crash, it is the same alarm
      { deviceId: identifier, protocol: 'phone', kind: 'call', receivedAt: new Date(), deviceTime: run.dueAt, raw: `care:${run.id}:${kind}` },
      { id: null, identifier, elderId: run.elderId, protocol: 'phone' },
      [{ kind, detail: { careRunId: run.id, scheduleKind: run.kind, ...(recording ? { recording } : {}) } }],
      [],
    );
    if (!alarm) throw new Error(`care run ${run.id}: ${kind} not committed`);
    // the family is texted before the run is marked ended, so an ended run has its SMS stored; a pass after a crash
    // finds the messages already stored for this alarm and adds none
    if (final === 'failed' && this.o.sms) {
      const elder = await getElder(this.db, run.elderId);
      const sent = new Set((await listSms(this.db, { alarmId: alarm.id, limit: 200 })).filter((m) => m.template === 'welfare_failed').map((m) => m.contactId));
      for (const ct of await listContacts(this.db, run.elderId)) {
        if (!ct.maySms || !ct.phone || sent.has(ct.id)) continue;
        await this.o.sms.send('welfare_failed', { elder: elder?.name ?? '' }, { number: ct.phone, priority: 2, public: true, alarmId: alarm.id, elderId: run.elderId, contactId: ct.id }).catch((e: unknown) => this.o.log.warn({ err: e }, 'welfare SMS not stored'));
      }
    }
    // the run ends with its alarm, once: a second pass (after a crash) finds it ended and adds nothing
    const updated = await tx(this.db, async (c) => {
      const cur = await getRun(c, run.id, true);
      if (!cur || cur.state !== 'calling') return undefined;
      for (const a of cur.attempts) {
        await addEvent(c, alarm.id, 'system', 'care_attempt', null, null, { n: a.n, at: a.at, outcome: a.outcome, callId: a.callId, careRunId: run.id });
        if (a.callId) await linkFlowToAlarm(c, a.callId, alarm.id);
      }
      return updateRun(c, run.id, { state: final, alarmId: alarm.id });
    });
    if (!updated) return (await getRun(this.db, run.id)) ?? run;
    return updated;
  }

  private async remindBySms(run: CareRun, s: CareScheduleRow, phone: string | null, elderName: string): Promise<void> {
    let outcome: AttemptOutcome = 'failed';
    if (phone && this.o.sms) {
      const m = await this.o.sms.send('care_reminder', { elder: elderName, what: WHAT[run.kind] ?? '', note: s.note ? `：${s.note}` : '' }, { number: phone, priority: 3, elderId: run.elderId }).catch(() => undefined);
      if (m && m.state !== 'failed' && m.state !== 'suppressed') outcome = 'ok';
    }
    await this.finish(run.id, run.attempts.length, { status: outcome === 'ok' ? 'ok' : 'failed' }, outcome === 'ok' ? undefined : phone ? 'sms_failed' : 'no_phone');
  }

  /** Runs left `calling` by a process that died: that attempt counts as failed (lost), and the run goes on. */
  async recoverStale(now = new Date(), olderThanMs = 10 * 60_000): Promise<number> {
    const stale = await staleCallingRuns(this.db, new Date(now.getTime() - olderThanMs));
    for (const r of stale) await this.finish(r.id, r.attempts.length, { status: 'failed' }, 'lost', now);
    return stale.length;
  }

  private pushRun(run: CareRun): void {
    this.bus.emit('ws.push', { to: { roles: ['agent', 'supervisor', 'admin'] }, message: { type: 'care_run', run: wire(run) as unknown as Record<string, unknown> } });
  }

  private slot(): Promise<void> {
    if (this.active < this.o.maxCalls) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(() => r()));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
