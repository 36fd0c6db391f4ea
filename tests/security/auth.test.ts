/**
 * Issue 15 against the real gateway: the role × endpoint matrix generated from the route table (a new route with no
 * expected roles fails here), revocation of REST and WebSocket sessions, cookie sessions with CSRF, security
 * headers, authentication before validation, 400 on text PostgreSQL cannot store, login throttling, extension
 * rules and what installers may read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { App } from '../../gateway/app.js';
import { passwordGate } from '../../gateway/passwords.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

const ROLES = ['agent', 'supervisor', 'installer', 'admin', 'wallboard'] as const;
type Role = (typeof ROLES)[number];
const STAFF: Role[] = ['agent', 'supervisor', 'admin'];
/** every logged-in user but the wallboard kiosk (issue 23), which may call only the routes that name it */
const ALL: Role[] = ['agent', 'supervisor', 'installer', 'admin'];
const WITH_KIOSK: Role[] = [...ALL, 'wallboard'];
const INSTALL: Role[] = ['installer', 'admin'];
const LEAD: Role[] = ['supervisor', 'admin'];
const ADMIN: Role[] = ['admin'];

/** Who may call each route. 'public' needs no login; 'ws' authenticates inside the WebSocket handshake. */
const EXPECTED: Record<string, Role[] | 'public' | 'ws'> = {
  'GET /healthz': 'public',
  'GET /metrics': 'public',
  // an external broker's authentication hook: MQTT_AUTH_TOKEN, not a user (tests/integration/mqtt-external.test.ts)
  'POST /api/mqtt/authn': 'public',
  'POST /api/mqtt/authz': 'public',
  'GET /api/config': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/auth/logout': WITH_KIOSK,
  'GET /api/auth/me': WITH_KIOSK,
  'POST /api/auth/password': ALL,
  'POST /api/auth/sign-out-everywhere': ALL,
  'POST /api/elders': ALL,
  'GET /api/elders': ALL,
  'GET /api/elders/:id': ALL,
  'PATCH /api/elders/:id': INSTALL,
  'DELETE /api/elders/:id': ADMIN,
  'GET /api/elders/:id/contacts': STAFF,
  'PUT /api/elders/:id/contacts': INSTALL,
  'GET /api/elders/:id/timeline': ALL,
  'PUT /api/elders/:id/photo': INSTALL,
  'GET /api/elders/:id/photo': ALL,
  'DELETE /api/elders/:id/photo': INSTALL,
  'GET /api/rules/schema': ['installer', 'supervisor', 'admin'],
  'POST /api/devices': INSTALL,
  'GET /api/devices': ALL,
  'GET /api/devices/unregistered': ALL,
  'GET /api/devices/:id': ALL,
  'POST /api/devices/:id/bind': INSTALL,
  'POST /api/devices/:id/unbind': INSTALL,
  'PATCH /api/devices/:id': INSTALL,
  'DELETE /api/devices/:id': ADMIN,
  'POST /api/devices/:id/commands': ALL,
  'GET /api/devices/:id/commands': ALL,
  'GET /api/devices/:id/commands/:commandId': ALL,
  'GET /api/protocols': ALL,
  'POST /api/devices/:id/activation': INSTALL,
  'GET /api/devices/:id/activation': INSTALL,
  'POST /api/devices/:id/activation/finish': INSTALL,
  'POST /api/devices/:id/activation/cancel': INSTALL,
  'GET /api/users': LEAD,
  'POST /api/users': ADMIN,
  'PATCH /api/users/:id': ADMIN,
  'GET /api/telemetry/last-positions': ALL,
  'GET /api/elders/:id/track': ALL,
  'GET /api/elders/:id/vitals': STAFF,
  'GET /api/elders/:id/vitals/series': STAFF,
  'GET /api/alarms': STAFF,
  'POST /api/alarms': STAFF,
  'GET /api/alarms/outcomes': STAFF,
  'GET /api/alarms/stats': STAFF,
  'GET /api/alarms/:id': STAFF,
  'POST /api/alarms/:id/accept': STAFF,
  'POST /api/alarms/:id/release': STAFF,
  'POST /api/alarms/:id/note': STAFF,
  'POST /api/alarms/:id/resolve': STAFF,
  'POST /api/alarms/:id/follow-up': STAFF,
  'POST /api/alarms/:id/close': STAFF,
  'POST /api/agents/me/sign-in': STAFF,
  'POST /api/agents/me/state': STAFF,
  'POST /api/agents/me/sign-out': STAFF,
  'GET /api/agents/me': STAFF,
  'GET /api/agents': LEAD,
  'GET /api/ws': 'ws',
  'POST /api/calls': STAFF,
  'POST /api/calls/:id/hangup': STAFF,
  'GET /api/calls': STAFF,
  'GET /api/calls/live': STAFF,
  'POST /api/calls/:id/hold': STAFF,
  'POST /api/calls/:id/unhold': STAFF,
  'POST /api/calls/:id/mute': STAFF,
  'POST /api/calls/:id/unmute': STAFF,
  'POST /api/calls/:id/dtmf': STAFF,
  'POST /api/calls/:id/transfer': STAFF,
  'POST /api/calls/:id/transfer/complete': STAFF,
  'POST /api/calls/:id/transfer/cancel': STAFF,
  'POST /api/calls/:id/conference': STAFF,
  'POST /api/calls/:id/conference/remove': STAFF,
  'POST /api/calls/dial-pad': STAFF,
  'POST /api/calls/:id/listen': LEAD,
  'POST /api/calls/:id/whisper': LEAD,
  'POST /api/calls/:id/barge': LEAD,
  'POST /api/calls/:id/supervision/:sessionId/mode': LEAD,
  'POST /api/calls/:id/supervision/:sessionId/end': LEAD,
  'POST /api/agents/:id/state': LEAD,
  'POST /api/alarms/:id/reassign': LEAD,
  'GET /api/calls/:id/recording': STAFF,
  'GET /api/call-log': STAFF,
  'GET /api/call-log/:id': STAFF,
  'GET /api/callbacks': STAFF,
  'GET /api/callbacks/:id/recording': STAFF,
  'POST /api/callbacks/:id/done': STAFF,
  'GET /api/import/template': INSTALL,
  'POST /api/import/dry-run': INSTALL,
  'POST /api/import': INSTALL,
  'GET /api/import/:jobId': INSTALL,
  'GET /api/export': INSTALL,
  'GET /api/sms': STAFF,
  // the responder's page: the one-time link is the credential (tests/integration/responder.test.ts)
  'GET /api/responder/:token': 'public',
  'POST /api/responder/:token/:step': 'public',
  // reports (issue 23): agents get only the agents report, their own row (403 for the others, inside the handler)
  'GET /api/reports/:report': STAFF,
  'GET /api/reports/:report/export': STAFF,
  // history (issue 23): alarms for the staff; the audit log for admins only
  'GET /api/history/alarms': STAFF,
  'GET /api/audit': ADMIN,
  // care programmes (issue 22)
  'GET /api/elders/:id/care-schedules': STAFF,
  'POST /api/elders/:id/care-schedules': LEAD,
  'PATCH /api/care-schedules/:id': LEAD,
  'DELETE /api/care-schedules/:id': LEAD,
  'GET /api/care/holidays': STAFF,
  'PUT /api/care/holidays': ADMIN,
  'GET /api/care/runs': STAFF,
  'GET /api/care/due': STAFF,
  'POST /api/care/tasks': STAFF,
  'POST /api/care/tasks/:id/done': STAFF,
  'GET /api/care/report': LEAD,
  'POST /api/work-orders': STAFF,
  'GET /api/work-orders': STAFF,
  'GET /api/work-orders/:id': STAFF,
  'GET /api/work-orders/:id/suggest': STAFF,
  'POST /api/work-orders/:id/dispatch': STAFF,
  'POST /api/work-orders/:id/accept': STAFF,
  'POST /api/work-orders/:id/arrive': STAFF,
  'POST /api/work-orders/:id/done': STAFF,
  'POST /api/work-orders/:id/reply': STAFF,
  'POST /api/work-orders/:id/follow-up': STAFF,
  'POST /api/work-orders/:id/archive': STAFF,
  'POST /api/work-orders/:id/cancel': STAFF,
  'POST /api/work-orders/:id/reassign': STAFF,
  'GET /api/stations': STAFF,
  'GET /api/stations/:id': STAFF,
  'POST /api/stations': ADMIN,
  'PATCH /api/stations/:id': ADMIN,
  'DELETE /api/stations/:id': ADMIN,
  'GET /api/staff': STAFF,
  'GET /api/staff/:id': STAFF,
  'POST /api/staff': ADMIN,
  'PATCH /api/staff/:id': ADMIN,
  'DELETE /api/staff/:id': ADMIN,
  'GET /api/staff/:id/rota': STAFF,
  // the wallboard (大屏, issue 23): its kiosk account, supervisors and admins
  'GET /api/wallboard': ['wallboard', 'supervisor', 'admin'],
  'PUT /api/staff/:id/rota': ADMIN,
};

