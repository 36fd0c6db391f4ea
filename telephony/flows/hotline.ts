/**
 * Hotline numbers (issue 19): an inbound call whose DID is a configured hotline (not the red/green one-key
 * lines, inbound.ts) is answered, the caller matched (HotlinePort.matchCaller, else CallerDirectory), the
 * optional IVR run in the caller's language (an emergency digit calls HotlinePort.emergency and gives the
 * caller priority), then the caller is queued (hotline-queue.ts) until an agent, overflow or the hang-up.
 * Call records: the caller's leg is `inbound:<channelId>` (flow 'hotline', its queue summary on `ended`),
 * agent legs `hotline:<entryId>#a<n>`, the night number `hotline:<entryId>#night`; all share flowId = entryId.
 */
import type { StasisStartEvent } from '../ari-events.ts';
import type { Leg } from '../calls.ts';
import type { HotlineAbandon, HotlineCallerMatch, HotlineCallInfo, HotlineEmergency } from '../hotline-ports.ts';
import { errText } from '../log.ts';
import { normalisePhone } from '../phone.ts';
import type { CallRecord } from '../ports.ts';
import type { FlowContext } from './context.ts';
import { DEFAULT_LANGUAGE, queueMedia, type HotlineConfig, type QueueOptions } from './hotline-config.ts';
import type { HotlineEmit } from './hotline-events.ts';
import { runIvr } from './hotline-ivr.ts';
import { HotlineQueue } from './hotline-queue.ts';
import { playPrompt, type PromptKind } from './prompts.ts';

const digits = (n: string): string => n.replace(/[^\d+]/g, '');

export class HotlineHandler {
  private readonly byDid = new Map<string, HotlineConfig>();
  readonly queue: HotlineQueue;
  /**
   * Issue 19 (a restart mid-flow): while the callers of a previous run are put back in the queue
   * (flows/recover.ts), a new caller waits here before entering it, so nobody who waited longer is overtaken.
   */
  private gate: Promise<void> = Promise.resolve();

  /** Holds new callers out of the queue until `until` settles. */
  holdNewCallers(until: Promise<unknown>): void {
    const prev = this.gate;
    this.gate = Promise.all([prev, until.catch(() => undefined)]).then(() => undefined);
  }

  constructor(
    private readonly ctx: FlowContext,
    hotlines: HotlineConfig[],
    opts: QueueOptions,
    private readonly emit: HotlineEmit,
  ) {
    for (const h of hotlines) {
      const d = digits(h.did);
      if (!d) throw new Error(`telephony: hotline ${h.name} has no DID`);
      if (d === digits(ctx.cfg.redDid) || d === digits(ctx.cfg.greenDid)) throw new Error(`telephony: hotline ${h.did} is a one-key line`);
      this.byDid.set(d, h);
    }
    this.queue = new HotlineQueue(ctx, opts, emit);
  }

  stop(): void {
    this.queue.stop();
  }

  /** A caller of a previous run who hung up before this run could take the call over: 呼损, the call-back list. */
  abandonedWhileAway(ab: HotlineAbandon): void {
    this.queue.counters.abandon(ab.waitMs);
    this.emit('hotline_abandoned', ab);
    const port = this.ctx.ports.hotline;
    if (port) void port.abandoned(ab).catch((err: unknown) => this.ctx.log.error({ err: errText(err), entryId: ab.entryId }, 'telephony: hotline.abandoned failed'));
  }

  /** The screen-pop of a caller taken over after a restart (flows/recover.ts). */
  emitCall(call: HotlineCallInfo): void {
    this.emit('hotline_call', call);
  }

  hotlineOf(did: string): HotlineConfig | undefined {
    return this.byDid.get(digits(did));
  }

