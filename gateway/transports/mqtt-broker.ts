/**
 * The embedded aedes broker. It carries Anxin's bus topics (anxin/devices/{id}/events, anxin/alarms/{id})
 * and is the front door for MQTT-native devices: each device authenticates with its id and a per-device
 * secret (argon2 hash in PostgreSQL), and the ACL keeps it to its own topics.
 */
import { createServer, type Server } from 'node:net';
import { Aedes, type Client, type AuthenticateError } from 'aedes';
import argon2 from 'argon2';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

export interface BrokerAuth {
  /** argon2 hash of the device's MQTT secret, or undefined if the device is unknown/disabled */
  deviceSecretHash(id: string): Promise<string | undefined>;
}

export interface Broker {
  aedes: Aedes;
  server: Server;
  port: number;
  publish(topic: string, payload: string | Buffer, retain?: boolean): void;
  close(): Promise<void>;
}

function authError(code: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

const mine = (client: Client | null) => (client as (Client & { anxinRole?: string }) | null);

export async function startBroker(o: { host: string; port: number; auth: BrokerAuth; log: Logger; metrics: Metrics; maxConnections?: number }): Promise<Broker> {
  const aedes = await Aedes.createBroker({
    keepaliveLimit: 600,
    connectTimeout: 10_000,
    authenticate: (client, username, password, done) => {
      if (!username || !password) return done(authError(4, 'username and password required'), false);
      o.auth
        .deviceSecretHash(username)
        .then(async (hash) => {
          if (hash && username === client.id && (await argon2.verify(hash, password.toString('utf8')))) {
            Object.assign(client, { anxinRole: 'device', anxinId: username });
            return done(null, true);
          }
          o.metrics.refused.inc({ protocol: 'mqtt', reason: 'auth' });
          o.log.warn({ clientId: client.id }, 'mqtt authentication refused');
          done(authError(4, 'bad username or password'), false);
        })
        .catch(() => done(authError(3, 'server unavailable'), false));
    },
    authorizePublish: (client, packet, cb) => {
      if (!client) return cb(null); // the server itself
      const c = mine(client) as Client & { anxinId?: string };
      if (c.anxinId && packet.topic.startsWith(`anxin/up/${c.anxinId}/`)) return cb(null);
      o.metrics.refused.inc({ protocol: 'mqtt', reason: 'acl_publish' });
      o.log.warn({ clientId: client.id, topic: packet.topic }, 'mqtt publish denied');
      cb(new Error('publish not allowed'));
    },
    authorizeSubscribe: (client, sub, cb) => {
      const c = client as Client & { anxinId?: string };
      if (c.anxinId && (sub.topic === `anxin/down/${c.anxinId}` || sub.topic.startsWith(`anxin/down/${c.anxinId}/`))) return cb(null, sub);
      o.metrics.refused.inc({ protocol: 'mqtt', reason: 'acl_subscribe' });
      o.log.warn({ clientId: client.id, topic: sub.topic }, 'mqtt subscribe denied');
      cb(new Error('subscribe not allowed'));
    },
  });
  const server = createServer(aedes.handle);
  if (o.maxConnections) server.maxConnections = o.maxConnections;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(o.port, o.host, () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return {
    aedes,
    server,
    port,
    publish(topic, payload, retain = false) {
      aedes.publish({ cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: 0, retain, dup: false }, () => undefined);
    },
    async close() {
      // Stop accepting, disconnect clients, then wait for the listener to finish.
      const closed = new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
      await closed;
    },
  };
}
