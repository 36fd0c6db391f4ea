/**
 * Issue 19, the agent's side of the hotline, in Chromium against the real server and the simulated Asterisk:
 * 张秀英 has an open P1 alarm; her daughter 李芳 calls the hotline; while the agent's phone rings (4 s in the
 * simulator's directory) the page shows the incoming-call pop (来电弹屏) with the mother's file; the phone
 * answers; 保持 / 取回 go to the call's timeline and audit; an attended 转接 to the supervisor's extension
 * consults, then completes (the supervisor's leg got the call); the agent goes 话后整理. A contact whose name is a
 * script payload shows literally; an unknown number pops the new-caller card and is hung up from the page; a
 * second agent whose phone never answers sees the pop close with the 置忙 notice.
 * Screenshots at 1366×768 go to tests/artifacts/ (hotline-pop.png, hotline-in-call.png, …).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { targets, type AriTargetEnv, type CallerHandle } from '../helpers/ari-target.js';
import { until } from '../helpers/until.js';
import { collectErrors, ensureDashboardBuilt, findChromium, launchChromium, ARTIFACTS, VIEWPORT, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const QUEUE_DID = '12351';
const ELDER_PHONE = '13812340001';
const DAUGHTER = '13912340002';
const NEIGHBOUR = '13712340003';
const UNKNOWN = '13612340004';
const HOSTILE = '<img src=x onerror=window.__x=1>';
/** The agent's phone rings this long before it answers: the pop must show while it rings. */
const RING_S = 4;

let t: AriTargetEnv;
let app: App;
let browser: Browser;
let base: string;
let page: Page;
let supervisorId: number;
const errors: string[] = [];
const callers: CallerHandle[] = [];

const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const row = async (sql: string, params: unknown[], ms = 20_000) => until(async () => (await app.db.query(sql, params)).rows[0], ms);
const call = async (from: string) => {
  const c = await t.injectCall({ did: QUEUE_DID, from });
  callers.push(c);
  return c;
};

