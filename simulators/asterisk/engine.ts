/**
 * Channel life cycles with Asterisk's event orders (ari.md §2.2, §3; orders as captured on Asterisk 22.10.1,
 * issue 17 item 6):
 *  originate-to-app  HTTP 200, then Dial "" → [Ringing + Dial RINGING] → ChannelStateChange Up → Dial ANSWER →
 *                    ChannelVarset STASISSTATUS="" → StasisStart
 *                    or ChannelHangupRequest{cause[, tech_cause]} → Dial BUSY/NOANSWER/… → ChannelDestroyed{cause}
 *                    (busy with cause 0, Busy() behind a Local channel: Dial BUSY → ChannelDestroyed 0)
 *                    or (timeout) ChannelDestroyed 19 only
 *  create + dial     StasisStart (Down) at create; then Dial …; answer gives Up + Dial ANSWER
 *  inbound           StasisStart (Ring); the caller hangs up: HangupRequest{16} → StasisEnd, and nothing more:
 *                    a dialplan channel is unsubscribed at StasisEnd (res_stasis.c app_send_end_msg)
 *  our hangup        ChannelHangupRequest{cause:32,soft:true} → [Dial <status> if still dialling] →
 *                    [PlaybackFinished] → [ChannelLeftBridge] → [StasisEnd → ChannelVarset STASISSTATUS=SUCCESS] →
 *                    ChannelDestroyed{mapped cause} (only to apps still subscribed)
 */
import type { Directory } from './directory.ts';
import { KNOWN_TECHS, parseEndpoint } from './directory.ts';
import type { EventHub } from './events.ts';
import type { Scheduler } from './clock.ts';
import { SimChannel } from './model.ts';
import { BridgeManager } from './bridges.ts';
import { PlaybackManager } from './playbacks.ts';
import type { CallLogEntry, ChannelJson, DtmfStep, EndpointScript, InboundCallOptions, InboundCallResult, OriginateLogEntry } from './types.ts';
import { causeText, dialStatusForCause, makeUniqueId, MAX_PUBLIC_UNIQUEID, nextNameSuffix, parseCallerId, randomHex, sipCodeForCause } from './util.ts';
import { boxHungUp, injectInbound, startBoxCall } from './inbound.ts';

/** An ARI error reply: `{"message": …}` (or `{"error": …}` for allocation failures, ari.md §0.7). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly key: 'message' | 'error' = 'message',
  ) {
    super(message);
  }
}

export const allocationFailed = (): ApiError => new ApiError(500, 'Allocation failed', 'error');

export interface EngineOptions {
  asteriskId: string;
  /** Default Stasis app for injected inbound calls. */
  app?: string;
  /** Stasis args for injected inbound calls (dialplan `Stasis(app,sos)`). */
  inboundArgs: string[];
  /** Seconds each media item of a playback lasts (simulated). */
  playbackSeconds: number;
  /** Real milliseconds between a ChannelHangupRequest and the rest of the tear-down. */
  teardownMs: number;
  /** Names a `sound:` playback finds (sounds.ts); any other fails. */
  sounds: Set<string>;
}

export interface OriginateRequest {
  endpoint?: string;
  extension?: string;
  context?: string;
  priority?: number;
  label?: string;
  app?: string;
  appArgs?: string;
  callerId?: string;
  timeout?: number;
  channelId?: string;
  otherChannelId?: string;
  originator?: string;
  formats?: string;
  variables?: unknown;
}

const LOG_MAX = 5000;

export class Engine {
  readonly channels = new Map<string, SimChannel>();
  readonly bridges: BridgeManager;
  readonly playbacks: PlaybackManager;
  readonly originateLog: OriginateLogEntry[] = [];
  readonly callLog: CallLogEntry[] = [];

  constructor(
    readonly hub: EventHub,
    readonly directory: Directory,
    readonly sched: Scheduler,
    readonly opts: EngineOptions,
  ) {
    this.bridges = new BridgeManager(this);
    this.playbacks = new PlaybackManager(this);
  }

  // ---------------------------------------------------------------- helpers

  /** Runs `fn` after `seconds` of simulated time unless the channel is gone by then. */
  chTimer(ch: SimChannel, seconds: number, fn: () => void): NodeJS.Timeout {
    const t = this.sched.after(seconds, () => {
      ch.timers.delete(t);
      if (!ch.destroyed) fn();
    });
    ch.timers.add(t);
    return t;
  }

