/**
 * The HTTP server: /ari/… (auth, api-docs, REST, the event WebSocket) and /sim/… (control, no auth).
 * Asterisk's order (res_ari.c): authenticate (401), trailing slash (404), api-docs, then the handler tree
 * (404 "Resource not found", 405 "Invalid method").
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { getApiDoc } from './api-docs/index.ts';
import { ApiError } from './engine.ts';
import type { EventHub } from './events.ts';
import { errorReply, Params, readBody, send, type Reply, type Router } from './http.ts';
import type { RequestLogEntry } from './types.ts';

export interface ServerDeps {
  username: string;
  password: string;
  hub: EventHub;
  ari: Router;
  control: Router;
  requestLog: RequestLogEntry[];
  log?: (line: string) => void;
}

const AUTH_HEADERS = { 'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"' };
const REQUEST_LOG_MAX = 5000;

/** HTTP Basic if an Authorization header is present, otherwise `?api_key=user:pass` (res_ari.c authenticate_user). */
export function authenticated(req: IncomingMessage, url: URL, user: string, pass: string): boolean {
  const h = req.headers.authorization;
  if (h) {
    const m = /^Basic\s+(.+)$/i.exec(h);
    if (!m?.[1]) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i >= 0 && decoded.slice(0, i) === user && decoded.slice(i + 1) === pass;
  }
  const key = url.searchParams.get('api_key');
  if (key === null) return false;
  const i = key.indexOf(':');
  return i >= 0 && key.slice(0, i) === user && key.slice(i + 1) === pass;
}

function splitPath(rel: string): string[] {
  return rel
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

async function dispatch(router: Router, segs: string[], req: IncomingMessage, query: URLSearchParams): Promise<Reply> {
  const found = router.resolve(req.method ?? 'GET', segs);
  if ('miss' in found) {
    if (found.miss === 'none') return errorReply(new ApiError(404, 'Resource not found'));
    return { ...errorReply(new ApiError(405, 'Invalid method')), headers: { Allow: found.allow.join(',') } };
  }
  const body = await readBody(req);
  return found.handler(new Params(query, body, found.vars), req);
}

export function createSimServer(deps: ServerDeps): { server: Server; wss: WebSocketServer } {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('ari') ? 'ari' : false) });

  const handle = async (req: IncomingMessage): Promise<Reply> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/sim' || path.startsWith('/sim/')) return dispatch(deps.control, splitPath(path), req, url.searchParams);
    if (path !== '/ari' && !path.startsWith('/ari/')) return errorReply(new ApiError(404, 'Resource not found'));
    if (!authenticated(req, url, deps.username, deps.password)) {
      req.resume();
      return { ...errorReply(new ApiError(401, 'Authentication required')), headers: AUTH_HEADERS };
    }
    const rel = path.slice('/ari/'.length);
    if (rel.endsWith('/')) return errorReply(new ApiError(404, `ARI URLs do not end with a slash. Try /ari/${rel.slice(0, -1)}`));
    if (rel.startsWith('api-docs/')) {
      if (req.method !== 'GET') return { ...errorReply(new ApiError(405, 'Invalid method')), headers: { Allow: 'GET' } };
      const doc = getApiDoc(rel.slice('api-docs/'.length), req.headers.host);
      return doc ? { status: 200, body: doc } : errorReply(new ApiError(404, 'Resource not found'));
    }
    if (rel === 'events' && req.method === 'GET') return errorReply(new ApiError(400, 'WebSocket upgrade required'));
    return dispatch(deps.ari, splitPath(rel), req, url.searchParams);
  };

  const server = createServer((req, res) => {
    handle(req)
      .catch((err: unknown): Reply => {
        if (err instanceof ApiError) return errorReply(err);
        console.error('[asterisk-sim] handler failed:', err);
        return { status: 500, body: { message: 'Internal Server Error' } };
      })
      .then((reply) => {
        send(res, reply);
        const entry = { seq: deps.requestLog.length + 1, at: Date.now(), method: req.method ?? '', url: req.url ?? '', status: reply.status };
        deps.requestLog.push(entry);
        if (deps.requestLog.length > REQUEST_LOG_MAX) deps.requestLog.splice(0, deps.requestLog.length - REQUEST_LOG_MAX);
        deps.log?.(`${entry.method} ${entry.url.replace(/api_key=[^&]*/, 'api_key=***')} → ${reply.status}`);
      })
      .catch((err: unknown) => console.error('[asterisk-sim] reply failed:', err));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, text: string, message: string, extra = '') => {
      const body = JSON.stringify({ message });
      socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (url.pathname !== '/ari/events') return refuse(404, 'Not Found', 'Resource not found');
    if (!authenticated(req, url, deps.username, deps.password)) {
      return refuse(401, 'Unauthorized', 'Authentication required', `WWW-Authenticate: ${AUTH_HEADERS['WWW-Authenticate']}\r\n`);
    }
    const apps = url.searchParams.getAll('app').flatMap((a) => a.split(',')).filter(Boolean);
    if (!apps.length) return refuse(400, 'Bad Request', "Missing param 'app'");
    const subscribeAll = /^(true|yes|1)$/i.test(url.searchParams.get('subscribeAll') ?? '');
    wss.handleUpgrade(req, socket, head, (ws) => {
      deps.hub.attach(ws, apps, subscribeAll);
      deps.log?.(`WebSocket connected: app=${apps.join(',')}${subscribeAll ? ' subscribeAll' : ''}`);
    });
  });

  return { server, wss };
}
