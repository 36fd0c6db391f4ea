/** Part 3: the embedded MQTT broker (aedes). */
import type { Db } from '../store/db.js';
import { getMqttSecretHash } from '../store/devices.js';
import { brokerOptionsFromConfig, startBroker, type Broker } from '../transports/mqtt-broker.js';
import { SubscriberInterest } from '../transports/mqtt-interest.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface BrokerPart extends Part {
  broker: Broker;
  /** whether anyone subscribes to anxin/devices/+/events (nothing is built for nobody) */
  eventInterest: SubscriberInterest;
}

export async function startBrokerPart({ cfg, log, metrics, health, summary }: PartContext, db: Db): Promise<BrokerPart> {
  const stops = new Stops(log);
  const broker = await startBroker({
    ...brokerOptionsFromConfig(cfg),
    auth: { deviceSecretHash: (id) => getMqttSecretHash(db, id) },
    log: log.child({ part: 'mqtt' }),
    metrics,
  });
  stops.add('mqtt', () => broker.close());
  const eventInterest = new SubscriberInterest(broker.aedes, 'anxin/devices/+/events');
  health.register('mqtt', () => ({ state: broker.aedes.closed ? 'down' : 'up', mode: 'embedded', detail: `${broker.aedes.connectedClients} clients` }));
  summary.push(`MQTT broker  embedded   ${cfg.mqttHost}:${broker.port}  (aedes)${broker.tlsPort ? `, TLS on ${broker.tlsPort}` : ''}`);
  return { broker, eventInterest, stop: () => stops.stop() };
}
