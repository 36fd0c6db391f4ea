/**
 * GT06 traffic into one process (one core): protocols/gt06's framer + decoder on every frame, as the gateway
 * runs it per frame, with the connection's device bound after its login the way the TCP transport binds it
 * (frames after login carry no identity, protocols.md §2.2). The counterpart of watch-server.ts `decoder` mode.
 * Reports frames counted and CPU over IPC.
 */
import { createServer, type Socket } from 'node:net';
import { gt06Protocol } from '../../protocols/gt06/index.js';
import type { DecodeContext } from '../../protocols/message.js';
import { failed, ready, serve } from '../lib/child.js';

let frames = 0;
let decoded = 0;
let errors = 0;

function decoderConn(s: Socket): void {
  const framer = gt06Protocol.createFramer!();
  let device: DecodeContext['device'];
  s.on('data', (chunk: Buffer) => {
    for (const ev of framer.push(chunk)) {
      if ('error' in ev) {
        errors++;
        continue;
      }
      frames++;
      const out = gt06Protocol.decode!(ev.frame, { receivedAt: new Date(), device });
      if (!out.ok) {
        errors++;
        continue;
      }
      decoded += out.messages.length;
      if (!device && out.messages[0]?.kind === 'login') device = { identifier: out.messages[0].deviceId, meta: {} };
    }
  });
  s.on('error', () => undefined);
}

async function main(): Promise<void> {
  const server = createServer(decoderConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  serve(
    {
      stats: async () => {
        const c = process.cpuUsage();
        return { frames, decoded, errors, cpuUs: c.user + c.system, rss: process.memoryUsage.rss() };
      },
    },
    () => new Promise<void>((r) => server.close(() => r())),
  );
  ready({ port: (server.address() as { port: number }).port });
}

main().catch((e) => {
  failed(e);
  setTimeout(() => process.exit(1), 100);
});
