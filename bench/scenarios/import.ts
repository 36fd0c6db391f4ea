/**
 * Bulk import (issue 20): 10,000 elders with two contacts each and one watch each, as one .xlsx workbook, through
 * the import's own path (exceljs read → dry-run checks against PostgreSQL → one transaction of multi-row writes),
 * against baselines from the same run: parsing alone, and the same rows written with the store's multi-row
 * INSERTs and nothing else (no file, no checks) into a fresh database. Reported: seconds per phase, rows per
 * second, and the import's total over the plain INSERT baseline. In-process: no gateway, only PostgreSQL.
 * `--quick` imports 2,000 elders.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ImportService, commitPlan } from '../../gateway/import/service.js';
import { planImport } from '../../gateway/import/plan.js';
import { writeFile, readUpload } from '../../gateway/import/workbook.js';
import { COLUMNS } from '../../gateway/import/columns.js';
import { createPool, tx } from '../../gateway/store/db.js';
import { migrate } from '../../gateway/store/migrate.js';
import type { Ctx } from '../lib/measure.js';
import type { ScenarioResult } from '../lib/result.js';
import { createDatabase, dropDatabase } from '../lib/services.js';
import { percentile, round } from '../lib/stats.js';
import { listElders } from '../../gateway/store/elders.js';

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = ['秀英', '桂兰', '玉兰', '国强', '建华', '淑珍', '德明', '凤英', '志刚', '素芬'];
const STREETS = ['愚园路', '安西路', '江苏路', '长宁路', '武夷路', '延安西路', '定西路', '华山路'];

function idNumber(y: number, m: number, d: number, seq: number): string {
  const body = `310105${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}${String(seq % 1000).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, c, i) => s + Number(c) * w[i]!, 0);
  return body + '10X98765432'[sum % 11];
}

/** The rows of the three sheets for n elders, in the templates' column order. */
function rows(n: number): { elders: string[][]; contacts: string[][]; devices: string[][] } {
  const elders: string[][] = [];
  const contacts: string[][] = [];
  const devices: string[][] = [];
  for (let k = 1; k <= n; k++) {
    const y = 1925 + (k % 25);
    const m = 1 + (k % 12);
    const d = 1 + (k % 28);
    const key = `E${String(k).padStart(6, '0')}`;
    const name = SURNAMES[k % SURNAMES.length]! + GIVEN[k % GIVEN.length]!;
    const byKey: Record<string, string> = {
      key, name, gender: k % 2 ? '女' : '男', birthDate: `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`, idNumber: idNumber(y, m, d, k),
      phone: `138${String(k).padStart(8, '0')}`, address: `上海市长宁区${STREETS[k % STREETS.length]} ${k % 900} 弄 ${k % 30} 号`, area: '江苏路街道', livesAlone: k % 3 ? '否' : '是',
      dialect: '上海话', categories: k % 3 ? '空巢' : '独居、高龄', conditions: '高血压', medications: '氨氯地平', allergies: '', doctor: '社区卫生服务中心', accessNotes: '',
    };
    elders.push(COLUMNS.elders.map((c) => byKey[c.key] ?? ''));
    for (const [i, rel] of [[1, '儿子'], [2, '邻居']] as const) {
      const ct: Record<string, string> = { elderKey: key, order: String(i), name: `${SURNAMES[(k + i) % SURNAMES.length]}某`, relation: rel, phones: `139${String(k * 2 + i).padStart(8, '0')}`, keyHolder: i === 2 ? '是' : '否', nextOfKin: i === 1 ? '是' : '否', maySms: '是', notes: '' };
      contacts.push(COLUMNS.contacts.map((c) => ct[c.key] ?? ''));
    }
    const dv: Record<string, string> = { identifier: `86${String(k).padStart(13, '0')}`, protocol: 'watch', kind: '手表', model: 'Y8', simPhone: `147${String(k).padStart(8, '0')}`, elderKey: key };
    devices.push(COLUMNS.devices.map((c) => dv[c.key] ?? ''));
  }
  return { elders, contacts, devices };
}

