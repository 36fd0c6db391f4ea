/**
 * Singletons (issue 24): work that must run on exactly one gateway node at a time (the rule engine's time-based
 * rules, the serial alarm receivers). The lease is a PostgreSQL session advisory lock held on a connection of its
 * own (not the pool): PostgreSQL drops it the moment the holder's connection ends, which is what a kill -9 of the node
 * does, so no expiry needs tuning and no clock is trusted. Every node tries at start and then every
 * LEADER_TAKEOVER_S / 3; the holder pings its connection as often and stops the work at once when it breaks.
 *
 * Without REDIS_URL (one node) the lock is still taken: it costs one connection and keeps two processes started by
 * mistake on one database from doubling the work.
 */
import { createHash } from 'node:crypto';
import client from 'prom-client';
import type { Config } from '../config.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import { destroyLeaseClient, leaderLockHolder, openLeaseClient, pingLease, releaseLeaderLock, tryLeaderLock, type LeaseClient, type LeaseConnection } from '../store/leader-lock.js';
import { nodeIdOf } from './redis.js';

/** First key of every singleton's lock (issue 24); the second is derived from its name. */
export const LEADER_NAMESPACE = 24;

/** The lock key of a singleton: stable across nodes, versions and restarts (a hash of its name, not a list index). */
export function leaderKey(name: string): readonly [number, number] {
  return [LEADER_NAMESPACE, createHash('sha256').update(`anxin:singleton:${name}`).digest().readInt32BE(0)];
}

/** application_name of a node's lease sessions; the holder lookup reads the node id back from it. */
const APP_PREFIX = 'anxin:';

export interface LeaderOptions {
  name: string;
  /** how to reach PostgreSQL (the pool's options will do: a client ignores the pool's own fields) */
  connection: LeaseConnection;
  nodeId: string;
  takeoverS: number;
  log: Logger;
  /** start the work: this node now holds the singleton */
  onAcquire(): void | Promise<void>;
  /** stop the work at once: the lease is gone (or the node is stopping) */
  onLose(): void | Promise<void>;
}

export class Leader {
  private client?: LeaseClient;
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  /** onAcquire and onLose in order: a loss during a slow start stops what that start started */
  private transitions: Promise<void> = Promise.resolve();
  /** after losing, this node waits a round before trying again: the others, likely healthier, go first */
  private notBefore = 0;
  private readonly key: readonly [number, number];
  private readonly periodMs: number;
  lastError?: string;

  constructor(private readonly o: LeaderOptions) {
    this.key = leaderKey(o.name);
    this.periodMs = Math.max(500, Math.floor((o.takeoverS * 1000) / 3));
  }

  get name(): string {
    return this.o.name;
  }

  /** True while this node holds the lock (false from the moment a loss is noticed, before onLose finishes). */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Called on every change of isLeader (metrics). */
  onChange?: (leading: boolean) => void;

  /** Makes the first try and waits for it (and for onAcquire when it won), then keeps trying in the background. */
  async start(): Promise<void> {
    await this.tick();
    await this.transitions;
    if (this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.periodMs);
    this.timer.unref();
  }

  /** Stops the work (onLose) first, then releases the lock, so the next holder never overlaps with this one. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    const c = this.client;
    if (this.leading) this.lose('stopping');
    await this.transitions;
    this.client = undefined;
    if (c) {
      await releaseLeaderLock(c, this.key).catch(() => undefined);
      await c.end().catch(() => undefined);
    }
  }

  /** The node id of the holder (this one or another), undefined when nobody holds it or it cannot be read now. */
  async holder(): Promise<string | undefined> {
    if (this.leading) return this.o.nodeId;
    const c = this.client;
    if (!c) return undefined;
    const app = await leaderLockHolder(c, this.key).catch(() => undefined);
    return app?.startsWith(APP_PREFIX) ? app.slice(APP_PREFIX.length) : app;
  }

