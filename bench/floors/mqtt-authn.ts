/**
 * Anxin's authentication hook for an external broker (gateway/http/mqtt-auth.ts) in its own process, for the
 * Mosquitto + Anxin baseline: Fastify with the hook's routes, every device's secret checked against BENCH_MQTT_HASH
 * (the database is not part of this measurement, as in broker.ts). BENCH_MQTT_TOKEN is the bearer token.
 */
import Fastify from 'fastify';
import pino from 'pino';
import { installErrorHandler } from '../../gateway/http/errors.js';
import { mqttAuthRoutes } from '../../gateway/http/mqtt-auth.js';
import { createMetrics } from '../../gateway/metrics.js';
import { failed, ready, serve } from '../lib/child.js';

async function main(): Promise<void> {
  const hash = process.env.BENCH_MQTT_HASH ?? '';
  const app = Fastify();
  installErrorHandler(app);
  let checks = 0;
  const book = {
    integrators: new Map<string, string>(),
    bridges: new Map<string, string>(),
    deviceSecretHash: async () => {
      checks++;
      return hash;
    },
  };
  await app.register((f) => mqttAuthRoutes(f, { token: process.env.BENCH_MQTT_TOKEN, book, bridgePrefix: 'zigbee2mqtt', metrics: createMetrics(), log: pino({ level: 'silent' }) }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  serve(
    {
      stats: () => {
        const c = process.cpuUsage();
        return { cpuUs: c.user + c.system, rss: process.memoryUsage.rss(), checks };
      },
    },
    () => app.close(),
  );
  ready({ port: typeof addr === 'object' && addr ? addr.port : 0 });
}

main().catch((e) => {
  failed(e);
  setTimeout(() => process.exit(1), 100);
});
