/**
 * The dashboard in Chromium against the real server (in-process, random ports): login and sign-in, a simulated
 * watch's SOS screen-popping without a reload, accept, a second agent's 409, calling the elder through the
 * simulated Asterisk, resolving with an outcome, surviving a lost WebSocket, the supervisor view, and no console
 * errors. Screenshots at 1366×768 go to tests/artifacts/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { collectErrors, ensureDashboardBuilt, findChromium, gateWebSocket, launchChromium, type WsGate, ARTIFACTS, VIEWPORT, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const WATCH_A = '8800000015';
const WATCH_B = '8800000016';
const ELDER_PHONE = '13800138000';

let app: App;
let sim: AsteriskSim;
let browser: Browser;
let base: string;
/** console errors and uncaught exceptions of the current test's pages */
let errors: string[] = [];
/** browser messages the current test expects (checked after each test) */
let expectedErrors: ((e: string) => boolean)[] = [];
const watches: SimulatedWatch[] = [];
const contexts: BrowserContext[] = [];
let upgraded = new Set<Duplex>();
let agent1Id: number;
let elderA: number;

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

async function openPage(name: string, username: string): Promise<{ page: Page; gate: WsGate }> {
  const ctx = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  contexts.push(ctx);
  const page = await ctx.newPage();
  collectErrors(page, name, errors);
  const gate = await gateWebSocket(page);
  await page.goto(base);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=connection][data-state=online]').waitFor(SOON);
  return { page, gate };
}

async function watch(id: string): Promise<SimulatedWatch> {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: id, battery: 64 });
  await w.connect();
  watches.push(w);
  return w;
}

// ---- what a test needs, each made by the test itself (any single test runs alone with -t) ----

/** Signs the page in to a phone extension (签入) and waits until it is ready (置闲). */
async function signIn(p: Page, extension = '8001'): Promise<void> {
  await p.locator('[data-testid=agent-state][data-state=signed_out]').waitFor(SOON);
  await p.fill('[data-testid=extension-input]', extension);
  await p.click('[data-testid=sign-in]');
  await p.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
}

/** 王芳 (agent1) logged in and signed in to 8001, ready. */
async function readyAgent1(): Promise<{ page: Page; gate: WsGate }> {
  const a = await openPage('agent1', 'wangfang');
  await signIn(a.page);
  return a;
}

/** 张秀英's watch sends an SOS; it pops up in the ready agent's page. Returns the watch and the alarm id. */
async function sosPopped(p: Page): Promise<{ w: SimulatedWatch; alarmId: number }> {
  const w = await watch(WATCH_A);
  await w.sendAlarm('sos', { point: [31.2251, 121.4472] });
  const file = p.locator('[data-testid=elder-file][data-state=presented]');
  await file.locator('[data-testid=elder-name]', { hasText: '张秀英' }).waitFor(SOON);
  return { w, alarmId: Number(await file.getAttribute('data-alarm-id')) };
}

/** The agent accepts the alarm in its file (A). */
async function accept(p: Page): Promise<void> {
  await p.keyboard.press('a');
  await p.locator(`[data-testid=elder-file][data-state=accepted]`).waitFor(SOON);
  // the accept's own request has settled (R is refused while an action is in flight)
  await p.locator('[data-testid=action-resolve]:not([disabled])').waitFor(SOON);
}

/** Resolves the accepted alarm as elder_ok (R, 2, Enter), then ends the wrap-up: the agent is ready again. */
async function resolveAndEndWrapUp(p: Page): Promise<void> {
  await p.keyboard.press('r');
  await p.locator('[data-testid=resolve-dialog]').waitFor(SOON);
  await p.keyboard.press('2');
  await p.keyboard.press('Enter');
  await p.locator('[data-testid=elder-file][data-state=resolved]').waitFor(SOON);
  await p.locator('[data-testid=agent-state][data-state=wrap_up] [data-testid=wrap-up-left]').waitFor(SOON);
  await p.click('[data-testid=end-wrap-up]');
  await p.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
}

