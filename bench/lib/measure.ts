/**
 * What every fleet scenario shares: a measuring window (rates, CPU, event-loop delay, alarms injected at a
 * fixed rate, progress lines), and matching each injected alarm with its stage times on the server and on the
 * dashboard's WebSocket.
 */
import type { Fleet } from '../../simulators/fleet/index.js';
import type { AlarmRecord } from '../../simulators/fleet/core.js';
import type { ServerStats, StageRecord } from '../server.js';
import { DEFAULT_ESCALATION_PLAN } from '../../alarms/index.js';
import type { Gateway, OriginateRecord, WsRecord } from './gateway.js';
import { coresBusy, dist, machineCpu, pidsNamed, procCpuSeconds, round, sleep, type Dist } from './stats.js';

export interface Ctx {
  quick: boolean;
  pgAdminUrl: string;
  influxUrl: string;
  logDir: string;
  /** extra node flags for the gateway (e.g. --cpu-prof) */
  gatewayExecArgv: string[];
  log(line: string): void;
}

export interface WindowResult {
  seconds: number;
  framesPerS: number;
  messagesPerS: number;
  storedPointsPerS: number;
  pointsDropped: number;
  telemetryBuffered: number;
  badFrames: number;
  processErrors: number;
  /** routine reports shed by the overload guard */
  messagesShed: number;
  eldP99Ms: number;
  eldMaxMs: number;
  /** the gateway's CPU, % of one core */
  gatewayCpuPct: number;
  /** the fleet workers' CPU, % of one core */
  fleetCpuPct: number;
  postgresCpuPct: number;
  influxdCpuPct: number;
  /** the whole machine, cores busy (of `cores`) */
  machineCores: number;
  cores: number;
  start: ServerStats;
  end: ServerStats;
  peakRss: number;
}

const othersCpu = () => ({
  pg: pidsNamed('postgres').reduce((a, p) => a + procCpuSeconds(p), 0),
  influx: pidsNamed('influxd').reduce((a, p) => a + procCpuSeconds(p), 0),
});

export interface WindowOptions {
  label: string;
  seconds: number;
  alarmsPerS?: number;
  /** share of alarms raised on MQTT devices (when there are any) */
  mqttAlarmShare?: number;
  hasMqtt?: boolean;
  /** called every progress tick; return extra text for the progress line */
  progress?: (elapsedS: number, s: ServerStats) => Promise<string> | string;
  /** stop early when true (checked every second) */
  until?: () => Promise<boolean>;
}

/** Runs for `seconds`, injecting alarms at a fixed rate, and measures the gateway. */
export async function runWindow(ctx: Ctx, gw: Gateway, fleet: Fleet, o: WindowOptions): Promise<WindowResult> {
  await gw.resetEld();
  const s0 = await gw.stats();
  const m0 = machineCpu();
  const f0 = (await fleet.stats()).cpuUs;
  const o0 = othersCpu();
  const t0 = performance.now();
  let peakRss = s0.rss;
  let injected = 0;
  let busy = false;
  const alarmTimer = o.alarmsPerS
    ? setInterval(() => {
        if (busy) return;
        busy = true;
        const every = o.hasMqtt && o.mqttAlarmShare ? Math.max(1, Math.round(1 / o.mqttAlarmShare)) : 0;
        const proto = every && injected % every === every - 1 ? 'mqtt' : 'watch';
        injected++;
        void fleet
          .alarm(proto)
          .catch(() => null)
          .finally(() => (busy = false));
      }, 1000 / o.alarmsPerS)
    : undefined;
  let last = s0;
  let lastT = t0;
  const progressEvery = ctx.quick ? 5 : 10;
  try {
    for (let sec = 1; sec <= o.seconds; sec++) {
      await sleep(Math.max(0, t0 + sec * 1000 - performance.now()));
      if (sec % progressEvery === 0 || sec === o.seconds) {
        const s = await gw.stats();
        peakRss = Math.max(peakRss, s.rss);
        const dt = (performance.now() - lastT) / 1000;
        const extra = o.progress ? await o.progress(sec, s) : '';
        ctx.log(
          `  [${o.label}] ${sec}/${o.seconds} s · ${(s.watchConnections + s.mqttClients).toLocaleString('en')} conns · ${Math.round((s.messages - last.messages) / dt).toLocaleString('en')} msg/s · stored ${Math.round((s.telemetry.written - last.telemetry.written) / dt).toLocaleString('en')} pts/s · rss ${Math.round(s.rss / 2 ** 20)} MiB${extra ? ` · ${extra}` : ''}`,
        );
        last = s;
        lastT = performance.now();
      }
      if (o.until && (await o.until())) break;
    }
  } finally {
    if (alarmTimer) clearInterval(alarmTimer);
  }
  const s1 = await gw.stats();
  const m1 = machineCpu();
  const f1 = (await fleet.stats()).cpuUs;
  const o1 = othersCpu();
  const secs = (performance.now() - t0) / 1000;
  return {
    seconds: round(secs, 1)!,
    framesPerS: Math.round((s1.frames - s0.frames) / secs),
    messagesPerS: Math.round((s1.messages - s0.messages) / secs),
    storedPointsPerS: Math.round((s1.telemetry.written - s0.telemetry.written) / secs),
    pointsDropped: s1.telemetry.dropped - s0.telemetry.dropped,
    telemetryBuffered: s1.telemetry.buffered,
    badFrames: s1.badFrames - s0.badFrames,
    processErrors: s1.processErrors - s0.processErrors,
    messagesShed: (s1.shed ?? 0) - (s0.shed ?? 0),
    eldP99Ms: round(s1.eld.p99, 1)!,
    eldMaxMs: round(s1.eld.max, 1)!,
    gatewayCpuPct: Math.round(((s1.cpuUs - s0.cpuUs) / 1e6 / secs) * 100),
    fleetCpuPct: Math.round(((f1 - f0) / 1e6 / secs) * 100),
    // backends come and go (their CPU leaves with them), so this is approximate and never below 0
    postgresCpuPct: Math.max(0, Math.round(((o1.pg - o0.pg) / secs) * 100)),
    influxdCpuPct: Math.round(((o1.influx - o0.influx) / secs) * 100),
    machineCores: round(coresBusy(m0, m1), 2)!,
    cores: m0.cores,
    start: s0,
    end: s1,
    peakRss: Math.max(peakRss, s1.rss),
  };
}

