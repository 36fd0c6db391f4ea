/**
 * Call legs: one ARI channel each, with its call record (CallLog port), its outcome, and the events the flows
 * wait on. The tracker routes every adapter event to the leg(s) it concerns and is the only writer of
 * CallLog.answered / CallLog.ended (in order per leg, after CallLog.create).
 *
 * No double dialling: `place()` first claims the leg's idempotency key through CallLog.claim (durable, UNIQUE
 * in the gateway), then sends the originate with a channel id derived from that key (so a duplicate that
 * slipped through would also get 409 from Asterisk while the first leg lives), and the adapter refuses a key
 * it has already used in this process.
 */
import { AgentPhoneTracker } from './agent-state.ts';
import { AriAdapter, AriError, channelIdFor, toAriError, type HangupReason } from './ari.ts';
import { CAUSE_TEXT, channelIdsOf, type AriEvent, type AriEventOf, type ChannelSnapshot } from './ari-events.ts';
import { Emitter } from './emitter.ts';
import { errText, type TelephonyLog } from './log.ts';
import type { AgentPhoneChange, CallEnd, CallOutcome, CallParty, CallRecord, QueueLegSummary, TelephonyPorts } from './ports.ts';

/** First Stasis arg of every channel the hub originates: tells our legs from inbound calls. */
export const OWN_ARG = 'anxin';

export type LegState = 'dialling' | 'ringing' | 'up' | 'ended';

export interface CallUpdate {
  channelId: string;
  flowId: string;
  flow: CallRecord['flow'];
  party: CallParty;
  direction: CallRecord['direction'];
  state: LegState;
  outcome?: CallOutcome;
  cause?: number | null;
  at: Date;
}

export interface LegResult {
  channelId: string;
  party: CallParty;
  number: string;
  outcome: CallOutcome;
  cause: number | null;
  answered: boolean;
  createdAt: Date;
  answeredAt?: Date;
  endedAt: Date;
  detail?: string;
}

type LegEventTypes = 'ChannelDtmfReceived' | 'PlaybackFinished' | 'ChannelEnteredBridge' | 'ChannelLeftBridge' | 'StasisEnd' | 'ChannelHangupRequest';
export type LegEvents = { [K in LegEventTypes]: AriEventOf<K> };

/** The outcome a specific Q.850 cause tells by itself; undefined for the generic ones (0, 16, 31, 32, none). */
function causeOutcome(cause: number | null): CallOutcome | undefined {
  switch (cause) {
    case 17:
      return 'busy';
    case 18:
    case 19:
      return 'no_answer';
    case 21:
      return 'rejected';
    case 34:
    case 42:
    case 44:
      return 'congestion';
    case 1:
    case 3:
    case 20:
    case 27:
    case 28:
      return 'unreachable';
    default:
      return undefined;
  }
}

/**
 * Outcome of a leg from its end (ari.md §3.1 "rule of thumb"). The last final Dial status of the leg comes
 * first (issue 17 item 3: busy through a Local-channel trunk ends with cause 0 and Dial BUSY; item 4: a ring
 * timeout on 18.x / 20 < 20.17 / 22 < 22.7 ends with cause 0). The cause refines it: a real Asterisk 22 reports
 * a rejected call (cause 21) through a Local trunk as Dial NOANSWER, so a specific cause beats NOANSWER.
 */
export function classifyEnd(o: { direction: CallRecord['direction']; answered: boolean; cause: number | null; cancelledByUs: boolean; dialstatus?: string }): CallOutcome {
  if (o.answered) return 'answered';
  if (o.direction === 'inbound') return 'abandoned';
  const byCause = causeOutcome(o.cause);
  switch (o.dialstatus) {
    case 'BUSY':
      return 'busy';
    case 'NOANSWER':
      return byCause ?? (o.cancelledByUs ? 'cancelled' : 'no_answer');
    case 'CONGESTION':
    case 'CHANUNAVAIL':
      return byCause ?? 'failed';
    case 'CANCEL':
      return o.cancelledByUs ? 'cancelled' : (byCause ?? 'no_answer');
    default:
      break;
  }
  if (byCause) return byCause;
  switch (o.cause) {
    case 0:
    case 16:
    case 31:
    case 32:
      // we cancelled it, or the far end / the network gave up while it was ringing
      return o.cancelledByUs ? 'cancelled' : 'no_answer';
    case null:
      return o.cancelledByUs ? 'cancelled' : 'failed';
    default:
      return 'failed';
  }
}

