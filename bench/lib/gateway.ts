/**
 * One gateway under test: its own PostgreSQL database (seeded with the fleet), the real server in a child
 * process (bench/server.ts), an agent signed in and ready, a WebSocket subscriber that times the screen-pops
 * ('present') and alarm pushes ('alarm') as a dashboard would receive them, and a simulated Asterisk in this
 * process whose originate log times the escalation's callbacks (TELEPHONY=ari at it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import WebSocket from 'ws';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.js';
import type { EndpointScript } from '../../simulators/asterisk/types.js';
import type { ServerStats, StageRecord } from '../server.js';
import { ROOT, startChild, type Child } from './child.js';
import { createDatabase, dropDatabase, elderPhone, seedFleet } from './services.js';
import { rssOf } from './stats.js';

const now = () => performance.timeOrigin + performance.now();
export const ADMIN_PASSWORD = 'bench-admin-password';

export interface WsRecord {
  type: string;
  action?: string;
  device: string;
  at: number;
}

/** An ARI originate the simulated Asterisk received, mapped back to the device whose elder it dials. */
export interface OriginateRecord {
  device: string;
  at: number;
  endpoint: string;
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
  /** endpoint scripts of the simulated Asterisk (agents' phones, callers), tried before its defaults */
  ariDirectory?: EndpointScript[];
  /**
   * Scale-out (issue 24): this node joins `join`'s database (and InfluxDB database) instead of making its own:
   * nothing is seeded or dropped, the fleet's ids and MQTT secret are shared, and it has no agent or WebSocket of
   * its own (the first node's agent sees every node's alarms through the fan-out). `watches`/`mqtt` are ignored.
   */
  join?: Pick<Gateway, 'databaseUrl' | 'dbName' | 'watchIds' | 'mqttIds' | 'mqttSecret'>;
}