export interface AlarmLatency {
  injected: number;
  acked: number;
  /**
   * sent → stage, ms. `callback`: escalation emitted alarm.callback; `ari`: the simulated Asterisk received the
   * callback's originate. Both come after the plan's callback delay (callbackDelayS), which is subtracted.
   */
  stages: { received: Dist; committed: Dist; ack: Dist; screenPop: Dist; raisedPush: Dist; callback: Dist; ari: Dist };
  callbackDelayS: number;
  byProtocol: Record<string, { injected: number; acked: number; ack: Dist; screenPop: Dist }>;
  retransmitted: number;
  missing: { received: number; committed: number; screenPop: number };
  /** the ten slowest acknowledgements: when they were sent and each stage (ms after sending), to see whether the tail clusters */
  slowest: { device: string; protocol: string; sentAt: string; received?: number; committed?: number; ack?: number; screenPop?: number }[];
}

function byDevice<T extends { device: string; at: number }>(list: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of list) {
    let a = m.get(r.device);
    if (!a) m.set(r.device, (a = []));
    a.push(r);
  }
  for (const a of m.values()) a.sort((x, y) => x.at - y.at);
  return m;
}

/** The first record at or after t (server stamps from a Date have whole milliseconds: 1 ms of slack). */
function firstAfter<T extends { at: number }>(list: T[] | undefined, t: number): T | undefined {
  return list?.find((r) => r.at >= Math.floor(t) - 1);
}

/**
 * A few alarms raised and acknowledged before a scenario's first window, then forgotten: a fresh gateway's first
 * commits compile the alarm path and open the commit thread's connections (the first alarm of throughput's window
 * was its slowest in three runs: committed after 55–69 ms, the next ones 24–38 ms). The windows measure a gateway
 * that has been answering alarms, as a centre's has.
 */
export async function warmAlarmPath(gw: Gateway, fleet: Fleet, withMqtt: boolean, n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await fleet.alarm('watch');
  if (withMqtt) await fleet.alarm('mqtt');
  const end = performance.now() + 30_000;
  while (performance.now() < end && (await fleet.stats()).alarmsPending > 0) await sleep(100);
  await sleep(300); // their screen-pops
  await fleet.alarms(true);
  await gw.stages(true);
  gw.ws.splice(0);
}

/** Waits for outstanding acknowledgements (bounded), then matches alarms with their stages. */
export async function collectAlarms(gw: Gateway, fleet: Fleet, waitMs: number): Promise<{ latency: AlarmLatency; records: AlarmRecord[] }> {
  const end = performance.now() + waitMs;
  while (performance.now() < end) {
    const s = await fleet.stats();
    if (s.alarmsPending === 0) break;
    await sleep(250);
  }
  await sleep(300); // screen-pops trail the ack by a little
  const records = await fleet.alarms(true);
  const stages = await gw.stages(true);
  const ws = gw.ws.splice(0);
  return { latency: matchAlarms(records, stages, ws, gw.originates()), records };
}

/** The default plan's callback step (P1/P2 alarms): how long after the alarm the hub calls the elder back. */
export const CALLBACK_DELAY_S = DEFAULT_ESCALATION_PLAN.steps.find((s) => s.action === 'callback_and_cascade')?.atS ?? 60;

