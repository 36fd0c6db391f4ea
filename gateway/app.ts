/**
 * Composition root: starts every part in order and stops it in reverse (README "Start order"):
 * store (PostgreSQL, migrations) → telemetry → MQTT broker → alarms → pipeline → device transports → telephony → HTTP.
 * Each part lives in gateway/parts/ and returns its `stop`. Used by main.ts (the process) and by the integration
 * tests (in-process, random ports).
 */
import type { FastifyInstance } from 'fastify';
import type { AgentStates } from './alarms/agent-states.js';
import type { AlarmActions } from './alarms/alarm-actions.js';
import type { AlarmService } from './alarms/alarm-service.js';
import type { Escalator } from './alarms/escalator.js';
import type { RuleEngine } from './alarms/rule-engine.js';
import { Bus } from './bus.js';
import type { CommandService } from './commands.js';
import type { Config } from './config.js';
import { Health } from './health.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { OverloadGuard } from './overload.js';
import { startAlarms } from './parts/alarms.js';
import { startBrokerPart } from './parts/broker.js';
import { startCluster, type ClusterPart } from './parts/cluster.js';
import { startHttpPart } from './parts/http.js';
import { Stops, type PartContext } from './parts/part.js';
import { startPipeline } from './parts/pipeline.js';
import { startStore } from './parts/store.js';
import { startTelemetry } from './parts/telemetry.js';
import { startTelephony } from './parts/telephony.js';
import { startTransports } from './parts/transports.js';
import { startWorkOrders } from './parts/workorders.js';
import { startSms } from './parts/sms.js';
import { startCare } from './parts/care.js';
import { startReports } from './parts/reports.js';
import type { Pipeline } from './pipeline.js';
import type { Registry } from './registry.js';
import type { Db } from './store/db.js';
import type { TelemetryQuery, TelemetryWriter } from './store/telemetry/types.js';
import type { Broker } from './transports/mqtt-broker.js';
import type { ExternalBroker } from './transports/mqtt-external.js';
import type { Dc09Server } from './transports/dc09.js';
import type { AlarmReceivers } from './transports/receivers.js';
import type { ScaipServer } from './transports/scaip.js';
import type { DeviceServer } from './transports/tcp.js';

export { tileOrigin } from './parts/http.js';

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
  /** the embedded broker; reading it with MQTT_BROKER_URL set throws (there is none: see mqttExternal) */
  readonly broker: Broker;
  /** the external broker's client, when MQTT_BROKER_URL is set */
  mqttExternal?: ExternalBroker;
  /** the TCP server of each TCP protocol (protocols/index.ts), by name */
  servers: ReadonlyMap<string, DeviceServer>;
  /** the watch protocol's server */
  watch: DeviceServer;
  /** sheds routine reports while the event loop lags (OVERLOAD_LAG_MS) */
  overload: OverloadGuard;
  /** alarm receivers on serial lines (RECEIVERS) */
  receivers: AlarmReceivers;
  /** the SIA DC-09 receiver for IP alarm panels (DC09_TCP_PORT, DC09_UDP_PORT) */
  dc09: Dc09Server;
  /** the SCAIP receiver for social-alarm carephones (SCAIP_SIP_PORT) */
  scaip: ScaipServer;
  commands: CommandService;
  /** work orders (工单): the service the API uses, with its durable service-level timers */
  workOrders: import('./workorders/work-order-service.js').WorkOrderService;
  /** SMS (短信): the centre's rules over the configured transport */
  sms: import('./notify/sms-service.js').SmsService;
  /** care programmes: welfare calls, reminders, check-ins, care tasks */
  care: import('./care/care-service.js').CareService;
  /** this node in a cluster (issue 24): its id, the dashboards' fan-out, presence, the device registry */
  cluster: ClusterPart;
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
  const ctx: PartContext = { cfg, log, metrics: createMetrics(), health: new Health(), bus: new Bus(log.child({ part: 'bus' })), summary: [] };
  const parts = new Stops(log);
  const started = <P extends { stop(): Promise<void> }>(name: string, p: P): P => {
    parts.add(name, () => p.stop());
    return p;
  };
  return parts.starting(async () => {
    const store = started('store', await startStore(ctx));
    const { db } = store;
    started('reports', startReports(ctx, db));
    const telemetry = started('telemetry', startTelemetry(ctx, db));
    const broker = started('broker', await startBrokerPart(ctx, db));
    const cluster = started('cluster', await startCluster(ctx));
    const alarms = started('alarms', await startAlarms(ctx, db, { db: store.alarmDb, databaseUrl: store.databaseUrl }, cluster.presence));
    const pipeline = started('pipeline', startPipeline(ctx, { db, telemetry: telemetry.writer, alarms, broker }));
    const transports = started('transports', await startTransports(ctx, { pipeline, alarms, broker }));
    await cluster.attach(pipeline, broker);
    const telephony = started('telephony', await startTelephony(ctx, { db, alarms: alarms.alarms, registry: pipeline.registry, agents: alarms.agents, presence: cluster.presence, agentEvents: cluster.fanout.bus }));
    const workOrders = started('workorders', await startWorkOrders(ctx, db, store.databaseUrl));
    const sms = started('sms', await startSms(ctx, { db, jobs: workOrders.jobs, workOrders: workOrders.workOrders }));
    const care = started('care', await startCare(ctx, { db, jobs: workOrders.jobs, alarms: alarms.alarms, sms: sms.sms, telephony }));
    const http = started('http', await startHttpPart(ctx, { db, telemetry, alarms, pipeline, telephony, broker, workOrders, care, cluster }));
    sms.listening(http.httpPort);
    // Overload is judged from here on: the start-up's own stalls (route compilation) are not device traffic.
    pipeline.overload.start();
    return {
      cfg, log, db, databaseUrl: store.databaseUrl, metrics: ctx.metrics, health: ctx.health, bus: ctx.bus, summary: ctx.summary,
      registry: pipeline.registry, pipeline: pipeline.pipeline, overload: pipeline.overload, commands: pipeline.commands,
      telemetry: telemetry.writer, telemetryQuery: telemetry.query,
      alarms: alarms.alarms, actions: alarms.actions, agents: alarms.agents, escalator: alarms.escalator, rules: alarms.rules,
      get broker(): Broker {
        if (!broker.embedded) throw new Error('MQTT_BROKER_URL is set: there is no embedded broker (app.mqttExternal is the external one)');
        return broker.embedded;
      },
      mqttExternal: broker.external,
      servers: transports.servers, watch: transports.servers.get('watch')!, receivers: transports.receivers, dc09: transports.dc09, scaip: transports.scaip,
      workOrders: workOrders.workOrders, sms: sms.sms, care: care.care, cluster,
      http: http.http, httpPort: http.httpPort, generatedAdminPassword: store.generatedAdminPassword,
      stop: () => parts.stop(),
    };
  });
}