export interface Gateway {
  child: Child;
  pid: number;
  watchPort: number;
  gt06Port: number;
  mqttPort: number;
  httpPort: number;
  /** the SIA DC-09 receiver's TCP and UDP ports */
  dc09TcpPort: number;
  dc09UdpPort: number;
  /** the SCAIP receiver's SIP port (UDP) */
  scaipPort: number;
  watchIds: string[];
  mqttIds: string[];
  /** the MQTT secret of every fleet MQTT device */
  mqttSecret: string;
  /** the PostgreSQL database this node uses, and its name (also the InfluxDB database's) */
  databaseUrl: string;
  dbName: string;
  ws: WsRecord[];
  stats(): Promise<ServerStats>;
  resetEld(): Promise<void>;
  gc(): Promise<{ gc: boolean; rss: number; workersRss?: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }>;
  stages(clear?: boolean): Promise<StageRecord[]>;
  /** writes a V8 heap snapshot of the gateway to `path` */
  heapSnapshot(path: string): Promise<string>;
  flush(): Promise<void>;
  /** originates received so far (the simulator keeps the last 5000) */
  originates(): OriginateRecord[];
  /** the simulated Asterisk, in this process */
  ari: AsteriskSim;
  /** the admin's bearer token */
  adminToken: string;
  stop(): Promise<void>;
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  /** the gateway's RSS as the kernel reports it (the gateway cannot read it with every descriptor in use) */
  const withRss = <T extends { rss: number; workersRss?: number }>(s: T): T => ({ ...s, rss: (rssOf(child.pid) || s.rss) + (s.workersRss ?? 0) });
  const dbName = o.join?.dbName ?? `bench_${o.name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}`;
  const url = o.join?.databaseUrl ?? (await createDatabase(o.pgAdminUrl, dbName));
  const { watchIds, mqttIds } = o.join ?? (await seedFleet(url, o.watches, o.mqtt));
  if (o.influxUrl && !o.join) {
    // created up front, so the writer's first batch does not fail on a missing database (it would retry)
    await fetch(`${o.influxUrl}/query?q=${encodeURIComponent(`CREATE DATABASE ${dbName}`)}`, { method: 'POST' });
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'anxin-bench-data-'));
  const ari: AsteriskSim = await startAsteriskSim({ port: 0, host: '127.0.0.1', ...(o.ariDirectory && { directory: o.ariDirectory }) });
  const phones = new Map<string, string>();
  [...watchIds, ...mqttIds].forEach((id, k) => phones.set(elderPhone(k + 1), id));
  const env: Record<string, string> = {
    TELEPHONY: 'ari',
    ARI_URL: ari.url,
    ARI_USERNAME: ari.username,
    ARI_PASSWORD: ari.password,
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    WATCH_HOST: '127.0.0.1',
    WATCH_PORT: '0',
    GT06_HOST: '127.0.0.1',
    GT06_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: '0',
    DC09_HOST: '127.0.0.1',
    DC09_TCP_PORT: '0',
    DC09_UDP_PORT: '0',
    SCAIP_HOST: '127.0.0.1',
    SCAIP_SIP_PORT: '0',
    ADMIN_PASSWORD,
    LOG_LEVEL: 'warn',
    // The fleet opens up to 1,000 connections at once per worker (from 127.0.100.2, …), each unidentified
    // until its LK or CONNECT is handled: the per-address limits for not-yet-identified clients (default 20,
    // for the internet) would refuse most of them and turn the connect phase into retries.
    WATCH_MAX_UNIDENTIFIED_PER_ADDRESS: '1000000',
    MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '1000000',
    ...(o.influxUrl ? { INFLUX_URL: o.influxUrl, INFLUX_DATABASE: dbName } : {}),
    ...o.env,
  };
  const { child, ready } = await startChild(join(ROOT, 'bench/server.ts'), {
    env,
    // BENCH_GATEWAY_NODE_ARGS: extra node flags for the gateway alone (e.g. --trace-gc while looking for stalls)
    execArgv: ['--expose-gc', '--max-old-space-size=8192', ...(o.execArgv ?? []), ...(process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    logFile: join(o.logDir, `${o.name}-server.log`),
  }).catch(async (e: unknown) => {
    await ari.stop();
    throw e;
  });
  const httpPort = Number(ready.httpPort);
  const ws: WsRecord[] = [];
  let socket: WebSocket | undefined;
  let mqttSecret = o.join?.mqttSecret ?? '';
  let token = '';
  const cleanup = async () => {
    socket?.close();
    await child.stop();
    await ari.stop().catch(() => undefined);
    if (!o.join) await dropDatabase(o.pgAdminUrl, dbName).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    const r = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    if (!r.ok) throw new Error(`login failed: ${r.status} ${await r.text()}`);
    token = ((await r.json()) as { token: string }).token;
    // a joining node: the first node's agent and WebSocket see its alarms (through the fan-out)
    if (!o.join) {
      const s = await fetch(`${base}/api/agents/me/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ extension: '8001' }) });
      if (!s.ok) throw new Error(`agent sign-in failed: ${s.status} ${await s.text()}`);
      // One MQTT device registered as an installer would: its secret, hashed by the gateway's own settings, is
      // given to every fleet MQTT device (one argon2 hash instead of thousands).
      const d = await fetch(`${base}/api/devices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ identifier: 'bench-secret-source', protocol: 'mqtt-json', kind: 'fall_sensor' }),
      });
      if (!d.ok) throw new Error(`registering an MQTT device failed: ${d.status} ${await d.text()}`);
      mqttSecret = ((await d.json()) as { mqttSecret: string }).mqttSecret;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`UPDATE devices SET mqtt_secret_hash = (SELECT mqtt_secret_hash FROM devices WHERE identifier = 'bench-secret-source') WHERE protocol = 'mqtt-json'`);
      } finally {
        await c.end();
      }
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
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    child,
    pid: child.pid,
    watchPort: Number(ready.watchPort),
    gt06Port: Number(ready.gt06Port),
    mqttPort: Number(ready.mqttPort),
    httpPort,
    dc09TcpPort: Number(ready.dc09TcpPort),
    dc09UdpPort: Number(ready.dc09UdpPort),
    scaipPort: Number(ready.scaipPort),
    watchIds,
    mqttIds,
    mqttSecret,
    databaseUrl: url,
    dbName,
    ws,
    stats: async () => withRss(await child.call<ServerStats>('stats')),
    resetEld: async () => void (await child.call('resetEld')),
    gc: async () => withRss(await child.call<Awaited<ReturnType<Gateway['gc']>>>('gc')),
    stages: (clear = true) => child.call<StageRecord[]>('stages', clear),
    heapSnapshot: (path) => child.call<string>('heapSnapshot', path),
    flush: async () => void (await child.call('flush')),
    originates: () =>
      ari
        .originateLog()
        .filter((e) => e.op === 'originate')
        .map((e) => ({ endpoint: e.endpoint ?? '', at: e.receivedAtMs, device: phones.get(/^[A-Z]+\/(\d+)@/.exec(e.endpoint ?? '')?.[1] ?? '') ?? '' }))
        .filter((e) => e.device !== ''),
    ari,
    adminToken: token,
    stop: cleanup,
  };
}
