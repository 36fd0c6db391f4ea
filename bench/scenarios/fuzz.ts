/**
 * Fuzzing the live transports (issues 15, 26): 1,000,000 inputs per protocol (50,000 with --quick) through a running
 * gateway, all seven at once:
 *   watch        TCP to WATCH_PORT, many frames per write, from 32 connections (32 registered watches, 32 source addresses);
 *   gt06         TCP to GT06_PORT, binary packets, 12 connections logged in as registered trackers and 4 that are
 *                not (fuzz-gt06.ts);
 *   contactid    receiver lines written into 4 socat pseudo-terminal pairs whose other ends are RECEIVERS ports;
 *   mqtt-json    PUBLISHes on anxin/up/<id>/<kind>, pipelined, logged in as registered devices (24 connections);
 *   zigbee2mqtt  PUBLISHes on zigbee2mqtt/<name>, pipelined, from a bridge account (8 connections);
 *   dc09         SIA DC-09 frames to DC09_TCP_PORT (8 kept connections, many frames per write) and DC09_UDP_PORT
 *                (8 sockets, one frame per datagram), for clear, keyed and unknown accounts (fuzz-dc09.ts);
 *   scaip        SIP MESSAGEs with SCAIP <mrq> bodies to SCAIP_SIP_PORT (UDP, 8 sockets), answering the gateway's
 *                <mrs> MESSAGEs (fuzz-scaip.ts).
 * Inputs are mutations of valid frames (bench/lib/fuzz-wire.ts, seeded) mixed with random garbage. When the
 * gateway closes a connection (its defence: bad frames in a row, oversized packets, denied topics), the fuzzer
 * reconnects and goes on. A write is paced by the gateway's answer to a marker at its end (a ZJ-indexed LK, a
 * receiver heartbeat, a QoS 1 PUBLISH), so inputs are not piled up faster than the gateway reads them.
 *
 * Throughout, a registered watch, a registered GT06 tracker, two DC-09 panels (TCP in clear, UDP encrypted) and a
 * SCAIP unit each send an SOS every 2 s on their own clean connection or socket; every one must be acknowledged. Reported: inputs and bytes sent per protocol, time, reconnects; /metrics deltas (bad frames,
 * denials, unknown devices, closes…) per protocol; crashes (the gateway process alive and /healthz answering at
 * the end; error lines in its log); heap and RSS after a forced GC (the gateway runs with --expose-gc) before,
 * and after a settle period, against the baseline.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import argon2 from 'argon2';
import { SerialPort } from 'serialport';
import { createPtyPair, type PtyPair } from '../../simulators/alarm-receiver/pty.js';
import { Budget, tcp, waitFor } from '../lib/fuzz-io.js';
import { ADMIN_PASSWORD, startGateway, type Gateway } from '../lib/gateway.js';
import { CidLineModel, cidSeeds, CID_HEARTBEAT, DC4, mqttConnect, mqttJsonSeeds, MQTT_KINDS, MqttReader, mqttPublish, mutate, Rng, watchFrame, WatchFrameModel, watchLk, watchSeeds, z2mSeeds } from '../lib/fuzz-wire.js';
import type { Ctx } from '../lib/measure.js';
import { epochNow, Gt06Sos, metricDeltas, metricSum, scrapeMetrics, SosWatch, type SosWindow } from '../lib/probe.js';
import type { ScenarioResult } from '../lib/result.js';
import { DC09_ACCOUNTS, dc09Fuzz, dc09Registrations, Dc09Sos, reconcileDc09 } from './fuzz-dc09.js';
import { GT06_LOGGED_SLOTS, GT06_UNLOGGED_SLOTS, gt06Imei, gt06Slot, gt06UnloggedSlot, reconcileGt06 } from './fuzz-gt06.js';
import { reconcileScaip, SCAIP_UNITS, scaipFuzz, scaipRegistrations, ScaipSos } from './fuzz-scaip.js';
import { dist, round, sleep } from '../lib/stats.js';

const BRIDGE = { name: 'bench-z2m', password: 'bench-z2m-bridge-password' };
/** registered accounts: alarm commits take turns per device (gateway/alarms/fair-gate.ts), so a few of them */
const CID_ACCOUNTS = { registered: ['1234', '5678', '2468', '1357', '8642', '7531'], unknown: ['4321', '9999', 'BCDE', '1234567890'] };
/** lines per write (the receiver protocol keeps one line in flight; here the gateway's newest-line answer paces a write) */
const CID_BATCH = 250;
/** three of each model: a name's messages are handled in order (one chain each), so a few names share the load */
const Z2M_DEVICES: [string, string][] = [1, 2, 3].flatMap((k): [string, string][] => [
  [`fz-radar-${k}`, 'MIR-HE200-TY'],
  [`fz-heiman-${k}`, 'HS2FD-EF1-3.0'],
  [`fz-owon-${k}`, 'FDS315'],
  [`fz-pendant-${k}`, 'IAS-SOS'],
  [`fz-cube-${k}`, 'MFKZQ01LM'],
]);
const WATCH_SLOTS = 32;
const MQTT_SLOTS = 24;
const Z2M_SLOTS = 8;
const RECEIVERS = 16;

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
  /** the fuzzer's own counts for the reconciliation (fillers, markers, what the framing rules say the bytes formed) */
  counts: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Watch: frames (mutated) for the slot's own registered watch, and some unknown ids; a valid LK after every 4
 * inputs keeps "bad frames in a row" from closing every connection at once. What the written bytes form by the
 * framing rules is tracked per batch (WatchFrameModel): a batch whose marker was answered was read and handled
 * whole ("confirmed"); one cut by a close or a lost marker may have been read in part ("unconfirmed").
 */
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
    const model = new WatchFrameModel();
    while (!b.done && !closed) {
      const n = b.take(200);
      const parts: Buffer[] = [watchLk(id)];
      let fillers = 1;
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
        if (i % 4 === 3) {
          parts.push(watchLk(id));
          fillers++;
        }
      }
      // close exactly the bracket depth the inputs left open (the framing model knows it), then a marker only
      // this batch's reply can match
      const index = (++seq % 0xffff).toString(16).toUpperCase().padStart(4, '0');
      const reply = `[ZJ*${id}*${index}*0002*LK]`;
      const body = Buffer.concat(parts);
      const f0 = model.frames;
      const o0 = model.oversized;
      const g0 = model.garbageBytes;
      model.push(body);
      const tail = Buffer.concat([Buffer.alloc(model.open, ']'), watchFrame(id, 'LK', { mf: 'ZJ', index })]);
      model.push(tail);
      fillers++;
      rx = '';
      const wire = Buffer.concat([body, tail]);
      s.write(wire);
      // the reply comes once every frame before it was handled (alarms committed): under load, seconds
      const r = await waitFor(s, () => rx.includes(reply), 10_000);
      if (r === 'timeout') b.markerTimeouts++;
      const bucket = r === 'ok' ? 'confirmed' : 'unconfirmed';
      b.add('batches');
      b.add('fillerFrames', fillers);
      b.add('wireBytes', wire.length);
      b.add(`${bucket}Batches`);
      b.add(`${bucket}Bytes`, wire.length);
      b.add(`${bucket}Frames`, model.frames - f0);
      b.add(`${bucket}Oversized`, model.oversized - o0);
      b.add(`${bucket}GarbageBytes`, model.garbageBytes - g0);
    }
    if (closed) b.closed++;
    b.add('partialAtEnd', model.partial);
    s.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Contact ID: lines into the receiver's pty; each write ends with a heartbeat, answered once the gateway reached
 * it (only the newest line is answered). A pty loses nothing, so the lines the bytes form (CidLineModel) must
 * be exactly the lines the gateway counted.
 */
