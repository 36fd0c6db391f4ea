/**
 * Watch traffic into one process (one core), three ways, to put the decoder against its cost floor:
 * - floor:     a minimal Node TCP server that only frames: one pass over the bytes keeping the bracket depth
 *              (kept across reads), counting frames. Nothing is copied, un-escaped or parsed.
 * - decoder:   protocols/watch: WatchFramer + decodeWatch on every frame (what the gateway runs per frame).
 * - transport: gateway/transports/tcp.ts TcpTransport with the pipeline stubbed (answers ok at once), so
 *              the cost of the transport's per-frame promise chain, metrics and replies shows too.
 * Mode from BENCH_MODE. Reports frames counted and CPU over IPC.
 */
import { createServer, type Socket } from 'node:net';
import pino from 'pino';
import { createMetrics } from '../../gateway/metrics.js';
import type { Device } from '../../gateway/store/devices.js';
import { TcpTransport } from '../../gateway/transports/tcp.js';
import { watchProtocol } from '../../protocols/watch/index.js';
import { failed, ready, serve } from '../lib/child.js';

const mode = process.env.BENCH_MODE ?? 'floor';
let frames = 0;
let decoded = 0;
let errors = 0;

function floorConn(s: Socket): void {
  // bracket depth across reads, as a correct watch framer must keep (an SSID may carry raw brackets)
  let depth = 0;
  s.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0x5b) depth++;
      else if (b === 0x5d && depth > 0 && --depth === 0) frames++;
    }
  });
  s.on('error', () => undefined);
}

function decoderConn(s: Socket): void {
  const framer = watchProtocol.createFramer();
  s.on('data', (chunk: Buffer) => {
    for (const ev of framer.push(chunk)) {
      if ('error' in ev) {
        errors++;
        continue;
      }
      frames++;
      const out = watchProtocol.decode(ev.frame, { receivedAt: new Date() });
      if (out.ok) decoded += out.messages.length;
      else errors++;
    }
  });
  s.on('error', () => undefined);
}

async function main(): Promise<void> {
  let port: number;
  let close: () => Promise<void>;
  const metrics = createMetrics();
  if (mode === 'transport') {
    const device = { id: 1, identifier: 'x', protocol: 'watch', elderId: 1, state: 'active' } as unknown as Device;
    const t = new TcpTransport(
      watchProtocol,
      { host: '127.0.0.1', port: 0, idleTimeoutS: 600, maxConnections: 1000, badFrameLimit: 10 },
      {
        handle: async (msgs) => {
          decoded += msgs.length;
          return { ok: true, device: { ...device, identifier: msgs[0]!.deviceId } };
        },
      },
      metrics,
      pino({ level: 'silent' }),
    );
    await t.start();
    port = t.port;
    close = () => t.stop(100);
  } else {
    const server = createServer(mode === 'decoder' ? decoderConn : floorConn);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
    close = () => new Promise<void>((r) => server.close(() => r()));
  }
  serve(
    {
      stats: async () => {
        const c = process.cpuUsage();
        // the transport counts frames in its metric; floor and decoder count them here
        const f = mode === 'transport' ? (await metrics.frames.get()).values.reduce((a, v) => a + v.value, 0) : frames;
        return { frames: f, decoded, errors, cpuUs: c.user + c.system, rss: process.memoryUsage.rss() };
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