  private tick(): Promise<void> {
    if (this.ticking || this.stopped) return this.ticking ?? Promise.resolve();
    this.ticking = (this.leading ? this.check() : this.attempt())
      .catch((e) => this.o.log.error({ err: e, singleton: this.o.name }, 'singleton lease step failed'))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** The holder's round: its connection must answer within a round (query_timeout), else the work stops: it may be cut off. */
  private async check(): Promise<void> {
    const c = this.client;
    if (!c) return;
    await pingLease(c).catch((e: Error) => this.broken(c, e));
  }

  private async attempt(): Promise<void> {
    if (Date.now() < this.notBefore) return;
    let c = this.client;
    try {
      if (!c) c = await this.connect();
      if (this.stopped || c !== this.client) return;
      if (!(await tryLeaderLock(c, this.key))) return;
    } catch (e) {
      if (c) this.broken(c, e as Error);
      else this.lastError = (e as Error).message;
      return;
    }
    if (this.stopped || c !== this.client) return;
    this.leading = true;
    this.lastError = undefined;
    this.o.log.info({ singleton: this.o.name, node: this.o.nodeId }, 'singleton acquired: this node runs it');
    this.onChange?.(true);
    this.queue('onAcquire', () => this.o.onAcquire());
  }

  private async connect(): Promise<LeaseClient> {
    try {
      return await openLeaseClient(this.o.connection, {
        applicationName: `${APP_PREFIX}${this.o.nodeId}`,
        keepaliveS: Math.max(1, Math.floor(this.periodMs / 1000)),
        timeoutMs: this.periodMs,
        created: (c) => (this.client = c),
        broken: (c, e) => this.broken(c, e),
      });
    } catch (e) {
      if (this.client) this.broken(this.client, e as Error);
      throw e;
    }
  }

  /** The session is gone or unreliable: drop it; if it held the lock, stop the work now. */
  private broken(c: LeaseClient, e: Error): void {
    if (this.client !== c) return;
    this.client = undefined;
    this.lastError = e.message;
    destroyLeaseClient(c);
    if (this.leading) this.lose(e.message);
  }

  private lose(reason: string): void {
    this.leading = false;
    this.notBefore = Date.now() + 2 * this.periodMs;
    if (reason !== 'stopping') this.o.log.warn({ singleton: this.o.name, reason }, 'singleton lost: work stopped; another node takes over');
    this.onChange?.(false);
    this.queue('onLose', () => this.o.onLose());
  }

  private queue(what: string, fn: () => void | Promise<void>): void {
    this.transitions = this.transitions.then(fn).catch((e) => this.o.log.error({ err: e, singleton: this.o.name }, `singleton ${what} failed`));
  }
}

/**
 * A part's singleton: a Leader on the part's database, with a gauge `anxin_singleton_leader{singleton}` (1 while
 * this node holds it) and a /healthz entry `singleton:<name>` naming the holder. Started (first try made) on return.
 */
export async function startSingleton(
  ctx: { cfg: Config; log: Logger; metrics: Metrics; health: Health },
  db: Db,
  name: string,
  work: Pick<LeaderOptions, 'onAcquire' | 'onLose'>,
): Promise<Leader> {
  const { cfg, metrics, health } = ctx;
  const log = ctx.log.child({ part: 'singleton' });
  const nodeId = nodeIdOf(cfg);
  const leader = new Leader({ name, connection: { ...db.options }, nodeId, takeoverS: cfg.leaderTakeoverS, log, ...work });
  const gauge = leaderGauge(metrics.registry);
  gauge.set({ singleton: name }, 0);
  leader.onChange = (on) => gauge.set({ singleton: name }, on ? 1 : 0);
  health.register(
    `singleton:${name}`,
    async () => {
      if (leader.isLeader) return { state: 'up', mode: 'leader', detail: `held by this node (${nodeId})` };
      const holder = await leader.holder();
      if (holder) return { state: 'up', mode: 'standby', detail: `held by node ${holder}` };
      return { state: 'degraded', mode: 'standby', detail: `held by no node yet${leader.lastError ? ` (${leader.lastError})` : ''}; next try within ${cfg.leaderTakeoverS} s` };
    },
    false,
  );
  await leader.start();
  if (!leader.isLeader && !cfg.redisUrl) {
    log.warn({ singleton: name, holder: await leader.holder() }, 'another gateway process on this database holds this singleton; this one stands by (REDIS_URL unset: was a second process started by mistake?)');
  }
  return leader;
}

function leaderGauge(registry: client.Registry): client.Gauge<string> {
  const name = 'anxin_singleton_leader';
  return (
    (registry.getSingleMetric(name) as client.Gauge<string> | undefined) ??
    new client.Gauge({ name, help: 'Singletons (issue 24): 1 while this node holds the singleton, 0 while another node does', labelNames: ['singleton'], registers: [registry] })
  );
}
