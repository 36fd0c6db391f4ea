/**
 * Issue 23 in Chromium: an elder's vital signs in the file. A day of readings is in the telemetry store already; the
 * simulated watch sends bphrt, heart, oxygen and btemp2 frames, then an SOS, which pops the file for the agent. She
 * opens 生命体征: the latest readings shown are the ones the watch sent, each chart is an SVG with its threshold
 * lines (上限 120 …), and 7天 shows the week; then in English. Screenshots tests/artifacts/vitals-1366*.png (1366×768).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { TelemetryPoint } from '../../gateway/store/telemetry/types.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { ensureDashboardBuilt, findChromium, launchChromium, Windows, ARTIFACTS, PASSWORD, SOON } from '../helpers/browser.js';

const CHROMIUM = findChromium();
const WATCH = '8800000231';

let app: App;
let browser: Browser;
let admin: { authorization: string };
let elderId: number;
const windows = new Windows(() => browser, () => `http://127.0.0.1:${app.httpPort}`);
const watches: SimulatedWatch[] = [];

/** The day before: a reading every 20 minutes, steps counting up from local midnight (16:00 UTC). */
function history(now: number): TelemetryPoint[] {
  const out: TelemetryPoint[] = [];
  for (let ms = now - 24 * 3600_000; ms < now - 30 * 60_000; ms += 20 * 60_000) {
    const h = (ms / 3600_000) % 24;
    const sinceMidnight = ((ms - 16 * 3600_000) % 86_400_000) / 60_000;
    out.push({
      measurement: 'health',
      time: new Date(ms),
      tags: { device: WATCH, elder: String(elderId), protocol: 'watch' },
      fields: {
        heartRate: Math.round(72 + 8 * Math.sin(h / 3)),
        systolic: Math.round(128 + 10 * Math.sin(h / 4)),
        diastolic: Math.round(82 + 5 * Math.sin(h / 4)),
        spo2: 96 + Math.round(Math.sin(h)),
        temperature: Math.round((36.5 + 0.2 * Math.sin(h / 5)) * 10) / 10,
        steps: Math.round(sinceMidnight * 4),
      },
    });
  }
  return out;
}

