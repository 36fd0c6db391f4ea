/**
 * An MQTT broker in its own process (one core) for the broker baselines. BENCH_BROKER:
 * - bare:  aedes with no hooks on a plain net server (the floor of the embedded broker);
 * - anxin: gateway/transports/mqtt-broker.ts startBroker: per-device secret check (HMAC-SHA-256), the ACL, the packet size
 *          guard and the connection limit, with the device uplink hook answering at once (the pipeline is not
 *          part of this measurement: it is the cost of our hooks).
 * BENCH_MQTT_HASH is the stored hash every device's secret is checked against (anxin only; gateway/device-secrets.ts).
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import pino from 'pino';
import { createMetrics } from '../../gateway/metrics.js';
import { startBroker } from '../../gateway/transports/mqtt-broker.js';
import { failed, ready, serve } from '../lib/child.js';

async function main(): Promise<void> {
  const kind = process.env.BENCH_BROKER ?? 'bare';
  let port: number;
  let close: () => Promise<void>;
  let uplinks = 0;
  if (kind === 'anxin') {
    const hash = process.env.BENCH_MQTT_HASH ?? '';
    const broker = await startBroker({
      host: '127.0.0.1',
      port: 0,
      integrators: new Map(),
      bridges: new Map(),
      bridgePrefix: 'zigbee2mqtt',
      maxPacketBytes: 65536,
      bridgeMaxPacketBytes: 1 << 20,
      maxConnections: 100_000,
      keepaliveMaxS: 600,
      auth: { deviceSecretHash: async () => hash },
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
    });
    broker.hooks.device = async () => {
      uplinks++;
      return true;
    };
    port = broker.port;
    close = () => broker.close();
  } else {
    const aedes = await Aedes.createBroker();
    const server = createServer((s) => aedes.handle(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
    close = async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    };
  }
  serve(
    {
      stats: () => {
        const c = process.cpuUsage();
        return { cpuUs: c.user + c.system, rss: process.memoryUsage.rss(), uplinks };
      },
    },
    close,
  );
  ready({ port });
}

main().catch((e) => {
  failed(e);
  setTimeout(() => process.exit(1), 100);
});