  private clearTimers(ch: SimChannel): void {
    for (const t of ch.timers) this.sched.cancel(t);
    ch.timers.clear();
  }

  /** Emits a channel event to the apps subscribed to the channel (plus `also`). */
  emitChannel(ch: SimChannel, type: string, fields: Record<string, unknown> = {}, also: Iterable<string> = []): void {
    this.hub.emit(type, { ...fields, channel: ch.toJSON() }, new Set([...ch.apps, ...also]));
  }

  private emitDial(ch: SimChannel, dialstatus: string): void {
    const caller = ch.dial.callerId ? this.channels.get(ch.dial.callerId) : undefined;
    const fields: Record<string, unknown> = { dialstatus, forward: '', dialstring: ch.dial.dialstring, peer: ch.toJSON() };
    if (caller) fields.caller = caller.toJSON();
    this.hub.emit('Dial', fields, new Set([...ch.apps, ...(caller?.apps ?? [])]));
  }

  /** Asterisk-set variables the app sees as ChannelVarset (STASISSTATUS around Stasis(), app_stasis.c). */
  private varset(ch: SimChannel, variable: string, value: string): void {
    ch.variables[variable] = value;
    this.emitChannel(ch, 'ChannelVarset', { variable, value });
  }

  private setState(ch: SimChannel, state: string): void {
    if (ch.state === state) return;
    ch.state = state;
    this.emitChannel(ch, 'ChannelStateChange');
  }

  pushLog(entry: CallLogEntry): void {
    this.callLog.push(entry);
    if (this.callLog.length > LOG_MAX) this.callLog.splice(0, this.callLog.length - LOG_MAX);
  }

  recordOriginate(entry: Omit<OriginateLogEntry, 'seq'>): void {
    this.originateLog.push({ seq: this.originateLog.length + 1, ...entry });
    if (this.originateLog.length > LOG_MAX) this.originateLog.splice(0, this.originateLog.length - LOG_MAX);
  }

  get(id: string): SimChannel | undefined {
    return this.channels.get(id);
  }

  /** find_control(): 404 if the channel does not exist, 409 if it is not in Stasis (ari.md §1.1). */
  control(id: string): SimChannel {
    const ch = this.channels.get(id);
    if (!ch) throw new ApiError(404, 'Channel not found');
    if (!ch.inStasis) throw new ApiError(409, 'Channel not in Stasis application');
    return ch;
  }

  /** channel_state_invalid(): 412 in Down, Rsrvd or Ringing. */
  checkState(ch: SimChannel): void {
    if (ch.state === 'Down' || ch.state === 'Rsrvd' || ch.state === 'Ringing') throw new ApiError(412, 'Channel in invalid state');
  }

  // ---------------------------------------------------------------- outbound

