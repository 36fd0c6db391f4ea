/**
 * Issue 14 in Chromium against the real server and the simulated Asterisk:
 * (a) a reload in the middle of a click-to-call brings back the call's state, its timer and 挂机; the call buttons
 *     stay disabled while it is live and a second call is refused (409 call_in_progress); resolving during the call
 *     asks first; after hang-up, wrap-up counts down and 结束整理 ends it;
 * (b) a P1 presented to an agent whose page is in the background raises a system notification and flashes the
 *     title until the page is visible; the supervisor's alert banner stays until acknowledged.
 * Screenshots at 1366×768 go to tests/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { collectErrors, ensureDashboardBuilt, findChromium, launchChromium, ARTIFACTS, VIEWPORT, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const WATCH_A = '8800000021';
const WATCH_B = '8800000022';
const ELDER_PHONE = '13800138001';
/** A long display name: it must show in full in the status bar ("管理员 Administ" was cut). */
const LONG_NAME = '管理员 Administrator';

let app: App;
let sim: AsteriskSim;
let browser: Browser;
let base: string;
const errors: string[] = [];
const watches: SimulatedWatch[] = [];
let agent1: Page;
let alarmId: number;

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

/**
 * Installed before the page's scripts: records every Notification the page constructs (permission "default"
 * until asked), and lets the test hide and show the page (document.hidden, visibilityState).
 */
const BACKGROUND_STUB = `
  window.__notes = [];
  window.__hidden = false;
  window.__asked = 0;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible') });
  class FakeNotification {
    static permission = 'default';
    static requestPermission() {
      window.__asked++;
      FakeNotification.permission = 'granted';
      return Promise.resolve('granted');
    }
    constructor(title, opts) {
      this.onclick = null;
      this.onclose = null;
      window.__notes.push({ title, body: opts && opts.body });
    }
    close() {}
  }
  window.Notification = FakeNotification;
`;
type Probe = { __notes: { title: string; body?: string }[]; __hidden: boolean; __asked: number };
const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((h) => {
    const g = globalThis as unknown as Probe & { document: { dispatchEvent(e: unknown): void }; Event: new (type: string) => unknown };
    g.__hidden = h;
    g.document.dispatchEvent(new g.Event('visibilitychange'));
  }, hidden);

async function newPage(name: string, opts: { background?: boolean } = {}): Promise<{ page: Page; ctx: BrowserContext }> {
  const ctx = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  await ctx.grantPermissions(['notifications'], { origin: base });
  if (opts.background) await ctx.addInitScript({ content: BACKGROUND_STUB });
  const page = await ctx.newPage();
  collectErrors(page, name, errors);
  await page.goto(base);
  return { page, ctx };
}

async function logIn(page: Page, username: string): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=connection][data-state=online]').waitFor(SOON);
}

async function signIn(page: Page, extension: string): Promise<void> {
  await page.locator('[data-testid=agent-state][data-state=signed_out]').waitFor(SOON);
  await page.fill('[data-testid=extension-input]', extension);
  await page.click('[data-testid=sign-in]');
  await page.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
}

async function watch(id: string): Promise<SimulatedWatch> {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: id, battery: 80 });
  await w.connect();
  watches.push(w);
  return w;
}

/** mm:ss (or h:mm:ss) → seconds */
const seconds = (s: string) => s.trim().split(':').map(Number).reduce((a, b) => a * 60 + b, 0);

