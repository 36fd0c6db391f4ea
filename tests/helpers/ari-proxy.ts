/**
 * A transparent HTTP + WebSocket proxy in front of an ARI server (the Asterisk simulator or a real Asterisk), for
 * what the server will not do on its own:
 *   - send an event frame of a type that is not in its api-docs (`inject`);
 *   - refuse the api-docs with 401 while `/ari/asterisk/info` still answers (`apiDocsStatus`);
 *   - drop the event WebSockets while HTTP still works (`dropClients`, like Asterisk closing them);
 *   - be unreachable for a while (`cut` closes every connection and stops listening: connection refused, as
 *     with Asterisk stopped; `restore` listens again on the same port). A shared real Asterisk cannot be
 *     stopped by one test file, but a client behind this proxy cannot tell the difference;
 *   - play another media than the one asked for (`rewriteMedia`: e.g. one of Anxin's prompts becomes a sound
 *     the server does not have, as if the prompt were not installed).
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

export interface AriProxy {
  url: string;
  /** Sends a raw text frame to every client event socket. */
  inject(frame: string): void;
  clients(): number;
  /** Closes every client event WebSocket abruptly (HTTP goes on working). */
  dropClients(): void;
  /** Every connection closed, and no longer listening (connection refused) until `restore()`. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Media URIs of play requests (`?media=`) pass through this; undefined = unchanged. */
  rewriteMedia: ((media: string) => string) | undefined;
  /**
   * Sees every HTTP request before it is forwarded (it may wait, e.g. to hang a channel up first); a returned
   * reply is sent instead of forwarding (e.g. a 500 for one operation). undefined = forward everything.
   */
  intercept: ((req: { method: string; url: string }) => Promise<InterceptReply | undefined> | InterceptReply | undefined) | undefined;
  close(): Promise<void>;
}

export interface InterceptReply {
  status: number;
  body?: unknown;
}

const PLAY = /^\/ari\/channels\/[^/?]+\/play(\/[^/?]+)?(\?|$)/;

export async function startAriProxy(target: string, o: { apiDocsStatus?: number; rewriteMedia?: (media: string) => string } = {}): Promise<AriProxy> {
  const t = new URL(target);
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<Socket>();
  const upstreams = new Set<WebSocket>();
  const self: Pick<AriProxy, 'rewriteMedia' | 'intercept'> = { rewriteMedia: o.rewriteMedia, intercept: undefined };
  const rewrite = (url: string): string => {
    const fn = self.rewriteMedia;
    if (!fn || !PLAY.test(url)) return url;
    const u = new URL(url, 'http://proxy');
    const media = u.searchParams.getAll('media');
    if (!media.length) return url;
    u.searchParams.delete('media');
    // one query value may hold a comma-separated list
    for (const m of media) u.searchParams.append('media', m.split(',').map(fn).join(','));
    return `${u.pathname}${u.search}`;
  };
  const server = createServer((req: IncomingMessage, res) => {
    if (o.apiDocsStatus && req.url?.startsWith('/ari/api-docs/')) {
      req.resume();
      res.writeHead(o.apiDocsStatus, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'Authentication required' }));
      return;
    }
    const hook = self.intercept;
    if (hook) {
      void Promise.resolve(hook({ method: req.method ?? 'GET', url: req.url ?? '/' })).then(
        (reply) => {
          if (!reply) return forward();
          req.resume();
          const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
          res.writeHead(reply.status, body ? { 'Content-Type': 'application/json' } : {});
          res.end(body);
        },
        () => forward(),
      );
      return;
    }
    forward();
    function forward(): void {
    const path = req.method === 'POST' ? rewrite(req.url ?? '/') : req.url;
    const up = request({ host: t.hostname, port: t.port, method: req.method, path, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const upstream = new WebSocket(`ws://${t.host}${req.url ?? '/'}`);
    upstreams.add(upstream);
    upstream.on('close', () => upstreams.delete(upstream));
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
  const listen = (p: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let listening = true;
  const stopListening = async () => {
    for (const c of wss.clients) c.terminate();
    for (const u of upstreams) u.terminate();
    server.closeAllConnections();
    for (const s of sockets) s.destroy();
    if (listening) {
      listening = false;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };
  return {
    url: `http://127.0.0.1:${port}`,
    inject(frame) {
      for (const c of wss.clients) c.send(frame);
    },
    clients: () => wss.clients.size,
    dropClients() {
      for (const c of wss.clients) c.terminate();
    },
    cut: stopListening,
    async restore() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    get rewriteMedia() {
      return self.rewriteMedia;
    },
    set rewriteMedia(fn) {
      self.rewriteMedia = fn;
    },
    get intercept() {
      return self.intercept;
    },
    set intercept(fn) {
      self.intercept = fn;
    },
    close: stopListening,
  };
}
