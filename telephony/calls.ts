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
import type { AgentPhoneChange, CallEnd, CallOutcome, CallParty, CallRecord, TelephonyPorts } from './ports.ts';

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

/** Outcome of a leg from its end (ari.md §3.1 "rule of thumb"). */
export function classifyEnd(o: { direction: CallRecord['direction']; answered: boolean; cause: number | null; cancelledByUs: boolean }): CallOutcome {
  if (o.answered) return 'answered';
  if (o.direction === 'inbound') return 'abandoned';
  switch (o.cause) {
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

export type PlayResult = 'done' | 'failed' | 'stopped' | 'ended';

export class Leg {
  state: LegState = 'dialling';
  answeredAt: Date | undefined;
  endedAt: Date | undefined;
  /** Set by a flow for answered legs (accepted_by_dtmf, not_accepted). */
  private outcomeOverride: CallOutcome | undefined;
  private cancelledByUs = false;
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
    if (cancel && this.state !== 'up') this.cancelledByUs = true;
    try {
      const existed = await this.tracker.adapter.hangup(this.channelId, reason);
      if (!existed) {
        // Gone without our seeing ChannelDestroyed (it may still be on its way): settle shortly.
        setTimeout(() => this.finish({ cause: null, detail: 'channel gone (404) without ChannelDestroyed' }), 1000).unref();
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
      offs.push(this.on('PlaybackFinished', (e) => e.playback.id === playbackId && done(stopped ? 'stopped' : e.playback.state === 'failed' ? 'failed' : 'done')));
      void this.ended.then(() => done('ended'));
      this.tracker.adapter.play(this.channelId, media, playbackId).catch((err: unknown) => {
        this.tracker.log.warn({ err: errText(err), channelId: this.channelId }, 'telephony: play failed');
        done(this.live ? 'failed' : 'ended');
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
        if (e.peer.id === this.channelId && (e.dialstatus === 'RINGING' || e.dialstatus === 'PROGRESS')) this.setState('ringing');
        break;
      case 'ChannelStateChange':
        if (e.channel.state === 'Ringing') this.setState('ringing');
        else if (e.channel.state === 'Up' && this.record.direction === 'inbound') this.markAnswered();
        break;
      case 'StasisStart':
        if (this.record.direction === 'outbound' && e.channel.id === this.channelId) this.markAnswered();
        break;
      case 'ChannelDestroyed':
        this.finish({ cause: e.cause, causeText: e.cause_txt });
        return;
      case 'ChannelDtmfReceived':
      case 'PlaybackFinished':
      case 'ChannelEnteredBridge':
      case 'ChannelLeftBridge':
      case 'StasisEnd':
      case 'ChannelHangupRequest':
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

  markAnswered(): void {
    if (this.state === 'up' || this.state === 'ended') return;
    if (this.backstop) clearTimeout(this.backstop);
    this.answeredAt = new Date();
    const at = this.answeredAt;
    this.port('answered', () => this.tracker.ports.calls.answered(this.channelId, at));
    this.setState('up');
    this.resolveAnswered(true);
  }

  /** Ends the leg once (ChannelDestroyed, a refused originate, lost). */
  finish(o: { cause: number | null; causeText?: string; outcome?: CallOutcome; detail?: string }): void {
    if (this.state === 'ended') return;
    if (this.backstop) clearTimeout(this.backstop);
    const answered = this.answeredAt !== undefined;
    this.endedAt = new Date();
    const outcome =
      o.outcome ??
      (answered ? this.outcomeOverride : undefined) ??
      classifyEnd({ direction: this.record.direction, answered, cause: o.cause, cancelledByUs: this.cancelledByUs });
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
    if (o.detail) result.detail = o.detail;
    this.result = result;
    const end: CallEnd = {
      at: this.endedAt,
      cause: o.cause,
      causeText: o.causeText || (o.cause !== null ? (CAUSE_TEXT[o.cause] ?? '') : ''),
      outcome,
      durationMs: this.endedAt.getTime() - this.record.createdAt.getTime(),
      talkMs: this.answeredAt ? this.endedAt.getTime() - this.answeredAt.getTime() : 0,
    };
    if (o.detail) end.detail = o.detail;
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
    this.legs.set(channel.id, leg);
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
    if (e.type === 'StasisStart' && !this.legs.has(e.channel.id)) {
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
