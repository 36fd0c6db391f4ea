/** Part 8: the HTTP API, /healthz, /metrics, /docs and the dashboard, with the feature plugins of the parts before. */
import type { FastifyInstance } from 'fastify';
import { agentRoutes, parseExtensions } from '../http/agents.js';
import { alarmRoutes } from '../http/alarms.js';
import { callControlRoutes } from '../http/call-controls.js';
import { callLogRoutes } from '../http/call-log.js';
import { callRoutes } from '../http/calls.js';
import { commandRoutes } from '../http/commands.js';
import { dashboardRoutes } from '../http/dashboard.js';
import { importRoutes } from '../http/import.js';
import { recordingRoutes } from '../http/recordings.js';
import { buildHttp } from '../http/server.js';
import { supervisorRoutes } from '../http/supervisor.js';
import { telemetryRoutes } from '../http/telemetry.js';
import { wsRoutes } from '../http/ws.js';
import type { Db } from '../store/db.js';
import type { AlarmsPart } from './alarms.js';
import { Stops, type Part, type PartContext } from './part.js';
import type { PipelinePart } from './pipeline.js';
import type { TelemetryPart } from './telemetry.js';
import type { TelephonyPart } from './telephony.js';

export interface HttpPart extends Part {
  http: FastifyInstance;
  httpPort: number;
}

export async function startHttpPart(
  { cfg, log, metrics, health, bus, summary }: PartContext,
  d: { db: Db; telemetry: TelemetryPart; alarms: AlarmsPart; pipeline: PipelinePart; telephony: TelephonyPart },
): Promise<HttpPart> {
  const stops = new Stops(log);
  const { db } = d;
  const { actions, agents, presence, rules } = d.alarms;
  // One originate per agent at a time, shared by click-to-call and the dial pad (issue 19).
  const originating = new Map<number, string>();
  const http = await buildHttp({
    db, log, metrics, health, bus, sessionTtlH: cfg.sessionTtlH, opsToken: cfg.opsToken, loginPerMinute: cfg.loginRatePerMin,
    imageOrigins: tileOrigin(cfg.mapTileUrl),
    onDeviceChanged: (id) => d.pipeline.registry.invalidate(id),
    onRulesChanged: (elderId) => rules.invalidateElder(elderId),
    plugins: [
      (app) => commandRoutes(app, { db, commands: d.pipeline.commands }),
      (app) => telemetryRoutes(app, { db, query: d.telemetry.query }),
      (app) => alarmRoutes(app, { db, actions, timezone: cfg.timezone }),
      (app) => agentRoutes(app, { db, agents, extensions: parseExtensions(cfg.agentExtensions) }),
      (app) => wsRoutes(app, { db, bus, presence }),
      (app) => callRoutes(app, { db, bus, telephony: d.telephony.handle, areaCode: cfg.areaCode, originating }),
      (app) => callControlRoutes(app, { db, telephony: d.telephony.handle, areaCode: cfg.areaCode, originating }),
      (app) => supervisorRoutes(app, { db, telephony: d.telephony.handle, agents, actions }),
      (app) => recordingRoutes(app, { db, telephony: d.telephony.handle }),
      (app) => callLogRoutes(app, { db }),
      (app) => importRoutes(app, { db, onDeviceChanged: (id) => d.pipeline.registry.invalidate(id) }),
      (app) => dashboardRoutes(app, { mapTileUrl: cfg.mapTileUrl, mapTileAttribution: cfg.mapTileAttribution, timezone: cfg.timezone, wrapUpS: cfg.wrapUpS }),
    ],
  });
  await http.listen({ host: cfg.httpHost, port: cfg.httpPort });
  stops.add('http', () => http.close());
  const addr = http.server.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : cfg.httpPort;
  summary.push(`HTTP API     ${cfg.httpHost}:${httpPort}  (/healthz, /metrics, /docs; the dashboard at /)`);
  return { http, httpPort, stop: () => stops.stop() };
}

/** The map tile server's origin, for the dashboard's Content-Security-Policy img-src ({s} subdomains as a wildcard). */
export function tileOrigin(template?: string): string[] {
  const m = /^(https?:)\/\/([^/?#]+)/.exec(template ?? '');
  return m ? [`${m[1]}//${m[2]!.replace(/\{s\}/g, '*')}`] : [];
}
