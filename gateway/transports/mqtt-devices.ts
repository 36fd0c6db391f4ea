/**
 * How MQTT uplinks reach the pipeline. Installs the broker's uplink hooks (mqtt-broker.ts calls them from
 * authorizePublish, so a QoS 1 PUBACK leaves only after the message is handled):
 * - mqtt-json devices on `anxin/up/{id}/{kind}`: decoded with protocols/mqtt-json; a refused payload gets an
 *   error on `anxin/down/{id}/error` and the server carries on; a message with a `msgId` gets
 *   `anxin/down/{id}/ack` once `pipeline.handle` has resolved ok, i.e. after its alarm is committed.
 * - Zigbee2MQTT state from bridge accounts on this broker, or from ZIGBEE2MQTT_URL when that is set.
 */
import { decodeMqttJson, downTopic } from '../../protocols/index.js';
import type { Config } from '../config.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Pipeline } from '../pipeline.js';
import { redactUrl } from '../redact.js';
import type { Registry } from '../registry.js';
import type { MqttFront, UplinkHook } from './mqtt-broker.js';
import { ExternalBroker } from './mqtt-external.js';
import { Zigbee2MqttBridge } from './zigbee2mqtt.js';

export interface MqttDevicesDeps {
  cfg: Pick<Config, 'zigbee2mqttUrl' | 'zigbee2mqttPrefix'>;
  broker: MqttFront;
  pipeline: Pipeline;
  registry: Registry;
  metrics: Metrics;
  health: Health;
  log: Logger;
  /**
   * Scale-out (issue 24): runs `work` on one node at a time (a singleton lease). The external Zigbee2MQTT broker is
   * read by one node only: with every node subscribed, each state message would be handled once per node.
   */
  singleton?: (name: string, work: { onAcquire(): Promise<void>; onLose(): Promise<void> }) => Promise<{ stop(): Promise<void> }>;
}

export function mqttJsonUplink(d: Pick<MqttDevicesDeps, 'broker' | 'pipeline' | 'metrics' | 'log'>): UplinkHook {
  return async (acct, topic, payload) => {
    const out = decodeMqttJson(topic, payload, { receivedAt: new Date() });
    d.metrics.frames.inc({ protocol: 'mqtt-json' });
    if (!out.ok) {
      d.metrics.badFrames.inc({ protocol: 'mqtt-json', reason: out.reason });
      d.log.debug({ device: acct.name, reason: out.reason }, 'mqtt-json payload refused');
      d.broker.publish(downTopic(acct.name, 'error'), out.reply, { qos: 1 });
      return true; // acknowledged: sending the same payload again would not make it valid
    }
    const r = await d.pipeline.handle(out.messages, 'mqtt');
    // not committed (or disabled since it logged in): no PUBACK, the connection closes, the device resends
    if (!r.ok) return false;
    if (out.reply) d.broker.publish(downTopic(acct.name, 'ack'), out.reply, { qos: 1 });
    return true;
  };
}

export async function startMqttDevices(d: MqttDevicesDeps): Promise<{ summary: string[]; zigbee: Zigbee2MqttBridge; stop(): Promise<void> }> {
  d.broker.hooks.device = mqttJsonUplink(d);
  const zigbee = new Zigbee2MqttBridge({ prefix: d.cfg.zigbee2mqttPrefix, pipeline: d.pipeline, registry: d.registry, metrics: d.metrics, log: d.log.child({ part: 'zigbee2mqtt' }) });
  const summary = ['MQTT devices anxin/up/{id}/{kind} (mqtt-json)'];
  let lease: { stop(): Promise<void> } | undefined;
  if (d.cfg.zigbee2mqttUrl) {
    const url = d.cfg.zigbee2mqttUrl;
    if (d.singleton) lease = await d.singleton('zigbee2mqtt', { onAcquire: async () => zigbee.connect(url), onLose: () => zigbee.stop() });
    else zigbee.connect(url);
    // not critical: the rest of the hub works without the Zigbee network
    d.health.register('zigbee2mqtt', () => (zigbee.reading ? { state: zigbee.connected ? 'up' : 'down', mode: 'external' } : { state: 'disabled', mode: 'external', detail: 'standby: another node reads the Zigbee2MQTT broker' }), false);
    summary.push(`Zigbee2MQTT  external   ${redactUrl(d.cfg.zigbee2mqttUrl)}  ${d.cfg.zigbee2mqttPrefix}/+`);
  } else {
    d.broker.hooks.bridge = (_acct, topic, payload) => zigbee.handle(topic, payload);
    summary.push(
      d.broker instanceof ExternalBroker
        ? `Zigbee2MQTT  via broker ${d.cfg.zigbee2mqttPrefix}/+ on MQTT_BROKER_URL`
        : `Zigbee2MQTT  embedded   ${d.cfg.zigbee2mqttPrefix}/+ from ZIGBEE2MQTT_BRIDGES accounts`,
    );
  }
  // An external broker's uplinks are read by one node at a time (mqtt-external.ts): in order, and each handled once.
  let reader: { stop(): Promise<void> } | undefined;
  const external = d.broker instanceof ExternalBroker ? d.broker : undefined;
  if (external) {
    if (d.singleton) reader = await d.singleton('mqtt-external', { onAcquire: async () => external.startReading(), onLose: () => external.stopReading() });
    else external.startReading();
  }
  return {
    summary,
    zigbee,
    async stop() {
      // first, so that giving up the lease keeps the broker's session and its subscription (mqtt-external.ts)
      await external?.stopReading(true);
      if (reader) await reader.stop();
      delete d.broker.hooks.device;
      delete d.broker.hooks.bridge;
      if (lease) await lease.stop();
      await zigbee.stop();
    },
  };
}