export function matchAlarms(records: AlarmRecord[], stages: StageRecord[], ws: WsRecord[], originates: OriginateRecord[] = []): AlarmLatency {
  const st = (k: StageRecord['stage']) => byDevice(stages.filter((s) => s.stage === k));
  const received = st('received');
  const committed = st('committed');
  const callback = st('callback');
  const pops = byDevice(ws.filter((w) => w.type === 'present'));
  const raised = byDevice(ws.filter((w) => w.type === 'alarm' && w.action === 'raised'));
  const ari = byDevice(originates);
  const delayMs = CALLBACK_DELAY_S * 1000;
  const lat = { received: [] as number[], committed: [] as number[], ack: [] as number[], screenPop: [] as number[], raisedPush: [] as number[], callback: [] as number[], ari: [] as number[] };
  const per: Record<string, { injected: number; acked: number; ack: number[]; screenPop: number[] }> = {};
  const missing = { received: 0, committed: 0, screenPop: 0 };
  let retransmitted = 0;
  const rows: AlarmLatency['slowest'] = [];
  for (const r of records) {
    const p = (per[r.protocol] ??= { injected: 0, acked: 0, ack: [], screenPop: [] });
    p.injected++;
    if (r.attempts > 1) retransmitted++;
    const d = (x: { at: number } | undefined, into: number[]) => {
      if (!x) return false;
      into.push(Math.max(0, x.at - r.sentAt));
      return true;
    };
    if (!d(firstAfter(received.get(r.device), r.sentAt), lat.received)) missing.received++;
    if (!d(firstAfter(committed.get(r.device), r.sentAt), lat.committed)) missing.committed++;
    const pop = firstAfter(pops.get(r.device), r.sentAt);
    if (!d(pop, lat.screenPop)) missing.screenPop++;
    else p.screenPop.push(pop!.at - r.sentAt);
    d(firstAfter(raised.get(r.device), r.sentAt), lat.raisedPush);
    const cb = firstAfter(callback.get(r.device), r.sentAt);
    if (cb) lat.callback.push(cb.at - r.sentAt - delayMs);
    const og = firstAfter(ari.get(r.device), r.sentAt);
    if (og) lat.ari.push(og.at - r.sentAt - delayMs);
    const since = (x: { at: number } | undefined) => (x ? Math.max(0, Math.round((x.at - r.sentAt) * 10) / 10) : undefined);
    rows.push({
      device: r.device, protocol: r.protocol, sentAt: new Date(r.sentAt).toISOString(),
      received: since(firstAfter(received.get(r.device), r.sentAt)), committed: since(firstAfter(committed.get(r.device), r.sentAt)),
      ack: r.ackAt !== undefined ? Math.round((r.ackAt - r.sentAt) * 10) / 10 : undefined, screenPop: since(pop),
    });
    if (r.ackAt !== undefined) {
      lat.ack.push(r.ackAt - r.sentAt);
      p.ack.push(r.ackAt - r.sentAt);
      p.acked++;
    }
  }
  return {
    injected: records.length,
    acked: records.filter((r) => r.ackAt !== undefined).length,
    stages: { received: dist(lat.received), committed: dist(lat.committed), ack: dist(lat.ack), screenPop: dist(lat.screenPop), raisedPush: dist(lat.raisedPush), callback: dist(lat.callback), ari: dist(lat.ari) },
    callbackDelayS: CALLBACK_DELAY_S,
    byProtocol: Object.fromEntries(Object.entries(per).map(([k, v]) => [k, { injected: v.injected, acked: v.acked, ack: dist(v.ack), screenPop: dist(v.screenPop) }])),
    retransmitted,
    missing,
    slowest: rows.sort((a, b) => (b.ack ?? Infinity) - (a.ack ?? Infinity)).slice(0, 10),
  };
}

/** Connects the fleet with progress lines; returns how many are ready and how long it took. */
export async function connectFleet(ctx: Ctx, label: string, gw: Gateway, fleet: Fleet, o: { perS: number; maxPending: number; timeoutMs: number }): Promise<{ ready: number; failed: number; seconds: number }> {
  const t0 = performance.now();
  let done = false;
  const ticker = (async () => {
    while (!done) {
      await sleep(ctx.quick ? 3000 : 5000);
      if (done) break;
      const [f, s] = await Promise.all([fleet.stats(), gw.stats()]);
      ctx.log(`  [${label}] connecting: ${f.ready.toLocaleString('en')}/${f.devices.toLocaleString('en')} ready, server holds ${(s.watchConnections + s.mqttClients).toLocaleString('en')}`);
    }
  })().catch(() => undefined); // progress only: a failed read must not end the run
  const r = await fleet.connect(o);
  done = true;
  await ticker;
  return { ...r, seconds: round((performance.now() - t0) / 1000, 1)! };
}

/** Memory per connection against a baseline (both after a full GC). */
export function perConnection(base: { rss: number; heapUsed: number }, at: { rss: number; heapUsed: number }, connections: number): { rssPerConnKB?: number; heapPerConnKB?: number } {
  if (connections <= 0) return {};
  return { rssPerConnKB: round((at.rss - base.rss) / connections / 1024, 2), heapPerConnKB: round((at.heapUsed - base.heapUsed) / connections / 1024, 2) };
}