async function contactIdFuzz(path: string, b: Budget, seed: number, accounts: { registered: string[]; unknown: string[] }): Promise<void> {
  const rng = new Rng(seed);
  const port = new SerialPort({ path, baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  port.on('error', () => undefined);
  let answers = 0;
  port.on('data', (d: Buffer) => (answers += d.length));
  b.connections++;
  const model = new CidLineModel();
  try {
    while (!b.done) {
      const n = b.take(CID_BATCH);
      const parts: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const acct = rng.chance(0.3) ? rng.pick(accounts.registered) : rng.pick(accounts.unknown);
        const seeds = cidSeeds(acct.length === 10 ? acct.slice(0, 4) : acct, rng).map((x) => Buffer.from(x, 'latin1'));
        const input = rng.chance(0.05) ? rng.pick(seeds) : mutate(rng.pick(seeds), rng, 'text', 600, rng.pick(seeds));
        parts.push(input, Buffer.from([DC4]));
        b.bytes += input.length + 1;
      }
      parts.push(Buffer.from([DC4]), Buffer.from(CID_HEARTBEAT, 'latin1'), Buffer.from([DC4]));
      const wire = Buffer.concat(parts);
      model.push(wire);
      b.add('markers');
      b.add('wireBytes', wire.length);
      const before = answers;
      await new Promise<void>((res) => port.write(wire, () => res()));
      await new Promise<void>((res) => port.drain(() => res()));
      const end = performance.now() + 5000;
      while (answers === before && performance.now() < end) await sleep(1);
      if (answers === before) b.markerTimeouts++;
    }
  } finally {
    b.add('lines', model.lines);
    b.add('oversized', model.oversized);
    await new Promise<void>((res) => port.close(() => res()));
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface MqttSlot {
  addr: string;
  clientId: string;
  username: string;
  password: string;
  /** the broker's packet limit for this account: a larger packet closes the connection */
  maxPacket: number;
  /** one input: topic and payload (or raw bytes for a garbage packet); `kills`: the broker may close on it */
  input(rng: Rng): { topic?: string | Buffer; payload?: Buffer; raw?: Buffer; kills?: boolean };
  marker: { topic: string; payload: Buffer };
}

/**
 * Publishes batches of inputs on one logged-in connection; a QoS 1 marker's PUBACK paces the batches (the broker
 * acknowledges in order, so every input before it was handled). An input the broker may close the connection on
 * (garbage, a packet over the limit, a topic it refuses) is written alone, after the batch before it was
 * acknowledged, with a marker of its own: every input counted was read by the broker, and a close is attributed
 * to the one input that caused it.
 */
async function mqttSlot(port: number, slot: MqttSlot, b: Budget, seed: number, batch: number): Promise<void> {
  const rng = new Rng(seed);
  let pid = 1;
  const nextPid = () => (pid = (pid % 65_000) + 1);
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
    // a bridge login is an argon2 check on the thread pool: under the fuzz load it can take seconds, and a
    // retry after giving up would only queue another one
    const c = await waitFor(s, () => connack >= 0, 30_000);
    if (c !== 'ok' || connack !== 0) {
      b.add('loginsRefused');
      s.destroy();
      await sleep(c === 'ok' ? 1000 : 100); // refused (e.g. backoff): wait a little
      continue;
    }
    const marker = () => {
      const m = nextPid();
      acked.delete(m);
      b.add('markers');
      return { id: m, bytes: mqttPublish(slot.marker.topic, slot.marker.payload, 1, m) };
    };
    while (!b.done && !s.destroyed) {
      const n = b.take(batch);
      const parts: Buffer[] = [];
      let alone: Buffer | undefined;
      let aloneKind = '';
      for (let i = 0; i < n; i++) {
        const x = slot.input(rng);
        const bytes = x.raw ?? mqttPublish(x.topic!, x.payload!, rng.chance(0.2) ? 1 : 0, nextPid());
        b.bytes += bytes.length;
        b.add(x.raw ? 'rawInputs' : 'publishInputs');
        if (x.kills || bytes.length > slot.maxPacket) {
          alone = bytes;
          aloneKind = x.raw ? 'rawInputs' : 'publishInputs';
          b.taken -= n - i - 1; // the rest of this batch is not sent
          break;
        }
        parts.push(bytes);
      }
      const m = marker();
      parts.push(m.bytes);
      s.write(Buffer.concat(parts));
      const r = await waitFor(s, () => acked.has(m.id), 10_000);
      if (r === 'ok') b.add('markersAcked');
      if (r === 'timeout') b.markerTimeouts++;
      if (r === 'closed') {
        b.closed++;
        b.add('closedInBatch');
      }
      if (!alone) continue;
      b.add('aloneInputs');
      if (s.destroyed) {
        b.add('aloneNotSent');
        b.add(aloneKind, -1);
        b.taken--;
        b.bytes -= alone.length;
        break;
      }
      const m2 = marker();
      s.write(Buffer.concat([alone, m2.bytes]));
      const r2 = await waitFor(s, () => acked.has(m2.id), 2000);
      if (r2 === 'ok') {
        b.add('markersAcked');
        b.add('aloneSurvived');
      } else if (r2 === 'closed') {
        b.closed++;
        b.add('aloneClosed');
      } else {
        // e.g. garbage declaring a longer packet than was sent: the broker waits for the rest; we close
        b.add('aloneStalled');
        break;
      }
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
    description: `${perProtocol.toLocaleString('en')} mutated or random inputs per protocol through the live transports (watch TCP, GT06 TCP, Contact ID serial, mqtt-json, Zigbee2MQTT, SIA DC-09 TCP and UDP, SCAIP SIP over UDP), all seven at once; an SOS every 2 s from a watch, a GT06 tracker, two DC-09 panels (TCP clear, UDP encrypted) and a SCAIP unit, each on a clean connection or socket, throughout`,
    ok: false,
    wallSeconds: 0,
    devices: { watch: 1 + WATCH_SLOTS, gt06: 1 + GT06_LOGGED_SLOTS + GT06_UNLOGGED_SLOTS, mqtt: MQTT_SLOTS },
    notes: [],
  };
  let gw: Gateway | undefined;
  const ptys: PtyPair[] = [];
  let sos: SosWatch | undefined;
  let gsos: Gt06Sos | undefined;
  let dsos: Dc09Sos[] = [];
  let ssos: ScaipSos | undefined;
  /** samples of what the DC-09 and SCAIP fuzzers found wrong in the gateway's answers */
  const dc09Problems: string[] = [];
  const scaipProblems: string[] = [];
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
    for (const [k, acct] of CID_ACCOUNTS.registered.entries()) await register({ identifier: acct, protocol: 'contactid', kind: k % 2 ? 'panel' : 'pendant' });
    for (const [name, model] of Z2M_DEVICES) await register({ identifier: name, protocol: 'zigbee2mqtt', kind: 'fall_sensor', model });
    for (const imei of [...Array.from({ length: GT06_LOGGED_SLOTS }, (_, k) => gt06Imei(0, k)), ...Array.from({ length: GT06_UNLOGGED_SLOTS }, (_, k) => gt06Imei(1, k)), gt06Imei(2, 0)]) {
      await register({ identifier: imei, protocol: 'gt06', meta: { vendor: 'concox' } });
    }
    for (const body of [...dc09Registrations(), ...scaipRegistrations()]) await register(body);

    /** the five fuzzers at once, each protocol's run by `one` (seeds offset by `seed0`) */
    const fuzzAll = (one: (protocol: string, body: (b: Budget) => Promise<void>) => Promise<void>, seed0: number) =>
      Promise.all([
      one('watch', (b) => Promise.all(Array.from({ length: WATCH_SLOTS }, (_, k) => watchSlot(g.watchPort, k, g.watchIds[1 + k]!, b, seed0 + 0x1000 + k))).then(() => undefined)),
      one('gt06', (b) =>
        Promise.all([
          ...Array.from({ length: GT06_LOGGED_SLOTS }, (_, k) => gt06Slot(g.gt06Port, k, b, seed0 + 0x5000 + k)),
          ...Array.from({ length: GT06_UNLOGGED_SLOTS }, (_, k) => gt06UnloggedSlot(g.gt06Port, k, b, seed0 + 0x5100 + k)),
        ]).then(() => undefined),
      ),
      one('contactid', (b) => Promise.all(ptys.map((p, k) => contactIdFuzz(p.a, b, seed0 + 0x2000 + k, CID_ACCOUNTS))).then(() => undefined)),
      one('mqtt-json', (b) =>
        Promise.all(
          Array.from({ length: MQTT_SLOTS }, (_, k) => {
            const id = g.mqttIds[k]!;
            const slot: MqttSlot = {
              addr: `127.0.5.${k + 1}`,
              clientId: id,
              username: id,
              password: g.mqttSecret,
              maxPacket: 65_536, // MQTT_MAX_PACKET_BYTES default
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
            return mqttSlot(g.mqttPort, slot, b, seed0 + 0x3000 + k, 100);
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
              maxPacket: 1_048_576, // ZIGBEE2MQTT_MAX_PACKET_BYTES default
              marker: { topic: 'zigbee2mqtt/bridge/state', payload: Buffer.from('{"state":"online"}') },
              input(rng) {
                // each input the broker closes on costs a bridge login (argon2): a few hundred in a million
                if (rng.chance(0.00005)) return { raw: rng.bytes(1 + rng.int(300)), kills: true };
                const seeds = z2mSeeds(rng);
                // a made-up name; now and then with a wildcard, which the broker refuses in a PUBLISH by closing
                const made = () => (rng.chance(0.01) ? rng.text(1 + rng.int(30)) : rng.text(1 + rng.int(30)).replace(/[+#]/g, '_'));
                const name = rng.chance(0.8) ? rng.pick(Z2M_DEVICES)[0] : rng.pick(['unknown-sensor', '0x00158d0001a2b3c4', made(), '']);
                const suffix = rng.chance(0.05) ? rng.pick(['/set', '/availability', '/get', '/x/y']) : '';
                const topic = rng.chance(0.01) ? rng.pick(['zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/info', 'zigbee2mqtt/bridge/event']) : `zigbee2mqtt/${name}${suffix}`;
                // once in a while a payload near the bridges' 1 MiB packet limit, or just over it
                const huge = rng.chance(0.00005);
                const payload = rng.chance(0.05) ? Buffer.from(rng.pick(seeds)) : mutate(Buffer.from(rng.pick(seeds)), rng, 'json', huge ? 1_100_000 : 20_000, Buffer.from(rng.pick(seeds)));
                if (rng.chance(0.0001)) return { topic: badTopic(rng, topic), payload, kills: true };
                return { topic, payload, kills: /[+#\u0000]/.test(topic) };
              },
            };
            return mqttSlot(g.mqttPort, slot, b, seed0 + 0x4000 + k, 100);
          }),
        ).then(() => undefined),
      ),
      one('dc09', (b) => dc09Fuzz({ tcp: g.dc09TcpPort, udp: g.dc09UdpPort }, b, seed0, dc09Problems)),
      one('scaip', (b) => scaipFuzz(g.scaipPort, b, seed0, scaipProblems)),
      ]);

    sos = new SosWatch(g.watchIds[0]!, g.watchPort);
    await sos.connect();
    sos.start(2000);
    const s = sos;
    gsos = new Gt06Sos(gt06Imei(2, 0), g.gt06Port, '127.0.9.1');
    await gsos.connect();
    gsos.start(2000);
    const gs = gsos;
    dsos = [new Dc09Sos(DC09_ACCOUNTS.sosTcp, g.dc09TcpPort, 'tcp'), new Dc09Sos(DC09_ACCOUNTS.sosUdp, g.dc09UdpPort, 'udp')];
    for (const d of dsos) await d.connect();
    for (const d of dsos) d.start(2000);
    const [dt, du] = dsos as [Dc09Sos, Dc09Sos];
    ssos = new ScaipSos(SCAIP_UNITS.sos, g.scaipPort);
    await ssos.connect();
    ssos.start(2000);
    const ss = ssos;
    // the SOS without fuzzing, in this run: the baseline its acknowledgement times are compared with
    const quietFrom = epochNow();
    await sleep((ctx.quick ? 20 : 40) * 1000);
    const quietTo = epochNow();
    // Warm-up: a little of every protocol before the heap baseline, so the baseline holds what the first inputs
    // create once and keep for good (mqtt-packet's cache of the 65,536 packet-id buffers, made at the first QoS 1
    // packet the broker writes, ~6 MiB; the JIT's optimised code) and the comparison afterwards finds what grows.
    const warm = ctx.quick ? 1000 : 2000;
    await fuzzAll(async (_p, body) => body(new Budget(warm)), 0x10_0000);
    await sleep(5000);
    // the bench harness in the gateway process keeps stage records of every alarm (bench/server.ts): not the gateway's
    await g.stages(true);
    const heap0 = await g.gc();
    // BENCH_FUZZ_HEAPSNAP=<dir>: heap snapshots at the baseline and after the settle period, to diff
    const snapDir = process.env.BENCH_FUZZ_HEAPSNAP;
    if (snapDir) await g.heapSnapshot(join(snapDir, 'fuzz-before.heapsnapshot'));
    const m0 = await scrapeMetrics(g.httpPort);
    const udpDrops0 = udpReceiveBufferErrors();
    // what the DC-09 panels and the SCAIP unit wrote and read before the baseline (their reconciliation is a delta)
    const dc09Sos0 = { frames: dt.framesWritten + du.framesWritten, bytes: dt.bytesWritten + du.bytesWritten, replies: dt.replies + du.replies };
    const scaipSos0 = { frames: ss.framesWritten, bytes: ss.bytesWritten };
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
      const run: ProtocolRun = { protocol, capped: b.capped, inputs: b.taken, bytes: b.bytes, seconds: round(seconds, 1)!, inputsPerS: Math.round(b.taken / seconds), connections: b.connections, closedByGateway: b.closed, markerTimeouts: b.markerTimeouts, counts: b.n };
      runs.push(run);
      ctx.log(`  [fuzz] ${protocol}: ${run.inputs.toLocaleString('en')} inputs (${Math.round(run.bytes / 2 ** 20)} MiB) in ${run.seconds} s, ${run.connections} connections, ${run.closedByGateway} closed by the gateway, ${run.markerTimeouts} pacing timeouts; gateway ${died === undefined ? 'alive' : `EXITED (${died})`}`);
    };
    let finished = false;
    const fuzzStart = performance.now();
    const fuzzFrom = epochNow();
    const ticker = (async () => {
      while (!finished) {
        await sleep(ctx.quick ? 5000 : 15_000);
        if (finished) break;
        const st = await g.stats().catch(() => undefined);
        const prog = Object.entries(budgets).map(([p, b]) => `${p} ${Math.round((b.taken / b.total) * 100)} % (${b.connections} conns)`).join(' · ');
        ctx.log(`  [fuzz] ${prog} · gateway heap ${st ? Math.round(st.heapUsed / 2 ** 20) : '?'} MiB, CPU ${st ? Math.round(st.cpuUs / 1e6) : '?'} s · SOS watch ${s.records.length - s.unacked}/${s.records.length}, GT06 ${gs.records.length - gs.unacked}/${gs.records.length}, DC-09 TCP ${dt.records.length - dt.unacked}/${dt.records.length}, UDP ${du.records.length - du.unacked}/${du.records.length}, SCAIP ${ss.records.length - ss.unacked}/${ss.records.length} acked${died === undefined ? '' : ` · GATEWAY EXITED (${died})`}`);
      }
    })();
    // all protocols at once: each is bounded by something else (a device's ordered pipeline, a serial line's
    // one-line-at-a-time answers, a broker client's one-packet-at-a-time authorisation, a bridge's argon2 login)
    await fuzzAll(one, 0).finally(() => (finished = true));
    await ticker;
    const fuzzTo = epochNow();
    const fuzzSeconds = round((performance.now() - fuzzStart) / 1000, 1);
    if (died !== undefined) throw new Error(`the gateway exited (${died}) during the fuzz run`);

    // the end: SOS acknowledged, still alive, /healthz, memory after a settle period
    const settleS = ctx.quick ? 10 : 20;
    ctx.log(`  [fuzz] settling ${settleS} s`);
    await sleep(settleS * 1000);
    await Promise.all([s.stop(15_000), gs.stop(15_000), dt.stop(40_000), du.stop(40_000), ss.stop(40_000)]);
    const m1 = await scrapeMetrics(g.httpPort);
    const udpDrops1 = udpReceiveBufferErrors();
    const heapSettled = await g.stats();
    // where the SOS frames' time went: frame read → pipeline reached (transport, event loop); the rest is the
    // alarm commit (fair turn, journal fsync, transaction). Repeats of an open SOS alarm have no 'committed' stage.
    const sosStages = (await g.stages(true)).filter((x) => x.device === g.watchIds[0] && x.stage === 'received' && x.at >= fuzzFrom && x.at < fuzzTo);
    const toPipeline = dist(sosStages.map((x) => x.pipelineAt! - x.at));
    const heap1 = await g.gc();
    if (snapDir) await g.heapSnapshot(join(snapDir, 'fuzz-after.heapsnapshot'));
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
    for (const [name, probe] of [['watch', s], ['GT06', gs], ['DC-09 TCP', dt], ['DC-09 UDP', du], ['SCAIP', ss]] as const) {
      const q = probe.window(quietFrom, quietTo);
      const f = probe.window(fuzzFrom, fuzzTo);
      ctx.log(`  [fuzz] SOS (${name}) acked ${probe.records.length - probe.unacked}/${probe.records.length}; without fuzz p50 ${round(q.p50, 0)} ms p99 ${round(q.p99, 0)} ms (${q.acked}/${q.sent}); during fuzz p50 ${round(f.p50, 0)} ms p99 ${round(f.p99, 0)} ms (${f.acked}/${f.sent})`);
    }
    const reconciliation: Record<string, Reconciled | ReturnType<typeof reconcileGt06> | ReturnType<typeof reconcileDc09> | ReturnType<typeof reconcileScaip>> = reconcile(runs, all, { frames: s.framesWritten, bytes: s.bytesWritten });
    const gt06Run = runs.find((r) => r.protocol === 'gt06');
    if (gt06Run) reconciliation.gt06 = reconcileGt06(gt06Run, all, { frames: gs.framesWritten, bytes: gs.bytesWritten });
    const dc09Run = runs.find((r) => r.protocol === 'dc09');
    if (dc09Run) reconciliation.dc09 = reconcileDc09(dc09Run, all, { frames: dt.framesWritten + du.framesWritten - dc09Sos0.frames, bytes: dt.bytesWritten + du.bytesWritten - dc09Sos0.bytes, replies: dt.replies + du.replies - dc09Sos0.replies });
    const scaipRun = runs.find((r) => r.protocol === 'scaip');
    if (scaipRun) reconciliation.scaip = reconcileScaip(scaipRun, all, { frames: ss.framesWritten - scaipSos0.frames, bytes: ss.bytesWritten - scaipSos0.bytes });
    for (const [p, r] of Object.entries(reconciliation)) ctx.log(`  [fuzz] ${p}: ${r.summary}`);
    res.extra = {
      inputsPerProtocol: perProtocol,
      /** registered DC-09 accounts and SCAIP units (ScenarioResult.devices has no field for them) */
      registered: { dc09: dc09Registrations().length, scaip: scaipRegistrations().length },
      reconciliation,
      seeds: { watch: '0x1000+slot', gt06: '0x5000+slot (logged in), 0x5100+slot (not)', contactid: '0x2000', 'mqtt-json': '0x3000+slot', zigbee2mqtt: '0x4000+slot', dc09: '0x6000+slot (TCP), 0x6100+slot (UDP)', scaip: '0x7000+slot' },
      runs,
      totals: {
        inputs: runs.reduce((a, r) => a + r.inputs, 0),
        seconds: fuzzSeconds,
        byProtocol: Object.fromEntries(['watch', 'gt06', 'contactid', 'mqtt-json', 'zigbee2mqtt', 'dc09', 'scaip'].map((p) => [p, rejected(p)])),
        dc09: {
          badFrames: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_bad_frames_total') && k.includes('protocol="dc09"'))),
          replies: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_dc09_replies_total'))),
          bytesDiscarded: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_bytes_discarded_total') && k.includes('protocol="dc09"'))),
          unknownDevice: metricSum(all, 'anxin_unknown_device_frames_total', 'protocol="dc09"'),
          skewed: metricSum(all, 'anxin_dc09_skewed_total'),
          replyProblems: dc09Problems,
        },
        scaip: {
          badFrames: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_bad_frames_total') && k.includes('protocol="scaip"'))),
          sipResponses: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_scaip_sip_responses_total'))),
          mrs: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_scaip_mrs_total'))),
          unknownDevice: metricSum(all, 'anxin_unknown_device_frames_total', 'protocol="scaip"'),
          deviations: scaipProblems,
        },
        telemetry: {
          refused: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_telemetry_refused_total'))),
          deviceTimeIgnored: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_telemetry_device_time_ignored_total'))),
          dropped: metricSum(all, 'anxin_telemetry_dropped_total'),
          points: metricSum(all, 'anxin_telemetry_points_total'),
        },
        mqttDenials: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_mqtt_denials_total'))),
        zigbeeIgnored: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_zigbee2mqtt_ignored_total'))),
        receiverLines: Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('anxin_receiver_lines_total'))),
        processErrors: metricSum(all, 'anxin_process_errors_total'),
        /** datagrams the kernel dropped for a full receive buffer, machine-wide (Linux /proc/net/snmp), over the fuzz run */
        udpReceiveBufferDrops: udpDrops0 !== undefined && udpDrops1 !== undefined ? udpDrops1 - udpDrops0 : null,
        alarmsRaised: metricSum(all, 'anxin_alarms_raised_total'),
        alarmsRepeated: metricSum(all, 'anxin_alarms_repeated_total'),
      },
      metricDeltas: all,
      sos: sosReport(s, quietFrom, quietTo, fuzzFrom, fuzzTo, { duringFuzzFrameToPipelineMs: toPipeline }),
      sosGt06: sosReport(gs, quietFrom, quietTo, fuzzFrom, fuzzTo, {}),
      sosDc09Tcp: sosReport(dt, quietFrom, quietTo, fuzzFrom, fuzzTo, { account: dt.a.account, outcomes: dt.outcomes, failures: dt.failures, protocolErrors: dt.protocolErrors }),
      sosDc09Udp: sosReport(du, quietFrom, quietTo, fuzzFrom, fuzzTo, { account: du.a.account, encrypted: true, outcomes: du.outcomes, failures: du.failures, protocolErrors: du.protocolErrors }),
      sosScaip: sosReport(ss, quietFrom, quietTo, fuzzFrom, fuzzTo, { cid: ss.cid, failures: ss.failures }),
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
    if (gs.unacked) res.notes.push(`${gs.unacked} of ${gs.records.length} GT06 SOS packets were not acknowledged`);
    for (const [name, p] of [['DC-09 TCP', dt], ['DC-09 UDP', du]] as const) if (p.unacked) res.notes.push(`${p.unacked} of ${p.records.length} ${name} SOS messages were not acknowledged (${JSON.stringify(p.outcomes)})`);
    if (ss.unacked) res.notes.push(`${ss.unacked} of ${ss.records.length} SCAIP SOS messages were not acknowledged (200 and <mrs> snu 0)`);
    if (dc09Problems.length) res.notes.push(`DC-09: problems in the gateway's replies (totals.dc09.replyProblems): ${dc09Problems.slice(0, 3).join(' · ')}`);
    const scaipWrong = scaipRun?.counts['check.wrong'] ?? 0;
    if (scaipWrong) res.notes.push(`SCAIP: ${scaipWrong} answers other than the request's construction implies (samples: totals.scaip.deviations)`);
    const journal = (health.body as { parts?: Record<string, { state?: string; detail?: string }> })?.parts?.alarm_journal;
    if (journal && journal.state !== 'up') res.notes.push(`alarm journal ${journal.state} at the end: ${journal.detail}`);
    if (died !== undefined) res.notes.push(`the gateway exited with ${died}`);
    if (health.status !== 200) res.notes.push(`/healthz answered ${health.status} at the end`);
    res.ok = true;
  } catch (e) {
    res.error = (e as Error).stack ?? (e as Error).message;
    ctx.log(`  [fuzz] FAILED: ${res.error}`);
  } finally {
    await sos?.stop(0).catch(() => undefined);
    await gsos?.stop(0).catch(() => undefined);
    for (const d of dsos) await d.stop(0).catch(() => undefined);
    await ssos?.stop(0).catch(() => undefined);
    await gw?.stop().catch(() => undefined);
    for (const p of ptys) await p.close().catch(() => undefined);
    res.wallSeconds = Math.round((performance.now() - t0) / 1000);
  }
  return res;
}

/** Datagrams dropped by the kernel for a full socket receive buffer, machine-wide (Linux); undefined elsewhere. */
function udpReceiveBufferErrors(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    const v = Number(values[names.indexOf('RcvbufErrors')]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** An SOS probe's acknowledgements: all, without fuzz and during it, and the ratio of the two. */
function sosReport(p: { records: unknown[]; unacked: number; reconnects: number; closes: number; window(from: number, to: number): SosWindow }, quietFrom: number, quietTo: number, fuzzFrom: number, fuzzTo: number, more: Record<string, unknown>) {
  const quiet = p.window(quietFrom, quietTo);
  const during = p.window(fuzzFrom, fuzzTo);
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? round(a / b, 1) : undefined);
  return {
    sent: p.records.length,
    acked: p.records.length - p.unacked,
    reconnects: p.reconnects,
    closes: p.closes,
    ackMs: p.window(0, Infinity).ackMs,
    noFuzz: { sent: quiet.sent, acked: quiet.acked, ackMs: quiet.ackMs },
    duringFuzz: { sent: during.sent, acked: during.acked, ackMs: during.ackMs },
    ratioToNoFuzz: { p50: ratio(during.p50, quiet.p50), p99: ratio(during.p99, quiet.p99) },
    ...more,
  };
}

// ---------------------------------------------------------------------------------------------------------------

/** Series of one metric with one label's values: `{reason="x"}` → { x: n }, filtered by another label. */
function byLabel(all: Record<string, number>, name: string, label: string, filter = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${name}{`) || !k.includes(filter)) continue;
    const m = new RegExp(`${label}="([^"]*)"`).exec(k);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + v;
  }
  return out;
}
const total = (o: Record<string, number>) => Object.values(o).reduce((a, v) => a + v, 0);
/** framer events, not frames */
const FRAMING = new Set(['garbage', 'oversized']);

export interface Reconciled {
  summary: string;
  /** the accounting closes: every input is in a counted outcome */
  holds: boolean;
  [k: string]: unknown;
}

/**
 * Inputs written against what the gateway counted, per protocol. The fuzzer knows what it wrote and what those
 * bytes form by the protocol's framing rules (bench/lib/fuzz-wire.ts models); the gateway counts frames,
 * rejections by reason, bytes read and bytes discarded (/metrics). Where a close can cut a batch (watch), the
 * gateway's count must fall between what the confirmed batches formed and what all batches formed.
 */
export function reconcile(runs: ProtocolRun[], all: Record<string, number>, sos: { frames: number; bytes: number }): Record<string, Reconciled> {
  const out: Record<string, Reconciled> = {};
  const run = (p: string) => runs.find((r) => r.protocol === p);
  const sum = (name: string, p: string) => metricSum(all, name, `protocol="${p}"`);

  const w = run('watch');
  if (w) {
    const c = w.counts;
    const frames = sum('anxin_frames_total', 'watch');
    const dropped = sum('anxin_frames_dropped_total', 'watch');
    const bad = byLabel(all, 'anxin_bad_frames_total', 'reason', 'protocol="watch"');
    const rejected = Object.fromEntries(Object.entries(bad).filter(([k]) => !FRAMING.has(k)));
    const unknown = sum('anxin_unknown_device_frames_total', 'watch');
    // the SOS watch's frames go to the same port and are counted with the rest
    const lo = (c.confirmedFrames ?? 0) + sos.frames;
    const hi = lo + (c.unconfirmedFrames ?? 0);
    const wireBytes = (c.wireBytes ?? 0) + sos.bytes;
    const bytesRead = sum('anxin_bytes_received_total', 'watch');
    const discarded = byLabel(all, 'anxin_bytes_discarded_total', 'reason', 'protocol="watch"');
    const seen = frames + dropped;
    const holds = seen >= lo && seen <= hi && bytesRead <= wireBytes && bytesRead >= (c.confirmedBytes ?? 0) + sos.bytes;
    out.watch = {
      holds,
      written: { inputs: w.inputs, fillerFrames: c.fillerFrames ?? 0, bytes: c.wireBytes ?? 0, batches: c.batches ?? 0, confirmedBatches: c.confirmedBatches ?? 0, sosWatch: sos },
      framingRules: { framesConfirmedBatches: lo, framesAllBatches: hi, oversized: (c.confirmedOversized ?? 0) + (c.unconfirmedOversized ?? 0), garbageBytes: (c.confirmedGarbageBytes ?? 0) + (c.unconfirmedGarbageBytes ?? 0) },
      gateway: {
        bytesRead,
        bytesDiscarded: discarded,
        framesCounted: frames,
        framesDroppedAtClose: dropped,
        accepted: frames - total(rejected) - unknown,
        rejectedByReason: rejected,
        unknownDevice: unknown,
        framingEvents: { garbage: bad.garbage ?? 0, oversized: bad.oversized ?? 0 },
        connectionsClosed: byLabel(all, 'anxin_connections_closed_total', 'reason', 'protocol="watch"'),
      },
      summary:
        `${w.inputs.toLocaleString('en')} inputs + ${(c.fillerFrames ?? 0).toLocaleString('en')} valid LK/marker frames (+ ${sos.frames} from the SOS watch) formed ${lo.toLocaleString('en')}–${hi.toLocaleString('en')} frames by the bracket rule ` +
        `(a mutated input with an open "[" swallows what follows until the depth is back to 0); the gateway counted ${frames.toLocaleString('en')} + ${dropped.toLocaleString('en')} dropped at close, ` +
        `${(frames - total(rejected) - unknown).toLocaleString('en')} accepted, ${total(rejected).toLocaleString('en')} rejected, ${unknown} unknown device; bytes read ${bytesRead.toLocaleString('en')} of ${wireBytes.toLocaleString('en')} written ` +
        `(the rest was unread when the gateway closed a connection) ${holds ? '✓' : '✗ MISMATCH'}`,
    };
  }

  const cid = run('contactid');
  if (cid) {
    const c = cid.counts;
    const frames = sum('anxin_frames_total', 'contactid');
    const bad = byLabel(all, 'anxin_bad_frames_total', 'reason', 'protocol="contactid"');
    const lines = byLabel(all, 'anxin_receiver_lines_total', 'line');
    const answers = byLabel(all, 'anxin_receiver_lines_total', 'answer');
    const bytesRead = sum('anxin_bytes_received_total', 'contactid');
    const holds = frames === (c.lines ?? 0) && (bad.oversized ?? 0) === (c.oversized ?? 0) && bytesRead === (c.wireBytes ?? 0);
    out.contactid = {
      holds,
      written: { inputs: cid.inputs, heartbeatMarkers: c.markers ?? 0, bytes: c.wireBytes ?? 0 },
      framingRules: { lines: c.lines ?? 0, oversized: c.oversized ?? 0 },
      gateway: { bytesRead, linesCounted: frames, oversized: bad.oversized ?? 0, linesByType: lines, answers, rejectedByReason: Object.fromEntries(Object.entries(bad).filter(([k]) => !FRAMING.has(k))), unknownAccount: sum('anxin_unknown_device_frames_total', 'contactid') },
      summary:
        `${cid.inputs.toLocaleString('en')} inputs + ${(c.markers ?? 0).toLocaleString('en')} heartbeats formed ${(c.lines ?? 0).toLocaleString('en')} lines and ${c.oversized ?? 0} oversized runs by the DC4 rule ` +
        `(an injected DC4 splits an input, an empty one forms none); the gateway counted ${frames.toLocaleString('en')} lines and ${bad.oversized ?? 0} oversized, read ${bytesRead.toLocaleString('en')} of ${(c.wireBytes ?? 0).toLocaleString('en')} bytes ${holds ? '✓' : '✗ MISMATCH'}`,
    };
  }

  const closes = byLabel(all, 'anxin_connections_closed_total', 'reason', 'protocol="mqtt"');
  const tooLarge = metricSum(all, 'anxin_mqtt_denials_total', 'reason="packet_too_large"');
  let lostBeforeAuth = 0;
  for (const [p, role] of [['mqtt-json', 'device'], ['zigbee2mqtt', 'bridge']] as const) {
    const r = run(p);
    if (!r) continue;
    const c = r.counts;
    const results = byLabel(all, 'anxin_mqtt_publishes_total', 'result', `role="${role}"`);
    const reached = total(results);
    const sent = (c.publishInputs ?? 0) + (c.markers ?? 0);
    // markers written behind an input the broker closed on never reach it
    const lostMarkers = (c.aloneClosed ?? 0) + (c.aloneStalled ?? 0) + (c.closedInBatch ?? 0);
    const missing = sent - reached - lostMarkers;
    lostBeforeAuth += missing + (c.rawInputs ?? 0);
    out[p] = {
      holds: missing >= 0 && missing <= (c.aloneClosed ?? 0) + (c.aloneStalled ?? 0),
      written: { inputs: r.inputs, publishes: c.publishInputs ?? 0, garbagePackets: c.rawInputs ?? 0, markers: c.markers ?? 0, markersAcked: c.markersAcked ?? 0, bytes: r.bytes },
      closers: { writtenAlone: c.aloneInputs ?? 0, closed: c.aloneClosed ?? 0, survived: c.aloneSurvived ?? 0, stalled: c.aloneStalled ?? 0, closedInBatch: c.closedInBatch ?? 0 },
      gateway: {
        publishesByResult: results,
        decoded: sum('anxin_frames_total', p),
        rejectedByReason: byLabel(all, 'anxin_bad_frames_total', 'reason', `protocol="${p}"`),
        ...(p === 'zigbee2mqtt' ? { ignoredByReason: byLabel(all, 'anxin_zigbee2mqtt_ignored_total', 'reason') } : {}),
        unknownDevice: sum('anxin_unknown_device_frames_total', p),
      },
      publishesNotReachingAuthorization: missing,
      summary:
        `${sent.toLocaleString('en')} PUBLISHes written (${(c.publishInputs ?? 0).toLocaleString('en')} inputs + ${(c.markers ?? 0).toLocaleString('en')} markers) and ${c.rawInputs ?? 0} garbage packets; ` +
        `the broker authorised ${reached.toLocaleString('en')} (${Object.entries(results).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')}); ${lostMarkers} markers behind a closing input; ` +
        `${missing} PUBLISHes closed on before authorisation (topic with a wildcard, over the size limit)`,
    };
  }
  out.mqtt = {
    holds: lostBeforeAuth >= 0,
    closesByReason: closes,
    packetTooLarge: tooLarge,
    summary: `broker-wide: ${lostBeforeAuth} publishes/garbage packets written alone ended before authorisation; the broker closed ${total(closes)} connections (${Object.entries(closes).map(([k, v]) => `${k} ${v}`).join(', ')}) and refused ${tooLarge} packets over the size limit`,
  };
  return out;
}