/** Dial statuses that end a dial attempt (RINGING, PROGRESS and "" do not). */
const FINAL_DIALSTATUS = new Set(['ANSWER', 'BUSY', 'NOANSWER', 'CANCEL', 'CONGESTION', 'CHANUNAVAIL', 'DONTCALL', 'TORTURE', 'INVALIDARGS']);

/** The Q.850 cause of the reason we gave DELETE /channels (ARI's reason table, ari.md §1.1). */
const REASON_CAUSE: Record<HangupReason, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

export interface LegSpec {
  idempotencyKey: string;
  flowId: string;
  flow: CallRecord['flow'];
  party: CallParty;
  /** Normalised number (or the extension for agents). */
  number: string;
  endpoint: string;
  /** Ring time in seconds (sent as the originate timeout; a hub-side backstop fires a little later). */
  timeoutS: number;
  callerId?: string;
  alarmId?: string;
  agentId?: string;
  elderId?: string;
  contactId?: string;
  /** Agent legs: the extension whose phone state this leg drives. */
  extension?: string;
}

/** 'failed': Asterisk could not play the media (PlaybackFinished state failed); 'error': the play request was refused. */
export type PlayResult = 'done' | 'failed' | 'error' | 'stopped' | 'ended';

export class Leg {
  state: LegState = 'dialling';
  answeredAt: Date | undefined;
  endedAt: Date | undefined;
  /** Set by a flow for answered legs (accepted_by_dtmf, not_accepted). */
  private outcomeOverride: CallOutcome | undefined;
  private cancelledByUs = false;
  /** The last final Dial status where this leg was the peer (classifyEnd's first witness). */
  private dialstatus: string | undefined;
  /** Cause of a ChannelHangupRequest from the far end, or of the reason we asked for (an ARI hangup is 32/soft). */
  private hangupCause: number | null = null;
  /**
   * true for a channel that entered Stasis from the dialplan (inbound): Asterisk sends it StasisEnd and never
   * ChannelDestroyed (res_stasis.c app_send_end_msg unsubscribes the app; issue 17 item 1). We never
   * `continue` such a channel, so its StasisEnd is its end.
   */
  endsAtStasisEnd = false;
  /** Hotline caller legs: the queue summary written with CallLog.ended (set by flows/hotline.ts before the end). */
  queueSummary: QueueLegSummary | undefined;
  /**
   * A hang-up of this channel was requested (ChannelHangupRequest). A real Asterisk 22.10.1 then ends a running
   * playback with PlaybackFinished `failed` before StasisEnd: that is the hang-up, not a missing prompt.
   */
  hangupRequested = false;
  /**
   * The channel outlived the process that placed or took it (issue 19, a restart mid-flow) and was adopted by
   * this one (flows/recover.ts): its record was re-opened, and its end says so (`detail`).
   */
  resumed = false;
  /** We sent the hang-up (DELETE /channels/{id}); see `leaving`. */
  private hangingUp = false;
  private backstop: NodeJS.Timeout | undefined;
  private playSeq = 0;
  private portChain: Promise<boolean>;
  private resolveAnswered!: (v: boolean) => void;
  private resolveEnded!: (r: LegResult) => void;
  private readonly events: Emitter<LegEvents>;
  /** true when the far end answered (outbound) / we answered (inbound); false when it ended first. */
  readonly answered: Promise<boolean>;
  readonly ended: Promise<LegResult>;
  result: LegResult | undefined;