let app: App;
const tokens = {} as Record<Role, string>;
const ids = {} as Record<Role, number>;
const PW = 'password-123';

const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
const auth = (role: Role) => ({ authorization: `Bearer ${tokens[role]}` });
const wsClose = (port: number, q: string, headers: Record<string, string> = {}) =>
  new Promise<{ code: number; reason: string }>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws${q}`, { headers });
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    ws.on('error', () => undefined);
  });

async function newUser(username: string, role: Role, extension?: string): Promise<{ id: number; token: string }> {
  const admin = { authorization: `Bearer ${tokens.admin}` };
  const u = await inject('POST', '/api/users', admin, { username, role, password: PW, ...(extension ? { extension } : {}) });
  expect(u.statusCode).toBe(201);
  const l = await inject('POST', '/api/auth/login', {}, { username, password: PW });
  return { id: u.json().id, token: l.json().token };
}

beforeAll(async () => {
  app = await startTestApp({}, { LOGIN_RATE_PER_MIN: '1000' });
  tokens.admin = (await login(app)).authorization.slice(7);
  ids.admin = (await inject('GET', '/api/auth/me', { authorization: `Bearer ${tokens.admin}` })).json().user.id;
  for (const role of ['agent', 'supervisor', 'installer', 'wallboard'] as const) {
    const u = await newUser(`m-${role}`, role);
    tokens[role] = u.token;
    ids[role] = u.id;
  }
});
afterAll(async () => app?.stop());

describe('role × endpoint matrix', () => {
  it('every route has an expected role set, and the route table says the same', () => {
    const table = app.http.routeTable.filter((r) => r.url.startsWith('/api') || r.url === '/metrics' || r.url === '/healthz');
    const missing = table.map((r) => `${r.method} ${r.url}`).filter((k) => !(k in EXPECTED));
    expect(missing, 'routes without an expected role in tests/security/auth.test.ts').toEqual([]);
    for (const r of table) {
      const want = EXPECTED[`${r.method} ${r.url}`]!;
      if (want === 'public' || want === 'ws') expect(r.roles, `${r.method} ${r.url}`).toBeUndefined();
      else expect([...(r.roles ?? [])].sort(), `${r.method} ${r.url}`).toEqual([...want].sort());
    }
  });

  it('each role gets 403 where it is not allowed, never 401/403 where it is, and the anonymous caller 401 before any validation', async () => {
    const table = app.http.routeTable.filter((r) => r.url.startsWith('/api') && r.url !== '/api/ws' && r.url !== '/api/auth/logout');
    let checked = 0;
    for (const r of table) {
      const want = EXPECTED[`${r.method} ${r.url}`];
      if (want === 'public' || want === 'ws' || want === undefined) continue;
      const url = r.url.replace(':commandId', '1').replace(':id', '999999');
      // A body that fails validation: with auth first, the anonymous caller and the wrong role never see why.
      const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : { unknownField: 'x'.repeat(10) };
      const anon = await inject(r.method, url, {}, body);
      expect(anon.statusCode, `anonymous ${r.method} ${r.url}`).toBe(401);
      expect(anon.body).not.toMatch(/unknownField|must/);
      for (const role of ROLES) {
        if (role === 'admin' && r.method === 'DELETE') continue; // admin may; nothing to learn from deleting #999999
        const res = await inject(r.method, url, auth(role), body);
        if (want.includes(role)) expect([401, 403], `${role} ${r.method} ${r.url}: ${res.body}`).not.toContain(res.statusCode);
        else expect(res.statusCode, `${role} ${r.method} ${r.url}`).toBe(403);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('installers get no live alarm stream, no contacts and no medical notes', async () => {
    const admin = auth('admin');
    const e = await inject('POST', '/api/elders', admin, {
      name: '孙玉兰', phone: '13900001111', address: '长宁路 1 号', conditions: '高血压', medications: '氨氯地平', accessNotes: '钥匙在邻居家', idNumber: '110101194501062222',
      contacts: [{ name: '孙强', relation: '儿子', phone: '13900002222' }],
    });
    const id = e.json().id;
    const seen = (await inject('GET', `/api/elders/${id}`, auth('installer'))).json();
    expect(seen).toMatchObject({ name: '孙玉兰', phone: '13900001111', address: '长宁路 1 号' });
    for (const k of ['conditions', 'medications', 'accessNotes', 'idNumber', 'contacts']) expect(seen, k).not.toHaveProperty(k);
    const list = JSON.stringify((await inject('GET', '/api/elders', auth('installer'))).json());
    expect(list).not.toContain('高血压');
    expect((await wsClose(app.httpPort, `?token=${tokens.installer}`)).code).toBe(4403);
  });
});

describe('revocation revokes', () => {
  it('logout closes the session’s WebSocket with a clear code, and the token stops working', async () => {
    const u = await newUser('rv-logout', 'agent');
    const ws = await WsClient.open(app.httpPort, u.token);
    await ws.waitFor((m) => m.type === 'snapshot');
    const closed = new Promise<number>((r) => ws.ws.on('close', (code) => r(code)));
    expect((await inject('POST', '/api/auth/logout', { authorization: `Bearer ${u.token}` })).statusCode).toBe(200);
    expect(await closed).toBe(4401);
    expect((await inject('GET', '/api/alarms', { authorization: `Bearer ${u.token}` })).statusCode).toBe(401);
  });

  for (const [why, patch] of [['disabling the user', { disabled: true }], ['an admin password reset', { password: 'new-password-456' }], ['a role change', { role: 'installer' }]] as const) {
    it(`${why} ends every session of the user, REST and WebSocket`, async () => {
      const u = await newUser(`rv-${Object.keys(patch)[0]}`, 'agent');
      const second = (await inject('POST', '/api/auth/login', {}, { username: `rv-${Object.keys(patch)[0]}`, password: PW })).json().token as string;
      const a = await WsClient.open(app.httpPort, u.token);
      const b = await WsClient.open(app.httpPort, second);
      await a.waitFor((m) => m.type === 'snapshot');
      const codes = Promise.all([a, b].map((c) => new Promise<number>((r) => c.ws.on('close', (code) => r(code)))));
      expect((await inject('PATCH', `/api/users/${u.id}`, auth('admin'), patch)).statusCode).toBe(200);
      expect(await codes).toEqual([4401, 4401]);
      for (const t of [u.token, second]) expect((await inject('GET', '/api/auth/me', { authorization: `Bearer ${t}` })).statusCode).toBe(401);
      const audit = await app.db.query(`SELECT detail FROM audit_log WHERE action = 'sessions_revoked' AND target = $1`, [`user:${u.id}`]);
      expect(audit.rows[0].detail).toMatchObject({ sessions: 2 });
    });
  }

  it('a resync on a socket whose session was revoked elsewhere gets no snapshot', async () => {
    const u = await newUser('rv-resync', 'agent');
    const ws = await WsClient.open(app.httpPort, u.token);
    await ws.waitFor((m) => m.type === 'snapshot');
    // Revoked behind the gateway's back (another node, an operator in psql): no bus event reaches this node.
    await app.db.query('DELETE FROM sessions WHERE user_id = $1', [u.id]);
    const closed = new Promise<number>((r) => ws.ws.on('close', (code) => r(code)));
    ws.ws.send(JSON.stringify({ type: 'resync' }));
    expect(await closed).toBe(4401);
    expect(ws.messages.filter((m) => m.type === 'snapshot')).toHaveLength(1);
  });
});

describe('cookie sessions', () => {
  it('an HttpOnly SameSite=Strict cookie, no token in the body, CSRF required on changes, the WebSocket by cookie', async () => {
    await newUser('ck-agent', 'agent');
    const l = await inject('POST', '/api/auth/login', {}, { username: 'ck-agent', password: PW, cookie: true });
    expect(l.statusCode).toBe(200);
    expect(l.json()).not.toHaveProperty('token');
    const csrf = l.json().csrfToken as string;
    const set = String(l.headers['set-cookie']);
    expect(set).toMatch(/^anxin_session=[^;]+;/);
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Strict/i);
    expect(set).not.toMatch(/Secure/); // plain HTTP here; Secure is set over TLS
    const cookie = set.split(';')[0]!;
    expect((await inject('GET', '/api/agents/me', { cookie })).statusCode).toBe(200);
    expect((await inject('GET', '/api/auth/me', { cookie })).json().csrfToken).toBe(csrf);
    const noCsrf = await inject('POST', '/api/agents/me/sign-in', { cookie }, { extension: '8301' });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error).toBe('csrf');
    expect((await inject('POST', '/api/agents/me/sign-in', { cookie, 'x-csrf-token': 'x'.repeat(43) }, { extension: '8301' })).statusCode).toBe(403);
    expect((await inject('POST', '/api/agents/me/sign-in', { cookie, 'x-csrf-token': csrf }, { extension: '8301' })).statusCode).toBe(200);
    // The WebSocket authenticates with the cookie (no token in the URL).
    const ws = new WebSocket(`ws://127.0.0.1:${app.httpPort}/api/ws`, { headers: { cookie } });
    const first = await new Promise<Record<string, unknown>>((r) => ws.once('message', (d) => r(JSON.parse(String(d)))));
    expect(first).toMatchObject({ type: 'hello' });
    ws.close();
    // A query token no longer authenticates REST (tokens in URLs end up in logs).
    const bearerToken = (await inject('POST', '/api/auth/login', {}, { username: 'ck-agent', password: PW })).json().token;
    expect((await inject('GET', `/api/agents/me?token=${bearerToken}`)).statusCode).toBe(401);
    const out = await inject('POST', '/api/auth/logout', { cookie, 'x-csrf-token': csrf });
    expect(String(out.headers['set-cookie'])).toMatch(/anxin_session=;/);
  });

  it('security headers: a strict CSP with no inline script, no framing, no referrer', async () => {
    const r = await inject('GET', '/api/config');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('bad text and floods', () => {
  it('a NUL byte or a lone surrogate answers 400 naming the field, not 500', async () => {
    for (const bad of ['a\u0000b', 'x\uD800y', '\uDC00']) {
      const r = await inject('POST', '/api/elders', auth('admin'), { name: bad });
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(r.json().fields[0].field).toBe('body/name');
      const p = await inject('PATCH', `/api/elders/1`, auth('admin'), { rules: { geofences: [{ id: 'home', name: bad, type: 'circle', lat: 31.2, lon: 121.4, radiusM: 300 }] } });
      expect(p.statusCode).toBe(400);
      expect(p.json().fields[0].field).toBe('body/rules/geofences/0/name');
    }
    // A valid surrogate pair (an emoji) is fine.
    expect((await inject('POST', '/api/elders', auth('admin'), { name: '王奶奶 👵' })).statusCode).toBe(201);
  });

  it('failed logins back off per username with Retry-After; an unknown user costs a hash like a known one', async () => {
    await newUser('bf-agent', 'agent');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await inject('POST', '/api/auth/login', {}, { username: 'bf-agent', password: `wrong-${i}` })).statusCode);
    expect(codes.slice(0, 3)).toEqual([401, 401, 401]);
    expect(codes.slice(3)).toContain(429);
    const limited = await inject('POST', '/api/auth/login', {}, { username: 'bf-agent', password: PW });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The right password still works once the wait is over.
    await until(async () => (await inject('POST', '/api/auth/login', {}, { username: 'bf-agent', password: PW })).statusCode === 200, 20_000);
    // An unknown username goes through the same password check as a known one (no timing oracle).
    const before = passwordGate.runs;
    expect((await inject('POST', '/api/auth/login', {}, { username: 'nobody-here', password: 'whatever-1' })).statusCode).toBe(401);
    expect(passwordGate.runs).toBe(before + 1);
  });
});

describe('extensions', () => {
  it('an agent signs in only to their own extension or a free one nobody else holds', async () => {
    const a = await newUser('ext-a', 'agent', '8401');
    const b = await newUser('ext-b', 'agent');
    const A = { authorization: `Bearer ${a.token}` };
    const B = { authorization: `Bearer ${b.token}` };
    expect((await inject('POST', '/api/agents/me/sign-in', B, { extension: '8401' })).json()).toMatchObject({ error: 'extension_assigned' });
    expect((await inject('POST', '/api/agents/me/sign-in', B, { extension: '99' })).json()).toMatchObject({ error: 'extension_not_allowed' });
    expect((await inject('POST', '/api/agents/me/sign-in', A, { extension: '8401' })).statusCode).toBe(200);
    expect((await inject('POST', '/api/agents/me/sign-in', B, { extension: '8402' })).statusCode).toBe(200);
    expect((await inject('POST', '/api/agents/me/sign-in', A, { extension: '8402' })).json()).toMatchObject({ error: 'extension_in_use' });
  });
});
