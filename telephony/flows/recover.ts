/**
 * A restart mid-flow (issue 19). When the hub's process goes away (crash, deploy), Asterisk keeps the app's
 * channels in Stasis: waiting callers stay in the hotline's holding bridge with MOH, conversations stay bridged,
 * agent phones keep ringing. On every (re)connection, before new hotline callers may enter the queue, the
 * channels and bridges Asterisk still has for the app (GET /applications/{app}, GET /bridges, GET /channels/{id})
 * that this process does not know are taken over:
 *  - hotline callers waiting (in the holding bridge, in no bridge, or left alone in a bridge): back in the queue,
 *    oldest first (the time of their call record, else the channel's creationtime), priority and language from
 *    the caller match run again, MOH on, position announcements and the ACD as for any caller. A caller who
 *    cannot be put back is abandoned (HotlinePort.abandoned: the call-back list) and hung up;
 *  - conversations (a mixing bridge with a caller and our agent leg, or two of our legs): left talking, their legs
 *    tracked again so that the records end when they hang up, the hotline ones under the in-call controls;
 *  - our outbound legs still ringing (the old process's agent calls, AppDial2 in the snapshot) and our answered
 *    legs with nobody to talk to: hung up (the ACD rings again);
 *  - empty bridges of the app (and the holding bridge when nobody waits): destroyed.
 * Records: the leg's old record is re-opened (CallLog.reopen: the gateway had ended it as an orphan at start), so a
 * call keeps one record from its arrival to its end; its end says "resumed after a hub restart". Without
 * CallLog.reopen a fresh record is written (key `resumed:<channelId>:<time>`).
 * What is not known again: the IVR choice, the agents who had missed the caller, the recording the old process
 * started in a bridge (it goes on until the bridge is destroyed, but is not linked to the call).
 */
import type { BridgeSnapshot, ChannelSnapshot } from '../ari-events.ts';
import { OWN_ARG, type Leg } from '../calls.ts';
import type { HotlineCallInfo, HotlineCallerMatch } from '../hotline-ports.ts';
import { errText } from '../log.ts';
import { normalisePhone } from '../phone.ts';
import type { CallRecord } from '../ports.ts';
import type { FlowContext } from './context.ts';
import { DEFAULT_LANGUAGE, type HotlineConfig } from './hotline-config.ts';
import { converseAndEnd } from './hotline-acd.ts';
import type { HotlineHandler } from './hotline.ts';

export interface RecoveryReport {
  /** Callers put back in the queue, in queue order (their channel ids). */
  requeued: string[];
  /** Callers that could not be put back: on the call-back list (abandoned) and hung up. */
  callbacks: string[];
  /** Conversations left up and adopted: the bridge and our channels in it. */
  conversations: { bridgeId: string; channels: string[] }[];
  /** Our channels hung up: ringing legs of the old process, answered legs with nobody left to talk to. */
  hungUp: string[];
  destroyedBridges: string[];
  /** Channels that hung up while the recovery ran. */
  vanished: string[];
}

type Kind = 'caller' | 'own' | 'dialling' | 'other';

const STASIS_ARGS = (ch: ChannelSnapshot): string[] => (ch.dialplan.app_data ?? '').split(',').slice(1);

