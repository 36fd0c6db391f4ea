/**
 * Which connection holds a device's session (receives its commands, queued ones included), and clone
 * detection. The watch protocol carries no secret: a device is whoever sends its IMEI. So:
 *
 * - The first connection that sends a frame the pipeline accepted holds the session ("bound": `online`).
 * - A second connection for the same identity while the holder is open does not take the session over: it
 *   is a contender. Its frames are still handled and answered (an SOS from it is raised and acknowledged,
 *   because a real watch that reconnected while its old connection still looks open must not lose an alarm),
 *   but it is never sent a command. When the holder closes (error, end, idle timeout), a contender that is
 *   not a suspected clone takes the session with its next frame.
 * - Exception: a contender from the same IP address as the holder replaces it at once. That is what a watch
 *   reconnecting through the same NAT address looks like (its old connection was lost without a FIN).
 * - Clone suspected: the holder and a contender from another IP address both report (the holder sends a valid
 *   frame after the contender's first one). Two live devices claim one identity; the contender is marked and
 *   never takes the session for the life of its connection, and `clone` is called once per episode. The
 *   episode ends when no marked contender is left.
 *
 * Used by the in-process TcpTransport and, for WATCH_WORKERS, by the gateway process's TcpWorkerPool (which
 * sees every worker's connections). Pure bookkeeping: the caller closes sockets and raises alarms.
 */
import type { DeviceMessage, Protocol } from '../../protocols/message.js';
import type { Device } from '../store/devices.js';

export type SessionVerdict = 'bound' | 'contender';

export interface SessionEvents<L> {
  /** `link` now holds the device's session */
  online(device: Device, link: L): void;
  /** the holder `link` closed; nobody holds the session now */
  offline(device: Device, link: L): void;
  /** `old` lost the session to a connection from its own address: close it */
  replaced(old: L, device: Device): void;
  /** a clone episode began: `holder` keeps the session, `suspect` is the newcomer from another address */
  clone(device: Device, holder: { remote: string }, suspect: { remote: string }): void;
}

interface LinkState {
  identifier: string;
  device: Device;
  /** the peer's IP address (without port) */
  ip: string;
  /** `address:port`, for logs and the alarm */
  remote: string;
  firstSeq: number;
  lastSeq: number;
  suspect: boolean;
  /** lost the session to a reconnect from its own address; being closed */
  replaced: boolean;
}

interface Identity<L> {
  holder?: L;
  /** made when a second connection appears (most devices never have one) */
  contenders?: Set<L>;
  episode: boolean;
}

/** `1.2.3.4:5678` / `[::1]:5678` / `::ffff:1.2.3.4:5678` → the address part */
export function ipOf(remote: string): string {
  const i = remote.lastIndexOf(':');
  const a = i > 0 ? remote.slice(0, i) : remote;
  return a.startsWith('::ffff:') ? a.slice(7) : a.replace(/^\[|\]$/g, '');
}

export class SessionTable<L> {
  private readonly links = new Map<L, LinkState>();
  private readonly ids = new Map<string, Identity<L>>();
  /** orders reports: "the holder reported after the contender's first frame" */
  private seq = 0;

  constructor(private readonly events: SessionEvents<L>) {}

  /** The connection holding the device's session. */
  holder(identifier: string): L | undefined {
    return this.ids.get(identifier)?.holder;
  }

  /** True while a clone episode is open for the identity. */
  cloneSuspected(identifier: string): boolean {
    return this.ids.get(identifier)?.episode ?? false;
  }

  /**
   * A frame from `link` was accepted by the pipeline for `device`. Returns whether the link holds the session
   * now; calls `online` when it has just taken it.
   */
  report(link: L, device: Device, remote: string, ip = ipOf(remote)): SessionVerdict {
    const seq = ++this.seq;
    let st = this.links.get(link);
    if (!st) {
      st = { identifier: device.identifier, device, ip, remote, firstSeq: seq, lastSeq: seq, suspect: false, replaced: false };
      this.links.set(link, st);
    }
    if (st.replaced) return 'contender'; // a frame that was on its way when it was replaced
    st.lastSeq = seq;
    st.device = device;
    let id = this.ids.get(st.identifier);
    if (!id) this.ids.set(st.identifier, (id = { episode: false }));

    if (id.holder === link) {
      // the holder is alive: a contender from elsewhere that has reported since it appeared is a clone
      for (const c of id.contenders ?? []) {
        const cs = this.links.get(c)!;
        if (!cs.suspect && cs.ip !== st.ip && cs.firstSeq < seq) this.suspect(id, st, cs);
      }
      return 'bound';
    }
    const h = id.holder;
    if (h === undefined) {
      if (st.suspect) return 'contender';
      return this.bind(id, link, st);
    }
    const hs = this.links.get(h)!;
    if (hs.ip === st.ip && !st.suspect) {
      // the same address: the watch reconnected and its old connection is dead (no FIN reached us)
      id.holder = undefined;
      hs.replaced = true;
      this.events.replaced(h, hs.device);
      return this.bind(id, link, st);
    }
    (id.contenders ??= new Set()).add(link);
    if (!st.suspect && hs.lastSeq > st.firstSeq) this.suspect(id, hs, st);
    return 'contender';
  }

  /** The connection closed (or was dropped). */
  closed(link: L): void {
    const st = this.links.get(link);
    if (!st) return;
    this.links.delete(link);
    const id = this.ids.get(st.identifier);
    if (!id || st.replaced) return;
    if (id.holder === link) {
      id.holder = undefined;
      this.events.offline(st.device, link);
    }
    const rivals = id.contenders;
    rivals?.delete(link);
    if (id.episode && ![...(rivals ?? [])].some((c) => this.links.get(c)?.suspect)) id.episode = false;
    if (rivals?.size === 0) id.contenders = undefined;
    if (id.holder === undefined && !id.contenders) this.ids.delete(st.identifier);
  }

  private bind(id: Identity<L>, link: L, st: LinkState): SessionVerdict {
    id.contenders?.delete(link);
    if (id.contenders?.size === 0) id.contenders = undefined;
    id.holder = link;
    this.events.online(st.device, link);
    return 'bound';
  }

  private suspect(id: Identity<L>, holder: LinkState, c: LinkState): void {
    c.suspect = true;
    if (id.episode) return;
    id.episode = true;
    this.events.clone(c.device, { remote: holder.remote }, { remote: c.remote });
  }
}

/**
 * The alarm for a clone episode, committed through AlarmService.commit like other device alarms. The message
 * is keyed by the episode (identity and start time, which is also its device time: no retransmission window),
 * so one episode makes one alarm; a later episode while that alarm is open bumps its count.
 */
export function cloneAlarm(device: Pick<Device, 'identifier' | 'protocol'>, holder: { remote: string }, suspect: { remote: string }, at = new Date()) {
  return {
    msg: {
      deviceId: device.identifier,
      protocol: device.protocol as Protocol,
      kind: 'status' as const,
      receivedAt: at,
      deviceTime: at,
      raw: `clone_suspected:${device.identifier}:${at.getTime()}`,
    } satisfies DeviceMessage,
    raise: [{ kind: 'device_clone_suspected' as const, detail: { holder: holder.remote, suspect: suspect.remote } }],
  };
}
