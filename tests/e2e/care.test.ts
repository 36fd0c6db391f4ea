/**
 * Issue 22 in Chromium: care programmes (关怀). An admin opens an elder in 老人档案 and adds a daily 平安呼叫 at 09:00
 * with a check-in window through the 关怀计划 tab (the row, its recurrence in words and its next run); a bad value
 * (7 retries) comes back as the server's error next to the field. Agents open 关怀: today's care calls hold a
 * birthday (an elder born on this day, made by the planner) and an after-hospital call added through the API with
 * hostile text in its note, which appears live on both agents' screens; one agent marks it done with a note and the
 * row moves to 已完成 — in the database and, without a reload, on the second agent's screen. A failed welfare run
 * shows in 今日平安呼叫 with its attempts; the supervisor's 关怀报表 counts it. Hostile text renders as text.
 * Screenshots: care-*.png (1366×768).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { ensureDashboardBuilt, findChromium, launchChromium, Windows, ARTIFACTS, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const HOSTILE_NOTE = '<img src=x onerror=window.__x=1>刚出院，<b>腿脚</b>不便';
const HOSTILE_RESULT = '"><svg onload=window.__x=2>已联系女儿';

let app: App;
let browser: Browser;
let admin: { authorization: string };
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `care-${name}.png`) });
const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
/** Today in the centre's time zone, yyyy-mm-dd. */
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

async function inject(method: 'POST' | 'GET', url: string, payload?: object) {
  const r = await app.http.inject({ method, url, headers: admin, ...(payload ? { payload } : {}) });
  expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
  return r.json();
}

/** Nothing of the payloads ran or became markup. */
async function noXss(page: Page) {
  const probe = await page.evaluate(() => {
    const w = globalThis as unknown as { __x?: unknown; document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } };
    const bold = Array.from(w.document.querySelectorAll('b')).filter((e) => (e.textContent ?? '').includes('腿脚')).length;
    return { x: w.__x, elements: w.document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload], main script').length + bold };
  });
  expect(probe).toEqual({ x: undefined, elements: 0 });
}

