/**
 * Issue 15, item 1 (stored XSS → session takeover), in Chromium against the real server (CSP and cookie sessions on).
 * Script payloads go into every text the dashboard shows: the elder's name, address, conditions, medications,
 * allergies, access notes and dialect, the contacts' names, relations and notes, device models and a free-text device
 * identifier, a 200-character geofence name (the most the rules take), alarm notes, resolve and follow-up notes, the users' display names
 * and the reasons (and raw text) of device commands. Then an agent, a supervisor and an installer walk the screens:
 * screen-pop, accept, the geofence's tooltip, the timeline and the device commands, English, a reload; the agent
 * table and the alert banner. Nothing may run (window.__xss stays unset, no dialog, no CSP violation), the payloads
 * must show as text, the session cookie stays out of reach of scripts and no token is in web storage. Revoking the
 * session sends the page to the login with a message and no reconnecting. Screenshots at 1366×768 go to
 * tests/artifacts/xss-*.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { ensureDashboardBuilt, findChromium, launchChromium, ARTIFACTS, VIEWPORT, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const WATCH_A = '8800000031';
const WATCH_B = '8800000032';
const HOME = { lat: 31.2243, lon: 121.4457 };

// ---------------------------------------------------------------- the payloads

const IMG = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';
const SCRIPT = '<script>window.__xss=1</script>';
const SVG = '"><svg onload=window.__xss=1>';
const JS_URL = 'javascript:window.__xss=1//';
const IFRAME = "<iframe srcdoc='<script>parent.__xss=1</script>'></iframe>";
/** A hostile string of exactly n characters: every payload, then Chinese and English words, then more payloads. */
const long = (n: number, head = IMG) => {
  let s = `${head} ${SCRIPT} ${SVG} ${JS_URL} ${IFRAME} 很长很长的一段文字 a-very-long-unbroken-word-without-any-space-`;
  while (s.length < n) s += `${SVG}${IMG}长文本`;
  return s.slice(0, n);
};

const ELDER_NAME = `${IMG}张<b>秀英</b>`;
const ELDER_B_NAME = `${SVG}欧阳<i>建国</i>`;
const ADDRESS = long(300, `${SVG} 上海市静安区 ${JS_URL}`);
const CONDITIONS = long(2000, `${SCRIPT} 高血压`);
const MEDICATIONS = long(2000, `${IMG} 氨氯地平`);
const ALLERGIES = long(1000, `${SVG} 青霉素`);
const ACCESS = long(1000, `${IFRAME} 钥匙盒 2580`);
const DIALECT = `${SVG}上海话`.slice(0, 50);
const FENCE = long(200, `${IMG} 小区围栏`); // the longest name the rules schema takes
const CONTACT_NAME = `${IMG}李明`;
const CONTACT_RELATION = SVG;
const CONTACT_NOTES = long(500, `${JS_URL} ${SCRIPT} 住501`);
const MODEL = `${SCRIPT}S8`;
const ZB_ID = '<img src=x onerror=window.__xss=1>';
const ZB_MODEL = long(100, SVG);
const AGENT_NAME = `${IMG}王芳`;
const AGENT2_NAME = `${SCRIPT}李强`.slice(0, 64);
const LEAD_NAME = `${SVG}陈班长`;
const INSTALLER_NAME = `${IMG}装维`;
const NOTE = long(4000, `${IMG} 备注`);
const RESOLVE_NOTE = long(1000, `${SCRIPT} 处理备注`);
const FOLLOW_UP_NOTE = long(600, `${SVG} 回访备注`);
const REASON_DANGEROUS = long(500, `${IMG} 原因：设备被盗`);
const REASON_PLAIN = `${SVG} 请家属确认`;
const CUSTOM = '<img src=x onerror="window.__xss=1">,POWEROFF';
const MESSAGE = `${SCRIPT}吃药`;

// ---------------------------------------------------------------- the run

