/**
 * SMS (issue 21) over whichever transport is configured (sms/: SMPP or a GSM modem), with the centre's rules:
 * - only numbers from our records: callers pass a contact's or a staff member's number, never one typed in;
 * - a rate limit per number (SMS_RATE_PER_HOUR) and the opt-out (回复TD退订) are honoured: such a message is stored
 *   as `suppressed` with the reason, never silently dropped;
 * - in the quiet hours (SMS_QUIET_HOURS) only P1 messages to families go at once; the rest to families are `held`
 *   as durable jobs until the hours end (staff on duty get theirs at once: a night dispatch is their job);
 * - every message is stored with its delivery state (receipts update it) and counted; the alarm path never waits
 *   for an SMS: `send` stores and hands off, and a failing transport is a `failed` row, not an error.
 * Numbers and texts are personal: they are stored, never logged.
 */
import { inWindow, parseHHMM, localSecondsOfDay } from '../../alarms/rules/schedule.js';
import type { SmsInbound, SmsReceipt, SmsSender } from '../../sms/index.js';
import type { Bus } from '../bus.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { JobQueue } from '../store/jobs.js';
import { getSms, insertSms, isOptedOut, sentToSince, setOptOut, setSmsState, type SmsAbout, type SmsMessage } from '../store/sms.js';
import { renderSms, type SmsLocale, type SmsTemplate } from './templates.js';

export const SMS_HELD_QUEUE = 'sms-held';
const OPT_OUT_WORDS = new Set(['TD', 'T', '退订', 'STOP', 'UNSUBSCRIBE']);
const OPT_IN_WORDS = new Set(['KT', '订阅', 'START']);

export interface SmsSettings {
  ratePerHour: number;
  /** 'HH:MM-HH:MM' in the centre's time zone, or null */
  quietHours: { from: string; to: string } | null;
  timeZone: string;
  locale: SmsLocale;
}

export interface SmsCounters {
  inc(labels: { direction: string; state: string }): void;
}

/** `13800138000` from `+8613800138000`, `8613800138000` or `13800138000`: how our records keep mobiles. */
export function nationalNumber(n: string): string {
  const d = n.replace(/[\s-]/g, '');
  const m = /^(?:\+?86)?(1\d{10})$/.exec(d);
  return m ? m[1]! : d.replace(/^\+/, '');
}

/** Parses SMS_QUIET_HOURS ('22:00-07:00'); throws a readable error. */
export function parseQuietHours(text: string | undefined): { from: string; to: string } | null {
  if (!text || text === 'off') return null;
  const m = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(text.trim());
  if (!m || Number.isNaN(parseHHMM(m[1]!)) || Number.isNaN(parseHHMM(m[2]!))) throw new Error(`SMS_QUIET_HOURS must be HH:MM-HH:MM (e.g. 22:00-07:00) or off, not ${JSON.stringify(text)}`);
  return { from: m[1]!, to: m[2]! };
}

/** When the quiet hours that hold `now` end (the next local `to`). */
export function quietEnd(now: Date, q: { to: string }, timeZone: string): Date {
  const toS = parseHHMM(q.to) * 60;
  const nowS = localSecondsOfDay(now, timeZone);
  const waitS = (toS - nowS + 86400) % 86400 || 86400;
  return new Date(now.getTime() + waitS * 1000);
}

export type InboundReply = { kind: 'accept' | 'refuse'; number: string; at: Date } | { kind: 'other'; number: string; text: string; at: Date };

export class SmsService {
  private readonly replyHandlers: ((r: InboundReply, message: SmsMessage) => Promise<void>)[] = [];

