/**
 * An external MQTT broker (Mosquitto, EMQX) in place of the embedded aedes (MQTT_BROKER_URL, issue 25). The broker
 * authenticates devices and enforces their ACL with Anxin's answers (http/mqtt-auth.ts, plugins/mosquitto); Anxin is
 * one client of it, with its own account:
 * - it reads the uplinks, `anxin/up/+/+` and the Zigbee2MQTT prefix, QoS 1, on a persistent session (clean: false),
 *   so the broker keeps them while Anxin restarts;
 * - it writes the downlinks (`anxin/down/{id}/ack` after the commit, `…/error`) and its bus topics.
 * The broker's PUBACK to a device means only that the broker has the message; the `ack` downlink means committed,
 * which is why an alarm carries a `msgId` and is resent until its ack arrives (README, MQTT devices).
 * In a cluster one node reads (a singleton lease, like ZIGBEE2MQTT_URL), so a device's messages stay in order.
 */
import { Buffer } from 'node:buffer';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../log.js';
import { redactUrl } from '../redact.js';
import type { MqttFront, UplinkHooks } from './mqtt-broker.js';

export interface ExternalBrokerOptions {
  url: string;
  /** this node's client id on the broker; fixed, so its session (and the messages queued for it) survives a restart */
  clientId: string;
  bridgePrefix: string;
  log: Logger;
}

const UPLINKS = 'anxin/up/+/+';

export class ExternalBroker implements MqttFront {
  readonly hooks: UplinkHooks = {};
  private readonly client: MqttClient;
  private reading = false;
  /** per device, the tail of its messages being handled: one device's messages are handled in the order they came */
  private readonly chains = new Map<string, Promise<void>>();
  /** when each device last sent anything (the broker does not tell Anxin who is connected) */
  private readonly lastUplink = new Map<string, number>();

  constructor(private readonly o: ExternalBrokerOptions) {
    this.client = mqtt.connect(o.url, { clientId: o.clientId, clean: false, reconnectPeriod: 2000, connectTimeout: 10_000, keepalive: 30 });
    this.client.on('error', (err) => o.log.warn({ err: err.message, url: redactUrl(o.url) }, 'external MQTT broker connection error'));
    this.client.on('connect', (ack) => o.log.info({ url: redactUrl(o.url), sessionPresent: ack.sessionPresent }, 'connected to the external MQTT broker'));
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Whether the device sent something within `withinMs`. */
  heardFrom(id: string, withinMs: number): boolean {
    const at = this.lastUplink.get(id);
    return at !== undefined && Date.now() - at <= withinMs;
  }

  /**
   * Starts reading the uplinks (this node holds the lease, or there is one node). Does not wait for the broker: while
   * it is unreachable mqtt.js keeps the SUBSCRIBE and sends it once connected (and again after each reconnect).
   */
  startReading(): void {
    if (this.reading) return;
    this.reading = true;
    this.client.subscribe([UPLINKS, `${this.o.bridgePrefix}/+`], { qos: 1 }, (err, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (err || refused.length) this.o.log.error({ err: err?.message, refused }, "the external MQTT broker refused Anxin's subscription to the uplinks: check its authentication plugin and MQTT_AUTH_TOKEN");
    });
  }

  /**
   * Stops reading. Another node took the lease: the subscription goes too, so the broker stops sending here.
   * Shutting down (`keepSession`): it stays in the broker's persistent session, which keeps the uplinks that
   * come while Anxin is away and hands them over when it is back.
   */
  async stopReading(keepSession = false): Promise<void> {
    if (!this.reading) return;
    this.reading = false;
    if (!keepSession && this.client.connected) await this.client.unsubscribeAsync([UPLINKS, `${this.o.bridgePrefix}/+`]).catch(() => undefined);
  }

  publish(topic: string, payload: string | Buffer, opts: { retain?: boolean; qos?: 0 | 1 } = {}): void {
    this.client.publish(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    await this.client.endAsync();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (!this.reading) return;
    const up = /^anxin\/up\/([^/]+)\/[^/]+$/.exec(topic);
    const key = up ? `d:${up[1]}` : 'bridge';
    const run = (): Promise<unknown> => {
      if (up) {
        this.lastUplink.set(up[1]!, Date.now());
        return this.hooks.device ? this.hooks.device({ role: 'device', name: up[1]! }, topic, payload) : Promise.resolve(false);
      }
      return this.hooks.bridge ? this.hooks.bridge({ role: 'bridge', name: 'external' }, topic, payload) : Promise.resolve(true);
    };
    const prev = this.chains.get(key) ?? Promise.resolve();
    const tail = prev
      .then(run)
      // not committed: no `ack` goes to the device, which sends the message again (the broker's PUBACK is not the ack)
      .then(() => undefined, (e: unknown) => this.o.log.error({ err: e, topic: topic.slice(0, 200) }, 'external MQTT uplink not handled'));
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
  }
}
