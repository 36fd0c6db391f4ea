/**
 * Baselines in the same run, so results are ratios rather than numbers from another day:
 * - watch: the minimal framing server (the floor) vs the watch decoder vs the TCP transport, frames/s on one core;
 * - GT06: the GT06 framer + decoder on the same terms as the watch decoder (frames per CPU-second beside it);
 * - store: a bare line-protocol batch writer vs the gateway's telemetry writer, into the same influxd;
 * - MQTT: bare aedes vs the embedded broker with Anxin's login, ACL and limits vs Debian's Mosquitto.
 * The two first-round ratios (decoder vs floor, Anxin's broker vs bare aedes) are measured in alternating pairs and
 * the median pair is reported, with the range: one floor against one decoder, 8–10 s each, swung ±10 % from run to
 * run on this machine (two identical bare brokers read 0.88–1.07 of each other), more than what was measured.
 */
import { join } from 'node:path';
import { anxinWriter, bareWriter } from '../floors/influx.js';
import { loginRate, mqttLoad, type LoginRate, type MqttLoadResult } from '../floors/mqtt-load.js';
import { gt06Blast } from '../floors/gt06-blast.js';
import { blast } from '../floors/watch-blast.js';
import { ROOT, startChild } from '../lib/child.js';
import type { Ctx } from '../lib/measure.js';
import type { ScenarioResult } from '../lib/result.js';
import { MQTT_SECRET, mqttId, mqttSecretHash, startMosquitto, watchId } from '../lib/services.js';
import { percentile, procCpuSeconds, round, sleep } from '../lib/stats.js';

interface WatchFloor {
  mode: string;
  framesPerS: number;
  /** frames per second of the server's CPU time: "on one core", whatever else the machine is doing */
  framesPerCpuS: number;
  cpuPct: number;
  errors: number;
  frameBytes: number;
}

/** Pairs measured one after the other, `n` times; the pair with the median ratio, and every ratio. */
async function pairs<T>(n: number, a: () => Promise<T>, b: () => Promise<T>, ratioOf: (a: T, b: T) => number): Promise<{ a: T; b: T; ratios: number[]; runs: { a: T; b: T }[] }> {
  const runs: { a: T; b: T; ratio: number }[] = [];
  for (let i = 0; i < n; i++) {
    const x = await a();
    const y = await b();
    runs.push({ a: x, b: y, ratio: ratioOf(x, y) });
  }
  const mid = percentile(runs.map((r) => r.ratio), 50); // nearest rank: the lower middle of an even n
  const median = runs.find((r) => r.ratio === mid)!;
  return { a: median.a, b: median.b, ratios: runs.map((r) => round(r.ratio, 3)!), runs };
}

async function watchFloor(ctx: Ctx, mode: 'floor' | 'decoder' | 'transport' | 'gt06-decoder', seconds: number): Promise<WatchFloor> {
  const gt06 = mode === 'gt06-decoder';
  const file = gt06 ? 'bench/floors/gt06-server.ts' : 'bench/floors/watch-server.ts';
  const { child, ready } = await startChild(join(ROOT, file), { env: { BENCH_MODE: mode }, logFile: join(ctx.logDir, `baseline-${gt06 ? mode : `watch-${mode}`}.log`) });
  try {
    // GT06 IMEIs: 15 digits (watchId's 86 + 13 digits)
    const b = gt06 ? await gt06Blast(Number(ready.port), 4, (k) => watchId(k + 1)) : await blast(Number(ready.port), 4, (k) => watchId(k + 1));
    await sleep(1000); // warm up (JIT, socket buffers)
    const a = await child.call<{ frames: number; cpuUs: number; errors: number }>('stats');
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const z = await child.call<{ frames: number; cpuUs: number; errors: number }>('stats');
    const secs = (performance.now() - t0) / 1000;
    b.stop();
    const cpuS = (z.cpuUs - a.cpuUs) / 1e6;
    const r = { mode, framesPerS: Math.round((z.frames - a.frames) / secs), framesPerCpuS: Math.round((z.frames - a.frames) / cpuS), cpuPct: Math.round((cpuS / secs) * 100), errors: z.errors - a.errors, frameBytes: b.frameBytes };
    ctx.log(`  [baselines] ${gt06 ? 'gt06 decoder' : `watch ${mode}`}: ${r.framesPerS.toLocaleString('en')} frames/s at ${r.cpuPct} % of a core = ${r.framesPerCpuS.toLocaleString('en')} frames per CPU-second`);
    return r;
  } finally {
    await child.stop();
  }
}

