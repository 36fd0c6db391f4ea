/**
 * Issue 23 in Chromium (1366×768): a supervisor opens last month's report (统计报表, 上月) and exports it. Fixtures
 * are written straight into last month of the real clock, in the centre's zone (Asia/Shanghai): the table shows
 * exactly them, the chart is drawn, the grouping switches, the .xlsx read back with exceljs holds the same numbers,
 * the .csv starts with a BOM and the bilingual header, and the printable month (A4, print media) has every report.
 * An agent sees 我的统计: their own row of the agents report and no other report. Hostile text (an area, an agent's
 * name) renders as text. Screenshots: reports-*.png.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { ensureDashboardBuilt, findChromium, launchChromium, noMarkup, Windows, ARTIFACTS, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const TZ = 'Asia/Shanghai';
const HOSTILE_AREA = '<img src=x onerror="window.__xss=1">幸福<b>社区</b>';
const HOSTILE_AGENT = '<img src=x onerror="window.__xss=2">王<b>社区</b>五';

let app: App;
let browser: Browser;
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `reports-${name}.png`) });
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
const id: Record<string, number> = {};

/** Last month of the real clock in the centre's zone: yyyy-mm, and an instant at a local day and hour of it (UTC+8). */
const today = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date());
const lastMonth = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)) - 2, 1)).toISOString().slice(0, 7);
const local = (day: number, hour: number, plusS = 0) => new Date(Date.UTC(Number(lastMonth.slice(0, 4)), Number(lastMonth.slice(5, 7)) - 1, day, hour - 8, 0, plusS));
const dayOf = (d: number) => `${lastMonth}-${String(d).padStart(2, '0')}`;

/** The cells of a report table, row by row, as their raw values. */
async function cells(page: Page, testid: string, keys: string[]): Promise<string[][]> {
  return page.locator(`[data-testid=${testid}-row]`).evaluateAll(
    (rows, ks) => rows.map((r) => ks.map((k) => r.querySelector(`[data-key="${k}"]`)?.getAttribute('data-value') ?? '?')),
    keys,
  );
}

/** The report shown is the one of this query (the table is not a previous answer's). */
const loaded = (page: Page, part: string) => page.locator(`[data-testid=report-content][data-loaded-path*="${part}"]`).waitFor(SOON);

/** The page itself never scrolls sideways (a wide table scrolls inside its box). */
const noHorizontalScroll = (page: Page) =>
  page.evaluate(() => {
    const w = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number }; body: { scrollWidth: number } } };
    return w.document.documentElement.scrollWidth <= w.innerWidth && w.document.body.scrollWidth <= w.innerWidth;
  });

