/**
 * A simulated native JSON fall sensor (protocol mqtt-json) on mqtt.js. Like a real one, it logs in with its
 * id and secret, listens on anxin/down/{id}/#, and sends a fall with a msgId again and again until the
 * server's ack with that msgId arrives ("constant alarming until confirmed").
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { NATIVE } from './facts.js';

export interface NativeSensorOptions {
  /** mqtt://host:1883 or mqtts://host:8883 */
  url: string;
  deviceId: string;
  secret: string;
  /** CA for mqtts with a private certificate */
  ca?: Buffer;
  /** resend an unacknowledged alarm this often; default 5000 */
  alarmRetryMs?: number;
  keepaliveS?: number;
}

export interface AlarmResult {
  msgId: string;
  sentAt: number;
  ackedAt: number;
  attempts: number;
}

export interface ServerReply {
  topic: string;
  body: Record<string, unknown>;
}

/**
 * Sends each packet at once: with Nagle on, a PUBACK followed by the next PUBLISH waits for the server's
 * delayed TCP ACK (~40 ms), and timings would measure that instead of the server.
 */
export function noDelay(client: MqttClient): void {
  const s = client.stream as unknown as { setNoDelay?: (on: boolean) => void };
  s.setNoDelay?.(true);
}

type Kind = 'heartbeat' | 'position' | 'alarm' | 'health' | 'status';

export class NativeFallSensor extends EventEmitter {
  client?: MqttClient;
  /** every ack and error the server sent, in order */
  readonly replies: ServerReply[] = [];
  private seq = 0;
  /** alarms still waiting for their ack; close() gives up on them */
  private pending = new Set<(e: Error) => void>();
  private readonly prefix = randomBytes(3).toString('hex');

  constructor(readonly o: NativeSensorOptions) {
    super();
  }

  async connect(extra: IClientOptions = {}): Promise<void> {
    const client = await mqtt.connectAsync(this.o.url, {
      clientId: this.o.deviceId,
      username: this.o.deviceId,
      password: this.o.secret,
      keepalive: this.o.keepaliveS ?? 60,
      reconnectPeriod: 0,
      ...(this.o.ca ? { ca: this.o.ca } : {}),
      ...extra,
    });
    this.client = client;
    noDelay(client);
    client.on('connect', () => noDelay(client)); // a reconnect opens a new socket
    client.on('message', (topic, payload) => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      } catch {
        body = { unparsed: payload.toString('utf8') };
      }
      const r = { topic, body };
      this.replies.push(r);
      this.emit(topic.endsWith('/error') ? 'server_error' : topic.endsWith('/ack') ? 'ack' : 'downlink', r);
    });
    client.on('close', () => this.emit('close'));
    client.on('error', (e) => this.emit('error', e));
    await client.subscribeAsync(NATIVE.down(this.o.deviceId), { qos: 1 });
  }

  nextMsgId(): string {
    return `${this.prefix}-${++this.seq}`;
  }

  /** Publishes one uplink (QoS 1); resolves on PUBACK. */
  async send(kind: Kind, body: Record<string, unknown>): Promise<void> {
    if (!this.client) throw new Error('not connected');
    await this.client.publishAsync(NATIVE.up(this.o.deviceId, kind), JSON.stringify(body), { qos: 1 });
  }

  /** Publishes bytes as they are (for invalid payloads). */
  async sendRaw(kind: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<void> {
    if (!this.client) throw new Error('not connected');
    await this.client.publishAsync(`anxin/up/${this.o.deviceId}/${kind}`, payload, { qos });
  }

  heartbeat(battery = 90): Promise<void> {
    return this.send('heartbeat', { time: new Date().toISOString(), battery });
  }

  status(states: { presence?: boolean; occupancy?: boolean }): Promise<void> {
    return this.send('status', { time: new Date().toISOString(), states });
  }

  /** A fall, resent with the same msgId until the server's ack for it arrives. */
  fall(): Promise<AlarmResult> {
    return this.alarm(['fall']);
  }

  alarm(alarms: string[]): Promise<AlarmResult> {
    const msgId = this.nextMsgId();
    const body = JSON.stringify({ msgId, time: new Date().toISOString(), alarms });
    const sentAt = performance.now();
    let attempts = 0;
    return new Promise<AlarmResult>((resolve, reject) => {
      const done = () => {
        clearInterval(timer);
        this.off('ack', onAck);
        this.pending.delete(giveUp);
      };
      const giveUp = (e: Error) => {
        done();
        reject(e);
      };
      const onAck = (r: ServerReply) => {
        if (r.body.msgId !== msgId) return;
        done();
        resolve({ msgId, sentAt, ackedAt: performance.now(), attempts });
      };
      const sendOnce = () => {
        if (!this.client?.connected) return; // the next tick tries again
        attempts++;
        if (attempts > 1) this.emit('alarm_retry', { msgId, attempts });
        this.client.publish(NATIVE.up(this.o.deviceId, 'alarm'), body, { qos: 1 }, (err) => {
          if (err) this.emit('publish_error', err);
          else this.emit('puback', { msgId });
        });
      };
      this.on('ack', onAck);
      this.pending.add(giveUp);
      const timer = setInterval(sendOnce, this.o.alarmRetryMs ?? 5000);
      if (!this.client) return giveUp(new Error('not connected'));
      sendOnce();
    });
  }

  async close(): Promise<void> {
    for (const giveUp of [...this.pending]) giveUp(new Error('sensor closed before the alarm was acknowledged'));
    await this.client?.endAsync(true);
  }
}