/** A fresh server and simulated Asterisk with the agents, the supervisor, two elders and their watches. */
async function startServer(): Promise<void> {
  // The simulated Asterisk: the agent's extension and the elder's phone answer and stay up until hung up.
  sim = await startAsteriskSim({
    port: 0,
    timeScale: 0.5,
    app: 'anxin',
    directory: [
      { match: 'PJSIP/8001', action: 'answer', answerAfter: 0.5 },
      { match: ELDER_PHONE, action: 'answer', answerAfter: 1 },
    ],
  });
  app = await startTestApp({}, { TELEPHONY: 'ari', ARI_URL: sim.url, ARI_USERNAME: sim.username, ARI_PASSWORD: sim.password, ARI_APP: 'anxin' });
  await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'));
  // Every WebSocket the server accepts, so the test can drop them from the server's side.
  app.http.server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => void upgraded.add(socket));
  base = `http://127.0.0.1:${app.httpPort}`;
  const admin = await login(app);
  const inject = (url: string, payload: object) => app.http.inject({ method: 'POST', url, headers: admin, payload });
  for (const [username, displayName, role, extension] of [
    ['wangfang', '王芳', 'agent', '8001'],
    ['liqiang', '李强', 'agent', '8002'],
    ['lead', '陈班长', 'supervisor', undefined],
  ] as const) {
    const r = await inject('/api/users', { username, displayName, role, password: PASSWORD, ...(extension ? { extension } : {}) });
    expect(r.statusCode).toBe(201);
    if (username === 'wangfang') agent1Id = r.json().id;
  }
  // Escalation to everyone comes late here, so only the longest-idle agent is presented during the test.
  const plan = { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 600, action: 'present_all_and_alert_supervisor' }] };
  const e = await inject('/api/elders', {
    name: '张秀英',
    gender: 'female',
    birthDate: '1943-05-12',
    phone: ELDER_PHONE,
    address: '上海市静安区南京西路1601弄3号502室',
    lat: 31.2243,
    lon: 121.4457,
    conditions: '高血压，2型糖尿病',
    medications: '氨氯地平 5mg 每日一次',
    allergies: '青霉素',
    dialect: '上海话',
    livesAlone: true,
    accessNotes: '钥匙盒在门左侧电表箱内，密码 2580',
    rules: { geofences: [{ id: 'home', name: '小区', shape: { type: 'circle', center: { lat: 31.2243, lon: 121.4457 }, radiusM: 400 } }] },
    responsePlan: plan,
    contacts: [
      { name: '李明', relation: '儿子', phone: '13900139000' },
      { name: '王桂兰', relation: '邻居', phone: '13700137000', notes: '住501，有备用钥匙' },
    ],
  });
  expect(e.statusCode).toBe(201);
  elderA = e.json().id;
  const e2 = await inject('/api/elders', { name: '欧阳建国', gender: 'male', birthDate: '1938-11-02', address: '上海市徐汇区漕溪北路88号', responsePlan: plan, contacts: [{ name: '欧阳丽', relation: '女儿', phone: '13600136000' }] });
  expect(e2.statusCode).toBe(201);
  expect((await inject('/api/devices', { identifier: WATCH_A, protocol: 'watch', model: 'S8 4G', elderId: e.json().id })).statusCode).toBe(201);
  expect((await inject('/api/devices', { identifier: WATCH_B, protocol: 'watch', elderId: e2.json().id })).statusCode).toBe(201);
}

