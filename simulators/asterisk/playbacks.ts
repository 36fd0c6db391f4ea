/**
 * Playbacks (ari.md §1.4, §2.1): PlaybackStarted (playing) → [PlaybackContinuing per further media] →
 * PlaybackFinished (done, or failed for media that cannot be played). Playbacks on one channel queue up,
 * as in Asterisk. A finished playback is gone (GET gives 404).
 */
import { randomUUID } from 'node:crypto';
import type { Engine } from './engine.ts';
import { ApiError } from './engine.ts';
import { SimPlayback, type SimBridge, type SimChannel } from './model.ts';
import type { PlaybackJson } from './types.ts';

/** Media the simulator can "play"; any other scheme fails, and so does a `sound:` that is not installed
 *  (PlaybackStarted, then PlaybackFinished failed at once, as on Asterisk 22.10.1: issue 17 item 2). */
const PLAYABLE = /^(sound|recording|number|digits|characters|tone):.+/;

export class PlaybackManager {
  readonly all = new Map<string, SimPlayback>();

  constructor(private readonly engine: Engine) {}

  private recipients(pb: SimPlayback): Set<string> {
    if (pb.target.kind === 'channel') return new Set(this.engine.get(pb.target.id)?.apps ?? []);
    const b = this.engine.bridges.all.get(pb.target.id);
    return b ? this.engine.bridges.apps(b) : new Set();
  }

  private emit(pb: SimPlayback, type: string, to = this.recipients(pb)): void {
    this.engine.hub.emit(type, { playback: pb.toJSON() }, to);
  }

  private make(media: string[], target: SimPlayback['target'], lang: string, playbackId?: string): SimPlayback {
    const id = playbackId || randomUUID();
    if (this.all.has(id)) throw new ApiError(500, 'Failed to queue media for playback');
    const pb = new SimPlayback(id, media, target, lang);
    this.all.set(id, pb);
    return pb;
  }

  /** Queues media on a channel. Returns the Playback as the 201 body shows it (state queued). */
  playOnChannel(ch: SimChannel, media: string[], lang: string | undefined, playbackId?: string): PlaybackJson {
    const pb = this.make(media, { kind: 'channel', id: ch.id }, lang || ch.language, playbackId);
    const body = pb.toJSON();
    ch.playQueue.push(pb.id);
    ch.log.playbacks.push(...media);
    if (ch.playQueue.length === 1) this.start(pb);
    return body;
  }

  playOnBridge(b: SimBridge, media: string[], lang: string | undefined, playbackId?: string): PlaybackJson {
    const pb = this.make(media, { kind: 'bridge', id: b.id }, lang || 'en', playbackId);
    const body = pb.toJSON();
    if (b.moh && b.types.includes('holding')) {
      // Asterisk 22.10.1: the MOH announcer holds the holding bridge's one announcer slot, so a bridge
      // playback fails at once (PlaybackStarted, then PlaybackFinished failed); channel playbacks still play.
      pb.state = 'playing';
      this.emit(pb, 'PlaybackStarted');
      pb.state = 'failed';
      this.finish(pb);
      return body;
    }
    this.start(pb);
    return body;
  }

  private start(pb: SimPlayback): void {
    pb.state = 'playing';
    pb.index = 0;
    this.emit(pb, 'PlaybackStarted');
    this.step(pb);
  }

  private playable(media: string): boolean {
    if (!PLAYABLE.test(media)) return false;
    return !media.startsWith('sound:') || this.engine.opts.sounds.has(media.slice('sound:'.length));
  }

  private step(pb: SimPlayback): void {
    if (!this.playable(pb.media[pb.index] ?? '')) {
      pb.state = 'failed';
      this.finish(pb);
      return;
    }
    pb.timer = this.engine.sched.after(this.engine.opts.playbackSeconds, () => {
      pb.timer = undefined;
      if (pb.index + 1 < pb.media.length) {
        pb.index += 1;
        pb.state = 'continuing';
        this.emit(pb, 'PlaybackContinuing');
        pb.state = 'playing';
        this.step(pb);
      } else {
        pb.state = 'done';
        this.finish(pb);
      }
    });
  }

  /** PlaybackFinished, then the next queued playback on the channel starts. */
  private finish(pb: SimPlayback, to?: Set<string>): void {
    this.engine.sched.cancel(pb.timer);
    this.emit(pb, 'PlaybackFinished', to);
    this.all.delete(pb.id);
    if (pb.target.kind !== 'channel') return;
    const ch = this.engine.get(pb.target.id);
    if (!ch) return;
    const i = ch.playQueue.indexOf(pb.id);
    if (i >= 0) ch.playQueue.splice(i, 1);
    const next = ch.playQueue[0] !== undefined ? this.all.get(ch.playQueue[0]) : undefined;
    if (next && next.state === 'queued' && !ch.hangingUp) this.start(next);
  }

  get(id: string): SimPlayback {
    const pb = this.all.get(id);
    if (!pb) throw new ApiError(404, 'Playback not found');
    return pb;
  }

  /** DELETE /playbacks/{id}: a playing one finishes (done); a queued one is dropped. */
  stop(pb: SimPlayback): void {
    if (pb.state === 'queued') {
      this.all.delete(pb.id);
      const ch = pb.target.kind === 'channel' ? this.engine.get(pb.target.id) : undefined;
      if (ch) ch.playQueue.splice(ch.playQueue.indexOf(pb.id), 1);
      return;
    }
    pb.state = 'done';
    this.finish(pb);
  }

  /** On hang-up: the playing one finishes `failed` (as on Asterisk 22.10.1: "Playback failed" after the
   *  ChannelHangupRequest), queued ones are dropped. */
  stopAllOnChannel(ch: SimChannel): void {
    const queue = [...ch.playQueue];
    ch.playQueue.length = 0;
    for (const id of queue) {
      const pb = this.all.get(id);
      if (!pb) continue;
      if (pb.state === 'queued') this.all.delete(id);
      else {
        pb.state = 'failed';
        this.finish(pb);
      }
    }
  }

  stopAllOnBridge(b: SimBridge, to: Set<string>): void {
    for (const pb of [...this.all.values()]) {
      if (pb.target.kind === 'bridge' && pb.target.id === b.id) {
        pb.state = 'done';
        this.finish(pb, to);
      }
    }
  }

  clear(): void {
    for (const pb of this.all.values()) this.engine.sched.cancel(pb.timer);
    this.all.clear();
  }
}
