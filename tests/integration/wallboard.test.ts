/**
 * The wallboard (大屏, issue 23) against the real gateway: its figures computed by hand from fixtures placed today
 * (between the centre's midnight and now), masked names and no phone, ID number or address in the answer; the
 * wallboard role reads its board and changes nothing (REST and WebSocket); its session slides past SESSION_TTL_H
 * while in use and still ends when the admin disables the account or resets its password.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startOfDay } from '../../gateway/http/alarms.js';
import { maskName } from '../../gateway/http/wallboard.js';
import { tokenHash } from '../../gateway/store/users.js';
import { login, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { migrate } from '../../gateway/store/migrate.js';
import { WsClient } from '../helpers/ws.js';

let app: App;
type Who = { authorization: string };
let admin: Who;
let board: Who;
let a1: Who;
const id: Record<string, number> = {};
const PW = 'password-123';

const inject = (method: string, url: string, who: Who | Record<string, string>, payload?: object) =>
  app.http.inject({ method: method as 'GET', url, headers: who, ...(payload === undefined ? {} : { payload }) });
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
const tokenOf = (w: Who) => w.authorization.slice(7);

async function user(username: string, role: string): Promise<Who> {
  const r = await inject('POST', '/api/users', admin, { username, role, password: PW, displayName: username.toUpperCase() });
  expect(r.statusCode, r.body).toBe(201);
  id[username] = r.json().id;
  return login(app, username, PW);
}

let since: Date;
let base: Date;
const plus = (d: Date, s: number) => new Date(d.getTime() + s * 1000);

beforeAll(async () => {
  app = await startTestApp({}, { TZ_CENTRE: 'Asia/Shanghai', LOGIN_RATE_PER_MIN: '1000', SESSION_TTL_H: '12' });
  admin = await login(app);
  board = await user('wall', 'wallboard');
  a1 = await user('a1', 'agent');
  // signed in before the fixtures: an agent who holds an accepted alarm may not set 'ready'
  const signIn = await inject('POST', '/api/agents/me/sign-in', a1, { extension: '8001', state: 'ready' });
  expect(signIn.statusCode, signIn.body).toBe(200);
  // (not read from the board: it keeps homes and devices for 15 s, and the fixtures come next)
  since = startOfDay(new Date(), 'Asia/Shanghai');
  // Every "today" fixture between the centre's midnight and now, whatever the hour the test runs at.
  base = new Date(Math.max(since.getTime() + 1000, Date.now() - 50 * 60_000));

  const elder = async (k: string, name: string, area: string, lat: number | null, lon: number | null) => {
    id[k] = (
      await q(`INSERT INTO elders (name, area, lat, lon, phone, address, id_number) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, [
        name, area, lat, lon, `1390000${String(Object.keys(id).length).padStart(4, '0')}`, `长宁路 ${k} 号`, `11010119450106${String(Object.keys(id).length).padStart(4, '0')}`,
      ])
    )[0].id;
    await q(`INSERT INTO contacts (elder_id, position, name, relation, phone) VALUES ($1, 1, '孙强', '儿子', '13811112222')`, [id[k]]);
  };
  await elder('E1', '张秀兰', '幸福社区', 31.230416, 121.473701);
  await elder('E2', '王芳', '和平社区', 31.230101, 121.474149); // same ~100 m point as E1 once rounded
  await elder('E3', '李', '', null, null);
  await elder('E4', '赵大爷', '新华社区', 31.3004, 121.5001);

  const dev = async (k: string, lastSeenS: number | null, state = 'active') =>
    (id[k] = (await q(`INSERT INTO devices (identifier, protocol, last_seen, state) VALUES ($1, 'watch', $2, $3) RETURNING id`, [`imei-${k}`, lastSeenS === null ? null : new Date(Date.now() - lastSeenS * 1000), state]))[0].id);
  await dev('D1', 60); // heard a minute ago: online
  await dev('D2', 7200); // two hours ago: offline
  await dev('D3', 60, 'disabled'); // out of service: not counted at all

  const alarm = async (k: string, a: { kind: string; priority: number; first: Date; acceptS?: number; state: string; owner?: string; elder?: string; test?: boolean }) => {
    id[k] = (
      await q(
        `INSERT INTO alarms (kind, priority, state, first_at, last_at, accepted_at, owner_id, elder_id, test, source_key) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [a.kind, a.priority, a.state, a.first, a.acceptS === undefined ? null : plus(a.first, a.acceptS), a.owner ? id[a.owner] : null, a.elder ? id[a.elder] : null, a.test ?? false, `src-${k}`],
      )
    )[0].id;
  };
  await alarm('A1', { kind: 'sos', priority: 1, first: base, acceptS: 30, state: 'accepted', owner: 'a1', elder: 'E1' });
  await alarm('A2', { kind: 'fall', priority: 1, first: plus(base, 60), acceptS: 120, state: 'resolved', owner: 'a1', elder: 'E2' });
  await alarm('A3', { kind: 'sos', priority: 2, first: new Date(Date.now() - 100_000), state: 'raised', elder: 'E3' });
  await alarm('A4', { kind: 'sos', priority: 1, first: plus(base, 5), state: 'closed', elder: 'E1', test: true });
  await alarm('A5', { kind: 'low_battery', priority: 3, first: plus(since, -3600), state: 'raised', elder: 'E4' }); // yesterday, still open

  await q(`INSERT INTO calls (party, direction, created_at) VALUES ('unknown', 'inbound', now() - interval '20 seconds')`);
  await q(`INSERT INTO calls (party, direction, created_at, answered_at) VALUES ('unknown', 'inbound', now() - interval '2 minutes', now() - interval '1 minute')`);
}, 60_000);

afterAll(async () => app?.stop());

describe('GET /api/wallboard', () => {
  it('today’s KPIs as the supervisor’s stats count them, the queue, the last alarms, agents, devices and the density layer', async () => {
    const r = await inject('GET', '/api/wallboard', board);
    expect(r.statusCode, r.body).toBe(200);
    const b = r.json();
    // A1 within 60 s, A2 within 180 s only, A3 waiting 100 s (a miss for 60 s, undecided for 180 s); A4 a test, A5 yesterday.
    expect(b.kpi).toMatchObject({ total: 3, within60: 1, within180: 2, decided60: 3, decided180: 2, open: 3, waiting: 2, avgAnswerS: 75, callsWaiting: 1, target60: 0.975, target180: 0.99 });
    expect(b.kpi.rate60).toBeCloseTo(1 / 3, 6);
    expect(b.kpi.rate180).toBe(1);
    // The same figures as /api/alarms/stats (one computation, not two).
    const stats = (await inject('GET', '/api/alarms/stats', admin)).json();
    expect({ total: b.kpi.total, within60: b.kpi.within60, within180: b.kpi.within180, rate180: b.kpi.rate180 }).toEqual({ total: stats.total, within60: stats.within60, within180: stats.within180, rate180: stats.rate180 });

    expect(b.queue.map((a: { id: number }) => a.id)).toEqual([id.A1, id.A3, id.A5]);
    expect(b.queue[0]).toMatchObject({ kind: 'sos', priority: 1, state: 'accepted', elderName: '张*兰', area: '幸福社区', ownerName: 'A1', lat: 31.23, lon: 121.474 });
    expect(b.queue[1]).toMatchObject({ elderName: '李', lat: null, lon: null });
    expect(b.queue[2]).toMatchObject({ elderName: '赵*爷', lat: 31.3, lon: 121.5 });
    expect(b.latest.map((a: { id: number }) => a.id)).toEqual([id.A3, id.A2, id.A1]);
    expect(b.latest[1]).toMatchObject({ elderName: '王*', state: 'resolved' });

    expect(b.agents.counts).toEqual({ ready: 1 });
    expect(b.agents.list).toEqual([expect.objectContaining({ userId: id.a1, name: 'A1', state: 'ready' })]);
    expect(b.devices).toEqual({ online: 1, total: 2 });
    expect(b.elders).toEqual([
      { lat: 31.23, lon: 121.474, n: 2 },
      { lat: 31.3, lon: 121.5, n: 1 },
    ]);
  });

  it('carries no phone number, ID number, address, contact or full name', async () => {
    const text = (await inject('GET', '/api/wallboard', board)).body;
    for (const secret of ['1390000', '13811112222', '110101', '长宁路', '孙强', '张秀兰', '王芳', '赵大爷', 'phone', 'address', 'idNumber']) expect(text, secret).not.toContain(secret);
  });

  it('is for the wallboard, supervisors and admins: agents and installers get 403', async () => {
    const inst = await user('inst', 'installer');
    const sup = await user('sup', 'supervisor');
    expect((await inject('GET', '/api/wallboard', sup)).statusCode).toBe(200);
    expect((await inject('GET', '/api/wallboard', admin)).statusCode).toBe(200);
    expect((await inject('GET', '/api/wallboard', a1)).statusCode).toBe(403);
    expect((await inject('GET', '/api/wallboard', inst)).statusCode).toBe(403);
    expect((await inject('GET', '/api/wallboard', {})).statusCode).toBe(401);
  });
});

describe('the wallboard role reads and changes nothing else', () => {
  it('403 on writes and on every other read; its own session and board answer', async () => {
    const refused: [string, string, object?][] = [
      ['POST', `/api/alarms/${id.A3}/accept`, {}],
      ['POST', '/api/alarms', { kind: 'sos', elderId: id.E1 }],
      ['PATCH', `/api/elders/${id.E1}`, { name: 'x' }],
      ['POST', '/api/agents/me/sign-in', { extension: '8002' }],
      ['POST', '/api/agents/me/state', { state: 'ready' }],
      ['POST', '/api/auth/password', { current: PW, next: 'another-pass-1' }],
      ['POST', '/api/auth/sign-out-everywhere', {}],
      ['POST', '/api/users', { username: 'x1', role: 'admin', password: PW }],
      ['GET', '/api/alarms'],
      ['GET', `/api/alarms/${id.A1}`],
      ['GET', '/api/elders'],
      ['GET', `/api/elders/${id.E1}`],
      ['GET', `/api/elders/${id.E1}/contacts`],
      ['GET', '/api/devices'],
      ['GET', '/api/calls'],
      ['GET', '/api/agents'],
      ['GET', '/api/telemetry/last-positions'],
    ];
    for (const [method, url, body] of refused) expect((await inject(method, url, board, body)).statusCode, `${method} ${url}`).toBe(403);
    expect((await inject('GET', '/api/auth/me', board)).json().user).toMatchObject({ username: 'wall', role: 'wallboard' });
    // nothing changed
    expect((await q('SELECT state, owner_id FROM alarms WHERE id = $1', [id.A3]))[0]).toEqual({ state: 'raised', owner_id: null });
    expect((await q('SELECT count(*)::int AS n FROM agent_status WHERE user_id = $1', [id.wall]))[0].n).toBe(0);
  });

  it('its WebSocket gets nudges instead of rows and acts on no message', async () => {
    const ws = await WsClient.open(app.httpPort, tokenOf(board));
    await ws.waitFor((m) => m.type === 'hello');
    await ws.waitFor((m) => m.type === 'wallboard' && m.topic === 'resync');
    ws.ws.send(JSON.stringify({ type: 'accept', alarmId: id.A3 }));
    ws.ws.send(JSON.stringify({ type: 'state', state: 'ready' }));
    await ws.waitFor((m) => m.type === 'error');
    const before = ws.messages.length;
    // A change anywhere: the kiosk hears "alarm" with the row as the wall shows it (masked), never the alarm itself.
    expect((await inject('POST', `/api/alarms/${id.A3}/accept`, a1, {})).statusCode).toBe(200);
    const pushed = await ws.waitFor((m) => m.type === 'wallboard' && m.topic === 'alarm');
    const after = ws.messages.slice(before);
    expect(after.map((m) => m.type).filter((t) => t !== 'wallboard' && t !== 'pong')).toEqual([]);
    expect(ws.messages.some((m) => m.type === 'snapshot' || 'call' in m)).toBe(false);
    expect(ws.messages.filter((m) => 'alarm' in m).every((m) => m.type === 'wallboard')).toBe(true);
    const row = pushed.alarm as Record<string, unknown>;
    expect(Object.keys(row).sort()).toEqual(['area', 'elderName', 'firstAt', 'id', 'kind', 'lat', 'lon', 'ownerName', 'priority', 'state']);
    expect(row).toMatchObject({ id: id.A3, state: 'accepted' });
    const [{ name }] = await q(`SELECT e.name FROM alarms a JOIN elders e ON e.id = a.elder_id WHERE a.id = $1`, [id.A3]);
    expect(row.elderName).toBe(maskName(name)); // the same masking as GET /api/wallboard
    ws.close();
    // put A3 back as it was for the other tests
    await q(`UPDATE alarms SET state = 'raised', owner_id = NULL, accepted_at = NULL WHERE id = $1`, [id.A3]);
  });
});

describe('the kiosk session', () => {
  it('slides past SESSION_TTL_H while in use; an agent’s does not', async () => {
    const wall = await login(app, 'wall', PW);
    const agent = await login(app, 'a1', PW);
    const [w] = await q(`SELECT idle_ttl IS NOT NULL AS sliding FROM sessions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1`, [id.wall]);
    expect(w.sliding).toBe(true);
    // Both made two days ago (far past the 12 h TTL) and 30 s from their end.
    await q(`UPDATE sessions SET created_at = now() - interval '2 days', expires_at = now() + interval '30 seconds' WHERE user_id = ANY($1)`, [[id.wall, id.a1]]);
    expect((await inject('GET', '/api/wallboard', wall)).statusCode).toBe(200);
    expect((await inject('GET', '/api/auth/me', agent)).statusCode).toBe(200);
    const left = async (who: Who) => Number((await q(`SELECT extract(epoch FROM expires_at - now()) AS s FROM sessions WHERE token_hash = $1`, [tokenHash(tokenOf(who))]))[0].s);
    expect(await left(wall)).toBeGreaterThan(11.9 * 3600);
    expect(await left(agent)).toBeLessThan(31);
    expect(await left(board)).toBeLessThan(31); // the kiosk's other session, unused: not moved
    // Past its end the agent's session is over; the kiosk's, in use, is not.
    await q(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [id.a1]);
    expect((await inject('GET', '/api/auth/me', agent)).statusCode).toBe(401);
    expect((await inject('GET', '/api/wallboard', wall)).statusCode).toBe(200);
    // A kiosk left unused for the whole TTL ends like any session.
    await q(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [id.wall]);
    expect((await inject('GET', '/api/wallboard', wall)).statusCode).toBe(401);
    a1 = await login(app, 'a1', PW);
  });

  it('a cookie login keeps its cookie beyond the TTL (the server decides), and logout ends it', async () => {
    const l = await inject('POST', '/api/auth/login', {}, { username: 'wall', password: PW, cookie: true });
    expect(l.statusCode).toBe(200);
    const set = String(l.headers['set-cookie']);
    const expires = new Date(/Expires=([^;]+)/i.exec(set)![1]!).getTime();
    expect(expires - Date.now()).toBeGreaterThan(300 * 86400_000);
    const cookie = set.split(';')[0]!;
    expect((await inject('GET', '/api/wallboard', { cookie })).statusCode).toBe(200);
    expect((await inject('POST', '/api/auth/logout', { cookie, 'x-csrf-token': l.json().csrfToken })).statusCode).toBe(200);
    expect((await inject('GET', '/api/wallboard', { cookie })).statusCode).toBe(401);
    const audit = await q(`SELECT action FROM audit_log WHERE actor = $1 ORDER BY id`, [`user:${id.wall}`]);
    expect(audit.map((x) => x.action)).toEqual(expect.arrayContaining(['login', 'logout']));
  });

  for (const [why, patch] of [['disabling the account', { disabled: true }], ['a password reset', { password: 'new-password-456' }]] as const) {
    it(`${why} ends it at once, REST and WebSocket`, async () => {
      await inject('PATCH', `/api/users/${id.wall}`, admin, { disabled: false, password: PW });
      const wall = await login(app, 'wall', PW);
      const ws = await WsClient.open(app.httpPort, tokenOf(wall));
      await ws.waitFor((m) => m.type === 'hello');
      const closed = new Promise<number>((r) => ws.ws.on('close', (code) => r(code)));
      expect((await inject('PATCH', `/api/users/${id.wall}`, admin, patch)).statusCode).toBe(200);
      expect(await closed).toBe(4401);
      expect((await inject('GET', '/api/wallboard', wall)).statusCode).toBe(401);
    });
  }
});

describe('npm run admin -- add-user', () => {
  it('makes a wallboard account from the server’s shell, audited, that logs in and reads its board', async () => {
    const root = join(import.meta.dirname, '../..');
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), ['gateway/admin-cli.ts', 'add-user', 'wall-cli', '--role', 'wallboard', '--name', '二楼大屏', '--password-stdin'], {
      cwd: root, input: 'cli-password-1', env: { ...process.env, DATABASE_URL: app.databaseUrl }, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'],
    });
    expect(out).toContain('new user wall-cli (wallboard) created');
    const who = await login(app, 'wall-cli', 'cli-password-1');
    expect((await inject('GET', '/api/wallboard', who)).statusCode).toBe(200);
    expect((await inject('GET', '/api/elders', who)).statusCode).toBe(403);
    expect(await q(`SELECT actor, action FROM audit_log WHERE target = (SELECT 'user:' || id FROM users WHERE username = 'wall-cli') ORDER BY id`)).toEqual([
      { actor: 'cli:admin', action: 'user_create' },
      expect.objectContaining({ action: 'login' }),
    ]);
  });
});

describe('migration 0016', () => {
  it('down turns a wallboard account into a disabled agent (no access, references kept); up again restores the role', async () => {
    const url = await createTestDatabase('wbmig');
    await migrate(url);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`INSERT INTO users (username, role, password_hash) VALUES ('w', 'wallboard', 'x')`);
      const [up, down] = readFileSync(join(import.meta.dirname, '../../gateway/store/migrations/0016_wallboard_role.sql'), 'utf8').split('-- Down Migration');
      await c.query(down!);
      expect((await c.query(`SELECT role, disabled FROM users WHERE username = 'w'`)).rows).toEqual([{ role: 'agent', disabled: true }]);
      await expect(c.query(`INSERT INTO users (username, role, password_hash) VALUES ('w2', 'wallboard', 'x')`)).rejects.toThrow(/users_role_check/);
      await c.query(up!);
      await c.query(`INSERT INTO users (username, role, password_hash) VALUES ('w2', 'wallboard', 'x')`);
    } finally {
      await c.end();
    }
  });
});
