/**
 * Login floods (issue 15): does a flood of bad logins slow the alarm path?
 *
 * A registered watch sends an SOS over TCP at a steady rate (2/s) on its own connection throughout, and each
 * frame → `AL` reply is timed, in three phases of the same run against one gateway:
 *   a. baseline: no flood;
 *   b. HTTP: 16 clients (16 source addresses on loopback) post wrong passwords to POST /api/auth/login as fast as
 *      they are answered, for random and for existing usernames; the gateway throttles (429), which is counted.
 *      Meanwhile a real user logs in once a second (from addresses of its own, in turn), and is timed;
 *   c. MQTT: many clients CONNECT as fast as they can with a registered device's client id or random ids and
 *      wrong passwords (from 16 source addresses); refusals are counted by CONNACK code. Meanwhile two real
 *      devices log in with their right secret once a second: the one whose client id the flood uses, and
 *      another, to see whether the backoff locks the targeted device out.
 * Reported: SOS ack p50/p99 per phase and the ratio of p99 under flood to the baseline; HTTP login attempts/s
 * made and answered by status; the real user's login latency; MQTT CONNACK codes; the gateway's CPU and event
 * loop per phase.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ADMIN_PASSWORD, startGateway, type Gateway } from '../lib/gateway.js';
import { MqttReader, mqttConnect, MQTT_DISCONNECT, Rng } from '../lib/fuzz-wire.js';
import type { Ctx } from '../lib/measure.js';
import { epochNow, metricDeltas, scrapeMetrics, SosWatch } from '../lib/probe.js';
import type { ScenarioResult } from '../lib/result.js';
import { dist, round, sleep, type Dist } from '../lib/stats.js';

const REAL_USER = { username: 'bench-real', password: 'bench-real-password-1' };
const OTHER_USERS = ['agent-wang', 'agent-li', 'supervisor-zhang'];
const HTTP_CLIENTS = 16;
const MQTT_CLIENTS = 64;

interface PhaseResult {
  seconds: number;
  sos: ReturnType<SosWatch['window']>;
  gatewayCpuPct: number;
  eldP99Ms?: number;
  eldMaxMs?: number;
  realUserLogin: { attempts: number; byStatus: Record<string, number>; ms: Dist; okMs: Dist };
  http?: { clients: number; made: number; answered: number; madePerS: number; answeredPerS: number; byStatus: Record<string, number>; errors: number; answerMs: Dist };
  mqtt?: {
    clients: number;
    attempts: number;
    attemptsPerS: number;
    connack: Record<string, number>;
    closedWithoutConnack: number;
    connectErrors: Record<string, number>;
    byTarget: Record<string, Record<string, number>>;
    realDevices: Record<string, { attempts: number; connack: Record<string, number>; ms: Dist }>;
  };
  metrics: Record<string, number>;
}

const CONNACK: Record<number, string> = { 0: '0 accepted', 1: '1 bad protocol', 2: '2 identifier rejected', 3: '3 server unavailable', 4: '4 bad username or password', 5: '5 not authorized' };

function post(agent: Agent, port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(data.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

const agentFrom = (localAddress: string) => new Agent({ keepAlive: true, maxSockets: 1, localAddress } as ConstructorParameters<typeof Agent>[0]);
/** the real user's turn among its addresses, across phases */
let realUserTurn = 0;
const inc = (o: Record<string, number>, k: string, by = 1) => void (o[k] = (o[k] ?? 0) + by);

