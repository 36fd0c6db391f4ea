/**
 * Where the HTTP request being handled came from (issue 23, the audit log's "from where"). The HTTP server sets it
 * for each request (server.ts, an onRequest hook); audit() reads it, so no call site passes an address around. Work
 * that is not a request (devices, timers, the CLI) runs outside it and finds nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestSource {
  ip: string | null;
  userAgent: string | null;
  /** false once the answer is sent: a timer started by the request and firing later is not that request's action */
  open: boolean;
}

const storage = new AsyncLocalStorage<RequestSource>();

/** The source of a request arriving from `ip` with this user agent (both cut to the columns' bounds). */
export function requestSourceOf(ip: string | undefined, userAgent: string | undefined): RequestSource {
  return { ip: ip ? ip.slice(0, 64) : null, userAgent: userAgent ? userAgent.slice(0, 300) : null, open: true };
}

/** Runs `next` (the rest of the request's handling) in `src`; the server clears `open` when the answer is sent. */
export function runInSource(src: RequestSource, next: () => void): void {
  storage.run(src, next);
}

/** The source of the request being handled now, or undefined outside one (or after its answer went). */
export function requestSource(): RequestSource | undefined {
  const s = storage.getStore();
  return s?.open ? s : undefined;
}
