/**
 * Composition root: starts every part in order and stops it in reverse.
 * Used by main.ts (the process) and by the integration tests (in-process, random ports).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AlarmService } from './alarm-service.js';
import { Bus } from './bus.js';
import type { Config } from './config.js';
import { capacityHealth, Health } from './health.js';
import { buildHttp } from './http/server.js';
import { hashPassword } from './http/auth.js';
import { LastSeenWriter } from './last-seen.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { Registry } from './registry.js';
import { createPool, type Db } from './store/db.js';
import { startEmbeddedPg } from './store/embedded.js';
import { migrate } from './store/migrate.js';
import { countUsers, createUser } from './store/users.js';
import { getMqttSecretHash } from './store/devices.js';
import { pruneProcessedMessages } from './store/alarms.js';
import { createTelemetryStore } from './store/telemetry/index.js';
import type { TelemetryQuery, TelemetryWriter } from './store/telemetry/types.js';
import { telemetryRoutes } from './http/telemetry.js';
import { brokerOptionsFromConfig, startBroker, type Broker } from './transports/mqtt-broker.js';
import { startMqttDevices } from './transports/mqtt-devices.js';
import { SubscriberInterest } from './transports/mqtt-interest.js';
import { OverloadGuard } from './overload.js';
import { openFilesLimit } from './transports/fd-limit.js';
import { TcpTransport, type DeviceServer, type TcpHandlers } from './transports/tcp.js';
import { TcpWorkerPool } from './transports/tcp-workers.js';
import { cloneAlarm } from './transports/sessions.js';

/** descriptors kept for everything but in-process watch connections */
const WATCH_FD_RESERVE = 1000;
import { startReceivers, type AlarmReceivers } from './transports/receivers.js';
import { CommandService } from './commands.js';
import { commandRoutes } from './http/commands.js';
import { alarmRoutes } from './http/alarms.js';
import { agentRoutes, parseExtensions } from './http/agents.js';
import { wsRoutes } from './http/ws.js';
import { callRoutes } from './http/calls.js';
import { startTelephonyService, type TelephonyHandle } from './telephony-service.js';
import { dashboardRoutes } from './http/dashboard.js';
import { AgentStates } from './agent-states.js';
import { Presence } from './presence.js';
import { endOrphanCalls } from './store/calls.js';
import { AlarmActions } from './alarm-actions.js';
import { Escalator } from './escalator.js';
import { Journal } from './journal.js';
import { RuleEngine } from './rule-engine.js';
import { watchProtocol } from '../protocols/watch/index.js';

export interface App {
  cfg: Config;
  log: Logger;
  db: Db;
  databaseUrl: string;
  metrics: Metrics;
  health: Health;
  bus: Bus;
  registry: Registry;
  pipeline: Pipeline;
  telemetry: TelemetryWriter;
  telemetryQuery: TelemetryQuery;
  alarms: AlarmService;
  actions: AlarmActions;
  escalator: Escalator;
  agents: AgentStates;
  rules: RuleEngine;
  broker: Broker;
  watch: DeviceServer;
  /** sheds routine reports while the event loop lags (OVERLOAD_LAG_MS) */
  overload: OverloadGuard;
  /** alarm receivers on serial lines (RECEIVERS) */
  receivers: AlarmReceivers;
  commands: CommandService;
  http: FastifyInstance;
  httpPort: number;
  /** what listens where, and which parts are embedded or simulated */
  summary: string[];
  /** set when a first admin was created with a generated password */
  generatedAdminPassword?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

export async function startApp(cfg: Config, opts: StartOptions = {}): Promise<App> {
  const log = opts.logger ?? createLogger(cfg.logLevel);
  const stops: { name: string; fn: () => Promise<unknown> | unknown }[] = [];
  const summary: string[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      try {
        await s.fn();
      } catch (e) {
        log.error({ err: e, part: s.name }, 'error while stopping');
      }
    }
  };

