/**
 * HTTP plumbing shared by the ARI and control routes: parameters merged from the query string and a
 * form or JSON body (the body wins, ari.md §0.6), a small path router, and replies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './engine.ts';

const MAX_BODY = 1024 * 1024;

export class Params {
  /** Parsed body when it is an object (JSON object or form fields), else null. */
  readonly body: Record<string, unknown> | null;

  constructor(
    readonly query: URLSearchParams,
    /** Parsed body as sent (object, array, scalar) or null when empty. */
    readonly rawBody: unknown,
    readonly path: Record<string, string> = {},
  ) {
    this.body = rawBody && typeof rawBody === 'object' && !Array.isArray(rawBody) ? (rawBody as Record<string, unknown>) : null;
  }

  private raw(name: string): unknown {
    if (name in this.path) return this.path[name];
    if (this.body && Object.prototype.hasOwnProperty.call(this.body, name)) return this.body[name];
    return this.query.get(name) ?? undefined;
  }

  /** A scalar parameter as a string (arrays are joined with ','). */
  str(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v.map(String).join(',');
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  /** Integer like the generated ARI code (atoi: junk → 0). */
  int(name: string, def: number): number {
    const s = this.str(name);
    if (s === undefined || s === '') return def;
    const n = parseInt(s, 10);
    return Number.isNaN(n) ? 0 : n;
  }

  bool(name: string, def: boolean): boolean {
    const s = this.str(name);
    if (s === undefined) return def;
    return /^(true|yes|1|on)$/i.test(s);
  }

  /** Multi-valued parameter: comma-separated in the query, or a JSON array in the body. */
  list(name: string): string[] {
    const v = this.raw(name);
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v.map(String);
    return String(v).split(',');
  }

  /** The merged scalar parameters, for the originate log. */
  merged(): Record<string, string> {
    const out: Record<string, string> = Object.fromEntries(this.query.entries());
    for (const [k, v] of Object.entries(this.body ?? {})) {
      if (k === 'variables') continue;
      out[k] = Array.isArray(v) ? v.map(String).join(',') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
    }
    return { ...out, ...this.path };
  }
}

/** Reads and parses the body: JSON (an empty body is fine), or form-encoded. 400 on bad JSON. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return null;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text).entries());
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'Error parsing request body');
  }
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const noContent = (): Reply => ({ status: 204 });

export function errorReply(err: ApiError): Reply {
  return { status: err.status, body: { [err.key]: err.message } };
}

export function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { Server: 'Asterisk/20.7.0 (anxin-sim)', ...(reply.headers ?? {}) };
  if (Buffer.isBuffer(reply.body)) {
    // a stored recording's file (issue 19): raw bytes with the handler's Content-Type
    res.writeHead(reply.status, { ...headers, 'Content-Length': String(reply.body.length) });
    res.end(reply.body);
    return;
  }
  if (reply.status === 204 || reply.body === undefined) {
    res.writeHead(reply.status, { ...headers, 'Content-Length': '0' });
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export type Handler = (p: Params, req: IncomingMessage) => Reply;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

/** Literal segments win over `{wildcards}`, as in Asterisk's handler tree (`/channels/create` vs `/channels/{channelId}`). */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    this.routes.push({ method, segments: path.split('/').filter(Boolean), handler });
    return this;
  }

  private matchPath(route: Route, segs: string[]): Record<string, string> | null {
    if (route.segments.length !== segs.length) return null;
    const vars: Record<string, string> = {};
    for (let i = 0; i < segs.length; i++) {
      const r = route.segments[i] as string;
      const s = segs[i] as string;
      if (r.startsWith('{')) vars[r.slice(1, -1)] = s;
      else if (r !== s) return null;
    }
    return vars;
  }

  /** 'none' = no such path; 'method' = path exists with other methods (allow lists them). */
  resolve(method: string, segs: string[]): { handler: Handler; vars: Record<string, string> } | { miss: 'none' } | { miss: 'method'; allow: string[] } {
    const matches = this.routes
      .map((r) => ({ r, vars: this.matchPath(r, segs) }))
      .filter((m): m is { r: Route; vars: Record<string, string> } => m.vars !== null);
    if (!matches.length) return { miss: 'none' };
    // keep only the most literal path shape
    const literalness = (r: Route) => r.segments.filter((s) => !s.startsWith('{')).length;
    const best = Math.max(...matches.map((m) => literalness(m.r)));
    const top = matches.filter((m) => literalness(m.r) === best);
    const hit = top.find((m) => m.r.method === method);
    if (hit) return { handler: hit.r.handler, vars: hit.vars };
    return { miss: 'method', allow: [...new Set(top.map((m) => m.r.method))] };
  }
}
