/**
 * Which node holds each device's live TCP session, and commands routed to it (issue 24).
 *
 * - `anxin:dev:<identifier>` = node id, with a TTL (DEVICE_TTL_S) refreshed by the device's traffic, at most once
 *   a REFRESH_S per device: a node that died stops refreshing and its devices' entries lapse by themselves.
 * - A command sent through the API on a node that does not hold the device is stored as queued (commands.ts, in
 *   PostgreSQL, as always) and then the holder is asked over Redis pub/sub (`anxin:node:<id>`) to send what waits
 *   for the device: the same flush a reconnecting device gets, so the command goes out once whichever way it takes.
 *   The asking node waits up to FORWARD_WAIT_MS for the holder's answer to tell the caller "sent" or "queued".
 * - A device that reconnects to another node gets its queued commands there (the flush on connect).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { KEY } from './redis.js';

export const DEVICE_TTL_S = 600;
const REFRESH_S = 60;
export const FORWARD_WAIT_MS = 2000;

const devKey = (identifier: string) => `${KEY}dev:${identifier}`;
/** sessions opened and closed on any node, so every node answers "is it online?" without a round trip */
const SESSIONS = `${KEY}sessions`;
const nodeChannel = (node: string) => `${KEY}node:${node}`;

/** Deletes the entry only while it still names this node (a newer holder elsewhere keeps it). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

type Wire = { t: 'deliver'; id: string; req: string; reply: string } | { t: 'delivered'; req: string; sent: number };
type SessionNews = { t: 'on' | 'off'; id: string; n: string };

export class DeviceDirectory {
  private readonly refreshed = new Map<string, number>();
  private readonly waiting = new Map<string, (sent: number) => void>();
  /** devices held by other nodes, as they announced (and as found in Redis at start) */
  private readonly elsewhere = new Map<string, string>();
  /** forwarded commands: asked of another node, and answered sent by it */
  forwarded = 0;

  constructor(
    private readonly nodeId: string,
    private readonly redis: { pub: Redis; sub: Redis },
    /** sends what waits for the device if this node holds its session: how many were sent (0 if not held here) */
    private readonly deliverHere: (identifier: string) => Promise<number>,
    /** whether a node is alive (members.ts heartbeats): a dead node's devices are not online */
    private readonly alive: (node: string) => boolean,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.redis.sub.on('message', (channel: string, text: string) => {
      if (channel === SESSIONS) {
        try {
          const m = JSON.parse(text) as SessionNews;
          if (m.n === this.nodeId) return;
          if (m.t === 'on') this.elsewhere.set(m.id, m.n);
          else if (this.elsewhere.get(m.id) === m.n) this.elsewhere.delete(m.id);
        } catch {
          /* not ours */
        }
        return;
      }
      if (channel !== nodeChannel(this.nodeId)) return;
      let m: Wire;
      try {
        m = JSON.parse(text);
      } catch {
        return;
      }
      if (m.t === 'delivered') this.waiting.get(m.req)?.(m.sent);
      else if (m.t === 'deliver') {
        void this.deliverHere(m.id)
          .catch((e) => {
            this.log.warn({ err: e }, 'a forwarded command could not be sent');
            return 0;
          })
          .then((sent) => this.redis.pub.publish(nodeChannel(m.reply), JSON.stringify({ t: 'delivered', req: m.req, sent } satisfies Wire)))
          .catch(() => undefined);
      }
    });
    await this.redis.sub.subscribe(nodeChannel(this.nodeId), SESSIONS);
    await this.load().catch((e) => this.log.warn({ err: e }, 'could not read the device registry from redis'));
  }

  /** What the other nodes held before this one started. */
  private async load(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.pub.scan(cursor, 'MATCH', `${KEY}dev:*`, 'COUNT', 1000);
      cursor = next;
      if (!keys.length) continue;
      const nodes = await this.redis.pub.mget(...keys);
      keys.forEach((k, i) => {
        const n = nodes[i];
        if (n && n !== this.nodeId && !this.elsewhere.has(k.slice(`${KEY}dev:`.length))) this.elsewhere.set(k.slice(`${KEY}dev:`.length), n);
      });
    } while (cursor !== '0');
  }

  /** Whether another live node holds the device's session now. */
  onlineElsewhere(identifier: string): boolean {
    const n = this.elsewhere.get(identifier);
    return n !== undefined && this.alive(n);
  }

  private announce(t: SessionNews['t'], id: string): void {
    void this.redis.pub.publish(SESSIONS, JSON.stringify({ t, id, n: this.nodeId } satisfies SessionNews)).catch(() => undefined);
  }

  /** This node now holds the device's session. */
  held(identifier: string): void {
    if (!this.refreshed.has(identifier)) this.announce('on', identifier);
    this.elsewhere.delete(identifier);
    this.refreshed.set(identifier, Date.now());
    void this.redis.pub.set(devKey(identifier), this.nodeId, 'EX', DEVICE_TTL_S).catch(() => undefined);
  }

  /** Traffic from a device this node holds: refresh its entry now and then. */
  touch(identifier: string): void {
    const last = this.refreshed.get(identifier);
    if (last === undefined || Date.now() - last < REFRESH_S * 1000) return;
    this.held(identifier);
  }

  /** The session here ended. */
  released(identifier: string): void {
    if (this.refreshed.delete(identifier)) this.announce('off', identifier);
    void this.redis.pub.eval(RELEASE, 1, devKey(identifier), this.nodeId).catch(() => undefined);
  }

  /** The node holding the device's session, if any node does. */
  async holder(identifier: string): Promise<string | null> {
    return this.redis.pub.get(devKey(identifier));
  }

  /**
   * Asks the holder (another node) to send the device's queued commands. Resolves with how many it sent, 0 when
   * it holds the device no longer, or null when no node holds it or none answered in time (still queued).
   */
  async forward(identifier: string): Promise<number | null> {
    const node = await this.holder(identifier).catch(() => null);
    if (!node || node === this.nodeId) return null;
    const req = randomUUID();
    const answer = new Promise<number | null>((resolve) => {
      const t = setTimeout(() => (this.waiting.delete(req), resolve(null)), FORWARD_WAIT_MS);
      this.waiting.set(req, (sent) => {
        clearTimeout(t);
        this.waiting.delete(req);
        resolve(sent);
      });
    });
    await this.redis.pub.publish(nodeChannel(node), JSON.stringify({ t: 'deliver', id: identifier, req, reply: this.nodeId } satisfies Wire));
    const sent = await answer;
    if (sent && sent > 0) this.forwarded++;
    return sent;
  }

  /** Devices whose sessions this node holds (its share, for /healthz). */
  get count(): number {
    return this.refreshed.size;
  }

  stop(): void {
    for (const resolve of this.waiting.values()) resolve(0);
    this.waiting.clear();
  }
}