  constructor(
    readonly record: CallRecord,
    private readonly tracker: CallTracker,
    readonly extension: string | undefined,
    /** Resolves true once claim + create are done (false: not recorded, skip CallLog calls). */
    recorded: Promise<boolean>,
  ) {
    this.portChain = recorded.catch(() => false);
    this.events = new Emitter((type, err) => tracker.log.error({ err: errText(err), type, channelId: record.channelId }, 'telephony: leg handler failed'));
    this.answered = new Promise((r) => (this.resolveAnswered = r));
    this.ended = new Promise((r) => (this.resolveEnded = r));
  }

  get channelId(): string {
    return this.record.channelId;
  }

  get live(): boolean {
    return this.state !== 'ended';
  }

  /**
   * Live but on its way out: we asked Asterisk to hang it up, or a hang-up was requested. Its end event may take a
   * while (and the CallLog writes before `ended` resolves longer), so controls must not move it into a bridge.
   */
  get leaving(): boolean {
    return this.live && (this.hangingUp || this.hangupRequested);
  }

  on<K extends keyof LegEvents>(type: K, fn: (e: LegEvents[K]) => void): () => void {
    return this.events.on(type, fn);
  }

  setOutcome(outcome: CallOutcome): void {
    this.outcomeOverride = outcome;
  }

  /** Queues a CallLog call after create (skipped if the leg was not recorded). */
  port(what: string, fn: () => Promise<void>): void {
    this.portChain = this.portChain.then(async (ok) => {
      if (!ok) return false;
      try {
        await fn();
      } catch (err) {
        this.tracker.log.error({ err: errText(err), channelId: this.channelId }, `telephony: calls.${what} failed`);
      }
      return true;
    });
  }

  /** Resolves when every CallLog call queued so far has completed. */
  async flushed(): Promise<void> {
    await this.portChain;
  }

  armBackstop(ms: number): void {
    if (this.backstop) clearTimeout(this.backstop);
    this.backstop = setTimeout(() => {
      this.backstop = undefined;
      if (this.state === 'dialling' || this.state === 'ringing') {
        this.tracker.log.info({ channelId: this.channelId }, 'telephony: ring backstop, hanging up');
        void this.hangup('no_answer', false);
      }
    }, ms);
    this.backstop.unref();
  }

  /** Hangs the leg up (ignores a leg that is already gone). `cancel`: count an unanswered end as cancelled. */
  async hangup(reason: HangupReason = 'normal', cancel = true): Promise<void> {
    if (!this.live) return;
    this.hangingUp = true;
    if (cancel && this.state !== 'up') this.cancelledByUs = true;
    this.hangupCause ??= REASON_CAUSE[reason];
    try {
      const existed = await this.tracker.adapter.hangup(this.channelId, reason);
      if (!existed) {
        // Gone without our seeing its end event (it may still be on its way): settle shortly.
        setTimeout(() => this.finish({ cause: null, detail: 'channel gone (404) without an end event' }), 1000).unref();
      }
    } catch (err) {
      this.tracker.log.warn({ err: errText(err), channelId: this.channelId }, 'telephony: hangup failed');
    }
  }

  /**
   * Plays media and resolves when the playback finishes, fails, is stopped, or the leg ends.
   * The PlaybackFinished listener is attached before the request (events can beat the HTTP answer).
   */
  play(media: string[]): { playbackId: string; finished: Promise<PlayResult>; stop: () => Promise<void> } {
    const playbackId = `${this.channelId}-pb${++this.playSeq}`;
    let stopped = false;
    const finished = new Promise<PlayResult>((resolve) => {
      if (!this.live || media.length === 0) return resolve(this.live ? 'done' : 'ended');
      const offs: (() => void)[] = [];
      const done = (r: PlayResult) => {
        offs.forEach((f) => f());
        resolve(r);
      };
      offs.push(this.on('PlaybackFinished', (e) => e.playback.id === playbackId && done(stopped ? 'stopped' : e.playback.state !== 'failed' ? 'done' : this.hangupRequested ? 'ended' : 'failed')));
      void this.ended.then(() => done('ended'));
      this.tracker.adapter.play(this.channelId, media, playbackId).catch((err: unknown) => {
        this.tracker.log.warn({ err: errText(err), channelId: this.channelId }, 'telephony: play failed');
        done(this.live ? 'error' : 'ended');
      });
    });
    const stop = async () => {
      stopped = true;
      await this.tracker.adapter.stopPlayback(playbackId).catch(() => false);
    };
    return { playbackId, finished, stop };
  }

