/**
 * The Zigbee2MQTT bridge: reads `{prefix}/{friendly name}` state, either from bridge accounts publishing on
 * the embedded broker or from an external broker (ZIGBEE2MQTT_URL), finds the registered device (friendly
 * name, else the IEEE address Zigbee2MQTT adds with include_device_information), decodes it through the
 * mapping table and hands it to the pipeline.
 *
 * Ignored, and counted in anxin_zigbee2mqtt_ignored_total{reason}: payloads that are not JSON objects
 * (not_json), names registered under another protocol (wrong_protocol), registered devices whose model has
 * no mapping (unknown_model) or that have no model and nothing recognisable (no_mapping), and unregistered
 * names that look like nothing we map (unregistered: lights, plugs). An unregistered name that does look like
 * a fall or SOS sensor goes to the pipeline, which refuses it and lists it as awaiting registration.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeZigbee2mqtt, parseStatePayload, parseStateTopic, reportedIeee } from '../../protocols/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Pipeline } from '../pipeline.js';
import { redactUrl } from '../redact.js';
import type { Registry } from '../registry.js';
import type { Device } from '../store/devices.js';

export interface Zigbee2MqttDeps {
  prefix: string;
  pipeline: Pipeline;
  registry: Registry;
  metrics: Metrics;
  log: Logger;
}

export class Zigbee2MqttBridge {
  /** per device: the mapped properties' values last handled, so alarms fire on a change (decoder.ts) */
  private last = new Map<string, Record<string, unknown>>();
  /** per friendly name: keeps one name's messages in order, so `last` is read and written in order */
  private chains = new Map<string, Promise<unknown>>();
  private warnedModels = new Set<string>();
  private client?: MqttClient;

  constructor(private readonly d: Zigbee2MqttDeps) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** One publish. Resolves true when handled or deliberately ignored; false when it must not be acknowledged. */
  handle(topic: string, payload: Buffer): Promise<boolean> {
    const name = parseStateTopic(topic, this.d.prefix);
    if (name === null) return Promise.resolve(this.ignore('not_state')); // bridge/…, …/availability, …/set: not device state
    const prev = this.chains.get(name) ?? Promise.resolve();
    const next = prev.then(() => this.handleState(name, payload));
    const tail = next.catch(() => undefined);
    this.chains.set(name, tail);
    void tail.then(() => {
      if (this.chains.get(name) === tail) this.chains.delete(name);
    });
    return next;
  }

  private ignore(reason: string): true {
    this.d.metrics.zigbeeIgnored.inc({ reason });
    return true;
  }

  private async handleState(name: string, payload: Buffer): Promise<boolean> {
    const { metrics, registry, log } = this.d;
    const parsed = parseStatePayload(payload);
    if (!parsed) return this.ignore('not_json');
    metrics.frames.inc({ protocol: 'zigbee2mqtt' });
    let device: Device | null;
    try {
      device = await registry.lookup(name);
      const ieee = device ? undefined : reportedIeee(parsed.value);
      if (ieee) device = await registry.lookup(ieee);
    } catch (e) {
      metrics.processErrors.inc({ stage: 'registry' });
      log.error({ err: e }, 'registry lookup failed');
      return false;
    }
    if (device && device.protocol !== 'zigbee2mqtt') return this.ignore('wrong_protocol');
    const identifier = device?.identifier ?? name;
    const out = decodeZigbee2mqtt({ identifier, payload: parsed.value, raw: parsed.text, model: device?.model, previous: this.last.get(identifier), receivedAt: new Date() });
    if (!out.ok) {
      if (!device) return this.ignore('unregistered');
      if (out.reason === 'unknown_model' && !this.warnedModels.has(identifier)) {
        this.warnedModels.add(identifier);
        log.warn({ device: device.id, model: device.model }, 'zigbee2mqtt device model has no mapping; its messages are ignored');
      }
      return this.ignore(out.reason);
    }
    const r = await this.d.pipeline.handle([out.message], 'zigbee2mqtt');
    if (!r.ok) return r.reason === 'unknown_device'; // unknown: counted and listed by the pipeline; done with
    this.last.set(identifier, out.watched);
    return true;
  }

  /**
   * Reads an external broker. The PUBACK of a QoS 1 state message is sent after it is handled (mqtt.js sends
   * it when handleMessage calls back); Zigbee2MQTT publishes QoS 0 unless configured otherwise.
   */
  connect(url: string): void {
    const client = mqtt.connect(url, { clientId: `anxin-z2m-${randomBytes(4).toString('hex')}`, clean: true, reconnectPeriod: 5000, connectTimeout: 10_000 });
    this.client = client;
    client.handleMessage = (packet, callback) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      this.handle(packet.topic, payload).then(
        (ok) => callback(ok ? undefined : new Error('not committed; not acknowledged')),
        (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
      );
    };
    let subscribed = false;
    client.on('connect', () => {
      this.d.log.info({ url: redactUrl(url) }, 'connected to the Zigbee2MQTT broker');
      if (subscribed) return; // mqtt.js subscribes again by itself after a reconnect
      subscribed = true;
      client.subscribe(`${this.d.prefix}/+`, { qos: 1 }, (err) => {
        if (err) this.d.log.error({ err }, 'subscribing to Zigbee2MQTT state failed');
      });
    });
    client.on('error', (err) => this.d.log.warn({ err: err.message, url: redactUrl(url) }, 'Zigbee2MQTT broker connection error'));
  }

  /** whether this node reads the external broker now (a standby node of a cluster does not) */
  get reading(): boolean {
    return this.client !== undefined;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
    await Promise.all([...this.chains.values()]);
  }
}
