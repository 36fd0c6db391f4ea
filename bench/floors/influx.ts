/**
 * The store path against its floor, both into the same influxd:
 * (Both in batches of 5,000 points, the gateway's default TELEMETRY_BATCH_SIZE.)
 * - bare: line protocol built by hand (the gateway's schema: position and device points, tags device /
 *   elder / protocol) and POSTed to /write in batches, one batch in flight, like the gateway's writer;
 * - anxin: the gateway's own telemetry writer (createInflux1Writer: BatchingWriter, line.ts, fetch) fed
 *   TelemetryPoints as fast as it drains, without the rest of the gateway.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createInflux1Writer } from '../../gateway/store/telemetry/influx1.js';
import type { TelemetryPoint } from '../../gateway/store/telemetry/types.js';
import { sleep } from '../lib/stats.js';

export interface StoreResult {
  pointsPerS: number;
  points: number;
  batches: number;
  errors: number;
  seconds: number;
  cpuPct: number;
}

const DEVICES = 10_000;

function post(agent: Agent, url: URL, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Points in the gateway's schema: half positions, half device (battery/signal) points. */
function point(k: number, t: number): TelemetryPoint {
  const d = k % DEVICES;
  const tags = { device: `86${String(d).padStart(13, '0')}`, protocol: 'watch', elder: String(d + 1) };
  return k % 2 === 0
    ? { measurement: 'position', time: new Date(t), tags, fields: { lat: 31.2 + d * 1e-5, lon: 121.4 + d * 1e-5, source: 'gps', valid: true } }
    : { measurement: 'device', time: new Date(t), tags, fields: { battery: 60 + (d % 40), signal: 80 } };
}

/** Line protocol by hand, the same fields and tags (sorted), float numbers, ms precision. */
function line(p: TelemetryPoint): string {
  const t = p.tags;
  const f = Object.entries(p.fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? `"${v}"` : typeof v === 'boolean' ? String(v) : String(v)}`)
    .join(',');
  return `${p.measurement},device=${t.device},elder=${t.elder},protocol=${t.protocol} ${f} ${p.time.getTime()}`;
}

export async function bareWriter(influxUrl: string, database: string, seconds: number, batch = 5000): Promise<StoreResult> {
  const url = new URL(influxUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  await post(agent, url, `/query?q=${encodeURIComponent(`CREATE DATABASE ${database}`)}`, '');
  let k = 0;
  let t = Date.now() - 3_600_000;
  let points = 0;
  let batches = 0;
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    const lines: string[] = [];
    for (let j = 0; j < batch; j++) {
      if (k % DEVICES === 0) t++;
      lines.push(line(point(k++, t)));
    }
    const status = await post(agent, url, `/write?db=${database}&precision=ms`, lines.join('\n'));
    if (status === 204) {
      points += batch;
      batches++;
    } else errors++;
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { pointsPerS: Math.round(points / secs), points, batches, errors, seconds: Math.round(secs * 10) / 10, cpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / secs) * 100) };
}

export async function anxinWriter(influxUrl: string, database: string, seconds: number, batch = 5000): Promise<StoreResult> {
  let batches = 0;
  let errors = 0;
  const w = createInflux1Writer({ url: influxUrl, database }, { maxBatch: batch, flushMs: 1000, maxBuffer: 100_000, onBatch: (r) => (r === 'ok' ? batches++ : errors++) });
  // the first write creates the database (the writer does that itself, then retries)
  w.write([point(0, Date.now() - 7_200_000)]);
  await w.flush();
  await sleep(300);
  await w.flush();
  let k = 1;
  let t = Date.now() - 3_600_000;
  const w0 = w.stats().written;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    // keep a few batches waiting, as a busy gateway would
    while (w.stats().buffered < batch * 3) {
      const pts: TelemetryPoint[] = [];
      for (let j = 0; j < batch; j++) {
        if (k % DEVICES === 0) t++;
        pts.push(point(k++, t));
      }
      w.write(pts);
    }
    await sleep(1);
  }
  const secs = (performance.now() - t0) / 1000;
  const written = w.stats().written - w0;
  const cpu = process.cpuUsage(cpu0);
  await w.close();
  return { pointsPerS: Math.round(written / secs), points: written, batches, errors, seconds: Math.round(secs * 10) / 10, cpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / secs) * 100) };
}