  // ---------------------------------------------------------------- driven by the tracker

  handle(e: AriEvent): void {
    switch (e.type) {
      case 'Dial':
        if (e.peer.id !== this.channelId) break;
        if (e.dialstatus === 'RINGING' || e.dialstatus === 'PROGRESS') this.setState('ringing');
        else if (FINAL_DIALSTATUS.has(e.dialstatus)) this.dialstatus = e.dialstatus;
        break;
      case 'ChannelStateChange':
        if (e.channel.state === 'Ringing') this.setState('ringing');
        else if (e.channel.state === 'Up' && this.record.direction === 'inbound') this.markAnswered();
        break;
      case 'StasisStart':
        if (this.record.direction === 'outbound' && e.channel.id === this.channelId) this.markAnswered();
        break;
      case 'ChannelDestroyed':
        // idempotent: an inbound leg may already have ended at StasisEnd (the simulator used to send both)
        this.finish({ cause: e.cause, causeText: e.cause_txt });
        return;
      case 'ChannelHangupRequest':
        if (e.channel.id === this.channelId) this.hangupRequested = true;
        // soft = our own DELETE (always 32): the cause of the reason we gave was noted in hangup()
        if (e.channel.id === this.channelId && !e.soft && e.cause !== undefined) this.hangupCause = e.cause;
        this.events.emit(e.type, e as never);
        break;
      case 'StasisEnd':
        this.events.emit(e.type, e as never);
        if (this.endsAtStasisEnd && e.channel.id === this.channelId) {
          const o: Parameters<Leg['finish']>[0] = { cause: this.hangupCause };
          if (this.hangupCause === null) o.detail = 'left Stasis without a hangup request';
          this.finish(o);
        }
        return;
      case 'ChannelDtmfReceived':
      case 'PlaybackFinished':
      case 'ChannelEnteredBridge':
      case 'ChannelLeftBridge':
        this.events.emit(e.type, e as never);
        break;
      default:
        break;
    }
  }

  private setState(s: LegState): void {
    if (this.state === s || this.state === 'ended' || (s === 'ringing' && this.state === 'up')) return;
    this.state = s;
    this.tracker.legChanged(this);
  }

  /** An adopted leg that was already answered before the restart: up, without a second CallLog.answered unless the record lacked it. */
  resumeAnswered(at: Date | undefined): void {
    if (this.state === 'up' || this.state === 'ended') return;
    if (!at) return this.markAnswered();
    this.answeredAt = at;
    this.setState('up');
    this.resolveAnswered(true);
  }

  markAnswered(): void {
    if (this.state === 'up' || this.state === 'ended') return;
    if (this.backstop) clearTimeout(this.backstop);
    this.answeredAt = new Date();
    const at = this.answeredAt;
    this.port('answered', () => this.tracker.ports.calls.answered(this.channelId, at));
    this.setState('up');
    this.resolveAnswered(true);
  }

