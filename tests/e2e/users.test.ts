/**
 * Users and roles (用户与角色, issue 20) in Chromium against the real server: the admin creates an agent from the
 * screen with a generated password shown once, the agent logs in with it in a second browser; a hostile display
 * name shows as text; a password reset and disabling each end the agent's session (the page shows the login);
 * an agent has no such screen and gets 403 from the users API. Screenshot at 1366×768: tests/artifacts/users.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { ensureDashboardBuilt, findChromium, launchChromium, Windows, ARTIFACTS, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const HOSTILE = '<img src=x onerror=window.__x=1>';

let app: App;
let browser: Browser;
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const ONLINE = '[data-testid=connection][data-state=online]';
const openPage = (username: string, password: string) => windows.open(username, password, { ready: ONLINE });

/** The admin's page on the users screen. */
async function adminOnUsers(): Promise<Page> {
  const p = await openPage('admin', ADMIN_PASSWORD);
  await p.click('[data-testid=view-users]');
  await p.locator('[data-testid=users-table] [data-testid=user-row][data-username=admin]').waitFor(SOON);
  return p;
}

/** Creates a user from the screen with a generated password; returns the password the screen showed once. */
async function createFromScreen(p: Page, u: { username: string; displayName: string; role?: string; extension?: string }): Promise<string> {
  await p.click('[data-testid=users-new]');
  await p.fill('[data-testid=new-username]', u.username);
  await p.fill('[data-testid=new-display-name]', u.displayName);
  if (u.role) await p.selectOption('[data-testid=new-role]', u.role);
  if (u.extension) await p.fill('[data-testid=new-extension]', u.extension);
  await p.click('[data-testid=create-user]');
  const secret = p.locator(`[data-testid=users-secret][data-username="${u.username}"]`);
  await secret.waitFor(SOON);
  await p.locator(`[data-testid=user-row][data-username="${u.username}"]`).waitFor(SOON);
  return (await secret.locator('[data-testid=secret-password]').textContent())!.trim();
}

