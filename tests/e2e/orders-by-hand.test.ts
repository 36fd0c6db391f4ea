/**
 * Issue 21 in Chromium: what an agent opens by hand. A neighbour's call is in the call log (通话记录); from its detail
 * the agent opens a complaint order tied to the call, then opens the elder's file from the same call and raises a
 * fall by hand (人工报警): the file turns to the new alarm, the caller's words on its timeline. In 工单 a new enquiry
 * is created with no elder at all. Hostile text in the titles and the note renders as text. Screenshots:
 * orders-hand-*.png (1366×768).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { ensureDashboardBuilt, noMarkup, findChromium, launchChromium, Windows, ARTIFACTS, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const HOSTILE_TITLE = '<img src=x onerror="window.__xss=1">楼道灯坏了';
const HOSTILE_NOTE = '<script>window.__xss=2</script>邻居说她<b>摔倒</b>了';

let app: App;
let browser: Browser;
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `orders-hand-${name}.png`) });
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;

/** Nothing of the payloads ran or became markup. */
const noXss = async (page: Page) => expect(await noMarkup(page, '摔倒')).toEqual({ xss: undefined, elements: 0 });

describe.skipIf(!CHROMIUM)('issue 21 in Chromium: orders and alarms opened by hand', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp();
    const admin = await login(app);
    const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'zhaoli', displayName: '赵丽', role: 'agent', password: PASSWORD, extension: '8002' } });
    expect(u.statusCode, u.body).toBe(201);
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterEach(async () => {
    expect(await windows.done()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('a complaint from a call, a fall raised by hand from the same call, and an enquiry with no elder', async () => {
    const admin = await login(app);
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '孙玉兰', phone: '13800138141', address: '上海市虹口区四平路 200 号', area: '四平路街道', lat: 31.27, lon: 121.5 } });
    expect(e.statusCode, e.body).toBe(201);
    const elderId = e.json().id as number;
    // the neighbour's call, as the hotline leaves it in the log: her leg and the agent's (an agent sees her own calls)
    const agentId = (await q(`SELECT id FROM users WHERE username = 'zhaoli'`))[0]!.id as number;
    await q(
      `INSERT INTO calls (direction, party, flow_id, channel_id, elder_id, agent_id, number, created_at, answered_at, ended_at)
       VALUES ('inbound', 'unknown', 'hand-flow-1', 'hand-ch-1', $1, NULL, '13700137141', now() - interval '3 minutes', now() - interval '170 seconds', now() - interval '60 seconds'),
              ('inbound', 'agent', 'hand-flow-1', 'hand-ch-2', $1, $2, '8002', now() - interval '170 seconds', now() - interval '170 seconds', now() - interval '60 seconds')`,
      [elderId, agentId],
    );

    const agent = await windows.open('zhaoli', PASSWORD);
    await agent.click('[data-testid=view-calls]');
    await agent.locator('[data-testid=call-log-row][data-flow-id="hand-flow-1"]').click();
    const detail = agent.locator('[data-testid=call-detail][data-flow-id="hand-flow-1"]');
    await detail.waitFor(SOON);

    // 1. a complaint from the call: it is tied to the call and the elder, and opens in 工单
    await detail.locator('[data-testid=call-detail-open-order]').click();
    const dlg = agent.locator('[data-testid=new-order-dialog]');
    await dlg.locator('[data-testid=new-order-type-complaint]').check();
    await dlg.locator('[data-testid=new-order-title]').fill(HOSTILE_TITLE);
    await dlg.locator('[data-testid=new-order-description]').fill('邻居投诉楼道灯坏了三天，老人晚上出门看不见');
    await shot(agent, 'from-call');
    await dlg.locator('[data-testid=new-order-save]').click();
    await agent.locator('[data-testid=order-detail]').waitFor(SOON);
    const complaint = (await q(`SELECT id, type, call_id, elder_id, title, state FROM work_orders`))[0]!;
    expect(complaint).toMatchObject({ type: 'complaint', call_id: 'hand-flow-1', elder_id: elderId, title: HOSTILE_TITLE, state: 'received' });
    await agent.locator(`[data-testid=order-detail][data-order-id="${complaint.id}"]`).waitFor(SOON);
    await agent.locator('[data-testid=orders-view]', { hasText: '楼道灯坏了' }).waitFor(SOON);
    await noXss(agent);

    // 2. back to the call: the elder's file from it has no alarm, so 人工报警 is offered; a fall with the caller's words
    await agent.click('[data-testid=view-calls]');
    await agent.locator('[data-testid=call-log-row][data-flow-id="hand-flow-1"]').click();
    await agent.locator('[data-testid=call-detail-open-elder]').click();
    const file = agent.locator('[data-testid=elder-file]');
    await file.locator('[data-testid=elder-name]', { hasText: '孙玉兰' }).waitFor(SOON);
    await agent.click('[data-testid=action-manual-alarm]');
    const ma = agent.locator('[data-testid=manual-alarm-dialog]');
    expect(await ma.locator('[data-testid=manual-alarm-save]').isDisabled()).toBe(true); // a kind first
    await ma.locator('[data-testid=manual-kind-fall]').check();
    await ma.locator('[data-testid=manual-alarm-note]').fill(HOSTILE_NOTE);
    await shot(agent, 'manual-alarm');
    await ma.locator('[data-testid=manual-alarm-save]').click();
    await ma.waitFor({ state: 'detached', ...SOON });
    const alarm = (await q(`SELECT id, kind, elder_id, state FROM alarms WHERE elder_id = $1`, [elderId]))[0]!;
    expect(alarm).toMatchObject({ kind: 'fall', elder_id: elderId });
    await agent.locator(`[data-testid=elder-file][data-alarm-id="${alarm.id}"]`).waitFor(SOON);
    await agent.locator('[data-testid=timeline]', { hasText: '摔倒' }).waitFor(SOON);
    await agent.locator(`[data-testid=queue] [data-alarm-id="${alarm.id}"]`).first().waitFor(SOON);
    expect(await agent.locator('[data-testid=action-manual-alarm]').count()).toBe(0); // the file has its alarm now
    expect((await q(`SELECT actor FROM audit_log WHERE action = 'alarm_manual' AND target = $1`, [`alarm:${alarm.id}`])).length).toBe(1);
    await noXss(agent);
    await shot(agent, 'manual-alarm-raised');

    // 3. an enquiry by hand in 工单, with no elder: named after its type when the title is left empty
    await agent.click('[data-testid=view-orders]');
    await agent.click('[data-testid=order-new]');
    const nd = agent.locator('[data-testid=new-order-dialog]');
    await nd.locator('[data-testid=new-order-type-enquiry]').check();
    await nd.locator('[data-testid=new-order-description]').fill('问助餐点的开放时间');
    await nd.locator('[data-testid=new-order-save]').click();
    await nd.waitFor({ state: 'detached', ...SOON });
    const enquiry = (await q(`SELECT id, type, elder_id, call_id, title FROM work_orders WHERE type = 'enquiry'`))[0]!;
    expect(enquiry).toMatchObject({ elder_id: null, call_id: null, title: '咨询工单' });
    await agent.locator(`[data-testid=order-row][data-order-id="${enquiry.id}"]`).waitFor(SOON);
    await agent.locator(`[data-testid=order-detail][data-order-id="${enquiry.id}"]`).waitFor(SOON);
    await shot(agent, 'enquiry');
  }, 120_000);
});
