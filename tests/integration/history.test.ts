/**
 * History (issue 23): GET /api/history/alarms and the admins' audit log GET /api/audit against the real gateway,
 * with fixtures at explicit instants around midnight in Asia/Shanghai (UTC+8): an alarm at 2026-10-31T15:59:59Z is
 * 10-31 23:59:59 local, one at 16:00:00Z is 11-01 00:00 local. Each filter, keyset paging (rows sharing one instant
 * split across pages: none lost, none twice), the 400s and 403s, the audit log's address for an HTTP action and
 * none for a system one, hostile text stored and returned as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { audit } from '../../gateway/store/audit.js';
import { login, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

let app: App;
type Who = { authorization: string };
let admin: Who;
let sup: Who;
let agent: Who;
const id: Record<string, number> = {};
const HOSTILE = '<img src=x onerror=alert(1)>';

const get = async (url: string, who: Who = admin) => {
  const r = await app.http.inject({ method: 'GET', url, headers: who });
  return { status: r.statusCode, body: r.json() };
};
const ok = async (url: string, who: Who = admin) => {
  const r = await get(url, who);
  expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(200);
  return r.body;
};
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
const ids = (b: { items: { id: number }[] }) => b.items.map((x) => x.id);

async function user(username: string, role: string): Promise<Who> {
  const r = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username, role, password: 'password-123' } });
  expect(r.statusCode, r.body).toBe(201);
  id[username] = r.json().id;
  return login(app, username, 'password-123');
}

async function alarm(k: string, a: { kind: string; priority: number; first: string; elder?: string; device?: string; owner?: string; state?: string; outcome?: string; source?: string }) {
  id[k] = (
    await q(
      `INSERT INTO alarms (kind, priority, state, first_at, last_at, elder_id, device_id, owner_id, outcome, source_key) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [a.kind, a.priority, a.state ?? 'raised', new Date(a.first), a.elder ? id[a.elder] : null, a.device ? id[a.device] : null, a.owner ? id[a.owner] : null, a.outcome ?? null, a.source ?? null],
    )
  )[0].id;
}

beforeAll(async () => {
  app = await startTestApp({ databaseUrl: await createTestDatabase('history') }, { TZ_CENTRE: 'Asia/Shanghai', LOGIN_RATE_PER_MIN: '1000' });
  admin = await login(app);
  sup = await user('sup', 'supervisor');
  agent = await user('a1', 'agent');
  await user('a2', 'agent');
  for (const [k, name, area] of [['E1', '王秀英', '幸福社区'], ['E2', HOSTILE, '和平社区']] as const) {
    id[k] = (await q(`INSERT INTO elders (name, area) VALUES ($1, $2) RETURNING id`, [name, area]))[0].id;
  }
  for (const [k, elder] of [['D1', 'E1'], ['D2', 'E2']] as const) {
    id[k] = (await q(`INSERT INTO devices (identifier, protocol, elder_id, state) VALUES ($1, 'watch', $2, 'active') RETURNING id`, [`imei-${k}`, id[elder]]))[0].id;
  }
  await alarm('late', { kind: 'sos', priority: 1, first: '2026-10-31T15:59:59Z', elder: 'E1', device: 'D1', owner: 'a1', state: 'closed', outcome: 'elder_ok', source: 'imei-D1' }); // 10-31 23:59:59
  await alarm('midnight', { kind: 'fall', priority: 1, first: '2026-10-31T16:00:00Z', elder: 'E1', device: 'D1', owner: 'a2', state: 'resolved', outcome: 'ambulance_120', source: 'imei-D1' }); // 11-01 00:00
  await alarm('e2', { kind: 'sos', priority: 1, first: '2026-11-01T03:00:00Z', elder: 'E2', device: 'D2', source: 'imei-D2' }); // 11-01 11:00
  await alarm('lastNov', { kind: 'low_battery', priority: 4, first: '2026-11-30T15:59:59Z', elder: 'E2', device: 'D2', source: 'imei-D2', state: 'cleared' }); // 11-30 23:59:59
  await alarm('dec', { kind: 'low_battery', priority: 4, first: '2026-11-30T16:00:00Z', elder: 'E2', device: 'D2', source: 'imei-D2' }); // 12-01 00:00
  // 23 inactivity alarms on 11-10, ten of them at one instant: the pages split ties
  for (let i = 0; i < 23; i++) await alarm(`p${i}`, { kind: 'inactivity', priority: 3, first: i < 10 ? '2026-11-10T02:00:00Z' : `2026-11-10T0${3 + (i % 5)}:${String(i).padStart(2, '0')}:00.123456Z`, elder: 'E1', device: 'D1' });
});

afterAll(async () => {
  await app?.stop();
});

describe('alarm history', () => {
  it('ranges over local dates of the centre: midnight belongs to the day it starts', async () => {
    expect(ids(await ok('/api/history/alarms?from=2026-10-31&to=2026-10-31'))).toEqual([id.late]);
    const nov1 = await ok('/api/history/alarms?from=2026-11-01&to=2026-11-01');
    expect(ids(nov1)).toEqual([id.e2, id.midnight]);
    expect(nov1.from).toBe('2026-10-31T16:00:00.000Z');
    expect(nov1.to).toBe('2026-11-01T16:00:00.000Z');
    const nov = await ok('/api/history/alarms?from=2026-11-01&to=2026-11-30&limit=200');
    expect(nov.total).toBe(26);
    expect(ids(nov)).toContain(id.lastNov);
    expect(ids(nov)).not.toContain(id.dec);
    expect(ids(nov)).not.toContain(id.late);
    // exact instants: "to" excluded
    expect(ids(await ok('/api/history/alarms?from=2026-10-31T15:59:59Z&to=2026-10-31T16:00:00Z'))).toEqual([id.late]);
  });

  it('filters by elder, device, source, agent, kind, priority, state, outcome and area', async () => {
    const R = 'from=2026-10-01&to=2026-12-31&limit=200';
    const of = async (f: string) => ids(await ok(`/api/history/alarms?${R}&${f}`)).sort((a, b) => a - b);
    const sorted = (...xs: number[]) => xs.sort((a, b) => a - b);
    expect(await of(`elderId=${id.E2}`)).toEqual(sorted(id.e2!, id.lastNov!, id.dec!));
    expect(await of(`deviceId=${id.D2}`)).toEqual(sorted(id.e2!, id.lastNov!, id.dec!));
    expect(await of(`source=imei-D2`)).toEqual(sorted(id.e2!, id.lastNov!, id.dec!));
    expect(await of(`agentId=${id.a2}`)).toEqual([id.midnight]);
    expect(await of(`kind=sos`)).toEqual(sorted(id.late!, id.e2!));
    expect(await of(`priority=4`)).toEqual(sorted(id.lastNov!, id.dec!));
    expect(await of(`state=closed`)).toEqual([id.late]);
    expect(await of(`outcome=ambulance_120`)).toEqual([id.midnight]);
    expect(await of(`area=${encodeURIComponent('和平社区')}`)).toEqual(sorted(id.e2!, id.lastNov!, id.dec!));
    expect(await of(`elderId=${id.E1}&kind=sos&agentId=${id.a1}`)).toEqual([id.late]);
    const row = (await ok(`/api/history/alarms?${R}&state=closed`)).items[0];
    expect(row).toMatchObject({ kind: 'sos', elderName: '王秀英', area: '幸福社区', deviceIdentifier: 'imei-D1', agentId: id.a1, agentName: 'a1', outcome: 'elder_ok', firstAt: '2026-10-31T15:59:59.000Z' });
  });

  it('pages newest first: every row once, ties split across pages, the same total on each page', async () => {
    const R = 'from=2026-11-10&to=2026-11-10&limit=4';
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let last = Infinity;
    do {
      const b = await ok(`/api/history/alarms?${R}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(b.total).toBe(23);
      expect(b.items.length).toBeLessThanOrEqual(4);
      for (const x of b.items) {
        const t = Date.parse(x.firstAt);
        expect(t).toBeLessThanOrEqual(last);
        last = t;
      }
      seen.push(...ids(b));
      cursor = b.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(6);
    expect(new Set(seen).size).toBe(23);
    const all = (await q(`SELECT id FROM alarms WHERE kind = 'inactivity'`)).map((r) => Number(r.id));
    expect([...seen].sort((a, b) => a - b)).toEqual(all.sort((a, b) => a - b));
    // the ten at one instant come highest id first
    const tied = seen.slice(-10);
    expect(tied).toEqual([...tied].sort((a, b) => b - a));
  });

  it('is for the staff, with clear 400s', async () => {
    expect((await get('/api/history/alarms?from=2026-11-01&to=2026-11-01', agent)).status).toBe(200);
    expect((await get('/api/history/alarms?from=2026-11-01&to=2026-11-01', sup)).status).toBe(200);
    const bad = async (qs: string, field: string) => {
      const r = await get(`/api/history/alarms?${qs}`);
      expect(r.status, qs).toBe(400);
      expect(JSON.stringify(r.body), qs).toContain(field);
    };
    await bad('from=2026-11-02&to=2026-11-01', 'to');
    await bad('from=2025-01-01&to=2026-11-01', '366');
    await bad('from=2026-02-30', 'from');
    await bad('to=yesterday', 'to');
    await bad('elderId=abc', 'elderId');
    await bad('elderId=0', 'elderId');
    await bad('kind=nonsense', 'kind');
    await bad('cursor=12', 'cursor');
    await bad('limit=201', 'limit');
    await bad('color=red', 'color');
    // a full year is allowed
    expect((await get('/api/history/alarms?from=2025-11-01&to=2026-10-31')).status).toBe(200);
  });
});

describe('audit log', () => {
  it('records the address of an HTTP action and none for a system one', async () => {
    const r = await app.http.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '203.0.113.7', headers: { 'user-agent': 'TestBrowser/1.0' }, payload: { username: 'a1', password: 'password-123' } });
    expect(r.statusCode).toBe(200);
    await audit(app.db, 'system', 'history_test_system', 'alarm:1');
    const b = await ok(`/api/audit?username=a1&action=login`);
    const mine = b.items.find((x: { ip: string | null }) => x.ip === '203.0.113.7');
    expect(mine).toMatchObject({ actor: `user:${id.a1}`, userId: id.a1, username: 'a1', action: 'login', target: `user:${id.a1}`, userAgent: 'TestBrowser/1.0' });
    const sys = (await ok(`/api/audit?action=history_test_system`)).items;
    expect(sys).toHaveLength(1);
    expect(sys[0]).toMatchObject({ actor: 'system', ip: null, userAgent: null, userId: null });
    expect(ids(await ok(`/api/audit?ip=203.0.113.7`))).toEqual([mine.id]);
    // a system actor inside a request still has no address
    expect((await q(`SELECT count(*)::int AS n FROM audit_log WHERE actor = 'system' AND ip IS NOT NULL`))[0].n).toBe(0);
  });

  it('searches by range (local dates), actor, username, action prefix and target, newest first', async () => {
    const ins = (at: string, actor: string, action: string, target: string) => q(`INSERT INTO audit_log (at, actor, action, target) VALUES ($1, $2, $3, $4)`, [new Date(at), actor, action, target]);
    await ins('2026-10-31T15:59:59Z', `user:${id.a2}`, 'elder_update', `elder:${id.E1}`);
    await ins('2026-10-31T16:00:00Z', `user:${id.a2}`, 'elder_create', `elder:${id.E2}`);
    await ins('2026-11-01T02:00:00Z', 'system', 'alarm_escalate', 'alarm:9');
    const day = '&from=2026-11-01&to=2026-11-01';
    expect((await ok(`/api/audit?${day}`)).items.map((x: { action: string }) => x.action)).toEqual(['alarm_escalate', 'elder_create']);
    expect((await ok(`/api/audit?from=2026-10-31&to=2026-10-31`)).items.map((x: { action: string }) => x.action)).toEqual(['elder_update']);
    const R = '&from=2026-10-01&to=2026-11-30';
    expect((await ok(`/api/audit?username=a2${R}`)).total).toBe(2);
    expect((await ok(`/api/audit?actor=user:${id.a2}${R}`)).total).toBe(2);
    expect((await ok(`/api/audit?actor=system${R}`)).items[0].action).toBe('alarm_escalate');
    expect((await ok(`/api/audit?action=elder_${R}`)).total).toBe(2);
    expect((await ok(`/api/audit?target=elder:${id.E2}${R}`)).items.map((x: { action: string }) => x.action)).toEqual(['elder_create']);
    // nobody by that name: nothing, not everything
    expect((await ok(`/api/audit?username=nobody${R}`)).total).toBe(0);
    // "_" in the prefix is a character, not a wildcard
    await ins('2026-11-02T02:00:00Z', 'system', 'elder9update', `elder:${id.E1}`);
    expect((await ok(`/api/audit?action=elder_update${R}`)).items.map((x: { action: string }) => x.action)).toEqual(['elder_update']);
  });

  it('is for admins only', async () => {
    expect((await get('/api/audit', agent)).status).toBe(403);
    expect((await get('/api/audit', sup)).status).toBe(403);
    expect((await app.http.inject({ method: 'GET', url: '/api/audit' })).statusCode).toBe(401);
  });

  it('stores and returns hostile text as it was', async () => {
    await audit(app.db, `user:${id.a1}`, 'history_test_hostile', HOSTILE, { note: HOSTILE, nested: { s: `"'\\</script>` } });
    const row = (await ok('/api/audit?action=history_test_hostile')).items[0];
    expect(row.target).toBe(HOSTILE);
    expect(row.detail).toEqual({ note: HOSTILE, nested: { s: `"'\\</script>` } });
    const a = (await ok(`/api/history/alarms?from=2026-11-01&to=2026-11-01&elderId=${id.E2}`)).items[0];
    expect(a.elderName).toBe(HOSTILE);
  });
});
