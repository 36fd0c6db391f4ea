/**
 * Devices (设备) and My account (我的账号), issue 20, in Chromium at 1366×768 against the real server: an admin
 * registers an MQTT device and sees its secret once (never again after closing), registers a watch, issues it to
 * an elder, sends a locate command to the connected (simulated) watch and sees it acknowledged, and registers a
 * device from the awaiting-registration list. On the account screen a user changes their password (a wrong current
 * one is a field error) and logs in with the new one; signing out everywhere ends this page's session and another
 * browser's. Screenshots: tests/artifacts/devices.png, account.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { Dc09Transmitter } from '../../simulators/dc09/transmitter.js';
import { cidData } from '../../simulators/dc09/wire.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { ADMIN_PASSWORD, login, startTestApp } from '../helpers/app.js';
import { ensureDashboardBuilt, findChromium, launchChromium, logIn, Windows, ARTIFACTS, PASSWORD, PHONE, SOON } from '../helpers/browser.js';
import { until } from '../helpers/until.js';

const CHROMIUM = findChromium();
const WATCH = '8800000201';
const STRANGER = '8800000202';

let app: App;
let browser: Browser;
const base = () => `http://127.0.0.1:${app.httpPort}`;
const windows = new Windows(() => browser, base);
const watches: SimulatedWatch[] = [];

async function watch(id: string): Promise<SimulatedWatch> {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: id, lkOnConnect: false, lkRetryMs: 60_000, battery: 64 });
  w.on('error', () => undefined);
  watches.push(w);
  await w.connect();
  return w;
}

describe.skipIf(!CHROMIUM)('devices and my account in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    app = await startTestApp();
    const admin = await login(app);
    for (const [username, role] of [['guanli', 'admin'], ['zhangwei', 'agent']] as const) {
      const r = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username, role, displayName: username === 'guanli' ? '管理员老周' : '张伟', password: PASSWORD } });
      expect(r.statusCode, r.body).toBe(201);
    }
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '李桂英', phone: '13900139000', address: '北京市朝阳区' } });
    expect(e.statusCode, e.body).toBe(201);
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

  it('registers an MQTT device (secret once), a watch bound to an elder with a locate command, and one from the awaiting list', async () => {
    const p = await windows.open('admin', ADMIN_PASSWORD);
    await p.click('[data-testid=view-devices]');
    await p.locator('[data-testid=devices-table]').waitFor(SOON);

    // MQTT: the secret is shown once, in a dialog that warns so, and is gone when closed
    await p.click('[data-testid=device-new]');
    await p.selectOption('[data-testid=reg-protocol]', 'mqtt-json');
    await p.fill('[data-testid=reg-identifier]', 'fall-sensor-01');
    await p.click('[data-testid=reg-submit]');
    const dialog = p.locator('[data-testid=secret-dialog]');
    await dialog.waitFor(SOON);
    expect(await dialog.textContent()).toContain('只显示这一次');
    const secret = ((await dialog.locator('[data-testid=mqtt-secret]').textContent()) ?? '').trim();
    expect(secret.length).toBeGreaterThanOrEqual(16);
    await p.click('[data-testid=secret-copy]'); // clipboard or the select-all fallback; either way no error
    await p.click('[data-testid=secret-close]');
    await dialog.waitFor({ state: 'detached', ...SOON });
    await p.locator('[data-testid=device-row][data-identifier=fall-sensor-01]').waitFor(SOON);
    expect(await p.locator('body').textContent()).not.toContain(secret);
    await p.click('[data-testid=device-refresh]');
    await p.click('[data-testid=device-row][data-identifier=fall-sensor-01]');
    await p.locator('[data-testid=device-panel]').waitFor(SOON);
    expect(await p.locator('body').textContent()).not.toContain(secret);
    expect(await p.locator('[data-testid=secret-dialog]').count()).toBe(0);

    // a Contact ID panel: its settings form comes from the protocol's schema (vendor, zone names) and lands in meta
    await p.click('[data-testid=device-new]');
    await p.selectOption('[data-testid=reg-protocol]', 'contactid');
    await p.fill('[data-testid=reg-identifier]', '1234');
    await p.selectOption('[data-testid=setting-vendor]', 'climax');
    await p.fill('[data-testid=setting-zoneNames-key-0]', '003');
    await p.fill('[data-testid=setting-zoneNames-value-0]', '厨房烟感');
    expect(await p.locator('[data-testid=reg-kind]').inputValue()).toBe('panel');
    await p.click('[data-testid=reg-submit]');
    await p.locator('[data-testid=device-row][data-identifier="1234"]').waitFor(SOON);
    const panelMeta = (await app.db.query('SELECT meta, kind FROM devices WHERE identifier = $1', ['1234'])).rows[0];
    expect(panelMeta).toEqual({ meta: { vendor: 'climax', zoneNames: { '003': '厨房烟感' } }, kind: 'panel' });

    // a watch, issued to an elder found by search
    await p.click('[data-testid=device-new]');
    await p.selectOption('[data-testid=reg-protocol]', 'watch');
    await p.fill('[data-testid=reg-identifier]', WATCH);
    await p.fill('[data-testid=reg-model]', 'Y9 4G');
    await p.click('[data-testid=reg-submit]');
    const panel = p.locator(`[data-testid=device-panel]`);
    await panel.locator('h3', { hasText: WATCH }).waitFor(SOON);
    await panel.locator('[data-testid=device-bind]').click();
    await p.fill('[data-testid=elder-search]', '李桂英');
    await p.locator('[data-testid=elder-result]', { hasText: '李桂英' }).click();
    await panel.locator('[data-testid=panel-elder]', { hasText: '李桂英' }).waitFor(SOON);
    await p.locator(`[data-testid=device-row][data-identifier="${WATCH}"][data-bound=true]`).waitFor(SOON);
    expect((await app.db.query('SELECT elder_id FROM devices WHERE identifier = $1', [WATCH])).rows[0].elder_id).not.toBeNull();

    // the watch comes online; "locate now" goes out and the watch's echo acknowledges it
    const w = await watch(WATCH);
    await w.sendLK();
    await p.click('[data-testid=device-refresh]');
    await p.locator(`[data-testid=device-row][data-identifier="${WATCH}"][data-online=true]`).waitFor(SOON);
    await panel.locator('[data-testid=cmd-CR]').click();
    await panel.locator('[data-testid=cmd-send]').click();
    const row = panel.locator('[data-testid=cmd-row]').first();
    await row.waitFor(SOON);
    await panel.locator('[data-testid=cmd-row][data-state=acknowledged]').waitFor(SOON);
    expect(await row.locator('[data-testid=cmd-state]').textContent()).toBe('设备已确认');
    // an admin sees the dangerous commands, which ask for a reason
    await panel.locator('[data-testid=cmd-POWEROFF]').click();
    await panel.locator('[data-testid=cmd-reason]').waitFor(SOON);
    await panel.locator('[data-testid=cmd-send]').click();
    await panel.locator('[data-testid=cmd-error]').waitFor(SOON);
    await panel.locator('[data-testid=cmd-CR]').click();
    // the heartbeat's battery and time show after a refresh
    await p.click('[data-testid=device-refresh]');
    await p.locator(`[data-testid=device-row][data-identifier="${WATCH}"]`, { hasText: '64%' }).waitFor(SOON);
    await p.screenshot({ path: join(ARTIFACTS, 'devices.png') });

    // a watch nobody registered knocks; it is registered from the awaiting list, its identifier pre-filled
    const s = await watch(STRANGER);
    s.sendLK().catch(() => undefined);
    await until(async () => (await app.db.query('SELECT 1 FROM unknown_devices WHERE identifier = $1', [STRANGER])).rowCount === 1);
    await p.click('[data-testid=device-refresh]');
    await p.click('[data-testid=tab-waiting]');
    await p.locator(`[data-testid=waiting-row][data-identifier="${STRANGER}"] [data-testid=waiting-register]`).click();
    expect(await p.locator('[data-testid=reg-identifier]').inputValue()).toBe(STRANGER);
    expect(await p.locator('[data-testid=reg-protocol]').inputValue()).toBe('watch');
    await p.screenshot({ path: join(ARTIFACTS, 'devices-waiting.png') });
    await p.click('[data-testid=reg-submit]');
    await p.locator(`[data-testid=device-row][data-identifier="${STRANGER}"]`).waitFor(SOON);
    expect((await app.db.query('SELECT protocol FROM devices WHERE identifier = $1', [STRANGER])).rows[0].protocol).toBe('watch');
    expect((await app.db.query('SELECT count(*)::int AS n FROM unknown_devices WHERE identifier = $1', [STRANGER])).rows[0].n).toBe(0);

    // on a phone the screen is one column: nothing wider than the screen but the table, which scrolls in its box
    await p.setViewportSize(PHONE);
    await p.locator(`[data-testid=device-panel]`).waitFor(SOON);
    // elements right of the screen's edge, outside the table's own scrolling box
    const overflow = await p.$$eval('[data-testid=devices-screen] :is(input, select, button, h3, dd)', (els) =>
      els.filter((el) => el.getBoundingClientRect().right > 391 && !el.closest('.table-wrap')).map((el) => el.outerHTML.slice(0, 80)),
    );
    await p.screenshot({ path: join(ARTIFACTS, 'devices-phone.png') });
    expect(overflow).toEqual([]);
  }, 120_000);

  it('an installer on a phone registers an IP alarm panel (DC-09) with its AES key from the awaiting list (the key never shown again), and a SCAIP carephone', async () => {
    await app.http.inject({ method: 'POST', url: '/api/users', headers: await login(app), payload: { username: 'anzhuang', role: 'installer', displayName: '安装员小刘', password: PASSWORD } });
    // the panel reports before anyone registered it: DUH, and it waits on the list
    const panel = new Dc09Transmitter({ host: '127.0.0.1', port: app.dc09.udpPort, transport: 'udp', account: 'C0FFEE', key: Buffer.from('k3y-for-c0ffee!!', 'latin1'), replyTimeoutMs: 1500, maxTries: 2 });
    expect((await panel.send({ token: 'ADM-CID', data: cidData('C0FFEE', 1, 120, 1, 1) })).reply).toBe('DUH');
    const p = await windows.open('anzhuang', PASSWORD, { viewport: PHONE });
    await p.click('[data-testid=view-devices]');
    await p.click('[data-testid=tab-waiting]');
    await p.locator('[data-testid=waiting-row][data-identifier="C0FFEE"] [data-testid=waiting-register]').click();
    expect(await p.locator('[data-testid=reg-protocol]').inputValue()).toBe('dc09');
    expect(await p.locator('[data-testid=reg-identifier]').inputValue()).toBe('C0FFEE');
    await p.fill('[data-testid=setting-prefix]', '0');
    await p.fill('[data-testid=setting-supervisionS]', '3600');
    // a 16-character key typed as ASCII (as Ajax takes it); refused as hex first, with the field named
    windows.expect((e) => e.startsWith('anzhuang: console:') && /400/.test(e));
    await p.fill('[data-testid=reg-key-value]', 'k3y-for-c0ffee!!');
    await p.click('[data-testid=reg-submit]');
    await p.locator('[data-testid=register-error]').waitFor(SOON);
    expect(await p.locator('[data-testid=register-error]').textContent()).toMatch(/key|密钥/i);
    await p.selectOption('[data-testid=reg-key-encoding]', 'ascii');
    await p.screenshot({ path: join(ARTIFACTS, 'devices-dc09-phone.png') });
    await p.click('[data-testid=reg-submit]');
    await p.locator('[data-testid=device-row][data-identifier="C0FFEE"]').waitFor(SOON);
    // the "registered" notice lies wholly on the phone's screen (it once began 64 px off its left edge)
    const notice = await p.locator('[data-testid=notice-info]').first().boundingBox();
    expect(notice!.x).toBeGreaterThanOrEqual(0);
    expect(notice!.x + notice!.width).toBeLessThanOrEqual(PHONE.width);
    const row = (await app.db.query('SELECT meta, kind, key_sealed FROM devices WHERE identifier = $1', ['C0FFEE'])).rows[0];
    expect(row).toMatchObject({ meta: { prefix: '0', supervisionS: 3600 }, kind: 'panel' });
    expect(row.key_sealed).toMatch(/^v1\./);
    expect(await p.locator('body').textContent()).not.toContain('k3y-for-c0ffee!!');
    // the panel's next alarm is taken (encrypted with that key) and acknowledged
    expect((await panel.send({ token: 'ADM-CID', data: cidData('C0FFEE', 1, 120, 1, 1) })).reply).toBe('ACK');
    await panel.close();
    // the edit form says a key is set, and offers a new one, never the old
    await p.click('[data-testid=device-row][data-identifier="C0FFEE"]');
    await p.click('[data-testid=device-edit]');
    await p.locator('[data-testid=edit-key]', { hasText: '已设置密钥' }).waitFor(SOON);
    expect(await p.locator('[data-testid=edit-key-value]').inputValue()).toBe('');
    await p.locator('[data-testid=edit-key]').scrollIntoViewIfNeeded();
    await p.screenshot({ path: join(ARTIFACTS, 'devices-dc09-edit-phone.png') });

    // a SCAIP carephone: its cid, its maker's table, its heartbeat interval and its SIP password (typed as is)
    await p.click('[data-testid=device-new]');
    await p.selectOption('[data-testid=reg-protocol]', 'scaip');
    await p.fill('[data-testid=reg-identifier]', '26317');
    await p.locator('[data-testid=reg-key]', { hasText: 'SIP 密码' }).waitFor(SOON);
    expect(await p.locator('[data-testid=reg-key-encoding]').count()).toBe(0);
    await p.selectOption('[data-testid=setting-vendor]', 'essence');
    await p.fill('[data-testid=setting-supervisionS]', '86400');
    await p.fill('[data-testid=reg-key-value]', 'essence-sip-pw');
    await p.click('[data-testid=reg-submit]');
    await p.locator('[data-testid=device-row][data-identifier="26317"]').waitFor(SOON);
    const unit = (await app.db.query('SELECT meta, kind, key_sealed IS NOT NULL AS keyed FROM devices WHERE identifier = $1', ['26317'])).rows[0];
    expect(unit).toEqual({ meta: { vendor: 'essence', supervisionS: 86400 }, kind: 'one_key_caller', keyed: true });
    expect(await p.locator('body').textContent()).not.toContain('essence-sip-pw');
  }, 120_000);

  it('my account: a wrong current password is a field error; the new password works; sign out everywhere ends every session', async () => {
    const p = await windows.open('zhangwei', PASSWORD);
    const other = await windows.open('zhangwei', PASSWORD, { name: 'zhangwei-2' });
    await p.click('[data-testid=view-account]');
    await p.locator('[data-testid=account-screen]').waitFor(SOON);
    expect(await p.locator('[data-testid=account-username]').textContent()).toBe('zhangwei');
    // '…' until the account has loaded (the screen shows before its data): wait for the answer, then read it
    await p.waitForFunction((el) => (el as unknown as { textContent: string | null }).textContent !== '…', await p.locator('[data-testid=account-last-login]').elementHandle(), SOON);
    expect(await p.locator('[data-testid=account-last-login]').textContent()).toMatch(/\d{2}:\d{2}/);

    // client-side: the repeat differs
    await p.fill('[data-testid=pw-current]', PASSWORD);
    await p.fill('[data-testid=pw-next]', 'new-password-456');
    await p.fill('[data-testid=pw-repeat]', 'new-password-457');
    await p.click('[data-testid=pw-submit]');
    await p.locator('[data-testid=pw-repeat-error]').waitFor(SOON);
    // server-side: the current one is wrong
    windows.expect((e) => e.startsWith('zhangwei: console:') && /400/.test(e));
    await p.fill('[data-testid=pw-current]', 'not-my-password');
    await p.fill('[data-testid=pw-repeat]', 'new-password-456');
    await p.click('[data-testid=pw-submit]');
    await p.locator('[data-testid=pw-current-error]', { hasText: '当前密码不正确' }).waitFor(SOON);
    await p.screenshot({ path: join(ARTIFACTS, 'account.png') });

    await p.fill('[data-testid=pw-current]', PASSWORD);
    await p.click('[data-testid=pw-submit]');
    await p.locator('[data-testid=pw-done]').waitFor(SOON);
    // the other browser's session ended with the change; this one stays
    await other.locator('input[name=username]').waitFor(SOON);
    expect(await p.locator('[data-testid=account-screen]').count()).toBe(1);

    // the old password no longer works, the new one does
    const r = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'zhangwei', password: PASSWORD } });
    expect(r.statusCode).toBe(401);
    await logIn(other, base(), 'zhangwei', 'new-password-456');

    // sign out everywhere: this page goes to the login, and so does the other browser
    windows.expect((e) => e.startsWith('zhangwei') && /401/.test(e));
    await p.click('[data-testid=sign-out-everywhere]');
    await p.click('[data-testid=confirm-ok]');
    await p.locator('input[name=username]').waitFor(SOON);
    await other.locator('input[name=username]').waitFor(SOON);
    expect((await app.db.query(`SELECT count(*)::int AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'zhangwei'`)).rows[0].n).toBe(0);
  }, 120_000);
});