describe.skipIf(!CHROMIUM)('users and roles in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    browser = await launchChromium(CHROMIUM!);
    app = await startTestApp();
  }, 180_000);

  afterEach(async () => {
    expect(await windows.done()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('the admin creates an agent with a password shown once; the agent logs in with it; a hostile name is text', async () => {
    const admin = await adminOnUsers();
    const password = await createFromScreen(admin, { username: 'zhaolei', displayName: HOSTILE, extension: '8011' });
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    const row = admin.locator('[data-testid=user-row][data-username=zhaolei]');
    expect(await row.getAttribute('data-role')).toBe('agent');
    expect(await row.getAttribute('data-disabled')).toBe('false');
    expect(await row.locator('[data-testid=user-display-name]').textContent()).toBe(HOSTILE);
    expect(await row.locator('img').count()).toBe(0);
    // the last login: the admin has just logged in, the new agent never has
    expect(await row.locator('[data-testid=user-last-login]').textContent()).toBe('从未登录');
    expect(await admin.locator('[data-testid=user-row][data-username=admin] [data-testid=user-last-login]').textContent()).toMatch(/\d{2}:\d{2}/);
    // the admin's own row: no disable, no role change, no reset (it would end this session)
    const self = admin.locator('[data-testid=user-row][data-username=admin]');
    expect(await self.locator('[data-testid=user-disable]').count()).toBe(0);
    expect(await self.locator('[data-testid=user-reset]').count()).toBe(0);
    expect(await self.locator('[data-testid=user-role]').count()).toBe(0);
    await admin.screenshot({ path: join(ARTIFACTS, 'users.png') });

    // a taken username: the server's 409, in Chinese
    await admin.click('[data-testid=secret-done]');
    windows.expect((e) => e.startsWith('admin: console:') && /409/.test(e));
    await admin.click('[data-testid=users-new]');
    await admin.fill('[data-testid=new-username]', 'zhaolei');
    await admin.click('[data-testid=pw-typed]');
    await admin.fill('[data-testid=new-password]', 'another-pass-1');
    await admin.click('[data-testid=create-user]');
    await admin.locator('[data-testid=users-error]', { hasText: '用户名已被占用' }).waitFor(SOON);
    await admin.screenshot({ path: join(ARTIFACTS, 'users-create.png') });

    const agent = await openPage('zhaolei', password);
    expect(await agent.locator('[data-testid=sb-user]').textContent()).toContain(HOSTILE);
    expect(await agent.locator('[data-testid=view-users]').count()).toBe(0);
    expect(await admin.evaluate(() => (globalThis as { __x?: unknown }).__x)).toBeUndefined();
    expect(await agent.evaluate(() => (globalThis as { __x?: unknown }).__x)).toBeUndefined();
  }, 90_000);

  it('a password reset shows the new one once and logs the user out; disabling logs out and keeps out', async () => {
    const admin = await adminOnUsers();
    const first = await createFromScreen(admin, { username: 'sunli', displayName: '孙丽', extension: '8012' });
    await admin.click('[data-testid=secret-done]');
    const agent = await openPage('sunli', first);

    // reset: confirmed, the new password shown, the agent's page back at the login
    const row = admin.locator('[data-testid=user-row][data-username=sunli]');
    await row.locator('[data-testid=user-reset]').click();
    await admin.locator('[data-testid=confirm-dialog]').waitFor(SOON);
    await admin.click('[data-testid=confirm-ok]');
    const secret = admin.locator('[data-testid=users-secret][data-username=sunli]');
    await secret.waitFor(SOON);
    const second = (await secret.locator('[data-testid=secret-password]').textContent())!.trim();
    expect(second).not.toBe(first);
    await agent.locator('[data-testid=login-notice]').waitFor(SOON);
    await admin.click('[data-testid=secret-done]');

    // the new password works
    await agent.fill('input[name=username]', 'sunli');
    await agent.fill('input[name=password]', second);
    await agent.click('button[type=submit]');
    await agent.locator('[data-testid=connection][data-state=online]').waitFor(SOON);

    // disable: cancel first (nothing happens), then confirm
    await row.locator('[data-testid=user-disable]').click();
    await admin.keyboard.press('Escape');
    await admin.locator('[data-testid=confirm-dialog]').waitFor({ state: 'detached', ...SOON });
    await row.locator('[data-testid=user-disable]').click();
    await admin.click('[data-testid=confirm-cancel]');
    expect(await row.getAttribute('data-disabled')).toBe('false');
    await row.locator('[data-testid=user-disable]').click();
    await admin.locator('[data-testid=confirm-dialog]', { hasText: 'sunli' }).waitFor(SOON);
    await admin.click('[data-testid=confirm-ok]');
    await admin.locator('[data-testid=user-row][data-username=sunli][data-disabled=true]').waitFor(SOON);
    await agent.locator('[data-testid=login-notice]').waitFor(SOON);
    expect(await agent.locator('input[name=username]').isVisible()).toBe(true);

    // a disabled account cannot log in again
    windows.expect((e) => e.startsWith('sunli: console:') && /401/.test(e));
    await agent.fill('input[name=username]', 'sunli');
    await agent.fill('input[name=password]', second);
    await agent.click('button[type=submit]');
    await agent.locator('.form-error', { hasText: '用户名或密码错误' }).waitFor(SOON);
    expect(await agent.locator('[data-testid=connection]').count()).toBe(0);

    // enabled again, and a role change (confirmed) shows in the row
    await row.locator('[data-testid=user-enable]').click();
    await admin.locator('[data-testid=user-row][data-username=sunli][data-disabled=false]').waitFor(SOON);
    await row.locator('[data-testid=user-role]').selectOption('supervisor');
    await admin.locator('[data-testid=confirm-dialog]').waitFor(SOON);
    await admin.click('[data-testid=confirm-ok]');
    await admin.locator('[data-testid=user-row][data-username=sunli][data-role=supervisor]').waitFor(SOON);
  }, 90_000);

  it('an agent has no users screen, and the users API answers it 403', async () => {
    const adminAuth = await login(app);
    const r = await app.http.inject({ method: 'POST', url: '/api/users', headers: adminAuth, payload: { username: 'qianwei', displayName: '钱伟', role: 'agent', password: PASSWORD } });
    expect(r.statusCode).toBe(201);
    const agent = await openPage('qianwei', PASSWORD);
    expect(await agent.locator('[data-testid=view-users]').count()).toBe(0);
    expect(await agent.locator('[data-testid=users-view]').count()).toBe(0);
    // from the agent's own page (its cookie session): listing users is refused
    windows.expect((e) => e.startsWith('qianwei: console:') && /403/.test(e));
    expect(await agent.evaluate(() => fetch('/api/users').then((x) => x.status))).toBe(403);
    // and creating one, with the agent's own token
    const auth = await login(app, 'qianwei', PASSWORD);
    const c = await app.http.inject({ method: 'POST', url: '/api/users', headers: auth, payload: { username: 'intruder', role: 'admin', password: 'intruder-pass' } });
    expect(c.statusCode).toBe(403);
    expect(c.json().error).toBe('forbidden');
  }, 60_000);
});
