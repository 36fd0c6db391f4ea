import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Bus } from '../bus.js';
import type { Db } from '../store/db.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { authRoutes, rolesOf } from './auth.js';
import type { KeyVault } from '../device-keys.js';
import { deviceRoutes, type DeviceOnline } from './devices.js';
import { elderRoutes } from './elders.js';
import { ruleRoutes } from './rules.js';
import { ApiError, installErrorHandler } from './errors.js';
import { protocolRoutes } from './protocols.js';
import { installTextGuard } from './text-guard.js';
import { userRoutes } from './users.js';
import { stationRoutes } from './stations.js';
import { workOrderRoutes } from './workorders.js';
import { smsRoutes } from './sms.js';
import { wallboardRoutes } from './wallboard.js';
import { historyRoutes } from './history.js';
import { holderForward, type HolderForward } from './holder-forward.js';
import { endSource, requestSourceOf, runInSource, type RequestSource } from '../request-context.js';

export interface HttpDeps {
  db: Db;
  log: Logger;
  metrics: Metrics;
  health: Health;
  sessionTtlH: number;
  bus?: Bus;
  /** extra origins the dashboard's images may come from (the map tile server) */
  imageOrigins?: string[];
  /** when set, /metrics and /docs need `Authorization: Bearer <opsToken>` */
  opsToken?: string;
  loginPerMinute?: number;
  onDeviceChanged: (identifier: string) => void;
  /** seals devices' symmetric keys (DC-09 AES keys) given at registration; without it such keys are refused */
  deviceKeys?: KeyVault;
  /** whether a device has a live TCP or MQTT session now (false when no transports run) */
  deviceOnline?: DeviceOnline;
  onRulesChanged?: (elderId: number) => void;
  /** the centre's time zone (rotas for dispatch suggestions); default Asia/Shanghai, the config's default */
  timezone?: string;
  /** the work-orders part's service, with its durable service-level timers */
  workOrders?: import('../workorders/work-order-service.js').WorkOrderService;
  /** Feature plugins added by later parts (alarms, commands, telephony, dashboard). */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** call control on a node that does not run telephony goes to the one that does (issue 24) */
  forward?: HolderForward;
}

/** Every route with the roles it admits (undefined = public): the security tests check each against a table. */
export interface RouteEntry {
  method: string;
  url: string;
  roles?: string[];
}
declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteEntry[];
  }
  interface FastifyReply {
    requestSource: RequestSource | null;
  }
}

export async function buildHttp(d: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: d.log.child({ part: 'http' }) as unknown as FastifyBaseLogger,
    // Request lines are off: URLs and bodies may carry elders' data; errors are logged in one place.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true } },
  });
  installErrorHandler(app, d.metrics);
  const table: RouteEntry[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') table.push({ method, url: r.url, roles: rolesOf(r.onRequest) });
  });
  await app.register(cookie);
  // Security headers (issue 15): scripts only from our own origin, never inline; no framing; no referrer to tile servers.
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...(d.imageOrigins ?? [])],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS only makes sense behind TLS, which a proxy in front decides.
    strictTransportSecurity: false,
  });
  await app.register(rateLimit, { global: false });
  installTextGuard(app);
  const opsGate = async (req: import('fastify').FastifyRequest) => {
    if (!d.opsToken) return;
    const h = req.headers.authorization ?? '';
    if (h !== `Bearer ${d.opsToken}`) throw new ApiError(401, 'unauthenticated', 'this needs the OPS_TOKEN as a bearer token');
  };
  // The audit log's "from where": each request runs in its source (req.ip: the socket's peer; no proxy is trusted).
  app.decorateReply('requestSource', null);
  app.addHook('onRequest', (req, reply, done) => {
    // A WebSocket's upgrade is never answered in the HTTP sense (no 'close' on its response) and changes nothing
    // (ws.ts: its messages are read-only), so it runs outside: the context would stay switched on for its life.
    if (req.headers.upgrade) return done();
    const src = (reply.requestSource = requestSourceOf(req.ip, req.headers['user-agent']));
    // 'close' comes after the answer went or when the client went away first (no onResponse then)
    reply.raw.once('close', () => endSource(src));
    runInSource(src, done);
  });
  app.addHook('onResponse', async (_req, reply) => endSource(reply.requestSource));
  app.addHook('onRequest', async (req) => {
    if (req.url === '/metrics' || req.url.startsWith('/docs')) await opsGate(req);
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Anxin 安心 API', version: '0.1.0', description: 'Device gateway and alarm hub for elder-care terminals' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { tags: ['ops'], summary: 'State of each part' } }, async (_req, reply) => {
    const h = await d.health.report();
    return reply.status(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'failing', ...(d.health.node ? { node: d.health.node } : {}), parts: h.parts });
  });
  app.get('/metrics', { schema: { tags: ['ops'], hide: true } }, async (_req, reply) => {
    reply.header('content-type', d.metrics.registry.contentType);
    return d.metrics.registry.metrics();
  });

  await app.register(authRoutes, { db: d.db, bus: d.bus, sessionTtlH: d.sessionTtlH, loginPerMinute: d.loginPerMinute });
  await app.register(elderRoutes, { db: d.db, onRulesChanged: d.onRulesChanged });
  await app.register(ruleRoutes, { db: d.db });
  await app.register(deviceRoutes, { db: d.db, onChanged: d.onDeviceChanged, online: d.deviceOnline, vault: d.deviceKeys });
  await app.register(protocolRoutes, { db: d.db });
  await app.register(userRoutes, { db: d.db, bus: d.bus });
  await app.register(smsRoutes, { db: d.db });
  await app.register(workOrderRoutes, { db: d.db, bus: d.bus, timezone: d.timezone, service: d.workOrders });
  await app.register(stationRoutes, { db: d.db });
  await app.register(wallboardRoutes, { db: d.db, timezone: d.timezone ?? 'Asia/Shanghai', online: d.deviceOnline });
  await app.register(historyRoutes, { db: d.db, timezone: d.timezone ?? 'Asia/Shanghai' });
  if (d.forward) app.addHook('preHandler', holderForward(d.forward));
  for (const p of d.plugins ?? []) await app.register(p);
  return app;
}
