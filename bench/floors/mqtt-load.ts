/**
 * MQTT load for the broker baselines, from the bench process:
 * - loginRate: devices connect, log in and leave, as fast as the broker lets them, for a few seconds;
 * - mqttLoad: `clients` device connections log in, then each keeps `window` QoS 1 publishes in flight on
 *   anxin/up/{id}/heartbeat for `seconds`, sending the next as each PUBACK arrives. Publishes are written in
 *   batches straight from a template, so the generator stays cheaper than any broker it measures.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DISCONNECT, PACKET, PacketReader, connectPacket, publishPacket } from '../../simulators/fleet/mqtt-wire.js';

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
  /** called when every client is logged in, just before publishing starts (to read the broker's CPU) */
  onPublishing?: () => void;
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

export interface LoginRate {
  seconds: number;
  logins: number;
  loginsPerS: number;
  refused: number;
  loginMs: { p50?: number; p99?: number };
}

/**
 * Logins per second: for `seconds`, `concurrency` devices at a time each connect, log in (CONNECT → CONNACK)
 * and disconnect, so file descriptors do not pile up.
 */
export async function loginRate(o: { port: number; seconds: number; concurrency: number; id: (k: number) => string; password?: string }): Promise<LoginRate> {
  const times: number[] = [];
  let refused = 0;
  let k = 0;
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const id = o.id(k++);
      const s = connect(o.port, '127.0.0.1');
      const start = performance.now();
      const reader = new PacketReader();
      const done = () => {
        s.destroy();
        resolve();
      };
      s.on('data', (chunk) =>
        reader.push(chunk, (p) => {
          if (p.type !== PACKET.CONNACK) return;
          if (p.body[1] === 0) {
            times.push(performance.now() - start);
            s.write(DISCONNECT);
          } else refused++;
          done();
        }),
      );
      s.on('error', done);
      s.on('close', done);
      s.write(connectPacket({ clientId: id, ...(o.password !== undefined ? { username: id, password: o.password } : {}), keepaliveS: 600 }));
    });
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const sorted = [...times].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10 : undefined);
  return { seconds: Math.round(secs * 10) / 10, logins: times.length, loginsPerS: Math.round((times.length / secs) * 10) / 10, refused, loginMs: { p50: pct(50), p99: pct(99) } };
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
  o.onPublishing?.();
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
