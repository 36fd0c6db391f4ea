/**
 * Part 3: the MQTT broker. By default the embedded aedes; with REDIS_URL, one member of the nodes' MQTT cluster
 * (issue 24). With MQTT_BROKER_URL, an external broker (Mosquitto, EMQX) that checks logins with Anxin (issue 25).
 */
import { hostname } from 'node:os';
import { ConfigError } from '../config.js';
import { nodeIdOf } from '../cluster/redis.js';
import { redactUrl } from '../redact.js';
import type { Db } from '../store/db.js';
import { getMqttSecretHash } from '../store/devices.js';
import type { AccountBook } from '../transports/mqtt-accounts.js';
import { brokerOptionsFromConfig, startBroker, type Broker, type MqttFront } from '../transports/mqtt-broker.js';
import { ExternalBroker } from '../transports/mqtt-external.js';
import { SubscriberInterest } from '../transports/mqtt-interest.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface BrokerPart extends Part {
  broker: MqttFront;
  /** the embedded aedes broker, unless MQTT_BROKER_URL is set */
  embedded?: Broker;
  /** the external broker's client, when MQTT_BROKER_URL is set */
  external?: ExternalBroker;
  /** the MQTT accounts, for the external broker's authentication hook (http/mqtt-auth.ts) */
  book: AccountBook;
  bridgePrefix: string;
  /** Anxin's own account on the external broker */
  service?: { username: string; password: string };
  /** MQTT connections held here (embedded), for the cluster's heartbeat */
  connectedClients(): number;
  /** whether an MQTT device is connected now (embedded), or was heard from within its keep-alive (external) */
  deviceConnected(identifier: string): boolean;
  eventInterest: {
    /** whether anyone subscribes to anxin/devices/+/events, here or (in a cluster) on another node */
    readonly any: boolean;
    /** this node's own subscribers */
    local: { readonly any: boolean; onChange?: (any: boolean) => void };
    /** a cluster's answer for the other nodes (cluster part) */
    listenElsewhere(fn: () => boolean): void;
  };
}

export async function startBrokerPart(ctx: PartContext, db: Db): Promise<BrokerPart> {
  return ctx.cfg.mqttBrokerUrl ? startExternal(ctx, db, ctx.cfg.mqttBrokerUrl) : startEmbedded(ctx, db);
}

async function startEmbedded({ cfg, log, metrics, health, summary }: PartContext, db: Db): Promise<BrokerPart> {
  const stops = new Stops(log);
  const nodeId = nodeIdOf(cfg);
  const options = brokerOptionsFromConfig(cfg);
  const deviceSecretHash = (id: string) => getMqttSecretHash(db, id);
  const broker = await startBroker({
    ...options,
    ...(cfg.redisUrl ? { cluster: { redisUrl: cfg.redisUrl, nodeId } } : {}),
    auth: { deviceSecretHash },
    log: log.child({ part: 'mqtt' }),
    metrics,
  });
  stops.add('mqtt', () => broker.close());
  // SubscriberInterest sees this node's clients only; in a cluster an integrator may be subscribed on another node,
  // which says so in its heartbeat (cluster/members.ts): events are built when anyone anywhere listens, and not for
  // nobody (publishing every position report through Redis took a node down at 12,000 reports/s in the bench)
  const local = new SubscriberInterest(broker.aedes, 'anxin/devices/+/events');
  health.register('mqtt', () => {
    const clients = `${broker.aedes.connectedClients} clients`;
    if (broker.aedes.closed) return { state: 'down', mode: 'embedded', detail: clients };
    if (!broker.cluster) return { state: 'up', mode: 'embedded', detail: clients };
    // Redis down: uplinks still reach the pipeline (alarms are committed), but every delivery, even to this node's
    // clients, goes through Redis pub/sub, so PUBACKs and messages wait until it is back
    const redis = broker.cluster.redisReady ? '' : ' (redis unreachable)';
    return { state: redis ? 'degraded' : 'up', mode: 'embedded', detail: `cluster via redis${redis}, node ${nodeId}, ${clients}` };
  });
  const where = `${cfg.mqttHost}:${broker.port}`;
  const tls = broker.tlsPort ? `, TLS on ${broker.tlsPort}` : '';
  summary.push(
    broker.cluster
      ? `MQTT broker  clustered  ${where}  (aedes via ${redactUrl(cfg.redisUrl!)}, node ${nodeId}, broker id ${broker.cluster.id})${tls}`
      : `MQTT broker  embedded   ${where}  (aedes)${tls}`,
  );
  const clients = () => (broker.aedes as unknown as { clients?: Record<string, { connected?: boolean } | undefined> }).clients;
  return {
    broker,
    embedded: broker,
    book: { integrators: options.integrators, bridges: options.bridges, deviceSecretHash },
    bridgePrefix: options.bridgePrefix,
    connectedClients: () => broker.aedes.connectedClients,
    deviceConnected: (id) => clients()?.[id]?.connected === true,
    eventInterest: interest(local),
    stop: () => stops.stop(),
  };
}

async function startExternal({ cfg, log, health, summary }: PartContext, db: Db, url: string): Promise<BrokerPart> {
  const stops = new Stops(log);
  const nodeId = nodeIdOf(cfg);
  const options = brokerOptionsFromConfig(cfg);
  const u = new URL(url);
  const service = { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  const problems: string[] = [];
  if (!service.username || !service.password) problems.push("MQTT_BROKER_URL needs Anxin's own account on the broker: mqtt://USER:PASSWORD@host:1883");
  if (!cfg.mqttAuthToken) problems.push('MQTT_BROKER_URL needs MQTT_AUTH_TOKEN: the broker checks logins with Anxin through POST /api/mqtt/authn');
  if (problems.length) throw new ConfigError(problems);
  // The client id stays the same across restarts, so the broker keeps the uplinks that came while Anxin was down
  // (its persistent session). In a cluster each node needs its own: NODE_ID, else the host name and pid.
  const clientId = `anxin-${cfg.nodeId ?? (cfg.redisUrl ? nodeId : hostname())}`;
  const external = new ExternalBroker({ url, clientId, bridgePrefix: options.bridgePrefix, log: log.child({ part: 'mqtt' }) });
  stops.add('mqtt', () => external.close());
  health.register('mqtt', () => ({ state: external.connected ? 'up' : 'down', mode: 'external', detail: redactUrl(url) }));
  summary.push(`MQTT broker  external   ${redactUrl(url)}  (logins checked at POST /api/mqtt/authn)`);
  // Nobody's subscriptions can be seen on another broker: device events are published when integrator accounts
  // exist, since only they may read them.
  const local = { any: options.integrators.size > 0 };
  // a device is "connected" while it keeps within the longest keep-alive it may ask for (its heartbeats)
  const heardWithinMs = cfg.mqttKeepaliveMaxS * 1500;
  return {
    broker: external,
    external,
    book: { integrators: options.integrators, bridges: options.bridges, deviceSecretHash: (id) => getMqttSecretHash(db, id) },
    bridgePrefix: options.bridgePrefix,
    service,
    connectedClients: () => 0,
    deviceConnected: (id) => external.heardFrom(id, heardWithinMs),
    eventInterest: interest(local),
    stop: () => stops.stop(),
  };
}

function interest(local: BrokerPart['eventInterest']['local']): BrokerPart['eventInterest'] {
  let elsewhere = () => false;
  return {
    get any() {
      return local.any || elsewhere();
    },
    local,
    listenElsewhere: (fn) => void (elsewhere = fn),
  };
}
