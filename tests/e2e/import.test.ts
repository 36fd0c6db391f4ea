/**
 * Issue 20 in Chromium: an installer imports elders from a CSV on the 导入导出 screen. A file with bad rows lists
 * every one (sheet, row, column, problem) and imports nothing; the fixed file imports with a progress bar; the
 * templates and the export download through Anxin. Hostile text in a cell shows as text. An agent has no such screen.
 * Screenshots: 1366×768 (admin) and 390×844 (installer) into tests/artifacts/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { collectErrors, ensureDashboardBuilt, findChromium, launchChromium, ARTIFACTS, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const HOSTILE = '<img src=x onerror=window.__x=1>';
const HEAD = '外部编号 external key,姓名 name,电话 phone\r\n';

let app: App;
let browser: Browser;
let base: string;
const errors: string[] = [];

async function open(username: string, viewport: { width: number; height: number }): Promise<Page> {
  const ctx = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  const p = await ctx.newPage();
  collectErrors(p, username, errors);
  await p.goto(base);
  await p.fill('input[name=username]', username);
  await p.fill('input[name=password]', PASSWORD);
  await p.click('button[type=submit]');
  await p.locator('[data-testid=statusbar]').waitFor(SOON);
  return p;
}

const count = async (sql: string, params: unknown[] = []) => Number((await app.db.query(sql, params)).rows[0].n);

describe.skipIf(!CHROMIUM)('issue 20 in Chromium: bulk import and export', () => {
  beforeAll(async () => {
    ensureDashboardBuilt();
    app = await startTestApp();
    base = `http://127.0.0.1:${app.httpPort}`;
    const admin = await login(app);
    for (const [username, role] of [['anzhuang', 'installer'], ['zuoxi', 'agent'], ['guanli', 'admin']] as const) {
      const r = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username, role, password: PASSWORD } });
      expect(r.statusCode, r.body).toBe(201);
    }
    browser = await launchChromium(CHROMIUM!);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('an installer on a phone: a file with bad rows lists them and imports nothing; the fixed file imports', async () => {
    const p = await open('anzhuang', { width: 390, height: 844 });
    await p.click('[data-testid=view-import]');
    await p.locator('[data-testid=import-view]').waitFor(SOON);
    const before = await count(`SELECT count(*) AS n FROM elders`);

    const bad = HEAD + `IMP-1,${HOSTILE},13800138501\r\nIMP-2,钱秀兰,12345\r\nIMP-1,孙建国,13800138503\r\n`;
    await p.setInputFiles('[data-testid=import-file]', { name: 'elders.csv', mimeType: 'text/csv', buffer: Buffer.from(bad, 'utf8') });
    await p.selectOption('[data-testid=import-kind]', 'elders');
    await p.click('[data-testid=import-check]');
    const result = p.locator('[data-testid=import-check-result][data-ok=false]');
    await result.waitFor(SOON);
    const rows = await p.locator('[data-testid=import-error-row]').allTextContents();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.some((r) => r.includes('3') && /电话|phone/.test(r))).toBe(true); // the bad phone, row 3
    expect(rows.some((r) => r.includes('4'))).toBe(true); // the duplicate key, row 4
    expect(await p.locator('[data-testid=import-run]').isDisabled()).toBe(true);
    await p.screenshot({ path: join(ARTIFACTS, 'import-dry-run-phone.png') });
    expect(await count(`SELECT count(*) AS n FROM elders`)).toBe(before);

    const good = HEAD + `IMP-1,${HOSTILE},13800138501\r\nIMP-2,钱秀兰,13800138502\r\nIMP-3,孙建国,13800138503\r\n`;
    await p.setInputFiles('[data-testid=import-file]', { name: 'elders.csv', mimeType: 'text/csv', buffer: Buffer.from(good, 'utf8') });
    await p.selectOption('[data-testid=import-kind]', 'elders');
    await p.click('[data-testid=import-check]');
    await p.locator('[data-testid=import-check-result][data-ok=true]').waitFor(SOON);
    await p.click('[data-testid=import-run]');
    await p.locator('[data-testid=import-job][data-state=done]').waitFor(SOON);
    expect(await p.locator('[data-testid=import-progress]').getAttribute('value')).toBe('100');
    expect(await p.locator('[data-testid=import-done]').textContent()).toContain('3');
    expect(await count(`SELECT count(*) AS n FROM elders WHERE external_key LIKE 'IMP-%'`)).toBe(3);
    expect((await app.db.query(`SELECT name FROM elders WHERE external_key = 'IMP-1'`)).rows[0].name).toBe(HOSTILE);
    expect(await p.locator('img').count()).toBe(0);
    expect(await p.evaluate(() => (globalThis as unknown as { __x?: unknown }).__x)).toBeUndefined();
    await p.screenshot({ path: join(ARTIFACTS, 'import-done-phone.png') });

    // the export comes through Anxin as a file; installers get no contacts export
    const [download] = await Promise.all([p.waitForEvent('download'), p.click('[data-testid=export-csv-elders]')]);
    const path = await download.path();
    const text = readFileSync(path!, 'utf8');
    expect(text).toContain('IMP-3');
    expect(await p.locator('[data-testid=export-csv-contacts]').count()).toBe(0);
    await p.context().close();
  }, 120_000);

  it('an admin sees the templates; an agent has no import screen (and the API says 403)', async () => {
    const p = await open('guanli', { width: 1366, height: 768 });
    await p.click('[data-testid=view-import]');
    await p.locator('[data-testid=template-xlsx]').waitFor(SOON);
    const [download] = await Promise.all([p.waitForEvent('download'), p.click('[data-testid=template-csv-devices]')]);
    expect(download.suggestedFilename()).toMatch(/template-devices.*\.csv$/);
    await p.screenshot({ path: join(ARTIFACTS, 'import-admin.png') });
    await p.context().close();
    const a = await open('zuoxi', { width: 1366, height: 768 });
    expect(await a.locator('[data-testid=view-import]').count()).toBe(0);
    const r = await app.http.inject({ url: '/api/import/template?format=xlsx', headers: await login(app, 'zuoxi', PASSWORD) });
    expect(r.statusCode).toBe(403);
    await a.context().close();
    expect(errors).toEqual([]);
  }, 60_000);
});
