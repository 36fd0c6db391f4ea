/**
 * HTTP to the gateway. The session lives in an HttpOnly cookie (anxin_session) that no script on the page can
 * read; the page holds only the session's CSRF token, in memory, and sends it as X-CSRF-Token on every request
 * that changes something. Nothing about the session is ever written to sessionStorage or localStorage (issue 15).
 */

/** A hint, not a secret: "this browser had a session", so a fresh page asks /api/auth/me (and does not 401 otherwise). */
const HINT_KEY = 'anxin.hasSession';
/** Where an older dashboard kept its bearer token: removed on load. */
const LEGACY_TOKEN_KEY = 'anxin.token';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** a 400's fields, as the API names them (`body/idNumber`) */
    readonly fields: readonly { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

let csrf: string | null = null;
/** whose session the page holds: the cookie is shared by every tab, and another tab may log in as someone else */
let sessionUserId: number | null = null;
let onUnauthenticated: () => void = () => undefined;

try {
  sessionStorage.removeItem(LEGACY_TOKEN_KEY);
  localStorage.removeItem(LEGACY_TOKEN_KEY);
} catch {
  /* storage may be off */
}

/** The CSRF token of the cookie session (from login or GET /api/auth/me) and its user; null when logged out. */
export function setCsrfToken(t: string | null, userId: number | null = null): void {
  csrf = t;
  sessionUserId = t ? userId : null;
  try {
    if (t) localStorage.setItem(HINT_KEY, '1');
    else localStorage.removeItem(HINT_KEY);
  } catch {
    /* storage may be off: a reload then shows the login */
  }
}

/** This browser had a cookie session (it may have ended since). */
export function mayHaveSession(): boolean {
  try {
    return localStorage.getItem(HINT_KEY) === '1';
  } catch {
    return true;
  }
}

/** Called on any 401 (but the login's own): the session ended (expired, revoked, logged out elsewhere). */
export function whenUnauthenticated(fn: () => void): void {
  onUnauthenticated = fn;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A file sent as it is (an import's .xlsx or .csv), not as JSON. */
export class RawBody {
  constructor(
    readonly blob: Blob,
    readonly type: string,
  ) {}
}

async function send(method: Method, path: string, body: unknown): Promise<{ res: Response; json: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = body instanceof RawBody ? body.type : 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : body instanceof RawBody ? body.blob : JSON.stringify(body) });
  } catch {
    throw new HttpError(0, 'network', 'network error');
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { res, json };
}

/** Asks the server for the session's CSRF token again (after a 403 csrf, e.g. a token from before a restart). */
async function refreshCsrf(): Promise<boolean> {
  const { res, json } = await send('GET', '/api/auth/me', undefined);
  const me = json as { csrfToken?: unknown; user?: { id?: unknown } } | undefined;
  if (!res.ok || typeof me?.csrfToken !== 'string') return false;
  // Another tab logged in as someone else since: this page's session is gone, not to be taken over.
  if (sessionUserId !== null && me.user?.id !== sessionUserId) {
    onUnauthenticated();
    return false;
  }
  csrf = me.csrfToken;
  return true;
}

export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let { res, json } = await send(method, path, body);
  if (res.status === 403 && method !== 'GET' && (json as { error?: string } | undefined)?.error === 'csrf' && (await refreshCsrf().catch(() => false))) {
    ({ res, json } = await send(method, path, body));
  }
  if (!res.ok) {
    const e = (json ?? {}) as { error?: string; message?: string; fields?: unknown };
    if (res.status === 401 && path !== '/api/auth/login') onUnauthenticated();
    const fields = Array.isArray(e.fields) ? e.fields.filter((f): f is { field: string; message: string } => typeof f?.field === 'string' && typeof f?.message === 'string') : [];
    throw new HttpError(res.status, e.error ?? `http_${res.status}`, e.message ?? res.statusText, fields);
  }
  return json as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);

/** The live stream: the browser sends the session cookie with the upgrade; no token in the URL. */
export function wsUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/api/ws`;
}