type BrokerResult = MqttLoadResult & { brokerCpuPct: number; publishesPerCpuS: number; logins: LoginRate };

const perCpu = (r: MqttLoadResult, cpuS: number, secs: number) => ({ brokerCpuPct: Math.round((cpuS / secs) * 100), publishesPerCpuS: cpuS > 0 ? Math.round(r.pubacks / cpuS) : 0 });

async function broker(ctx: Ctx, kind: 'bare' | 'anxin' | 'mosquitto' | 'mosquitto-anxin', o: { clients: number; window: number; seconds: number; loginSeconds: number }): Promise<BrokerResult> {
  const id = (k: number) => mqttId(k + 1);
  const { loginSeconds, ...load } = o;
  if (kind === 'mosquitto-anxin') return mosquittoWithAnxin(ctx, load, loginSeconds, id);
  if (kind === 'mosquitto') {
    const m = await startMosquitto();
    try {
      const logins = await loginRate({ port: m.port, seconds: loginSeconds, concurrency: 20, id });
      let cpu0 = 0;
      const r = await mqttLoad({ port: m.port, ...load, id, onPublishing: () => (cpu0 = procCpuSeconds(m.pid)) });
      const c = perCpu(r, procCpuSeconds(m.pid) - cpu0, r.seconds);
      ctx.log(`  [baselines] mosquitto: ${r.publishesPerS.toLocaleString('en')} QoS 1 publishes/s at ${c.brokerCpuPct} % CPU, ${logins.loginsPerS} logins/s`);
      return { ...r, ...c, logins };
    } finally {
      await m.stop();
    }
  }
  const { child, ready } = await startChild(join(ROOT, 'bench/floors/broker.ts'), {
    env: { BENCH_BROKER: kind, BENCH_MQTT_HASH: await mqttSecretHash() },
    logFile: join(ctx.logDir, `baseline-broker-${kind}.log`),
  });
  try {
    const password = kind === 'anxin' ? { password: MQTT_SECRET } : {};
    const logins = await loginRate({ port: Number(ready.port), seconds: loginSeconds, concurrency: 20, id, ...password });
    let cpu0 = 0;
    const r = await mqttLoad({ port: Number(ready.port), ...load, id, ...password, onPublishing: () => (cpu0 = procCpuSeconds(child.pid)) });
    const c = perCpu(r, procCpuSeconds(child.pid) - cpu0, r.seconds);
    ctx.log(`  [baselines] ${kind === 'bare' ? 'bare aedes' : 'aedes + Anxin login/ACL'}: ${r.publishesPerS.toLocaleString('en')} QoS 1 publishes/s at ${c.brokerCpuPct} % CPU, ${logins.loginsPerS} logins/s`);
    return { ...r, ...c, logins };
  } finally {
    await child.stop();
  }
}

/**
 * Mosquitto with Anxin as its authentication and ACL backend (plugins/mosquitto, issue 25): each login is one HTTP
 * request to Anxin's hook (bench/floors/mqtt-authn.ts); publishes are checked against the rules kept from the login.
 * The CPU is Mosquitto's and the hook's together.
 */
async function mosquittoWithAnxin(ctx: Ctx, load: { clients: number; window: number; seconds: number }, loginSeconds: number, id: (k: number) => string): Promise<BrokerResult> {
  const token = 'bench-token';
  const { child, ready } = await startChild(join(ROOT, 'bench/floors/mqtt-authn.ts'), {
    env: { BENCH_MQTT_HASH: await mqttSecretHash(), BENCH_MQTT_TOKEN: token },
    logFile: join(ctx.logDir, 'baseline-mqtt-authn.log'),
  });
  try {
    const m = await startMosquitto({ auth: { authnUrl: `http://127.0.0.1:${ready.port}/api/mqtt/authn`, token } });
    try {
      const logins = await loginRate({ port: m.port, seconds: loginSeconds, concurrency: 20, id, password: MQTT_SECRET });
      const cpu = () => procCpuSeconds(m.pid) + procCpuSeconds(child.pid);
      let cpu0 = 0;
      const r = await mqttLoad({ port: m.port, ...load, id, password: MQTT_SECRET, onPublishing: () => (cpu0 = cpu()) });
      const c = perCpu(r, cpu() - cpu0, r.seconds);
      ctx.log(`  [baselines] mosquitto + Anxin login/ACL: ${r.publishesPerS.toLocaleString('en')} QoS 1 publishes/s at ${c.brokerCpuPct} % CPU, ${logins.loginsPerS} logins/s`);
      return { ...r, ...c, logins };
    } finally {
      await m.stop();
    }
  } finally {
    await child.stop();
  }
}

