/**
 * Issue 23 in Chromium (1366×768): 历史查询. An admin searches the alarm history by elder (picked by name) and kind
 * over a range of local dates, pages through it (第 1 页 → 第 2 页 → back), opens the audit log tab and finds their
 * own login from the browser's address, a failed login whose username was hostile markup, and a long detail cut
 * short with a toggle; a row of the alarm history opens the alarm on the desk. Hostile text (an elder's name, the
 * audit target and detail) renders as text. Screenshots: history-*.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { audit } from '../../gateway/store/audit.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { ARTIFACTS, PASSWORD, SOON, Windows, ensureDashboardBuilt, findChromium, launchChromium, noMarkup } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const HOSTILE_NAME = '<b>张</b>阿姨<img src=x onerror=window.__xss=1>';
const HOSTILE_USER = '<img src=x onerror=window.__xss=2>';

let app: App;
let browser: Browser;
let admin: { authorization: string };
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `history-${name}.png`) });
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
const TZ = 'Asia/Shanghai';
const localDay = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
const daysAgo = (n: number) => localDay(new Date(Date.now() - n * 86_400_000));
/** Noon of a local date of the centre (UTC+8, no DST). */
const noonOf = (day: string) => new Date(`${day}T12:00:00+08:00`);

async function inject(method: 'POST' | 'GET', url: string, payload?: object) {
  const r = await app.http.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });
  expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
  return r.json();
}

async function alarm(kind: string, elderId: number, at: Date, ownerId: number): Promise<number> {
  const r = await q(
    `INSERT INTO alarms (kind, priority, state, outcome, first_at, last_at, elder_id, owner_id, closed_at) VALUES ($1, $2, 'closed', 'elder_ok', $3, $3, $4, $5, $3) RETURNING id`,
    [kind, kind === 'sos' ? 1 : 2, at, elderId, ownerId],
  );
  return Number(r[0].id);
}

