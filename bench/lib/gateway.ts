/**
 * One gateway under test: its own PostgreSQL database (seeded with the fleet), the real server in a child
 * process (bench/server.ts), an agent signed in and ready, and a WebSocket subscriber that times the
 * screen-pops ('present') and alarm pushes ('alarm') as a dashboard would receive them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { ServerStats, StageRecord } from '../server.js';
import { ROOT, startChild, type Child } from './child.js';
import { createDatabase, dropDatabase, seedFleet } from './services.js';

const now = () => performance.timeOrigin + performance.now();
const ADMIN_PASSWORD = 'bench-admin-password';

export interface WsRecord {
  type: string;
  action?: string;
  device: string;
  at: number;
}

export interface GatewayOptions {
  name: string;
  pgAdminUrl: string;
  influxUrl?: string;
  watches: number;
  mqtt: number;
  /** extra environment for the server (configuration) */
  env?: Record<string, string>;
  /** node flags, e.g. --cpu-prof */
  execArgv?: string[];
  logDir: string;
}

export interface Gateway {
  child: Child;
  pid: number;
  watchPort: number;
  mqttPort: number;
  httpPort: number;
  watchIds: string[];
  mqttIds: string[];
  ws: WsRecord[];
  stats(): Promise<ServerStats>;
  resetEld(): Promise<void>;
  gc(): Promise<{ gc: boolean; rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }>;
  stages(clear?: boolean): Promise<StageRecord[]>;
  flush(): Promise<void>;
  features(): Promise<{ telephony: boolean; calls: boolean }>;
  stop(): Promise<void>;
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const dbName = `bench_${o.name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}`;
  const url = await createDatabase(o.pgAdminUrl, dbName);
  const { watchIds, mqttIds } = await seedFleet(url, o.watches, o.mqtt);
  const dataDir = mkdtempSync(join(tmpdir(), 'anxin-bench-data-'));
  const env: Record<string, string> = {
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    WATCH_HOST: '127.0.0.1',
    WATCH_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: '0',
    ADMIN_PASSWORD,
    LOG_LEVEL: 'warn',
    ...(o.influxUrl ? { INFLUX_URL: o.influxUrl, INFLUX_DATABASE: dbName } : {}),
    ...o.env,
  };
  const { child, ready } = await startChild(join(ROOT, 'bench/server.ts'), {
    env,
    execArgv: ['--expose-gc', '--max-old-space-size=8192', ...(o.execArgv ?? [])],
    logFile: join(o.logDir, `${o.name}-server.log`),
  });
  const httpPort = Number(ready.httpPort);
  const ws: WsRecord[] = [];
  let socket: WebSocket | undefined;
  const cleanup = async () => {
    socket?.close();
    await child.stop();
    await dropDatabase(o.pgAdminUrl, dbName).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    const r = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    if (!r.ok) throw new Error(`login failed: ${r.status} ${await r.text()}`);
    const token = ((await r.json()) as { token: string }).token;
    const s = await fetch(`${base}/api/agents/me/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ extension: '8001' }) });
    if (!s.ok) throw new Error(`agent sign-in failed: ${s.status} ${await s.text()}`);
    socket = new WebSocket(`ws://127.0.0.1:${httpPort}/api/ws?token=${encodeURIComponent(token)}`);
    socket.on('message', (d) => {
      const at = now();
      const m = JSON.parse(String(d)) as { type?: string; action?: string; alarm?: { sourceKey?: string | null } };
      if ((m.type === 'present' || m.type === 'alarm') && m.alarm?.sourceKey) ws.push({ type: m.type, action: m.action, device: m.alarm.sourceKey, at });
    });
    await new Promise<void>((res, rej) => {
      socket!.once('open', () => res());
      socket!.once('error', rej);
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    child,
    pid: child.pid,
    watchPort: Number(ready.watchPort),
    mqttPort: Number(ready.mqttPort),
    httpPort,
    watchIds,
    mqttIds,
    ws,
    stats: () => child.call<ServerStats>('stats'),
    resetEld: async () => void (await child.call('resetEld')),
    gc: () => child.call('gc'),
    stages: (clear = true) => child.call<StageRecord[]>('stages', clear),
    flush: async () => void (await child.call('flush')),
    features: () => child.call('features'),
    stop: cleanup,
  };
}
