/**
 * SIP digest authentication (RFC 3261 §22.4, RFC 2617 §3.2.2, MD5, qop "auth" or none), as carephones answer a
 * 401: pure functions over header text. The nonce is stateless: a time and an HMAC of it under the receiver's
 * secret, so it needs no table and expires by itself.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
}

/** `Digest username="…", realm="…", …` → its parameters; undefined when it is not a digest header. */
export function parseAuthorization(value: string | undefined): Partial<DigestCredentials> | undefined {
  const m = value && /^\s*Digest\s+(.*)$/is.exec(value);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) out[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return out;
}

/** The `response` a client computes (§3.2.2.1); `password` as bytes (a sealed key opened). */
export function digestResponse(c: Omit<DigestCredentials, 'response'> & { method: string; password: Buffer | string }): string {
  const ha1 = md5(Buffer.concat([Buffer.from(`${c.username}:${c.realm}:`), Buffer.isBuffer(c.password) ? c.password : Buffer.from(c.password)]));
  const ha2 = md5(`${c.method}:${c.uri}`);
  return c.qop ? md5(`${ha1}:${c.nonce}:${c.nc ?? ''}:${c.cnonce ?? ''}:${c.qop}:${ha2}`) : md5(`${ha1}:${c.nonce}:${ha2}`);
}

/** A nonce for `now` (ms): `<time hex>.<HMAC>`. */
export function makeNonce(secret: Buffer, now: number): string {
  const t = now.toString(16);
  return `${t}.${createHmac('sha256', secret).update(t).digest('base64url').slice(0, 22)}`;
}

/** Whether the nonce is ours (`ok`), and whether it is older than `maxAgeMs` (`stale`: the client may simply retry). */
export function checkNonce(secret: Buffer, nonce: string, now: number, maxAgeMs: number): { ok: boolean; stale: boolean } {
  const [t, mac] = nonce.split('.');
  if (!t || !mac || !/^[0-9a-f]{1,13}$/.test(t)) return { ok: false, stale: false };
  const want = Buffer.from(makeNonce(secret, parseInt(t, 16)).split('.')[1]!);
  const got = Buffer.from(mac);
  const ok = want.length === got.length && timingSafeEqual(want, got);
  return { ok, stale: ok && now - parseInt(t, 16) > maxAgeMs };
}

/** The challenge header value of a 401. */
export function challenge(realm: string, nonce: string, stale = false): string {
  return `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
}

/** Checks a request's credentials against the password; `method` is the request's method. */
export function verifyDigest(c: Partial<DigestCredentials>, o: { method: string; realm: string; username: string; password: Buffer }): boolean {
  if (!c.response || !c.nonce || !c.uri || c.username !== o.username || c.realm !== o.realm) return false;
  if (c.algorithm && c.algorithm.toUpperCase() !== 'MD5') return false;
  if (c.qop && c.qop !== 'auth') return false;
  const want = Buffer.from(digestResponse({ username: c.username, realm: c.realm, nonce: c.nonce, uri: c.uri, qop: c.qop, nc: c.nc, cnonce: c.cnonce, method: o.method, password: o.password }));
  const got = Buffer.from(c.response.toLowerCase());
  return want.length === got.length && timingSafeEqual(want, got);
}
