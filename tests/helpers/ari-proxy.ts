/**
 * A transparent HTTP + WebSocket proxy in front of the Asterisk simulator, for what the simulator will not do:
 * send an event frame of a type that is not in its api-docs (`inject`), or refuse the api-docs with 401 while
 * `/ari/asterisk/info` still answers (`apiDocsStatus`).
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

export interface AriProxy {
  url: string;
  /** Sends a raw text frame to every client event socket. */
  inject(frame: string): void;
  clients(): number;
  close(): Promise<void>;
}

export async function startAriProxy(target: string, o: { apiDocsStatus?: number } = {}): Promise<AriProxy> {
  const t = new URL(target);
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req: IncomingMessage, res) => {
    if (o.apiDocsStatus && req.url?.startsWith('/ari/api-docs/')) {
      req.resume();
      res.writeHead(o.apiDocsStatus, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'Authentication required' }));
      return;
    }
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const upstream = new WebSocket(`ws://${t.host}${req.url ?? '/'}`);
    upstream.once('error', () => socket.destroy());
    upstream.once('open', () => {
      wss.handleUpgrade(req, socket, head, (client) => {
        upstream.on('message', (data, isBinary) => client.send(isBinary ? data : String(data)));
        client.on('message', (data) => upstream.send(data));
        upstream.on('close', () => client.close());
        client.on('close', () => upstream.close());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    inject(frame) {
      for (const c of wss.clients) c.send(frame);
    },
    clients: () => wss.clients.size,
    async close() {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