  /** Ends the leg once (ChannelDestroyed, StasisEnd of an inbound leg, a refused originate, lost). */
  finish(o: { cause: number | null; causeText?: string; outcome?: CallOutcome; detail?: string }): void {
    if (this.state === 'ended') return;
    if (this.backstop) clearTimeout(this.backstop);
    const answered = this.answeredAt !== undefined;
    this.endedAt = new Date();
    const outcome =
      o.outcome ??
      (answered ? this.outcomeOverride : undefined) ??
      classifyEnd({ direction: this.record.direction, answered, cause: o.cause, cancelledByUs: this.cancelledByUs, dialstatus: this.dialstatus });
    const result: LegResult = {
      channelId: this.channelId,
      party: this.record.party,
      number: this.record.number,
      outcome,
      cause: o.cause,
      answered,
      createdAt: this.record.createdAt,
      endedAt: this.endedAt,
    };
    if (this.answeredAt) result.answeredAt = this.answeredAt;
    const detail = this.resumed ? (o.detail ? `${o.detail}; resumed after a hub restart` : 'resumed after a hub restart') : o.detail;
    if (detail) result.detail = detail;
    this.result = result;
    const end: CallEnd = {
      at: this.endedAt,
      cause: o.cause,
      causeText: o.causeText || (o.cause !== null ? (CAUSE_TEXT[o.cause] ?? '') : ''),
      outcome,
      durationMs: this.endedAt.getTime() - this.record.createdAt.getTime(),
      talkMs: this.answeredAt ? this.endedAt.getTime() - this.answeredAt.getTime() : 0,
    };
    if (detail) end.detail = detail;
    if (this.queueSummary) end.queue = { ...this.queueSummary };
    this.port('ended', () => this.tracker.ports.calls.ended(this.channelId, end));
    this.state = 'ended';
    this.tracker.legChanged(this);
    this.resolveAnswered(false);
    this.resolveEnded(result);
  }
}

export interface CallTrackerOptions {
  adapter: AriAdapter;
  ports: TelephonyPorts;
  log: TelephonyLog;
  /** Leg state changes and agent phone-state changes, for the facade's events. */
  notify: { call(u: CallUpdate): void; agentPhone(c: AgentPhoneChange): void };
  /** Multiplies hub-side timers (tests against a time-scaled simulator). */
  timeScale: number;
  /** Extra seconds after the ring timeout before the hub hangs an unanswered leg up itself. Default 5. */
  backstopGraceS?: number;
  /** Live legs are given up as `lost` when telephony stays down this long (ms, scaled). Default 60000. */
  lostAfterDownMs?: number;
}

export class CallTracker {
  readonly adapter: AriAdapter;
  readonly ports: TelephonyPorts;
  readonly log: TelephonyLog;
  private readonly legs = new Map<string, Leg>();
  private readonly agents: AgentPhoneTracker;
  private readonly offs: (() => void)[] = [];
  private downTimer: NodeJS.Timeout | undefined;
  /** Channels the hub made outside place() (snoop channels, issue 19): their StasisStart is neither an orphan nor an inbound call. */
  readonly expected = new Set<string>();
  /** expected channels whose StasisStart has come, and who waits for one (inStasis) */
  private readonly startedExpected = new Set<string>();
  private readonly stasisWaiters = new Map<string, (() => void)[]>();
  /** StasisStart of a channel that is not one of our legs (inbound calls). */
  onForeignStasisStart: (e: AriEventOf<'StasisStart'>) => void = () => {};

  constructor(private readonly o: CallTrackerOptions) {
    this.adapter = o.adapter;
    this.ports = o.ports;
    this.log = o.log;
    this.agents = new AgentPhoneTracker(o.ports.agents, o.log, (c) => o.notify.agentPhone(c));
  }

  start(): void {
    this.offs.push(
      this.adapter.on('event', (e) => this.dispatch(e)),
      this.adapter.on('down', () => this.onDown()),
      this.adapter.on('up', () => void this.reconcile()),
    );
  }

  stop(): void {
    this.offs.splice(0).forEach((f) => f());
    if (this.downTimer) clearTimeout(this.downTimer);
  }

  scaled(ms: number): number {
    return ms * this.o.timeScale;
  }

  get(channelId: string): Leg | undefined {
    return this.legs.get(channelId);
  }

  live(): Leg[] {
    return [...this.legs.values()];
  }

  /** Legs being tracked (ended legs are dropped at once; a number that only grows is a leak). */
  get size(): number {
    return this.legs.size;
  }