describe.skipIf(!CHROMIUM)('issue 23 in Chromium: reports, export and the printable month', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp({}, { TZ_CENTRE: TZ });
    const admin = await login(app);
    for (const [username, role, displayName] of [['zhangjun', 'supervisor', '张军'], ['lihua', 'agent', '李华'], ['wangwu', 'agent', HOSTILE_AGENT]] as const) {
      const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username, displayName, role, password: PASSWORD } });
      expect(u.statusCode, u.body).toBe(201);
      id[username] = u.json().id;
    }
    id.E1 = (await q(`INSERT INTO elders (name, area) VALUES ('王秀英', $1) RETURNING id`, [HOSTILE_AREA]))[0].id;
    id.E2 = (await q(`INSERT INTO elders (name, area) VALUES ('李建国', '和平社区') RETURNING id`))[0].id;
    id.D1 = (await q(`INSERT INTO devices (identifier, protocol, elder_id, last_seen, battery, activated_at) VALUES ('imei-r1', 'watch', $1, now(), 15, now()) RETURNING id`, [id.E1]))[0].id;
    id.D2 = (await q(`INSERT INTO devices (identifier, protocol, elder_id, last_seen, battery) VALUES ('imei-r2', 'watch', $1, now() - interval '3 days', 80) RETURNING id`, [id.E2]))[0].id;

    // Alarms of last month (local times): day 3 two SOS and a fall, day 12 a low battery; one more SOS this month
    const alarm = (kind: string, priority: number, first: Date, acceptS: number | null, owner: string | null, elder: number, device: number, outcome: string | null = null) =>
      q(
        `INSERT INTO alarms (kind, priority, alarm_class, state, first_at, last_at, accepted_at, owner_id, elder_id, device_id, outcome)
         VALUES ($1, $2, 'operator', $3, $4, $4, $5, $6, $7, $8, $9)`,
        [kind, priority, acceptS === null ? 'raised' : 'accepted', first, acceptS === null ? null : new Date(first.getTime() + acceptS * 1000), owner ? id[owner] : null, elder, device, outcome],
      );
    await alarm('sos', 1, local(3, 10), 20, 'lihua', id.E1!, id.D1!, 'accidental_press');
    await alarm('sos', 1, local(3, 11), 100, 'lihua', id.E1!, id.D1!);
    await alarm('fall', 1, local(3, 23), 30, 'wangwu', id.E2!, id.D2!);
    await alarm('low_battery', 4, local(12, 9), null, null, id.E1!, id.D1!);
    await q(`INSERT INTO alarms (kind, priority, alarm_class, state, first_at, last_at, elder_id) VALUES ('sos', 1, 'operator', 'raised', now(), now(), $1)`, [id.E2]);
    // lihua: two hours ready on day 3, and a call of 2 minutes
    await q(`INSERT INTO agent_state_history (user_id, state, extension, started_at, ended_at) VALUES ($1, 'ready', '8001', $2, $3)`, [id.lihua, local(3, 9), local(3, 11)]);
    await q(`INSERT INTO calls (party, direction, created_at, answered_at, ended_at, agent_id, flow_id) VALUES ('agent', 'outbound', $1, $1, $2, $3, 'rep-f1')`, [local(3, 10), local(3, 10, 120), id.lihua]);
    await q(`INSERT INTO calls (party, direction, created_at, answered_at, ended_at, agent_id, elder_id, flow_id) VALUES ('elder', 'outbound', $1, $1, $2, $3, $4, 'rep-f1')`, [local(3, 10), local(3, 10, 120), id.lihua, id.E1]);
    // work orders: a service order rated 5 on day 5, a complaint on day 6
    await q(`INSERT INTO work_orders (type, state, title, received_at, satisfaction, elder_id) VALUES ('service', 'followed_up', '送餐', $1, 5, $2), ('complaint', 'received', '投诉', $3, NULL, $2)`, [local(5, 10), id.E1, local(6, 10)]);
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterEach(async () => {
    expect(await windows.done()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("a supervisor opens last month's report, switches the grouping, exports it and prints the month", async () => {
    const page = await windows.open('zhangjun', PASSWORD, { downloads: true });
    await page.click('[data-testid=view-reports]');
    await page.locator('[data-testid=reports-view]').waitFor(SOON);
    await page.click('[data-testid=report-quick-lastMonth]');
    await loaded(page, `from=${lastMonth}-01`);
    expect(await page.locator('[data-testid=report-quick-lastMonth]').getAttribute('aria-pressed')).toBe('true');

    // the alarms of last month, by day × kind × priority: exactly the fixtures
    const keys = ['bucket', 'kind', 'priority', 'count'];
    expect(await cells(page, 'report-table-alarms', keys)).toEqual([
      [dayOf(3), 'fall', '1', '1'],
      [dayOf(3), 'sos', '1', '2'],
      [dayOf(12), 'low_battery', '4', '1'],
    ]);
    // and as text in the locale: the kind's label
    expect(await page.locator('[data-testid=report-table-alarms-row]').nth(1).innerText()).toContain('SOS求救');
    // the chart and the heat map are drawn (SVG), the false alarms listed with the hostile area as text
    await page.locator('[data-testid=report-chart-alarms] svg').waitFor(SOON);
    await page.locator('[data-testid=report-chart-heatmap] svg').waitFor(SOON);
    expect(await page.locator('[data-testid=report-heat-table] td[data-weekday][data-hour="10"]').allInnerTexts()).toContain('1');
    expect(await cells(page, 'report-false-elders', ['elderName', 'area', 'count'])).toEqual([['王秀英', HOSTILE_AREA, '1']]);
    expect(await page.locator('[data-testid=report-false-elders-row]').innerText()).toContain('<img src=x');
    expect(await noHorizontalScroll(page)).toBe(true);
    await shot(page, 'alarms');

    // grouped by month: one period
    await page.selectOption('[data-testid=report-group-by]', 'month');
    await loaded(page, 'groupBy=month');
    expect(await cells(page, 'report-table-alarms', keys)).toEqual([
      [`${lastMonth}-01`, 'fall', '1', '1'],
      [`${lastMonth}-01`, 'sos', '1', '2'],
      [`${lastMonth}-01`, 'low_battery', '4', '1'],
    ]);

    // .xlsx through the button: the same numbers
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=report-export-xlsx]')]);
    expect(xlsx.suggestedFilename()).toBe(`anxin-alarms-${lastMonth}.xlsx`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(readFileSync((await xlsx.path())!) as unknown as ExcelJS.Buffer);
    const ws = wb.worksheets[0]!;
    const row = (n: number) => [1, 2, 3, 4].map((c) => ws.getRow(n).getCell(c).value);
    expect(row(1)).toEqual(['时段 period', '告警类型 kind', '优先级 priority', '数量 count']);
    expect([row(2), row(3), row(4)]).toEqual([
      [`${lastMonth}-01`, 'fall', 1, 1],
      [`${lastMonth}-01`, 'sos', 1, 2],
      [`${lastMonth}-01`, 'low_battery', 4, 1],
    ]);
    // .csv: a BOM, then the bilingual header
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=report-export-csv]')]);
    expect(csv.suggestedFilename()).toBe(`anxin-alarms-${lastMonth}.csv`);
    const raw = readFileSync((await csv.path())!);
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(raw.subarray(3).toString('utf8').split(/\r?\n/)[0]).toBe('时段 period,告警类型 kind,优先级 priority,数量 count');

    // every other report: its chart and its table, inside the screen's width
    await page.selectOption('[data-testid=report-group-by]', 'day');
    for (const r of ['answering', 'agents', 'calls', 'work-orders', 'devices']) {
      await page.click(`[data-testid=report-tab-${r}]`);
      await loaded(page, `/api/reports/${r}?`);
      await page.locator(`[data-testid=report-chart-${r}] svg`).waitFor(SOON);
      await page.locator(`[data-testid=report-table-${r}]`).waitFor(SOON);
      expect(await noHorizontalScroll(page), r).toBe(true);
      await shot(page, r);
    }
    // answering: 3 operator alarms answered, 2 of them within 60 s (the low battery of day 12 never)
    await page.click('[data-testid=report-tab-answering]');
    await loaded(page, '/api/reports/answering?');
    const totals = page.locator('[data-testid=report-table-answering-totals]');
    expect(await totals.locator('[data-key=alarms]').getAttribute('data-value')).toBe('4');
    expect(await totals.locator('[data-key=within60]').getAttribute('data-value')).toBe('2');
    expect(await totals.locator('[data-key=rate60]').innerText()).toBe('50.0%');
    // agents: the hostile name is text; lihua's two alarms, one call, 2 h ready
    await page.click('[data-testid=report-tab-agents]');
    await loaded(page, '/api/reports/agents?');
    const agentRows = await cells(page, 'report-table-agents', ['username', 'name', 'alarms', 'calls', 'readyS']);
    expect(agentRows).toContainEqual(['lihua', '李华', '2', '1', '7200']);
    expect(agentRows).toContainEqual(['wangwu', HOSTILE_AGENT, '1', '0', '0']);
    expect(await page.locator('[data-testid=report-table-agents-row]', { hasText: 'lihua' }).locator('[data-key=readyS]').innerText()).toBe('2:00:00');
    await page.locator('[data-testid=report-chart-agent-states] svg').waitFor(SOON);
    expect(await noMarkup(page, '社区')).toEqual({ xss: undefined, elements: 0 });
    await shot(page, 'agents-states');

    // the printable month: every report, A4 in print media, the app hidden
    await page.click('[data-testid=report-print]');
    const sheet = page.locator('[data-testid=print-month][data-ready=yes]');
    await sheet.waitFor(SOON);
    expect(await page.locator('[data-testid=print-month-input]').inputValue()).toBe(lastMonth);
    for (const r of ['alarms', 'answering', 'agents', 'calls', 'work-orders', 'devices']) {
      await page.locator(`[data-testid=print-section-${r}] [data-testid=report-chart-${r}] svg`).waitFor(SOON);
    }
    expect(await page.locator('[data-testid=print-month-title]').innerText()).toBe(`${lastMonth.slice(0, 4)}年${Number(lastMonth.slice(5))}月 运营月报`);
    expect(await cells(page, 'report-table-alarms', keys)).toEqual([
      [dayOf(3), 'fall', '1', '1'],
      [dayOf(3), 'sos', '1', '2'],
      [dayOf(12), 'low_battery', '4', '1'],
    ]);
    await shot(page, 'print-screen');
    await page.setViewportSize({ width: 794, height: 1123 });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('#app').isVisible()).toBe(false);
    expect(await page.locator('[data-testid=print-now]').isVisible()).toBe(false);
    expect(await page.locator('[data-testid=print-section-devices]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid=print-section-calls]').evaluate((e) => (globalThis as unknown as { getComputedStyle(x: unknown): { breakBefore: string } }).getComputedStyle(e).breakBefore)).toBe('page');
    await page.screenshot({ path: join(ARTIFACTS, 'reports-print-a4.png'), fullPage: true });
    await page.screenshot({ path: join(ARTIFACTS, 'reports-print-a4-top.png') });
    await page.locator('[data-testid=print-section-answering]').screenshot({ path: join(ARTIFACTS, 'reports-print-answering.png') });
    const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true, path: join(ARTIFACTS, 'reports-print-a4.pdf') });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    // one page at least per report: the header and alarms, then a page break before each of the other five
    expect(pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length).toBeGreaterThanOrEqual(6);
    await page.emulateMedia({ media: 'screen' });
    await page.click('[data-testid=print-close]');
    await page.locator('[data-testid=print-month]').waitFor({ state: 'detached', ...SOON });
    expect(await noMarkup(page, '社区')).toEqual({ xss: undefined, elements: 0 });
  }, 180_000);

  it('an agent sees only their own row of the agents report, and no other report', async () => {
    const page = await windows.open('lihua', PASSWORD, { downloads: true });
    await page.click('[data-testid=view-reports]');
    await page.locator('[data-testid=reports-view][data-report=agents]').waitFor(SOON);
    await page.click('[data-testid=report-quick-lastMonth]');
    await loaded(page, `from=${lastMonth}-01`);
    expect(await cells(page, 'report-table-agents', ['username', 'name', 'alarms', 'calls', 'talkS'])).toEqual([['lihua', '李华', '2', '1', '120']]);
    expect(await page.locator('[data-testid^=report-tab-]').count()).toBe(0);
    expect(await page.locator('[data-testid=report-print]').count()).toBe(0);
    expect(await page.locator('[data-testid=report-agent]').count()).toBe(0);
    await page.locator('[data-testid=report-chart-agents] svg').waitFor(SOON);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=report-export-csv]')]);
    const lines = readFileSync((await csv.path())!).subarray(3).toString('utf8').trim().split(/\r?\n/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('lihua');
    expect(await noHorizontalScroll(page)).toBe(true);
    await shot(page, 'agent-mine');
    // in English: the headers from the report's columns, durations as h:mm:ss
    await page.click('[data-testid=locale-en]');
    await page.locator('[data-testid=report-table-agents] th', { hasText: 'alarms handled' }).waitFor(SOON);
    expect(await page.locator('[data-testid=report-table-agents-row] [data-key=signedInS]').innerText()).toBe('2:00:00');
    await page.locator('[data-testid=report-chart-agents] svg').waitFor(SOON);
    await shot(page, 'agent-mine-en');
  }, 120_000);
});