describe.skipIf(!CHROMIUM)('issue 23 in Chromium: vital signs in the elder file', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp({}, { TELEMETRY_FLUSH_MS: '100' });
    admin = await login(app);
    const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'liuyan', displayName: '刘燕', role: 'agent', password: PASSWORD, extension: '8011' } });
    expect(u.statusCode, u.body).toBe(201);
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '陈淑华', phone: '13800138231', address: '上海市徐汇区漕溪北路 88 号' } });
    expect(e.statusCode, e.body).toBe(201);
    elderId = e.json().id as number;
    const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: WATCH, protocol: 'watch', elderId } });
    expect(d.statusCode, d.body).toBe(201);
    app.telemetry.write(history(Date.now()));
    await app.telemetry.flush();
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

  it("the watch's readings in the file's charts, with the alarm thresholds; 24 h and 7 days", async () => {
    const agent: Page = await windows.open('liuyan', PASSWORD);
    await agent.fill('[data-testid=extension-input]', '8011');
    await agent.click('[data-testid=sign-in]');
    await agent.locator('[data-testid=agent-state][data-state=ready]').waitFor(SOON);

    // the watch measures: blood pressure with heart rate (bphrt), then heart rate, SpO₂ and temperature
    const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: WATCH, battery: 71 });
    w.on('error', () => undefined);
    watches.push(w);
    await w.connect();
    w.sendHealth({ systolic: 135, diastolic: 87, heartRate: 76 });
    const latest = async () => (await app.http.inject({ url: `/api/elders/${elderId}/vitals/series?range=24h`, headers: admin })).json().latest;
    await until(async () => (await app.telemetry.flush(), (await latest()).systolic?.value === 135));
    w.sendHealth({ heartRate: 81, spo2: 98, temperature: 36.8 });
    await until(async () => (await app.telemetry.flush(), (await latest()).temperature?.value === 36.8));
    expect(await latest()).toMatchObject({ heartRate: { value: 81 }, systolic: { value: 135 }, diastolic: { value: 87 }, spo2: { value: 98 }, temperature: { value: 36.8 } });

    // an SOS pops the file
    await w.sendAlarm('sos');
    const file = agent.locator('[data-testid=elder-file]');
    await file.locator('[data-testid=elder-name]', { hasText: '陈淑华' }).waitFor(SOON);

    await file.locator('[data-testid=vitals-toggle]').click();
    const body = file.locator('[data-testid=vitals-body][data-state=ok][data-range="24h"]');
    await body.waitFor(SOON);
    expect(await body.locator('[data-testid=vital-heartRate-value]').textContent()).toBe('81');
    expect(await body.locator('[data-testid=vital-bp-value]').textContent()).toBe('135/87');
    expect(await body.locator('[data-testid=vital-spo2-value]').textContent()).toBe('98');
    expect(await body.locator('[data-testid=vital-temperature-value]').textContent()).toBe('36.8');
    expect(await body.locator('[data-testid=vital-heartRate-latest]').textContent()).toContain('次/分');
    // the charts are SVG, the thresholds drawn with their labels; the limits also as text
    for (const m of ['heartRate', 'bp', 'spo2', 'temperature', 'steps']) await body.locator(`[data-testid=vital-${m}-chart] svg`).waitFor(SOON);
    const hrChart = body.locator('[data-testid=vital-heartRate-chart] svg');
    await hrChart.locator('text', { hasText: '上限 120' }).waitFor(SOON);
    await hrChart.locator('text', { hasText: '下限 40' }).waitFor(SOON);
    await body.locator('[data-testid=vital-spo2-chart] svg text', { hasText: '下限 90' }).waitFor(SOON);
    expect(await body.locator('[data-testid=vital-temperature-limits]').textContent()).toContain('上限 38.5');
    const toTop = () => file.locator('[data-testid=vitals]').evaluate((el) => (el as unknown as { scrollIntoView(o: object): void }).scrollIntoView({ block: 'start' }));
    await toTop();
    await agent.screenshot({ path: join(ARTIFACTS, 'vitals-1366.png') });
    await body.locator('[data-testid=vital-steps]').scrollIntoViewIfNeeded();
    await agent.screenshot({ path: join(ARTIFACTS, 'vitals-1366-steps.png') });
    // the table of the same numbers: a row per bucket, the newest holding the watch's heart rate
    await body.locator('[data-testid=vital-heartRate] details summary').click();
    const rows = body.locator('[data-testid=vital-heartRate] table tbody tr');
    expect(await rows.count()).toBeGreaterThan(60);
    expect(await rows.last().locator('td').nth(3).textContent()).toBe('81'); // its max

    // 7 days: the same latest readings, hourly buckets
    await file.locator('[data-testid=vitals-range-7d]').click();
    const week = file.locator('[data-testid=vitals-body][data-state=ok][data-range="7d"]');
    await week.waitFor(SOON);
    expect(await week.locator('[data-testid=vital-heartRate-value]').textContent()).toBe('81');
    await week.locator('[data-testid=vital-heartRate-chart] svg text', { hasText: '上限 120' }).waitFor(SOON);
    await toTop();
    await agent.screenshot({ path: join(ARTIFACTS, 'vitals-1366-7d.png') });

    // the telemetry store down: a clear message and a retry that brings the charts back
    windows.expect((e) => e.includes('503'));
    const SERIES = '**/api/elders/*/vitals/series?*';
    await agent.route(SERIES, (r) => r.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'telemetry_unavailable', message: 'the telemetry store is unavailable; try again shortly' }) }));
    await file.locator('[data-testid=vitals-refresh]').click();
    await file.locator('[data-testid=vitals-error]', { hasText: '遥测存储暂时不可用' }).waitFor(SOON);
    expect(await file.locator('[data-testid=vital-heartRate-chart]').count()).toBe(0);
    await agent.unroute(SERIES);
    await file.locator('[data-testid=vitals-retry]').click();
    await week.waitFor(SOON);

    // in English the charts are rebuilt with English labels
    await agent.click('[data-testid=locale-en]');
    await week.locator('[data-testid=vital-heartRate-chart] svg text', { hasText: 'Upper 120' }).waitFor(SOON);
    expect(await week.locator('[data-testid=vital-heartRate-latest]').textContent()).toContain('bpm');
    await toTop();
    await agent.screenshot({ path: join(ARTIFACTS, 'vitals-1366-en.png') });
  }, 120_000);
});