describe.skipIf(!CHROMIUM)('issue 22 in Chromium: care plans, the day’s care calls and welfare calls', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp();
    admin = await login(app);
    for (const [username, displayName, role, extension] of [
      ['zhaoli', '赵丽', 'agent', '8002'],
      ['qianwei', '钱伟', 'agent', '8003'],
      ['sunhong', '孙红', 'supervisor', '8009'],
    ] as const) {
      const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username, displayName, role, password: PASSWORD, extension } });
      expect(u.statusCode, u.body).toBe(201);
    }
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterEach(async () => {
    expect(await windows.done()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('a care plan made in 老人档案, the day’s care calls done live, a failed welfare call and the report', async () => {
    const day = today();
    const li = await inject('POST', '/api/elders', { name: '李桂芳', phone: '13800138221', address: '上海市静安区共和新路 100 号', area: '共和新路街道', lat: 31.27, lon: 121.45 });
    const born = `${Number(day.slice(0, 4)) - 85}${day.slice(4)}`;
    const zhou = await inject('POST', '/api/elders', { name: '周建国', phone: '13800138222', address: '上海市静安区共和新路 102 号', area: '共和新路街道', birthDate: born });
    const wu = await inject('POST', '/api/elders', { name: '吴秀兰', phone: '13800138223', address: '上海市静安区共和新路 104 号', area: '共和新路街道' });

    // 1. the admin adds a daily 平安呼叫 at 09:00 with a check-in window, in the elder's file
    const ad = await windows.open('admin', ADMIN_PASSWORD);
    await ad.click('[data-testid=view-elders]');
    await ad.locator(`[data-testid=elder-row][data-elder-id="${li.id}"]`).click();
    await ad.click('[data-testid=ee-tab-care]');
    await ad.locator('[data-testid=care-schedules-empty]').waitFor(SOON);
    await ad.click('[data-testid=care-schedule-new]');
    const form = ad.locator('[data-testid=care-schedule-form]');
    expect(await form.locator('[data-testid=care-f-kind]').inputValue()).toBe('welfare_call');
    expect(await form.locator('[data-testid=care-f-recurrence]').inputValue()).toBe('daily');
    expect(await form.locator('option[value=sms]').isDisabled()).toBe(true); // a welfare call is a call
    await form.locator('[data-testid=care-f-time-0]').fill('09:00');
    await form.locator('[data-testid=care-f-window]').check();
    await form.locator('[data-testid=care-f-window-from]').fill('07:00');
    await form.locator('[data-testid=care-f-window-to]').fill('09:00');
    await form.locator('[data-testid=care-f-activity]').check();
    await shot(ad, 'plan-form');
    await form.locator('[data-testid=care-f-save]').click();
    const row = ad.locator('[data-testid=care-schedule-row]');
    await row.waitFor(SOON);
    await form.waitFor({ state: 'detached', ...SOON });
    const sched = (await q(`SELECT id, kind, channel, recurrence, times, checkin_window, activity_checkin, next_at FROM care_schedules WHERE elder_id = $1`, [li.id]))[0]!;
    expect(sched).toMatchObject({ kind: 'welfare_call', channel: 'call', recurrence: { kind: 'daily' }, times: ['09:00'], checkin_window: { from: '07:00', to: '09:00' }, activity_checkin: true });
    expect(await row.getAttribute('data-schedule-id')).toBe(String(sched.id));
    expect(await row.locator('[data-testid=care-schedule-when]').textContent()).toBe('每天 09:00');
    // the next run, in the centre's time zone: today at 09:00 when it is still to come, else tomorrow
    const next = new Date(sched.next_at as string);
    const nextDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(next);
    expect(await row.locator('[data-testid=care-schedule-next]').textContent()).toBe(`${nextDay === day ? '今天' : '明天'} 09:00`);
    expect(await row.locator('[data-testid=care-schedule-details]').textContent()).toContain('签到 07:00–09:00');
    await shot(ad, 'plan-saved');

    // a bad value: the server's refusal next to the field, nothing changed
    windows.expect((e) => e.includes('400'));
    await row.locator('[data-testid=care-schedule-edit]').click();
    await form.locator('[data-testid=care-f-retries]').fill('7');
    await form.locator('[data-testid=care-f-save]').click();
    const err = form.locator('[data-testid=care-f-err-retries]');
    await err.waitFor(SOON);
    expect((await err.textContent())!.length).toBeGreaterThan(0);
    expect((await q(`SELECT retries FROM care_schedules WHERE id = $1`, [sched.id]))[0]!.retries).toBe(2);
    await shot(ad, 'plan-error');
    await form.locator('[data-testid=care-f-cancel]').click();

    // 2. the day's work: a birthday (the planner) and a failed welfare call of the morning
    await app.care.plan();
    const birthday = (await q(`SELECT id, state, due_date::text AS due FROM care_tasks WHERE elder_id = $1 AND reason = 'birthday'`, [zhou.id]))[0]!;
    expect(birthday).toMatchObject({ state: 'open', due: day });
    const at = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
    const run = (
      await q(
        `INSERT INTO care_runs (schedule_id, elder_id, kind, channel, local_date, due_at, state, attempts)
         VALUES ($1, $2, 'welfare_call', 'call', $3, now() - interval '40 minutes', 'failed', $4) RETURNING id`,
        [sched.id, li.id, day, JSON.stringify([{ n: 1, at: at(40), outcome: 'no_answer', callId: null }, { n: 2, at: at(30), outcome: 'busy', callId: null }, { n: 3, at: at(20), outcome: 'no_answer', callId: null }])],
      )
    )[0]!;

    const a1 = await windows.open('zhaoli', PASSWORD);
    const a2 = await windows.open('qianwei', PASSWORD, { name: 'second agent' });
    for (const p of [a1, a2]) {
      await p.click('[data-testid=view-care]');
      await p.locator(`[data-testid=care-task-row][data-task-id="${birthday.id}"]`).waitFor(SOON);
    }
    const bRow = a1.locator(`[data-testid=care-task-row][data-task-id="${birthday.id}"]`);
    expect(await bRow.locator('[data-testid=care-task-elder]').textContent()).toBe('周建国');
    expect(await bRow.textContent()).toContain('生日');
    // not signed in to an extension: the call button waits, with the reason
    expect(await bRow.locator('[data-testid=care-task-call]').isDisabled()).toBe(true);
    await a1.locator('[data-testid=care-sign-in-hint]').waitFor(SOON);

    // the failed welfare call, with its attempts
    const rRow = a1.locator(`[data-testid=care-run-row][data-run-id="${run.id}"]`);
    await rRow.waitFor(SOON);
    expect(await rRow.getAttribute('data-state')).toBe('failed');
    expect(await rRow.locator('[data-testid=care-run-state]').textContent()).toBe('未接通');
    expect(await rRow.locator('[data-testid=care-run-attempts] li').count()).toBe(3);
    expect(await rRow.textContent()).toContain('李桂芳');
    expect(await rRow.textContent()).toContain('无人接听');

    // 3. an after-hospital call added meanwhile (hostile note): it appears on both screens, live
    const task = await inject('POST', '/api/care/tasks', { elderId: wu.id, reason: 'after_hospital', dueDate: day, note: HOSTILE_NOTE });
    for (const p of [a1, a2]) await p.locator(`[data-testid=care-tasks-open] [data-testid=care-task-row][data-task-id="${task.id}"]`).waitFor(SOON);
    const tRow = a1.locator(`[data-testid=care-task-row][data-task-id="${task.id}"]`);
    expect(await tRow.locator('[data-testid=care-task-note]').textContent()).toBe(HOSTILE_NOTE);
    expect(await tRow.textContent()).toContain('出院回访');
    expect(await tRow.textContent()).toContain('13800138223');
    await noXss(a1);
    await shot(a1, 'today');

    // 4. done with a note: the row moves to 已完成 here, in the database, and on the second agent's screen
    await tRow.locator('[data-testid=care-task-done]').click();
    const dlg = a1.locator('[data-testid=care-done-dialog]');
    expect(await dlg.locator('[data-testid=care-done-save]').isDisabled()).toBe(true); // a result first
    await dlg.locator('[data-testid=care-done-reached]').check();
    await dlg.locator('[data-testid=care-done-note]').fill(HOSTILE_RESULT);
    await shot(a1, 'done-dialog');
    await dlg.locator('[data-testid=care-done-save]').click();
    await dlg.waitFor({ state: 'detached', ...SOON });
    for (const p of [a1, a2]) {
      const done = p.locator(`[data-testid=care-tasks-done] [data-testid=care-task-row][data-task-id="${task.id}"]`);
      await done.waitFor(SOON);
      expect(await p.locator(`[data-testid=care-tasks-open] [data-testid=care-task-row][data-task-id="${task.id}"]`).count()).toBe(0);
      expect(await done.locator('[data-testid=care-task-result]').textContent()).toContain('已联系');
      expect(await done.locator('[data-testid=care-task-result]').textContent()).toContain(HOSTILE_RESULT);
      await noXss(p);
    }
    const agentId = (await q(`SELECT id FROM users WHERE username = 'zhaoli'`))[0]!.id as number;
    expect((await q(`SELECT state, result, result_note, done_by FROM care_tasks WHERE id = $1`, [task.id]))[0]).toEqual({ state: 'done', result: 'reached', result_note: HOSTILE_RESULT, done_by: agentId });
    await shot(a2, 'done-live');

    // a care call added by hand: the elder picked by search, a follow-up due today, live on both screens
    await a1.click('[data-testid=care-task-new]');
    const nd = a1.locator('[data-testid=care-task-dialog]');
    expect(await nd.locator('[data-testid=care-task-save]').isDisabled()).toBe(true); // an elder first
    await nd.locator('[data-testid=elder-search]').fill('李桂芳');
    await nd.locator(`[data-testid=elder-result][data-elder-id="${li.id}"]`).click();
    await nd.locator('[data-testid=care-task-reason-follow_up]').check();
    await nd.locator('[data-testid=care-task-note-input]').fill('昨天平安呼叫未接通，回访');
    await shot(a1, 'new-task');
    await nd.locator('[data-testid=care-task-save]').click();
    await nd.waitFor({ state: 'detached', ...SOON });
    const added = (await q(`SELECT id, reason, state, note, due_date::text AS due FROM care_tasks WHERE elder_id = $1`, [li.id]))[0]!;
    expect(added).toMatchObject({ reason: 'follow_up', state: 'open', note: '昨天平安呼叫未接通，回访', due: day });
    for (const p of [a1, a2]) await p.locator(`[data-testid=care-tasks-open] [data-testid=care-task-row][data-task-id="${added.id}"]`).waitFor(SOON);

    // an agent reads the elder's care plan, without the means to change it
    await a1.click('[data-testid=care-tab-plans]');
    await a1.locator('[data-testid=elder-search]').fill('李桂芳');
    await a1.locator(`[data-testid=elder-result][data-elder-id="${li.id}"]`).click();
    await a1.locator(`[data-testid=care-plan] [data-testid=care-schedule-row][data-schedule-id="${sched.id}"]`).waitFor(SOON);
    expect(await a1.locator('[data-testid=care-schedule-new], [data-testid=care-schedule-edit], [data-testid=care-schedule-delete]').count()).toBe(0);
    await a1.locator(`[data-testid=care-elder-runs] [data-testid=care-run-row][data-run-id="${run.id}"]`).waitFor(SOON);
    await shot(a1, 'plan-agent');

    // 5. the supervisor's report counts the failed call
    const sup = await windows.open('sunhong', PASSWORD);
    await sup.click('[data-testid=view-care]');
    await sup.click('[data-testid=care-tab-report]');
    const total = sup.locator('[data-testid=care-report-total]');
    await total.waitFor(SOON);
    await expect.poll(() => total.locator('[data-col=failed]').textContent(), SOON).toBe('1');
    await sup.locator(`[data-testid=care-report-row][data-key="${day}"]`).waitFor(SOON);
    await shot(sup, 'report');
  }, 180_000);
});
