/**
 * Issue 20, 我的账号 and the users screen against the real gateway: changing one's own password (the current one
 * first; the other sessions end, REST and WebSocket, this one stays), signing out everywhere, an admin who cannot
 * lock themself out, and the last login time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { WsClient } from '../helpers/ws.js';

let app: App;
let admin: { authorization: string };
const PW = 'password-123';

const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const signIn = async (username: string, password = PW) => {
  const r = await inject('POST', '/api/auth/login', {}, { username, password });
  return { status: r.statusCode, token: r.json().token as string };
};
const alive = async (token: string) => (await inject('GET', '/api/auth/me', bearer(token))).statusCode === 200;
const closedWith = (c: WsClient) => new Promise<number>((r) => c.ws.on('close', (code) => r(code)));

async function newUser(username: string, role = 'agent'): Promise<number> {
  const u = await inject('POST', '/api/users', admin, { username, role, password: PW });
  expect(u.statusCode, u.body).toBe(201);
  return u.json().id;
}

beforeAll(async () => {
  app = await startTestApp({}, { LOGIN_RATE_PER_MIN: '1000' });
  admin = await login(app);
});
afterAll(async () => app?.stop());

describe('changing one’s own password', () => {
  it('needs the current password, follows the password rule, signs out the other sessions and keeps this one', async () => {
    await newUser('acct-pw');
    const here = (await signIn('acct-pw')).token;
    const there = (await signIn('acct-pw')).token;
    const ws = await WsClient.open(app.httpPort, there);
    await ws.waitFor((m) => m.type === 'snapshot');
    const wsClosed = closedWith(ws);

    const wrong = await inject('POST', '/api/auth/password', bearer(here), { current: 'not-my-password', next: 'new-password-456' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().fields).toEqual([{ field: 'body/current', message: expect.any(String) }]);
    const short = await inject('POST', '/api/auth/password', bearer(here), { current: PW, next: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().fields[0].field).toBe('body/next');
    expect((await inject('POST', '/api/auth/password', bearer(here), { current: PW, next: PW })).json().fields[0].field).toBe('body/next');
    // nothing changed yet: both sessions stand and the old password still works
    expect(await alive(there)).toBe(true);

    expect((await inject('POST', '/api/auth/password', bearer(here), { current: PW, next: 'new-password-456' })).statusCode).toBe(204);
    expect(await alive(here)).toBe(true);
    expect(await alive(there)).toBe(false);
    expect(await wsClosed).toBe(4401);
    expect((await signIn('acct-pw')).status).toBe(401);
    expect((await signIn('acct-pw', 'new-password-456')).status).toBe(200);

    const audit = await app.db.query(`SELECT action, detail FROM audit_log WHERE actor = $1 AND action LIKE 'password_change%' ORDER BY id`, [`user:${(await inject('GET', '/api/auth/me', bearer(here))).json().user.id}`]);
    expect(audit.rows.map((r) => r.action)).toEqual(['password_change_failed', 'password_change']);
    expect(audit.rows[1].detail).toMatchObject({ sessionsRevoked: 1 });
  });

  it('works for a cookie session, with its CSRF token', async () => {
    await newUser('acct-cookie', 'installer');
    const l = await inject('POST', '/api/auth/login', {}, { username: 'acct-cookie', password: PW, cookie: true });
    const cookie = `anxin_session=${l.cookies.find((c) => c.name === 'anxin_session')!.value}`;
    const body = { current: PW, next: 'cookie-password-789' };
    expect((await inject('POST', '/api/auth/password', { cookie }, body)).statusCode).toBe(403);
    expect((await inject('POST', '/api/auth/password', { cookie, 'x-csrf-token': l.json().csrfToken }, body)).statusCode).toBe(204);
    expect((await inject('GET', '/api/auth/me', { cookie })).statusCode).toBe(200);
  });
});

describe('signing out everywhere', () => {
  it('ends every session of the user, this one and its WebSocket included, and no one else’s', async () => {
    await newUser('acct-all');
    await newUser('acct-other');
    const [a, b] = [(await signIn('acct-all')).token, (await signIn('acct-all')).token];
    const other = (await signIn('acct-other')).token;
    const ws = await WsClient.open(app.httpPort, b);
    await ws.waitFor((m) => m.type === 'snapshot');
    const wsClosed = closedWith(ws);
    // a body with fields is refused (and signs no one out)
    expect((await inject('POST', '/api/auth/sign-out-everywhere', bearer(a), { all: true })).statusCode).toBe(400);
    expect(await alive(a)).toBe(true);
    const out = await inject('POST', '/api/auth/sign-out-everywhere', bearer(a));
    expect(out.statusCode).toBe(204);
    expect(await alive(a)).toBe(false);
    expect(await alive(b)).toBe(false);
    expect(await wsClosed).toBe(4401);
    expect(await alive(other)).toBe(true);
    expect((await app.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'sign_out_everywhere' AND detail->>'sessions' = '2'`)).rows[0].n).toBe(1);
    // the password still works: signing out is not a lock
    expect((await signIn('acct-all')).status).toBe(200);
  });

  it('clears a cookie session’s cookie', async () => {
    await newUser('acct-all-cookie');
    const l = await inject('POST', '/api/auth/login', {}, { username: 'acct-all-cookie', password: PW, cookie: true });
    const cookie = `anxin_session=${l.cookies.find((c) => c.name === 'anxin_session')!.value}`;
    const out = await inject('POST', '/api/auth/sign-out-everywhere', { cookie, 'x-csrf-token': l.json().csrfToken }, {});
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === 'anxin_session')?.value).toBe('');
    expect((await inject('GET', '/api/auth/me', { cookie })).statusCode).toBe(401);
  });
});

describe('an admin cannot lock themself out', () => {
  it('refuses to disable or demote oneself with 409 self_lockout, and allows it for another admin', async () => {
    const me = (await inject('GET', '/api/auth/me', admin)).json().user.id as number;
    for (const patch of [{ disabled: true }, { role: 'supervisor' }, { role: 'agent', displayName: '管理员' }]) {
      const r = await inject('PATCH', `/api/users/${me}`, admin, patch);
      expect(r.statusCode, JSON.stringify(patch)).toBe(409);
      expect(r.json().error).toBe('self_lockout');
    }
    expect((await inject('GET', '/api/auth/me', admin)).json().user).toMatchObject({ role: 'admin', disabled: false });
    // what does not lock out is allowed on oneself
    expect((await inject('PATCH', `/api/users/${me}`, admin, { displayName: '值班管理员', role: 'admin', disabled: false })).statusCode).toBe(200);
    expect((await inject('GET', '/api/auth/me', admin)).statusCode, 'an unchanged role signs no one out').toBe(200);
    const other = await newUser('acct-admin2', 'admin');
    expect((await inject('PATCH', `/api/users/${other}`, admin, { role: 'supervisor' })).statusCode).toBe(200);
    expect((await inject('PATCH', `/api/users/${other}`, admin, { disabled: true })).statusCode).toBe(200);
  });
});

describe('last login', () => {
  it('is null until the first login, then on /api/auth/me, the login answer and GET /api/users', async () => {
    const id = await newUser('acct-last');
    const row = async () => ((await inject('GET', '/api/users', admin)).json() as { id: number; lastLoginAt: string | null }[]).find((u) => u.id === id)!;
    expect((await row()).lastLoginAt).toBeNull();
    const before = Date.now();
    const l = await inject('POST', '/api/auth/login', {}, { username: 'acct-last', password: PW });
    const at = l.json().user.lastLoginAt as string;
    expect(Date.parse(at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(at)).toBeLessThanOrEqual(Date.now() + 1000);
    expect((await inject('GET', '/api/auth/me', bearer(l.json().token))).json().user.lastLoginAt).toBe(at);
    expect((await row()).lastLoginAt).toBe(at);
    // a failed login is not a login
    await inject('POST', '/api/auth/login', {}, { username: 'acct-last', password: 'wrong-password' });
    expect((await row()).lastLoginAt).toBe(at);
  });
});