export async function importBench(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = Date.now();
  const n = ctx.quick ? 2_000 : 10_000;
  const notes: string[] = [];
  const names = [`bench_import_${process.pid}`, `bench_import_base_${process.pid}`];
  const [url, baseUrl] = await Promise.all(names.map((x) => createDatabase(ctx.pgAdminUrl, x)));
  await migrate(url!);
  await migrate(baseUrl!);
  const db = createPool(url!, 4);
  const base = createPool(baseUrl!, 4);
  try {
    ctx.log(`import: building a workbook of ${n.toLocaleString('en')} elders, ${(2 * n).toLocaleString('en')} contacts, ${n.toLocaleString('en')} watches`);
    const r = rows(n);
    const file = await writeFile('xlsx', [
      { kind: 'elders', columns: COLUMNS.elders, rows: r.elders },
      { kind: 'contacts', columns: COLUMNS.contacts, rows: r.contacts },
      { kind: 'devices', columns: COLUMNS.devices, rows: r.devices },
    ]);
    const total = n * 4;

    // a. parsing alone
    let s = performance.now();
    const parsed = await readUpload(file, { maxRows: 50_000 });
    const parseS = (performance.now() - s) / 1000;

    // b. the dry run (parse + every check, against the empty database)
    s = performance.now();
    const svc = new ImportService(db, { limits: { maxBytes: 64 * 2 ** 20, maxRows: 50_000 } });
    const dry = await svc.dryRun(file, undefined, 'admin');
    const dryS = (performance.now() - s) / 1000;
    if (!dry.ok) throw new Error(`bench file does not check: ${JSON.stringify(dry.errors.slice(0, 3))}`);

    // c. the import as POST /api/import runs it: parse, check, one transaction
    ctx.log('import: importing');
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    s = performance.now();
    const job = svc.start(file, undefined, { id: 1, role: 'admin' }, 'bench');
    const progress: number[] = [];
    while (svc.job(job.id, { id: 1, role: 'admin' })!.state === 'validating' || svc.job(job.id, { id: 1, role: 'admin' })!.state === 'importing') {
      progress.push(job.done);
      await new Promise((res) => setTimeout(res, 25));
    }
    const importS = (performance.now() - s) / 1000;
    loop.disable();
    // the gateway is one process: how long the import kept its event loop (and so the alarm path) from running
    const stallMs = loop.max / 1e6;
    if (job.state !== 'done') throw new Error(`import failed: ${job.message} ${JSON.stringify(job.errors.slice(0, 3))}`);
    const counted = await db.query(`SELECT (SELECT count(*) FROM elders) AS e, (SELECT count(*) FROM contacts) AS c, (SELECT count(*) FROM devices) AS d`);
    const got = counted.rows[0] as { e: number; c: number; d: number };
    if (Number(got.e) !== n || Number(got.c) !== 2 * n || Number(got.d) !== n) throw new Error(`import wrote ${JSON.stringify(got)}`);

    // d. baseline: the same checked rows written with the same multi-row INSERTs into a fresh database, nothing else
    const plan = await planImport(base, parsed.sheets, 'admin');
    s = performance.now();
    await tx(base, (c) => commitPlan(c, plan));
    const insertS = (performance.now() - s) / 1000;

    const ratio = importS / insertS;

    // e. the console's search over the imported centre (老人档案: GET /api/elders?q=), against the plain name search
    // it replaced: the same 200 queries (a name, a phone fragment, a street, a watch's IMEI, an ID number's last 4)
    const queries = Array.from({ length: 200 }, (_, i) => {
      const k = 1 + ((i * 37) % n);
      return [SURNAMES[k % SURNAMES.length]! + GIVEN[k % GIVEN.length]!, `138${String(k).padStart(8, '0')}`.slice(3, 9), STREETS[k % STREETS.length]!, `86${String(k).padStart(13, '0')}`, String(1000 + k).slice(-4)][i % 5]!;
    });
    const timed = async (f: (q: string) => Promise<unknown>) => {
      const ms: number[] = [];
      for (const q of queries) {
        const t = performance.now();
        await f(q);
        ms.push(performance.now() - t);
      }
      return ms;
    };
    const searchMs = await timed((q) => listElders(db, { q, idSuffix: true, limit: 20, offset: 0 }));
    const plainMs = await timed((q) => db.query('SELECT id, name FROM elders WHERE name ILIKE $1 ORDER BY id LIMIT 20', [`%${q}%`]));
    const [s50, s99, p50, p99] = [percentile(searchMs, 50)!, percentile(searchMs, 99)!, percentile(plainMs, 50)!, percentile(plainMs, 99)!];
    notes.push(`search over ${n.toLocaleString('en')} elders (name, phone, address, area, device, ID suffix; open alarms and devices per row): p50 ${round(s50, 1)} ms, p99 ${round(s99, 1)} ms; the plain name ILIKE it replaced p50 ${round(p50, 1)} ms, p99 ${round(p99, 1)} ms (${round(s50 / p50, 1)}× at p50)`);
    notes.push(`${n.toLocaleString('en')} elders + ${(2 * n).toLocaleString('en')} contacts + ${n.toLocaleString('en')} watches (${round(file.length / 2 ** 20, 1)} MiB xlsx): import ${round(importS, 2)} s (${Math.round(total / importS).toLocaleString('en')} rows/s), (parsing alone ${round(parseS, 2)} s, the dry run ${round(dryS, 2)} s); the bare multi-row INSERTs ${round(insertS, 2)} s (the import ${round(ratio, 1)}× that); longest event-loop stall during the import ${Math.round(stallMs)} ms`);
    return {
      name: 'import',
      description: `bulk import of ${n.toLocaleString('en')} elders with contacts and watches from one .xlsx (parse, check, one transaction), against parsing alone and the bare multi-row INSERTs`,
      ok: true,
      wallSeconds: Math.round((Date.now() - t0) / 1000),
      extra: {
        elders: n,
        contacts: 2 * n,
        devices: n,
        fileMiB: round(file.length / 2 ** 20, 2),
        parseS: round(parseS, 3),
        dryRunS: round(dryS, 3),
        importS: round(importS, 3),
        rowsPerS: Math.round(total / importS),
        baselineInsertS: round(insertS, 3),
        importVsInsert: round(ratio, 2),
        progressSamples: progress.length,
        eventLoopStallMaxMs: Math.round(stallMs),
        searchP50Ms: round(s50, 2),
        searchP99Ms: round(s99, 2),
        plainNameSearchP50Ms: round(p50, 2),
        searchVsPlainP50: round(s50 / p50, 2),
      },
      notes,
    };
  } finally {
    await db.end();
    await base.end();
    for (const x of names) await dropDatabase(ctx.pgAdminUrl, x);
  }
}
