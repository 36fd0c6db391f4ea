/**
 * Inbound calls into the Stasis app (ari.md §3.5, protocols.md §6): landline one-key callers in caller-ID
 * callback mode. The dialled DID (`dialplan.exten`) tells the key: red line → one_key_emergency, green line →
 * one_key_service. The caller number is normalised and looked up (unknown callers still raise the event).
 * The hub lets the call ring until the box hangs up (default) or answers and hangs up at once.
 * Presses of the same line from the same number within the window are one event with a count:
 * OneKeyPort.pressed for the first, OneKeyPort.repeated (count n) for the others.
 */
import { randomUUID } from 'node:crypto';
import type { StasisStartEvent } from '../ari-events.ts';
import type { Leg } from '../calls.ts';
import { errText } from '../log.ts';
import { normalisePhone } from '../phone.ts';
import type { CallerMatch, CallRecord, OneKeyEvent } from '../ports.ts';
import { scaledMs, type FlowContext } from './context.ts';

interface Window {
  event: OneKeyEvent;
  timer: NodeJS.Timeout;
  chain: Promise<void>;
}

export interface InboundEvents {
  inbound: OneKeyEvent;
  inbound_repeat: OneKeyEvent;
}

/** Digits of a number in its normalised form when it has one (so `021-1234 5678` matches `02112345678`). */
function canonical(n: string, areaCode: string): string {
  const r = normalisePhone(n, areaCode);
  return r.ok ? r.number : n.replace(/[^\d+]/g, '');
}

export class InboundHandler {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly ctx: FlowContext,
    private readonly emit: <K extends keyof InboundEvents>(type: K, e: InboundEvents[K]) => void,
  ) {}

  stop(): void {
    for (const w of this.windows.values()) clearTimeout(w.timer);
    this.windows.clear();
  }

  lineOf(did: string): 'red' | 'green' | 'other' {
    const a = this.ctx.cfg.areaCode;
    const d = canonical(did, a);
    if (d !== '' && d === canonical(this.ctx.cfg.redDid, a)) return 'red';
    if (d !== '' && d === canonical(this.ctx.cfg.greenDid, a)) return 'green';
    return 'other';
  }

  /** Called synchronously on StasisStart of a channel that is not one of our legs. */
  handle(e: StasisStartEvent): void {
    const ch = e.channel;
    const at = new Date();
    const did = ch.dialplan.exten;
    const line = this.lineOf(did);
    const raw = ch.caller.number;
    const n = normalisePhone(raw, this.ctx.cfg.areaCode);
    const number = n.ok ? n.number : raw;
    const record: CallRecord = {
      channelId: ch.id,
      idempotencyKey: `inbound:${ch.id}`,
      flowId: ch.id,
      flow: 'inbound',
      direction: 'inbound',
      party: 'unknown',
      number,
      did,
      line,
      createdAt: at,
    };
    let recorded!: (ok: boolean) => void;
    const leg = this.ctx.tracker.adoptInbound(ch, record, new Promise<boolean>((r) => (recorded = r)));
    this.ctx.tracker.legChanged(leg);
    this.behave(leg);
    void this.run(leg, record, recorded, raw, at).catch((err: unknown) => {
      recorded(false);
      this.ctx.log.error({ err: errText(err), channelId: ch.id }, 'telephony: inbound call handling failed');
    });
  }

  /** Let it ring (180 to the caller, hang up after maxRingS), or answer and hang up at once. */
  private behave(leg: Leg): void {
    const { adapter, log, cfg } = this.ctx;
    if (cfg.inbound.mode === 'answer_hangup') {
      void adapter
        .answer(leg.channelId)
        .then(() => leg.hangup('normal', false))
        .catch((err: unknown) => log.warn({ err: errText(err), channelId: leg.channelId }, 'telephony: inbound answer failed'));
      return;
    }
    void adapter.ring(leg.channelId).catch((err: unknown) => log.debug({ err: errText(err), channelId: leg.channelId }, 'telephony: inbound ring indication failed'));
    const t = setTimeout(() => void leg.hangup('normal', false), scaledMs(this.ctx, cfg.inbound.maxRingS));
    t.unref();
    void leg.ended.then(() => clearTimeout(t));
  }

  private async run(leg: Leg, record: CallRecord, recorded: (ok: boolean) => void, raw: string, at: Date): Promise<void> {
    const { ports, log } = this.ctx;
    let elder: CallerMatch | undefined;
    try {
      elder = record.number ? await ports.callers.lookupCaller(record.number) : undefined;
    } catch (err) {
      log.error({ err: errText(err), channelId: leg.channelId }, 'telephony: callers.lookupCaller failed; treating as unknown caller');
    }
    if (elder) {
      record.party = 'elder';
      record.elderId = elder.elderId;
    }
    let claimed = false;
    try {
      claimed = await ports.calls.claim(record.idempotencyKey);
      if (claimed) await ports.calls.create(record);
      recorded(claimed);
    } catch (err) {
      recorded(false);
      log.error({ err: errText(err), channelId: leg.channelId }, 'telephony: inbound call record not written');
      // the press still raises its event: an alarm must not depend on the call log
      claimed = true;
    }
    if (!claimed) return; // delivered twice
    if (record.line === 'red' || record.line === 'green') this.press(record.line, record.number, raw, record.did ?? '', elder, leg.channelId, at);
    else log.info({ channelId: leg.channelId, did: record.did }, 'telephony: inbound call on a DID that is neither the red nor the green line');
  }

  private press(line: 'red' | 'green', number: string, raw: string, did: string, elder: CallerMatch | undefined, channelId: string, at: Date): void {
    const key = `${line}|${number}`;
    const windowMs = scaledMs(this.ctx, this.ctx.cfg.inbound.pressWindowS);
    const w = this.windows.get(key);
    const arm = () => {
      const t = setTimeout(() => this.windows.delete(key), windowMs);
      t.unref();
      return t;
    };
    if (w && at.getTime() - w.event.lastAt.getTime() <= windowMs) {
      clearTimeout(w.timer);
      w.timer = arm();
      w.event.count += 1;
      w.event.lastAt = at;
      w.event.channelIds.push(channelId);
      if (!w.event.elder && elder) w.event.elder = elder;
      const snap: OneKeyEvent = { ...w.event, channelIds: [...w.event.channelIds] };
      this.emit('inbound_repeat', snap);
      w.chain = w.chain.then(() => this.ctx.ports.oneKey.repeated(snap)).catch((err: unknown) => this.portError('repeated', err, snap));
      return;
    }
    if (w) clearTimeout(w.timer);
    const event: OneKeyEvent = {
      eventId: randomUUID(),
      kind: line === 'red' ? 'one_key_emergency' : 'one_key_service',
      line,
      did,
      callerNumber: number,
      rawCallerNumber: raw,
      count: 1,
      firstAt: at,
      lastAt: at,
      channelIds: [channelId],
    };
    if (elder) event.elder = elder;
    const snap: OneKeyEvent = { ...event, channelIds: [channelId] };
    const chain = Promise.resolve()
      .then(() => this.ctx.ports.oneKey.pressed(snap))
      .catch((err: unknown) => this.portError('pressed', err, snap));
    this.windows.set(key, { event, timer: arm(), chain });
    this.emit('inbound', snap);
  }

  private portError(what: string, err: unknown, e: OneKeyEvent): void {
    this.ctx.log.error({ err: errText(err), eventId: e.eventId, kind: e.kind }, `telephony: oneKey.${what} failed`);
  }
}