export async function baselines(ctx: Ctx): Promise<ScenarioResult> {
  const t0 = performance.now();
  const res: ScenarioResult = { name: 'baselines', description: 'cost floors measured in the same run: watch framing, GT06 decoding, InfluxDB line protocol, bare aedes, Mosquitto, Mosquitto with Anxin as its auth backend', ok: false, wallSeconds: 0, notes: [] };
  try {
    const secs = ctx.quick ? 3 : 8;
    const rounds = ctx.quick ? 1 : 3;
    const watchPairs = await pairs(rounds, () => watchFloor(ctx, 'floor', secs), () => watchFloor(ctx, 'decoder', secs), (f, d) => d.framesPerCpuS / f.framesPerCpuS);
    const { a: floor, b: decoder } = watchPairs;
    const transport = await watchFloor(ctx, 'transport', secs);
    const gt06Decoder = await watchFloor(ctx, 'gt06-decoder', secs);

    const storeSecs = ctx.quick ? 5 : 15;
    const bare = await bareWriter(ctx.influxUrl, `bench_store_bare_${process.pid}`, storeSecs);
    ctx.log(`  [baselines] bare line-protocol writer: ${bare.pointsPerS.toLocaleString('en')} points/s`);
    const anxin = await anxinWriter(ctx.influxUrl, `bench_store_anxin_${process.pid}`, storeSecs);
    ctx.log(`  [baselines] Anxin telemetry writer: ${anxin.pointsPerS.toLocaleString('en')} points/s`);

    const load = { clients: ctx.quick ? 20 : 50, window: 20, seconds: ctx.quick ? 3 : 10, loginSeconds: ctx.quick ? 3 : 10 };
    const brokerPairs = await pairs(rounds, () => broker(ctx, 'bare', load), () => broker(ctx, 'anxin', load), (bare, anxin) => anxin.publishesPerCpuS / bare.publishesPerCpuS);
    const { a: bareAedes, b: anxinBroker } = brokerPairs;
    const loginRatios = brokerPairs.runs.map((r) => round(r.b.logins.loginsPerS / r.a.logins.loginsPerS, 3)!);
    const mosquitto = await broker(ctx, 'mosquitto', load);
    const mosquittoAnxin = await broker(ctx, 'mosquitto-anxin', load);

    const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 3)! : null);
    res.extra = {
      watch: { floor, decoder, transport, decoderVsFloor: ratio(decoder.framesPerCpuS, floor.framesPerCpuS), decoderVsFloorPairs: watchPairs.ratios, transportVsFloor: ratio(transport.framesPerCpuS, floor.framesPerCpuS) },
      gt06: { decoder: gt06Decoder, decoderVsWatchDecoder: ratio(gt06Decoder.framesPerCpuS, decoder.framesPerCpuS) },
      store: { bare, anxin, anxinVsBare: ratio(anxin.pointsPerS, bare.pointsPerS) },
      mqtt: {
        load,
        bareAedes,
        anxinBroker,
        mosquitto,
        anxinVsBareAedes: ratio(anxinBroker.publishesPerCpuS, bareAedes.publishesPerCpuS),
        anxinVsBareAedesPairs: brokerPairs.ratios,
        // logins swing on their own (0.63–0.79 in one run's pairs): their own median, not the publishes' pair's
        anxinLoginsVsBareAedes: percentile(loginRatios, 50),
        anxinLoginsVsBareAedesPairs: loginRatios,
        mosquittoVsBareAedes: ratio(mosquitto.publishesPerCpuS, bareAedes.publishesPerCpuS),
        mosquittoAnxin,
        mosquittoAnxinVsBareAedes: ratio(mosquittoAnxin.publishesPerCpuS, bareAedes.publishesPerCpuS),
        mosquittoAnxinLoginsVsBareAedes: ratio(mosquittoAnxin.logins.loginsPerS, bareAedes.logins.loginsPerS),
      },
    };
    res.ok = true;
  } catch (e) {
    res.error = (e as Error).message;
    ctx.log(`  [baselines] FAILED: ${res.error}`);
  }
  res.wallSeconds = Math.round((performance.now() - t0) / 1000);
  return res;
}