let app: App;
let browser: Browser;
let base: string;
let admin: { authorization: string };
let agentId: number;
let elderA: number;
const watches: SimulatedWatch[] = [];
const pages: { name: string; page: Page; ctx: BrowserContext }[] = [];
const dialogs: string[] = [];
const csp: string[] = [];
const errors: string[] = [];

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `xss-${name}.png`) });

/** Installed before the page's scripts: records every CSP violation the page sees. */
const CSP_PROBE = `
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
`;

async function newPage(name: string, locale = 'zh-CN'): Promise<Page> {
  const ctx = await browser.newContext({ viewport: VIEWPORT, locale, timezoneId: 'Asia/Shanghai' });
  await ctx.addInitScript({ content: CSP_PROBE });
  const page = await ctx.newPage();
  page.on('dialog', (d) => {
    dialogs.push(`${name}: ${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  page.on('console', (m) => {
    const text = m.text();
    if (/Content[- ]Security[- ]Policy|Refused to (execute|load|apply|frame)/i.test(text)) csp.push(`${name}: ${text}`);
    else if (m.type() === 'error') errors.push(`${name}: ${text}`);
  });
  page.on('pageerror', (e) => errors.push(`${name}: pageerror: ${e.message}`));
  pages.push({ name, page, ctx });
  await page.goto(base);
  return page;
}

async function logIn(page: Page, username: string, password = username === 'admin' ? ADMIN_PASSWORD : PASSWORD): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=statusbar]').waitFor(SOON);
}

/** The little of the DOM the probes below use (the root tsconfig has no DOM types). */
type El = { src?: string; textContent: string | null };
type Doc = { cookie: string; querySelectorAll(selector: string): { length: number; [Symbol.iterator](): Iterator<El> } };
type Store = { length: number; key(i: number): string | null; getItem(k: string): string | null };

/** Nothing ran on the page, no javascript: link or script element came from data. */
async function expectClean(page: Page, where: string): Promise<void> {
  const probe = await page.evaluate(() => {
    const w = globalThis as unknown as { __xss?: unknown; __csp?: string[]; document: Doc };
    const d = w.document;
    return {
      xss: w.__xss,
      csp: w.__csp ?? [],
      jsUrls: d.querySelectorAll('[href^="javascript:" i], [src^="javascript:" i], [action^="javascript:" i]').length,
      // the only scripts are the bundle; no element from a payload exists
      inlineScripts: [...d.querySelectorAll('script')].filter((s) => !s.src).length,
      payloadElements: d.querySelectorAll('img[src="x"], svg[onload], iframe, [onerror], [onload]').length + [...d.querySelectorAll('b, i')].filter((e) => /秀英|建国/.test(e.textContent ?? '')).length,
    };
  });
  expect(probe, where).toEqual({ xss: undefined, csp: [], jsUrls: 0, inlineScripts: 0, payloadElements: 0 });
}

/** The session cookie: set, HttpOnly, SameSite=Strict, unseen by scripts; no token in web storage. */
async function expectCookieSession(page: Page, ctx: BrowserContext, where: string): Promise<void> {
  const cookie = (await ctx.cookies()).find((c) => c.name === 'anxin_session');
  expect(cookie, where).toBeDefined();
  expect(cookie!.httpOnly).toBe(true);
  expect(cookie!.sameSite).toBe('Strict');
  const seen = await page.evaluate(() => {
    const g = globalThis as unknown as { document: Doc; sessionStorage: Store; localStorage: Store };
    const dump = (s: Store) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => s.key(i)!).map((k) => [k, s.getItem(k)]));
    return { cookie: g.document.cookie, session: dump(g.sessionStorage), local: dump(g.localStorage) };
  });
  expect(seen.cookie, where).not.toContain('anxin_session');
  expect(seen.cookie).not.toContain(cookie!.value);
  const stored = JSON.stringify([seen.session, seen.local]);
  expect(stored, where).not.toContain(cookie!.value);
  expect(Object.keys(seen.session).filter((k) => /token|session/i.test(k)), where).toEqual([]);
  expect(Object.keys(seen.local).filter((k) => /token/i.test(k)), where).toEqual([]);
}

describe.skipIf(!CHROMIUM)('issue 15 in Chromium: hostile text stays text, the session stays in an HttpOnly cookie', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp({}, { WRAP_UP_S: '0' });
    base = `http://127.0.0.1:${app.httpPort}`;
    admin = await login(app);
    const call = async (method: 'POST' | 'PATCH', url: string, payload: object, status = method === 'POST' ? 201 : 200) => {
      const r = await app.http.inject({ method, url, headers: admin, payload });
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status);
      return r.json();
    };
    for (const [username, displayName, role, extension] of [
      ['wangfang', AGENT_NAME, 'agent', '8001'],
      ['liqiang', AGENT2_NAME, 'agent', '8002'],
      ['lead', LEAD_NAME, 'supervisor', undefined],
      ['zhuangwei', INSTALLER_NAME, 'installer', undefined],
    ] as const) {
      const u = await call('POST', '/api/users', { username, displayName, role, password: PASSWORD, ...(extension ? { extension } : {}) });
      if (username === 'wangfang') agentId = u.id;
    }
    const slow = { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 600, action: 'present_all_and_alert_supervisor' }] };
    const fast = { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 3, action: 'present_all_and_alert_supervisor' }] };
    const a = await call('POST', '/api/elders', {
      name: ELDER_NAME, gender: 'female', birthDate: '1943-05-12', phone: '13800138031', address: ADDRESS, ...HOME,
      conditions: CONDITIONS, medications: MEDICATIONS, allergies: ALLERGIES, dialect: DIALECT, livesAlone: true, accessNotes: ACCESS,
      responsePlan: slow,
      contacts: [
        { name: CONTACT_NAME, relation: CONTACT_RELATION, phone: '13900139031', notes: CONTACT_NOTES },
        { name: `${SCRIPT}王桂兰`, relation: '邻居', phone: '13700137031' },
      ],
    });
    elderA = a.id;
    // The geofence as installers set it: PATCH …{rules:{geofences}}; centred south of home so its tooltip can be hovered.
    await call('PATCH', `/api/elders/${elderA}`, { rules: { geofences: [{ id: 'home', name: FENCE, shape: { type: 'circle', center: { lat: HOME.lat - 0.002, lon: HOME.lon }, radiusM: 400 } }] } });
    const b = await call('POST', '/api/elders', { name: ELDER_B_NAME, gender: 'male', birthDate: '1938-11-02', address: `${IMG}徐汇区`, responsePlan: fast, contacts: [{ name: `${SVG}欧阳丽`, relation: '女儿', phone: '13600136031' }] });
    const watchA = await call('POST', '/api/devices', { identifier: WATCH_A, protocol: 'watch', model: MODEL, elderId: elderA });
    await call('POST', '/api/devices', { identifier: ZB_ID, protocol: 'zigbee2mqtt', model: ZB_MODEL, elderId: elderA });
    await call('POST', '/api/devices', { identifier: WATCH_B, protocol: 'watch', elderId: b.id });
    // Commands to her watch (queued: it is not connected yet): a dangerous raw one with a hostile reason, a plain one.
    const cmd = async (body: object) => {
      const r = await app.http.inject({ method: 'POST', url: `/api/devices/${watchA.id}/commands`, headers: admin, payload: body });
      expect(r.statusCode, r.body).toBe(202);
    };
    await cmd({ type: 'MESSAGE', text: MESSAGE, reason: REASON_PLAIN });
    await cmd({ type: 'custom', content: CUSTOM, reason: REASON_DANGEROUS });
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterAll(async () => {
    for (const w of watches) await w.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
  });

  let agent: Page;

  it('the agent: the screen-pop shows every hostile field as text; nothing runs', async () => {
    agent = await newPage('agent');
    await logIn(agent, 'wangfang');
    await agent.locator('[data-testid=connection][data-state=online]').waitFor(SOON);
    expect(await agent.locator('[data-testid=sb-user]').textContent()).toContain(AGENT_NAME);
    await agent.fill('[data-testid=extension-input]', '8001');
    await agent.click('[data-testid=sign-in]');
    await agent.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
    await expectCookieSession(agent, pages[0]!.ctx, 'after login');

    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: WATCH_A, battery: 55 });
    await w.connect();
    watches.push(w);
    await w.sendAlarm('sos', { point: [HOME.lat, HOME.lon] });
    const file = agent.locator('[data-testid=elder-file]');
    await file.locator('[data-testid=elder-name]', { hasText: '秀英' }).waitFor(SOON);
    // literally "<img src=x …>张<b>秀英</b>", as text
    expect(await file.locator('[data-testid=elder-name]').textContent()).toContain(ELDER_NAME);
    expect(await file.locator('[data-testid=elder-address]').textContent()).toContain(ADDRESS);
    expect(await file.locator('[data-testid=access-notes]').textContent()).toContain(ACCESS);
    expect(await file.locator('[data-testid=allergies]').textContent()).toContain(ALLERGIES);
    const fileText = (await file.textContent()) ?? '';
    for (const [what, s] of Object.entries({ DIALECT, CONDITIONS, MEDICATIONS, CONTACT_NAME, CONTACT_RELATION, CONTACT_NOTES, MODEL, ZB_ID })) expect(fileText, what).toContain(s);
    // the queue row
    expect(await agent.locator('[data-testid=queue-row]').first().textContent()).toContain(ELDER_NAME);
    await expectClean(agent, 'screen-pop');
    await shot(agent, 'screen-pop');
  }, 60_000);

  it('accepting, a note, the geofence tooltip, the device commands: still text', async () => {
    const file = agent.locator('[data-testid=elder-file]');
    await agent.keyboard.press('a');
    await agent.locator('[data-testid=elder-file][data-state=accepted]').waitFor(SOON);
    // a 4,000-character note through the dialog (a cookie session: the POST carries X-CSRF-Token)
    await agent.keyboard.press('n');
    await agent.fill('[data-testid=note-text]', NOTE);
    await agent.click('[data-testid=note-save]');
    await agent.locator('[data-testid=note-dialog]').waitFor({ state: 'detached', ...SOON });
    await file.locator('[data-testid=timeline] li[data-action=note]').waitFor(SOON);
    expect(await file.locator('[data-testid=timeline] li[data-action=note]').first().textContent()).toContain(NOTE);
    // the screen-pop line names the agent (a hostile display name) as text
    await file.locator('[data-testid=timeline] li[data-action=present]', { hasText: AGENT_NAME }).waitFor(SOON);

    // hover the geofence: Leaflet's tooltip holds the name as text
    await file.locator('[data-testid=elder-map] path.map-fence').waitFor(SOON);
    // the map is centred on her (home and the alarm); the fence's centre is 220 m south: 40 px below and right of
    // the centre is inside it and clear of the markers
    const map = file.locator('[data-testid=elder-map]');
    await map.scrollIntoViewIfNeeded();
    const box = (await map.boundingBox())!;
    await agent.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2 + 40);
    const tip = agent.locator('.leaflet-tooltip.map-fence-label');
    await tip.waitFor(SOON);
    expect(await tip.textContent()).toBe(FENCE);
    expect(await tip.evaluate((el) => el.querySelectorAll('*').length)).toBe(1); // our one <span>, nothing parsed
    const tipBox = (await tip.boundingBox())!;
    expect(tipBox.width).toBeLessThanOrEqual(260);
    expect(tipBox.width).toBeGreaterThan(180); // wrapped at its max width, not squeezed to a column
    expect(tipBox.height).toBeLessThan(150);
    await expectClean(agent, 'geofence tooltip');
    await shot(agent, 'geofence-tooltip');

    // the commands sent to her devices: who, what, why, and the dangerous one marked
    const cmds = file.locator('[data-testid=device-commands]');
    await cmds.waitFor(SOON);
    const rows = cmds.locator('[data-testid=command-row]');
    expect(await rows.count()).toBe(2);
    const dangerous = cmds.locator('[data-testid=command-row][data-dangerous=true]');
    expect(await dangerous.count()).toBe(1);
    expect(await dangerous.locator('[data-testid=command-dangerous]').textContent()).toBe('危险指令');
    expect(await dangerous.textContent()).toContain(CUSTOM);
    expect(await dangerous.locator('[data-testid=command-reason]').textContent()).toBe(`原因：${REASON_DANGEROUS}`);
    expect(await dangerous.locator('[data-testid=command-reason]').getAttribute('title')).toBe(REASON_DANGEROUS);
    expect(await dangerous.textContent()).toContain('管理员 Administrator 发送'); // who sent it
    const plain = cmds.locator('[data-testid=command-row][data-dangerous=false]');
    expect(await plain.textContent()).toContain(MESSAGE);
    expect(await plain.textContent()).toContain(REASON_PLAIN);
    await cmds.scrollIntoViewIfNeeded();
    await expectClean(agent, 'commands');
    await shot(agent, 'commands');
  }, 60_000);

  it('resolving and the follow-up with hostile notes; English; a reload keeps the session (cookie + CSRF again)', async () => {
    const file = agent.locator('[data-testid=elder-file]');
    await agent.keyboard.press('r');
    await agent.locator('[data-testid=resolve-dialog]').waitFor(SOON);
    await agent.click('[data-testid=outcome-contact_attended]');
    await agent.fill('[data-testid=resolve-note]', RESOLVE_NOTE);
    await agent.click('[data-testid=resolve-save]');
    await agent.locator('[data-testid=elder-file][data-state=resolved]').waitFor(SOON);
    await agent.click('[data-testid=action-follow-up]');
    await agent.locator('[data-testid=follow-up-dialog]').waitFor(SOON);
    await agent.fill('[data-testid=follow-up-dialog] textarea', FOLLOW_UP_NOTE);
    await agent.click('[data-testid=follow-up-dialog] button[type=submit]');
    await agent.locator('[data-testid=elder-file][data-state=followed_up]').waitFor(SOON);
    const timeline = file.locator('[data-testid=timeline]');
    await timeline.locator('li[data-action=follow_up]').waitFor(SOON);
    expect(await timeline.locator('li[data-action=resolve]').textContent()).toContain(RESOLVE_NOTE);
    expect(await timeline.locator('li[data-action=follow_up]').textContent()).toContain(FOLLOW_UP_NOTE);
    await timeline.scrollIntoViewIfNeeded();
    await expectClean(agent, 'timeline');
    await shot(agent, 'timeline');

    await agent.click('[data-testid=locale-en]');
    await file.locator('[data-testid=device-commands] [data-testid=command-dangerous]', { hasText: 'Dangerous' }).waitFor(SOON);
    expect(await file.locator('[data-testid=elder-name]').textContent()).toContain(ELDER_NAME);
    await agent.locator('[data-testid=elder-file] .file-head').scrollIntoViewIfNeeded();
    await expectClean(agent, 'english');
    await shot(agent, 'english');

    // A reload: the HttpOnly cookie keeps the session; GET /api/auth/me gives the CSRF token back for the next POST.
    await agent.reload();
    await agent.locator('[data-testid=connection][data-state=online]').waitFor(SOON);
    expect(await agent.locator('[data-testid=sb-user]').textContent()).toContain(AGENT_NAME);
    await expectCookieSession(agent, pages[0]!.ctx, 'after reload');
    await agent.locator('[data-testid=aftercare] summary').click();
    await agent.locator('[data-testid=aftercare-row]').first().click();
    await file.locator('[data-testid=elder-name]').waitFor(SOON);
    // the name shows from the aftercare row at once; the `n` shortcut works once the alarm itself has loaded (the
    // note button enabled), which on a loaded machine came after the key press once (CI, 2026-12-07)
    await file.locator('[data-testid=action-note]:not([disabled])').waitFor(SOON);
    await agent.keyboard.press('n');
    await agent.fill('[data-testid=note-text]', `${SVG} after the reload`);
    await agent.click('[data-testid=note-save]');
    await file.locator('[data-testid=timeline] li[data-action=note]', { hasText: 'after the reload' }).waitFor(SOON);
    await expectClean(agent, 'after reload');
  }, 90_000);

  let lead: Page;

  it('the supervisor: hostile display names in the agent table, a hostile elder name in the alert banner', async () => {
    lead = await newPage('supervisor');
    await logIn(lead, 'lead');
    await lead.locator('[data-testid=supervisor]').waitFor(SOON);
    expect(await lead.locator('[data-testid=sb-user]').textContent()).toContain(LEAD_NAME);
    await lead.locator(`[data-testid=agent-row][data-user-id="${agentId}"]`, { hasText: AGENT_NAME }).waitFor(SOON);
    await lead.locator('[data-testid=agent-row]', { hasText: AGENT2_NAME }).waitFor(SOON);
    // Elder B's alarm is presented to the agent and, 3 s later, to everyone with a supervisor alert.
    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: WATCH_B, battery: 70 });
    await w.connect();
    watches.push(w);
    await w.sendAlarm('fall');
    const banner = lead.locator('[data-testid=sup-alert]').first();
    await banner.waitFor(SOON);
    await until(async () => ((await banner.textContent()) ?? '').includes(ELDER_B_NAME), 20_000);
    await lead.locator('[data-testid=sup-queue-row]', { hasText: ELDER_B_NAME }).waitFor(SOON);
    // the agent's screen-popped it too: the queue and file show the name as text
    await agent.locator('[data-testid=elder-file] [data-testid=elder-name]', { hasText: ELDER_B_NAME }).waitFor(SOON);
    await expectClean(lead, 'supervisor');
    await expectCookieSession(lead, pages[1]!.ctx, 'supervisor');
    await shot(lead, 'supervisor');
    await lead.click('[data-testid=locale-en]');
    await lead.locator('[data-testid=card-rate60]', { hasText: 'Answered within 60 s' }).waitFor(SOON);
    await expectClean(lead, 'supervisor en');
    await shot(lead, 'supervisor-en');
    // the supervisor opens the file from the banner
    await banner.locator('button', { hasText: 'Open' }).click();
    await lead.locator('[data-testid=elder-file] [data-testid=elder-name]', { hasText: ELDER_B_NAME }).waitFor(SOON);
    await expectClean(lead, 'supervisor file');
  }, 60_000);

  it('the installer: 设备开通, the elders and the devices work without the live stream, contacts or health notes; hostile text stays text', async () => {
    const page = await newPage('installer');
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await logIn(page, 'zhuangwei');
    expect(await page.locator('[data-testid=sb-user]').textContent()).toContain(INSTALLER_NAME);
    await page.locator('[data-testid=activate-screen]').waitFor(SOON);
    // the elders list and file: the hostile name and address as text, no health fields, no contacts
    await page.click('[data-testid=view-elders]');
    await page.fill('[data-testid=elders-search]', '秀英');
    const row = page.locator(`[data-testid=elder-row][data-elder-id="${elderA}"]`);
    await row.waitFor(SOON);
    expect(await row.locator('[data-testid=elder-row-name]').textContent()).toContain(ELDER_NAME);
    await row.click();
    await page.locator('[data-testid=ee-title]', { hasText: '秀英' }).waitFor(SOON);
    expect(await page.locator('[data-testid=ee-title]').textContent()).toBe(ELDER_NAME);
    expect(await page.locator('[data-testid=elder-editor]').textContent()).not.toContain('高血压');
    await page.click('[data-testid=ee-tab-contacts]');
    await page.locator('[data-testid=contacts-hidden]').waitFor(SOON);
    await page.click('[data-testid=ee-tab-fences]');
    await page.waitForTimeout(300);
    await expectClean(page, 'installer elder file');
    // the devices: the hostile model as text
    await page.click('[data-testid=view-devices]');
    await page.locator('[data-testid=device-row]').first().waitFor(SOON);
    expect(await page.locator('[data-testid=devices-table]').textContent()).toContain(MODEL);
    await shot(page, 'installer-devices');
    await page.waitForTimeout(1000);
    expect(sockets).toEqual([]); // no alarm stream, so no 4403 and no reconnect loop
    expect(await page.locator('[data-testid=connection]').count()).toBe(0); // and no grey "not connected" to worry about
    await expectClean(page, 'installer');
  }, 60_000);

  it('the admin console: every tab of the elder file, the contacts and the geofence editor with hostile text', async () => {
    const page = await newPage('admin');
    await logIn(page, 'admin');
    await page.click('[data-testid=view-elders]');
    await page.fill('[data-testid=elders-search]', '秀英');
    await page.locator(`[data-testid=elder-row][data-elder-id="${elderA}"]`).click();
    await page.locator('[data-testid=ee-title]', { hasText: '秀英' }).waitFor(SOON);
    expect(await page.locator('[data-testid=ee-title]').textContent()).toBe(ELDER_NAME);
    for (const tab of ['details', 'contacts', 'fences', 'rules', 'history']) {
      await page.click(`[data-testid=ee-tab-${tab}]`);
      await page.waitForTimeout(400);
      await expectClean(page, `admin elder ${tab}`);
    }
    await page.click('[data-testid=ee-tab-contacts]');
    // the contacts editor holds the hostile name as an input's value: text, nothing else
    await page.locator('[data-testid=elder-editor] input').first().waitFor(SOON);
    expect(await page.locator('[data-testid=elder-editor] input').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).toContain(CONTACT_NAME);
    await shot(page, 'admin-elder');
    await page.click('[data-testid=view-devices]');
    await page.locator('[data-testid=device-row]').first().waitFor(SOON);
    await expectClean(page, 'admin devices');
  }, 60_000);

  it('a revoked session (password reset) shows the login with a message, without reconnecting', async () => {
    const sockets: string[] = [];
    agent.on('websocket', (ws) => sockets.push(ws.url()));
    const r = await app.http.inject({ method: 'PATCH', url: `/api/users/${agentId}`, headers: admin, payload: { password: 'a-new-password-456' } });
    expect(r.statusCode).toBe(200);
    const notice = agent.locator('[data-testid=login-notice]');
    await notice.waitFor(SOON);
    // this page was switched to English above
    expect(await notice.textContent()).toBe('Your session has ended, please log in again');
    await agent.waitForTimeout(3000);
    expect(sockets).toEqual([]);
    expect(await agent.locator('[data-testid=login-form]').isVisible()).toBe(true);
    expect(await agent.locator('[data-testid=login-notice]').isVisible()).toBe(true);
    await expectClean(agent, 'revoked');
    await shot(agent, 'session-revoked');
    // a reload still shows the login (the cookie no longer works), in Chinese after switching back
    await agent.click('[data-testid=locale-zh-CN]');
    expect(await notice.textContent()).toBe('会话已失效，请重新登录');
  }, 30_000);

  it('logging out ends the session on the server and clears the cookie', async () => {
    const { ctx } = pages[1]!;
    await lead.click('[data-testid=logout]');
    await lead.locator('[data-testid=login-form]').waitFor(SOON);
    expect(await lead.locator('[data-testid=login-notice]').count()).toBe(0);
    expect((await ctx.cookies()).find((c) => c.name === 'anxin_session')).toBeUndefined();
    await lead.reload();
    await lead.locator('[data-testid=login-form]').waitFor(SOON);
    expect(await lead.locator('[data-testid=login-notice]').count()).toBe(0);
    await expectClean(lead, 'logged out');
  }, 30_000);

  it('nothing ran anywhere: no dialog, no CSP violation, no script error', async () => {
    for (const { name, page } of pages) if (!page.isClosed()) await expectClean(page, `${name} at the end`);
    expect(dialogs).toEqual([]);
    expect(csp).toEqual([]);
    // Expected: the revoked agent page's requests in flight may be refused (401) as the session ends.
    const expected = (e: string) => e.startsWith('agent: Failed to load resource: the server responded with a status of 401');
    expect(errors.filter((e) => !expected(e))).toEqual([]);
  });
});
