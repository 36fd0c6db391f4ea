/**
 * Issue 21 in Chromium: work orders (工单). An admin sets up a service station (its position picked on the map) and
 * a staff member with a rota covering now, in the screens. An agent with a presented alarm (a watch's fall) resolves it
 * with 已派服务人员: its emergency order opens, and the agent dispatches it to the suggested staff member. She gets an SMS through the
 * simulated SMSC (real SMPP) with a one-time link, opens it on a phone (390×844) and taps 接单, 已到达, 完成; the
 * agent's screen follows each step live, without a reload. The link refuses a guess and an expired copy. The agent replies to the family and makes the follow-up
 * call (4 stars), then archives it. Hostile text in a title, description and result renders as text.
 * Screenshots: orders-*.png (1366×768).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedSmsc, type MessageSeen } from '../../simulators/smsc/smsc.ts';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { setResponderLinkExpiry } from '../../gateway/store/responder-links.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { clickMap, noMarkup, ensureDashboardBuilt, findChromium, launchChromium, Windows, ARTIFACTS, PASSWORD, PHONE, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const WATCH = '8800000121';
const AREA = '共和新路街道';
const HOSTILE_TITLE = '<img src=x onerror="window.__xss=1">上门送餐';
const HOSTILE_DESC = '<script>window.__xss=2</script>老人说<b>饿了</b>';
const HOSTILE_RESULT = '"><svg onload=window.__xss=3>已送达';

let app: App;
let browser: Browser;
let smsc: SimulatedSmsc;
const texts: MessageSeen[] = [];
let admin: { authorization: string };
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const watches: SimulatedWatch[] = [];

const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `orders-${name}.png`) });
/** Today in the centre's time zone, yyyy-mm-dd. */
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

async function inject(method: 'POST' | 'GET', url: string, payload?: object) {
  const r = await app.http.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });
  expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
  return r.json();
}

/** Nothing of the payloads ran or became markup. */
const noXss = async (page: Page) => expect(await noMarkup(page, '饿了')).toEqual({ xss: undefined, elements: 0 });