describe.skipIf(!CHROMIUM)('issue 23 in Chromium: history search and the audit log', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp({}, { TZ_CENTRE: TZ });
    admin = await login(app);
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterEach(async () => {
    expect(await windows.done()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('searches alarms by elder and kind over a range, pages, and reads the audit log with addresses', async () => {
    const agent = await inject('POST', '/api/users', { username: 'zhaoli', displayName: '赵丽', role: 'agent', password: PASSWORD });
    const zhang = await inject('POST', '/api/elders', { name: HOSTILE_NAME, phone: '13800138301', address: '上海市静安区 1 号', area: '共和新路街道' });
    const li = await inject('POST', '/api/elders', { name: '李大爷', phone: '13800138302', address: '上海市静安区 2 号', area: '共和新路街道' });
    // 30 SOS of hers in the last days, one 8 local days ago (in the range), one 12 days ago (not); her falls and his SOS: not asked for
    const now = Date.now();
    const hers: number[] = [];
    for (let i = 0; i < 30; i++) hers.push(await alarm('sos', zhang.id, new Date(now - (i * 3 + 1) * 3_600_000), agent.id));
    hers.push(await alarm('sos', zhang.id, noonOf(daysAgo(8)), agent.id));
    const old = await alarm('sos', zhang.id, noonOf(daysAgo(12)), agent.id);
    for (let i = 0; i < 5; i++) await alarm('fall', zhang.id, new Date(now - (i + 2) * 3_600_000), agent.id);
    for (let i = 0; i < 3; i++) await alarm('sos', li.id, new Date(now - (i + 2) * 3_600_000), agent.id);
    // audit rows: a failed login with hostile markup as its username, from another address; a long detail with hostile text
    const bad = await app.http.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: '198.51.100.23', payload: { username: HOSTILE_USER, password: 'nope-nope' } });
    expect(bad.statusCode).toBe(401);
    await audit(app.db, 'system', 'history_e2e_detail', `elder:${zhang.id}`, { note: HOSTILE_NAME, fields: ['name', 'phone', 'address', 'area', 'conditions', 'medications', 'allergies', 'dialect'], reason: 'a long enough detail to be cut' });

    const page = await windows.open('admin', ADMIN_PASSWORD);
    await page.click('[data-testid=view-history]');
    await page.locator('[data-testid=history-view]').waitFor(SOON);
    // the default range (the last 7 days) already lists alarms
    await page.locator('[data-testid=history-alarm-row]').first().waitFor(SOON);

    // elder by name, kind, a 10-day range
    await page.click('[data-testid=history-pick-elder]');
    await page.fill('[data-testid=elder-search]', '阿姨');
    await page.locator(`[data-testid=elder-result][data-elder-id="${zhang.id}"]`).click();
    expect(await page.locator('[data-testid=history-elder]').textContent()).toContain(HOSTILE_NAME);
    await page.selectOption('[data-testid=history-kind]', 'sos');
    await page.fill('[data-testid=history-from]', daysAgo(9));
    await page.fill('[data-testid=history-to]', daysAgo(0));
    await page.click('[data-testid=history-search]');
    const pageText = page.locator('[data-testid=history-alarms-page]');
    await expect.poll(() => pageText.textContent(), SOON).toBe('第 1 页 · 共 2 页，31 条');
    const rows = page.locator('[data-testid=history-alarm-row]');
    expect(await rows.count()).toBe(25);
    const ids = async () => (await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-alarm-id')))));
    const first = await ids();
    expect(await rows.evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-kind')))])).toEqual(['sos']);
    expect(await page.locator('[data-testid=history-alarm-elder]').first().textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('[data-testid=history-alarms-prev]').isDisabled()).toBe(true);
    expect(await noMarkup(page, '张')).toEqual({ xss: undefined, elements: 0 });
    await shot(page, 'alarms');

    await page.click('[data-testid=history-alarms-next]');
    await expect.poll(() => pageText.textContent(), SOON).toBe('第 2 页 · 共 2 页，31 条');
    await expect.poll(() => rows.count(), SOON).toBe(6);
    const second = await ids();
    expect(await page.locator('[data-testid=history-alarms-next]').isDisabled()).toBe(true);
    // every one of hers in the range once, newest first; not the one 12 days ago
    expect([...first, ...second].sort((a, b) => a - b)).toEqual([...hers].sort((a, b) => a - b));
    expect(second[second.length - 1]).toBe(hers[30]);
    expect([...first, ...second]).not.toContain(old);
    await shot(page, 'alarms-page2');
    await page.click('[data-testid=history-alarms-prev]');
    await expect.poll(() => pageText.textContent(), SOON).toBe('第 1 页 · 共 2 页，31 条');
    expect(await ids()).toEqual(first);

    // calls: the call log's own search and table
    await page.click('[data-testid=history-tab-calls]');
    await page.locator('[data-testid=call-log-filters]').waitFor(SOON);
    await page.locator('[data-testid=call-log-empty]').waitFor(SOON);
    await shot(page, 'calls');

    // the audit log: the admin's own login from the browser's address, the hostile failed login as text
    await page.click('[data-testid=history-tab-audit]');
    const auditRows = page.locator('[data-testid=audit-row]');
    await auditRows.first().waitFor(SOON);
    await page.fill('[data-testid=audit-who]', 'admin');
    await page.fill('[data-testid=audit-action]', 'login');
    await page.click('[data-testid=audit-search]');
    await expect.poll(() => auditRows.evaluateAll((els) => els.map((e) => e.getAttribute('data-action'))), SOON).toEqual(['login', 'login']);
    const mine = auditRows.first();
    expect(await mine.locator('[data-testid=audit-who-cell]').textContent()).toBe('管理员 Administrator (admin)');
    expect(await mine.locator('[data-testid=audit-ip-cell]').textContent()).toBe('127.0.0.1');
    expect(await mine.textContent()).toContain('登录');
    await shot(page, 'audit-mine');

    await page.fill('[data-testid=audit-who]', '');
    await page.fill('[data-testid=audit-action]', '');
    await page.click('[data-testid=audit-search]');
    const failed = page.locator('[data-testid=audit-row][data-action=login_failed]');
    await failed.waitFor(SOON);
    expect(await failed.locator('[data-testid=audit-ip-cell]').textContent()).toBe('198.51.100.23');
    expect(await failed.textContent()).toContain(`username:${HOSTILE_USER}`);
    expect(await failed.textContent()).toContain('登录失败');
    const long = page.locator('[data-testid=audit-row][data-action=history_e2e_detail]');
    const detail = long.locator('[data-testid=audit-detail]');
    expect(await detail.textContent()).toMatch(/…$/);
    await long.locator('[data-testid=audit-detail-toggle]').click();
    const full = JSON.parse((await detail.textContent())!);
    expect(full.note).toBe(HOSTILE_NAME);
    expect(await long.locator('[data-testid=audit-ip-cell]').textContent()).toBe('—');
    expect(await noMarkup(page, '张')).toEqual({ xss: undefined, elements: 0 });
    await shot(page, 'audit');

    // a row of the alarm history opens the alarm on the desk
    await page.click('[data-testid=history-tab-alarms]');
    const row = page.locator(`[data-testid=history-alarm-row][data-alarm-id="${hers[0]}"]`);
    await row.click();
    await page.locator(`[data-testid=elder-file][data-alarm-id="${hers[0]}"]`).waitFor(SOON);
    expect(await page.locator('[data-testid=view-desk]').getAttribute('aria-selected')).toBe('true');
  }, 120_000);
});