describe.skipIf(!CHROMIUM)('issue 14 in Chromium: live calls after a reload, background P1, supervisor banners', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    sim = await startAsteriskSim({
      port: 0,
      timeScale: 0.5,
      app: 'anxin',
      directory: [
        { match: 'PJSIP/8001', action: 'answer', answerAfter: 0.5 },
        { match: 'PJSIP/8002', action: 'answer', answerAfter: 0.5 },
        { match: ELDER_PHONE, action: 'answer', answerAfter: 1 },
      ],
    });
    app = await startTestApp({}, { TELEPHONY: 'ari', ARI_URL: sim.url, ARI_USERNAME: sim.username, ARI_PASSWORD: sim.password, ARI_APP: 'anxin', WRAP_UP_S: '45' });
    await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'));
    base = `http://127.0.0.1:${app.httpPort}`;
    const admin = await login(app);
    const inject = (url: string, payload: object) => app.http.inject({ method: 'POST', url, headers: admin, payload });
    for (const [username, displayName, role, extension] of [
      ['wangfang', LONG_NAME, 'agent', '8001'],
      ['liqiang', '李强', 'agent', '8002'],
      ['lead', '陈班长', 'supervisor', undefined],
    ] as const) {
      const r = await inject('/api/users', { username, displayName, role, password: PASSWORD, ...(extension ? { extension } : {}) });
      expect(r.statusCode).toBe(201);
    }
    // Elder A: only the longest-idle agent, for a long time. Elder B: everyone and the supervisor after 3 s.
    const slow = { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 600, action: 'present_all_and_alert_supervisor' }] };
    const fast = { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 3, action: 'present_all_and_alert_supervisor' }] };
    const a = await inject('/api/elders', {
      name: '张秀英', gender: 'female', birthDate: '1943-05-12', phone: ELDER_PHONE, address: '上海市静安区南京西路1601弄3号502室', lat: 31.2243, lon: 121.4457,
      responsePlan: slow, contacts: [{ name: '李明', relation: '儿子', phone: '13900139000' }],
    });
    expect(a.statusCode).toBe(201);
    const b = await inject('/api/elders', { name: '欧阳建国', gender: 'male', birthDate: '1938-11-02', address: '上海市徐汇区漕溪北路88号', responsePlan: fast, contacts: [{ name: '欧阳丽', relation: '女儿', phone: '13600136000' }] });
    expect(b.statusCode).toBe(201);
    expect((await inject('/api/devices', { identifier: WATCH_A, protocol: 'watch', elderId: a.json().id })).statusCode).toBe(201);
    expect((await inject('/api/devices', { identifier: WATCH_B, protocol: 'watch', elderId: b.json().id })).statusCode).toBe(201);
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterAll(async () => {
    for (const w of watches) await w.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    await sim?.stop();
  });

  it('shows a long user name in full in the status bar at 1366×768', async () => {
    ({ page: agent1 } = await newPage('agent1'));
    await logIn(agent1, 'wangfang');
    await signIn(agent1, '8001');
    const user = agent1.locator('[data-testid=sb-user]');
    expect(await user.textContent()).toContain(LONG_NAME);
    const fits = await user.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return el.scrollWidth <= el.clientWidth + 1 && r.right <= (globalThis as unknown as { innerWidth: number }).innerWidth && r.left >= 0;
    });
    expect(fits).toBe(true);
  }, 60_000);

  it('accepting moves the agent to 处理中; 置闲 while holding the alarm is refused with the server’s message', async () => {
    const p = agent1;
    const w = await watch(WATCH_A);
    await w.sendAlarm('sos', { point: [31.2251, 121.4472] });
    const file = p.locator('[data-testid=elder-file]');
    await file.locator('[data-testid=elder-name]', { hasText: '张秀英' }).waitFor(SOON);
    alarmId = Number(await file.getAttribute('data-alarm-id'));
    await p.keyboard.press('a');
    await p.locator('[data-testid=elder-file][data-state=accepted]').waitFor(SOON);
    await p.locator('[data-testid=agent-state][data-state=handling]').waitFor(SOON);
    expect(await p.locator('[data-testid=agent-state]').textContent()).toContain('处理中');
    await p.click('[data-testid=state-ready]');
    const err = p.locator('[data-testid=notice-error]');
    await err.waitFor(SOON);
    expect(await err.textContent()).toContain(`#${alarmId}`);
    expect(await p.locator('[data-testid=agent-state]').getAttribute('data-state')).toBe('handling');
    await err.locator('button').last().click();
    // map labels follow the locale at once
    const label = p.locator('[data-testid=elder-map] .map-last-label');
    await label.waitFor(SOON);
    expect(await label.textContent()).toContain('报警位置');
    await p.click('[data-testid=locale-en]');
    await p.locator('[data-testid=elder-map] .map-last-label', { hasText: 'Alarm at' }).waitFor(SOON);
    await p.click('[data-testid=locale-zh-CN]');
    await p.locator('[data-testid=elder-map] .map-last-label', { hasText: '报警位置' }).waitFor(SOON);
  }, 60_000);

  it('(a) a reload during a click-to-call brings back the call, its timer and 挂机; calling again is refused', async () => {
    const p = agent1;
    const posts: string[] = [];
    p.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/calls') posts.push(r.url());
    });
    await p.keyboard.press('c');
    await p.locator('[data-testid=current-call][data-state=connected]').waitFor({ timeout: 30_000 });
    // while the call is live: no call buttons, and C does nothing
    expect(await p.locator('[data-testid=action-call-elder]').isDisabled()).toBe(true);
    expect(await p.locator('[data-testid=call-contact]').first().isDisabled()).toBe(true);
    await p.keyboard.press('c');
    await p.waitForTimeout(500);
    expect(posts.length).toBe(1);
    // let the talk timer run a little, then reload in the middle of the call
    await p.waitForTimeout(2500);
    await p.reload();
    await p.locator('[data-testid=connection][data-state=online]').waitFor(SOON);
    const bar = p.locator('[data-testid=current-call][data-state=connected]');
    await bar.waitFor(SOON);
    expect(await bar.textContent()).toContain('张秀英');
    await p.locator('[data-testid=hangup]').waitFor(SOON);
    const timer = await p.locator('[data-testid=call-timer]').textContent();
    expect(seconds(timer ?? '')).toBeGreaterThanOrEqual(2);
    // the alarm's file: the call buttons are still disabled
    await p.locator(`[data-testid=queue-row][data-alarm-id="${alarmId}"]`).click();
    await p.locator(`[data-testid=elder-file][data-alarm-id="${alarmId}"]`).waitFor(SOON);
    await p.locator('[data-testid=file-call][data-state=connected]').waitFor(SOON);
    expect(await p.locator('[data-testid=action-call-elder]').isDisabled()).toBe(true);
    expect(await p.locator('[data-testid=call-contact]').first().isDisabled()).toBe(true);
    await shot(p, 'call-restored-after-reload');
    // a second call, straight to the API with the page's session (its HttpOnly cookie and its CSRF token), is refused
    const second = await p.evaluate(async (id) => {
      const { csrfToken } = (await (await fetch('/api/auth/me')).json()) as { csrfToken: string };
      const r = await fetch('/api/calls', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: JSON.stringify({ alarmId: id }) });
      return { status: r.status, body: (await r.json()) as { error?: string; code?: string } };
    }, alarmId);
    expect(second.status).toBe(409);
    expect(second.body.error ?? second.body.code).toBe('call_in_progress');
  }, 90_000);

  it('(a) resolving during the live call asks first; after hang-up, wrap-up counts down and 结束整理 ends it', async () => {
    const p = agent1;
    await p.keyboard.press('r');
    await p.locator('[data-testid=resolve-dialog]').waitFor(SOON);
    await p.keyboard.press('2');
    expect(await p.locator('[data-testid=outcome-elder_ok]').isChecked()).toBe(true);
    await p.keyboard.press('Enter');
    const confirm = p.locator('[data-testid=confirm-dialog]');
    await confirm.waitFor(SOON);
    await shot(p, 'confirm-resolve-during-call');
    // cancel keeps the alarm as it was
    await p.click('[data-testid=confirm-cancel]');
    await confirm.waitFor({ state: 'detached', ...SOON });
    expect(await p.locator('[data-testid=elder-file]').getAttribute('data-state')).not.toBe('resolved');
    await p.keyboard.press('r');
    await p.locator('[data-testid=resolve-dialog]').waitFor(SOON);
    await p.keyboard.press('2');
    expect(await p.locator('[data-testid=outcome-elder_ok]').isChecked()).toBe(true);
    await p.keyboard.press('Enter');
    await p.click('[data-testid=confirm-ok]');
    await p.locator('[data-testid=elder-file][data-state=resolved]').waitFor(SOON);
    const detail = (await app.http.inject({ method: 'GET', url: `/api/alarms/${alarmId}`, headers: await login(app) })).json();
    const resolve = detail.timeline.find((e: { action: string }) => e.action === 'resolve');
    expect(resolve.detail.duringCall).toBe(true);
    await p.locator('[data-testid=timeline] li[data-action=resolve]', { hasText: '通话仍在进行时' }).waitFor(SOON);
    // the call is still up: hang up, then wrap-up with its countdown
    await p.click('[data-testid=hangup]');
    await p.locator('[data-testid=current-call][data-state=ended]').waitFor(SOON);
    await p.locator('[data-testid=agent-state][data-state=wrap_up]').waitFor(SOON);
    const left = seconds((await p.locator('[data-testid=wrap-up-left]').textContent()) ?? '');
    expect(left).toBeGreaterThan(30);
    expect(left).toBeLessThanOrEqual(45);
    expect(await p.locator('[data-testid=action-call-elder]').isDisabled()).toBe(false);
    await shot(p, 'wrap-up-countdown');
    // in English too, the long name still shows in full and 结束整理 is there
    await p.click('[data-testid=locale-en]');
    await p.locator('[data-testid=end-wrap-up]', { hasText: 'End wrap-up' }).waitFor(SOON);
    expect(await p.locator('[data-testid=sb-user]').evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
    await shot(p, 'wrap-up-countdown-en');
    await p.click('[data-testid=locale-zh-CN]');
    await p.click('[data-testid=end-wrap-up]');
    await p.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
    // out of the way for (b): busy, so the next alarm goes to the second agent
    await p.click('[data-testid=state-not_ready]');
    await p.locator('[data-testid=agent-state][data-state=not_ready]').waitFor(SOON);
  }, 90_000);

  it('(b) a P1 presented while the page is in the background notifies and flashes the title; the supervisor banner stays until acknowledged', async () => {
    const { page: p2 } = await newPage('agent2', { background: true });
    expect(await p2.evaluate(() => (globalThis as unknown as Probe).__asked)).toBe(0); // never on page load
    await logIn(p2, 'liqiang');
    expect(await p2.evaluate(() => (globalThis as unknown as Probe).__asked)).toBeGreaterThanOrEqual(1); // on the click
    await signIn(p2, '8002');
    const { page: lead } = await newPage('supervisor');
    await logIn(lead, 'lead');
    await lead.locator('[data-testid=supervisor]').waitFor(SOON);
    const normalTitle = await p2.title();
    // the agent's tab goes to the background
    await setHidden(p2, true);
    const w = await watch(WATCH_B);
    await w.sendAlarm('fall');
    await until(async () => (await p2.evaluate(() => (globalThis as unknown as Probe).__notes.length)) >= 1, 20_000);
    const notes = await p2.evaluate(() => (globalThis as unknown as Probe).__notes);
    expect(notes[0]!.title).toContain('【紧急】');
    expect(notes[0]!.title).toContain('跌倒');
    // the title flashes: the urgent title and the normal one in turn
    const titles = new Set<string>();
    for (let i = 0; i < 12; i++) {
      titles.add(await p2.title());
      await p2.waitForTimeout(250);
    }
    expect([...titles].some((x) => x.startsWith('【紧急】') && x.includes('欧阳建国'))).toBe(true);
    expect(titles.has(normalTitle)).toBe(true);
    // the screen-pop's timeline names whom it was presented to
    await p2.locator('[data-testid=timeline] li[data-action=present]', { hasText: '弹屏 → 李强' }).waitFor(SOON);
    // visible again: the flashing stops
    await setHidden(p2, false);
    await p2.waitForTimeout(1500);
    expect(await p2.title()).toBe(normalTitle);
    // the supervisor's banner (not accepted in time, after 3 s) stays until acknowledged
    const banner = lead.locator('[data-testid=sup-alert]').first();
    await banner.waitFor(SOON);
    expect(await banner.textContent()).toContain('欧阳建国');
    await shot(lead, 'supervisor-alert-banner');
    await lead.waitForTimeout(9000); // longer than any notice stays by itself
    expect(await lead.locator('[data-testid=sup-alert]').count()).toBeGreaterThanOrEqual(1);
    while ((await lead.locator('[data-testid=sup-alert-ack]').count()) > 0) await lead.locator('[data-testid=sup-alert-ack]').first().click();
    await lead.locator('[data-testid=sup-alerts]').waitFor({ state: 'detached', ...SOON });
  }, 120_000);

  it('logged no console errors and no uncaught exceptions', () => {
    // Expected: the refused 置闲 (409) and the refused second call (409).
    const expected = (e: string) => e.startsWith('agent1: console: Failed to load resource: the server responded with a status of 409');
    expect(errors.filter((e) => !expected(e))).toEqual([]);
    expect(errors.filter(expected).length).toBe(2);
  });
});
