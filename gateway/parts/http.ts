/** Part 8: the HTTP API, /healthz, /metrics, /docs and the dashboard, with the feature plugins of the parts before. */
import { telephonyMoving } from '../http/holder-forward.js';
import { nodeIdOf, nodeUrlOf } from '../cluster/redis.js';
import { careRoutes } from '../http/care.js';
import type { CarePart } from './care.js';
import type { FastifyInstance } from 'fastify';
import { protocolModule } from '../../protocols/index.js';
import { activationRoutes } from '../http/activation.js';
import { agentRoutes, parseExtensions } from '../http/agents.js';
import { alarmRoutes } from '../http/alarms.js';
import { callControlRoutes } from '../http/call-controls.js';
import { callLogRoutes } from '../http/call-log.js';
import { callRoutes } from '../http/calls.js';
import { commandRoutes } from '../http/commands.js';
import { dashboardRoutes } from '../http/dashboard.js';
import { importRoutes } from '../http/import.js';
import { recordingRoutes } from '../http/recordings.js';
import { reportRoutes } from '../http/reports.js';
import { manualAlarmRoutes } from '../http/manual-alarm.js';
import { responderRoutes } from '../http/responder.js';
import { buildHttp } from '../http/server.js';
import { supervisorRoutes } from '../http/supervisor.js';
import { telemetryRoutes } from '../http/telemetry.js';
import { wsRoutes } from '../http/ws.js';
import type { Db } from '../store/db.js';
import type { DeviceOnline } from '../http/devices.js';
import type { AlarmsPart } from './alarms.js';
import type { BrokerPart } from './broker.js';
import type { ClusterPart } from './cluster.js';
import { Stops, type Part, type PartContext } from './part.js';
import type { PipelinePart } from './pipeline.js';
import type { TelemetryPart } from './telemetry.js';
import type { TelephonyPart } from './telephony.js';
import type { WorkOrdersPart } from './workorders.js';
import { mqttAuthRoutes } from '../http/mqtt-auth.js';

export interface HttpPart extends Part {
  http: FastifyInstance;
  httpPort: number;
}

