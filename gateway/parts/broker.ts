/** Part 3: the embedded MQTT broker (aedes); with REDIS_URL, one member of the nodes' MQTT cluster (issue 24). */
import { nodeIdOf } from '../cluster/redis.js';
import { redactUrl } from '../redact.js';
import type { Db } from '../store/db.js';
import { getMqttSecretHash } from '../store/devices.js';
import { brokerOptionsFromConfig, startBroker, type Broker } from '../transports/mqtt-broker.js';
import { SubscriberInterest } from '../transports/mqtt-interest.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface BrokerPart extends Part {
  broker: Broker;
  /** whether anyone subscribes to anxin/devices/+/events (nothing is built for nobody) */
  eventInterest: {
    /** whether anyone subscribes to anxin/devices/+/events, here or (in a cluster) on another node */
    readonly any: boolean;
    /** this node's own subscribers */
    local: SubscriberInterest;
    /** a cluster's answer for the other nodes (cluster part) */
    listenElsewhere(fn: () => boolean): void;
  };
}

export async function startBrokerPart({ cfg, log, metrics, health, summary }: PartContext, db: Db): Promise<BrokerPart> {
  const stops = new Stops(log);
  const nodeId = nodeIdOf(cfg);
  const broker = await startBroker({
    ...brokerOptionsFromConfig(cfg),
    ...(cfg.redisUrl ? { cluster: { redisUrl: cfg.redisUrl, nodeId } } : {}),
    auth: { deviceSecretHash: (id) => getMqttSecretHash(db, id) },
    log: log.child({ part: 'mqtt' }),
    metrics,
  });
  stops.add('mqtt', () => broker.close());
  // SubscriberInterest sees this node's clients only; in a cluster an integrator may be subscribed on another node,
  // which says so in its heartbeat (cluster/members.ts): events are built when anyone anywhere listens, and not for
  // nobody (publishing every position report through Redis took a node down at 12,000 reports/s in the bench)
  const local = new SubscriberInterest(broker.aedes, 'anxin/devices/+/events');
  let elsewhere = () => false;
  const eventInterest: BrokerPart['eventInterest'] = {
    get any() {
      return local.any || elsewhere();
    },
    local,
    listenElsewhere: (fn) => void (elsewhere = fn),
  };
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
  return { broker, eventInterest, stop: () => stops.stop() };
}
