/**
 * The wallboard (大屏, issue 23) in Chromium at 1920×1080 against the real server: the kiosk account logs in and sees
 * the board alone (no tabs, no agent controls); a simulated watch raises an SOS over TCP and the new alarm is on the
 * board within a second of the watch's ack (measured, printed); names are masked, hostile text stays text, nothing
 * scrolls, the type is large. Screenshot: tests/artifacts/wallboard-1920.png.
 */
import { mkdirSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { ensureDashboardBuilt, findChromium, launchChromium, noMarkup, Windows, ARTIFACTS, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const WALL = { width: 1920, height: 1080 };
const WATCH = '8800000231';
const HOSTILE_NAME = '<img src=x onerror=window.__xss=1>坏<b>人</b>';
const HOSTILE_AREA = '<b>幸福</b><img src=x onerror=window.__xss=2>社区';

/** What the page scripts below use of the browser: the tests type-check without the DOM library. */
type El = { textContent: string | null; getAttribute(n: string): string | null; getBoundingClientRect(): { left: number; top: number; right: number; bottom: number }; scrollWidth: number; clientWidth: number };
type Win = {
  __seen: Record<string, number>;
  innerWidth: number;
  innerHeight: number;
  document: { body: unknown; documentElement: { scrollWidth: number; scrollHeight: number }; querySelectorAll(s: string): ArrayLike<El> & Iterable<El>; querySelector(s: string): El | null };
  MutationObserver: new (cb: () => void) => { observe(t: unknown, o: object): void };
  getComputedStyle(e: El): { fontSize: string };
};

let app: App;
const sockets = new Set<Duplex>();
let blocking = false;
let browser: Browser;
let admin: { authorization: string };
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;

async function post(url: string, payload: object, who = admin) {
  const r = await app.http.inject({ method: 'POST', url, headers: who, payload });
  expect(r.statusCode, `${url}: ${r.body}`).toBeLessThan(300);
  return r.json();
}

describe('the wallboard in Chromium at 1920×1080', () => {
  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('Chromium not found: the wallboard e2e needs it');
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp({}, { TZ_CENTRE: 'Asia/Shanghai' });
    admin = await login(app);
    await post('/api/users', { username: 'wall', displayName: '大厅大屏', role: 'wallboard', password: PASSWORD });
    for (const [username, displayName, extension, state] of [['wangfang', '王芳', '8001', 'ready'], ['liqiang', '李强', '8002', 'not_ready'], ['zhaoli', '赵丽', '8003', 'ready']] as const) {
      await post('/api/users', { username, displayName, role: 'agent', password: PASSWORD, extension });
      await post('/api/agents/me/sign-in', { extension, state }, await login(app, username, PASSWORD));
    }
    await post('/api/users', { username: 'lead', displayName: '陈班长', role: 'supervisor', password: PASSWORD });
    const zhang = await post('/api/elders', { name: '张秀英', phone: '13800138000', address: '上海市静安区南京西路1601弄3号502室', area: '南京西路街道', lat: 31.2243, lon: 121.4457 });
    await post('/api/devices', { identifier: WATCH, protocol: 'watch', elderId: zhang.id });
    const bad = await post('/api/elders', { name: HOSTILE_NAME, phone: '13800138001', address: '共和新路 1 号', area: HOSTILE_AREA, lat: 31.27, lon: 121.45 });
    // Homes for the density layer: a cluster in Jing'an and a few across the river.
    for (let i = 0; i < 24; i++) {
      await q(`INSERT INTO elders (name, area, lat, lon) VALUES ($1, '静安寺街道', $2, $3)`, [`老人${i}`, 31.22 + (i % 6) * 0.004, 121.44 + Math.floor(i / 6) * 0.005]);
    }
    for (let i = 0; i < 6; i++) await q(`INSERT INTO elders (name, area, lat, lon) VALUES ($1, '陆家嘴街道', $2, $3)`, [`浦东${i}`, 31.235 + i * 0.003, 121.5 + i * 0.004]);
    // Earlier today: a waiting alarm of the hostile elder and a closed one.
    await q(`INSERT INTO alarms (kind, priority, state, first_at, last_at, elder_id, source_key) VALUES ('fall', 1, 'raised', now() - interval '95 seconds', now(), $1, 'e2e-bad')`, [bad.id]);
    await q(`INSERT INTO alarms (kind, priority, state, first_at, last_at, accepted_at, elder_id, source_key) VALUES ('one_key_service', 5, 'closed', now() - interval '20 minutes', now(), now() - interval '19 minutes', $1, 'e2e-old')`, [bad.id]);
    // The server's side of each WebSocket, so a test can cut the wall's connection.
    app.http.server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
      if (blocking) socket.destroy();
      else sockets.add(socket);
    });
    browser = await launchChromium(CHROMIUM);
  }, 180_000);

  afterEach(async () => {
    expect(await windows.done()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('the kiosk sees the board alone; a watch’s SOS is on it within a second of the ack; masked, text only, no scrolling', async () => {
    const page = await windows.open('wall', PASSWORD, { viewport: WALL, ready: '[data-testid=wb-queue]', name: 'wallboard' });
    // The board alone: no status bar, tabs or agent controls.
    expect(await page.locator('[data-testid=statusbar], [role=tablist], [data-testid=sign-in], [data-testid=agent-state]').count()).toBe(0);
    await page.locator('[data-testid=wb-agent-counts] [data-state=ready] strong', { hasText: '2' }).waitFor(SOON);
    // Wait for the live stream (the hello and the nudge) before raising; the observer stamps each new queue row.
    await page.waitForFunction(() => (globalThis as unknown as Win).document.querySelectorAll('[data-testid=wb-queue] tr[data-alarm-id]').length === 1);
    await page.evaluate(() => {
      const w = globalThis as unknown as Win;
      w.__seen = {};
      const stamp = () => {
        for (const tr of w.document.querySelectorAll('[data-testid=wb-queue] tr[data-alarm-id]')) w.__seen[tr.getAttribute('data-alarm-id')!] ??= Date.now();
      };
      stamp();
      new w.MutationObserver(stamp).observe(w.document.body, { childList: true, subtree: true });
    });
    await new Promise((r) => setTimeout(r, 1500)); // settle: the board's first reloads are done

    const trace: string[] = [];
    const t0 = Date.now();
    page.on('websocket', (ws) => ws.on('framereceived', (f) => trace.push(`${Date.now() - t0} ws ${String(f.payload).slice(0, 60)}`)));
    page.on('request', (r) => r.url().includes('/api/wallboard') && trace.push(`${Date.now() - t0} req`));
    page.on('response', (r) => r.url().includes('/api/wallboard') && trace.push(`${Date.now() - t0} res`));
    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: WATCH, battery: 64 });
    await w.connect();
    try {
      await w.sendAlarm('sos', { point: [31.2251, 121.4472] });
      const ackAt = Date.now();
      trace.push(`${ackAt - t0} ack`);
      const [{ id }] = await q(`SELECT id FROM alarms WHERE source_key = $1 ORDER BY id DESC LIMIT 1`, [WATCH]);
      await page.locator(`[data-testid=wb-queue] tr[data-alarm-id="${id}"]`).waitFor(SOON);
      const seenAt = await page.evaluate((k) => (globalThis as unknown as Win).__seen[k], String(id));
      const ms = seenAt! - ackAt;
      console.log(`wallboard: the SOS was on the board ${ms} ms after the watch's ack`);
      console.log(trace.join('\n'), `seen ${seenAt! - t0}`);
      expect(ms).toBeLessThanOrEqual(1000);
    } finally {
      await w.close();
    }

    const row = page.locator('[data-testid=wb-queue] tr.p1', { hasText: '张*英' });
    await row.waitFor(SOON);
    expect(await row.locator('.c-area').textContent()).toBe('南京西路街道');
    // P1 first, oldest first: the hostile elder's fall (95 s) before the new SOS.
    expect(await page.locator('[data-testid=wb-queue] tbody tr .c-area').first().textContent()).toBe(HOSTILE_AREA);
    await page.locator('[data-testid=wb-open] .wb-kpi-value', { hasText: '2' }).waitFor(SOON);
    await page.locator('[data-testid=wb-total] .wb-kpi-value', { hasText: '3' }).waitFor(SOON);
    // Ages tick each second.
    const age = page.locator('[data-testid=wb-queue] tbody tr').first().locator('[data-testid=wb-age]');
    const a0 = await age.textContent();
    await page.waitForFunction((before) => (globalThis as unknown as Win).document.querySelector('[data-testid=wb-queue] tbody tr [data-testid=wb-age]')?.textContent !== before, a0, { timeout: 3000 });

    // Masked and text only: no full name, no phone, no address anywhere on the page; the hostile text is text.
    const body = (await page.locator('body').textContent()) ?? '';
    for (const s of ['张秀英', '13800138000', '南京西路1601弄', '共和新路 1 号']) expect(body, s).not.toContain(s);
    expect(await noMarkup(page, '幸福')).toEqual({ xss: undefined, elements: 0 });
    expect(await page.locator('[data-testid=wb-queue] .c-elder', { hasText: /^<\*>$/ }).count()).toBeGreaterThan(0);

    // 1920×1080 without scrolling; large type.
    const fit = await page.evaluate(() => {
      const w = globalThis as unknown as Win;
      const d = w.document.documentElement;
      const px = (sel: string) => Math.min(...Array.from(w.document.querySelectorAll(sel)).map((e) => parseFloat(w.getComputedStyle(e).fontSize)));
      const panels = Array.from(w.document.querySelectorAll('.wb-panel, .wb-kpi')).map((e) => e.getBoundingClientRect());
      return {
        scroll: [d.scrollWidth, d.scrollHeight],
        inside: panels.every((r) => r.left >= 0 && r.top >= 0 && r.right <= w.innerWidth && r.bottom <= w.innerHeight),
        kpi: px('.wb-kpi-value'),
        table: px('.wb-table td'),
        // no KPI number is cut off by its card
        kpiFits: Array.from(w.document.querySelectorAll('.wb-kpi-value')).every((e) => e.scrollWidth <= e.clientWidth + 1),
      };
    });
    expect(fit).toEqual({ scroll: [1920, 1080], inside: true, kpi: expect.any(Number), table: expect.any(Number), kpiFits: true });
    expect(fit.kpi).toBeGreaterThanOrEqual(64);
    expect(fit.table).toBeGreaterThanOrEqual(24);
    // Elders on the map: the density layer is drawn, with its count as text.
    expect(await page.locator('[data-testid=wb-map] .wb-density').count()).toBeGreaterThan(20);
    await page.locator('[data-testid=wb-map-legend]', { hasText: '老人 32 位' }).waitFor(SOON);
    await page.screenshot({ path: join(ARTIFACTS, 'wallboard-1920.png') });
  });

  it('supervisors open the same board as the 大屏 tab', async () => {
    const page = await windows.open('lead', PASSWORD, { viewport: WALL, name: 'lead' });
    await page.click('[data-testid=view-wallboard]');
    await page.locator('[data-testid=wallboard] [data-testid=wb-queue] tr[data-alarm-id]').first().waitFor(SOON);
    expect(await page.locator('[data-testid=statusbar]').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'wallboard-supervisor.png') });
  });

  it('a lost connection says so across the top, and the board comes back by itself', async () => {
    const page = await windows.open('wall', PASSWORD, { viewport: WALL, ready: '[data-testid=wb-queue]', name: 'wallboard-offline' });
    await page.locator('[data-testid=wb-agent-counts]').waitFor(SOON);
    await new Promise((r) => setTimeout(r, 1000));
    // The network between the wall and the server goes: every live socket dropped, new ones refused.
    windows.expect((e) => e.includes('/api/ws') && e.includes('WebSocket connection'));
    blocking = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
    const banner = page.locator('[data-testid=wb-offline]');
    await banner.waitFor(SOON);
    expect(await banner.textContent()).toContain('连接已断开');
    await page.click('[data-testid=locale-en]');
    await page.locator('[data-testid=wb-offline]', { hasText: 'Connection lost' }).waitFor(SOON);
    await page.screenshot({ path: join(ARTIFACTS, 'wallboard-offline-en.png') });
    blocking = false;
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
  });
});
