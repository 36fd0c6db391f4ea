/**
 * A simulated Zigbee2MQTT bridge on mqtt.js: announces itself like Zigbee2MQTT does
 * (`{prefix}/bridge/state` = {"state":"online"}, retained) and publishes the vendors' state objects on
 * `{prefix}/<friendly name>`. With Zigbee2MQTT's default cache_state, every publish carries the whole state.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { VENDORS, type SensorState, type Vendor } from './facts.js';
import { noDelay } from './native.js';

export interface BridgeSimOptions {
  url: string;
  username?: string;
  password?: string;
  /** Zigbee2MQTT base topic; default zigbee2mqtt */
  prefix?: string;
  ca?: Buffer;
  /** QoS of state publishes; Zigbee2MQTT's default is 0 */
  qos?: 0 | 1;
}

export class Zigbee2MqttBridgeSim {
  client?: MqttClient;
  readonly prefix: string;

  constructor(readonly o: BridgeSimOptions) {
    this.prefix = o.prefix ?? 'zigbee2mqtt';
  }

  async connect(extra: IClientOptions = {}): Promise<void> {
    const client = await mqtt.connectAsync(this.o.url, {
      clientId: `z2m-sim-${randomBytes(4).toString('hex')}`,
      ...(this.o.username ? { username: this.o.username, password: this.o.password } : {}),
      ...(this.o.ca ? { ca: this.o.ca } : {}),
      reconnectPeriod: 0,
      ...extra,
    });
    this.client = client;
    noDelay(client);
    client.on('connect', () => noDelay(client));
    await client.publishAsync(`${this.prefix}/bridge/state`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
  }

  /** Publishes any state object for a friendly name; resolves on PUBACK (QoS 1) or when written (QoS 0). */
  async publishState(name: string, state: Record<string, unknown>): Promise<void> {
    if (!this.client) throw new Error('not connected');
    await this.client.publishAsync(`${this.prefix}/${name}`, JSON.stringify(state), { qos: this.o.qos ?? 0 });
  }

  /** The vendor's whole state object for this situation, as Zigbee2MQTT would publish it. */
  publishVendor(name: string, vendor: Vendor, s: SensorState, extra: Record<string, unknown> = {}): Promise<void> {
    return this.publishState(name, { ...VENDORS[vendor].payload(s), ...extra });
  }

  fall(name: string, vendor: Vendor): Promise<void> {
    return this.publishVendor(name, vendor, { alarm: true, present: true });
  }

  normal(name: string, vendor: Vendor, present = true): Promise<void> {
    return this.publishVendor(name, vendor, { alarm: false, present });
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
  }
}
