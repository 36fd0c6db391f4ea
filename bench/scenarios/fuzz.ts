/**
 * Fuzzing the live transports (issue 15): 1,000,000 inputs per protocol (50,000 with --quick) through a running
 * gateway, all four at once:
 *   watch        TCP to WATCH_PORT, many frames per write, from 32 connections (32 registered watches, 32 source addresses);
 *   contactid    receiver lines written into 4 socat pseudo-terminal pairs whose other ends are RECEIVERS ports;
 *   mqtt-json    PUBLISHes on anxin/up/<id>/<kind>, pipelined, logged in as registered devices (24 connections);
 *   zigbee2mqtt  PUBLISHes on zigbee2mqtt/<name>, pipelined, from a bridge account (8 connections).
 * Inputs are mutations of valid frames (bench/lib/fuzz-wire.ts, seeded) mixed with random garbage. When the
 * gateway closes a connection (its defence: bad frames in a row, oversized packets, denied topics), the fuzzer
 * reconnects and goes on. A write is paced by the gateway's answer to a marker at its end (a ZJ-indexed LK, a
 * receiver heartbeat, a QoS 1 PUBLISH), so inputs are not piled up faster than the gateway reads them.
 *
 * Throughout, a registered watch sends an SOS every 2 s on its own clean connection; every one must be
 * acknowledged. Reported: inputs and bytes sent per protocol, time, reconnects; /metrics deltas (bad frames,
 * denials, unknown devices, closes…) per protocol; crashes (the gateway process alive and /healthz answering at
 * the end; error lines in its log); heap and RSS after a forced GC (the gateway runs with --expose-gc) before,
 * and after a settle period, against the baseline.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import argon2 from 'argon2';
import { SerialPort } from 'serialport';
import { createPtyPair, type PtyPair } from '../../simulators/alarm-receiver/pty.js';
import { ADMIN_PASSWORD, startGateway, type Gateway } from '../lib/gateway.js';
import { cidSeeds, CID_HEARTBEAT, DC4, mqttConnect, mqttJsonSeeds, MQTT_KINDS, MqttReader, mqttPublish, mutate, Rng, watchFrame, watchLk, watchSeeds, z2mSeeds } from '../lib/fuzz-wire.js';
import type { Ctx } from '../lib/measure.js';
import { epochNow, metricDeltas, metricSum, scrapeMetrics, SosWatch } from '../lib/probe.js';
import type { ScenarioResult } from '../lib/result.js';
import { round, sleep } from '../lib/stats.js';

const BRIDGE = { name: 'bench-z2m', password: 'bench-z2m-bridge-password' };
const CID_ACCOUNTS = { registered: ['1234', '5678'], unknown: ['4321', '9999', 'BCDE', '1234567890'] };
const Z2M_DEVICES: [string, string][] = [
  ['fz-radar', 'MIR-HE200-TY'],
  ['fz-heiman', 'HS2FD-EF1-3.0'],
  ['fz-owon', 'FDS315'],
  ['fz-pendant', 'IAS-SOS'],
  ['fz-cube', 'MFKZQ01LM'],
];
const WATCH_SLOTS = 32;
const MQTT_SLOTS = 24;
const Z2M_SLOTS = 8;
const RECEIVERS = 4;

export interface ProtocolRun {
  protocol: string;
  capped: boolean;
  inputs: number;
  bytes: number;
  seconds: number;
  inputsPerS: number;
  connections: number;
  closedByGateway: number;
  markerTimeouts: number;
  metrics: Record<string, number>;
  heapAfterMiB?: number;
}

/** Shared progress of one protocol's fuzzers: inputs taken from a budget, bytes, connections. */
class Budget {
  taken = 0;
  bytes = 0;
  connections = 0;
  closed = 0;
  markerTimeouts = 0;
  /** the time bound was reached before the budget was spent */
  capped = false;
  constructor(
    readonly total: number,
    private readonly deadline = Infinity,
  ) {}
  take(n: number): number {
    if (performance.now() > this.deadline) {
      this.capped = true;
      return 0;
    }
    const k = Math.max(0, Math.min(n, this.total - this.taken));
    this.taken += k;
    return k;
  }
  get done(): boolean {
    return this.taken >= this.total || performance.now() > this.deadline;
  }
}

