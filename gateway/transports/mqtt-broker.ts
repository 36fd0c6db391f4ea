/**
 * The embedded aedes broker. It carries Anxin's bus topics (anxin/devices/{id}/events, anxin/alarms/{id})
 * and is the front door for MQTT-native devices, integrators and Zigbee2MQTT bridges (mqtt-acl.ts has the
 * rules). Defences: per-account login (argon2), the ACL, a packet size cap read on the wire, a connection
 * limit across plain and TLS listeners, a required keep-alive, a CONNECT timeout, and a limit per IP address
 * on connections that have not logged in yet (so one address cannot hold every slot before authenticating). Every refusal is logged and counted in
 * anxin_mqtt_denials_total{reason}.
 *
 * Device and bridge uplinks are handled inside `authorizePublish`: aedes writes a QoS 1 PUBACK only after
 * that callback, so the PUBACK leaves after the pipeline has committed the message's alarms. A message that
 * could not be committed closes the connection without a PUBACK (MQTT 3.1.1 has no negative PUBACK), and
 * the device sends it again when it reconnects.
 *
 * With `cluster` (REDIS_URL, issue 24) it is one member of a cluster of gateway nodes: mqtt-cluster.ts.
 */
import { Buffer } from 'node:buffer'; // the global Buffer is a getter, read on every publish otherwise
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../log.js';
import { hotCounter, type Metrics } from '../metrics.js';
import { checkPrefix, compileAcl, parseAccounts, type Account, type ClientAcl, type Role } from './mqtt-acl.js';
import { checkLogin } from './mqtt-accounts.js';
import { AddressCounter, addressKey } from './address-limit.js';
import { LISTEN_BACKLOG } from './listen.js';
import { PacketSizeGuard } from './mqtt-limits.js';
import { LoginThrottle } from '../login-throttle.js';
import { settledWithin } from '../cluster/redis.js';
import { brokerCluster, type BrokerCluster } from './mqtt-cluster.js';

export interface BrokerAuth {
  /** stored hash of the device's MQTT secret (device-secrets.ts: HMAC, or argon2 from before), or undefined if the device is unknown/disabled */
  deviceSecretHash(id: string): Promise<string | undefined>;
}

/** Resolves true when the publish is handled (PUBACK it), false to close the connection without one. */
export type UplinkHook = (acct: Account, topic: string, payload: Buffer) => Promise<boolean>;

export interface UplinkHooks {
  /** mqtt-json uplinks; until it is set, device publishes are not acknowledged */
  device?: UplinkHook;
  /** publishes of Zigbee2MQTT bridge accounts; unset = passed through */
  bridge?: UplinkHook;
}

export interface BrokerLimits {
  /** largest packet before login and for devices and integrators */
  maxPacketBytes: number;
  /** largest packet for bridge accounts (Zigbee2MQTT's retained bridge/devices grows with the network) */
  bridgeMaxPacketBytes: number;
  /** plain and TLS connections together */
  maxConnections: number;
  /** clients must ask for a keep-alive between 1 s and this */
  keepaliveMaxS: number;
  /** a connection's CONNECT packet must arrive within this; default 10 s */
  connectTimeoutS?: number;
  /** most connections from one IP address that have not logged in; unset = no limit */
  maxUnauthenticatedPerAddress?: number;
  /**
   * most logins being checked at once; past it a CONNECT is answered at once with CONNACK 3 (server unavailable),
   * and the device tries again after its back-off. Unset = no limit.
   */
  maxPendingLogins?: number;
}

export interface BrokerOptions extends BrokerLimits {
  host: string;
  port: number;
  tls?: { port: number; cert: Buffer; key: Buffer };
  integrators: Map<string, string>;
  bridges: Map<string, string>;
  bridgePrefix: string;
  /** scale-out: the Redis the nodes share and this node's name (nodeIdOf); unset = in memory, one node */
  cluster?: { redisUrl: string; nodeId: string };
}

/** What the rest of Anxin needs of a broker, embedded (this file) or external (mqtt-external.ts). */
export interface MqttFront {
  /** set by gateway/transports/mqtt-devices.ts once the pipeline exists */
  hooks: UplinkHooks;
  publish(topic: string, payload: string | Buffer, opts?: { retain?: boolean; qos?: 0 | 1 }): void;
  close(): Promise<void>;
}

