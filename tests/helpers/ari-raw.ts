/**
 * Raw ARI helpers for tests: HTTP with fetch (or node:http when a Host header must be forced) and an
 * event WebSocket collector with `waitFor`.
 */
import { request } from 'node:http';
import WebSocket from 'ws';

export interface AriEvent {
  type: string;
  [k: string]: unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  channel?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  bridge?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  playback?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  peer?: any;
}

export interface HttpResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
  headers: Headers;
}

export interface AriHttpOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** 'basic' (default), 'apikey', 'none', or explicit [user, pass] for Basic. */
  auth?: 'basic' | 'apikey' | 'none' | [string, string];
}

export function makeAri(baseUrl: string, user = 'anxin', pass = 'anxin') {
  return async function ari(method: string, path: string, o: AriHttpOptions = {}): Promise<HttpResult> {
    const url = new URL(path.startsWith('/') ? path : `/ari/${path}`, baseUrl);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: 'application/json' };
    const auth = o.auth ?? 'basic';
    if (auth === 'basic') headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    else if (Array.isArray(auth)) headers.Authorization = `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`;
    else if (auth === 'apikey') url.searchParams.set('api_key', `${user}:${pass}`);
    let body: string | undefined;
    if (o.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
}

/** GET with a forced Host header (fetch does not let us set it). */
export function getWithHost(port: number, path: string, host: string, auth = 'anxin:anxin'): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { Host: host, Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data ? JSON.parse(data) : undefined }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export interface EventStream {
  ws: WebSocket;
  events: AriEvent[];
  /** Resolves with the first event (already received or future) matching `pred`. */
  waitFor(pred: (e: AriEvent) => boolean, timeoutMs?: number): Promise<AriEvent>;
  /** Events that concern channel `id` (channel, peer, or playback target). */
  forChannel(id: string): AriEvent[];
  close(): Promise<void>;
}

export function openEvents(baseUrl: string, app: string, o: { user?: string; pass?: string; subscribeAll?: boolean } = {}): Promise<EventStream> {
  const url = new URL('/ari/events', baseUrl.replace(/^http/, 'ws'));
  url.searchParams.set('app', app);
  url.searchParams.set('api_key', `${o.user ?? 'anxin'}:${o.pass ?? 'anxin'}`);
  if (o.subscribeAll) url.searchParams.set('subscribeAll', 'true');
  const ws = new WebSocket(url);
  const events: AriEvent[] = [];
  const waiters: { pred: (e: AriEvent) => boolean; resolve: (e: AriEvent) => void }[] = [];
  ws.on('message', (data) => {
    const e = JSON.parse(String(data)) as AriEvent;
    events.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  const stream: EventStream = {
    ws,
    events,
    waitFor(pred, timeoutMs = 5000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (e: AriEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching event within ${timeoutMs} ms; got: ${events.map((e) => e.type).join(', ')}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    forChannel(id) {
      return events.filter((e) => e.channel?.id === id || e.peer?.id === id || e.playback?.target_uri === `channel:${id}`);
    },
    close() {
      return new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      });
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(stream));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket refused: HTTP ${res.statusCode}`)));
  });
}

/** Short description for order assertions: `Dial:RINGING`, `ChannelStateChange:Up`, `ChannelDestroyed:17`. */
export function describeEvent(e: AriEvent): string {
  switch (e.type) {
    case 'Dial':
      return `Dial:${String(e.dialstatus)}`;
    case 'ChannelStateChange':
      return `ChannelStateChange:${String(e.channel?.state)}`;
    case 'ChannelDestroyed':
      return `ChannelDestroyed:${String(e.cause)}`;
    case 'ChannelHangupRequest':
      return `ChannelHangupRequest:${String(e.cause)}${e.soft ? ':soft' : ''}`;
    case 'ChannelDtmfReceived':
      return `ChannelDtmfReceived:${String(e.digit)}`;
    case 'ChannelVarset':
      return `ChannelVarset:${String(e.variable)}=${String(e.value)}`;
    case 'PlaybackStarted':
    case 'PlaybackContinuing':
    case 'PlaybackFinished':
      return `${e.type}:${String(e.playback?.state)}`;
    default:
      return e.type;
  }
}
