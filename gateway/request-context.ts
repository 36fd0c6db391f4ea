/**
 * Where the HTTP request being handled came from (issue 23, the audit log's "from where"). The HTTP server sets it
 * for each request (server.ts, an onRequest hook, and ends it when the answer went); audit() reads it, so no call site passes an address around. Work
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
/**
 * Requests between runInSource and endSource. AsyncLocalStorage puts a hook on every promise the process makes
 * once it is used, device traffic's included (issue 25's profile at 10,000 messages/s: ~8 % of the gateway's CPU
 * went to those hooks, none of it for a request). So it is switched off whenever no request is being answered,
 * and on again by the next one: work set off by a request and still running after its answer finds no source
 * either way (`open` is false then).
 */
let inFlight = 0;

/** The source of a request arriving from `ip` with this user agent (both cut to the columns' bounds). */
export function requestSourceOf(ip: string | undefined, userAgent: string | undefined): RequestSource {
  return { ip: ip ? ip.slice(0, 64) : null, userAgent: userAgent ? userAgent.slice(0, 300) : null, open: true };
}

/** Runs `next` (the rest of the request's handling) in `src`; the server clears `open` when the answer is sent. */
export function runInSource(src: RequestSource, next: () => void): void {
  inFlight++;
  storage.run(src, next);
}

/** The answer to the request went (or the client went away): its source is closed, once. */
export function endSource(src: RequestSource | null | undefined): void {
  if (!src?.open) return;
  src.open = false;
  if (--inFlight === 0) storage.disable();
}

/** Whether the per-request context is switched on now (tests). */
export function sourceTracking(): boolean {
  return inFlight > 0;
}

/** The source of the request being handled now, or undefined outside one (or after its answer went). */
export function requestSource(): RequestSource | undefined {
  const s = storage.getStore();
  return s?.open ? s : undefined;
}