  try {
    const metrics = createMetrics();
    const health = new Health();
    const bus = new Bus(log.child({ part: 'bus' }));

    // 1. PostgreSQL: external if DATABASE_URL is set, otherwise embedded in DATA_DIR.
    let databaseUrl = cfg.databaseUrl;
    if (!databaseUrl) {
      const pgDir = join(cfg.dataDir, 'pg');
      const emb = await startEmbeddedPg(pgDir, cfg.embeddedPgPort, (m) => log.debug({ part: 'embedded-pg' }, m));
      stops.push({ name: 'embedded-pg', fn: () => emb.stop() });
      databaseUrl = emb.url;
      summary.push(`PostgreSQL   embedded   127.0.0.1:${cfg.embeddedPgPort}  data in ${pgDir}`);
    } else {
      summary.push(`PostgreSQL   external   ${redactUrl(databaseUrl)}`);
    }
    const applied = await migrate(databaseUrl, (m) => log.debug({ part: 'migrate' }, m));
    if (applied.length) log.info({ applied }, 'migrations applied');
    const db = createPool(databaseUrl);
    stops.push({ name: 'pg-pool', fn: () => db.end() });
    health.register('database', async () => {
      try {
        await db.query('SELECT 1');
        return { state: 'up', mode: cfg.databaseUrl ? 'external' : 'embedded' };
      } catch (e) {
        return { state: 'down', detail: (e as Error).message };
      }
    });

    let generatedAdminPassword: string | undefined;
    if ((await countUsers(db)) === 0) {
      const password = cfg.adminPassword ?? randomBytes(9).toString('base64url');
      if (!cfg.adminPassword) generatedAdminPassword = password;
      await createUser(db, { username: 'admin', displayName: '管理员 Administrator', role: 'admin', passwordHash: await hashPassword(password) });
    }

    // 2. Telemetry: InfluxDB when INFLUX_URL is set, otherwise PostgreSQL. Never awaited: a down InfluxDB only buffers.
    const telemetryStore = createTelemetryStore(
      cfg,
      db,
      (writer) => ({
        onBatch: (result, _size, ms) => {
          metrics.telemetryBatches.inc({ writer, result });
          metrics.telemetryWriteSeconds.observe({ writer, result }, ms / 1000);
        },
        onDrop: (n) => metrics.telemetryDropped.inc({ writer }, n),
        onDepth: (n) => metrics.telemetryBuffer.set({ writer }, n),
      }),
      (m) => log.warn({ part: 'telemetry' }, m),
    );
    const telemetry = telemetryStore.writer;
    stops.push({ name: 'telemetry', fn: () => telemetry.close() });
    health.register(
      'telemetry',
      () => {
        const s = telemetry.stats();
        metrics.telemetryBuffer.set({ writer: telemetry.name }, s.buffered);
        return { state: s.failing ? 'degraded' : 'up', mode: telemetry.name, detail: `buffered ${s.buffered}, dropped ${s.dropped}${s.lastError ? `, last error: ${s.lastError.slice(0, 200)}` : ''}` };
      },
      false,
    );
    summary.push(`Telemetry    ${telemetryStore.describe}`);

    // 3. Embedded MQTT broker.
    const broker = await startBroker({
      ...brokerOptionsFromConfig(cfg),
      auth: { deviceSecretHash: (id) => getMqttSecretHash(db, id) },
      log: log.child({ part: 'mqtt' }),
      metrics,
    });
    stops.push({ name: 'mqtt', fn: () => broker.close() });
    const eventInterest = new SubscriberInterest(broker.aedes, 'anxin/devices/+/events');
    health.register('mqtt', () => ({ state: broker.aedes.closed ? 'down' : 'up', mode: 'embedded', detail: `${broker.aedes.connectedClients} clients` }));
    summary.push(`MQTT broker  embedded   ${cfg.mqttHost}:${broker.port}  (aedes)${broker.tlsPort ? `, TLS on ${broker.tlsPort}` : ''}`);

    // 4. Pipeline.
    const registry = new Registry(db);
    registry.onEvicted = (n) => metrics.unknownEvicted.inc(n);
    const lastSeen = new LastSeenWriter(db);
    stops.push({ name: 'last-seen', fn: () => lastSeen.close() });
    // Alarm engine: journal replay first, so nothing committed before a crash is lost or doubled.
    const journal = new Journal<never>(cfg.journalDir ?? join(cfg.dataDir, 'journal'));
    stops.push({ name: 'journal', fn: () => journal.close() });
    const rules = new RuleEngine(db, log.child({ part: 'rules' }), cfg.timezone);
    await rules.load();
    const alarms = new AlarmService(db, bus, metrics, journal as never, rules, log.child({ part: 'alarms' }));
    await alarms.replay();
    const presence = new Presence();
    const escalator = new Escalator(db, bus, metrics, log.child({ part: 'escalation' }), 1000, presence);
    alarms.onRaised = () => escalator.kick();
    escalator.start();
    stops.push({ name: 'escalator', fn: () => escalator.stop() });
    const agents = new AgentStates(db, bus, cfg.wrapUpS, log.child({ part: 'agents' }));
    agents.onReady = (ids) => void escalator.offer(ids).catch((e) => log.warn({ err: e }, 'offering waiting alarms failed'));
    agents.start();
    stops.push({ name: 'agent-states', fn: () => agents.stop() });
    const actions = new AlarmActions(db, bus, agents);
    let lastPrune = 0;
    let engineBusy = false;
    // Time-based rules (silent devices, inactivity, missed tests), journal retries, rule-state persistence.
    const engineTimer = setInterval(() => {
      // One pass at a time: the first pass over a large registry loads every elder's rules and can outlast 5 s.
      if (engineBusy) return;
      engineBusy = true;
      void (async () => {
        if (alarms.journalDepth > 0) await alarms.replay();
        for (const t of await rules.tick(new Date())) {
          const msg = { deviceId: t.identifier, protocol: t.protocol as never, kind: 'status' as const, receivedAt: new Date(), raw: `rules:${t.outcome.raise.map((r) => r.kind).join('+')}-${t.outcome.clear.join('+')}:${Date.now()}` };
          await alarms.commit(msg, { id: t.deviceId, identifier: t.identifier, elderId: t.elderId, protocol: t.protocol }, t.outcome.raise, t.outcome.clear);
        }
        await rules.persist();
        if (Date.now() - lastPrune > 3_600_000) {
          lastPrune = Date.now();
          await pruneProcessedMessages(db);
        }
      })()
        .catch((e) => log.warn({ err: e }, 'alarm engine tick failed; will retry'))
        .finally(() => (engineBusy = false));
    }, 5000);
    engineTimer.unref();
    stops.push({ name: 'engine-timer', fn: () => clearInterval(engineTimer) });
    stops.push({ name: 'rules-persist', fn: () => rules.persist(true).catch(() => undefined) });
    health.register('alarm_journal', () => ({ state: alarms.journalDepth > 0 ? 'degraded' : 'up', detail: `${alarms.journalDepth} alarm messages waiting for PostgreSQL` }));
    // Built before the pipeline so commands can find sessions; it starts listening in step 5.
    const watchOptions = {
      host: cfg.watchHost, port: cfg.watchPort, idleTimeoutS: cfg.watchIdleTimeoutS, maxConnections: cfg.watchMaxConnections, badFrameLimit: cfg.badFrameLimit,
      firstFrameTimeoutS: cfg.watchFirstFrameTimeoutS, partialFrameTimeoutS: cfg.watchPartialFrameTimeoutS, maxUnidentifiedPerAddress: cfg.watchMaxUnidentifiedPerAddress,
    };
    if (!cfg.watchWorkers) {
      // One descriptor per connection: past the open-files limit even the gateway's own PostgreSQL connections
      // fail (EMFILE). Keep a reserve for the database pool, MQTT, HTTP and files.
      const cap = openFilesLimit() - WATCH_FD_RESERVE;
      if (cap < watchOptions.maxConnections) {
        log.warn({ openFilesLimit: openFilesLimit(), watchMaxConnections: Math.max(1, cap) }, 'WATCH_MAX_CONNECTIONS lowered to fit the open-files limit; raise it (ulimit -n) or set WATCH_WORKERS');
        watchOptions.maxConnections = Math.max(1, cap);
      }
    }
    const watchHandlers: TcpHandlers = {
      handle: (msgs, remote) => pipeline.handle(msgs, remote),
      online: (device, conn) => {
        bus.emit('device.online', { device, protocol: 'watch' });
        void commands.flush(device, conn).catch((e) => log.error({ err: e }, 'sending queued commands failed'));
      },
      offline: (device) => bus.emit('device.offline', { device, protocol: 'watch' }),
      clone: (device, holder, suspect) => {
        const a = cloneAlarm(device, holder, suspect);
        void alarms.commit(a.msg, device, a.raise, []).catch((e) => log.error({ err: e }, 'device_clone_suspected not committed (journaled; retried)'));
      },
    };
    const watch: DeviceServer = cfg.watchWorkers
      ? new TcpWorkerPool(cfg.watchWorkers, watchOptions, watchHandlers, metrics, log.child({ part: 'watch' }), cfg.logLevel)
      : new TcpTransport(watchProtocol, watchOptions, watchHandlers, metrics, log.child({ part: 'watch' }));
    const commands = new CommandService(db, (id) => watch.sessions.get(id), bus, metrics, cfg.commandTtlS, { allowMonitor: cfg.allowMonitorCommand });
    const overload = new OverloadGuard({
      lagMs: cfg.overloadLagMs,
      holdMs: 2000,
      onChange: (shedding, lagMs) => {
        metrics.overload.set(shedding ? 1 : 0);
        if (shedding) log.warn({ lagMs: Math.round(lagMs) }, 'event loop lagging: shedding routine reports; alarms still go through');
        else log.info('load back to normal: routine reports handled again');
      },
    });
    overload.start();
    stops.push({ name: 'overload', fn: () => overload.stop() });
    const pipeline = new Pipeline({
      overload,
      commands,
      registry,
      telemetry,
      alarms,
      lastSeen,
      bus,
      metrics,
      log: log.child({ part: 'pipeline' }),
      unknownLogIntervalMs: cfg.unknownDeviceLogIntervalS * 1000,
      publisher: {
        // QoS 0 and no subscriber: nothing to build (bench: the JSON alone was ~6 µs a message at 10,000/s)
        publishDeviceEvent: (msg, device) => {
          if (!eventInterest.any) return;
          broker.publish(`anxin/devices/${device.identifier}/events`, JSON.stringify({ ...msg, device: device.id, elder: device.elderId }));
        },
      },
    });
    stops.push({ name: 'pipeline-drain', fn: () => pipeline.drain() });
    bus.on('alarm.changed', ({ alarm, action }) => broker.publish(`anxin/alarms/${alarm.id}`, JSON.stringify({ action, alarm })));

    // 5. Device transports.
    const mqttDevices = startMqttDevices({ cfg, broker, pipeline, registry, metrics, health, log: log.child({ part: 'mqtt-devices' }) });
    stops.push({ name: 'mqtt-devices', fn: () => mqttDevices.stop() });
    summary.push(...mqttDevices.summary);
    await watch.start();
    stops.push({ name: 'watch', fn: () => watch.stop() });
    health.register('watch', () => capacityHealth(watch));
    summary.push(`Watch TCP    ${cfg.watchHost}:${watch.port}  (3G/SG/CS/ZJ watches)`);
    // Alarm receivers on serial lines: a missing port is retried in the background, never fatal.
    const receivers = await startReceivers({ settings: cfg.receivers ?? [], pipeline, registry, alarms, metrics, health, log: log.child({ part: 'receivers' }) });
    stops.push({ name: 'receivers', fn: () => receivers.stop() });
    summary.push(...receivers.summary);

    // Telephony: ARI to a real Asterisk, or the built-in simulator (labelled as such), or off.
    const orphans = await endOrphanCalls(db, new Date());
    if (orphans) log.warn({ calls: orphans }, 'calls left live by the previous run marked lost (their flows ended with that process)');
    let telephonyHandle: TelephonyHandle | undefined;
    let telephonyError: string | undefined;
    try {
      telephonyHandle = await startTelephonyService({ cfg, db, bus, alarms, registry, agents, log: log.child({ part: 'telephony' }) });
    } catch (e) {
      // A wrong ARI password must be loud, but alarms keep popping without telephony.
      telephonyError = (e as Error).message;
      log.error({ err: e }, 'telephony did not start; alarms still work, calls do not');
    }
    if (telephonyHandle) stops.push({ name: 'telephony', fn: () => telephonyHandle!.stop() });
    health.register(
      'telephony',
      () => {
        if (cfg.telephony === 'off') return { state: 'disabled', mode: 'off' };
        if (!telephonyHandle) return { state: 'down', detail: `telephony_down: ${telephonyError ?? 'not started'}`, mode: cfg.telephony };
        const h = telephonyHandle.telephony.health();
        return h.state === 'up' ? { state: 'up', mode: telephonyHandle.mode } : { state: 'down', detail: `telephony_down: ${h.reason}`, mode: telephonyHandle.mode };
      },
      false,
    );
    summary.push(
      cfg.telephony === 'off'
        ? 'Telephony    off        (TELEPHONY=off: no calls)'
        : cfg.telephony === 'simulated'
          ? `Telephony    SIMULATED  ${telephonyHandle?.url ?? '(failed)'}  (built-in Asterisk simulator: no real phone calls)`
          : `Telephony    ARI        ${cfg.ariUrl}  app ${cfg.ariApp}`,
    );

    // 6. HTTP API.
    const http = await buildHttp({
      db, log, metrics, health, bus, sessionTtlH: cfg.sessionTtlH, opsToken: cfg.opsToken, loginPerMinute: cfg.loginRatePerMin,
      imageOrigins: tileOrigin(cfg.mapTileUrl),
      onDeviceChanged: (id) => registry.invalidate(id),
      onRulesChanged: (elderId) => rules.invalidateElder(elderId),
      plugins: [
        (app) => commandRoutes(app, { db, commands }),
        (app) => telemetryRoutes(app, { db, query: telemetryStore.query }),
        (app) => alarmRoutes(app, { db, actions, timezone: cfg.timezone }),
        (app) => agentRoutes(app, { db, agents, extensions: parseExtensions(cfg.agentExtensions) }),
        (app) => wsRoutes(app, { db, bus, presence }),
        (app) => callRoutes(app, { db, bus, telephony: () => telephonyHandle, areaCode: cfg.areaCode }),
        (app) => dashboardRoutes(app, { mapTileUrl: cfg.mapTileUrl, mapTileAttribution: cfg.mapTileAttribution, timezone: cfg.timezone, wrapUpS: cfg.wrapUpS }),
      ],
    });
    await http.listen({ host: cfg.httpHost, port: cfg.httpPort });
    stops.push({ name: 'http', fn: () => http.close() });
    const addr = http.server.address();
    const httpPort = typeof addr === 'object' && addr ? addr.port : cfg.httpPort;
    summary.push(`HTTP API     ${cfg.httpHost}:${httpPort}  (/healthz, /metrics, /docs; the dashboard at /)`);

    return {
      cfg, log, db, databaseUrl, metrics, health, bus, registry, pipeline, telemetry, telemetryQuery: telemetryStore.query, alarms, actions, agents, escalator, rules, broker, watch, overload, receivers, commands, http, httpPort, summary, generatedAdminPassword,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The map tile server's origin, for the dashboard's Content-Security-Policy img-src ({s} subdomains as a wildcard). */
export function tileOrigin(template?: string): string[] {
  const m = /^(https?:)\/\/([^/?#]+)/.exec(template ?? '');
  return m ? [`${m[1]}//${m[2]!.replace(/\{s\}/g, '*')}`] : [];
}

function redactUrl(u: string): string {
  try {
    const x = new URL(u);
    if (x.password) x.password = '***';
    return x.toString();
  } catch {
    return '(unparseable)';
  }
}