describe.skipIf(!CHROMIUM)('issue 21 in Chromium: work orders from the elder file to the follow-up call', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    smsc = new SimulatedSmsc({ systemId: 'anxin', password: 'secret', receiptDelayMs: 30 });
    smsc.on('message', (m: MessageSeen) => texts.push(m));
    const smscPort = await smsc.listen();
    app = await startTestApp({}, { SMS_TRANSPORT: 'smpp', SMPP_HOST: '127.0.0.1', SMPP_PORT: String(smscPort), SMPP_SYSTEM_ID: 'anxin', SMPP_PASSWORD: 'secret', SMS_QUIET_HOURS: 'off' });
    admin = await login(app);
    const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'wangfang', displayName: '王芳', role: 'agent', password: PASSWORD, extension: '8001' } });
    expect(u.statusCode, u.body).toBe(201);
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterEach(async () => {
    expect(await windows.done()).toEqual([]);
  });

  afterAll(async () => {
    for (const w of watches) await w.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    await smsc?.close();
  });

  it('a station and a rostered nurse set up in the screens; a fall resolved with 已派服务人员 becomes a work order dispatched to her, followed live to the follow-up call', async () => {
    // 1. the admin: a station (position on the map), a nurse at it, her rota covering now
    const adm = await windows.open('admin', ADMIN_PASSWORD);
    await adm.click('[data-testid=view-orders]');
    await adm.click('[data-testid=tab-stations]');
    await adm.click('[data-testid=station-new]');
    await adm.fill('[data-testid=st-name]', '共和新路服务站');
    await adm.fill('[data-testid=st-area]', AREA);
    await adm.fill('[data-testid=st-phone]', '021-56781234');
    await clickMap(adm, 'st-map', 0, 0);
    await adm.locator('[data-testid=st-pos]', { hasText: ',' }).waitFor(SOON);
    await adm.click('[data-testid=st-save]');
    await adm.locator('[data-testid=station-row]', { hasText: '共和新路服务站' }).waitFor(SOON);
    const station = (await app.db.query('SELECT id, lat, lon FROM stations')).rows[0] as { id: number; lat: number; lon: number };
    expect(station.lat).not.toBeNull();

    await adm.click('[data-testid=staff-new]');
    await adm.fill('[data-testid=sf-name]', '李护士');
    await adm.fill('[data-testid=sf-phone]', '13700137021');
    await adm.check('[data-testid=sf-skill-nurse]');
    await adm.selectOption('[data-testid=sf-station]', String(station.id));
    await adm.click('[data-testid=sf-save]');
    await adm.locator('[data-testid=staff-row]', { hasText: '李护士' }).waitFor(SOON);
    await adm.locator('[data-testid=rota]').waitFor(SOON);
    await adm.click('[data-testid=rota-add]');
    await adm.selectOption('[data-testid=rota-kind]', 'date');
    await adm.fill('[data-testid=rota-date]', today());
    await adm.fill('[data-testid=rota-start]', '00:00');
    await adm.fill('[data-testid=rota-end]', '24:00');
    await adm.click('[data-testid=rota-save]');
    await adm.locator('[data-testid=rota-save]:disabled').waitFor(SOON);
    // the "saved" notices over the staff table: dismissed for the picture
    while (await adm.locator('[data-testid=notice-info] button').count()) await adm.locator('[data-testid=notice-info] button').first().click();
    await shot(adm, 'stations');
    const staffId = Number((await app.db.query('SELECT id FROM staff')).rows[0].id);
    expect((await inject('GET', `/api/staff/${staffId}/rota`)).map((e: { date: string; start: string; end: string }) => [e.date, e.start, e.end])).toEqual([[today(), '00:00', '24:00']]);

    // the elder lives in the station's area, ~550 m north of it, with a watch
    const elder = await inject('POST', '/api/elders', { name: '陈桂芳', gender: 'female', birthDate: '1941-03-08', phone: '13800138121', address: '上海市静安区共和新路 1000 弄 2 号 301 室', area: AREA, lat: station.lat + 0.005, lon: station.lon });
    await inject('POST', '/api/devices', { identifier: WATCH, protocol: 'watch', elderId: elder.id });

    // 2. the agent: ready; the watch reports a fall; her file pops
    const agent = await windows.open('wangfang', PASSWORD);
    await agent.fill('[data-testid=extension-input]', '8001');
    await agent.click('[data-testid=sign-in]');
    await agent.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: WATCH, battery: 80, path: [[station.lat + 0.005, station.lon]] });
    watches.push(w);
    await w.connect();
    await w.sendAlarm('fall');
    const file = agent.locator('[data-testid=elder-file][data-state=presented]');
    await file.locator('[data-testid=elder-name]', { hasText: '陈桂芳' }).waitFor(SOON);
    await agent.click('[data-testid=action-accept]');
    await agent.locator('[data-testid=elder-file][data-state=accepted]').waitFor(SOON);

    // 3. she has fallen and needs a nurse: the agent resolves the fall with 已派服务人员; its emergency order opens and
    //    the dispatch suggestions pop at once, the nearest station's on-duty nurse first
    const box = agent.locator('[data-testid=elder-orders]');
    await agent.click('[data-testid=action-resolve]');
    await agent.click('[data-testid=outcome-service_dispatched]');
    await agent.click('[data-testid=resolve-save]');
    await agent.locator('[data-testid=elder-file][data-state=resolved]').waitFor(SOON);
    const dlg = agent.locator('[data-testid=dispatch-dialog]');
    const first = dlg.locator('[data-testid=suggest-staff-row]').first();
    await first.waitFor(SOON);
    expect(await first.getAttribute('data-staff-id')).toBe(String(staffId));
    const why = (await first.locator('[data-testid=suggest-why]').textContent())!;
    expect(why).toContain('同片区');
    expect(why).toMatch(/距离 5\d\d m/);
    await shot(agent, 'suggest');
    await first.locator('[data-testid=suggest-dispatch-staff]').click();
    await dlg.waitFor({ state: 'detached', ...SOON });
    const row = box.locator('[data-testid=elder-order][data-state=dispatched]');
    await row.waitFor(SOON);
    // one open order per alarm: 派单 from the file is off for this alarm now, and says why
    expect(await box.locator('[data-testid=order-open]').isDisabled()).toBe(true);
    const orderId = Number(await row.getAttribute('data-order-id'));
    const order = (await app.db.query('SELECT type, alarm_id, staff_id, station_id FROM work_orders WHERE id = $1', [orderId])).rows[0];
    expect(order).toMatchObject({ type: 'emergency', staff_id: staffId, station_id: station.id });
    expect(order.alarm_id).not.toBeNull();
    await shot(agent, 'file-box');

    // 4. the order in the 工单 view; the responder's steps arrive live (no reload: a marker on window survives)
    await row.locator('[data-testid=elder-order-open]').click();
    const detail = agent.locator(`[data-testid=order-detail][data-order-id="${orderId}"]`);
    await detail.locator('[data-testid=order-responder]', { hasText: '李护士' }).waitFor(SOON);
    await agent.evaluate(() => ((globalThis as unknown as { __noReload: boolean }).__noReload = true));
    const listRow = agent.locator(`[data-testid=order-row][data-order-id="${orderId}"]`);
    // the nurse's SMS, with the link to her page
    await expect.poll(() => texts.find((m) => m.destination.endsWith('13700137021'))?.text ?? '', SOON).toContain('/r/');
    const sms = texts.find((m) => m.destination.endsWith('13700137021'))!.text;
    expect(sms).toContain('陈桂芳');
    expect(sms).toContain(`:${app.httpPort}/r/`); // no PUBLIC_URL: this server as bound (HTTP_PORT=0 here)
    const token = /\/r\/([A-Za-z0-9_-]+)/.exec(sms)![1]!;
    const phoneCtx = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', geolocation: { latitude: station.lat + 0.005, longitude: station.lon }, permissions: ['geolocation'] });
    const nurse = await phoneCtx.newPage();
    await nurse.goto(`http://127.0.0.1:${app.httpPort}/r/${token}`);
    await nurse.locator('[data-testid=responder][data-state=dispatched]').waitFor(SOON);
    expect(await nurse.locator('[data-testid=responder-elder]').textContent()).toBe('陈桂芳');
    expect(await nurse.locator('[data-testid=responder-address]').textContent()).toContain('共和新路 1000 弄');
    await nurse.screenshot({ path: join(ARTIFACTS, 'orders-responder.png') });
    for (const [step, state, action] of [
      ['accept', 'accepted', 'accept'],
      ['arrive', 'on_site', 'arrive'],
      ['done', 'done', 'done'],
    ] as const) {
      if (step === 'done') await nurse.fill('[data-testid=responder-result]', HOSTILE_RESULT);
      await nurse.click(`[data-testid=responder-${step}]`);
      await nurse.locator(`[data-testid=responder][data-state=${state}]`).waitFor(SOON);
      await agent.locator(`[data-testid=order-detail][data-order-id="${orderId}"][data-state=${state}]`).waitFor(SOON);
      await agent.locator(`[data-testid=order-row][data-order-id="${orderId}"][data-state=${state}]`).waitFor(SOON);
      await detail.locator(`[data-testid=order-event][data-action=${action}]`).waitFor(SOON);
    }
    await nurse.locator('[data-testid=responder-finished]').waitFor(SOON);
    // her steps carry her name, and say they came from her page
    await detail.locator('[data-testid=order-event][data-action=accept]', { hasText: '李护士' }).waitFor(SOON);
    // the agent sees the SMS on the order, delivered (the SMSC's receipt)
    await until(async () => (await app.db.query(`SELECT state FROM sms_messages WHERE number = '13700137021'`)).rows[0]?.state === 'delivered', 20_000).catch(async (e: unknown) => {
      throw new Error(`the nurse's SMS is not delivered in the database: ${JSON.stringify((await app.db.query('SELECT id, state, parts, message_ids, reason FROM sms_messages')).rows)} ${String(e)}`);
    });
    await detail.locator('[data-testid=order-sms-row][data-direction=out][data-state=delivered]', { hasText: '13700137021' }).waitFor(SOON);
    expect(await detail.locator('[data-testid=order-sms-row][data-state=delivered]').innerText()).not.toContain('送达 (000)'); // err:000 is no error
    await nurse.screenshot({ path: join(ARTIFACTS, 'orders-responder-done.png') });
    // her position came with 已到达; every use of the link is audited
    const arrived = (await app.db.query(`SELECT actor, detail FROM work_order_events WHERE order_id = $1 AND action = 'arrive'`, [orderId])).rows[0];
    expect(arrived).toMatchObject({ actor: `staff:${staffId}`, detail: { via: 'link' } });
    expect(arrived.detail.lat).toBeCloseTo(station.lat + 0.005, 4);
    expect(Number((await app.db.query(`SELECT count(*) FROM audit_log WHERE actor = $1 AND target = $2`, [`staff:${staffId}`, `work_order:${orderId}`])).rows[0].count)).toBeGreaterThanOrEqual(4);
    // a guessed link and an expired one are refused, and say so
    await nurse.goto(`http://127.0.0.1:${app.httpPort}/r/${'x'.repeat(24)}`);
    await nurse.locator('[data-testid=responder-error]', { hasText: '链接无效' }).waitFor(SOON);
    await setResponderLinkExpiry(app.db, token, new Date(Date.now() - 1000));
    await nurse.goto(`http://127.0.0.1:${app.httpPort}/r/${token}`);
    await nurse.locator('[data-testid=responder-error]', { hasText: '链接已过期' }).waitFor(SOON);
    await phoneCtx.close();
    expect(await agent.evaluate(() => (globalThis as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    expect(await detail.locator('[data-testid=order-result]').textContent()).toContain(HOSTILE_RESULT);
    // only what the server allows in 'done': reply and cancel
    expect(await detail.locator('[data-testid=order-actions] button').evaluateAll((b) => b.map((x) => x.getAttribute('data-testid')))).toEqual(['order-action-reply', 'order-action-cancel']);
    await shot(agent, 'done');

    // 5. reply to the family, then the follow-up call: 4 stars
    await detail.locator('[data-testid=order-action-reply]').click();
    await agent.fill('[data-testid=order-reply-note]', '已电话告知儿子');
    await agent.click('[data-testid=order-reply-save]');
    await agent.locator(`[data-testid=order-detail][data-order-id="${orderId}"][data-state=replied]`).waitFor(SOON);
    // due for its follow-up call (回访): click-to-call the elder from the order
    await detail.locator('[data-testid=order-call-elder]').waitFor(SOON);
    await detail.locator('[data-testid=order-action-follow-up]').click();
    await agent.click('[data-testid=order-star-4]');
    await agent.fill('[data-testid=order-follow-up-text]', '护士很及时');
    await shot(agent, 'follow-up');
    await agent.click('[data-testid=order-follow-up-save]');
    await agent.locator(`[data-testid=order-detail][data-order-id="${orderId}"][data-state=followed_up]`).waitFor(SOON);
    expect(await detail.locator('[data-testid=order-satisfaction]').getAttribute('data-value')).toBe('4');
    await detail.locator('[data-testid=order-action-archive]').click();
    await agent.click('[data-testid=order-archive-save]');
    await agent.locator(`[data-testid=order-detail][data-order-id="${orderId}"][data-state=archived]`).waitFor(SOON);
    // archived: out of the open list, no action left
    await listRow.waitFor({ state: 'detached', ...SOON });
    await detail.locator('[data-testid=order-actions]', { hasText: '没有可做的操作' }).waitFor(SOON);
    expect(await detail.locator('[data-testid=order-actions] button').count()).toBe(0);
    const row2 = (await app.db.query('SELECT state, satisfaction, follow_up_comment FROM work_orders WHERE id = $1', [orderId])).rows[0];
    expect(row2).toEqual({ state: 'archived', satisfaction: 4, follow_up_comment: '护士很及时' });
    const steps = (await app.db.query('SELECT action FROM work_order_events WHERE order_id = $1 ORDER BY at, id', [orderId])).rows.map((r) => r.action);
    expect(steps).toEqual(['open', 'dispatch', 'accept', 'arrive', 'done', 'reply', 'follow_up', 'archive']);

    // 6. hostile text in a service order's title and description: text, live into the list
    const hostile = await inject('POST', '/api/work-orders', { elderId: elder.id, type: 'service', title: HOSTILE_TITLE, description: HOSTILE_DESC });
    await agent.locator(`[data-testid=order-row][data-order-id="${hostile.id}"]`, { hasText: '上门送餐' }).click();
    const hd = agent.locator(`[data-testid=order-detail][data-order-id="${hostile.id}"]`);
    expect(await hd.locator('[data-testid=order-title]').textContent()).toBe(HOSTILE_TITLE);
    await hd.getByText(HOSTILE_DESC).waitFor(SOON);
    await noXss(agent);
    await shot(agent, 'hostile');
    await noXss(adm);

    // 7. in English: the archived order, its timeline and score
    await agent.click('[data-testid=locale-en]');
    await agent.uncheck('[data-testid=order-filter-open]');
    await agent.locator(`[data-testid=order-row][data-order-id="${orderId}"]`).click();
    await agent.locator(`[data-testid=order-detail][data-order-id="${orderId}"] [data-testid=order-state]`, { hasText: 'Archived' }).waitFor(SOON);
    await agent.locator(`[data-testid=order-detail][data-order-id="${orderId}"] [data-testid=order-timeline]`, { hasText: 'Followed up' }).waitFor(SOON);
    await shot(agent, 'en');
  }, 240_000);
});
