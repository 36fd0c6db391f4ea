/**
 * The hotline queue (issue 19). Anxin owns it, on ARI bridges and channels (no app_queue):
 *  - callers wait in one holding bridge with music on hold (POST /bridges/{id}/moh; no events, ari.md §1.2).
 *    Positions are announced to each caller with a channel playback: on Asterisk 22.10.1 a bridge playback in
 *    a holding bridge with MOH on fails at once, while a channel playback of a caller in it plays.
 *  - order: callers with priority (an open P1/P2 alarm, or the IVR's emergency digit) first, then arrival.
 *  - the ACD (hotline-acd.ts) rings the longest-idle ready agent from the port, one per waiting caller.
 *  - overflow after maxWaitS, or at once when nobody is signed in (hotline-overflow.ts).
 */
import type { Leg } from '../calls.ts';
import { errText } from '../log.ts';
import type { AgentPick, HotlineCallInfo, OverflowReason } from '../hotline-ports.ts';
import type { QueueLegSummary } from '../ports.ts';
import { ringNext } from './hotline-acd.ts';
import type { HotlineConfig, QueueOptions } from './hotline-config.ts';
import { queueMedia } from './hotline-config.ts';
import type { HotlineEmit } from './hotline-events.ts';
import { runOverflow } from './hotline-overflow.ts';
import { QueueCounters, type QueueStats } from './hotline-stats.ts';
import { scaledMs, sleep, type FlowContext } from './context.ts';
import { playPrompt, type PromptKind, type PromptPlayback } from './prompts.ts';

export type EntryState = 'waiting' | 'ringing' | 'connected' | 'overflow' | 'gone';

export interface QueueEntry {
  id: string;
  leg: Leg;
  call: HotlineCallInfo;
  hotline: HotlineConfig;
  seq: number;
  enqueuedAt: number;
  state: EntryState;
  /** Agents rung for this caller who did not answer (excluded from later picks for this caller). */
  missed: string[];
  agentN: number;
  ringing?: { leg: Leg; pick: AgentPick };
  announcer?: PromptPlayback;
  timer?: NodeJS.Timeout;
  summary: QueueLegSummary;
  /** What runs for the caller after the queue (bridged call, overflow): hotline_done waits for it. */
  work: Promise<void>[];
  /**
   * Idempotency keys of the legs placed for this caller: `hotline:<entryId>`, plus `#r<time>` when the call was
   * taken over after a restart (issue 19): the keys the previous run used are claimed for good.
   */
  keyPrefix: string;
}

const keyPrefix = (entryId: string, resumed: boolean): string => `hotline:${entryId}${resumed ? `#r${Date.now().toString(36)}` : ''}`;

/** A caller in the queue, for the wallboard. */
export interface WaitingCaller {
  entryId: string;
  position: number;
  callerNumber: string;
  did: string;
  priority: boolean;
  waitMs: number;
  state: 'waiting' | 'ringing';
  ringingAgent?: string;
}

export class HotlineQueue {
  private readonly entries = new Map<string, QueueEntry>();
  private seq = 0;
  readonly counters = new QueueCounters();
  readonly bridgeId: string;
  private bridge: Promise<void> | undefined;
  private pumping = false;
  private again = false;
  private poll: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The ACD's port calls (ringing, missed) in order, so the gateway sees 振铃 before 置忙. */
  private agentPorts: Promise<void> = Promise.resolve();

  constructor(
    readonly ctx: FlowContext,
    readonly opts: QueueOptions,
    readonly emit: HotlineEmit,
  ) {
    this.bridgeId = `${ctx.adapter.app}-hotline-queue`;
  }