  /**
   * Claims the key, writes the record, then originates. `duplicate`: the key was claimed before, nothing dialled.
   * Throws only when the claim or the record cannot be written (nothing dialled then either).
   */
  async place(spec: LegSpec): Promise<{ duplicate: true; channelId: string } | { duplicate: false; leg: Leg }> {
    const channelId = channelIdFor(spec.idempotencyKey);
    if (!(await this.ports.calls.claim(spec.idempotencyKey)) || this.legs.has(channelId)) {
      this.log.warn({ channelId, key: spec.idempotencyKey }, 'telephony: duplicate call request, not dialling');
      return { duplicate: true, channelId };
    }
    const record: CallRecord = {
      channelId,
      idempotencyKey: spec.idempotencyKey,
      flowId: spec.flowId,
      flow: spec.flow,
      direction: 'outbound',
      party: spec.party,
      number: spec.number,
      endpoint: spec.endpoint,
      createdAt: new Date(),
    };
    for (const k of ['alarmId', 'agentId', 'elderId', 'contactId'] as const) {
      const v = spec[k];
      if (v !== undefined) record[k] = v;
    }
    let recorded!: (ok: boolean) => void;
    const leg = new Leg(record, this, spec.extension, new Promise<boolean>((r) => (recorded = r)));
    this.legs.set(channelId, leg); // listening before the originate: Dial "" can beat the HTTP answer
    try {
      await this.ports.calls.create(record);
    } catch (err) {
      this.legs.delete(channelId);
      recorded(false);
      throw err;
    }
    recorded(true);
    this.legChanged(leg);
    const appArgs = [OWN_ARG, spec.flow, spec.party];
    try {
      const o: Parameters<AriAdapter['originate']>[0] = { idempotencyKey: spec.idempotencyKey, channelId, endpoint: spec.endpoint, appArgs, timeoutS: spec.timeoutS };
      if (spec.callerId) o.callerId = spec.callerId;
      await this.adapter.originate(o);
      leg.armBackstop(this.scaled((spec.timeoutS + (this.o.backstopGraceS ?? 5)) * 1000));
    } catch (err) {
      const e = toAriError(err, 'originate');
      if (e.code === 'timeout') {
        // Ambiguous: Asterisk may have dialled. Keep listening; the backstop settles it (hangup → 404 → failed).
        this.log.warn({ channelId, err: e.message }, 'telephony: originate timed out, waiting for events');
        leg.armBackstop(this.scaled((spec.timeoutS + (this.o.backstopGraceS ?? 5)) * 1000));
      } else {
        this.log.warn({ channelId, err: e.message, status: e.status }, 'telephony: originate refused');
        if (e.code === 'duplicate') this.legs.delete(channelId); // a live channel with this id is not ours to track
        leg.finish({ cause: null, outcome: 'failed', detail: e.message });
      }
    }
    return { duplicate: false, leg };
  }

  /** An inbound channel that reached the app; `recorded` resolves after the flow's claim + create. */
  adoptInbound(channel: ChannelSnapshot, record: CallRecord, recorded: Promise<boolean>): Leg {
    const leg = new Leg(record, this, undefined, recorded);
    leg.state = 'ringing';
    leg.endsAtStasisEnd = true;
    this.legs.set(channel.id, leg);
    return leg;
  }

  /**
   * A channel of a previous run that is still on Asterisk (issue 19, a restart mid-flow): tracked again with its
   * re-opened (or fresh) record. Inbound channels end at StasisEnd as usual; outbound ones at ChannelDestroyed
   * (the app keeps its originate-time subscription across the restart).
   */
  adoptLive(record: CallRecord, o: { extension?: string; recorded: Promise<boolean> }): Leg {
    const leg = new Leg(record, this, o.extension, o.recorded);
    leg.state = 'ringing';
    leg.resumed = true;
    if (record.direction === 'inbound') leg.endsAtStasisEnd = true;
    this.legs.set(record.channelId, leg);
    return leg;
  }

