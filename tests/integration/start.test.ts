/**
 * `npm start` with no configuration: embedded PostgreSQL in DATA_DIR, /healthz green, data survives a restart,
 * SIGTERM stops everything (including the embedded PostgreSQL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../testkit/free-port.js';
import { ROOT } from '../helpers/vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'anxin-start-'));
chmodSync(dir, 0o755);
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<{ proc: ChildProcess; out: () => string }> {
  let out = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, out: () => out };
}

async function waitHealthy(port: number, ms: number): Promise<{ status: string; parts: Record<string, { state: string; mode?: string }> }> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) return (await r.json()) as never;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not healthy within ${ms} ms`);
}

const stopped = (p: ChildProcess) => new Promise<number | null>((r) => p.once('exit', (code) => r(code)));

describe('npm start on embedded defaults', () => {
  it('answers /healthz green within 30 s, keeps data across a restart, and stops on SIGTERM', async () => {
    const [http, mqtt, watch, pg, ari] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env = { SIM_ASTERISK_PORT: String(ari), DATA_DIR: join(dir, 'data'), HTTP_PORT: String(http), MQTT_PORT: String(mqtt), WATCH_PORT: String(watch), GT06_PORT: '0', DC09_TCP_PORT: '0', DC09_UDP_PORT: '0', SCAIP_SIP_PORT: '0', EMBEDDED_PG_PORT: String(pg), ADMIN_PASSWORD: 'start-test-pass', LOG_LEVEL: 'warn' };
    const first = await start(env);
    child = first.proc;
    const h = await waitHealthy(http, 30_000);
    expect(h.status).toBe('ok');
    expect(h.parts.database).toMatchObject({ state: 'up', mode: 'embedded' });
    expect(first.out()).toContain('Anxin 安心 is running');
    expect(first.out()).toMatch(/PostgreSQL\s+embedded/);
    expect(first.out()).toMatch(/Telephony\s+SIMULATED/);
    expect(h.parts.telephony).toMatchObject({ state: 'up', mode: 'simulated' });
    expect(existsSync(join(dir, 'data', 'pg', 'PG_VERSION'))).toBe(true);

    const login = (await (await fetch(`http://127.0.0.1:${http}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'start-test-pass' }) })).json()) as { token: string };
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${login.token}` };
    const created = await fetch(`http://127.0.0.1:${http}/api/elders`, { method: 'POST', headers, body: JSON.stringify({ name: '陈桂兰' }) });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: number }).id;

    const exit1 = stopped(first.proc);
    first.proc.kill('SIGTERM');
    expect(await exit1).toBe(0);

    const second = await start(env);
    child = second.proc;
    await waitHealthy(http, 30_000);
    const again = await fetch(`http://127.0.0.1:${http}/api/elders/${id}`, { headers });
    expect(again.status).toBe(200); // the session survived too: it lives in PostgreSQL
    expect(((await again.json()) as { name: string }).name).toBe('陈桂兰');
    const exit2 = stopped(second.proc);
    second.proc.kill('SIGTERM');
    expect(await exit2).toBe(0);
  }, 90_000);
});