  /** An entry for a caller already bridged with an agent when the hub restarted (flows/recover.ts): not waiting, not counted as offered. */
  adoptConnected(leg: Leg, call: HotlineCallInfo, hotline: HotlineConfig, agentId: string | undefined, since: number): QueueEntry {
    const e: QueueEntry = {
      id: call.entryId,
      leg,
      call,
      hotline,
      seq: ++this.seq,
      enqueuedAt: since,
      state: 'connected',
      missed: [],
      agentN: 0,
      work: [],
      keyPrefix: keyPrefix(call.entryId, true),
      summary: { entryId: call.entryId, hotline: call.did, result: 'answered', waitMs: 0, priority: call.priority, resumed: true, ...(agentId && { agentId }) },
    };
    leg.queueSummary = e.summary;
    this.entries.set(e.id, e);
    return e;
  }

  /** Resolves when the entry's call is over and its records are written; emits hotline_done. */
  async settle(e: QueueEntry): Promise<void> {
    return this.finish(e, e.leg.ended.then(() => undefined));
  }

  stop(): void {
    this.stopped = true;
    if (this.poll) clearTimeout(this.poll);
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
  }

  /** Waiting and ringing callers in queue order. */
  ordered(): QueueEntry[] {
    return [...this.entries.values()]
      .filter((e) => e.state === 'waiting' || e.state === 'ringing')
      .sort((a, b) => Number(b.call.priority) - Number(a.call.priority) || a.seq - b.seq);
  }

  position(e: QueueEntry): number {
    return this.ordered().indexOf(e) + 1;
  }

  waiting(): WaitingCaller[] {
    const now = Date.now();
    return this.ordered().map((e, i) => {
      const w: WaitingCaller = { entryId: e.id, position: i + 1, callerNumber: e.call.callerNumber, did: e.call.did, priority: e.call.priority, waitMs: now - e.enqueuedAt, state: e.state === 'ringing' ? 'ringing' : 'waiting' };
      if (e.ringing) w.ringingAgent = e.ringing.pick.userId;
      return w;
    });
  }

  stats(): QueueStats {
    return this.counters.snapshot(this.ordered().map((e) => new Date(e.enqueuedAt)));
  }

  waitMs(e: QueueEntry): number {
    return Date.now() - e.enqueuedAt;
  }

  /**
   * Puts the answered caller in the holding bridge; resolves when the call is over (records written).
   * `resume` (issue 19, flows/recover.ts): a caller taken over from a previous run of the hub, queued in the
   * order of the calls (the entry's place is taken synchronously, before the first await), with the wait counted
   * from `enqueuedAt`; `inBridge`: already in the holding bridge (not added again: a real Asterisk would take it
   * out and put it back). If a resumed caller cannot be put in the holding bridge it is not left in silence: it is
   * treated as abandoned (HotlinePort.abandoned: the call-back list) and hung up.
   */
  async enqueue(leg: Leg, call: HotlineCallInfo, hotline: HotlineConfig, resume?: { enqueuedAt: number; inBridge: boolean; joined?: (ok: boolean) => void }): Promise<void> {
    const e: QueueEntry = {
      id: call.entryId,
      leg,
      call,
      hotline,
      seq: ++this.seq,
      enqueuedAt: resume?.enqueuedAt ?? Date.now(),
      state: 'waiting',
      missed: [],
      agentN: 0,
      work: [],
      keyPrefix: keyPrefix(call.entryId, resume !== undefined),
      summary: { entryId: call.entryId, hotline: call.did, result: 'abandoned', waitMs: 0, priority: call.priority },
    };
    if (call.ivrChoice) e.summary.ivrChoice = call.ivrChoice;
    if (resume) e.summary.resumed = true;
    leg.queueSummary = e.summary;
    this.entries.set(e.id, e);
    this.counters.offer(call.priority);
    // StasisEnd reaches the leg's listeners before its end is written: the summary is final by then.
    leg.on('StasisEnd', () => this.callerGone(e));
    const done = leg.ended.then(() => this.callerGone(e));
    try {
      await this.join(leg.channelId, resume?.inBridge === true);
    } catch (err) {
      this.ctx.log.warn({ err: errText(err), channelId: leg.channelId }, 'telephony: hotline caller not added to the holding bridge');
      if (resume && leg.live && e.state === 'waiting') {
        // Nobody is lost: on the call-back list, and hung up rather than left without music.
        this.callerGone(e);
        await leg.hangup('normal');
      }
    }
    resume?.joined?.(leg.live && e.state === 'waiting');
    if (!leg.live) this.callerGone(e);
    if (e.state !== 'waiting') return this.finish(e, done);
    this.emit('hotline_queued', { call, position: this.position(e), at: new Date() });
    const maxWaitS = hotline.queueMaxWaitS ?? this.opts.maxWaitS;
    // A resumed caller keeps the wait so far, but the ACD gets at least two ring rounds before the overflow.
    const ringS = hotline.ringTimeoutS ?? this.opts.ringTimeoutS;
    const leftS = resume ? Math.max(maxWaitS - this.waitMs(e) / (1000 * this.ctx.cfg.timeScale), 2 * ringS) : maxWaitS;
    e.timer = setTimeout(() => void this.overflow(e, 'max_wait'), scaledMs(this.ctx, leftS));
    e.timer.unref();
    void this.announce(e);
    this.pump();
    return this.finish(e, done);
  }