/** The real user logs in once a second from its own address until `stop` says so. */
async function realUserLoop(port: number, stop: () => boolean): Promise<PhaseResult['realUserLogin']> {
  // one login a second is more than LOGIN_RATE_PER_MIN (30) allows one address: the "user" takes turns among 50
  // addresses (each used once in 50 s), so what is timed is the gateway under the flood, not our own throttling
  const agents = new Map<string, Agent>();
  const agentOf = (k: number) => {
    const a = `127.0.0.${200 + (k % 50)}`;
    let ag = agents.get(a);
    if (!ag) agents.set(a, (ag = agentFrom(a)));
    return ag;
  };
  const byStatus: Record<string, number> = {};
  const ms: number[] = [];
  const okMs: number[] = [];
  let attempts = 0;
  while (!stop()) {
    const t0 = performance.now();
    attempts++;
    try {
      const r = await post(agentOf(realUserTurn++), port, '/api/auth/login', REAL_USER);
      inc(byStatus, String(r.status));
      ms.push(r.ms);
      if (r.status === 200) okMs.push(r.ms);
    } catch (e) {
      inc(byStatus, `error ${(e as Error).message}`);
    }
    await sleep(Math.max(0, 1000 - (performance.now() - t0)));
  }
  for (const a of agents.values()) a.destroy();
  return { attempts, byStatus, ms: dist(ms), okMs: dist(okMs) };
}