  constructor(
    private readonly db: Db,
    private readonly sender: SmsSender | undefined,
    private readonly bus: Bus,
    private readonly jobs: JobQueue | undefined,
    private readonly settings: SmsSettings,
    private readonly counters: SmsCounters,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.jobs) await this.jobs.work<{ id: number }>(SMS_HELD_QUEUE, ({ id }) => this.deliver(id));
    if (!this.sender) return;
    this.sender.onReceipt((r) => void this.receipt(r).catch((e) => this.log.warn({ err: e }, 'sms receipt not stored')));
    this.sender.onInbound((m) => void this.inbound(m).catch((e) => this.log.warn({ err: e }, 'inbound sms not handled')));
    await this.sender.start();
  }

  async stop(): Promise<void> {
    await this.sender?.stop();
  }

  /** Replies to our messages ("1", "2", anything else) go to these, after opt-outs are taken care of. */
  onReply(fn: (r: InboundReply, message: SmsMessage) => Promise<void>): void {
    this.replyHandlers.push(fn);
  }

  /**
   * Stores a message to a number from our records and hands it to the transport (or holds or suppresses it, as the
   * rules say). Never throws for a transport problem; answers the stored row.
   */
  async send(template: SmsTemplate, vars: Record<string, string | number | null | undefined>, to: SmsAbout & { number: string; priority: number; public?: boolean }, now = new Date()): Promise<SmsMessage> {
    const number = nationalNumber(to.number);
    const body = renderSms(template, vars, this.settings.locale, to.public ?? false);
    const about: SmsAbout = { alarmId: to.alarmId, workOrderId: to.workOrderId, elderId: to.elderId, contactId: to.contactId, staffId: to.staffId };
    const base = { direction: 'out' as const, number, body, template, ...about };
    let row: SmsMessage;
    if (await isOptedOut(this.db, number)) row = await insertSms(this.db, { ...base, state: 'suppressed', reason: 'opted_out' });
    else if ((await sentToSince(this.db, number, new Date(now.getTime() - 3600_000))) >= this.settings.ratePerHour) row = await insertSms(this.db, { ...base, state: 'suppressed', reason: 'rate_limited' });
    else if (to.public && to.priority > 1 && this.jobs && this.settings.quietHours && inWindow(now, this.settings.quietHours.from, this.settings.quietHours.to, this.settings.timeZone)) {
      row = await insertSms(this.db, { ...base, state: 'held', reason: 'quiet_hours' });
      await this.jobs.send(SMS_HELD_QUEUE, { id: row.id }, { startAfter: quietEnd(now, this.settings.quietHours, this.settings.timeZone), singletonKey: `sms:${row.id}` });
    } else {
      row = await insertSms(this.db, { ...base, state: 'queued' });
      void this.deliver(row.id).catch((e) => this.log.warn({ err: e }, 'sms not handed to the transport'));
    }
    this.changed(row);
    return row;
  }

  /** Hands a stored message to the transport; a failure is recorded on the row. */
  async deliver(id: number): Promise<void> {
    const row = await getSms(this.db, id);
    if (!row || (row.state !== 'queued' && row.state !== 'held')) return;
    if (!this.sender) {
      this.changed(await setSmsState(this.db, id, 'failed', { reason: 'sms_off' }));
      return;
    }
    try {
      const r = await this.sender.send({ to: row.number, text: row.body, ref: String(id) });
      this.changed(await setSmsState(this.db, id, 'submitted', { parts: r.parts, messageIds: r.messageIds }));
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'send_failed';
      this.changed(await setSmsState(this.db, id, 'failed', { reason: code }));
    }
  }

  private async receipt(r: SmsReceipt): Promise<void> {
    const id = Number(r.ref);
    if (!Number.isInteger(id)) return;
    // a part's receipt while others are pending leaves the message submitted; the whole message's state otherwise
    if (!r.final && r.messageState === 'submitted') return;
    // err:000 is "no error": a delivered message shows no reason
    this.changed(await setSmsState(this.db, id, r.messageState, r.error && !/^0+$/.test(r.error) ? { reason: r.error } : {}));
  }

  private async inbound(m: SmsInbound): Promise<void> {
    const number = nationalNumber(m.from);
    const text = m.text.trim();
    const row = await insertSms(this.db, { direction: 'in', number, body: text.slice(0, 1000), state: 'received' });
    this.counters.inc({ direction: 'in', state: 'received' });
    const word = text.toUpperCase();
    if (OPT_OUT_WORDS.has(word)) {
      await setOptOut(this.db, number, true);
      return;
    }
    if (OPT_IN_WORDS.has(word)) {
      await setOptOut(this.db, number, false);
      return;
    }
    const reply: InboundReply = word === '1' ? { kind: 'accept', number, at: m.at } : word === '2' ? { kind: 'refuse', number, at: m.at } : { kind: 'other', number, text, at: m.at };
    for (const h of this.replyHandlers) await h(reply, row);
  }

  /** A reply that matched nothing (an unknown number, or nothing waiting for it). */
  noteUnmatched(): void {
    this.counters.inc({ direction: 'in', state: 'unmatched' });
  }

  private changed(row: SmsMessage | undefined): void {
    if (!row) return;
    this.counters.inc({ direction: row.direction, state: row.state });
    this.bus.emit('sms.changed', { message: row });
  }
}
