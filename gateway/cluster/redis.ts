/**
 * Scale-out (issue 24): the node's name and its Redis connections. Redis is optional: without REDIS_URL Anxin is
 * one node and nothing here connects. ioredis reconnects by itself (with a capped backoff) after Redis restarts;
 * commands issued meanwhile wait in its offline queue.
 */
import { hostname, networkInterfaces } from 'node:os';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/** NODE_ID, else host name and process id: unique among the nodes of one cluster. */
export function nodeIdOf(cfg: Pick<Config, 'nodeId'>): string {
  return cfg.nodeId ?? `${hostname()}-${process.pid}`;
}

/**
 * NODE_URL, else where this node's HTTP API listens: HTTP_HOST, or for 0.0.0.0 the first outside IPv4 address
 * (loopback when there is none, a machine with all its nodes on it).
 */
export function nodeUrlOf(cfg: Pick<Config, 'nodeUrl' | 'httpHost'>, port: number): string {
  if (cfg.nodeUrl) return cfg.nodeUrl;
  let host = cfg.httpHost;
  if (host === '0.0.0.0' || host === '::') {
    const outside = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    host = outside?.address ?? '127.0.0.1';
  }
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Key prefix of everything Anxin keeps in Redis (aedes' own keys keep theirs). */
export const KEY = 'anxin:';

/**
 * A Redis connection for `purpose` (logged on errors). A subscriber needs a connection of its own (a connection in
 * subscribe mode takes no other commands), so callers open one per use.
 */
export function createRedis(url: string, purpose: string, log: Logger): Redis {
  const r = new Redis(url, {
    connectionName: `anxin-${purpose}`,
    maxRetriesPerRequest: null, // wait through a Redis restart rather than fail the command
    retryStrategy: (n) => Math.min(100 * 2 ** Math.min(n, 5), 2000),
    lazyConnect: false,
  });
  let down = false;
  r.on('error', (e: Error) => {
    if (!down) log.warn({ err: e.message, purpose }, 'redis connection lost; reconnecting');
    down = true;
  });
  r.on('ready', () => {
    if (down) log.info({ purpose }, 'redis connection back');
    down = false;
  });
  return r;
}

/** Resolves when `p` settles or after `ms`, whichever comes first: true if it settled. */
export function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  return Promise.race([p.then(() => true, () => true), late]).finally(() => clearTimeout(timer));
}

/** QUIT, or after `ms` (Redis unreachable: QUIT would wait for it) drop the connection. */
export async function closeRedis(r: Redis, ms = 1000): Promise<void> {
  await settledWithin(r.quit(), ms);
  r.disconnect();
}
