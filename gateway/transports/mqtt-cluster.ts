/**
 * The embedded broker as one member of a cluster (issue 24): aedes' emitter and persistence on the Redis the
 * gateway nodes share, so a device may connect to any node. mqemitter-redis carries every publish to the
 * subscribers on every node (Redis pub/sub); aedes-persistence-redis keeps retained messages, persistent sessions'
 * subscriptions and their queued QoS 1 messages in Redis, where they outlive the node that took them.
 *
 * Uplinks are not run twice: devices' and bridges' publishes are handled in authorizePublish, which only the node
 * the client is connected to calls; the copies other nodes receive go to their MQTT subscribers only (nothing in
 * the gateway subscribes to anxin/up/# or the bridge prefix in-process).
 *
 * Redis pub/sub channels are shared by the whole Redis (all databases). The emitter's channels are MQTT topics
 * (anxin/…, the Zigbee2MQTT prefix, $SYS/…: the ACL allows no other filters), so its patterns never match Anxin's
 * own channels (anxin:…), and Anxin's exact-channel subscribers never see MQTT traffic.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import MQEmitterRedis from 'mqemitter-redis';
import { createRedis, settledWithin } from '../cluster/redis.js';
import type { Logger } from '../log.js';

/** what aedes needs of a persistence; the package ships no type declarations */
interface AedesPersistence {
  destroy(): Promise<void>;
}
const require = createRequire(import.meta.url);
const aedesPersistenceRedis = require('aedes-persistence-redis') as (opts: { conn: Redis }) => AedesPersistence;

/** How long stopping waits on Redis (a QUIT, an UNSUBSCRIBE) before it drops the connections instead. */
const CLOSE_WAIT_MS = 3000;

export interface BrokerCluster {
  /** aedes' broker id: the node's name and a per-start suffix (see brokerIdOf) */
  id: string;
  mq: unknown;
  persistence: AedesPersistence;
  /** whether all three Redis connections are up (else messages to other nodes and persistent state wait) */
  readonly redisReady: boolean;
  /**
   * After aedes has closed (which QUITs the emitter's connections): the persistence, then every connection, dropped
   * if Redis does not answer. `redisDown`: aedes could not close for want of Redis; drop them at once.
   */
  close(redisDown?: boolean): Promise<void>;
}

/**
 * aedes' broker id for this start. It must differ between nodes ($SYS heartbeats, the "same client id connected
 * elsewhere" notice) and between two starts of one node: aedes-persistence-redis keys queued packets by broker id
 * and a counter that restarts at 0, so a node restarted under the same id would overwrite the packets its previous
 * run queued for offline clients. Wills are keyed `will:{id}:{client}` and the topics `$SYS/{id}/…`, hence no `:`,
 * `/`, `+` or `#`.
 */
export function brokerIdOf(nodeId: string): string {
  return `${nodeId.replace(/[^A-Za-z0-9_.-]/g, '_')}.${randomBytes(3).toString('hex')}`;
}

export function brokerCluster(redisUrl: string, nodeId: string, log: Logger): BrokerCluster {
  const sub = createRedis(redisUrl, 'mqtt-emitter-sub', log);
  const pub = createRedis(redisUrl, 'mqtt-emitter-pub', log);
  const conn = createRedis(redisUrl, 'mqtt-persistence', log);
  // the same matching as aedes' own in-memory emitter ([MQTT-4.7.1-3]: sport/# matches sport)
  const mq = MQEmitterRedis({ subConn: sub, pubConn: pub, matchEmptyLevels: true, concurrency: 100 });
  // it re-emits its connections' errors here, and an EventEmitter's 'error' with no listener throws (createRedis logs them)
  (mq as unknown as { state: NodeJS.EventEmitter }).state.on('error', () => undefined);
  const persistence = aedesPersistenceRedis({ conn });
  return {
    id: brokerIdOf(nodeId),
    mq,
    persistence,
    get redisReady() {
      return [sub, pub, conn].every((c) => c.status === 'ready');
    },
    async close(redisDown = false) {
      // its UNSUBSCRIBE goes through the emitter aedes has just closed: it fails at once, or waits on a Redis that is down
      if (!redisDown && !(await settledWithin(persistence.destroy(), CLOSE_WAIT_MS))) log.warn('mqtt persistence did not close in time; dropping its redis connection');
      for (const c of [sub, pub, conn]) c.disconnect(); // a no-op for a connection that has already ended
    },
  };
}