function tcp(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves when `pred` (checked on every chunk) holds, the socket closes, or after `ms`: 'ok' | 'closed' | 'timeout'. */
function waitFor(s: Socket, pred: () => boolean, ms: number): Promise<'ok' | 'closed' | 'timeout'> {
  if (pred()) return Promise.resolve('ok');
  if (s.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const done = (r: 'ok' | 'closed' | 'timeout') => {
      clearTimeout(t);
      s.removeListener('data', on);
      s.removeListener('close', onClose);
      resolve(r);
    };
    const on = () => pred() && done('ok');
    const onClose = () => done('closed');
    const t = setTimeout(() => done('timeout'), ms);
    s.on('data', on);
    s.once('close', onClose);
  });
}

// ---------------------------------------------------------------------------------------------------------------

/** Watch: frames (mutated) for the slot's own registered watch, and some unknown ids; a valid LK after every 4 inputs keeps "bad frames in a row" from closing every connection at once. */
async function watchSlot(port: number, k: number, id: string, b: Budget, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const addr = `127.0.4.${k + 1}`;
  let seq = 0;
  while (!b.done) {
    let s: Socket;
    try {
      s = await tcp(port, addr);
    } catch {
      await sleep(50);
      continue;
    }
    b.connections++;
    s.on('error', () => undefined);
    let rx = '';
    s.on('data', (d: Buffer) => {
      rx += d.toString('latin1');
      if (rx.length > 8192) rx = rx.slice(-4096);
    });
    let closed = false;
    s.once('close', () => (closed = true));
    while (!b.done && !closed) {
      const n = b.take(200);
      const parts: Buffer[] = [watchLk(id)];
      let seeds: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        if (i % 16 === 0) {
          const who = rng.chance(0.1) ? rng.pick(['8800000015', '358839237678820', '0', rng.digits(1 + rng.int(30)), '']) : id;
          seeds = watchSeeds(who, rng);
        }
        // now and then past the framer's 64 KiB cap
        const input = rng.chance(0.05) ? rng.pick(seeds) : mutate(rng.pick(seeds), rng, 'text', rng.chance(0.01) ? 70_000 : 4000, rng.pick(seeds));
        parts.push(input);
        b.bytes += input.length;
        if (i % 4 === 3) parts.push(watchLk(id));
      }
      // close whatever bracket depth the inputs left open, then a marker only this batch's reply can match
      const index = (++seq % 0xffff).toString(16).toUpperCase().padStart(4, '0');
      const reply = `[ZJ*${id}*${index}*0002*LK]`;
      parts.push(Buffer.from(']]]]]]]]'), watchFrame(id, 'LK', { mf: 'ZJ', index }));
      rx = '';
      s.write(Buffer.concat(parts));
      const r = await waitFor(s, () => rx.includes(reply), 1500);
      if (r === 'timeout') b.markerTimeouts++;
    }
    if (closed) b.closed++;
    s.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Contact ID: lines into the receiver's pty; each write ends with a heartbeat, answered once the gateway reached it. */
async function contactIdFuzz(path: string, b: Budget, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const port = new SerialPort({ path, baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  port.on('error', () => undefined);
  let answers = 0;
  port.on('data', (d: Buffer) => (answers += d.length));
  b.connections++;
  try {
    while (!b.done) {
      const n = b.take(100);
      const parts: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const acct = rng.chance(0.3) ? rng.pick(CID_ACCOUNTS.registered) : rng.pick(CID_ACCOUNTS.unknown);
        const seeds = cidSeeds(acct.length === 10 ? acct.slice(0, 4) : acct, rng).map((x) => Buffer.from(x, 'latin1'));
        const input = rng.chance(0.05) ? rng.pick(seeds) : mutate(rng.pick(seeds), rng, 'text', 600, rng.pick(seeds));
        parts.push(input, Buffer.from([DC4]));
        b.bytes += input.length + 1;
      }
      parts.push(Buffer.from([DC4]), Buffer.from(CID_HEARTBEAT, 'latin1'), Buffer.from([DC4]));
      const before = answers;
      await new Promise<void>((res) => port.write(Buffer.concat(parts), () => res()));
      await new Promise<void>((res) => port.drain(() => res()));
      const end = performance.now() + 5000;
      while (answers === before && performance.now() < end) await sleep(1);
      if (answers === before) b.markerTimeouts++;
    }
  } finally {
    await new Promise<void>((res) => port.close(() => res()));
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface MqttSlot {
  addr: string;
  clientId: string;
  username: string;
  password: string;
  /** one input: topic and payload (or raw bytes for a garbage packet) */
  input(rng: Rng): { topic?: string | Buffer; payload?: Buffer; raw?: Buffer; kills?: boolean };
  marker: { topic: string; payload: Buffer };
}

/** Publishes batches of inputs on one logged-in connection; a QoS 1 marker's PUBACK paces the batches. */
async function mqttSlot(port: number, slot: MqttSlot, b: Budget, seed: number, batch: number): Promise<void> {
  const rng = new Rng(seed);
  let pid = 1;
  while (!b.done) {
    let s: Socket;
    try {
      s = await tcp(port, slot.addr);
    } catch {
      await sleep(50);
      continue;
    }
    b.connections++;
    s.on('error', () => undefined);
    const reader = new MqttReader();
    let connack = -1;
    const acked = new Set<number>();
    s.on('data', (d: Buffer) =>
      reader.push(d, (type, _f, body) => {
        if (type === 2) connack = body[1]!;
        else if (type === 4) acked.add(body.readUInt16BE(0));
      }),
    );
    s.write(mqttConnect(slot.clientId, slot.username, slot.password, 600));
    const c = await waitFor(s, () => connack >= 0, 10_000);
    if (c !== 'ok' || connack !== 0) {
      s.destroy();
      await sleep(c === 'ok' ? 1000 : 100); // refused (e.g. backoff): wait a little
      continue;
    }
    while (!b.done && !s.destroyed) {
      const n = b.take(batch);
      const parts: Buffer[] = [];
      let killed = false;
      for (let i = 0; i < n && !killed; i++) {
        const x = slot.input(rng);
        // an input the broker answers by closing ends the write, so every input before it is read
        if (x.kills) {
          killed = true;
          b.taken -= n - i - 1;
        }
        let bytes: Buffer;
        if (x.raw) bytes = x.raw;
        else {
          const qos = rng.chance(0.2) ? 1 : 0;
          pid = (pid % 65_000) + 1;
          bytes = mqttPublish(x.topic!, x.payload!, qos, pid);
        }
        parts.push(bytes);
        b.bytes += bytes.length;
      }
      pid = (pid % 65_000) + 1;
      const marker = pid;
      acked.delete(marker);
      parts.push(mqttPublish(slot.marker.topic, slot.marker.payload, 1, marker));
      s.write(Buffer.concat(parts));
      const r = await waitFor(s, () => acked.has(marker), 10_000);
      if (r === 'timeout') b.markerTimeouts++;
      if (r === 'closed') b.closed++;
    }
    s.destroy();
  }
}

/** A topic mutated into something a device must not or cannot publish on (a small share of inputs). */
export function badTopic(rng: Rng, good: string): string | Buffer {
  switch (rng.int(8)) {
    case 0:
      return good.replace(/[^/]+$/, rng.text(1 + rng.int(20)));
    case 1:
      return `${good}/${'x/'.repeat(rng.int(50))}`;
    case 2:
      return good.replace(/\/[^/]+\//, '/someone-else/');
    case 3:
      return `${good}/#`;
    case 4:
      return Buffer.concat([Buffer.from(good), Buffer.from([0xff, 0xc0])]);
    case 5:
      return '';
    case 6:
      return `${good}\u0000`;
    default:
      return 'x'.repeat(1 + rng.int(60_000));
  }
}

// ---------------------------------------------------------------------------------------------------------------

export async function fuzz(ctx: Ctx): Promise<ScenarioResult> {
  const perProtocol = ctx.quick ? 50_000 : 1_000_000;
  // a bound on the fuzzing itself, so a slow machine still gets a report (inputs sent are reported as they are)
  const maxS = Number(process.env.BENCH_FUZZ_MAX_S ?? (ctx.quick ? 300 : 1200));
  const t0 = performance.now();
  const res: ScenarioResult = {
    name: 'fuzz',
    description: `${perProtocol.toLocaleString('en')} mutated or random inputs per protocol through the live transports (watch TCP, Contact ID serial, mqtt-json, Zigbee2MQTT), all four at once; an SOS every 2 s on a clean connection throughout`,
    ok: false,
    wallSeconds: 0,
    devices: { watch: 1 + WATCH_SLOTS, mqtt: MQTT_SLOTS },
    notes: [],
  };
  let gw: Gateway | undefined;
  const ptys: PtyPair[] = [];
  let sos: SosWatch | undefined;
  try {
    for (let k = 0; k < RECEIVERS; k++) ptys.push(await createPtyPair());
    const bridgeHash = await argon2.hash(BRIDGE.password);
    gw = await startGateway({
      name: 'fuzz',
      pgAdminUrl: ctx.pgAdminUrl,
      influxUrl: ctx.influxUrl,
      watches: 1 + WATCH_SLOTS,
      mqtt: MQTT_SLOTS,
      execArgv: ctx.gatewayExecArgv,
      logDir: ctx.logDir,
      env: {
        RECEIVERS: JSON.stringify(ptys.map((p, k) => ({ name: `fuzz${k}`, path: p.b, heartbeatS: 600 }))),
        ZIGBEE2MQTT_BRIDGES: `${BRIDGE.name}:${bridgeHash}`,
        // the per-address limits at their defaults (startGateway raises them for the fleet scenarios)
        WATCH_MAX_UNIDENTIFIED_PER_ADDRESS: '20',
        MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '20',
      },
    });
    const g = gw;
    let died: number | null | undefined;
    void g.child.exited.then((code) => (died = code));
    const base = `http://127.0.0.1:${g.httpPort}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    const token = ((await login.json()) as { token: string }).token;
    const register = async (body: Record<string, unknown>) => {
      const r = await fetch(`${base}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      if (r.status !== 201) throw new Error(`registering ${JSON.stringify(body)}: ${r.status} ${await r.text()}`);
    };
    await register({ identifier: CID_ACCOUNTS.registered[0], protocol: 'contactid', kind: 'pendant' });
    await register({ identifier: CID_ACCOUNTS.registered[1], protocol: 'contactid', kind: 'panel' });
    for (const [name, model] of Z2M_DEVICES) await register({ identifier: name, protocol: 'zigbee2mqtt', kind: 'fall_sensor', model });

    sos = new SosWatch(g.watchIds[0]!, g.watchPort);
    await sos.connect();
    sos.start(2000);
    const s = sos;
    await sleep(3000);
    const heap0 = await g.gc();
    const m0 = await scrapeMetrics(g.httpPort);
    ctx.log(`  [fuzz] baseline after GC: heap ${Math.round(heap0.heapUsed / 2 ** 20)} MiB, RSS ${Math.round(heap0.rss / 2 ** 20)} MiB (gc: ${heap0.gc})`);

    const runs: ProtocolRun[] = [];
    const budgets: Record<string, Budget> = {};
    const one = async (protocol: string, body: (b: Budget) => Promise<void>) => {
      const b = (budgets[protocol] = new Budget(perProtocol, fuzzStart + maxS * 1000));
      const p0 = performance.now();
      try {
        await body(b);
      } catch (e) {
        b.taken = b.total; // on a failure, every fuzzer of this protocol stops at its next batch
        throw e;
      }
      const seconds = (performance.now() - p0) / 1000;
      if (b.capped) res.notes.push(`${protocol}: the time bound (${maxS} s, BENCH_FUZZ_MAX_S) ended it after ${b.taken.toLocaleString('en')} of ${perProtocol.toLocaleString('en')} inputs`);
      const run: ProtocolRun = { protocol, capped: b.capped, inputs: b.taken, bytes: b.bytes, seconds: round(seconds, 1)!, inputsPerS: Math.round(b.taken / seconds), connections: b.connections, closedByGateway: b.closed, markerTimeouts: b.markerTimeouts, metrics: {} };
      runs.push(run);
      ctx.log(`  [fuzz] ${protocol}: ${run.inputs.toLocaleString('en')} inputs (${Math.round(run.bytes / 2 ** 20)} MiB) in ${run.seconds} s, ${run.connections} connections, ${run.closedByGateway} closed by the gateway, ${run.markerTimeouts} pacing timeouts; gateway ${died === undefined ? 'alive' : `EXITED (${died})`}`);
    };
    let finished = false;
    const fuzzStart = performance.now();
    const ticker = (async () => {
      while (!finished) {
        await sleep(ctx.quick ? 5000 : 15_000);
        if (finished) break;
        const st = await g.stats().catch(() => undefined);
        const prog = Object.entries(budgets).map(([p, b]) => `${p} ${Math.round((b.taken / b.total) * 100)} % (${b.connections} conns)`).join(' · ');
        ctx.log(`  [fuzz] ${prog} · gateway heap ${st ? Math.round(st.heapUsed / 2 ** 20) : '?'} MiB, CPU ${st ? Math.round(st.cpuUs / 1e6) : '?'} s · SOS ${s.records.length - s.unacked}/${s.records.length} acked${died === undefined ? '' : ` · GATEWAY EXITED (${died})`}`);
      }
    })();
    // all four protocols at once: each is bounded by something else (a device's ordered pipeline, a serial line's
    // one-line-at-a-time answers, a broker client's one-packet-at-a-time authorisation, a bridge's argon2 login)
    await Promise.all([
      one('watch', (b) => Promise.all(Array.from({ length: WATCH_SLOTS }, (_, k) => watchSlot(g.watchPort, k, g.watchIds[1 + k]!, b, 0x1000 + k))).then(() => undefined)),
      one('contactid', (b) => Promise.all(ptys.map((p, k) => contactIdFuzz(p.a, b, 0x2000 + k))).then(() => undefined)),
      one('mqtt-json', (b) =>
        Promise.all(
          Array.from({ length: MQTT_SLOTS }, (_, k) => {
            const id = g.mqttIds[k]!;
            const slot: MqttSlot = {
              addr: `127.0.5.${k + 1}`,
              clientId: id,
              username: id,
              password: g.mqttSecret,
              marker: { topic: `anxin/up/${id}/heartbeat`, payload: Buffer.from('{}') },
              input(rng) {
                if (rng.chance(0.0005)) return { raw: rng.bytes(1 + rng.int(300)), kills: true }; // a garbage packet: the broker closes
                const seeds = mqttJsonSeeds(rng);
                const sd = rng.pick(seeds);
                const payload = rng.chance(0.05) ? Buffer.from(sd.payload) : mutate(Buffer.from(sd.payload), rng, 'json', rng.chance(0.001) ? 70_000 : 20_000, Buffer.from(rng.pick(seeds).payload));
                if (rng.chance(0.002)) return { topic: badTopic(rng, `anxin/up/${id}/${rng.pick(MQTT_KINDS)}`), payload, kills: true };
                return { topic: `anxin/up/${id}/${rng.chance(0.02) ? rng.pick(['', 'ALARM', 'alarm/x', 'ack', 'unknown', 'position/', '%']) : sd.kind}`, payload };
              },
            };
            return mqttSlot(g.mqttPort, slot, b, 0x3000 + k, 100);
          }),
        ).then(() => undefined),
      ),
      one('zigbee2mqtt', (b) =>
        Promise.all(
          Array.from({ length: Z2M_SLOTS }, (_, k) => {
            const slot: MqttSlot = {
              addr: `127.0.6.${k + 1}`,
              clientId: `${BRIDGE.name}-${k}`,
              username: BRIDGE.name,
              password: BRIDGE.password,
              marker: { topic: 'zigbee2mqtt/bridge/state', payload: Buffer.from('{"state":"online"}') },
              input(rng) {
                if (rng.chance(0.0002)) return { raw: rng.bytes(1 + rng.int(300)), kills: true };
                const seeds = z2mSeeds(rng);
                const name = rng.chance(0.8) ? rng.pick(Z2M_DEVICES)[0] : rng.pick(['unknown-sensor', '0x00158d0001a2b3c4', rng.text(1 + rng.int(30)), '']);
                const suffix = rng.chance(0.05) ? rng.pick(['/set', '/availability', '/get', '/x/y']) : '';
                const topic = rng.chance(0.01) ? rng.pick(['zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/info', 'zigbee2mqtt/bridge/event']) : `zigbee2mqtt/${name}${suffix}`;
                // once in a while a payload near the bridges' 1 MiB packet limit, or just over it
                const huge = rng.chance(0.0002);
                const payload = rng.chance(0.05) ? Buffer.from(rng.pick(seeds)) : mutate(Buffer.from(rng.pick(seeds)), rng, 'json', huge ? 1_100_000 : 20_000, Buffer.from(rng.pick(seeds)));
                if (rng.chance(0.0005)) return { topic: badTopic(rng, topic), payload, kills: true };
                return { topic, payload, kills: huge };
              },
            };
            return mqttSlot(g.mqttPort, slot, b, 0x4000 + k, 100);
          }),
        ).then(() => undefined),
      ),
    ]).finally(() => (finished = true));
    await ticker;
    const fuzzSeconds = round((performance.now() - fuzzStart) / 1000, 1);
    if (died !== undefined) throw new Error(`the gateway exited (${died}) during the fuzz run`);

    // the end: SOS acknowledged, still alive, /healthz, memory after a settle period
    const settleS = ctx.quick ? 10 : 20;
    ctx.log(`  [fuzz] settling ${settleS} s`);
    await sleep(settleS * 1000);
    await s.stop(15_000);
    const m1 = await scrapeMetrics(g.httpPort);
    const heapSettled = await g.stats();
    const heap1 = await g.gc();
    const health = await fetch(`${base}/healthz`).then(
      async (r) => ({ status: r.status, body: (await r.json()) as unknown }),
      (e: Error) => ({ status: 0, body: e.message }),
    );
    const logFile = join(ctx.logDir, 'fuzz-server.log');
    const log = readFileSync(logFile, 'utf8').split('\n');
    const levels: Record<string, number> = {};
    const errorMsgs: Record<string, number> = {};
    const fatal: string[] = [];
    for (const line of log) {
      if (!line.trim()) continue;
      try {
        const j = JSON.parse(line) as { level?: number; msg?: string; err?: { stack?: string } };
        const lv = String(j.level ?? '?');
        levels[lv] = (levels[lv] ?? 0) + 1;
        if ((j.level ?? 0) >= 50) {
          const k = (j.msg ?? '').slice(0, 120);
          errorMsgs[k] = (errorMsgs[k] ?? 0) + 1;
          if (fatal.length < 5 && j.err?.stack) fatal.push(j.err.stack.slice(0, 1500));
        }
      } catch {
        // a line that is not pino JSON (a stack trace written by node itself)
        if (fatal.length < 20 && /Error|at |uncaught/i.test(line)) fatal.push(line.slice(0, 300));
      }
    }
    const sosSent = s.records.length;
    const sosAcked = sosSent - s.unacked;
    const all = metricDeltas(m0, m1);
    const rejected = (p: string) => ({
      badFrames: metricSum(all, 'anxin_bad_frames_total', `protocol="${p}"`),
      unknownDevice: metricSum(all, 'anxin_unknown_device_frames_total', `protocol="${p}"`),
      closed: metricSum(all, 'anxin_connections_closed_total', `protocol="${p}"`),
      refused: metricSum(all, 'anxin_connections_refused_total', `protocol="${p}"`),
      frames: metricSum(all, 'anxin_frames_total', `protocol="${p}"`),
      messages: metricSum(all, 'anxin_messages_total', `protocol="${p}"`),
    });
    res.extra = {
      inputsPerProtocol: perProtocol,
      seeds: { watch: '0x1000+slot', contactid: '0x2000', 'mqtt-json': '0x3000+slot', zigbee2mqtt: '0x4000+slot' },
      runs,
      totals: {
        inputs: runs.reduce((a, r) => a + r.inputs, 0),
        seconds: fuzzSeconds,
        byProtocol: Object.fromEntries(['watch', 'contactid', 'mqtt-json', 'zigbee2mqtt'].map((p) => [p, rejected(p)])),
        mqttDenials: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_mqtt_denials_total'))),
        zigbeeIgnored: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_zigbee2mqtt_ignored_total'))),
        receiverLines: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_receiver_lines_total'))),
        processErrors: metricSum(all, 'anxin_process_errors_total'),
        alarmsRaised: metricSum(all, 'anxin_alarms_raised_total'),
        alarmsRepeated: metricSum(all, 'anxin_alarms_repeated_total'),
      },
      metricDeltas: all,
      sos: { sent: sosSent, acked: sosAcked, reconnects: s.reconnects, closes: s.closes, ackMs: s.window(0, Infinity).ackMs },
      crash: { gatewayAlive: died === undefined, exitCode: died ?? null, healthz: health, logLevels: levels, errorMessages: errorMsgs, stacks: fatal },
      memory: {
        gcForced: heap0.gc && heap1.gc,
        baseline: { heapMiB: round(heap0.heapUsed / 2 ** 20, 1), rssMiB: round(heap0.rss / 2 ** 20, 1) },
        afterSettleBeforeGc: { settleSeconds: settleS, heapMiB: round(heapSettled.heapUsed / 2 ** 20, 1), rssMiB: round(heapSettled.rss / 2 ** 20, 1) },
        afterSettleGc: { heapMiB: round(heap1.heapUsed / 2 ** 20, 1), rssMiB: round(heap1.rss / 2 ** 20, 1) },
        heapDeltaMiB: round((heap1.heapUsed - heap0.heapUsed) / 2 ** 20, 1),
        rssDeltaMiB: round((heap1.rss - heap0.rss) / 2 ** 20, 1),
      },
      at: new Date(epochNow()).toISOString(),
    };
    if (sosAcked < sosSent) res.notes.push(`${sosSent - sosAcked} of ${sosSent} SOS frames were not acknowledged`);
    if (died !== undefined) res.notes.push(`the gateway exited with ${died}`);
    if (health.status !== 200) res.notes.push(`/healthz answered ${health.status} at the end`);
    res.ok = true;
  } catch (e) {
    res.error = (e as Error).stack ?? (e as Error).message;
    ctx.log(`  [fuzz] FAILED: ${res.error}`);
  } finally {
    await sos?.stop(0).catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    for (const p of ptys) await p.close().catch(() => undefined);
    res.wallSeconds = Math.round((performance.now() - t0) / 1000);
  }
  return res;
}
