/**
 * The nodes of a cluster and who has a dashboard open on each (issue 24). Every node publishes a heartbeat on Redis
 * every HEARTBEAT_MS and at once when its own dashboards change: its users with a dashboard open and its counts
 * (devices held, sockets). A node is a member while its last heartbeat is fresher than 3 beats, so a node that died
 * drops out within ~6 s without anyone cleaning up after it.
 *
 * Escalation asks `online(userId)` synchronously (a P1 is presented to supervisors only when one is looking), so
 * the answer comes from these heartbeats held in memory, never from a round trip.
 */
import type { Redis } from 'ioredis';
import { Presence } from '../alarms/presence.js';
import { KEY } from './redis.js';

const CHANNEL = `${KEY}members`;
export const HEARTBEAT_MS = 2000;
const STALE_MS = 3 * HEARTBEAT_MS;

export interface NodeCounts {
  /** device sessions this node holds (TCP and MQTT) */
  devices: number;
  /** dashboards (WebSocket connections) on this node */
  sockets: number;
}

export interface MemberView extends NodeCounts {
  node: string;
  self: boolean;
  /** ms since its last heartbeat */
  ageMs: number;
  /** where the other nodes reach its HTTP API (NODE_URL) */
  url?: string;
  /** it runs telephony (holds the singleton): call control is forwarded there */
  telephony: boolean;
}

interface Beat extends NodeCounts {
  n: string;
  users: number[];
  at: number;
  /** someone on this node subscribes to the device events (anxin/devices/+/events) */
  ev?: boolean;
  url?: string;
  tel?: boolean;
}

/** Presence across the cluster: this node's own sockets, plus every live node's users from their heartbeats. */
export class ClusterPresence extends Presence {
  private readonly others = new Map<string, Beat & { seen: number }>();
  private timer: NodeJS.Timeout | undefined;
  private sockets = 0;
  /** whether this node's MQTT clients subscribe to the device events (set by the cluster part) */
  eventsWanted: () => boolean = () => false;
  /** where the other nodes reach this node's HTTP API (set once it listens) */
  url?: string;
  /** whether this node runs telephony now (set by the telephony part) */
  runsTelephony: () => boolean = () => false;

  constructor(
    private readonly nodeId: string,
    private readonly held: () => Pick<NodeCounts, 'devices'>,
    private readonly redis?: { pub: Redis; sub: Redis },
  ) {
    super();
  }

  override join(userId: number): void {
    super.join(userId);
    this.sockets++;
    this.beat();
  }

  override leave(userId: number): void {
    super.leave(userId);
    this.sockets = Math.max(0, this.sockets - 1);
    this.beat();
  }

  override online(userId: number): boolean {
    if (super.online(userId)) return true;
    const now = Date.now();
    for (const b of this.others.values()) if (now - b.seen < STALE_MS && b.users.includes(userId)) return true;
    return false;
  }

  /** Whether a subscriber to the device events is connected to another live node. */
  eventsWantedElsewhere(): boolean {
    const now = Date.now();
    for (const b of this.others.values()) if (b.ev && now - b.seen < STALE_MS) return true;
    return false;
  }

  /** Tells the other nodes at once (a change of this node's subscribers), not at the next beat. */
  beatNow(): void {
    this.beat();
  }

  /** Every live node, this one first. */
  members(): MemberView[] {
    const now = Date.now();
    const out: MemberView[] = [{ node: this.nodeId, self: true, ageMs: 0, devices: this.held().devices, sockets: this.sockets, url: this.url, telephony: this.runsTelephony() }];
    for (const b of this.others.values()) if (now - b.seen < STALE_MS) out.push({ node: b.n, self: false, ageMs: now - b.seen, devices: b.devices, sockets: b.sockets, url: b.url, telephony: b.tel === true });
    return out;
  }

  async start(): Promise<void> {
    if (!this.redis) return;
    this.redis.sub.on('message', (channel: string, text: string) => {
      if (channel !== CHANNEL) return;
      try {
        const b = JSON.parse(text) as Beat;
        if (b.n !== this.nodeId) this.others.set(b.n, { ...b, seen: Date.now() });
      } catch {
        /* not ours */
      }
    });
    await this.redis.sub.subscribe(CHANNEL);
    this.beat();
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    if (!this.redis) return;
    const b: Beat = { n: this.nodeId, users: this.users(), at: Date.now(), devices: this.held().devices, sockets: this.sockets, ev: this.eventsWanted(), url: this.url, tel: this.runsTelephony() };
    void this.redis.pub.publish(CHANNEL, JSON.stringify(b)).catch(() => undefined);
  }
}