async function httpFlood(port: number, stop: () => boolean, seed: number): Promise<NonNullable<PhaseResult['http']> & { t0: number }> {
  const byStatus: Record<string, number> = {};
  let made = 0;
  let answered = 0;
  let errors = 0;
  const answerMs: number[] = [];
  const t0 = performance.now();
  const existing = ['admin', ...OTHER_USERS];
  await Promise.all(
    Array.from({ length: HTTP_CLIENTS }, async (_, k) => {
      const rng = new Rng(seed + k);
      const agent = agentFrom(`127.0.2.${k + 1}`);
      while (!stop()) {
        // half for usernames that exist (not the timed real user), half made up
        const username = rng.chance(0.5) ? rng.pick(existing) : `u${rng.u32().toString(36)}`;
        made++;
        try {
          const r = await post(agent, port, '/api/auth/login', { username, password: `wrong-${rng.u32().toString(36)}` });
          answered++;
          inc(byStatus, String(r.status));
          if (answerMs.length < 200_000) answerMs.push(r.ms);
        } catch {
          errors++;
          await sleep(10);
        }
      }
      agent.destroy();
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { t0, clients: HTTP_CLIENTS, made, answered, madePerS: Math.round(made / s), answeredPerS: Math.round(answered / s), byStatus, errors, answerMs: dist(answerMs) };
}

/** One MQTT login over a raw socket: the CONNACK code, 'closed' or an error code. */
function mqttLogin(port: number, localAddress: string, clientId: string, username: string, password: string, timeoutMs = 10_000): Promise<{ result: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    let done = false;
    const finish = (result: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (result === CONNACK[0]) s.end(MQTT_DISCONNECT);
      s.destroy();
      resolve({ result, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const reader = new MqttReader();
    s.on('connect', () => s.write(mqttConnect(clientId, username, password, 60)));
    s.on('data', (d: Buffer) => reader.push(d, (type, _f, body) => type === 2 && finish(CONNACK[body[1]!] ?? `code ${body[1]}`)));
    s.on('error', (e: NodeJS.ErrnoException) => finish(`error ${e.code ?? e.message}`));
    s.on('close', () => finish('closed without CONNACK'));
  });
}

async function mqttFlood(port: number, target: string, stop: () => boolean, seed: number): Promise<Omit<NonNullable<PhaseResult['mqtt']>, 'realDevices'>> {
  const connack: Record<string, number> = {};
  const connectErrors: Record<string, number> = {};
  const byTarget: Record<string, Record<string, number>> = { registered: {}, random: {} };
  let attempts = 0;
  let closed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: MQTT_CLIENTS }, async (_, k) => {
      const rng = new Rng(seed + 1000 + k);
      const addr = `127.0.3.${(k % 16) + 1}`;
      while (!stop()) {
        const registered = rng.chance(0.5);
        const id = registered ? target : `r${rng.u32().toString(36)}`;
        attempts++;
        const r = await mqttLogin(port, addr, id, id, `wrong-${rng.u32().toString(36)}`);
        inc(byTarget[registered ? 'registered' : 'random']!, r.result);
        if (r.result.startsWith('error')) {
          inc(connectErrors, r.result);
          await sleep(5);
        } else if (r.result === 'closed without CONNACK') closed++;
        else inc(connack, r.result);
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { clients: MQTT_CLIENTS, attempts, attemptsPerS: Math.round(attempts / s), connack, closedWithoutConnack: closed, connectErrors, byTarget };
}

async function realDeviceLoop(port: number, id: string, secret: string, stop: () => boolean): Promise<{ attempts: number; connack: Record<string, number>; ms: Dist }> {
  const connack: Record<string, number> = {};
  const ms: number[] = [];
  let attempts = 0;
  while (!stop()) {
    const t0 = performance.now();
    attempts++;
    const r = await mqttLogin(port, '127.0.0.1', id, id, secret);
    inc(connack, r.result);
    ms.push(r.ms);
    await sleep(Math.max(0, 1000 - (performance.now() - t0)));
  }
  return { attempts, connack, ms: dist(ms) };
}

export async function flood(ctx: Ctx): Promise<ScenarioResult> {
  const phaseS = ctx.quick ? 10 : 30;
  const t0 = performance.now();
  const res: ScenarioResult = {
    name: 'flood',
    description: `SOS ack latency (1 watch, 2 SOS/s) with no flood, under a ${HTTP_CLIENTS}-client bad-password flood on HTTP login, and under a ${MQTT_CLIENTS}-client bad-password CONNECT flood on MQTT; ${phaseS} s each`,
    ok: false,
    wallSeconds: 0,
    devices: { watch: 4, mqtt: 4 },
    notes: [],
  };
  let gw: Gateway | undefined;
  let sos: SosWatch | undefined;
  try {
    // the per-address limits at their defaults (startGateway raises them for the fleet scenarios)
    gw = await startGateway({ name: 'flood', pgAdminUrl: ctx.pgAdminUrl, influxUrl: ctx.influxUrl, watches: 4, mqtt: 4, execArgv: ctx.gatewayExecArgv, logDir: ctx.logDir, env: { WATCH_MAX_UNIDENTIFIED_PER_ADDRESS: '20', MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '20' } });
    const g = gw;
    const port = g.httpPort;
    // users: the timed real user and a few others whose names the flood uses (logged in from its own address)
    const adminAgent = agentFrom('127.0.0.1');
    const login = await post(adminAgent, port, '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
    if (login.status !== 200) throw new Error(`admin login: ${login.status} ${login.body}`);
    const token = (JSON.parse(login.body) as { token: string }).token;
    for (const [username, role] of [[REAL_USER.username, 'agent'], [OTHER_USERS[0], 'agent'], [OTHER_USERS[1], 'agent'], [OTHER_USERS[2], 'supervisor']] as const) {
      const r = await post(adminAgent, port, '/api/users', { username, role, password: username === REAL_USER.username ? REAL_USER.password : `${username}-password-x` }, { authorization: `Bearer ${token}` });
      if (r.status !== 201) throw new Error(`creating user ${username}: ${r.status} ${r.body}`);
    }
    adminAgent.destroy();

    sos = new SosWatch(g.watchIds[0]!, g.watchPort);
    await sos.connect();
    sos.start(500);
    const s = sos;
    await sleep(2000); // the first SOS raises the alarm; later ones fold into it (count)

    const phases: Record<string, PhaseResult> = {};
    const runPhase = async (name: string, attack?: (stop: () => boolean) => Promise<Partial<PhaseResult>>) => {
      ctx.log(`  [flood] ${name}: ${phaseS} s`);
      const m0 = await scrapeMetrics(port);
      await g.resetEld();
      const st0 = await g.stats();
      const from = epochNow();
      const end = performance.now() + phaseS * 1000;
      const stop = () => performance.now() >= end;
      const [real, extra] = await Promise.all([realUserLoop(port, stop), attack ? attack(stop) : Promise.resolve({})]);
      const to = epochNow();
      const st1 = await g.stats();
      await sleep(1500); // the last SOS of the phase acknowledged
      const m1 = await scrapeMetrics(port);
      const secs = (to - from) / 1000;
      const p: PhaseResult = {
        seconds: round(secs, 1)!,
        sos: s.window(from, to),
        gatewayCpuPct: Math.round(((st1.cpuUs - st0.cpuUs) / 1e6 / secs) * 100),
        eldP99Ms: round(st1.eld.p99, 1),
        eldMaxMs: round(st1.eld.max, 1),
        realUserLogin: real,
        ...extra,
        metrics: metricDeltas(m0, m1, ['anxin_mqtt_denials_total', 'anxin_http_errors_total', 'anxin_connections_refused_total', 'anxin_connections_closed_total', 'anxin_alarms_', 'anxin_process_errors_total']),
      };
      phases[name] = p;
      ctx.log(`  [flood] ${name}: SOS ack p50 ${p.sos.p50} ms, p99 ${p.sos.p99} ms (${p.sos.acked}/${p.sos.sent}); gateway CPU ${p.gatewayCpuPct} %; real user login p50 ${real.ms.p50} ms ${JSON.stringify(real.byStatus)}`);
      if (p.http) ctx.log(`  [flood]   HTTP: ${p.http.madePerS}/s made, ${p.http.answeredPerS}/s answered ${JSON.stringify(p.http.byStatus)}`);
      if (p.mqtt) ctx.log(`  [flood]   MQTT: ${p.mqtt.attemptsPerS}/s CONNECTs ${JSON.stringify(p.mqtt.connack)} closed ${p.mqtt.closedWithoutConnack} errors ${JSON.stringify(p.mqtt.connectErrors)}; real devices ${JSON.stringify(Object.fromEntries(Object.entries(p.mqtt.realDevices).map(([k, v]) => [k, v.connack])))}`);
      await sleep(2000);
    };

    await runPhase('baseline');
    await runPhase('httpFlood', async (stop) => {
      const { t0: _t, ...http } = await httpFlood(port, stop, 0x5eed);
      return { http };
    });
    const target = g.mqttIds[0]!;
    const bystander = g.mqttIds[1]!;
    await runPhase('mqttFlood', async (stop) => {
      const [flood, targeted, other] = await Promise.all([mqttFlood(g.mqttPort, target, stop, 0xf100d), realDeviceLoop(g.mqttPort, target, g.mqttSecret, stop), realDeviceLoop(g.mqttPort, bystander, g.mqttSecret, stop)]);
      return { mqtt: { ...flood, realDevices: { [`${target} (client id the flood uses)`]: targeted, [`${bystander} (not targeted)`]: other } } };
    });
    await s.stop();

    const base = phases.baseline!.sos;
    const ratio = (p: PhaseResult) => (base.p99 && p.sos.p99 !== undefined ? round(p.sos.p99 / base.p99, 2) : undefined);
    res.extra = {
      sosRatePerS: 2,
      phaseSeconds: phaseS,
      phases,
      p99Ratio: { httpFlood: ratio(phases.httpFlood!), mqttFlood: ratio(phases.mqttFlood!) },
      sosTotal: { sent: s.records.length, acked: s.records.length - s.unacked, reconnects: s.reconnects },
      alive: g.child && (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)),
    };
    if (s.unacked) res.notes.push(`${s.unacked} of ${s.records.length} SOS frames were never acknowledged`);
    const tgt = Object.values(phases.mqttFlood!.mqtt!.realDevices)[0]!;
    const refused = Object.entries(tgt.connack).filter(([k]) => k !== CONNACK[0]).reduce((a, [, v]) => a + v, 0);
    if (refused) res.notes.push(`the device whose client id the MQTT flood used was refused ${refused} of ${tgt.attempts} logins with its right secret during the flood (${JSON.stringify(tgt.connack)})`);
    res.ok = true;
  } catch (e) {
    res.error = (e as Error).stack ?? (e as Error).message;
    ctx.log(`  [flood] FAILED: ${res.error}`);
  } finally {
    await sos?.stop(0).catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    res.wallSeconds = Math.round((performance.now() - t0) / 1000);
  }
  return res;
}
