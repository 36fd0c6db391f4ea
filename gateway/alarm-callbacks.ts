/**
 * Escalation step 3, the automatic response: call the elder back (if the plan says so), then the contacts in order
 * (issue 24). The escalator writes a request in the step's transaction (store/alarm-callbacks.ts); this runner, on the
 * node holding telephony only, takes the open requests and places the calls. So a callback due while no node holds
 * telephony (a takeover) waits and is placed by the next holder, and one whose holder died mid-way runs again there:
 * the calls' idempotency keys (`alarm:<id>:callback`, `alarm:<id>:cascade`) answer "duplicate" for what was dialled
 * already, so nothing is dialled twice.
 */
import { escalationActive, type AlarmState } from '../alarms/index.js';
import type { Telephony } from '../telephony/index.js';
import type { Bus } from './bus.js';
import type { Logger } from './log.js';
import { finishCallback, takeOpenCallbacks, type CallbackRequest } from './store/alarm-callbacks.js';
import { addEvent, getAlarm } from './store/alarms.js';
import type { Db } from './store/db.js';
import { getElder, listContacts } from './store/elders.js';

const POLL_MS = 1000;
/** a request whose run failed (Asterisk unreachable) is tried again after this */
const RETRY_MS = 10_000;

interface Plan {
  callbackElder?: boolean;
  cascade?: { rounds: number; ringTimeoutS: number; acceptDigit: string };
}

export class AlarmCallbacks {
  private timer?: NodeJS.Timeout;
  private off?: () => void;
  private polling = false;
  private again = false;
  private stopped = true;
  /** bumped by stop: a run begun before it goes no further (the next holder runs the request again) */
  private generation = 0;
  /** alarm id → its run in progress here */
  private readonly running = new Map<number, Promise<void>>();
  /** alarm id → not before (a failed run) */
  private readonly backoff = new Map<number, number>();

  constructor(
    private readonly o: {
      db: Db;
      bus: Bus;
      node: string;
      /** the live telephony; undefined when it is switched off (TELEPHONY=off) */
      telephony: () => Telephony | undefined;
      log: Logger;
    },
  ) {}

  /** This node holds telephony: run every open request, now and as they come. */
  start(): void {
    this.stopped = false;
    this.off = this.o.bus.on('alarm.callback', () => this.kick());
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /**
   * Telephony moved away: take nothing more. Runs in progress are not waited for (their calls may last minutes);
   * their requests stay open and the next holder finishes them.
   */
  stop(): void {
    this.stopped = true;
    this.generation++;
    clearInterval(this.timer);
    this.off?.();
    this.running.clear();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    void this.poll()
      .catch((e) => this.o.log.warn({ err: e }, 'alarm callbacks: could not read the open requests; next second again'))
      .finally(() => {
        this.polling = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async poll(): Promise<void> {
    const now = Date.now();
    for (const [id, at] of this.backoff) if (at <= now) this.backoff.delete(id);
    const skip = [...this.running.keys(), ...this.backoff.keys()];
    const taken = await takeOpenCallbacks(this.o.db, this.o.node, skip);
    for (const req of taken) {
      if (this.stopped) return;
      const p = this.run(req)
        .catch((e) => {
          this.backoff.set(req.alarmId, Date.now() + RETRY_MS);
          this.o.log.warn({ err: e, alarmId: req.alarmId }, 'alarm callback failed; tried again shortly');
        })
        .finally(() => {
          if (this.running.get(req.alarmId) === p) this.running.delete(req.alarmId);
        });
      this.running.set(req.alarmId, p);
    }
  }

  private async run(req: CallbackRequest): Promise<void> {
    const { db } = this.o;
    const id = req.alarmId;
    const gen = this.generation;
    /** telephony moved away meanwhile: stop here, leaving the request open for the next holder */
    const moved = () => gen !== this.generation;
    const alarm = await getAlarm(db, id);
    if (!alarm) return finishCallback(db, id, 'alarm_gone');
    // taken over from a node that died mid-way, or waited through a takeover
    if (req.runs > 1) await addEvent(db, id, 'system', 'callback_resumed', null, null, { run: req.runs, node: this.o.node });
    if (!escalationActive(alarm.state as AlarmState)) {
      await addEvent(db, id, 'system', 'callback_not_placed', null, null, { reason: 'alarm_handled', state: alarm.state });
      return finishCallback(db, id, 'alarm_handled');
    }
    const tel = this.o.telephony();
    if (!tel) {
      await addEvent(db, id, 'system', 'callback_not_placed', null, null, { reason: 'telephony_off' });
      return finishCallback(db, id, 'telephony_off');
    }
    const plan = req.plan as Plan;
    const elder = alarm.elderId ? await getElder(db, alarm.elderId) : undefined;
    if (!elder) return finishCallback(db, id, 'no_elder');
    // the unit's own voice line when it told us one (a SCAIP carephone's `crd`: its speakerphone is by the elder),
    // else the elder's phone
    const unit = typeof alarm.detail?.callbackNumber === 'string' ? alarm.detail.callbackNumber : undefined;
    const number = unit ?? elder.phone;
    if (plan.callbackElder !== false && number) {
      const t = await tel.callback({ idempotencyKey: `alarm:${id}:callback`, number, alarmId: String(id), elderId: String(elder.id) });
      await addEvent(db, id, 'system', 'callback_started', null, null, { callId: t.callId, duplicate: t.duplicate, ...(unit ? { to: 'unit' } : {}) });
      const r = await t.done;
      if (moved()) return;
      await addEvent(db, id, 'system', 'callback_result', null, null, { status: r.status });
    }
    const contacts = await listContacts(db, elder.id);
    if (!contacts.length) return finishCallback(db, id, 'no_contacts');
    if (moved()) return;
    const t = await tel.cascade({
      idempotencyKey: `alarm:${id}:cascade`, alarmId: String(id), elderId: String(elder.id),
      contacts: contacts.map((c) => ({ number: c.phone, contactId: String(c.id), name: c.name })),
      ...(plan.cascade ? { rounds: plan.cascade.rounds, ringTimeoutS: plan.cascade.ringTimeoutS, acceptDigit: plan.cascade.acceptDigit } : {}),
    });
    await addEvent(db, id, 'system', 'cascade_started', null, null, { callId: t.callId, duplicate: t.duplicate });
    const r = await t.done;
    if (moved()) return;
    await addEvent(db, id, 'system', 'cascade_result', null, null, { status: r.status, attempts: r.attempts.length });
    if (t.duplicate) {
      // a cascade the previous holder began and did not finish is not continued (its calls' outcomes died with
      // it): the supervisor is told, so the contacts are called by hand
      const now = await getAlarm(db, id);
      if (now) this.o.bus.emit('supervisor.alert', { alarm: now, reason: 'cascade_interrupted' });
    }
    await finishCallback(db, id, `cascade_${r.status}`);
  }
}
