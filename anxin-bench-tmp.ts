import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import mqtt from '/work/main/node_modules/mqtt/build/index.js';
import { NativeFallSensor, type ServerReply } from '/work/main/simulators/fall-sensor/native.ts';
const D = process.argv[2]!;
const url = 'mqtt://127.0.0.1:21883';
const secrets = readFileSync(`${D}/bench-secrets`, 'utf8').trim().split('\n');
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1); };
const acked = (s: NativeFallSensor, id: string) => new Promise<void>((r) => { const on = (x: ServerReply) => { if (x.body.msgId === id) { s.off('ack', on); r(); } }; s.on('ack', on); });

// 1. login (argon2id verify + DB lookup), sequential
const logins: number[] = [];
for (let i = 0; i < 20; i++) { const t = performance.now(); const c = await mqtt.connectAsync(url, { clientId: 'fs-b0', username: 'fs-b0', password: secrets[0], reconnectPeriod: 0 }); logins.push(performance.now() - t); await c.endAsync(); }
console.log(`login: p50 ${pct(logins, 50)} ms, p95 ${pct(logins, 95)} ms (n=20)`);

// 2. heartbeat with msgId, publish -> ack, sequential
const s = new NativeFallSensor({ url, deviceId: 'fs-b1', secret: secrets[1]!, alarmRetryMs: 60_000 });
await s.connect();
const hb: number[] = [];
for (let i = 0; i < 500; i++) { const id = `hb-${i}`; const w = acked(s, id); const t = performance.now(); await s.send('heartbeat', { msgId: id, battery: 80 }); await w; hb.push(performance.now() - t); }
console.log(`heartbeat -> ack: p50 ${pct(hb, 50)} ms, p95 ${pct(hb, 95)} ms, max ${pct(hb, 100)} ms (n=500)`);

// 3. fall -> committed -> ack, sequential (repeats fold into the open alarm: one transaction each)
const falls: number[] = [];
for (let i = 0; i < 100; i++) { const r = await s.fall(); falls.push(r.ackedAt - r.sentAt); }
console.log(`fall -> ack (after commit): p50 ${pct(falls, 50)} ms, p95 ${pct(falls, 95)} ms, max ${pct(falls, 100)} ms (n=100)`);
await s.close();

// 4. throughput: 20 sensors x 200 QoS 1 status messages, all at once (PUBACK after the pipeline)
const fleet = await Promise.all(secrets.map(async (sec, i) => { const x = new NativeFallSensor({ url, deviceId: `fs-b${i}`, secret: sec }); await x.connect(); return x; }));
const t0 = performance.now();
await Promise.all(fleet.map(async (x) => { for (let k = 0; k < 200; k++) await x.send('status', { states: { presence: k % 2 === 0 } }); }));
const dt = (performance.now() - t0) / 1000;
console.log(`throughput: ${(4000 / dt).toFixed(0)} status msgs/s (20 sensors x 200, QoS 1, each awaiting its PUBACK) in ${dt.toFixed(2)} s`);
await Promise.all(fleet.map((x) => x.close()));