  /** Called synchronously on StasisStart of a foreign channel; false when its DID is not a hotline. */
  handle(e: StasisStartEvent): boolean {
    const h = this.hotlineOf(e.channel.dialplan.exten);
    if (!h) return false;
    const ch = e.channel;
    const raw = ch.caller.number;
    const n = normalisePhone(raw, this.ctx.cfg.areaCode);
    const record: CallRecord = {
      channelId: ch.id,
      idempotencyKey: `inbound:${ch.id}`,
      flowId: ch.id,
      flow: 'hotline',
      direction: 'inbound',
      party: 'unknown',
      number: n.ok ? n.number : raw,
      did: ch.dialplan.exten,
      line: 'other',
      createdAt: new Date(),
    };
    let recorded!: (ok: boolean) => void;
    const leg = this.ctx.tracker.adoptInbound(ch, record, new Promise<boolean>((r) => (recorded = r)));
    this.ctx.tracker.legChanged(leg);
    void this.serve(leg, record, h, recorded).catch(async (err: unknown) => {
      recorded(false);
      this.ctx.log.error({ err: errText(err), channelId: ch.id }, 'telephony: hotline call failed');
      await leg.hangup('normal');
    });
    return true;
  }

  async match(number: string, did: string): Promise<HotlineCallerMatch | undefined> {
    const { ports, log } = this.ctx;
    if (!number) return undefined;
    try {
      if (ports.hotline?.matchCaller) return await ports.hotline.matchCaller(number, did);
      const elder = await ports.callers.lookupCaller(number);
      return elder ? { elder } : undefined;
    } catch (err) {
      log.error({ err: errText(err), number }, 'telephony: hotline caller match failed; treating as unknown caller');
      return undefined;
    }
  }

  private async serve(leg: Leg, record: CallRecord, h: HotlineConfig, recorded: (ok: boolean) => void): Promise<void> {
    const { adapter, ports, log } = this.ctx;
    void adapter.ring(leg.channelId).catch(() => undefined);
    const match = await this.match(record.number, record.did ?? '');
    if (match?.elder) record.elderId = match.elder.elderId;
    if (match?.contact) record.contactId = match.contact.contactId;
    record.party = match?.contact ? 'contact' : match?.elder ? 'elder' : 'unknown';
    let claimed = false;
    try {
      claimed = await ports.calls.claim(record.idempotencyKey);
      if (claimed) await ports.calls.create(record);
      recorded(claimed);
    } catch (err) {
      recorded(false);
      claimed = true; // the caller is still served: a call must not depend on the call log
      log.error({ err: errText(err), channelId: leg.channelId }, 'telephony: hotline call record not written');
    }
    if (!claimed) return; // delivered twice
    const call: HotlineCallInfo = {
      entryId: leg.channelId,
      did: record.did ?? '',
      hotline: h.name,
      callerNumber: record.number,
      language: match?.language ?? DEFAULT_LANGUAGE,
      priority: match?.priority === true,
      arrivedAt: record.createdAt,
    };
    if (match) call.match = match;
    leg.queueSummary = { entryId: call.entryId, hotline: call.did, result: 'ivr', waitMs: 0, priority: call.priority };
    this.emit('hotline_call', call);
    await adapter.answer(leg.channelId);
    if (h.ivr && leg.live) {
      const r = await runIvr(this.ctx, leg, h.ivr, call.language);
      call.ivrChoice = r.choice;
      leg.queueSummary.ivrChoice = r.choice;
      if (r.choice === 'emergency' && leg.live) await this.emergency(leg, call, r.digit ?? '');
    }
    if (!leg.live) {
      await leg.ended;
      await leg.flushed();
      this.emit('hotline_done', { call, summary: { ...leg.queueSummary } });
      return;
    }
    await this.gate; // a caller who hangs up meanwhile is abandoned by enqueue (the call-back list)
    await this.queue.enqueue(leg, call, h);
  }

  private async emergency(leg: Leg, call: HotlineCallInfo, digit: string): Promise<void> {
    call.priority = true;
    const e: HotlineEmergency = { ...call, digit, at: new Date() };
    this.emit('hotline_emergency', e);
    this.queue.counters.emergency();
    const port = this.ctx.ports.hotline;
    if (port) void port.emergency(e).catch((err: unknown) => this.ctx.log.error({ err: errText(err), entryId: call.entryId }, 'telephony: hotline.emergency failed'));
    const { media, fallback } = queueMedia(this.queue.opts, call.language, 'emergencyNoted');
    await playPrompt({ leg, stats: this.ctx.prompts, log: this.ctx.log }, 'queue.emergencyNoted' as PromptKind, media, fallback).finished;
  }
}