  legChanged(leg: Leg): void {
    const r = leg.record;
    if (leg.state === 'ended') this.legs.delete(leg.channelId);
    const u: CallUpdate = { channelId: leg.channelId, flowId: r.flowId, flow: r.flow, party: r.party, direction: r.direction, state: leg.state, at: new Date() };
    if (leg.result) {
      u.outcome = leg.result.outcome;
      u.cause = leg.result.cause;
    }
    this.o.notify.call(u);
    if (leg.extension !== undefined) {
      this.agents.update(leg.extension, r.agentId, leg.channelId, leg.state === 'up' ? 'up' : leg.state === 'ended' ? 'ended' : 'ringing');
    }
  }

  /**
   * Resolves once an expected channel's StasisStart has come (at once if it has). A snoop channel's 200 can come
   * before it is in the app: a real Asterisk under load answered `addChannel` with 422 "Channel not in Stasis
   * application" for a snoop channel whose POST had just returned. Rejects after `withinMs`.
   */
  inStasis(id: string, withinMs = 5000): Promise<void> {
    if (this.startedExpected.has(id)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.stasisWaiters.get(id)?.filter((w) => w !== done);
        if (list?.length) this.stasisWaiters.set(id, list);
        else this.stasisWaiters.delete(id);
        reject(new Error(`channel ${id} did not enter the app within ${withinMs} ms`));
      }, this.scaled(withinMs));
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.stasisWaiters.set(id, [...(this.stasisWaiters.get(id) ?? []), done]);
    });
  }

  /** Forgets an expected channel (its StasisEnd has had time to come). */
  forgetExpected(id: string): void {
    this.expected.delete(id);
    this.startedExpected.delete(id);
  }

  private dispatch(e: AriEvent): void {
    const ids = channelIdsOf(e);
    const seen = new Set<Leg>();
    for (const id of ids) {
      const leg = this.legs.get(id);
      if (leg && !seen.has(leg)) {
        seen.add(leg);
        leg.handle(e);
      }
    }
    if (e.type === 'StasisStart' && this.expected.has(e.channel.id)) {
      this.startedExpected.add(e.channel.id);
      const waiters = this.stasisWaiters.get(e.channel.id);
      this.stasisWaiters.delete(e.channel.id);
      for (const w of waiters ?? []) w();
    }
    if (e.type === 'StasisStart' && !this.legs.has(e.channel.id) && !this.expected.has(e.channel.id)) {
      if (e.args[0] === OWN_ARG) {
        // One of ours that this process does not know (placed before a restart): nobody can drive it.
        this.log.warn({ channelId: e.channel.id }, 'telephony: orphan leg entered the app, hanging up');
        void this.adapter.hangup(e.channel.id, 'normal').catch(() => false);
      } else {
        this.onForeignStasisStart(e);
      }
    }
  }

  private onDown(): void {
    if (this.downTimer || this.legs.size === 0) return;
    this.downTimer = setTimeout(() => {
      this.downTimer = undefined;
      if (this.adapter.health().state === 'up') return;
      for (const leg of this.live()) leg.finish({ cause: null, outcome: 'lost', detail: 'telephony down' });
    }, this.scaled(this.o.lostAfterDownMs ?? 60_000));
    this.downTimer.unref();
  }

  /** After a reconnect: legs whose channel no longer exists ended while we were not listening. */
  private async reconcile(): Promise<void> {
    if (this.downTimer) clearTimeout(this.downTimer);
    this.downTimer = undefined;
    for (const leg of this.live()) {
      try {
        const ch = await this.adapter.getChannel(leg.channelId);
        if (!ch) leg.finish({ cause: null, outcome: 'lost', detail: 'channel gone while telephony was down' });
        else if (ch.state === 'Up' && leg.state !== 'up' && leg.record.direction === 'outbound') leg.markAnswered();
      } catch (err) {
        if (err instanceof AriError && err.code === 'down') return;
        this.log.warn({ err: errText(err), channelId: leg.channelId }, 'telephony: reconcile failed');
      }
    }
  }
}