  private parseVariables(v: unknown): { vars: Record<string, string>; reported: string[] } {
    const vars: Record<string, string> = {};
    const reported: string[] = [];
    if (v === undefined || v === null) return { vars, reported };
    if (typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, "Only string values in the 'variables' object allowed");
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val === 'string') vars[k] = val;
      else if (val && typeof val === 'object' && typeof (val as { value?: unknown }).value === 'string') {
        vars[k] = (val as { value: string }).value;
        if ((val as { report_events?: unknown }).report_events === true) reported.push(k);
      } else throw new ApiError(400, "Only string values in the 'variables' object allowed");
    }
    return { vars, reported };
  }

  private checkIds(channelId?: string, otherId?: string): void {
    if ((channelId && channelId.length > MAX_PUBLIC_UNIQUEID) || (otherId && otherId.length > MAX_PUBLIC_UNIQUEID)) {
      throw new ApiError(400, `Uniqueid length exceeds maximum of ${MAX_PUBLIC_UNIQUEID}`);
    }
  }

  /** ast_request(): a channel for the endpoint, or 409 for a duplicate id, or 500 when the driver refuses. */
  private request(endpoint: string, channelId: string | undefined, otherId: string | undefined, mode: 'originate' | 'create'): SimChannel {
    const parsed = parseEndpoint(endpoint);
    if ((channelId && this.channels.has(channelId)) || (otherId && this.channels.has(otherId))) {
      throw new ApiError(409, 'Channel with given unique ID already exists');
    }
    if (!parsed || !KNOWN_TECHS.has(parsed.tech)) throw allocationFailed();
    const script = this.directory.lookup(endpoint);
    if (script.action === 'unavailable') throw allocationFailed();
    const suffix = nextNameSuffix();
    const name = parsed.tech === 'Local' ? `Local/${parsed.device}-${suffix};1` : `${parsed.tech}/${parsed.device}-${suffix}`;
    const ch = new SimChannel(channelId || makeUniqueId(), name, mode, endpoint, script, parsed.number);
    if (parsed.tech === 'PJSIP') ch.protocolId = `${randomHex(12)}@anxin-sim`;
    ch.dial.dialstring = parsed.resource;
    // While dialled, a channel runs the dial "application" (main/dial.c); a Local channel's context and exten
    // come from its dialstring (Local/13800000001@sim-trunk), as captured on Asterisk 22.10.1.
    const [exten, context] = parsed.tech === 'Local' ? parsed.resource.split('/')[0]!.split('@') : [];
    ch.dialplan = { context: context || 'default', exten: exten || 's', priority: 1, app_name: 'AppDial2', app_data: '(Outgoing Line)' };
    if (script.label) ch.log.script = `${script.match} (${script.label})`;
    return ch;
  }

  /** POST /channels and /channels/{id} (ari.md §1.1 "Originate details"). */
  originate(r: OriginateRequest): ChannelJson {
    const { vars, reported } = this.parseVariables(r.variables);
    this.checkIds(r.channelId, r.otherChannelId);
    if (!r.endpoint) throw new ApiError(400, 'Endpoint must be specified');
    if (r.originator && r.formats) throw new ApiError(400, "Originator and formats can't both be specified");
    if (!parseEndpoint(r.endpoint)) throw new ApiError(400, 'Invalid endpoint specified');
    if (!r.app && !r.extension) throw new ApiError(400, 'Application or extension must be specified');
    if (r.originator && !this.channels.has(r.originator)) throw new ApiError(400, 'Provided originator channel was not found');
    const ch = this.request(r.endpoint, r.channelId, r.otherChannelId, 'originate');
    if (r.callerId) {
      const cid = parseCallerId(r.callerId);
      ch.caller = { ...cid };
      ch.connected = { ...cid };
    }
    Object.assign(ch.variables, vars);
    reported.forEach((k) => ch.reported.add(k));
    if (r.app) {
      ch.stasisApp = r.app;
      ch.stasisArgs = r.appArgs ? r.appArgs.split(',') : [];
      ch.apps.add(r.app); // subscribed at originate time: sees Dial etc. before StasisStart
      ch.log.app = r.app;
      ch.log.args = ch.stasisArgs;
    } else {
      ch.dialplan = { context: r.context || 'default', exten: r.extension ?? 's', priority: r.priority || 1, app_name: '', app_data: '' };
    }
    const t = r.timeout ?? 0;
    ch.dial.timeout = t > 0 ? t : t === -1 ? null : 30;
    this.channels.set(ch.id, ch);
    this.pushLog(ch.log);
    const snapshot = ch.toJSON(); // taken before the dial thread starts: state Down
    this.startDial(ch);
    return snapshot;
  }

  /** POST /channels/create: StasisStart at once, in state Down (ari.md §3.4). */
  create(r: OriginateRequest): ChannelJson {
    const { vars, reported } = this.parseVariables(r.variables);
    this.checkIds(r.channelId, r.otherChannelId);
    if (!r.endpoint) throw new ApiError(400, 'Endpoint must be specified');
    if (!r.app) throw new ApiError(400, 'Application must be specified');
    if (r.originator && r.formats) throw new ApiError(400, "Originator and formats can't both be specified");
    const ch = this.request(r.endpoint, r.channelId, r.otherChannelId, 'create');
    Object.assign(ch.variables, vars);
    reported.forEach((k) => ch.reported.add(k));
    ch.stasisApp = r.app;
    ch.stasisArgs = r.appArgs ? r.appArgs.split(',') : [];
    ch.log.app = r.app;
    ch.log.args = ch.stasisArgs;
    this.channels.set(ch.id, ch);
    this.pushLog(ch.log);
    const snapshot = ch.toJSON();
    ch.apps.add(r.app);
    this.enterStasis(ch);
    return snapshot;
  }

  /** POST /channels/{id}/dial. */
  dialCreated(id: string, callerId: string | undefined, timeout: number): void {
    const ch = this.control(id);
    // A dial already started counts as "not Down" (the simulator does not queue a second dial).
    if ((ch.state !== 'Down' && ch.state !== 'Rsrvd') || ch.dial.status !== 'idle') throw new ApiError(409, "Channel is not in the 'Down' state");
    if (ch.mode !== 'create') throw new ApiError(409, 'Dialing a channel not created by ARI');
    if (callerId && this.channels.has(callerId)) {
      const caller = this.channels.get(callerId);
      ch.dial.callerId = callerId;
      if (caller) ch.connected = { ...caller.caller };
    }
    ch.dial.timeout = timeout > 0 ? timeout : null;
    this.startDial(ch);
  }

  private scriptAction(s: EndpointScript | undefined): NonNullable<EndpointScript['action']> {
    return s?.action ?? 'answer';
  }

  /** The dial thread starts after the HTTP reply is written: Dial "" follows the 200 (issue 17 item 6). */
  private startDial(ch: SimChannel): void {
    ch.dial.status = 'pending';
    this.later(ch, () => {
      if (this.dialling(ch)) this.runDial(ch);
    }, 1);
  }

  private runDial(ch: SimChannel): void {
    this.emitDial(ch, '');
    const s = ch.script;
    const action = this.scriptAction(s);
    const ringAfter = s?.ringAfter === undefined ? (action === 'busy' || action === 'congestion' ? null : 0.2) : s.ringAfter;
    if (ringAfter !== null) this.chTimer(ch, ringAfter, () => this.farRinging(ch));
    const after = s?.after ?? 1;
    if (action === 'answer') this.chTimer(ch, s?.answerAfter ?? 1, () => this.farAnswer(ch));
    else if (action === 'call') startBoxCall(this, ch);
    else if (action === 'busy') this.chTimer(ch, after, () => this.farRefuse(ch, s?.cause ?? 17, 'BUSY'));
    else if (action === 'reject') this.chTimer(ch, after, () => this.farRefuse(ch, s?.cause ?? 21));
    else if (action === 'congestion') this.chTimer(ch, after, () => this.farRefuse(ch, s?.cause ?? 34));
    else if (action === 'fail') this.chTimer(ch, after, () => this.farRefuse(ch, s?.cause ?? 38));
    if (ch.dial.timeout !== null) this.chTimer(ch, ch.dial.timeout, () => this.dialTimeout(ch));
  }

  dialling(ch: SimChannel): boolean {
    return !ch.hangingUp && (ch.dial.status === 'pending' || ch.dial.status === 'ringing');
  }

  /** Far end sends 180 Ringing. */
  farRinging(ch: SimChannel): void {
    if (!this.dialling(ch) || ch.dial.status === 'ringing') return;
    ch.dial.status = 'ringing';
    ch.log.ringingAt = new Date().toISOString();
    this.setState(ch, 'Ringing');
    this.emitDial(ch, 'RINGING');
  }

  /** Far end answers. Returns false if the channel was not dialling. */
  farAnswer(ch: SimChannel): boolean {
    if (!this.dialling(ch)) return false;
    ch.dial.status = 'answered';
    this.setState(ch, 'Up');
    this.emitDial(ch, 'ANSWER');
    ch.log.answeredAt = new Date().toISOString();
    if (ch.mode === 'originate' && ch.stasisApp) {
      if (!this.hub.isRegistered(ch.stasisApp)) {
        // Stasis() fails for an unregistered app; the originate thread then hangs the channel up.
        this.clearTimers(ch);
        this.teardown(ch, 16, 'dialplan');
        return true;
      }
      this.varset(ch, 'STASISSTATUS', '');
      this.enterStasis(ch);
    }
    const s = ch.script;
    const fromExten = s?.hangupAfterFromExten !== undefined ? Number(ch.log.number.slice(s.hangupAfterFromExten)) : undefined;
    this.afterAnswer(ch, s?.dtmf, s?.hangupAfter ?? (Number.isFinite(fromExten) ? fromExten : undefined), s?.hangupCause);
    return true;
  }

  /**
   * Far end refuses with a cause (busy 17, rejected 21, congestion 34, …): ChannelHangupRequest{cause}, then
   * Dial <status>, then ChannelDestroyed. A PJSIP refusal carries the SIP code as tech_cause. Busy with cause 0
   * is Busy() behind a Local channel: Dial BUSY and ChannelDestroyed 0 with no HangupRequest (issue 17 item 3).
   */
  farRefuse(ch: SimChannel, cause: number, dialStatus = dialStatusForCause(cause)): boolean {
    if (!this.dialling(ch)) return false;
    ch.dial.status = 'failed';
    ch.hangingUp = true;
    this.clearTimers(ch);
    if (ch.name.startsWith('PJSIP/')) ch.techCause = sipCodeForCause(cause);
    if (cause !== 0) this.emitChannel(ch, 'ChannelHangupRequest', { cause, ...this.techCause(ch) });
    this.emitDial(ch, dialStatus);
    this.later(ch, () => this.teardown(ch, cause, 'far_end'));
    return true;
  }

  private techCause(ch: SimChannel): { tech_cause?: number } {
    return ch.techCause ? { tech_cause: ch.techCause } : {};
  }

  /** The dial timeout expired: cause 19 and no Dial NOANSWER (ari.md §3.1). */
  private dialTimeout(ch: SimChannel): void {
    if (!this.dialling(ch)) return;
    ch.dial.status = 'failed';
    ch.hangingUp = true;
    this.clearTimers(ch);
    if (ch.inStasis) {
      // create+dial: control.c soft-hangs the channel up with cause 19
      this.emitChannel(ch, 'ChannelHangupRequest', { cause: 32, soft: true });
      this.later(ch, () => this.teardown(ch, 19, 'timeout'));
    } else {
      this.teardown(ch, 19, 'timeout');
    }
  }

  afterAnswer(ch: SimChannel, dtmf: DtmfStep[] | undefined, hangupAfter: number | undefined, hangupCause: number | undefined): void {
    for (const step of dtmf ?? []) this.chTimer(ch, step.at, () => this.pressDigits(ch, step.digits, step.durationMs, step.gapMs));
    if (hangupAfter !== undefined) this.chTimer(ch, hangupAfter, () => this.farHangup(ch, hangupCause ?? 16));
  }

  // ---------------------------------------------------------------- Stasis, answer, DTMF

  enterStasis(ch: SimChannel): void {
    const app = ch.stasisApp;
    if (!app) return;
    ch.inStasis = true;
    ch.apps.add(app);
    ch.dialplan.app_name = 'Stasis';
    ch.dialplan.app_data = [app, ...ch.stasisArgs].join(',');
    ch.log.stasisStartAt = new Date().toISOString();
    this.emitChannel(ch, 'StasisStart', { args: [...ch.stasisArgs] });
  }

  /** POST /channels/{id}/answer (checks done): ChannelStateChange Up. */
  appAnswer(ch: SimChannel): void {
    if (ch.state === 'Up') return;
    this.setState(ch, 'Up');
    ch.log.answeredAt = new Date().toISOString();
    if (ch.mode === 'inbound') {
      const o = ch.inbound;
      this.afterAnswer(ch, o?.dtmf, o?.hangupAfterAnswer, o?.hangupCause);
      const box = ch.peerId ? this.channels.get(ch.peerId) : undefined;
      if (box) this.farAnswer(box); // the Local chain answers the box's own leg
    }
  }

  /** The far end presses digits: one ChannelDtmfReceived per digit, when the digit ends. */
  pressDigits(ch: SimChannel, digits: string, durationMs = 100, gapMs = 150): void {
    [...digits].forEach((digit, i) => {
      this.chTimer(ch, (i * (durationMs + gapMs) + durationMs) / 1000, () => {
        if (ch.hangingUp || ch.state !== 'Up') return;
        ch.log.dtmfReceived += digit;
        this.emitChannel(ch, 'ChannelDtmfReceived', { digit, duration_ms: durationMs });
      });
    });
  }

  // ---------------------------------------------------------------- hang-ups

  later(ch: SimChannel, fn: () => void, ms = this.opts.teardownMs): void {
    const t = this.sched.afterMs(ms, () => {
      ch.timers.delete(t);
      fn();
    });
    ch.timers.add(t);
  }

  /** DELETE /channels/{id}: soft hangup {cause:32, soft:true}; the real cause arrives in ChannelDestroyed. */
  appHangup(ch: SimChannel, cause: number): void {
    if (ch.hangingUp) return;
    const wasDialling = this.dialling(ch);
    ch.hangingUp = true;
    this.clearTimers(ch);
    if (wasDialling) ch.dial.status = 'failed';
    this.emitChannel(ch, 'ChannelHangupRequest', { cause: 32, soft: true });
    this.later(ch, () => this.teardown(ch, cause, 'app', wasDialling ? dialStatusForCause(cause) : undefined));
  }

  /** The far end (or an inbound caller) hangs up: ChannelHangupRequest with the Q.850 cause, no `soft`. */
  farHangup(ch: SimChannel, cause = 16): boolean {
    if (ch.hangingUp || ch.destroyed) return false;
    if (this.dialling(ch)) return this.farRefuse(ch, cause);
    ch.hangingUp = true;
    this.clearTimers(ch);
    this.emitChannel(ch, 'ChannelHangupRequest', { cause });
    this.later(ch, () => this.teardown(ch, cause, 'far_end'));
    return true;
  }

  /** [Dial status] → [PlaybackFinished] → [ChannelLeftBridge] → [StasisEnd] → ChannelDestroyed. */
  teardown(ch: SimChannel, cause: number, endedBy: NonNullable<CallLogEntry['endedBy']>, dialStatus?: string): void {
    if (ch.destroyed) return;
    ch.hangingUp = true;
    this.clearTimers(ch);
    if (dialStatus) this.emitDial(ch, dialStatus);
    this.playbacks.stopAllOnChannel(ch);
    if (ch.bridgeId) this.bridges.leave(ch);
    if (ch.inStasis) {
      ch.inStasis = false;
      this.emitChannel(ch, 'StasisEnd');
      // A channel that entered Stasis from the dialplan is unsubscribed at StasisEnd; only channels the app
      // originated or created keep a subscription and see STASISSTATUS and ChannelDestroyed (issue 17 item 1).
      if (ch.mode === 'inbound') ch.apps.clear();
      else if (ch.mode === 'originate') this.varset(ch, 'STASISSTATUS', 'SUCCESS');
    }
    ch.destroyed = true;
    this.channels.delete(ch.id);
    this.emitChannel(ch, 'ChannelDestroyed', { cause, cause_txt: causeText(cause), ...this.techCause(ch) });
    ch.apps.clear();
    Object.assign(ch.log, { endedAt: new Date().toISOString(), cause, cause_txt: causeText(cause), endedBy });
    boxHungUp(this, ch, cause);
    for (const fn of [...this.teardownHooks]) fn(ch);
  }

  private readonly teardownHooks = new Set<(ch: SimChannel) => void>();

  /** Called after every channel's tear-down (snoop channels end with the channel they snoop on). */
  onTeardown(fn: (ch: SimChannel) => void): () => void {
    this.teardownHooks.add(fn);
    return () => this.teardownHooks.delete(fn);
  }

  // ---------------------------------------------------------------- inbound

  /** A call from `from` to the DID `to` enters Stasis in state Ring (ari.md §3.5, inbound.ts). */
  inbound(o: InboundCallOptions): InboundCallResult {
    return injectInbound(this, o);
  }

  // ---------------------------------------------------------------- reset

  /** Hangs everything up (with events), destroys bridges, clears logs. */
  reset(): void {
    for (const ch of [...this.channels.values()]) this.teardown(ch, 16, 'reset');
    this.bridges.destroyAll();
    this.playbacks.clear();
    this.originateLog.length = 0;
    this.callLog.length = 0;
  }

  /** Drops all state without events (Asterisk went away). */
  wipe(): void {
    for (const ch of this.channels.values()) {
      this.clearTimers(ch);
      ch.destroyed = true;
      if (!ch.log.endedAt) Object.assign(ch.log, { endedAt: new Date().toISOString(), cause: 16, cause_txt: causeText(16), endedBy: 'reset' });
    }
    this.channels.clear();
    this.bridges.wipe();
    this.playbacks.clear();
  }
}

