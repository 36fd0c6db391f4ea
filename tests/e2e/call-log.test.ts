/**
 * Issue 19 in Chromium against the real server and the simulated Asterisk: the call log (通话记录) with the call's
 * timeline and its recording played through Anxin, the supervisor's 监听 on a live call and forcing an agent's
 * state, and the call-back list (回拨列表) with an abandoned hotline caller marked done. The elder's name is hostile
 * HTML: it shows as text everywhere and nothing runs. Screenshots at 1366×768 go to tests/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { collectErrors, ensureDashboardBuilt, findChromium, launchChromium, ARTIFACTS, VIEWPORT, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const WATCH = '8800000031';
const ELDER_PHONE = '13800138031';
const HOTLINE = '12351';
/** The elder's name: HTML that would run if the page ever took it as markup. */
const HOSTILE = '<img src=x onerror=window.__x=1>';
const REASON = '<b>培训</b> training';

let app: App;
let sim: AsteriskSim;
let browser: Browser;
let base: string;
const errors: string[] = [];
let agent: Page;
let lead: Page;
let agentId: number;
let alarmId: number;
let callId: string;

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows as T[];

async function newPage(name: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  collectErrors(page, name, errors);
  await page.goto(base);
  return page;
}

async function logIn(page: Page, username: string): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=connection][data-state=online]').waitFor(SOON);
}

/** A request with the page's own session (its cookie and CSRF token). */
function pageApi(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const { csrfToken } = (await (await fetch('/api/auth/me')).json()) as { csrfToken: string };
      const r = await fetch(path, { method, headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: JSON.stringify(body ?? {}) });
      const text = await r.text();
      return { status: r.status, body: text ? (JSON.parse(text) as unknown) : null };
    },
    { method, path, body },
  );
}

/** Nothing hostile ran on any page. */
async function nothingRan(...pages: Page[]): Promise<void> {
  for (const p of pages) expect(await p.evaluate(() => (globalThis as unknown as { __x?: unknown }).__x)).toBeUndefined();
}

