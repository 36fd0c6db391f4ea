/**
 * SIP digest (protocols/scaip/digest.ts) against RFC 2617 §3.5's worked example, and our stateless nonces:
 * made and checked with one key, refused with another or tampered, stale past their age.
 */
import { describe, expect, it } from 'vitest';
import { challenge, checkNonce, digestResponse, makeNonce, parseAuthorization, verifyDigest } from '../../../protocols/scaip/index.js';

// RFC 2617 §3.5
const RFC = {
  header: 'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  password: Buffer.from('Circle Of Life'),
};

describe('SIP digest', () => {
  it("computes and verifies RFC 2617's example", () => {
    const c = parseAuthorization(RFC.header)!;
    expect(c).toMatchObject({ username: 'Mufasa', realm: 'testrealm@host.com', qop: 'auth', nc: '00000001', cnonce: '0a4f113b' });
    expect(digestResponse({ username: 'Mufasa', realm: c.realm!, nonce: c.nonce!, uri: c.uri!, qop: 'auth', nc: c.nc!, cnonce: c.cnonce!, method: 'GET', password: RFC.password })).toBe('6629fae49393a05397450978507c4ef1');
    expect(verifyDigest(c, { method: 'GET', realm: 'testrealm@host.com', username: 'Mufasa', password: RFC.password })).toBe(true);
    expect(verifyDigest(c, { method: 'GET', realm: 'testrealm@host.com', username: 'Mufasa', password: Buffer.from('circle of life') })).toBe(false);
    expect(verifyDigest(c, { method: 'MESSAGE', realm: 'testrealm@host.com', username: 'Mufasa', password: RFC.password })).toBe(false);
    expect(verifyDigest(c, { method: 'GET', realm: 'testrealm@host.com', username: 'Simba', password: RFC.password })).toBe(false);
    expect(parseAuthorization('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')).toBeUndefined();
  });

  it('nonces: ours verify, another key or a changed one do not, and old ones are stale', () => {
    const key = Buffer.alloc(32, 7);
    const n = makeNonce(key, 1_000_000);
    expect(checkNonce(key, n, 1_000_000 + 1000, 60_000)).toEqual({ ok: true, stale: false });
    expect(checkNonce(key, n, 1_000_000 + 61_000, 60_000)).toEqual({ ok: true, stale: true });
    expect(checkNonce(Buffer.alloc(32, 8), n, 1_000_000, 60_000).ok).toBe(false);
    expect(checkNonce(key, n.replace(/^./, (c) => (c === 'f' ? 'e' : 'f')), 1_000_000, 60_000).ok).toBe(false);
    expect(checkNonce(key, 'garbage', 1_000_000, 60_000).ok).toBe(false);
    expect(challenge('anxin', n, true)).toBe(`Digest realm="anxin", nonce="${n}", algorithm=MD5, qop="auth", stale=true`);
  });
});
