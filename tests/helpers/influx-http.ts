/**
 * Small node:http servers for the InfluxDB tests.
 *
 * - captureServer: records every request (method, path, headers, body) and answers with a chosen status,
 *   to check the exact request contract of the writers.
 * - influx2Proxy: a TEST STAND-IN for the 2.x/3.x API in front of a real influxd 1.6, which does not serve
 *   /api/v2/write (it answers 404). It checks `Authorization: Token <token>`, maps
 *   /api/v2/write?bucket=&precision= to /write?db=<bucket>&precision= and passes /query?db= through, so the
 *   2.x writer's real HTTP requests land in a real server. It is not InfluxDB 2.x or 3.x: their own
 *   behaviour (DBRP mappings, 3.x's InfluxQL dialect) is not tested by it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface Captured {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

/** The request body as text; the 2.x client gzips bodies over 1000 bytes (Content-Encoding: gzip). */
async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

async function listen(s: Server): Promise<string> {
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const a = s.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

const close = (s: Server) => new Promise<void>((res) => s.close(() => res()));

export async function captureServer(): Promise<{ url: string; requests: Captured[]; status: { code: number }; close(): Promise<void> }> {
  const requests: Captured[] = [];
  const status = { code: 204 };
  const s = createServer(async (req, res) => {
    const body = await bodyOf(req);
    requests.push({ method: req.method ?? '', url: new URL(req.url ?? '/', 'http://x'), headers: req.headers, body });
    res.statusCode = status.code;
    res.end(status.code >= 300 ? JSON.stringify({ code: 'unavailable', message: 'test server says no' }) : undefined);
  });
  return { url: await listen(s), requests, status, close: () => close(s) };
}

export async function influx2Proxy(target: string, token: string): Promise<{ url: string; writes: Captured[]; close(): Promise<void> }> {
  const writes: Captured[] = [];
  const s = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = await bodyOf(req);
    if (req.headers.authorization !== `Token ${token}`) {
      res.statusCode = 401;
      res.end(JSON.stringify({ code: 'unauthorized', message: 'unauthorized access' }));
      return;
    }
    let upstream: URL;
    if (req.method === 'POST' && url.pathname === '/api/v2/write') {
      writes.push({ method: req.method, url, headers: req.headers, body });
      upstream = new URL('/write', target);
      upstream.search = new URLSearchParams({ db: url.searchParams.get('bucket') ?? '', precision: url.searchParams.get('precision') ?? 'ns' }).toString();
    } else if (url.pathname === '/query') {
      upstream = new URL(`/query${url.search}`, target);
    } else {
      res.statusCode = 404;
      res.end();
      return;
    }
    try {
      const r = await fetch(upstream, { method: req.method, body: req.method === 'POST' ? body : undefined });
      res.statusCode = r.status;
      res.end(await r.text());
    } catch {
      res.statusCode = 503;
      res.end(JSON.stringify({ code: 'unavailable', message: 'upstream influxd is down' }));
    }
  });
  return { url: await listen(s), writes, close: () => close(s) };
}

/** Runs one InfluxQL statement against a 1.x server (CREATE DATABASE, raw SELECT for checks). */
export async function influxql(url: string, q: string, db?: string): Promise<{ results: { series?: { tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[] }> {
  const u = new URL('/query', url);
  u.search = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) }).toString();
  const r = await fetch(u, { method: 'POST' });
  if (!r.ok) throw new Error(`influxql ${r.status}: ${await r.text()}`);
  return (await r.json()) as never;
}
