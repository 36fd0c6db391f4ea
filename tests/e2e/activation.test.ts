/**
 * 设备开通 (issue 20) in Chromium on a phone (390×844): an installer types the IMEI of a watch that has already
 * knocked on the centre's door (the screen says it is awaiting registration), registers it in the flow, creates the
 * elder and starts the live test; a simulated watch (over TCP, frames from the protocol facts) logs in, reports a
 * position and presses SOS. The screen ticks off online, position, battery and the test alarm; a reload mid-test
 * resumes the test; an agent signed in meanwhile gets no alarm and no pop; finishing marks the device activated by
 * the installer. Screenshots: tests/artifacts/activate-*.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { ensureDashboardBuilt, findChromium, launchChromium, Windows, ARTIFACTS, PASSWORD, PHONE, SOON, VIEWPORT } from '../helpers/browser.js';
import { until } from '../helpers/until.js';

const CHROMIUM = findChromium();
const IMEI = '862030041234567';
const POINT: [number, number] = [31.2304, 121.4737];

let app: App;
let browser: Browser;
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const watches: SimulatedWatch[] = [];

async function watch(): Promise<SimulatedWatch> {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: IMEI, lkOnConnect: false, alarmRetryMs: 500, lkRetryMs: 60_000, battery: 76, path: [POINT] });
  w.on('error', () => undefined);
  watches.push(w);
  await w.connect();
  return w;
}

describe.skipIf(!CHROMIUM)('设备开通 in Chromium (installer on a phone)', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp();
    const admin = await login(app);
    for (const [username, role, displayName] of [['anzhuang', 'installer', '安装员小王'], ['zuoxi', 'agent', '坐席小李']] as const) {
      const r = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username, role, displayName, password: PASSWORD, ...(role === 'agent' ? { extension: '8001' } : {}) } });
      expect(r.statusCode, r.body).toBe(201);
    }
    browser = await launchChromium(CHROMIUM!);
  }, 180_000);

  afterEach(async () => {
    for (const w of watches.splice(0)) await w.close().catch(() => undefined);
    expect(await windows.done()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('registers the watch in the flow, creates the elder, passes the live test with a test alarm no agent sees, and finishes', async () => {
    // The watch was switched on before it was registered: the centre refused it and noted it (待开通).
    const early = await watch();
    early.sendLK().catch(() => undefined);
    await until(async () => (await app.db.query('SELECT 1 FROM unknown_devices WHERE identifier = $1', [IMEI])).rowCount === 1);
    await early.close().catch(() => undefined);

    // An agent is signed in and ready the whole time: a test alarm must never reach them.
    const agent = await windows.open('zuoxi', PASSWORD, { viewport: VIEWPORT, ready: '[data-testid=connection][data-state=online]' });
    await agent.fill('[data-testid=extension-input]', '8001');
    await agent.click('[data-testid=sign-in]');
    await agent.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);

    const p = await windows.open('anzhuang', PASSWORD, { viewport: PHONE, ready: '[data-testid=activate-screen][data-step="1"]' });
    await p.fill('[data-testid=act-identifier]', IMEI);
    await p.click('[data-testid=act-lookup]');
    await p.locator('[data-testid=act-register]').waitFor(SOON);
    // it knocked already, and a 15-digit IMEI offers the watch protocol first
    await p.locator('[data-testid=act-seen]').waitFor(SOON);
    expect(await p.locator('[data-testid=act-proto-watch]').isChecked()).toBe(true);
    await p.screenshot({ path: join(ARTIFACTS, 'activate-register.png') });
    await p.click('[data-testid=act-register-submit]');

    await p.locator('[data-testid=act-step-elder]').waitFor(SOON);
    await p.click('[data-testid=act-elder-new-tab]');
    await p.fill('[data-testid=act-elder-name]', '王秀兰');
    await p.fill('[data-testid=act-elder-phone]', '13800138000');
    await p.fill('[data-testid=act-elder-address]', '上海市黄浦区南京东路 100 号 3 室');
    await p.screenshot({ path: join(ARTIFACTS, 'activate-elder.png') });
    await p.click('[data-testid=act-elder-create]');

    await p.locator('[data-testid=act-step-test]').waitFor(SOON);
    await p.locator('[data-testid=check-online][data-state=wait]').waitFor(SOON);
    const device = (await app.db.query('SELECT id, elder_id FROM devices WHERE identifier = $1', [IMEI])).rows[0];
    expect(device.elder_id).not.toBeNull();
    await until(async () => (await app.db.query('SELECT test_until FROM devices WHERE id = $1', [device.id])).rows[0].test_until !== null);
    await p.locator('[data-testid=act-window]').waitFor(SOON);
    await p.screenshot({ path: join(ARTIFACTS, 'activate-test-waiting.png') });

    // Before the device is heard, the SOS is not asked for yet; a check that does not pass in time says what to check.
    expect(await p.locator('[data-testid=check-alarm-detail]').textContent()).toContain('设备上线后');
    await app.db.query(`UPDATE devices SET test_started_at = test_started_at - interval '5 minutes' WHERE id = $1`, [device.id]);
    await p.locator('[data-testid=check-online][data-state=late]', { hasText: 'APN' }).waitFor(SOON);
    expect(await p.locator('[data-testid=check-online]').textContent()).toContain('话费');
    await p.screenshot({ path: join(ARTIFACTS, 'activate-test-hints.png') });

    // A reload in the middle of the test resumes it, on the same device (the window is not restarted).
    const until1 = (await app.db.query('SELECT test_until FROM devices WHERE id = $1', [device.id])).rows[0].test_until as Date;
    await p.reload();
    await p.locator('[data-testid=act-step-test]').waitFor(SOON);
    expect(await p.locator('[data-testid=act-device]').textContent()).toContain(IMEI);
    await p.locator('[data-testid=check-online][data-state=late]').waitFor(SOON);
    expect(((await app.db.query('SELECT test_until FROM devices WHERE id = $1', [device.id])).rows[0].test_until as Date).getTime()).toBe(until1.getTime());

    const w = await watch();
    await w.sendLK();
    await p.locator('[data-testid=check-online][data-state=pass]').waitFor(SOON);
    await p.locator('[data-testid=check-battery][data-state=pass]').waitFor(SOON);
    expect(await p.locator('[data-testid=check-battery-detail]').textContent()).toContain('76%');
    w.sendUD(POINT);
    await p.locator('[data-testid=check-position][data-state=pass]').waitFor(SOON);
    await p.locator('.act-map [data-testid=elder-map]').waitFor(SOON);
    expect(await p.locator('[data-testid=check-alarm-detail]').textContent()).toContain('请现在按下 SOS 键');

    const acked = await w.sendAlarm('sos');
    expect(acked.ackedAt).toBeGreaterThan(0);
    await p.locator('[data-testid=check-alarm][data-state=pass]').waitFor(SOON);
    expect(await p.locator('[data-testid=act-step-test]').getAttribute('data-ready')).toBe('true');
    await p.screenshot({ path: join(ARTIFACTS, 'activate-test-passed.png') });

    // The alarm is a test alarm, closed at once; the agent's queue never had it.
    const alarms = (await app.db.query('SELECT test, state FROM alarms WHERE device_id = $1', [device.id])).rows;
    expect(alarms).toEqual([{ test: true, state: 'closed' }]);
    await agent.waitForTimeout(1000);
    expect(await agent.evaluate(() => (globalThis as unknown as { __anxin: { alarms: unknown[]; open: unknown } }).__anxin.alarms.length)).toBe(0);
    expect(await agent.evaluate(() => (globalThis as unknown as { __anxin: { open: unknown } }).__anxin.open)).toBeNull();
    expect(await agent.locator('[data-testid=queue-row]').count()).toBe(0);

    await p.click('[data-testid=act-finish]');
    await p.locator('[data-testid=act-step-done]').waitFor(SOON);
    const done = (await p.locator('[data-testid=act-done-text]').textContent()) ?? '';
    expect(done).toContain('安装员小王');
    expect(done).toContain('王秀兰');
    await p.screenshot({ path: join(ARTIFACTS, 'activate-done.png') });
    const after = (await app.db.query('SELECT activated_at, activated_by, test_until FROM devices WHERE id = $1', [device.id])).rows[0];
    const installerId = (await app.db.query(`SELECT id FROM users WHERE username = 'anzhuang'`)).rows[0].id;
    expect(after.activated_at).not.toBeNull();
    expect(after.activated_by).toBe(installerId);

    // The next device starts from step 1, and a reload does not bring the finished one back.
    await p.click('[data-testid=act-next-device]');
    await p.locator('[data-testid=activate-screen][data-step="1"]').waitFor(SOON);
    await p.reload();
    await p.locator('[data-testid=activate-screen][data-step="1"]').waitFor(SOON);

    // The elder's file shows the device activated
    await p.click('[data-testid=view-elders]');
    await p.fill('[data-testid=elders-search]', '王秀兰');
    await p.locator('[data-testid=elder-row]', { hasText: '王秀兰' }).first().click();
    await p.click('[data-testid=ee-tab-history]');
    const row = p.locator(`[data-testid=elder-device][data-identifier="${IMEI}"]`);
    await row.waitFor(SOON);
    expect(await row.locator('[data-testid=elder-device-activated]').textContent()).toContain('已开通');
  }, 180_000);
});