  private async finish(e: QueueEntry, done: Promise<void>): Promise<void> {
    await done;
    for (let i = 0; i < e.work.length; i++) await e.work[i];
    await e.leg.flushed();
    this.entries.delete(e.id);
    this.emit('hotline_done', { call: e.call, summary: { ...e.summary } });
  }

  /** The holding bridge, created (and its MOH started) on first use; re-created if Asterisk lost it. */
  private async join(channelId: string, already = false): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.bridge ??= this.createBridge();
      try {
        await this.bridge;
        if (already && attempt === 0) return;
        await this.ctx.adapter.addToBridge(this.bridgeId, [channelId]);
        return;
      } catch (err) {
        this.bridge = undefined;
        if (attempt > 0) throw err;
      }
    }
  }

  private async createBridge(): Promise<void> {
    const { adapter, log } = this.ctx;
    try {
      await adapter.createBridge({ bridgeId: this.bridgeId, type: 'holding', name: 'anxin hotline queue' });
    } catch (err) {
      // 409: it survived a restart of the hub; it is ours, use it.
      if (!/already exists/.test(errText(err))) throw err;
    }
    await adapter.bridgeMoh(this.bridgeId, true, this.opts.mohClass).catch((err: unknown) => log.warn({ err: errText(err) }, 'telephony: hotline queue MOH failed to start'));
  }

  async leaveHolding(e: QueueEntry): Promise<void> {
    await this.ctx.adapter.removeFromBridge(this.bridgeId, [e.leg.channelId]).catch(() => undefined);
  }

  /** Announces the position on entry, then every announceEveryS, while the caller waits. */
  private async announce(e: QueueEntry): Promise<void> {
    const every = this.opts.announceEveryS;
    for (;;) {
      if (e.state !== 'waiting' && e.state !== 'ringing') return;
      const position = this.position(e);
      const { media, fallback } = queueMedia(this.opts, e.call.language, 'position', position);
      e.announcer = playPrompt({ leg: e.leg, stats: this.ctx.prompts, log: this.ctx.log }, 'queuePosition' as PromptKind, media, fallback);
      this.emit('hotline_announced', { call: e.call, position, at: new Date() });
      await e.announcer.finished;
      e.announcer = undefined;
      if (every <= 0) return;
      const until = Date.now() + scaledMs(this.ctx, every);
      while (Date.now() < until && (e.state === 'waiting' || e.state === 'ringing')) await sleep(Math.min(200, until - Date.now()));
    }
  }

  /** The caller left the queue (connected, overflowed or gone): stop what runs for them as a waiting caller. */
  async stopWaiting(e: QueueEntry): Promise<void> {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
    await e.announcer?.stop();
  }

  /** The caller hung up (StasisEnd, or the leg's end by any other way). */
  private callerGone(e: QueueEntry): void {
    const was = e.state;
    if (was === 'gone' || was === 'connected' || was === 'overflow') return;
    const position = Math.max(1, this.position(e));
    e.state = 'gone';
    const waitMs = this.waitMs(e);
    e.summary.result = 'abandoned';
    e.summary.waitMs = waitMs;
    void this.stopWaiting(e);
    void e.ringing?.leg.hangup('normal');
    this.counters.abandon(waitMs);
    const ab = { ...e.call, waitMs, position, at: new Date() };
    this.emit('hotline_abandoned', ab);
    const port = this.ctx.ports.hotline;
    if (port) void port.abandoned(ab).catch((err: unknown) => this.ctx.log.error({ err: errText(err), entryId: e.id }, 'telephony: hotline.abandoned failed'));
    this.pump();
  }

  async overflow(e: QueueEntry, reason: OverflowReason): Promise<void> {
    if (e.state !== 'waiting' && e.state !== 'ringing') return;
    e.state = 'overflow';
    await this.stopWaiting(e);
    await e.ringing?.leg.hangup('normal');
    this.counters.overflow();
    e.summary.waitMs = this.waitMs(e);
    const work = runOverflow(this, e, reason);
    e.work.push(work);
    this.pump();
    await work;
  }

  /** Queues an agents.* port call behind the previous ones; a failure is logged. */
  agentPort(what: string, fn: () => Promise<void>): void {
    this.agentPorts = this.agentPorts.then(fn).catch((err: unknown) => this.ctx.log.error({ err: errText(err) }, `telephony: agents.${what} failed`));
  }

  /** Runs the ACD for the waiting callers in order; serialised, re-run when asked while running. */
  pump(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.dispatch();
        } while (this.again && !this.stopped);
      } catch (err) {
        this.ctx.log.error({ err: errText(err) }, 'telephony: hotline ACD failed');
      } finally {
        this.pumping = false;
        this.schedulePoll();
      }
    })();
  }

  private schedulePoll(): void {
    if (this.poll) clearTimeout(this.poll);
    this.poll = undefined;
    if (this.stopped || !this.ordered().some((e) => e.state === 'waiting')) return;
    this.poll = setTimeout(() => this.pump(), scaledMs(this.ctx, this.opts.agentPollS));
    this.poll.unref();
  }

  private async dispatch(): Promise<void> {
    const { ports, log } = this.ctx;
    const busy = this.ordered().flatMap((e) => (e.ringing ? [e.ringing.pick.userId] : []));
    for (const e of this.ordered()) {
      if (e.state !== 'waiting') continue;
      let pick: AgentPick | undefined;
      try {
        pick = ports.agents.pickAgent ? await ports.agents.pickAgent({ exclude: [...new Set([...busy, ...e.missed])], entryId: e.id, did: e.call.did }) : undefined;
      } catch (err) {
        log.error({ err: errText(err) }, 'telephony: agents.pickAgent failed; nobody ready');
      }
      if (e.state !== 'waiting') continue;
      if (!pick) {
        if (!(await this.anySignedIn())) {
          for (const w of this.ordered()) void this.overflow(w, 'no_agents');
          return;
        }
        if (e.missed.length) continue; // the agents this caller missed may suit the next caller
        return;
      }
      busy.push(pick.userId);
      void ringNext(this, e, pick);
    }
  }

  private async anySignedIn(): Promise<boolean> {
    const agents = this.ctx.ports.agents;
    if (!agents.pickAgent) return false;
    if (!agents.anySignedIn) return true;
    try {
      return await agents.anySignedIn();
    } catch (err) {
      this.ctx.log.error({ err: errText(err) }, 'telephony: agents.anySignedIn failed; assuming agents are signed in');
      return true;
    }
  }
}
