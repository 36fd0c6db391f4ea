import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Db } from '../store/db.js';
import type { Health } from '../health.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { authRoutes } from './auth.js';
import { deviceRoutes } from './devices.js';
import { elderRoutes } from './elders.js';
import { installErrorHandler } from './errors.js';
import { userRoutes } from './users.js';

export interface HttpDeps {
  db: Db;
  log: Logger;
  metrics: Metrics;
  health: Health;
  sessionTtlH: number;
  onDeviceChanged: (identifier: string) => void;
  onRulesChanged?: (elderId: number) => void;
  /** Feature plugins added by later parts (alarms, commands, telephony, dashboard). */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
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
    return reply.status(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'failing', parts: h.parts });
  });
  app.get('/metrics', { schema: { tags: ['ops'], hide: true } }, async (_req, reply) => {
    reply.header('content-type', d.metrics.registry.contentType);
    return d.metrics.registry.metrics();
  });

  await app.register(authRoutes, { db: d.db, sessionTtlH: d.sessionTtlH });
  await app.register(elderRoutes, { db: d.db, onRulesChanged: d.onRulesChanged });
  await app.register(deviceRoutes, { db: d.db, onChanged: d.onDeviceChanged });
  await app.register(userRoutes, { db: d.db });
  for (const p of d.plugins ?? []) await app.register(p);
  return app;
}
