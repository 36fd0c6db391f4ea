/**
 * An alarm raised by hand (人工报警, POST /api/alarms): a neighbour rings about an elder. It is committed like a
 * device's, popped to the ready agent, carries the note on its timeline, and is audited; the same report again is a
 * repeat on the open alarm (counted, never lost); bad bodies and other roles are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

let app: App;
let admin: { authorization: string };
let agent: { authorization: string };
let elderId: number;

const call = async (method: string, url: string, who: { authorization: string }, body?: unknown) => {
  const r = await app.http.inject({ method: method as 'POST', url, headers: who, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: r.statusCode, body: r.json() };
};

beforeAll(async () => {
  app = await startTestApp();
  admin = await login(app);
  for (const [username, role] of [['zuoxi', 'agent'], ['anzhuang', 'installer']]) expect((await call('POST', '/api/users', admin, { username, role, password: 'password-123', ...(role === 'agent' ? { extension: '8001' } : {}) })).status).toBe(201);
  agent = await login(app, 'zuoxi', 'password-123');
  elderId = (await call('POST', '/api/elders', admin, { name: '王秀英', address: '幸福路 8 号' })).body.id;
}, 60_000);
afterAll(async () => app?.stop());

describe('a manual alarm (人工报警)', () => {
  it('is committed, presented to the ready agent, carries the note, and is audited; the same again is a repeat', async () => {
    expect((await call('POST', '/api/agents/me/sign-in', agent, { extension: '8001' })).status).toBe(200);
    const r = await call('POST', '/api/alarms', agent, { elderId, kind: 'fall', note: '邻居来电：听到老人摔倒的声音 <b>急</b>' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ kind: 'fall', priority: 1, elderId, count: 1 });
    await until(async () => (await call('GET', `/api/alarms/${r.body.id}`, agent)).body.alarm.state === 'presented', 10_000);
    const detail = (await call('GET', `/api/alarms/${r.body.id}`, agent)).body;
    const note = (detail.timeline as { action: string; detail: { note?: string } }[]).find((e) => e.action === 'note');
    expect(note?.detail.note).toBe('邻居来电：听到老人摔倒的声音 <b>急</b>');
    const agentId = Number((await app.db.query(`SELECT id FROM users WHERE username = 'zuoxi'`)).rows[0].id);
    expect((await app.db.query(`SELECT actor, action FROM audit_log WHERE target = $1`, [`alarm:${r.body.id}`])).rows).toContainEqual({ actor: `user:${agentId}`, action: 'alarm_manual' });
    // raised in the agent's name on its timeline, not a device's
    expect((await app.db.query(`SELECT actor FROM alarm_events WHERE alarm_id = $1 ORDER BY id LIMIT 1`, [r.body.id])).rows[0]).toEqual({ actor: `user:${agentId}` });

    const again = await call('POST', '/api/alarms', agent, { elderId, kind: 'fall' });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ id: r.body.id, count: 2 });
  });

  it('refuses an unknown elder, an unknown kind, extra fields and installers', async () => {
    expect(await call('POST', '/api/alarms', agent, { elderId: 999999, kind: 'sos' })).toMatchObject({ status: 400, body: { fields: [{ field: 'body/elderId' }] } });
    expect((await call('POST', '/api/alarms', agent, { elderId, kind: 'earthquake' })).status).toBe(400);
    expect((await call('POST', '/api/alarms', agent, { elderId, kind: 'sos', priority: 1 })).status).toBe(400);
    const installer = await login(app, 'anzhuang', 'password-123');
    expect((await call('POST', '/api/alarms', installer, { elderId, kind: 'sos' })).status).toBe(403);
  });
});
