/**
 * `npm run demo` (issue 20): the demo centre starts on its own DATA_DIR, prints its URL and the demo users'
 * passwords, the demo agent's dashboard WebSocket gets an alarm within 2 minutes, there are about 50 elders,
 * SIGTERM stops the whole process tree (simulated Asterisk and embedded PostgreSQL included), and a second run on
 * the same DATA_DIR reuses the centre (imports nothing) with new passwords.
 *
 * It runs scripts/demo.ts as `npm run demo` does (the dashboard is built first, as `npm run demo` does), and the
 * first run is watched the way a newcomer watches it: the demo agent logs in with Chromium, signs in (签入) and
 * sets ready, and an alarm pops up on the screen within 2 minutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../testkit/free-port.js';
import { CHROMIUM_ARGS, VIEWPORT, ARTIFACTS, collectErrors, ensureDashboardBuilt, findChromium } from '../helpers/browser.js';
import { chromium } from 'playwright-core';
import { alive, processTree, waitGone } from '../helpers/processes.js';
import { ROOT } from '../helpers/vectors.js';
import { WsClient } from '../helpers/ws.js';

const dir = mkdtempSync(join(tmpdir(), 'anxin-demo-'));
chmodSync(dir, 0o755);
const running: ChildProcess[] = [];
afterAll(() => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Demo {
  proc: ChildProcess;
  out: () => string;
  port: number;
  passwords: Record<string, string>;
}

async function startDemo(env: Record<string, string>): Promise<Demo> {
  let out = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--alarm-every', '5'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(proc);
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const until = Date.now() + 120_000;
  while (!/^ Stop 停止:/m.test(out)) {
    if (proc.exitCode !== null) throw new Error(`the demo exited (${proc.exitCode}):\n${out}`);
    if (Date.now() > until) throw new Error(`no start summary within 2 min:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = /Dashboard 控制台: (http:\/\/\S+)/.exec(out)?.[1];
  expect(url, out).toBeTruthy();
  const passwords: Record<string, string> = {};
  for (const m of out.matchAll(/^ {3}(admin|supervisor|agent|installer) +(\S+) +(\S+) /gm)) passwords[m[2]!] = m[3]!;
  expect(Object.keys(passwords).sort(), out).toEqual(['admin', 'agent', 'installer', 'supervisor']);
  return { proc, out: () => out, port: Number(new URL(url!).port), passwords };
}

async function loginToken(port: number, username: string, password: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  expect(r.status, await r.clone().text()).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

async function elderCount(port: number, token: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/api/elders?limit=500`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  const body = (await r.json()) as { items: unknown[]; total?: number };
  return body.total ?? body.items.length;
}

/** SIGTERM; the demo and every process it started (embedded PostgreSQL, the Asterisk simulator) are gone. */
async function stopDemo(d: Demo): Promise<void> {
  const tree = processTree(d.proc.pid!);
  expect(tree.length).toBeGreaterThan(1); // PostgreSQL and the simulated Asterisk at least
  const exited = new Promise<number | null>((r) => d.proc.once('exit', (code) => r(code)));
  d.proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  const left = await waitGone(tree.map((p) => p.pid), 10_000);
  expect(left.map((pid) => tree.find((p) => p.pid === pid)?.cmd), d.out()).toEqual([]);
  expect(alive(d.proc.pid!)).toBe(false);
  expect(d.out()).toMatch(/stopping the simulators, then Anxin/);
}

/** The newcomer's view: the demo agent logs in, signs in and sets ready; an alarm pops within 2 minutes. */
async function agentSeesPop(d: Demo): Promise<void> {
  const exe = findChromium();
  if (!exe) return; // outside CI only (findChromium throws under CI=true)
  ensureDashboardBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, headless: true });
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    collectErrors(page, 'demo agent', errors);
    await page.goto(`http://127.0.0.1:${d.port}/`);
    await page.fill('input[name=username]', 'agent');
    await page.fill('input[name=password]', d.passwords.agent!);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=agent-state][data-state=signed_out]').waitFor({ timeout: 20_000 });
    await page.fill('[data-testid=extension-input]', '8001');
    await page.click('[data-testid=sign-in]');
    await page.locator('[data-testid=agent-state][data-state=ready]').waitFor({ timeout: 20_000 });
    const file = page.locator('[data-testid=elder-file][data-state=presented]');
    await file.waitFor({ timeout: 120_000 });
    expect((await file.locator('[data-testid=elder-name]').textContent())?.trim(), d.out()).toBeTruthy();
    await page.screenshot({ path: `${ARTIFACTS}/demo-pop.png` });
    expect(errors.filter((e) => !/WebSocket|net::ERR/.test(e))).toEqual([]);
  } finally {
    await browser.close();
  }
}

describe('npm run demo', () => {

  let env: Record<string, string>;

  it('starts a demo centre whose agent sees an alarm within 2 minutes; SIGTERM stops the whole tree', { timeout: 300_000 }, async () => {
    env = {
      DATA_DIR: dir,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: '0',
      WATCH_HOST: '127.0.0.1',
      WATCH_PORT: '0',
      GT06_HOST: '127.0.0.1',
      GT06_PORT: '0', DC09_TCP_PORT: '0', DC09_UDP_PORT: '0', SCAIP_SIP_PORT: '0',
      EMBEDDED_PG_PORT: String(await freePort()),
      SIM_ASTERISK_PORT: String(await freePort()),
      DEMO_MAX_OPEN: '40', // both runs raise alarms; the pause at 8 is not what this test is about
    };
    const d = await startDemo(env);
    expect(d.out()).toMatch(/imported the demo centre through \/api\/import/);
    const token = await loginToken(d.port, 'agent', d.passwords.agent!);
    const ws = await WsClient.open(d.port, token);
    try {
      const m = await ws.waitFor((x) => x.type === 'alarm' || x.type === 'present', 120_000);
      expect((m.alarm as { elderId?: number }).elderId).toBeTruthy();
    } finally {
      ws.close();
    }
    await agentSeesPop(d);
    const n = await elderCount(d.port, token);
    expect(n).toBeGreaterThanOrEqual(45);
    expect(n).toBeLessThanOrEqual(55);
    await stopDemo(d);
  });

  it('a second run on the same DATA_DIR reuses the centre (no duplicates) and prints new passwords', { timeout: 300_000 }, async () => {
    expect(env, 'the first test ran').toBeTruthy();
    const d = await startDemo(env);
    expect(d.out()).toMatch(/the demo centre is here already/);
    const token = await loginToken(d.port, 'admin', d.passwords.admin!);
    expect(await elderCount(d.port, token)).toBe(50);
    // the fall sensors got new secrets and connect again: an MQTT alarm, or any, still arrives
    const ws = await WsClient.open(d.port, token);
    try {
      await ws.waitFor((x) => x.type === 'alarm', 120_000);
    } finally {
      ws.close();
    }
    await stopDemo(d);
  });
});