function parseTime(s: string | undefined): Date | undefined {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

interface Adopted {
  ch: ChannelSnapshot;
  leg: Leg;
  record: CallRecord & { answeredAt?: Date };
}

export class Recovery {
  private readonly report: RecoveryReport = { requeued: [], callbacks: [], conversations: [], hungUp: [], destroyedBridges: [], vanished: [] };

  constructor(
    private readonly ctx: FlowContext,
    private readonly hotline: HotlineHandler,
    /** The first recovery of this process: empty bridges of the app are destroyed too (on a reconnect only ours). */
    private readonly first: boolean,
  ) {}

  async run(): Promise<RecoveryReport> {
    const { adapter, tracker, log } = this.ctx;
    const app = await adapter.application();
    if (!app) return this.report;
    const bridges = await adapter.listBridges();
    const bridgeOf = new Map<string, BridgeSnapshot>();
    for (const b of bridges) for (const c of b.channels) bridgeOf.set(c, b);
    const snaps = new Map<string, ChannelSnapshot>();
    const vanished: string[] = [];
    for (const id of app.channelIds) {
      if (tracker.get(id) || tracker.expected.has(id)) continue;
      try {
        const ch = await adapter.getChannel(id);
        if (ch) snaps.set(id, ch);
        else vanished.push(id);
      } catch (err) {
        log.warn({ err: errText(err), channelId: id }, 'telephony: recovery could not read a channel');
      }
    }
    for (const id of vanished) await this.vanished(id);
    if (snaps.size === 0 && !this.first) return this.report;
    const kind = (ch: ChannelSnapshot): Kind => {
      if (ch.dialplan.app_name !== 'Stasis') return ch.state === 'Up' ? 'other' : 'dialling';
      if (STASIS_ARGS(ch)[0] === OWN_ARG) return 'own';
      return this.hotline.hotlineOf(ch.dialplan.exten) ? 'caller' : 'other';
    };
    const kinds = new Map([...snaps.values()].map((ch) => [ch.id, kind(ch)] as const));
    const queueBridge = this.hotline.queue.bridgeId;

    // 1. Ringing legs of the old process: nobody waits for their answer any more.
    for (const [id, k] of kinds) if (k === 'dialling') await this.hangup(id, 'ringing leg of the previous run');

    // 2. Conversations, lone parties, and callers to queue again.
    const waiting: { ch: ChannelSnapshot; inBridge: boolean }[] = [];
    const handled = new Set<string>();
    for (const b of bridges) {
      if (b.id === queueBridge) continue;
      const ours = b.channels.filter((id) => kinds.get(id) === 'caller' || kinds.get(id) === 'own');
      if (ours.length === 0) continue;
      ours.forEach((id) => handled.add(id));
      const callers = ours.filter((id) => kinds.get(id) === 'caller');
      const own = ours.filter((id) => kinds.get(id) === 'own');
      if (ours.length >= 2 && callers.length <= 1) {
        await this.adoptConversation(b, callers[0], own);
        continue;
      }
      // Alone (the other party hung up while nobody listened), or several callers together (not a state we make).
      for (const id of callers) waiting.push({ ch: snaps.get(id)!, inBridge: false });
      for (const id of own) await this.hangup(id, 'answered leg of the previous run with nobody left to talk to');
    }
    for (const [id, k] of kinds) {
      if (handled.has(id)) continue;
      if (k === 'caller') waiting.push({ ch: snaps.get(id)!, inBridge: bridgeOf.get(id)?.id === queueBridge });
      else if (k === 'own') await this.hangup(id, 'answered leg of the previous run, not in a call');
    }
    const { ids: queuedIds, joined } = await this.requeue(waiting);

    // 3. Empty bridges left behind (after the callers have moved to the holding bridge).
    const results = await Promise.all(joined);
    queuedIds.forEach((id, i) => {
      if (results[i]) this.report.requeued.push(id);
      else if (!this.report.callbacks.includes(id) && !this.report.vanished.includes(id)) this.report.callbacks.push(id);
    });
    const ids = new Set(app.channelIds);
    const candidates = new Set([...(this.first ? [...app.bridgeIds, queueBridge] : []), ...[...ids].map((id) => `${id}-br`)]);
    // "empty": none of the app's channels is in it any more (a recording the old run started may still be)
    const now = new Set((await adapter.application().catch(() => undefined))?.channelIds ?? app.channelIds);
    for (const id of tracker.live().map((l) => l.channelId)) now.add(id);
    for (const b of await adapter.listBridges().catch(() => [] as BridgeSnapshot[])) {
      if (!candidates.has(b.id) || b.channels.some((id) => now.has(id))) continue;
      if (b.id === queueBridge && this.hotline.queue.ordered().length > 0) continue;
      if (await adapter.destroyBridge(b.id).catch(() => false)) this.report.destroyedBridges.push(b.id);
    }
    const r = this.report;
    if (r.requeued.length || r.conversations.length || r.hungUp.length || r.callbacks.length) {
      log.warn({ ...r }, 'telephony: calls of a previous run taken over from Asterisk');
    } else if (r.destroyedBridges.length || r.vanished.length) {
      // only leftovers: a channel that was going away as we looked, an empty bridge
      log.info({ ...r }, 'telephony: leftovers of a previous run cleared');
    }
    return this.report;
  }

  /**
   * Listed by Asterisk but gone when read: it hung up while the hub was away or taking over. Its record (if it has
   * one of the previous run) is ended again as an end of the call, and a hotline caller goes on the call-back list.
   */
  private async vanished(channelId: string): Promise<void> {
    const { ports, tracker, log } = this.ctx;
    this.report.vanished.push(channelId);
    if (channelId.includes(';')) return; // the far half of one of our Local channels
    let record: (CallRecord & { answeredAt?: Date }) | undefined;
    try {
      record = await ports.calls.reopen?.(channelId);
    } catch (err) {
      log.warn({ err: errText(err), channelId }, 'telephony: calls.reopen failed');
    }
    if (!record || tracker.get(channelId)) return;
    const { answeredAt, ...rec } = record;
    const leg = tracker.adoptLive(rec, { recorded: Promise.resolve(true) });
    if (answeredAt) leg.resumeAnswered(answeredAt);
    const h = rec.flow === 'hotline' && rec.direction === 'inbound' ? this.hotline.hotlineOf(rec.did ?? '') : undefined;
    if (h) {
      const match = await this.hotline.match(rec.number, rec.did ?? '');
      const call = this.callInfo({ ch: { id: channelId, dialplan: { exten: rec.did ?? '' } } as ChannelSnapshot, leg, record }, h, match);
      const waitMs = Date.now() - rec.createdAt.getTime();
      leg.queueSummary = { entryId: channelId, hotline: call.did, result: 'abandoned', waitMs, priority: call.priority, resumed: true };
      this.hotline.abandonedWhileAway({ ...call, waitMs, position: 1, at: new Date() });
    }
    leg.finish({ cause: null, detail: 'hung up while the hub was restarting' });
    await leg.flushed();
  }

  private async hangup(channelId: string, why: string): Promise<void> {
    this.ctx.log.info({ channelId, why }, 'telephony: recovery hangs up a channel of a previous run');
    const existed = await this.ctx.adapter.hangup(channelId, 'normal').catch((err: unknown) => {
      this.ctx.log.warn({ err: errText(err), channelId }, 'telephony: recovery hangup failed');
      return true;
    });
    if (existed) this.report.hungUp.push(channelId);
    else this.report.vanished.push(channelId);
  }

  /** The record of the channel: re-opened, or a fresh one from the snapshot. Then the leg is tracked again. */
  private async adopt(ch: ChannelSnapshot, k: 'caller' | 'own'): Promise<Adopted> {
    const { ports, tracker, log } = this.ctx;
    let record: (CallRecord & { answeredAt?: Date }) | undefined;
    try {
      record = await ports.calls.reopen?.(ch.id);
    } catch (err) {
      log.error({ err: errText(err), channelId: ch.id }, 'telephony: calls.reopen failed; writing a fresh record');
    }
    let recorded = Promise.resolve(true);
    if (!record) {
      const args = STASIS_ARGS(ch);
      const raw = k === 'caller' ? ch.caller.number : ch.dialplan.exten;
      const n = normalisePhone(raw, this.ctx.cfg.areaCode);
      const flow = k === 'caller' ? 'hotline' : ((args[1] ?? 'hotline') as CallRecord['flow']);
      record = {
        channelId: ch.id,
        idempotencyKey: `resumed:${ch.id}:${Date.now()}`,
        flowId: ch.id,
        flow: ['callback', 'click_to_call', 'cascade', 'inbound', 'hotline', 'welfare'].includes(flow) ? flow : 'hotline',
        direction: k === 'caller' ? 'inbound' : 'outbound',
        party: k === 'caller' ? 'unknown' : ((args[2] ?? 'unknown') as CallRecord['party']),
        number: n.ok ? n.number : raw,
        createdAt: parseTime(ch.creationtime) ?? new Date(),
      };
      if (k === 'caller') Object.assign(record, { did: ch.dialplan.exten, line: 'other' });
      const fresh = record;
      recorded = (async () => {
        if (!(await ports.calls.claim(fresh.idempotencyKey))) return false;
        await ports.calls.create(fresh);
        return true;
      })().catch((err: unknown) => {
        log.error({ err: errText(err), channelId: ch.id }, 'telephony: record of a resumed call not written');
        return false;
      });
    }
    const { answeredAt, ...rec } = record;
    const extension = rec.direction === 'outbound' && rec.party === 'agent' ? rec.number : undefined;
    const leg = tracker.get(ch.id) ?? tracker.adoptLive(rec, { recorded, ...(extension !== undefined && { extension }) });
    if (ch.state === 'Up') leg.resumeAnswered(answeredAt);
    tracker.legChanged(leg);
    return { ch, leg, record };
  }

  /** Legs adopted after their channel was read may have hung up in between (their end event had no leg to go to). */
  private async stillThere(a: Adopted): Promise<boolean> {
    if (!a.leg.live) return false;
    const ch = await this.ctx.adapter.getChannel(a.ch.id).catch(() => a.ch);
    if (ch) return true;
    a.leg.finish({ cause: null, detail: 'hung up while the hub took the call over' });
    this.report.vanished.push(a.ch.id);
    return false;
  }

  private callInfo(a: Adopted, h: HotlineConfig, match: HotlineCallerMatch | undefined): HotlineCallInfo {
    const call: HotlineCallInfo = {
      entryId: a.ch.id,
      did: a.record.did ?? a.ch.dialplan.exten,
      hotline: h.name,
      callerNumber: a.record.number,
      language: match?.language ?? DEFAULT_LANGUAGE,
      priority: match?.priority === true,
      arrivedAt: a.record.createdAt,
      resumed: true,
    };
    if (match) call.match = match;
    return call;
  }

  private async adoptConversation(b: BridgeSnapshot, callerId: string | undefined, ownIds: string[]): Promise<void> {
    const { adapter, log } = this.ctx;
    const snaps = async (ids: string[]) => Promise.all(ids.map(async (id) => adapter.getChannel(id).catch(() => undefined)));
    const own: Adopted[] = [];
    for (const ch of await snaps(ownIds)) if (ch) own.push(await this.adopt(ch, 'own'));
    const callerCh = callerId ? (await snaps([callerId]))[0] : undefined;
    const caller = callerCh ? await this.adopt(callerCh, 'caller') : undefined;
    const all = [...(caller ? [caller] : []), ...own];
    this.report.conversations.push({ bridgeId: b.id, channels: all.map((a) => a.ch.id) });
    const alive = (await Promise.all(all.map((a) => this.stillThere(a)))).filter(Boolean).length;
    const agent = own.find((a) => a.record.party === 'agent') ?? own[0];
    const h = caller ? this.hotline.hotlineOf(caller.record.did ?? caller.ch.dialplan.exten) : undefined;
    if (caller && agent && h) {
      const match = await this.hotline.match(caller.record.number, caller.record.did ?? '');
      if (match?.elder && !caller.record.elderId) caller.record.elderId = match.elder.elderId;
      const q = this.hotline.queue;
      const e = q.adoptConnected(caller.leg, this.callInfo(caller, h, match), h, agent.record.agentId, caller.record.createdAt.getTime());
      if (agent.leg.answeredAt) e.summary.waitMs = Math.max(0, agent.leg.answeredAt.getTime() - caller.record.createdAt.getTime());
      const extra = own.filter((a) => a !== agent).map((a) => a.leg);
      e.work.push(
        converseAndEnd(q, e, agent.leg, b.id, alive >= 2, false).then(async () => {
          await Promise.all(extra.map((l) => l.hangup('normal')));
          await Promise.all(extra.map((l) => l.ended));
        }),
      );
      void q.settle(e).catch((err: unknown) => log.error({ err: errText(err), entryId: e.id }, 'telephony: resumed hotline call failed'));
      return;
    }
    // Any other call of ours (callback, click-to-call, cascade): it goes on until one side hangs up.
    const legs = all.map((a) => a.leg);
    void (async () => {
      await Promise.race(legs.map((l) => l.ended));
      await Promise.all(legs.filter((l) => l.live).map((l) => l.hangup('normal')));
      await Promise.all(legs.map((l) => l.ended));
      await adapter.destroyBridge(b.id).catch(() => false);
      await Promise.all(legs.map((l) => l.flushed()));
    })().catch((err: unknown) => log.error({ err: errText(err), bridgeId: b.id }, 'telephony: resumed call failed'));
  }

  /** Puts the callers back in the queue in the order of their calls; `joined`: per caller, true once in the holding bridge. */
  private async requeue(list: { ch: ChannelSnapshot; inBridge: boolean }[]): Promise<{ ids: string[]; joined: Promise<boolean>[] }> {
    const { adapter, log } = this.ctx;
    const adopted: (Adopted & { inBridge: boolean })[] = [];
    for (const w of list) adopted.push({ ...(await this.adopt(w.ch, 'caller')), inBridge: w.inBridge });
    const arrived = (a: Adopted) => (parseTime(a.ch.creationtime) ?? a.record.createdAt).getTime();
    adopted.sort((a, b) => a.record.createdAt.getTime() - b.record.createdAt.getTime() || arrived(a) - arrived(b) || a.ch.id.localeCompare(b.ch.id));
    const matches = await Promise.all(adopted.map((a) => this.hotline.match(a.record.number, a.record.did ?? a.ch.dialplan.exten)));
    const joined: Promise<boolean>[] = [];
    for (const [i, a] of adopted.entries()) {
      const h = this.hotline.hotlineOf(a.record.did ?? a.ch.dialplan.exten)!;
      const match = matches[i];
      if (match?.elder && !a.record.elderId) a.record.elderId = match.elder.elderId;
      const call = this.callInfo(a, h, match);
      try {
        if (!(await this.stillThere(a))) {
          // gone meanwhile: enqueue sees it and counts the abandon (the call-back list)
        } else if (a.leg.state !== 'up') {
          await adapter.answer(a.ch.id);
        }
      } catch (err) {
        log.warn({ err: errText(err), channelId: a.ch.id }, 'telephony: resumed caller not answered; treating as abandoned');
        this.report.callbacks.push(a.ch.id);
        await a.leg.hangup('normal');
      }
      let done!: (ok: boolean) => void;
      joined.push(new Promise<boolean>((r) => (done = r)));
      this.hotline.emitCall(call);
      void this.hotline.queue
        .enqueue(a.leg, call, h, { enqueuedAt: a.record.createdAt.getTime(), inBridge: a.inBridge, joined: done })
        .catch((err: unknown) => {
          done(false);
          log.error({ err: errText(err), entryId: a.ch.id }, 'telephony: resumed hotline caller failed');
        });
    }
    return { ids: adopted.map((a) => a.ch.id), joined };
  }
}