describe.skipIf(!CHROMIUM)('dashboard in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  // Each test has its own server, Asterisk and pages: no test depends on what an earlier one left behind.
  beforeEach(async () => {
    errors = [];
    expectedErrors = [];
    await startServer();
  }, 60_000);

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    for (const w of watches.splice(0)) await w.close().catch(() => undefined);
    await app?.stop();
    await sim?.stop();
    upgraded = new Set();
    // no console errors and no uncaught exceptions, besides those the test expected
    expect(errors.filter((e) => !expectedErrors.some((x) => x(e)))).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('logs in and signs in to a phone extension (签入, 置闲)', async () => {
    const { page: p } = await openPage('agent1', 'wangfang');
    await p.locator('[data-testid=agent-state][data-state=signed_out]').waitFor(SOON);
    await p.fill('[data-testid=extension-input]', '8001');
    await p.click('[data-testid=sign-in]');
    await p.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
    expect(await p.locator('[data-testid=extension]').textContent()).toContain('8001');
    expect(await p.locator('[data-testid=state-ready]').getAttribute('aria-pressed')).toBe('true');
  }, 60_000);

  it("screen-pops a watch's SOS in the open page, without a reload", async () => {
    const { page: p } = await readyAgent1();
    let loads = 0;
    p.on('load', () => loads++);
    await p.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const w = await watch(WATCH_A);
    // Her last hour: a walk in the neighbourhood, stored as telemetry, drawn as the track.
    const walk: [number, number][] = [[31.2243, 121.4457], [31.2247, 121.4463], [31.2249, 121.4468], [31.2251, 121.4472]];
    for (const pt of walk) w.sendUD(pt);
    await until(async () => (await app.telemetryQuery.track(elderA, { from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000), limit: 100 })).length >= walk.length);
    await w.sendAlarm('sos', { point: [31.2251, 121.4472] });
    const file = p.locator('[data-testid=elder-file]');
    await file.locator('[data-testid=elder-name]', { hasText: '张秀英' }).waitFor(SOON);
    const alarmId = Number(await file.getAttribute('data-alarm-id'));
    expect(alarmId).toBeGreaterThan(0);
    expect(await file.getAttribute('data-state')).toBe('presented');
    // the file: access notes, contacts in order with call buttons, devices, map, greeting for a woman
    expect(await file.locator('[data-testid=access-notes]').textContent()).toContain('2580');
    expect(await file.locator('[data-testid=contacts] li').allTextContents()).toEqual([expect.stringContaining('李明'), expect.stringContaining('王桂兰')]);
    expect(await file.locator('[data-testid=call-contact]').count()).toBe(2);
    await file.locator('[data-testid=devices]', { hasText: WATCH_A }).waitFor(SOON);
    expect(await file.locator('[data-testid=greeting]').textContent()).toContain('张女士');
    await file.locator('[data-testid=elder-map] .map-last').waitFor(SOON);
    await file.locator('[data-testid=elder-map] path.map-track').waitFor(SOON);
    await file.locator('[data-testid=elder-map] path.map-fence').waitFor(SOON);
    // the queue row: priority colour, kind, name, age and state
    const row = p.locator(`[data-testid=queue-row][data-alarm-id="${alarmId}"]`);
    await row.waitFor(SOON);
    expect(await row.getAttribute('data-priority')).toBe('1');
    expect(await row.textContent()).toMatch(/张秀英.*SOS求救/);
    expect(await p.evaluate(() => (globalThis as unknown as { marker: number }).marker)).toBe(42);
    expect(loads).toBe(0);
    await shot(p, 'screen-pop');
  }, 60_000);

  it('the agent accepts (A); a second agent accepting the same alarm gets a clear 409', async () => {
    const agent1 = await readyAgent1();
    const { alarmId } = await sosPopped(agent1.page);
    // The second agent is logged in but not signed in, so the ACD never presents to it; it sees the queue.
    const agent2 = await openPage('agent2', 'liqiang');
    // The one expected browser message: Chromium logs the refused accept (HTTP 409) of the second agent.
    const refused = (e: string) => e.startsWith('agent2: console: Failed to load resource: the server responded with a status of 409');
    expectedErrors.push(refused);
    const p2 = agent2.page;
    await p2.locator(`[data-testid=queue-row][data-alarm-id="${alarmId}"]`).click();
    await p2.locator('[data-testid=action-accept]:enabled').waitFor(SOON);
    // Its live updates are held back: like two agents clicking at the same moment.
    agent2.gate.hold();
    const p1 = agent1.page;
    await p1.keyboard.press('a');
    await p1.locator(`[data-testid=elder-file][data-state=accepted]`).waitFor(SOON);
    await p2.click('[data-testid=action-accept]');
    const err = p2.locator('[data-testid=action-error]');
    await err.waitFor(SOON);
    expect(await err.textContent()).toMatch(/409/);
    expect(await err.textContent()).toContain('已被');
    agent2.gate.release();
    await p2.locator('[data-testid=owner-note]').waitFor(SOON);
    expect(await p2.locator('[data-testid=action-accept]').isDisabled()).toBe(true);
    await shot(p2, 'conflict-409');
    const a = (await app.http.inject({ method: 'GET', url: `/api/alarms/${alarmId}`, headers: await login(app) })).json();
    expect(a.alarm.ownerId).toBe(agent1Id);
    expect(errors.filter(refused)).toHaveLength(1);
  }, 120_000);

  it('calls the elder (C) through the simulated Asterisk: agent phone first, then the elder; shows connected; hangs up', async () => {
    const { page: p } = await readyAgent1();
    const { alarmId } = await sosPopped(p);
    await accept(p);
    await p.keyboard.press('c');
    const bar = p.locator('[data-testid=current-call]');
    await p.locator('[data-testid=current-call][data-state=connected]').waitFor({ timeout: 30_000 });
    expect(await bar.textContent()).toContain('张秀英');
    await p.locator('[data-testid=file-call][data-state=connected]').waitFor(SOON);
    await p.locator('[data-testid=agent-state][data-state=on_call]').waitFor(SOON);
    await shot(p, 'call-connected');
    await p.click('[data-testid=hangup]');
    await p.locator('[data-testid=current-call][data-state=ended]').waitFor(SOON);
    // after the call the agent still holds the alarm: back to 处理中 (handling); wrap-up comes with the resolve
    await p.locator('[data-testid=agent-state][data-state=handling]').waitFor(SOON);
    const legs = (await app.db.query(`SELECT party, answered_at IS NOT NULL AS answered FROM calls WHERE alarm_id = $1 ORDER BY id`, [alarmId])).rows;
    expect(legs).toEqual([{ party: 'agent', answered: true }, { party: 'elder', answered: true }]);
  }, 120_000);

  it('resolves with an outcome (R, a number key, Enter); the alarm leaves the queue', async () => {
    const { page: p } = await readyAgent1();
    const { alarmId } = await sosPopped(p);
    await accept(p);
    await p.keyboard.press('r');
    await p.locator('[data-testid=resolve-dialog]').waitFor(SOON);
    await p.keyboard.press('2'); // the second outcome: elder_ok (回拨确认老人安好)
    expect(await p.locator('[data-testid=outcome-elder_ok]').isChecked()).toBe(true);
    await p.keyboard.press('Enter');
    await p.locator('[data-testid=elder-file][data-state=resolved]').waitFor(SOON);
    await p.locator(`[data-testid=queue-row][data-alarm-id="${alarmId}"]`).waitFor({ state: 'detached', ...SOON });
    const a = (await app.http.inject({ method: 'GET', url: `/api/alarms/${alarmId}`, headers: await login(app) })).json();
    expect(a.alarm).toMatchObject({ state: 'resolved', outcome: 'elder_ok', ownerId: agent1Id });
    // the last alarm in hand is resolved: wrap-up (话后整理) counting down; 结束整理 makes the agent ready (置闲) at once
    await p.locator('[data-testid=agent-state][data-state=wrap_up] [data-testid=wrap-up-left]').waitFor(SOON);
    await p.click('[data-testid=end-wrap-up]');
    await p.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);
  }, 120_000);

  it('survives a lost WebSocket: the offline banner shows, then it reconnects, resynchronises and new alarms appear', async () => {
    const agent1 = await readyAgent1();
    const p = agent1.page;
    const wa = await watch(WATCH_A);
    // 1. The network is gone: the banner shows, and alarms raised meanwhile arrive after the reconnect.
    agent1.gate.block();
    await p.locator('[data-testid=offline-banner]').waitFor(SOON);
    expect(await p.locator('[data-testid=offline-banner]').textContent()).toContain('连接中断');
    await shot(p, 'offline-banner');
    const wb = await watch(WATCH_B);
    await wb.sendAlarm('removed');
    await wa.sendAlarm('fall', { point: [31.2262, 121.4481] });
    agent1.gate.unblock();
    await p.locator('[data-testid=offline-banner]').waitFor({ state: 'detached', timeout: 45_000 });
    await p.locator('[data-testid=queue-row][data-priority="3"]', { hasText: '欧阳建国' }).waitFor(SOON);
    // the fall was presented to this agent while it was offline: it pops after the resync
    await p.locator('[data-testid=elder-file][data-state=presented]', { hasText: '跌倒报警' }).waitFor(SOON);
    // 2. The server drops every socket: the page comes back by itself and still gets new alarms.
    for (const socket of upgraded) socket.destroy();
    await wb.sendAlarm('sos');
    await p.locator('[data-testid=queue-row][data-priority="1"]', { hasText: '欧阳建国' }).waitFor({ timeout: 45_000 });
    await p.locator('[data-testid=connection][data-state=online]').waitFor({ timeout: 45_000 });
    expect(await p.locator('[data-testid=offline-banner]').count()).toBe(0);
    expect(await p.evaluate(() => (globalThis as unknown as { __anxin: { drops: number } }).__anxin.drops)).toBeGreaterThanOrEqual(2);
    // the queue: priority first, then age
    const priorities = (await p.locator('[data-testid=queue-row]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-priority'))))) as number[];
    expect(priorities).toEqual([...priorities].sort((a, b) => a - b));
    expect(priorities.length).toBeGreaterThanOrEqual(3);
    await p.keyboard.press('Escape');
    await p.locator('[data-testid=idle-panel]').waitFor(SOON);
    await shot(p, 'queue');
  }, 120_000);

  it("the supervisor sees every agent's state, the queue with ages, and today's rates", async () => {
    // Today so far: 王芳 took and resolved an SOS and is ready again; 李强 is logged in but not signed in;
    // three alarms wait in the queue.
    const { page: a1 } = await readyAgent1();
    const { w: wa } = await sosPopped(a1);
    await accept(a1);
    await resolveAndEndWrapUp(a1);
    await openPage('agent2', 'liqiang');
    const wb = await watch(WATCH_B);
    await wb.sendAlarm('removed');
    await wa.sendAlarm('fall', { point: [31.2262, 121.4481] });
    await wb.sendAlarm('sos');
    await until(async () => (await a1.locator('[data-testid=queue-row]').count()) >= 3, 20_000);

    const { page: p } = await openPage('supervisor', 'lead');
    await p.locator('[data-testid=supervisor]').waitFor(SOON);
    await p.locator(`[data-testid=agent-row][data-user-id="${agent1Id}"][data-state=ready]`).waitFor(SOON);
    await p.locator('[data-testid=agent-row][data-state=signed_out]', { hasText: '李强' }).waitFor(SOON);
    await p.locator('[data-testid=sup-queue-row]').first().waitFor(SOON);
    await until(async () => (await p.locator('[data-testid=sup-queue-row]').count()) >= 3, 20_000);
    await p.locator('[data-testid=card-rate60]', { hasText: '%' }).waitFor(SOON);
    await p.locator('[data-testid=card-rate180]', { hasText: '%' }).waitFor(SOON);
    await shot(p, 'supervisor');
    // English is one click away
    await p.click('[data-testid=locale-en]');
    await p.locator('[data-testid=card-rate60]', { hasText: 'Answered within 60 s' }).waitFor(SOON);
    await shot(p, 'supervisor-en');
  }, 120_000);
});
