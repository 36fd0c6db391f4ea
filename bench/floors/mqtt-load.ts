/**
 * MQTT load for the broker baselines, from the bench process: `clients` device connections log in (timed:
 * CONNECT → CONNACK), then each keeps `window` QoS 1 publishes in flight on anxin/up/{id}/heartbeat for
 * `seconds`, sending the next as each PUBACK arrives. Publishes are written in batches straight from a
 * template, so the generator stays cheaper than any broker it measures.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { PACKET, PacketReader, connectPacket, publishPacket } from '../../simulators/fleet/mqtt-wire.js';

export interface MqttLoadOptions {
  port: number;
  clients: number;
  window: number;
  seconds: number;
  id: (k: number) => string;
  /** device secret; unset = no username/password (anonymous brokers) */
  password?: string;
  /** logins in flight at once */
  connectConcurrency?: number;
}

export interface MqttLoadResult {
  clients: number;
  connected: number;
  connectSeconds: number;
  connectsPerS: number;
  connectMs: { p50?: number; p99?: number };
  publishesPerS: number;
  pubacks: number;
  seconds: number;
  generatorCpuPct: number;
  refused: number;
}

interface Client {
  s: Socket;
  template: Buffer;
  idOffset: number;
  nextId: number;
  reader: PacketReader;
}

export async function mqttLoad(o: MqttLoadOptions): Promise<MqttLoadResult> {
  const clients: Client[] = [];
  const connectTimes: number[] = [];
  let refused = 0;
  let pubacks = 0;
  let running = false;
  const t0 = performance.now();
  const conc = o.connectConcurrency ?? 50;

  const open = (k: number) =>
    new Promise<void>((resolve) => {
      const id = o.id(k);
      const s = connect(o.port, '127.0.0.1');
      s.setNoDelay(true);
      const start = performance.now();
      const topic = `anxin/up/${id}/heartbeat`;
      const payload = '{"battery":80}';
      const template = publishPacket(topic, payload, 1, 1);
      // the packet id sits after the fixed header (1 + remaining-length bytes), the topic length (2) and the topic
      const tl = Buffer.byteLength(topic);
      const rem = 2 + tl + 2 + payload.length;
      const rlBytes = rem < 128 ? 1 : rem < 16_384 ? 2 : 3;
      const c: Client = { s, template, idOffset: 1 + rlBytes + 2 + tl, nextId: 1, reader: new PacketReader() };
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          resolve();
        }
      };
      s.on('data', (chunk) => {
        let acks = 0;
        c.reader.push(chunk, (p) => {
          if (p.type === PACKET.CONNACK) {
            if (p.body[1] === 0) {
              connectTimes.push(performance.now() - start);
              clients.push(c);
            } else refused++;
            finish();
          } else if (p.type === PACKET.PUBACK) acks++;
        });
        if (acks && running) {
          pubacks += acks;
          send(c, acks);
        } else if (acks) pubacks += acks;
      });
      s.on('error', () => finish());
      s.on('close', () => finish());
      s.write(connectPacket({ clientId: id, ...(o.password !== undefined ? { username: id, password: o.password } : {}), keepaliveS: 600 }));
    });

  const send = (c: Client, n: number) => {
    const len = c.template.length;
    const buf = Buffer.allocUnsafe(len * n);
    for (let k = 0; k < n; k++) {
      c.template.copy(buf, k * len);
      let id = c.nextId++ & 0xffff;
      if (id === 0) id = c.nextId++ & 0xffff;
      buf.writeUInt16BE(id, k * len + c.idOffset);
    }
    c.s.write(buf);
  };

  // logins, `conc` at a time
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(conc, o.clients) }, async () => {
      while (next < o.clients) await open(next++);
    }),
  );
  const connectSeconds = (performance.now() - t0) / 1000;

  // publishing
  const cpu0 = process.cpuUsage();
  running = true;
  const p0 = pubacks;
  const t1 = performance.now();
  for (const c of clients) send(c, o.window);
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  running = false;
  const secs = (performance.now() - t1) / 1000;
  const got = pubacks - p0;
  const cpu = process.cpuUsage(cpu0);
  for (const c of clients) c.s.destroy();
  const sorted = [...connectTimes].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10 : undefined);
  return {
    clients: o.clients,
    connected: clients.length,
    connectSeconds: Math.round(connectSeconds * 100) / 100,
    connectsPerS: Math.round((clients.length / connectSeconds) * 10) / 10,
    connectMs: { p50: pct(50), p99: pct(99) },
    publishesPerS: Math.round(got / secs),
    pubacks: got,
    seconds: Math.round(secs * 10) / 10,
    generatorCpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / secs) * 100),
    refused,
  };
}