describe.skipIf(!CHROMIUM)('issue 19 in Chromium: call log, recordings, supervisor controls, call-back list', () => {
  const watches: SimulatedWatch[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    sim = await startAsteriskSim({
      port: 0,
      timeScale: 0.5,
      app: 'anxin',
      directory: [
        { match: 'PJSIP/8001', action: 'answer', answerAfter: 0.5 },
        { match: 'PJSIP/8003', action: 'answer', answerAfter: 0.5 },
        { match: ELDER_PHONE, action: 'answer', answerAfter: 1 },
      ],
    });
    app = await startTestApp({}, {
      TELEPHONY: 'ari', ARI_URL: sim.url, ARI_USERNAME: sim.username, ARI_PASSWORD: sim.password, ARI_APP: 'anxin',
      WRAP_UP_S: '0', HOTLINE_DIDS: HOTLINE, QUEUE_MAX_WAIT_S: '120', RING_TIMEOUT_S: '5', QUEUE_OVERFLOW: 'voicemail', VOICEMAIL_MAX_S: '2',
    });
    await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'));
    base = `http://127.0.0.1:${app.httpPort}`;
    const admin = await login(app);
    const inject = (url: string, payload: object) => app.http.inject({ method: 'POST', url, headers: admin, payload });
    for (const [username, displayName, role, extension] of [
      ['wangfang', '王芳', 'agent', '8001'],
      ['lead', '陈班长', 'supervisor', '8003'],
    ] as const) {
      const r = await inject('/api/users', { username, displayName, role, password: PASSWORD, extension });
      expect(r.statusCode, r.body).toBe(201);
      if (username === 'wangfang') agentId = r.json().id;
    }
    const e = await inject('/api/elders', {
      name: HOSTILE, gender: 'female', birthDate: '1941-03-08', phone: ELDER_PHONE, address: '上海市静安区南京西路1601弄3号502室', lat: 31.2243, lon: 121.4457,
      // only the screen-pop: no automatic callback dialling into the agent's calls
      responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }] },
      contacts: [{ name: HOSTILE, relation: '儿子', phone: '13900139031' }],
    });
    expect(e.statusCode, e.body).toBe(201);
    expect((await inject('/api/devices', { identifier: WATCH, protocol: 'watch', elderId: e.json().id })).statusCode).toBe(201);
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterAll(async () => {
    for (const w of watches) await w.close().catch(() => undefined);
    await browser?.close();
    await app?.stop();
    await sim?.stop();
  });

  it('a recorded click-to-call with hold on its timeline; the supervisor listens in and ends it; then a forced 置忙', async () => {
    agent = await newPage('agent');
    await logIn(agent, 'wangfang');
    await agent.locator('[data-testid=agent-state][data-state=signed_out]').waitFor(SOON);
    await agent.fill('[data-testid=extension-input]', '8001');
    await agent.click('[data-testid=sign-in]');
    await agent.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
    lead = await newPage('lead');
    await logIn(lead, 'lead');
    await lead.locator('[data-testid=supervisor]').waitFor(SOON);

    // an SOS pops the elder's file; accept, call the elder from the file
    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: WATCH, battery: 80 });
    await w.connect();
    watches.push(w);
    await w.sendAlarm('sos', { point: [31.2251, 121.4472] });
    const file = agent.locator('[data-testid=elder-file]');
    await file.locator('[data-testid=elder-name]', { hasText: HOSTILE }).waitFor(SOON);
    alarmId = Number(await file.getAttribute('data-alarm-id'));
    await agent.keyboard.press('a');
    await agent.locator('[data-testid=elder-file][data-state=accepted]').waitFor(SOON);
    await agent.click('[data-testid=action-call-elder]');
    await agent.locator('[data-testid=current-call][data-state=connected]').waitFor({ timeout: 30_000 });
    callId = (await agent.locator('[data-testid=current-call]').getAttribute('data-call-id'))!;
    expect(callId).toBeTruthy();

    // hold and unhold with the agent's own session (the call is handed to the controls just after it connects)
    await until(async () => (await pageApi(agent, 'POST', `/api/calls/${encodeURIComponent(callId)}/hold`)).status === 200 || undefined, 20_000);
    expect((await pageApi(agent, 'POST', `/api/calls/${encodeURIComponent(callId)}/unhold`)).status).toBe(200);

    // the supervisor sees the live call, listens in (their phone 8003 answers), ends it
    const row = lead.locator(`[data-testid=sup-call-row][data-call-id="${callId}"][data-agent-id="${agentId}"]`);
    await row.waitFor(SOON);
    expect(await row.textContent()).toContain(HOSTILE);
    await row.locator('[data-testid=sup-listen]:not([disabled])').waitFor(SOON);
    await row.locator('[data-testid=sup-listen]').click();
    const session = lead.locator(`[data-testid=sup-session][data-mode=listen][data-call-id="${callId}"]`);
    await session.waitFor(SOON);
    expect(await session.textContent()).toContain('监听');
    expect(await session.textContent()).toContain('王芳');
    // one session at a time: no second listen, whisper or barge until this one ends; the running one may switch mode
    expect(await lead.locator('[data-testid=sup-call-row] [data-testid^=sup-listen], [data-testid=sup-call-row] [data-testid^=sup-barge]').count()).toBe(0);
    // the supervisor's own leg is not shown as their call (its 挂机 would end the agent's call)
    expect(await lead.locator('[data-testid=current-call]').getAttribute('data-state')).toBe('none');
    await shot(lead, 'supervisor-listen');
    await row.locator('[data-testid=sup-switch-whisper]').click();
    const whisper = lead.locator(`[data-testid=sup-session][data-mode=whisper][data-call-id="${callId}"]`);
    await whisper.waitFor(SOON);
    expect(await whisper.textContent()).toContain('耳语');
    await lead.click('[data-testid=sup-session-end]');
    await whisper.waitFor({ state: 'detached', ...SOON });
    const actions = await until(async () => {
      const rows = await q<{ action: string; by_user: string }>(`SELECT action, by_user FROM call_actions WHERE call_id = $1 ORDER BY id`, [callId]);
      return rows.some((r) => r.action === 'supervisor_left') ? rows : undefined;
    }, 20_000);
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['connected', 'hold', 'unhold', 'listen', 'whisper', 'supervisor_left']));
    const audits = (await q<{ action: string }>(`SELECT action FROM audit_log WHERE target = $1`, [`call:${callId}`])).map((a) => a.action);
    expect(audits).toEqual(expect.arrayContaining(['call_listen', 'call_supervision_end']));

    // the agent hangs up; the bridge recording is stored and linked to the call
    await agent.click('[data-testid=hangup]');
    await agent.locator('[data-testid=current-call][data-state=ended]').waitFor(SOON);
    await until(async () => (await q(`SELECT 1 FROM calls WHERE flow_id = $1 AND recording IS NOT NULL`, [callId])).length > 0 || undefined, 30_000);

    // the supervisor forces the agent to 置忙 with a reason (hostile text is kept as text)
    const agentRow = lead.locator(`[data-testid=agent-row][data-user-id="${agentId}"]`);
    await agentRow.locator('[data-testid=force-state]').click();
    const dialog = lead.locator('[data-testid=force-dialog]');
    await dialog.waitFor(SOON);
    await dialog.locator('[data-testid=force-not_ready]').click();
    await dialog.locator('[data-testid=force-reason]').fill(REASON);
    await dialog.locator('[data-testid=force-save]').click();
    await dialog.waitFor({ state: 'detached', ...SOON });
    await agent.locator('[data-testid=agent-state][data-state=not_ready]').waitFor(SOON);
    const forced = await q<{ detail: { reason: string; state: string } }>(`SELECT detail FROM audit_log WHERE action = 'agent_state_forced' AND target = $1`, [`user:${agentId}`]);
    expect(forced.map((f) => f.detail)).toEqual([expect.objectContaining({ state: 'not_ready', reason: REASON })]);

    // 改派: the supervisor gives the agent's alarm to another signed-in agent, with a reason
    const admin = await login(app);
    const other = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'zhaolei', displayName: '赵磊', role: 'agent', password: PASSWORD, extension: '8006' } });
    expect(other.statusCode, other.body).toBe(201);
    const otherId = other.json().id as number;
    const tok = (await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'zhaolei', password: PASSWORD } })).json().token as string;
    const signIn = await app.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: { authorization: `Bearer ${tok}` }, payload: { extension: '8006', state: 'ready' } });
    expect(signIn.statusCode, signIn.body).toBe(200);
    await lead.locator(`[data-testid=agent-row][data-user-id="${otherId}"][data-state=ready]`).waitFor(SOON);
    const alarmRow = lead.locator('[data-testid=sup-queue-row]', { hasText: HOSTILE }).first();
    await alarmRow.locator('[data-testid=reassign]').click();
    const re = lead.locator('[data-testid=reassign-dialog]');
    await re.waitFor(SOON);
    await re.locator('[data-testid=reassign-to]').selectOption(String(otherId));
    await re.locator('[data-testid=reassign-reason]').fill(REASON);
    await re.locator('[data-testid=reassign-save]').click();
    await re.waitFor({ state: 'detached', ...SOON });
    await until(async () => (await q<{ owner_id: string | null }>(`SELECT owner_id FROM alarms WHERE id = $1`, [alarmId])).find((a) => Number(a.owner_id) === otherId), 20_000);
    const reassigned = await q<{ detail: { from: number; to: number; reason: string } }>(`SELECT detail FROM audit_log WHERE action = 'alarm_reassign' AND target = $1`, [`alarm:${alarmId}`]);
    expect(reassigned.map((r) => r.detail)).toEqual([expect.objectContaining({ from: agentId, to: otherId, reason: REASON })]);
    // 赵磊 hands it back (释放) and signs out: the last test needs nobody signed in
    const zl = { authorization: `Bearer ${tok}` };
    expect((await app.http.inject({ method: 'POST', url: `/api/alarms/${alarmId}/release`, headers: zl, payload: {} })).statusCode).toBe(200);
    expect((await app.http.inject({ method: 'POST', url: '/api/agents/me/sign-out', headers: zl })).statusCode).toBe(200);
    expect(await lead.locator('[data-testid=supervisor]').count()).toBe(1); // the row's own click (open the file, go to the desk) did not fire
    await nothingRan(agent, lead);
  }, 120_000);

  it('the call log lists the call; its detail shows the timeline and plays the recording (audited)', async () => {
    await agent.click('[data-testid=view-calls]');
    const row = agent.locator(`[data-testid=call-log-row][data-flow-id="${callId}"]`);
    await row.waitFor(SOON);
    // the hostile name is text in the cell, not an element
    expect(await row.locator('[data-testid=call-log-elder]').textContent()).toBe(HOSTILE);
    expect(await agent.locator('[data-testid=call-log-table] img').count()).toBe(0);
    expect(await row.textContent()).toContain('外呼');
    expect(await row.textContent()).toContain('王芳');
    await shot(agent, 'call-log');

    // the filters: by number finds it, an inbound-only search does not
    await agent.fill('[data-testid=filter-number]', ELDER_PHONE.slice(-5));
    await agent.click('[data-testid=filter-apply]');
    await row.waitFor(SOON);
    await agent.selectOption('[data-testid=filter-direction]', 'inbound');
    await agent.click('[data-testid=filter-apply]');
    await agent.locator('[data-testid=call-log-empty]').waitFor(SOON);
    await agent.selectOption('[data-testid=filter-direction]', '');
    await agent.click('[data-testid=filter-apply]');
    await row.waitFor(SOON);

    await row.click();
    const detail = agent.locator(`[data-testid=call-detail][data-flow-id="${callId}"]`);
    await detail.locator('[data-testid=call-timeline]').waitFor(SOON);
    const acts = await detail.locator('[data-testid=call-action]').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    expect(acts.indexOf('hold')).toBeGreaterThan(acts.indexOf('connected'));
    expect(acts.indexOf('unhold')).toBeGreaterThan(acts.indexOf('hold'));
    expect(acts).toContain('listen');
    const hold = detail.locator('[data-testid=call-action][data-action=hold]');
    expect(await hold.textContent()).toContain('保持');
    expect(await hold.textContent()).toContain('王芳');
    expect(await detail.locator('[data-testid=call-action][data-action=listen]').textContent()).toContain('陈班长');
    expect(await detail.locator('[data-testid=call-detail-elder]').textContent()).toContain(HOSTILE);

    // ▶: the <audio> loads the WAV from Anxin; the server audits the playback as this agent's
    await detail.locator('[data-testid=play-recording]').click();
    const audio = detail.locator('[data-testid=recording-audio]');
    await audio.waitFor(SOON);
    await agent.waitForFunction(
      (el) => {
        const a = el as unknown as { readyState: number; duration: number; error: unknown };
        return a.error !== null || (a.readyState >= 1 && a.duration > 0);
      },
      await audio.elementHandle(),
      SOON,
    );
    const state = await audio.evaluate((el) => {
      const a = el as unknown as { readyState: number; duration: number; error: { code: number } | null; currentSrc: string };
      return { readyState: a.readyState, duration: a.duration, error: a.error?.code ?? null, src: a.currentSrc };
    });
    expect(state.error).toBeNull();
    expect(state.readyState).toBeGreaterThanOrEqual(1);
    expect(state.duration).toBeGreaterThan(0);
    expect(new URL(state.src).pathname).toBe(`/api/calls/${encodeURIComponent(callId)}/recording`);
    expect(new URL(state.src).origin).toBe(base);
    const plays = await until(async () => {
      const r = await q<{ actor: string; detail: { alarmId?: number } }>(`SELECT actor, detail FROM audit_log WHERE action = 'recording_play' AND target = $1`, [`call:${callId}`]);
      return r.length ? r : undefined;
    }, 10_000);
    expect(plays[0]).toMatchObject({ actor: `user:${agentId}`, detail: { alarmId } });
    await shot(agent, 'call-detail');

    // in English the timeline has its labels too
    await agent.click('[data-testid=locale-en]');
    await detail.locator('[data-testid=call-action][data-action=hold]', { hasText: 'Hold' }).waitFor(SOON);
    await agent.click('[data-testid=locale-zh-CN]');

    // "open alarm": the alarm's file, whose timeline offers the same recording
    await detail.locator('[data-testid=call-detail-open-alarm]').click();
    const file = agent.locator(`[data-testid=elder-file][data-alarm-id="${alarmId}"]`);
    await file.waitFor(SOON);
    await file.locator('[data-testid=timeline] [data-testid=play-recording]').first().click();
    const fileAudio = file.locator('[data-testid=timeline] [data-testid=recording-audio]');
    await fileAudio.waitFor(SOON);
    await agent.waitForFunction((el) => (el as unknown as { readyState: number }).readyState >= 1, await fileAudio.elementHandle(), SOON);
    expect(await fileAudio.evaluate((el) => (el as unknown as { error: unknown }).error)).toBeNull();
    await shot(agent, 'alarm-file-recording');
    await nothingRan(agent, lead);
  }, 90_000);

  it('the call-back list shows a caller who hung up in the queue, live; 完成 removes it', async () => {
    await agent.click('[data-testid=view-calls]');
    await agent.click('[data-testid=tab-callbacks]');
    await agent.locator('[data-testid=callbacks-table]').waitFor(SOON);
    // the agent is 置忙: the caller waits in the queue, then hangs up
    const c = sim.injectCall({ from: ELDER_PHONE, to: HOTLINE, args: [], hangupAfter: null, channelId: `caller-e2e-${process.pid}` });
    const entry = c.channel.id;
    await until(async () => (await q(`SELECT 1 FROM calls WHERE channel_id = $1 AND answered_at IS NOT NULL`, [entry])).length > 0 || undefined, 20_000);
    await new Promise((r) => setTimeout(r, 1200));
    sim.farEndHangup(entry, 16);
    const [cb] = await until(async () => {
      const r = await q<{ id: string }>(`SELECT id FROM callback_requests WHERE entry_id = $1`, [entry]);
      return r.length ? r : undefined;
    }, 20_000);
    const row = agent.locator(`[data-testid=callback-row][data-id="${cb!.id}"]`);
    await row.waitFor(SOON); // pushed (callback_request), no reload
    expect(await row.getAttribute('data-reason')).toBe('abandoned');
    expect(await row.textContent()).toContain('呼损');
    expect(await row.textContent()).toContain(HOSTILE); // the caller's elder, as text
    expect(await row.locator('[data-testid=callback-number]').textContent()).toBe(ELDER_PHONE);
    expect(await agent.locator('[data-testid=callbacks-table] img').count()).toBe(0);
    await shot(agent, 'callbacks');
    await row.locator('[data-testid=callback-done]').click();
    await row.waitFor({ state: 'detached', ...SOON });
    expect(Number((await q<{ handled_by: string }>(`SELECT handled_by FROM callback_requests WHERE id = $1`, [cb!.id]))[0]!.handled_by)).toBe(agentId);
    await nothingRan(agent, lead);
    expect(errors).toEqual([]);
  }, 90_000);

  it('nobody signed in: the queue overflows, the supervisor gets an alert, the voicemail lands on the call-back list', async () => {
    await agent.click('[data-testid=sign-out]');
    await agent.locator('[data-testid=agent-state][data-state=signed_out]').waitFor(SOON);
    const c = sim.injectCall({ from: '13700137031', to: HOTLINE, args: [], hangupAfter: null, channelId: `caller-vm-${process.pid}` });
    const alert = lead.locator('[data-testid=notice-alert]', { hasText: '排队溢出' });
    await alert.waitFor(SOON);
    expect(await alert.textContent()).toContain('13700137031');
    expect(await alert.textContent()).toContain('无坐席签入');
    await shot(lead, 'queue-alert');
    const row = agent.locator(`[data-testid=callback-row][data-reason=voicemail]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('留言');
    // ▶ the voicemail, through Anxin (GET /api/callbacks/:id/recording), audited
    await row.locator('[data-testid=voicemail-note] [data-testid=play-recording]').click();
    const vm = row.locator('[data-testid=recording-audio]');
    await vm.waitFor(SOON);
    await agent.waitForFunction((el) => {
      const a = el as unknown as { readyState: number; duration: number; error: unknown };
      return a.error !== null || (a.readyState >= 1 && a.duration > 0);
    }, await vm.elementHandle(), SOON);
    expect(await vm.evaluate((el) => (el as unknown as { error: unknown }).error)).toBeNull();
    await until(async () => (await q(`SELECT 1 FROM audit_log WHERE action = 'voicemail_play' AND actor = $1`, [`user:${agentId}`])).length > 0 || undefined, 20_000);
    expect(await row.locator('[data-testid=callback-number]').textContent()).toBe('13700137031');
    if (sim.channel(c.channel.id)) sim.farEndHangup(c.channel.id, 16);
    await nothingRan(agent, lead);
    expect(errors).toEqual([]);
  }, 90_000);
});