describe.skipIf(!CHROMIUM)('issue 19 in Chromium: the hotline pop and the in-call controls', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    // The simulator only: the agent's extension rings RING_S before answering; the supervisor's answers after 1 s.
    t = await targets()[0]!.start({
      timeScale: 1,
      directory: [
        { match: 'Local/8001@sim-agents', label: 'agent rings, answers after 4 s', ringAfter: 0, answerAfter: RING_S },
        { match: 'Local/8003@sim-agents', label: 'supervisor answers after 1 s', ringAfter: 0, answerAfter: 1 },
      ],
    });
    app = await startTestApp({}, {
      TELEPHONY: 'ari', ARI_URL: t.url, ARI_USERNAME: t.username, ARI_PASSWORD: t.password, ARI_APP: t.inboundApp,
      ARI_TRUNK_TEMPLATE: t.trunkTemplate, ARI_AGENT_TEMPLATE: t.agentTemplate, RED_LINE_DID: t.lines.red, GREEN_LINE_DID: t.lines.green,
      HOTLINE_DIDS: QUEUE_DID, RING_TIMEOUT_S: String(RING_S + 3), QUEUE_MAX_WAIT_S: '120', WRAP_UP_S: '60',
    });
    await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'), 30_000);
    base = `http://127.0.0.1:${app.httpPort}`;
    const admin = await login(app);
    const inject = (url: string, payload: object) => app.http.inject({ method: 'POST', url, headers: admin, payload });
    expect((await inject('/api/users', { username: 'wangfang', displayName: '王芳', role: 'agent', password: PASSWORD, extension: '8001' })).statusCode).toBe(201);
    const sup = await inject('/api/users', { username: 'banzhang', displayName: '陈班长', role: 'supervisor', password: PASSWORD, extension: '8003' });
    expect(sup.statusCode).toBe(201);
    supervisorId = sup.json().id;
    const e = await inject('/api/elders', {
      name: '张秀英', gender: 'female', birthDate: '1943-05-12', phone: ELDER_PHONE, address: '上海市静安区南京西路1601弄3号502室',
      responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }] },
      contacts: [{ name: '李芳', relation: '女儿', phone: DAUGHTER }, { name: HOSTILE, relation: '邻居', phone: NEIGHBOUR }],
    });
    expect(e.statusCode, e.body).toBe(201);
    // the mother's open P1 alarm, in hand with the admin (the agent holds nothing, so the ACD rings them)
    const adminId = (await app.db.query(`SELECT id FROM users WHERE username = 'admin'`)).rows[0].id;
    await app.db.query(`INSERT INTO alarms (kind, priority, state, elder_id, source_key, owner_id) VALUES ('fall', 1, 'in_progress', $1, 'test:fall', $2)`, [e.json().id, adminId]);
    browser = await launchChromium(CHROMIUM!);
    const ctx = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    page = await ctx.newPage();
    collectErrors(page, 'agent', errors);
    await page.goto(base);
    await page.fill('input[name=username]', 'wangfang');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=connection][data-state=online]').waitFor(SOON);
    await page.locator('[data-testid=agent-state][data-state=signed_out]').waitFor(SOON);
    await page.fill('[data-testid=extension-input]', '8001');
    await page.click('[data-testid=sign-in]');
    await page.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(callers.map((c) => c.close().catch(() => undefined)));
    await browser?.close();
    await app?.stop();
    await t?.stop();
  });

  it('李芳 calls: the pop shows her mother’s file while it rings; 保持/取回 are on the call’s timeline; an attended 转接 reaches the supervisor', async () => {
    const p = page;
    const c = await call(DAUGHTER);
    const id = c.hubChannelId;
    const pop = p.locator(`[data-testid=incoming-call][data-entry-id="${id}"]`);
    await pop.waitFor(SOON);
    // still ringing: the agent's leg is not answered, the agent is 振铃
    expect((await app.db.query(`SELECT answered_at FROM calls WHERE flow_id = $1 AND party = 'agent' AND agent_id IS NOT NULL`, [id])).rows).toEqual([{ answered_at: null }]);
    expect(await pop.locator('[data-testid=ic-number]').textContent()).toBe(DAUGHTER);
    expect(await pop.locator('[data-testid=ic-name]').textContent()).toBe('李芳（女儿）');
    expect(await pop.locator('[data-testid=ic-who]').textContent()).toContain('张秀英的联系人');
    expect(await pop.locator('[data-testid=ic-line]').textContent()).toContain(QUEUE_DID);
    await pop.locator('[data-testid=ic-priority]').waitFor(SOON); // the mother's open P1
    const alarm = pop.locator('[data-testid=ic-alarm]');
    expect(await alarm.count()).toBe(1);
    expect(await alarm.textContent()).toContain('P1');
    expect(await alarm.textContent()).toContain('跌倒');
    // the mother's file opened by itself in the desk
    await p.locator('[data-testid=elder-file] [data-testid=elder-name]', { hasText: '张秀英' }).waitFor(SOON);
    // 置闲/置忙 wait while it rings, and say why
    await p.locator('[data-testid=agent-state][data-state=ringing]').waitFor(SOON);
    expect(await p.locator('[data-testid=state-not_ready]').isDisabled()).toBe(true);
    expect(await p.locator('[data-testid=state-not_ready]').getAttribute('title')).toContain('振铃');
    await shot(p, 'hotline-pop');
    expect((await app.db.query(`SELECT answered_at FROM calls WHERE flow_id = $1 AND party = 'agent' AND agent_id IS NOT NULL`, [id])).rows).toEqual([{ answered_at: null }]);

    // the phone answers: the pop becomes the in-call header with the controls
    const band = p.locator(`[data-testid=call-band][data-call-id="${id}"]`);
    await band.waitFor({ timeout: 20_000 });
    await pop.waitFor({ state: 'detached', ...SOON });
    expect(await band.locator('[data-testid=in-call-header] [data-testid=ic-name]').textContent()).toBe('李芳（女儿）');
    await p.locator('[data-testid=current-call][data-state=connected]').waitFor(SOON);
    await p.locator('[data-testid=agent-state][data-state=on_call]').waitFor(SOON);
    expect(await p.locator('[data-testid=state-ready]').isDisabled()).toBe(true);
    expect(await p.locator('[data-testid=state-ready]').getAttribute('title')).toContain('通话中');

    // 保持: the server's timeline and audit say hold, the button says 取回
    const hold = band.locator('[data-testid=ctl-hold]');
    await hold.click();
    await band.locator('[data-testid=call-controls][data-held=true]').waitFor(SOON);
    expect((await hold.textContent())?.trim()).toBe('取回');
    expect(await hold.getAttribute('aria-pressed')).toBe('true');
    await row(`SELECT 1 FROM call_actions WHERE call_id = $1 AND action = 'hold' AND by_user = $2`, [id, String(await userId('wangfang'))]);
    await row(`SELECT 1 FROM audit_log WHERE action = 'call_hold' AND target = $1`, [`call:${id}`]);
    await shot(p, 'hotline-in-call');
    await p.click('[data-testid=locale-en]');
    await band.locator('[data-testid=ctl-hold]', { hasText: 'Resume' }).waitFor(SOON);
    expect(await band.locator('[data-testid=in-call-header]').textContent()).toContain('contact of 张秀英');
    await shot(p, 'hotline-in-call-en');
    await p.click('[data-testid=locale-zh-CN]');
    // 取回
    await hold.click();
    await band.locator('[data-testid=call-controls][data-held=false]').waitFor(SOON);
    expect((await hold.textContent())?.trim()).toBe('保持');
    await row(`SELECT 1 FROM call_actions WHERE call_id = $1 AND action = 'unhold'`, [id]);

    // 转接, attended, to the supervisor's extension, all from the keyboard: consult, then 完成转接
    await band.locator('[data-testid=ctl-transfer]').focus();
    await p.keyboard.press('Enter');
    const panel = band.locator('[data-testid=transfer-panel]');
    await panel.waitFor(SOON);
    expect(await panel.locator('[data-testid=mode-attended]').isChecked()).toBe(true);
    const quick = await panel.locator('[data-testid=quick-target]').allTextContents();
    expect(quick).toEqual(expect.arrayContaining(['120 急救', '110 报警', '李芳（女儿）', `${HOSTILE}（邻居）`]));
    await panel.locator('[data-testid=target-input]').fill('8003');
    await shot(p, 'hotline-transfer');
    await p.keyboard.press('Enter');
    await band.locator('[data-testid=ctl-consulting]').waitFor(SOON);
    await band.locator('[data-testid=call-controls][data-consulting=true]').waitFor(SOON);
    await band.locator('[data-testid=ctl-transfer-complete]').click();
    // the agent left the call: ended, 话后整理; the supervisor's leg has the caller
    await p.locator('[data-testid=current-call][data-state=ended]').waitFor(SOON);
    await band.waitFor({ state: 'detached', ...SOON });
    await p.locator('[data-testid=agent-state][data-state=wrap_up]').waitFor(SOON);
    const supLeg = await row(`SELECT answered_at, ended_at FROM calls WHERE flow_id = $1 AND party = 'agent' AND agent_id = $2`, [id, supervisorId]);
    expect(supLeg.answered_at).not.toBeNull();
    expect(supLeg.ended_at).toBeNull();
    await row(`SELECT 1 FROM call_actions WHERE call_id = $1 AND action = 'transfer_complete'`, [id]);
    await row(`SELECT 1 FROM audit_log WHERE action = 'call_consult' AND target = $1`, [`call:${id}`]);
    expect(errors).toEqual([]);
    await c.hangup();
    await row(`SELECT 1 FROM calls WHERE channel_id = $1 AND ended_at IS NOT NULL AND queue_result = 'answered'`, [id]);
    await p.click('[data-testid=end-wrap-up]');
    await p.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);

    // afterwards the agent plays the call back from the call log (通话记录): the WAV comes through Anxin, audited
    await row(`SELECT 1 FROM calls WHERE flow_id = $1 AND recording IS NOT NULL`, [id]);
    await p.click('[data-testid=view-calls]');
    const logRow = p.locator(`[data-testid=call-log-row][data-flow-id="${id}"]`);
    await logRow.waitFor(SOON);
    await logRow.click();
    const detail = p.locator(`[data-testid=call-detail][data-flow-id="${id}"]`);
    await detail.locator('[data-testid=call-timeline]').waitFor(SOON);
    const acts = await detail.locator('[data-testid=call-action]').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    for (const a of ['hold', 'unhold', 'consult', 'transfer_complete']) expect(acts, a).toContain(a);
    await detail.locator('[data-testid=play-recording]').click();
    const audio = detail.locator('[data-testid=recording-audio]');
    await audio.waitFor(SOON);
    await p.waitForFunction((el) => {
      const a = el as unknown as { readyState: number; duration: number; error: unknown };
      return a.error !== null || (a.readyState >= 1 && a.duration > 0);
    }, await audio.elementHandle(), SOON);
    const played = await audio.evaluate((el) => {
      const a = el as unknown as { duration: number; error: { code: number } | null; currentSrc: string };
      return { duration: a.duration, error: a.error?.code ?? null, src: a.currentSrc };
    });
    expect(played.error).toBeNull();
    expect(played.duration).toBeGreaterThan(0);
    expect(new URL(played.src).pathname).toBe(`/api/calls/${encodeURIComponent(id)}/recording`);
    await row(`SELECT 1 FROM audit_log WHERE action = 'recording_play' AND target = $1 AND actor = $2`, [`call:${id}`, `user:${await userId('wangfang')}`]);
    await shot(p, 'hotline-playback');
    await p.click('[data-testid=view-desk]');
  }, 120_000);

  it('a contact named with a script payload shows literally and nothing runs', async () => {
    const p = page;
    const c = await call(NEIGHBOUR);
    const pop = p.locator(`[data-testid=incoming-call][data-entry-id="${c.hubChannelId}"]`);
    await pop.waitFor(SOON);
    expect(await pop.locator('[data-testid=ic-name]').textContent()).toBe(`${HOSTILE}（邻居）`);
    expect(await pop.locator('img').count()).toBe(0);
    // the caller gives up while it rings: the pop closes, the agent is ready again (not their miss)
    await c.hangup();
    await pop.waitFor({ state: 'detached', ...SOON });
    expect(await p.evaluate(() => (globalThis as unknown as { __x?: unknown }).__x)).toBeUndefined();
    // (if the phone had answered first, the call ended with the hang-up: wrap-up)
    await p.locator('[data-testid=agent-state][data-state=ready], [data-testid=agent-state][data-state=wrap_up]').waitFor(SOON);
    if ((await p.locator('[data-testid=agent-state]').getAttribute('data-state')) === 'wrap_up') await p.click('[data-testid=end-wrap-up]');
    await p.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
  }, 60_000);

  it('an unknown number pops the new-caller card; answered, a reload keeps the call, 挂机 on the page ends it', async () => {
    const p = page;
    const c = await call(UNKNOWN);
    const id = c.hubChannelId;
    const pop = p.locator(`[data-testid=incoming-call][data-entry-id="${id}"]`);
    await pop.waitFor(SOON);
    expect(await pop.getAttribute('data-match')).toBe('none');
    expect(await pop.locator('[data-testid=ic-name]').textContent()).toBe('新来电');
    expect(await pop.locator('[data-testid=ic-number]').textContent()).toBe(UNKNOWN);
    expect(await pop.locator('[data-testid=ic-alarms]').count()).toBe(0);
    await shot(p, 'hotline-new-caller');
    // 建档 while it rings: the agent opens a record for the new caller (name typed, the number filled in), and its file opens
    await pop.locator('[data-testid=ic-create]').click();
    expect(await pop.locator('[data-testid=ic-create-phone]').inputValue()).toBe(UNKNOWN);
    await pop.locator('[data-testid=ic-create-name]').fill('赵桂芝 <b>new</b>');
    await pop.locator('[data-testid=ic-create-save]').click();
    const created = await row(`SELECT id FROM elders WHERE name = $1 AND phone = $2`, ['赵桂芝 <b>new</b>', UNKNOWN]);
    await p.locator('[data-testid=elder-file]', { hasText: '赵桂芝 <b>new</b>' }).waitFor(SOON);
    expect(await p.locator('b', { hasText: 'new' }).count()).toBe(0);
    expect((await row(`SELECT actor FROM audit_log WHERE action = 'elder_create' AND target = $1`, [`elder:${created.id}`])).actor).toBe(`user:${await userId('wangfang')}`);
    const band = p.locator(`[data-testid=call-band][data-call-id="${id}"]`);
    await band.waitFor({ timeout: 20_000 });
    expect(await band.locator('[data-testid=ic-name]').textContent()).toBe('新来电');
    // the caller is put on hold, then a reload mid-call brings the call back connected, with its controls, still held
    await band.locator('[data-testid=ctl-hold]').click();
    await band.locator('[data-testid=ctl-hold][aria-pressed=true]').waitFor(SOON);
    await row(`SELECT 1 FROM call_actions WHERE call_id = $1 AND action = 'hold'`, [id]);
    await p.reload();
    await p.locator('[data-testid=connection][data-state=online]').waitFor(SOON);
    await band.waitFor(SOON);
    await p.locator('[data-testid=current-call][data-state=connected]').waitFor(SOON);
    expect(await p.locator('[data-testid=current-call]').textContent()).not.toContain('8001');
    const held = band.locator('[data-testid=ctl-hold]');
    await band.locator('[data-testid=ctl-hold][aria-pressed=true]').waitFor(SOON);
    expect((await held.textContent())?.trim()).toBe('取回');
    // taken off hold from elsewhere (the API, as another tab would): the page follows the server's push
    const off = await app.http.inject({ method: 'POST', url: `/api/calls/${encodeURIComponent(id)}/unhold`, headers: await login(app) });
    expect(off.statusCode, off.body).toBe(200);
    await band.locator('[data-testid=ctl-hold][aria-pressed=false]').waitFor(SOON);
    await band.locator('[data-testid=hangup]').click();
    await p.locator('[data-testid=current-call][data-state=ended]').waitFor(SOON);
    await band.waitFor({ state: 'detached', ...SOON });
    await p.locator('[data-testid=agent-state][data-state=wrap_up]').waitFor(SOON);
    await row(`SELECT 1 FROM calls WHERE channel_id = $1 AND ended_at IS NOT NULL`, [id]);
  }, 60_000);

  it('not answered in time: the pop and the file it opened close, the agent is told they were set to 置忙', async () => {
    // the first agent steps away; a second agent on 8002 (a phone that never answers) takes the next call
    await page.click('[data-testid=state-not_ready]');
    await page.locator('[data-testid=agent-state][data-state=not_ready]').waitFor(SOON);
    expect((await app.http.inject({ method: 'POST', url: '/api/users', headers: await login(app), payload: { username: 'liqiang', displayName: '李强', role: 'agent', password: PASSWORD, extension: '8002' } })).statusCode).toBe(201);
    const ctx = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const p = await ctx.newPage();
    collectErrors(p, 'agent2', errors);
    await p.goto(base);
    await p.fill('input[name=username]', 'liqiang');
    await p.fill('input[name=password]', PASSWORD);
    await p.click('button[type=submit]');
    await p.locator('[data-testid=agent-state][data-state=signed_out]').waitFor(SOON);
    await p.fill('[data-testid=extension-input]', '8002');
    await p.click('[data-testid=sign-in]');
    await p.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
    const c = await call(DAUGHTER);
    const pop = p.locator(`[data-testid=incoming-call][data-entry-id="${c.hubChannelId}"]`);
    await pop.waitFor(SOON);
    await p.locator('[data-testid=elder-file] [data-testid=elder-name]', { hasText: '张秀英' }).waitFor(SOON);
    // RING_TIMEOUT_S later: missed
    await pop.waitFor({ state: 'detached', timeout: 20_000 });
    await p.locator('[data-testid=notice-alert]', { hasText: '未接来电' }).waitFor(SOON);
    await p.locator('[data-testid=agent-state][data-state=not_ready]').waitFor(SOON);
    await p.locator('[data-testid=idle-panel]').waitFor(SOON);
    await shot(p, 'hotline-missed');
    await c.hangup();
    await ctx.close();
  }, 60_000);

  it('logged no console errors and no uncaught exceptions', () => {
    expect(errors).toEqual([]);
  });
});

async function userId(username: string): Promise<number> {
  return (await app.db.query(`SELECT id FROM users WHERE username = $1`, [username])).rows[0].id;
}
