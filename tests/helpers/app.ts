import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startApp, type App } from '../../gateway/app.js';
import { loadConfig, type Config } from '../../gateway/config.js';
import { createTestDatabase } from './db.js';

export const ADMIN_PASSWORD = 'test-admin-pass';

/** The real server, in-process, on random ports, with its own fresh database. */
export async function startTestApp(overrides: Partial<Config> = {}, env: Record<string, string> = {}): Promise<App> {
  const databaseUrl = overrides.databaseUrl ?? (await createTestDatabase('app'));
  const cfg = loadConfig({
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    MQTT_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    WATCH_PORT: '0',
    WATCH_HOST: '127.0.0.1',
    GT06_PORT: '0',
    GT06_HOST: '127.0.0.1',
    DC09_TCP_PORT: '0',
    DC09_UDP_PORT: '0',
    DC09_HOST: '127.0.0.1',
    SCAIP_SIP_PORT: '0',
    SCAIP_HOST: '127.0.0.1',
    ADMIN_PASSWORD,
    LOG_LEVEL: 'silent',
    TELEPHONY: 'off',
    // Each app its own data dir: the alarm journal must never be shared between servers.
    DATA_DIR: mkdtempSync(join(tmpdir(), 'anxin-app-')),
    ...env,
  });
  return startApp({ ...cfg, databaseUrl, ...overrides }, { logger: pino({ level: process.env.TEST_LOG ?? 'silent' }) });
}

/** Logs in over inject() and returns the Authorization header. */
export async function login(app: App, username = 'admin', password = ADMIN_PASSWORD): Promise<{ authorization: string }> {
  const r = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (r.statusCode !== 200) throw new Error(`login failed: ${r.statusCode} ${r.body}`);
  return { authorization: `Bearer ${r.json().token}` };
}