export async function startHttpPart(
  { cfg, log, metrics, health, bus, summary }: PartContext,
  d: { db: Db; telemetry: TelemetryPart; alarms: AlarmsPart; pipeline: PipelinePart; telephony: TelephonyPart; broker?: BrokerPart; workOrders?: WorkOrdersPart; care?: CarePart; cluster?: ClusterPart },
): Promise<HttpPart> {
  const stops = new Stops(log);
  const { db } = d;
  const { actions, agents, presence, rules } = d.alarms;
  // One originate per agent at a time, shared by click-to-call and the dial pad (issue 19).
  const originating = new Map<number, string>();
  const deviceOnline = onlineLookup(d.pipeline, d.broker, d.cluster);
  // a request reaching a node that does not run telephony was forwarded (holder-forward.ts) or could not be
  const telephonyHere = () => {
    if (!d.telephony.leading()) throw telephonyMoving();
    return d.telephony.handle();
  };
  const http = await buildHttp({
    db, log, metrics, health, bus, timezone: cfg.timezone, workOrders: d.workOrders?.workOrders, sessionTtlH: cfg.sessionTtlH, opsToken: cfg.opsToken, loginPerMinute: cfg.loginRatePerMin,
    imageOrigins: tileOrigin(cfg.mapTileUrl),
    onDeviceChanged: (id) => d.pipeline.registry.invalidate(id),
    deviceKeys: d.pipeline.keys.vault,
    deviceOnline,
    forward: {
      nodeId: nodeIdOf(cfg),
      local: () => d.telephony.leading(),
      holder: () => {
        const m = d.cluster?.presence.members().find((x) => x.telephony && !x.self && x.url);
        return m ? { node: m.node, url: m.url! } : undefined;
      },
      log: log.child({ part: 'http' }),
    },
    onRulesChanged: (elderId) => rules.invalidateElder(elderId),
    plugins: [
      (app) => commandRoutes(app, { db, commands: d.pipeline.commands }),
      (app) => manualAlarmRoutes(app, { db, alarms: d.alarms.alarms }),
      ...(d.care ? [(app: FastifyInstance) => careRoutes(app, { db, care: d.care!.care, timezone: cfg.timezone })] : []),
      ...(d.workOrders ? [(app: FastifyInstance) => responderRoutes(app, { db, workOrders: d.workOrders!.workOrders, metrics })] : []),
      (app) => telemetryRoutes(app, { db, query: d.telemetry.query, timezone: cfg.timezone }),
      (app) => alarmRoutes(app, { db, actions, timezone: cfg.timezone }),
      (app) => agentRoutes(app, { db, agents, extensions: parseExtensions(cfg.agentExtensions) }),
      (app) => wsRoutes(app, { db, bus: d.cluster?.fanout.bus ?? bus, presence }),
      (app) => callRoutes(app, { db, bus, telephony: telephonyHere, areaCode: cfg.areaCode, originating }),
      (app) => callControlRoutes(app, { db, telephony: telephonyHere, areaCode: cfg.areaCode, originating }),
      (app) => supervisorRoutes(app, { db, telephony: telephonyHere, agents, actions }),
      (app) => recordingRoutes(app, { db, telephony: telephonyHere }),
      (app) => callLogRoutes(app, { db }),
      (app) => reportRoutes(app, { db, timezone: cfg.timezone }),
      (app) => activationRoutes(app, { db, online: deviceOnline, telemetry: d.telemetry.query }),
      (app) => importRoutes(app, { db, onDeviceChanged: (id) => d.pipeline.registry.invalidate(id) }),
      (app) => mqttAuthRoutes(app, { token: cfg.mqttAuthToken, book: d.broker?.book, bridgePrefix: cfg.zigbee2mqttPrefix, service: d.broker?.service, metrics, log: log.child({ part: 'mqtt-auth' }) }),
      (app) => dashboardRoutes(app, { mapTileUrl: cfg.mapTileUrl, mapTileAttribution: cfg.mapTileAttribution, timezone: cfg.timezone, wrapUpS: cfg.wrapUpS }),
    ],
  });
  await http.listen({ host: cfg.httpHost, port: cfg.httpPort });
  stops.add('http', () => http.close());
  const addr = http.server.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : cfg.httpPort;
  // where the other nodes forward call control to, in this node's heartbeats (issue 24)
  if (d.cluster) {
    d.cluster.presence.url = nodeUrlOf(cfg, httpPort);
    d.cluster.presence.beatNow();
  }
  summary.push(`HTTP API     ${cfg.httpHost}:${httpPort}  (/healthz, /metrics, /docs; the dashboard at /)`);
  return { http, httpPort, stop: () => stops.stop() };
}

/**
 * A live session: a TCP device's connection holding it (sessions.ts), or an MQTT device's login (its client id is
 * its identifier). Zigbee devices speak through their bridge, phones and Contact ID panels hold no session.
 */
export function onlineLookup(pipeline: Pick<PipelinePart, 'servers'>, broker?: BrokerPart, cluster?: Pick<ClusterPart, 'devices'>): DeviceOnline {
  return ({ identifier, protocol }) => {
    const m = protocolModule(protocol);
    // a TCP session may be held by another node of the cluster (issue 24)
    if (m?.transport === 'tcp') return (pipeline.servers.get(protocol)?.sessions.has(identifier) ?? false) || (cluster?.devices?.onlineElsewhere(identifier) ?? false);
    if (m?.transport === 'mqtt' && m.deviceSecret) return broker?.deviceConnected(identifier) ?? false;
    return false;
  };
}

/** The map tile server's origin, for the dashboard's Content-Security-Policy img-src ({s} subdomains as a wildcard). */
export function tileOrigin(template?: string): string[] {
  const m = /^(https?:)\/\/([^/?#]+)/.exec(template ?? '');
  return m ? [`${m[1]}//${m[2]!.replace(/\{s\}/g, '*')}`] : [];
}
