import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';

let app: App;
let admin: { authorization: string };
let installer: { authorization: string };
let agent: { authorization: string };

const req = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'GET', url, headers, payload: payload as object });

beforeAll(async () => {
  app = await startTestApp();
  admin = await login(app);
  for (const [username, role] of [['inst1', 'installer'], ['agent1', 'agent']]) {
    const r = await req('POST', '/api/users', admin, { username, role, password: 'password-123', displayName: username });
    expect(r.statusCode).toBe(201);
  }
  installer = await login(app, 'inst1', 'password-123');
  agent = await login(app, 'agent1', 'password-123');
});
afterAll(async () => app?.stop());

describe('HTTP API', () => {
  it('healthz is green and lists each part', async () => {
    const r = await app.http.inject({ url: '/healthz' });
    expect(r.statusCode).toBe(200);
    expect(r.json().parts.database.state).toBe('up');
    expect(r.json().parts.mqtt.state).toBe('up');
  });

  it('serves OpenAPI at /docs and metrics at /metrics', async () => {
    const d = await app.http.inject({ url: '/docs/json' });
    expect(d.statusCode).toBe(200);
    expect(Object.keys(d.json().paths)).toContain('/api/elders');
    const m = await app.http.inject({ url: '/metrics' });
    expect(m.body).toContain('anxin_frames_total');
  });

  it('refuses without login, wrong password, and the wrong role', async () => {
    expect((await app.http.inject({ url: '/api/elders' })).statusCode).toBe(401);
    const bad = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: 'nope' } });
    expect(bad.statusCode).toBe(401);
    // an agent may open a new caller's record (建档 from a call), with who they are and how to reach them only
    const r = await req('POST', '/api/elders', agent, { name: '张秀英', idNumber: '110101194501091234', rules: {} });
    expect(r.statusCode).toBe(403);
    expect(r.json().message).toContain('idNumber');
    const ok = await req('POST', '/api/elders', agent, { name: '新来电 张秀英', phone: '13800138111', contacts: [{ name: '李明', relation: '儿子', phone: '13900139111' }] });
    expect(ok.statusCode, ok.body).toBe(201);
    expect((await req('PATCH', `/api/elders/${ok.json().id}`, agent, { name: '改名' })).statusCode).toBe(403);
  });

  it('an installer registers an elder with contacts and a device bound to that elder', async () => {
    const e = await req('POST', '/api/elders', installer, {
      name: '张秀英',
      gender: 'female',
      birthDate: '1941-03-08',
      phone: '021-6218 1234',
      address: '上海市徐汇区天钥桥路 100 弄 3 号 502 室',
      conditions: '高血压, 糖尿病',
      medications: '二甲双胍',
      allergies: '青霉素',
      dialect: '上海话',
      livesAlone: true,
      accessNotes: '钥匙盒在门左侧, 密码 1234',
      contacts: [
        { name: '李明', relation: '儿子', phone: '+86 138 0013 8000' },
        { name: '王阿姨', relation: '邻居', phone: '62185678' },
      ],
    });
    expect(e.statusCode).toBe(201);
    const elder = e.json();
    expect(elder.phone).toBe('02162181234');
    expect(elder.contacts.map((c: { position: number; phone: string }) => [c.position, c.phone])).toEqual([
      [1, '13800138000'],
      [2, '02162185678'],
    ]);

    const d = await req('POST', '/api/devices', installer, { identifier: '8800000015', protocol: 'watch', model: 'SeTracker Q50', simPhone: '13900139000', elderId: elder.id });
    expect(d.statusCode).toBe(201);
    expect(d.json()).toMatchObject({ identifier: '8800000015', elderId: elder.id, simPhone: '13900139000', state: 'registered' });

    const got = await req('GET', `/api/elders/${elder.id}`, agent);
    expect(got.statusCode).toBe(200);
    expect(got.json().devices.map((x: { identifier: string }) => x.identifier)).toEqual(['8800000015']);
    expect(got.json().contacts).toHaveLength(2);

    const unbind = await req('POST', `/api/devices/${d.json().id}/unbind`, installer);
    expect(unbind.json().elderId).toBeNull();
    const bind = await req('POST', `/api/devices/${d.json().id}/bind`, installer, { elderId: elder.id });
    expect(bind.json().elderId).toBe(elder.id);

    const audit = await app.db.query(`SELECT action FROM audit_log WHERE target = $1 ORDER BY id`, [`device:${d.json().id}`]);
    expect(audit.rows.map((r) => r.action)).toEqual(['device_register', 'device_unbind', 'device_bind']);
  });

  it('registers a Contact ID account with its panel vendor in meta', async () => {
    const r = await req('POST', '/api/devices', installer, { identifier: '1234', protocol: 'contactid', kind: 'panel', meta: { vendor: 'climax' } });
    expect(r.statusCode).toBe(201);
    expect(r.json().meta).toEqual({ vendor: 'climax' });
    const bad = await req('POST', '/api/devices', installer, { identifier: '1235', protocol: 'contactid', meta: { vendor: { nested: true } } });
    expect(bad.statusCode).toBe(400);
  });

  it('replaces the ordered contacts', async () => {
    const e = (await req('POST', '/api/elders', installer, { name: '王建国' })).json();
    const r = await req('PUT', `/api/elders/${e.id}/contacts`, installer, [
      { name: 'B', phone: '13800000002' },
      { name: 'A', phone: '13800000001' },
    ]);
    expect(r.statusCode).toBe(200);
    expect(r.json().map((c: { name: string }) => c.name)).toEqual(['B', 'A']);
  });

  describe('bad input', () => {
    it('invalid JSON → 400', async () => {
      const r = await app.http.inject({ method: 'POST', url: '/api/elders', headers: { ...installer, 'content-type': 'application/json' }, payload: '{"name": ' });
      expect(r.statusCode).toBe(400);
      expect(r.json().message).toMatch(/JSON/i);
    });

    it('unknown fields → 400 naming the field', async () => {
      const r = await req('POST', '/api/elders', installer, { name: 'x', favouriteColour: 'red' });
      expect(r.statusCode).toBe(400);
      expect(r.json().fields).toEqual([{ field: 'body/favouriteColour', message: 'unknown field' }]);
    });

    it('missing and wrongly typed fields → 400 per field', async () => {
      const r = await req('POST', '/api/elders', installer, { livesAlone: 'yes', lat: 200 });
      expect(r.statusCode).toBe(400);
      const fields = r.json().fields.map((f: { field: string }) => f.field);
      expect(fields).toEqual(expect.arrayContaining(['body/name', 'body/livesAlone', 'body/lat']));
    });

    it('invalid phone numbers → 400 naming the field', async () => {
      const r = await req('POST', '/api/elders', installer, { name: 'x', contacts: [{ name: 'a', phone: '13800138000' }, { name: 'b', phone: 'call me' }] });
      expect(r.statusCode).toBe(400);
      expect(r.json().fields[0].field).toBe('body/contacts/1/phone');
    });

    it('a duplicate IMEI → 409', async () => {
      const body = { identifier: '358839237678820', protocol: 'gt06' };
      expect((await req('POST', '/api/devices', installer, body)).statusCode).toBe(201);
      const r = await req('POST', '/api/devices', installer, body);
      expect(r.statusCode).toBe(409);
      expect(r.json().message).toContain('already registered');
    });

    it('a phone number already bound → 409', async () => {
      expect((await req('POST', '/api/devices', installer, { identifier: '4700186508', protocol: 'watch', simPhone: '13700137000' })).statusCode).toBe(201);
      const r = await req('POST', '/api/devices', installer, { identifier: '4700186509', protocol: 'watch', simPhone: '+86 137 0013 7000' });
      expect(r.statusCode).toBe(409);
      expect(r.json().message).toContain('phone number');
    });

    it('an unknown elder id → 404 on read, 400 on bind', async () => {
      expect((await req('GET', '/api/elders/999999', agent)).statusCode).toBe(404);
      const r = await req('POST', '/api/devices', installer, { identifier: '4700186510', protocol: 'watch', elderId: 999999 });
      expect(r.statusCode).toBe(400);
      expect(r.json().fields[0].field).toBe('body/elderId');
    });

    it('an identifier that does not fit its protocol → 400', async () => {
      const r = await req('POST', '/api/devices', installer, { identifier: 'abc', protocol: 'watch' });
      expect(r.statusCode).toBe(400);
      expect(r.json().message).toContain('6-20 digits');
    });

    it('an oversized body → 413', async () => {
      const r = await req('POST', '/api/elders', installer, { name: 'x', conditions: 'a'.repeat(300 * 1024) });
      expect(r.statusCode).toBe(413);
    });
  });
});