export interface Broker extends MqttFront {
  aedes: Aedes;
  server: Server;
  port: number;
  tlsServer?: TlsServer;
  tlsPort?: number;
  /** in a cluster: aedes' broker id (the node's name and a per-start suffix) and whether its Redis is reachable */
  cluster?: { id: string; readonly redisReady: boolean };
}

/** Broker options from the configuration; problems are reported all at once, like loadConfig does. */
export function brokerOptionsFromConfig(cfg: Config): BrokerOptions {
  const problems: string[] = [];
  const integrators = parseAccounts(cfg.mqttIntegrators, 'MQTT_INTEGRATORS');
  const bridges = parseAccounts(cfg.zigbee2mqttBridges, 'ZIGBEE2MQTT_BRIDGES');
  problems.push(...integrators.problems, ...bridges.problems, ...checkPrefix(cfg.zigbee2mqttPrefix, 'ZIGBEE2MQTT_PREFIX'));
  for (const name of integrators.accounts.keys()) if (bridges.accounts.has(name)) problems.push(`account ${JSON.stringify(name)} is both in MQTT_INTEGRATORS and ZIGBEE2MQTT_BRIDGES`);
  let tls: BrokerOptions['tls'];
  if (!!cfg.mqttTlsCert !== !!cfg.mqttTlsKey) problems.push('MQTT_TLS_CERT and MQTT_TLS_KEY must be set together');
  else if (cfg.mqttTlsCert && cfg.mqttTlsKey) {
    try {
      tls = { port: cfg.mqttTlsPort, cert: readFileSync(cfg.mqttTlsCert), key: readFileSync(cfg.mqttTlsKey) };
    } catch (e) {
      problems.push(`MQTT_TLS_CERT/MQTT_TLS_KEY could not be read: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    host: cfg.mqttHost,
    port: cfg.mqttPort,
    tls,
    integrators: integrators.accounts,
    bridges: bridges.accounts,
    bridgePrefix: cfg.zigbee2mqttPrefix,
    maxPacketBytes: cfg.mqttMaxPacketBytes,
    bridgeMaxPacketBytes: Math.max(cfg.zigbee2mqttMaxPacketBytes, cfg.mqttMaxPacketBytes),
    maxConnections: cfg.mqttMaxConnections,
    keepaliveMaxS: cfg.mqttKeepaliveMaxS,
    connectTimeoutS: cfg.mqttConnectTimeoutS,
    maxUnauthenticatedPerAddress: cfg.mqttMaxUnauthenticatedPerAddress,
    maxPendingLogins: cfg.mqttMaxPendingLogins,
  };
}

function authError(code: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', rej);
      res();
    });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}

/** How long a clustered broker's close waits for aedes (its clients, then the emitter's QUIT) before dropping Redis. */
const CLUSTER_CLOSE_WAIT_MS = 5000;

/** anxin_mqtt_publishes_total for one role, one counter per result, bound once so a publish does no label lookup. */
interface PublishCounts {
  handled: { inc(): void };
  denied: { inc(): void };
  /** closed without a PUBACK: the hook answered false, or no device hook is set yet */
  notCommitted: { inc(): void };
  error: { inc(): void };
}

function publishCounts(metrics: Metrics, role: Role | 'none'): PublishCounts {
  const count = (result: string) => hotCounter(metrics.mqttPublishes, { role, result });
  return { handled: count('handled'), denied: count('denied'), notCommitted: count('not_committed'), error: count('error') };
}

/** What a logged-in client may publish and where its publishes are counted, worked out once at login. */
interface Login {
  acct: Account;
  /** compiled at login (mqtt-acl.ts compileAcl) */
  acl: ClientAcl;
  counts: PublishCounts;
}

/** What one connection is, kept beside aedes' Client rather than written onto it. */
interface Session {
  /** set once the login is accepted */
  login?: Login;
  /** largest packet accepted from it now */
  maxPacketBytes: number;
  /** counted against its address until it logs in or closes */
  unauthenticatedFrom?: string;
}

export async function startBroker(o: BrokerOptions & { auth: BrokerAuth; log: Logger; metrics: Metrics }): Promise<Broker> {
  const { log, metrics } = o;
  const sessions = new WeakMap<Client, Session>();
  const sessionOf = (client: Client): Session => {
    let s = sessions.get(client);
    if (!s) sessions.set(client, (s = { maxPacketBytes: o.maxPacketBytes }));
    return s;
  };
  const hooks: UplinkHooks = {};
  const unauthenticated = new AddressCounter(o.maxUnauthenticatedPerAddress ?? Number.POSITIVE_INFINITY);
  const authenticated = (s: Session) => {
    if (s.unauthenticatedFrom === undefined) return;
    unauthenticated.remove(s.unauthenticatedFrom);
    s.unauthenticatedFrom = undefined;
  };
  // Bad passwords back off (issue 15): per client id from one address after 5 failures, and per address after 20,
  // 1 s doubling up to 15 min; while a key waits, its logins are refused unchecked (CONNACK 5). The client id is keyed
  // with the address on purpose: a ban on the client id alone would let anyone who knows it lock the real device
  // out (bench: a flood on one id refused 22 of the device's 23 correct logins). Device secrets are checked with an
  // HMAC (microseconds), so the checks the backoff does not spare are cheap anyway.
  const byClient = new LoginThrottle(5);
  const byAddress = new LoginThrottle(20);
  // Reconnect storms (issue 25): after a restart or a network blip every device logs in again at once, and each
  // login's account lookup queues on the database behind the others (bench: 10,000 devices, device ack p99 1.4 s).
  // Past maxPendingLogins a CONNECT gets CONNACK 3 at once, which devices answer by backing off: logins are paced
  // instead of piling up, and the devices already in keep sending their alarms.
  let pendingLogins = 0;
  const maxPendingLogins = o.maxPendingLogins ?? Number.POSITIVE_INFINITY;
  // per role, made here rather than looked up by label on each publish (bench: a label lookup per publish was ~1.5 %
  // of the broker's CPU at 200,000 QoS 1 publishes/s)
  const counts = { device: publishCounts(metrics, 'device'), integrator: publishCounts(metrics, 'integrator'), bridge: publishCounts(metrics, 'bridge'), none: publishCounts(metrics, 'none') };
  const deny = (reason: string, fields: Record<string, unknown>, msg: string) => {
    metrics.mqttDenials.inc({ reason });
    log.warn({ ...fields, reason }, msg);
  };

  const book = { integrators: o.integrators, bridges: o.bridges, deviceSecretHash: (id: string) => o.auth.deviceSecretHash(id) };

  const cluster: BrokerCluster | undefined = o.cluster && brokerCluster(o.cluster.redisUrl, o.cluster.nodeId, log);
  const closeAedes = async (aedes: Aedes) => {
    const closed = new Promise<void>((r) => aedes.close(() => r()));
    if (!cluster) return closed;
    // aedes closes its clients, then QUITs the emitter's connections: with Redis down that waits forever
    const inTime = await settledWithin(closed, CLUSTER_CLOSE_WAIT_MS);
    if (!inTime) log.warn('mqtt broker did not close in time (redis down?); dropping its redis connections');
    await cluster.close(!inTime);
  };

  // The publish path, split out of authorizePublish so the common case (allowed, hooked) reads in four lines.
  // cb(error) makes aedes close the connection without a PUBACK.
  const denyPublish = (client: Client, login: Login | undefined, topic: string, cb: (error?: Error | null) => void) => {
    (login?.counts ?? counts.none).denied.inc();
    // the topic is the client's text: a bounded piece of it (a 60,000-byte topic made a 60 KB log line)
    const shown = topic.length > 200 ? `${topic.slice(0, 200)}… (${topic.length} chars)` : topic;
    deny('acl_publish', { clientId: client.id, topic: shown }, 'mqtt publish denied');
    cb(new Error('publish not allowed'));
  };
  /** no hook for the role yet: a device's message is not acknowledged (nothing would commit it); a bridge's passes */
  const unhooked = (login: Login, cb: (error?: Error | null) => void) => {
    if (login.acct.role !== 'device') {
      login.counts.handled.inc();
      return cb(null);
    }
    login.counts.notCommitted.inc();
    cb(new Error('not ready for device messages'));
  };
  /** the PUBACK waits for the hook: aedes writes it when cb is called without an error */
  const handOff = (hook: UplinkHook, login: Login, packet: { topic: string; payload: string | Buffer }, cb: (error?: Error | null) => void) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const c = login.counts;
    hook(login.acct, packet.topic, payload).then(
      (ok) => {
        if (ok) {
          c.handled.inc();
          return cb(null);
        }
        c.notCommitted.inc();
        cb(new Error('message not committed'));
      },
      (e: unknown) => {
        c.error.inc();
        cb(e instanceof Error ? e : new Error(String(e)));
      },
    );
  };

  const aedes = await Aedes.createBroker({
    ...(cluster ? { id: cluster.id, mq: cluster.mq, persistence: cluster.persistence } : {}),
    keepaliveLimit: o.keepaliveMaxS, // also refuses keep-alive 0 (never time out)
    connectTimeout: (o.connectTimeoutS ?? 10) * 1000,
    authenticate: (client, username, password, done) => {
      if (!username || !password) {
        deny('auth', { clientId: client.id }, 'mqtt login without username or password refused');
        return done(authError(4, 'username and password required'), false);
      }
      const address = sessionOf(client).unauthenticatedFrom ?? addressKey(client.conn && 'remoteAddress' in client.conn ? (client.conn as Socket).remoteAddress : undefined);
      const clientKey = `${address}\u0000${username}\u0000${client.id}`;
      if (byClient.waitMs(clientKey) > 0 || byAddress.waitMs(address) > 0) {
        // counted, not logged: a flood must not become a flood of log lines
        metrics.mqttDenials.inc({ reason: 'auth_backoff' });
        return done(authError(5, 'too many failed logins; try again later'), false);
      }
      if (pendingLogins >= maxPendingLogins) {
        metrics.mqttDenials.inc({ reason: 'busy' });
        return done(authError(3, 'server busy: too many logins at once; try again shortly'), false);
      }
      pendingLogins++;
      checkLogin(book, client.id, username, password.toString('utf8'))
        .finally(() => pendingLogins--)
        .then((r) => {
          if ('refused' in r) {
            if (r.refused === 'auth') {
              byClient.failed(clientKey);
              byAddress.failed(address);
            }
            deny(r.refused, { clientId: client.id }, 'mqtt login refused');
            return done(authError(r.code, r.code === 2 ? 'client id not allowed for this user' : 'bad username or password'), false);
          }
          byClient.succeeded(clientKey);
          const s = sessionOf(client);
          s.login = { acct: r, acl: compileAcl(r, o.bridgePrefix), counts: counts[r.role] };
          authenticated(s);
          if (r.role === 'bridge') s.maxPacketBytes = o.bridgeMaxPacketBytes;
          done(null, true);
        })
        .catch((e) => {
          log.error({ err: e, clientId: client.id }, 'mqtt login could not be checked');
          done(authError(3, 'server unavailable'), false);
        });
    },
    authorizePublish: (client, packet, cb) => {
      if (!client) return cb(null); // a stored will replayed at start, with no client behind it
      const login = sessions.get(client)?.login;
      if (!login || !login.acl.mayPublish(packet.topic)) return denyPublish(client, login, packet.topic, cb);
      const hook = login.acct.role === 'device' ? hooks.device : hooks.bridge;
      if (!hook) return unhooked(login, cb);
      handOff(hook, login, packet, cb);
    },
    authorizeSubscribe: (client, sub, cb) => {
      const login = sessions.get(client)?.login;
      if (login?.acl.maySubscribe(sub.topic)) return cb(null, sub);
      deny('acl_subscribe', { clientId: client.id, topic: sub.topic }, 'mqtt subscribe denied');
      cb(null, null); // a failure code (0x80) in the SUBACK; the connection stays up
    },
  }).catch(async (e: unknown) => {
    await cluster?.close();
    throw e;
  });
  aedes.on('connectionError', (_client, err) => {
    if ((err as Error & { errorCode?: number }).errorCode === 6) deny('keepalive', {}, `mqtt connect refused: keep-alive must be 1-${o.keepaliveMaxS} s`);
    else metrics.closed.inc({ protocol: 'mqtt', reason: 'connection_error' });
  });
  // a malformed packet or a PUBLISH to a topic with wildcards: aedes closes the connection; counted, not logged
  aedes.on('clientError', (_client, err) => metrics.closed.inc({ protocol: 'mqtt', reason: clientErrorReason(err) }));
  aedes.on('keepaliveTimeout', (client) => {
    metrics.closed.inc({ protocol: 'mqtt', reason: 'keepalive_timeout' });
    log.debug({ clientId: client.id }, 'mqtt client silent past its keep-alive; closed');
  });

  let open = 0;
  const onConnection = (socket: Socket) => {
    const address = addressKey(socket.remoteAddress);
    if (!unauthenticated.allows(address)) {
      // debug only: a flood must not become a flood of log lines; the counter shows it
      metrics.mqttDenials.inc({ reason: 'unauthenticated_per_address' });
      log.debug({ address, limit: unauthenticated.limit }, 'mqtt connection refused: too many not logged in from this address');
      socket.destroy();
      return;
    }
    if (open >= o.maxConnections) {
      deny('max_connections', { limit: o.maxConnections }, 'mqtt connection refused: too many connections');
      socket.destroy();
      return;
    }
    open++;
    metrics.connections.inc({ protocol: 'mqtt' });
    // acks and replies are small writes; without this, Nagle holds the PUBACK written right after an ack
    // publish until the device's delayed TCP ACK (~40 ms a round)
    socket.setNoDelay(true);
    const client = aedes.handle(socket);
    const session = sessionOf(client);
    // counted against its address until it logs in (authenticate) or closes
    unauthenticated.add(address);
    session.unauthenticatedFrom = address;
    socket.once('close', () => {
      open--;
      metrics.connections.dec({ protocol: 'mqtt' });
      authenticated(session);
    });
    const guard = new PacketSizeGuard(() => session.maxPacketBytes);
    // aedes reads with read() on 'readable'; a 'data' listener then sees each chunk as it is read, before
    // aedes parses it, without changing how the stream flows (Node docs, readable.on('data')).
    socket.on('data', (chunk: Buffer) => {
      const size = guard.push(chunk);
      if (size === 0 || socket.destroyed) return;
      deny('packet_too_large', { clientId: client.id ?? undefined, size: Number.isFinite(size) ? size : 'malformed' }, 'mqtt packet over the size limit; connection closed');
      socket.destroy();
    });
  };

  const server = createServer(onConnection);
  let port: number;
  try {
    port = await listen(server, o.port, o.host);
  } catch (e) {
    await closeAedes(aedes);
    throw e;
  }
  let tlsServer: TlsServer | undefined;
  let tlsPort: number | undefined;
  if (o.tls) {
    tlsServer = createTlsServer({ cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' }, onConnection);
    tlsServer.on('tlsClientError', (err) => log.debug({ err: err.message }, 'mqtt tls handshake failed'));
    try {
      tlsPort = await listen(tlsServer, o.tls.port, o.host);
    } catch (e) {
      await new Promise<void>((r) => server.close(() => r()));
      await closeAedes(aedes);
      throw e;
    }
  }

  return {
    aedes,
    server,
    port,
    tlsServer,
    tlsPort,
    hooks,
    cluster,
    publish(topic, payload, opts = {}) {
      const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
      aedes.publish({ cmd: 'publish', topic, payload: body, qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false }, () => undefined);
    },
    async close() {
      // Stop accepting, disconnect clients (then, in a cluster, the Redis connections), then wait for the listeners to finish.
      const closed = [server, ...(tlsServer ? [tlsServer] : [])].map((s) => new Promise<void>((r) => s.close(() => r())));
      await closeAedes(aedes);
      await Promise.all(closed);
    },
  };
}

/** A fixed label for why aedes dropped a client (its messages are free text, some carry the client's bytes). */
export function clientErrorReason(err: Error): string {
  const m = err.message;
  if (/not allowed in PUBLISH|too many levels|empty topic/i.test(m)) return 'invalid_topic';
  if (/not allowed|not committed|not ready/i.test(m)) return 'publish_refused';
  if (/ECONNRESET|EPIPE|write after end|This socket has been ended/i.test(m)) return 'socket_error';
  if (/Invalid|Malformed|parse|header|length|protocol|Cannot parse|wrong/i.test(m)) return 'malformed_packet';
  return 'client_error';
}
