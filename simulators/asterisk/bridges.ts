/**
 * Bridges (ari.md §1.2, §2.2): created with POST /bridges, not subscribed to any app (no BridgeCreated);
 * an app is subscribed while one of its Stasis channels is in the bridge.
 */
import { randomUUID } from 'node:crypto';
import type { Engine } from './engine.ts';
import { ApiError } from './engine.ts';
import { SimBridge, type SimChannel } from './model.ts';
import type { BridgeJson } from './types.ts';

const BRIDGE_TYPES = new Set(['mixing', 'holding', 'dtmf_events', 'proxy_media', 'video_sfu', 'video_single', 'sdp_label']);

export class BridgeManager {
  readonly all = new Map<string, SimBridge>();

  constructor(private readonly engine: Engine) {}

  get(id: string): SimBridge {
    const b = this.all.get(id);
    if (!b) throw new ApiError(404, 'Bridge not found');
    return b;
  }

  /** Apps subscribed to the bridge: those of the Stasis channels in it, and those of channels that were in it
   *  (an app stays subscribed after its channel leaves: BridgeDestroyed still reaches it). */
  apps(b: SimBridge): Set<string> {
    const apps = new Set<string>(b.apps);
    for (const id of b.channels) {
      const ch = this.engine.get(id);
      if (ch?.inStasis) ch.apps.forEach((a) => apps.add(a));
    }
    return apps;
  }

  create(id: string | undefined, type: string | undefined, name: string | undefined): BridgeJson {
    const bridgeId = id || randomUUID();
    if (this.all.has(bridgeId)) throw new ApiError(409, `Bridge with id '${bridgeId}' already exists`);
    const types = (type || 'mixing').split(',').map((t) => t.trim()).filter(Boolean);
    for (const t of types) if (!BRIDGE_TYPES.has(t)) throw new ApiError(400, `Invalid bridge type '${t}'`);
    const b = new SimBridge(bridgeId, name ?? '', types.length ? types : ['mixing']);
    this.all.set(bridgeId, b);
    return b.toJSON();
  }

  /** Resolves channel ids for add/removeChannel: 400 missing/not found, 422 not in Stasis. */
  controls(ids: string[]): SimChannel[] {
    const list = ids.filter((s) => s !== '');
    if (!list.length) throw new ApiError(400, 'Missing parameter channel');
    return list.map((id) => {
      const ch = this.engine.get(id);
      if (!ch) throw new ApiError(400, 'Channel not found');
      if (!ch.inStasis) throw new ApiError(422, 'Channel not in Stasis application');
      return ch;
    });
  }

  add(b: SimBridge, channels: SimChannel[]): void {
    for (const ch of channels) {
      if (ch.hangingUp) continue;
      if (ch.bridgeId === b.id) {
        // Added again to the bridge it is in: a real Asterisk 22.10.1 answers 204 and takes it out and puts it back
        // (ChannelLeftBridge, then ChannelEnteredBridge); the app stays subscribed.
        this.leave(ch);
        b.channels.push(ch.id);
        ch.bridgeId = b.id;
        this.engine.hub.emit('ChannelEnteredBridge', { bridge: b.toJSON(), channel: ch.toJSON() }, new Set([...this.apps(b), ...ch.apps]));
        continue;
      }
      const moved = ch.bridgeId ? this.all.get(ch.bridgeId) : undefined;
      if (ch.bridgeId) this.leave(ch);
      // Moved out (not hung up): the app is no longer subscribed to the old bridge unless another of its
      // channels is still in it (captured on 22.10.1: no BridgeDestroyed for a holding bridge a channel moved out of).
      if (moved) for (const a of ch.apps) if (!moved.channels.some((id) => this.engine.get(id)?.apps.has(a))) moved.apps.delete(a);
      b.channels.push(ch.id);
      ch.bridgeId = b.id;
      if (ch.inStasis) ch.apps.forEach((a) => b.apps.add(a));
      this.engine.hub.emit('ChannelEnteredBridge', { bridge: b.toJSON(), channel: ch.toJSON() }, new Set([...this.apps(b), ...ch.apps]));
    }
  }

  remove(b: SimBridge, channels: SimChannel[]): void {
    for (const ch of channels) if (ch.bridgeId !== b.id) throw new ApiError(422, 'Channel not in this bridge');
    for (const ch of channels) {
      this.leave(ch);
      // Removed (not hung up): like a move, the app is unsubscribed unless another of its channels is still in
      // the bridge (captured on 22.10.1: no BridgeDestroyed after removeChannel + DELETE /bridges).
      for (const a of ch.apps) if (!b.channels.some((id) => this.engine.get(id)?.apps.has(a))) b.apps.delete(a);
    }
  }

  /** ChannelLeftBridge, with the bridge's channel list already updated. */
  leave(ch: SimChannel): void {
    const b = ch.bridgeId ? this.all.get(ch.bridgeId) : undefined;
    ch.bridgeId = undefined;
    if (!b) return;
    const recipients = new Set([...this.apps(b), ...ch.apps]);
    const i = b.channels.indexOf(ch.id);
    if (i >= 0) b.channels.splice(i, 1);
    this.engine.hub.emit('ChannelLeftBridge', { bridge: b.toJSON(), channel: ch.toJSON() }, recipients);
  }

  /** DELETE /bridges/{id}: channels leave (and stay in Stasis), then BridgeDestroyed to every app subscribed,
   *  even when all channels had left before (captured on Asterisk 22.10.1). */
  destroy(b: SimBridge): void {
    const recipients = this.apps(b);
    this.engine.playbacks.stopAllOnBridge(b, recipients);
    for (const id of [...b.channels]) {
      const ch = this.engine.get(id);
      if (ch) this.leave(ch);
    }
    this.all.delete(b.id);
    this.engine.hub.emit('BridgeDestroyed', { bridge: b.toJSON() }, recipients);
  }

  destroyAll(): void {
    for (const b of [...this.all.values()]) this.destroy(b);
  }

  wipe(): void {
    this.all.clear();
  }

  list(): BridgeJson[] {
    return [...this.all.values()].map((b) => b.toJSON());
  }
}
