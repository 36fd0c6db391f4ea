/**
 * Issue 20, finding an elder and the file's photo against the real gateway: each search key (name, phone, address,
 * area, device identifier, the ID number's last 4–6 characters), the area and category filters, open alarm counts,
 * the photo's round trip with its limits, and the ID number's check character.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { DeviceMessage } from '../../protocols/message.js';
import { login, startTestApp } from '../helpers/app.js';

let app: App;
let admin: { authorization: string };
let agent: { authorization: string };
let installer: { authorization: string };
let elderId: number;
let otherId: number;
let n = 0;

const FULL_ID = '110101194501091234';
const X_ID = '11010519491231002X';
const IMEI = '864700112233445';
const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
type Item = { id: number; idNumber?: string; openAlarms: number; devices: string[]; hasPhoto: boolean } & Record<string, unknown>;
const search = async (query: string, who = admin) => {
  const r = await inject('GET', `/api/elders?${query}`, who);
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { items: Item[]; total: number };
};
const ids = async (query: string, who = admin) => (await search(query, who)).items.map((e) => e.id);
const q = (s: string) => `q=${encodeURIComponent(s)}`;

async function user(username: string, role: string) {
  expect((await inject('POST', '/api/users', admin, { username, role, password: 'password-123' })).statusCode).toBe(201);
  return login(app, username, 'password-123');
}
const raise = async (deviceId: string, kind: 'sos' | 'fall' | 'removed') => {
  const msg: DeviceMessage = { deviceId, protocol: 'watch', kind: 'alarm', receivedAt: new Date(), deviceTime: new Date(), raw: `elders-search-${++n}`, alarms: [kind] };
  expect((await app.pipeline.handle([msg])).ok).toBe(true);
  return Number((await app.db.query(`SELECT id FROM alarms WHERE source_key = $1 AND kind = $2 ORDER BY id DESC LIMIT 1`, [deviceId, kind])).rows[0].id);
};

beforeAll(async () => {
  app = await startTestApp({}, { LOGIN_RATE_PER_MIN: '1000' });
  admin = await login(app);
  agent = await user('es-agent', 'agent');
  installer = await user('es-installer', 'installer');
  const e = await inject('POST', '/api/elders', admin, {
    name: '欧阳秀凤', phone: '13955667788', address: '上海市静安区常德路 88 弄', area: '石门二路街道', idNumber: FULL_ID,
    categories: ['living_alone', 'advanced_age'], conditions: '糖尿病', doctor: '陈医生',
  });
  expect(e.statusCode, e.body).toBe(201);
  elderId = e.json().id;
  const o = await inject('POST', '/api/elders', admin, { name: '赵国庆', phone: '02162001111', address: '上海市长宁区安西路 8 号', area: '江苏路街道', idNumber: X_ID, categories: ['empty_nest'] });
  expect(o.statusCode, o.body).toBe(201);
  otherId = o.json().id;
  expect((await inject('POST', '/api/devices', admin, { identifier: IMEI, protocol: 'watch', elderId })).statusCode).toBe(201);
});
afterAll(async () => app?.stop());

describe('GET /api/elders search', () => {
  it('finds the elder by each key, and only that elder', async () => {
    for (const key of ['秀凤', '欧阳', '5566778', '常德路', '石门二路', IMEI.slice(-6), IMEI, '1234', '091234']) {
      expect(await ids(q(key)), key).toEqual([elderId]);
    }
    expect(await ids(q('002x')), 'an ID ending in X, typed in lower case').toEqual([otherId]);
    expect(await ids(q('安西路'))).toEqual([otherId]);
    expect((await search('')).total).toBe(2);
  });

  it('matches the ID number only by its end, 4–6 characters, and takes LIKE wildcards literally', async () => {
    for (const key of ['0101', '19450109', '01091234', '234', '%', '_', '1101%']) expect(await ids(q(key)), key).toEqual([]);
  });

  it('filters by area and category, with or without q', async () => {
    expect(await ids('area=' + encodeURIComponent('石门二路街道'))).toEqual([elderId]);
    expect(await ids('area=' + encodeURIComponent('石门二路'))).toEqual([]); // the filter is exact; q is the fragment search
    expect(await ids('category=empty_nest')).toEqual([otherId]);
    expect(await ids('category=advanced_age&' + q('欧阳'))).toEqual([elderId]);
    expect(await ids('category=advanced_age&' + q('赵'))).toEqual([]);
    expect((await inject('GET', '/api/elders?category=rich', admin)).statusCode).toBe(400);
  });

  it('finds by the ID number’s end for an agent without ever showing the full number; installers cannot search by it', async () => {
    const r = await inject('GET', `/api/elders?${q('1234')}`, agent);
    expect(r.json().items.map((e: Item) => e.id)).toEqual([elderId]);
    expect(r.json().items[0].idNumber).toBe('**************1234');
    expect(r.body).not.toContain(FULL_ID);
    expect(JSON.stringify((await search('', agent)).items)).not.toContain(FULL_ID);
    expect((await inject('GET', `/api/elders/${elderId}`, agent)).body).not.toContain(FULL_ID);
    expect(await ids(q('1234'), installer)).toEqual([]);
    expect(await ids(q('欧阳'), installer)).toEqual([elderId]);
    expect((await search(q('欧阳'), admin)).items[0]!.idNumber).toBe(FULL_ID);
  });

  it('lists device identifiers and open alarms, leaving out closed, cleared and test alarms', async () => {
    const row = async () => (await search(q('欧阳'))).items[0]!;
    expect(await row()).toMatchObject({ devices: [IMEI], openAlarms: 0, hasPhoto: false });
    const [sos, fall, removed] = [await raise(IMEI, 'sos'), await raise(IMEI, 'fall'), await raise(IMEI, 'removed')];
    expect((await row()).openAlarms).toBe(3);
    await app.db.query(`UPDATE alarms SET state = 'closed' WHERE id = $1`, [sos]);
    await app.db.query(`UPDATE alarms SET state = 'cleared' WHERE id = $1`, [removed]);
    expect((await row()).openAlarms).toBe(1);
    await app.db.query(`UPDATE alarms SET test = true WHERE id = $1`, [fall]);
    expect((await row()).openAlarms).toBe(0);
    expect((await search(q('赵'))).items[0]).toMatchObject({ devices: [], openAlarms: 0 });
  });
});

describe('the elder’s photo', () => {
  const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR-and-some-pixels')]);
  const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('JFIF-body')]);
  const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x10, 0, 0, 0]), Buffer.from('WEBPVP8 body')]);
  const put = (body: Buffer | string, type: string, who = installer, id = elderId) =>
    app.http.inject({ method: 'PUT', url: `/api/elders/${id}/photo`, headers: { ...who, 'content-type': type }, payload: body });

  it('goes in and comes out byte for byte, with its type, never cached and never in the elder’s JSON', async () => {
    expect((await inject('GET', `/api/elders/${elderId}/photo`, agent)).statusCode).toBe(404);
    expect((await put(PNG, 'image/png')).statusCode).toBe(204);
    const got = await inject('GET', `/api/elders/${elderId}/photo`, agent);
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['cache-control']).toBe('private, no-store');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.rawPayload.equals(PNG)).toBe(true);

    const file = await inject('GET', `/api/elders/${elderId}`, admin);
    const row = (await search(q('欧阳'))).items[0]!;
    expect(file.json().hasPhoto).toBe(true);
    expect(row.hasPhoto).toBe(true);
    for (const json of [file.json(), row]) {
      expect(json).not.toHaveProperty('photo');
      expect(json).not.toHaveProperty('photoType');
    }
    expect((await put(JPEG, 'image/jpeg', admin)).statusCode).toBe(204);
    expect((await inject('GET', `/api/elders/${elderId}/photo`, installer)).headers['content-type']).toBe('image/jpeg');
    // the bytes decide the type, not the header: a WebP sent as image/png is served as image/webp
    expect((await put(WEBP, 'image/png')).statusCode).toBe(204);
    const webp = await inject('GET', `/api/elders/${elderId}/photo`, agent);
    expect(webp.headers['content-type']).toBe('image/webp');
    expect(webp.rawPayload.equals(WEBP)).toBe(true);

    const audit = await app.db.query(`SELECT action, detail FROM audit_log WHERE action LIKE 'elder_photo%' AND target = $1 ORDER BY id`, [`elder:${elderId}`]);
    expect(audit.rows[0]).toEqual({ action: 'elder_photo_set', detail: { type: 'image/png', bytes: PNG.length } });

    expect((await inject('DELETE', `/api/elders/${elderId}/photo`, installer)).statusCode).toBe(204);
    expect((await inject('GET', `/api/elders/${elderId}/photo`, agent)).statusCode).toBe(404);
    expect((await inject('GET', `/api/elders/${elderId}`, admin)).json().hasPhoto).toBe(false);
    expect((await app.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'elder_photo_delete'`)).rows[0].n).toBe(1);
  });

  it('refuses what is not a JPEG, PNG or WebP (415), more than 1 MB (413), the wrong role (403) and an unknown elder (404)', async () => {
    const gif = await put(Buffer.from('GIF89a\x01\x00\x01\x00'), 'image/png');
    expect(gif.statusCode).toBe(415);
    expect(gif.json().error).toBe('unsupported_image');
    expect((await put('<svg xmlns="http://www.w3.org/2000/svg"/>', 'image/svg+xml')).statusCode).toBe(415);
    expect((await put('hello', 'text/plain')).statusCode).toBe(415);
    expect((await put(Buffer.alloc(0), 'image/jpeg')).statusCode).toBe(415);
    expect((await put(PNG, 'application/octet-stream')).statusCode).toBe(415);

    const big = Buffer.concat([PNG, Buffer.alloc(1024 * 1024 + 1 - PNG.length)]);
    const tooBig = await put(big, 'image/png');
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error).toBe('too_large');
    const justFits = Buffer.concat([PNG, Buffer.alloc(1024 * 1024 - PNG.length)]);
    expect((await put(justFits, 'image/png')).statusCode).toBe(204);
    expect((await inject('GET', `/api/elders/${elderId}/photo`, agent)).rawPayload.length).toBe(1024 * 1024);

    expect((await put(PNG, 'image/png', agent)).statusCode).toBe(403);
    expect((await inject('DELETE', `/api/elders/${elderId}/photo`, agent)).statusCode).toBe(403);
    expect((await put(PNG, 'image/png', admin, 999999)).statusCode).toBe(404);
    expect((await inject('GET', `/api/elders/${elderId}/photo`, { authorization: 'Bearer nope' })).statusCode).toBe(401);
  });
});

describe('ID numbers', () => {
  it('must carry the right GB 11643 check character on create and edit', async () => {
    const bad = '110101194501011234'; // the check character of 11010119450101123 is 0
    const c = await inject('POST', '/api/elders', admin, { name: '钱桂英', idNumber: bad });
    expect(c.statusCode).toBe(400);
    expect(c.json().fields).toEqual([{ field: 'body/idNumber', message: expect.stringContaining('check character') }]);
    const p = await inject('PATCH', `/api/elders/${otherId}`, admin, { idNumber: bad });
    expect(p.statusCode).toBe(400);
    expect(p.json().fields[0].field).toBe('body/idNumber');
    expect((await inject('PATCH', `/api/elders/${otherId}`, installer, { idNumber: '31010519420307019X' })).statusCode).toBe(400);
    expect((await inject('GET', `/api/elders/${otherId}`, admin)).json().idNumber).toBe(X_ID);
    // a right one, typed with a lower-case x, is kept with a capital X
    const x = await inject('POST', '/api/elders', admin, { name: '钱桂英', idNumber: '31010519420307018x' });
    expect(x.statusCode, x.body).toBe(201);
    expect((await inject('GET', `/api/elders/${x.json().id}`, admin)).json().idNumber).toBe('31010519420307018X');
    const ok = await inject('PATCH', `/api/elders/${x.json().id}`, installer, { idNumber: '440524188001010014' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).not.toHaveProperty('idNumber');
  });
});

describe('GET /api/rules/schema', () => {
  it('gives the rule and plan schemas with their defaults to installers, supervisors and admins', async () => {
    const { DEFAULT_RULES, DEFAULT_ESCALATION_PLAN } = await import('../../alarms/index.js');
    const r = await inject('GET', '/api/rules/schema', installer);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.rules.defaults).toEqual(JSON.parse(JSON.stringify(DEFAULT_RULES)));
    expect(body.plan.defaults).toEqual(JSON.parse(JSON.stringify(DEFAULT_ESCALATION_PLAN)));
    expect(body.rules.schema).toMatchObject({ type: 'object', properties: expect.objectContaining({ geofences: expect.any(Object) }) });
    expect(body.plan.schema).toMatchObject({ type: 'object', properties: expect.any(Object) });
    // every default has its field in the schema (the editors are built from the schema, filled from the defaults)
    for (const part of ['rules', 'plan'] as const) {
      expect(Object.keys(body[part].schema.properties), part).toEqual(expect.arrayContaining(Object.keys(body[part].defaults)));
    }
    expect((await inject('GET', '/api/rules/schema', agent)).statusCode).toBe(403);
  });
});
