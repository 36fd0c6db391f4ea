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
 * - Handover, so one device's frames are handled in order across nodes: before this node handles the frames of a
 *   device another live node holds, it asks that node (`release` on its channel) to close its connection and
 *   finish the frames it had already read, and waits for `released`, at most HANDOVER_WAIT_MS (a node killed -9
 *   never answers: the frames here are then handled anyway, late, never dropped). A device held by no other node
 *   costs a Map lookup and no round trip. A node that let a handover time out is silent: until it is heard from
 *   again (a session news or an answer), its devices are still asked for but not waited for, so after a kill -9
 *   its devices wait once (together), not once per wave of reconnects until its heartbeats lapse.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { KEY } from './redis.js';

export const DEVICE_TTL_S = 600;
const REFRESH_S = 60;
export const FORWARD_WAIT_MS = 2000;
/** how long a node waits for another to release a device before handling its frames anyway */
export const HANDOVER_WAIT_MS = 3000;
const LOG_SILENT_MS = 10_000;

const devKey = (identifier: string) => `${KEY}dev:${identifier}`;
/** sessions opened and closed on any node, so every node answers "is it online?" without a round trip */
const SESSIONS = `${KEY}sessions`;
const nodeChannel = (node: string) => `${KEY}node:${node}`;

/** Deletes the entry only while it still names this node (a newer holder elsewhere keeps it). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

type Wire =
  | { t: 'deliver'; id: string; req: string; reply: string }
  | { t: 'delivered'; req: string; sent: number }
  | { t: 'release'; id: string; req: string; reply: string }
  | { t: 'released'; req: string; n: string };
type SessionNews = { t: 'on' | 'off'; id: string; n: string };

export class DeviceDirectory {
  private readonly refreshed = new Map<string, number>();
  private readonly waiting = new Map<string, (sent: number) => void>();
  /** devices held by other nodes, as they announced (and as found in Redis at start) */
  private readonly elsewhere = new Map<string, string>();
  /** handovers under way here, by device: its frames here wait for this */
  private readonly handing = new Map<string, Promise<void>>();
  /** forwarded commands: asked of another node, and answered sent by it */
  forwarded = 0;
  /** devices another node released to this one when asked (handover answered) */
  handovers = 0;
  /** handovers the holder did not answer within HANDOVER_WAIT_MS (the frames were handled anyway) */
  handoverTimeouts = 0;
  /** devices of a silent node: asked for, not waited for */
  handoversUnwaited = 0;
  /**
   * Nodes that let a handover time out, until heard from again: when that was last logged, and how many of their
   * devices were not waited for since
   */
  private readonly silent = new Map<string, { at: number; n: number }>();
  /** a handover ended (for the metrics) */
  onHandover?: (outcome: 'released' | 'timeout' | 'unwaited') => void;

  constructor(
    private readonly nodeId: string,
    private readonly redis: { pub: Redis; sub: Redis },
    /** sends what waits for the device if this node holds its session: how many were sent (0 if not held here) */
    private readonly deliverHere: (identifier: string) => Promise<number>,
    /** whether a node is alive (members.ts heartbeats): a dead node's devices are not online */
    private readonly alive: (node: string) => boolean,
    private readonly log: Logger,
    /**
     * Another node asks for the device: close its connection here and resolve once the frames already read
     * from it are handled (nothing held here: resolve at once).
     */
    private readonly releaseHere: (identifier: string) => Promise<void> = async () => undefined,
  ) {}

  async start(): Promise<void> {
    this.redis.sub.on('message', (channel: string, text: string) => {
      if (channel === SESSIONS) {
        try {
          const m = JSON.parse(text) as SessionNews;
          if (m.n === this.nodeId) return;
          this.silent.delete(m.n);
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
      else if (m.t === 'released') {
        this.silent.delete(m.n);
        this.waiting.get(m.req)?.(0);
      }
      else if (m.t === 'release') void this.release(m.id, m.req, m.reply);
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

  /**
   * Before this node handles a frame of the device: undefined when no other live node holds it (the common case:
   * a Map lookup), else a promise that resolves once the holder released it or HANDOVER_WAIT_MS passed. Frames of
   * the device arriving meanwhile on this node get the same promise, so they stay behind the first.
   */
  handover(identifier: string): Promise<void> | undefined {
    const under = this.handing.get(identifier);
    if (under) return under;
    const node = this.elsewhere.get(identifier);
    if (node === undefined || !this.alive(node)) return undefined;
    const req = randomUUID();
    const ask = () => this.redis.pub.publish(nodeChannel(node), JSON.stringify({ t: 'release', id: identifier, req, reply: this.nodeId } satisfies Wire)).catch(() => undefined);
    const silent = this.silent.get(node);
    if (silent) {
      // asked all the same (a node alive but slow closes its connection), not waited for
      silent.n++;
      this.handoversUnwaited++;
      this.onHandover?.('unwaited');
      this.elsewhere.delete(identifier);
      void ask();
      return undefined;
    }
    const done = new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.waiting.delete(req);
        this.handoverTimeouts++;
        this.onHandover?.('timeout');
        this.fellSilent(node);
        resolve();
      }, HANDOVER_WAIT_MS);
      this.waiting.set(req, () => {
        clearTimeout(t);
        this.waiting.delete(req);
        this.handovers++;
        this.onHandover?.('released');
        resolve();
      });
    }).then(() => {
      this.handing.delete(identifier);
      // asked once: a holder that did not answer is not asked again for every frame (a new 'on' from it is news)
      if (this.elsewhere.get(identifier) === node) this.elsewhere.delete(identifier);
    });
    this.handing.set(identifier, done);
    void ask();
    return done;
  }

  /** A handover to the node timed out: it is silent now; one log line per silent node every LOG_SILENT_MS. */
  private fellSilent(node: string): void {
    const now = Date.now();
    const s = this.silent.get(node);
    if (s && now - s.at < LOG_SILENT_MS) return void s.n++;
    const devices = (s?.n ?? 0) + 1;
    this.silent.set(node, { at: now, n: 0 });
    this.log.warn({ node, devices, waitedMs: HANDOVER_WAIT_MS }, 'a node holding devices that reconnected here did not release them in time (gone?); their frames are handled here anyway, and its other devices not waited for until it is heard from');
  }

  /** Another node asks for the device: the frames already read here are handled first, then it is told. */
  private async release(identifier: string, req: string, reply: string): Promise<void> {
    await this.releaseHere(identifier).catch((e) => this.log.warn({ err: e }, 'releasing a device to another node failed'));
    this.released(identifier);
    await this.redis.pub.publish(nodeChannel(reply), JSON.stringify({ t: 'released', req, n: this.nodeId } satisfies Wire)).catch(() => undefined);
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
