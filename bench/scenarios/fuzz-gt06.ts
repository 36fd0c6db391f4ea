/**
 * The fuzz scenario's GT06 part (issue 15): binary packets through the live GT06 TCP transport (GT06_PORT).
 *   - logged-in slots: each logs in as its own registered tracker, then writes batches of mutated packets
 *     (fuzz-wire.ts gt06Input) with a valid heartbeat after every 4 inputs (so "bad frames in a row" does not
 *     close every connection) and a marker heartbeat whose serial only this batch uses; its `05 13 SERIAL`
 *     reply paces the batches (replies come after the frames before them were handled);
 *   - not-logged-in slots: a fresh connection per short batch, ending with a login as the slot's own registered
 *     tracker whose reply is the marker; the gateway refuses what comes before it as `not_logged_in`, closes
 *     on unknown IMEIs and after bad frames in a row.
 * Before each marker, 4,100 zero bytes: longer than the 4 KiB frame cap, so every start marker the inputs left
 * open is decided (framed, oversized or garbage) before the marker, and the framing model (Gt06FrameModel)
 * sees what the gateway's framer sees.
 */
import type { Socket } from 'node:net';
import { Budget, tcp, waitFor } from '../lib/fuzz-io.js';
import { Gt06FrameModel, gt06Heartbeat, gt06Input, gt06Login, gt06Seeds, Rng } from '../lib/fuzz-wire.js';
import { metricSum } from '../lib/probe.js';
import { sleep } from '../lib/stats.js';

export const GT06_LOGGED_SLOTS = 12;
export const GT06_UNLOGGED_SLOTS = 4;
/** inputs per batch on a not-logged-in connection: about BAD_FRAME_LIMIT (10), most of them are refused */
const UNLOGGED_BATCH = 12;
const PAD = Buffer.alloc(4100);
/** IMEIs nobody registered: their logins are refused and close the connection */
const UNKNOWN_IMEIS = ['868120009999001', '868120009999002', '123456789012345', '000000000000000', '999999999999999'];

/**
 * A registered tracker's IMEI for slot `k` of a kind (0 logged in, 1 not logged in, 2 the SOS tracker). Any two
 * differ in at least two BCD bytes, so a one-byte mutation of one slot's login does not name another slot's
 * tracker (which is a clone claim from another address: it was, in an earlier run).
 */
export const gt06Imei = (kind: number, k: number) => `868120${String(kind).repeat(3)}${String(k).padStart(2, '0').repeat(3)}`;

/** Every `78 78 05 PROTO hi lo` seen on a connection, as a set of PROTO<<16|SERIAL. */
function replies(s: Socket): Set<number> {
  const seen = new Set<number>();
  let rest = Buffer.alloc(0);
  s.on('data', (d: Buffer) => {
    const b = rest.length ? Buffer.concat([rest, d]) : d;
    let i = 0;
    for (let j = b.indexOf(0x78); j >= 0 && j + 6 <= b.length; j = b.indexOf(0x78, j + 1)) {
      if (b[j + 1] === 0x78 && b[j + 2] === 0x05) seen.add((b[j + 3]! << 16) | b.readUInt16BE(j + 4));
      i = j + 1;
    }
    rest = Buffer.from(b.subarray(Math.max(i, b.length - 6)));
    if (seen.size > 100_000) seen.clear();
  });
  return seen;
}

/** A batch's framing counted in the confirmed bucket (its marker answered) or the unconfirmed one. */
function account(b: Budget, model: Gt06FrameModel, wire: Buffer, push: () => void, bucket: () => 'confirmed' | 'unconfirmed'): () => void {
  const f0 = model.frames;
  const o0 = model.oversizedBytes;
  const g0 = model.garbageBytes;
  push();
  return () => {
    const k = bucket();
    b.add(`${k}Batches`);
    b.add(`${k}Bytes`, wire.length);
    b.add(`${k}Frames`, model.frames - f0);
    b.add(`${k}OversizedBytes`, model.oversizedBytes - o0);
    b.add(`${k}GarbageBytes`, model.garbageBytes - g0);
    b.add('wireBytes', wire.length);
  };
}

export async function gt06Slot(port: number, k: number, b: Budget, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const imei = gt06Imei(0, k);
  let marker = 0;
  while (!b.done) {
    let s: Socket;
    try {
      s = await tcp(port, `127.0.7.${k + 1}`);
    } catch {
      await sleep(50);
      continue;
    }
    b.connections++;
    s.on('error', () => undefined);
    const seen = replies(s);
    let closed = false;
    s.once('close', () => (closed = true));
    const model = new Gt06FrameModel();
    const login = gt06Login(imei, 0x8000 | (++marker & 0x7fff));
    let r: 'ok' | 'closed' | 'timeout' = 'timeout';
    const done = account(b, model, login, () => model.push(login), () => (r === 'ok' ? 'confirmed' : 'unconfirmed'));
    s.write(login);
    r = await waitFor(s, () => seen.has((0x01 << 16) | login.readUInt16BE(login.length - 6)), 30_000);
    done();
    b.add('fillerFrames');
    if (r !== 'ok') {
      b.add('loginsUnanswered');
      s.destroy();
      continue;
    }
    while (!b.done && !closed) {
      const n = b.take(100);
      const parts: Buffer[] = [];
      let fillers = 1;
      let seeds = gt06Seeds(imei, rng);
      for (let i = 0; i < n; i++) {
        if (i % 16 === 15) seeds = gt06Seeds(rng.chance(0.1) ? rng.pick(UNKNOWN_IMEIS) : imei, rng);
        const input = gt06Input(seeds, rng, rng.int(0x8000));
        parts.push(input);
        b.bytes += input.length;
        if (i % 4 === 3) {
          parts.push(gt06Heartbeat(rng.int(0x8000)));
          fillers++;
        }
      }
      const serial = 0x8000 | (++marker & 0x7fff);
      seen.delete((0x13 << 16) | serial);
      const wire = Buffer.concat([...parts, PAD, gt06Heartbeat(serial)]);
      const fin = account(b, model, wire, () => model.push(wire), () => (r === 'ok' ? 'confirmed' : 'unconfirmed'));
      s.write(wire);
      r = await waitFor(s, () => seen.has((0x13 << 16) | serial), 10_000);
      if (r === 'timeout') b.markerTimeouts++;
      fin();
      b.add('batches');
      b.add('fillerFrames', fillers);
    }
    if (closed) b.closed++;
    b.add('partialAtEnd', model.partial);
    s.destroy();
  }
}

export async function gt06UnloggedSlot(port: number, k: number, b: Budget, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const imei = gt06Imei(1, k);
  let marker = 0;
  while (!b.done) {
    const n = b.take(UNLOGGED_BATCH);
    if (n === 0) break;
    let s: Socket;
    try {
      s = await tcp(port, `127.0.8.${k + 1}`);
    } catch {
      b.taken -= n;
      await sleep(50);
      continue;
    }
    b.connections++;
    s.on('error', () => undefined);
    const seen = replies(s);
    const parts: Buffer[] = [];
    const seeds = gt06Seeds(rng.chance(0.3) ? imei : rng.pick(UNKNOWN_IMEIS), rng);
    for (let i = 0; i < n; i++) {
      const input = gt06Input(seeds, rng, rng.int(0x8000));
      parts.push(input);
      b.bytes += input.length;
    }
    const serial = 0x8000 | (++marker & 0x7fff);
    const wire = Buffer.concat([...parts, PAD, gt06Login(imei, serial)]);
    const model = new Gt06FrameModel();
    let r: 'ok' | 'closed' | 'timeout' = 'timeout';
    const fin = account(b, model, wire, () => model.push(wire), () => (r === 'ok' ? 'confirmed' : 'unconfirmed'));
    s.write(wire);
    r = await waitFor(s, () => seen.has((0x01 << 16) | serial), 5000);
    if (r === 'timeout') b.markerTimeouts++;
    if (r === 'closed') b.closed++;
    fin();
    b.add('fillerFrames'); // the marker login
    b.add('unloggedBatches');
    s.destroy();
    // the gateway sees the close before this address's next connection (the per-address limit of unidentified ones)
    await sleep(r === 'ok' ? 5 : 0);
  }
}

// ---------------------------------------------------------------------------------------------------------------

const byLabel = (all: Record<string, number>, name: string, label: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(all)) {
    if (!key.startsWith(`${name}{`) || !key.includes('protocol="gt06"')) continue;
    const m = new RegExp(`${label}="([^"]*)"`).exec(key);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + v;
  }
  return out;
};
const total = (o: Record<string, number>) => Object.values(o).reduce((a, v) => a + v, 0);
const FRAMING = new Set(['garbage', 'oversized']);
const n = (x: number) => x.toLocaleString('en');

/**
 * Inputs written against what the gateway counted. Frames: between what the confirmed batches formed and what
 * all batches formed (a close can cut a batch), plus the SOS tracker's; bytes read: at least the confirmed
 * batches', at most all written; garbage and oversized bytes: the framing model's, in the same bounds.
 */
export function reconcileGt06(run: { inputs: number; counts: Record<string, number> }, all: Record<string, number>, sos: { frames: number; bytes: number }) {
  const c = run.counts;
  const sum = (name: string) => metricSum(all, name, 'protocol="gt06"');
  const frames = sum('anxin_frames_total');
  const dropped = sum('anxin_frames_dropped_total');
  const bad = byLabel(all, 'anxin_bad_frames_total', 'reason');
  const rejected = Object.fromEntries(Object.entries(bad).filter(([k]) => !FRAMING.has(k)));
  const unknown = sum('anxin_unknown_device_frames_total');
  const discarded = byLabel(all, 'anxin_bytes_discarded_total', 'reason');
  const bytesRead = sum('anxin_bytes_received_total');
  const lo = (c.confirmedFrames ?? 0) + sos.frames;
  const hi = lo + (c.unconfirmedFrames ?? 0);
  const wireBytes = (c.wireBytes ?? 0) + sos.bytes;
  const seen = frames + dropped;
  const within = (v: number, k: string) => v >= (c[`confirmed${k}`] ?? 0) && v <= (c[`confirmed${k}`] ?? 0) + (c[`unconfirmed${k}`] ?? 0);
  const framingHolds = within(discarded.garbage ?? 0, 'GarbageBytes') && within(discarded.oversized ?? 0, 'OversizedBytes');
  const holds = seen >= lo && seen <= hi && bytesRead <= wireBytes && bytesRead >= (c.confirmedBytes ?? 0) + sos.bytes;
  const accepted = frames - total(rejected) - unknown;
  return {
    holds,
    framingHolds,
    written: { inputs: run.inputs, fillerFrames: c.fillerFrames ?? 0, bytes: c.wireBytes ?? 0, batches: (c.confirmedBatches ?? 0) + (c.unconfirmedBatches ?? 0), confirmedBatches: c.confirmedBatches ?? 0, unloggedBatches: c.unloggedBatches ?? 0, sosTracker: sos },
    framingRules: {
      framesConfirmedBatches: lo,
      framesAllBatches: hi,
      garbageBytes: { confirmed: c.confirmedGarbageBytes ?? 0, all: (c.confirmedGarbageBytes ?? 0) + (c.unconfirmedGarbageBytes ?? 0) },
      oversizedBytes: { confirmed: c.confirmedOversizedBytes ?? 0, all: (c.confirmedOversizedBytes ?? 0) + (c.unconfirmedOversizedBytes ?? 0) },
    },
    gateway: { bytesRead, bytesDiscarded: discarded, framesCounted: frames, framesDroppedAtClose: dropped, accepted, rejectedByReason: rejected, unknownDevice: unknown, framingEvents: { garbage: bad.garbage ?? 0, oversized: bad.oversized ?? 0 }, connectionsClosed: byLabel(all, 'anxin_connections_closed_total', 'reason') },
    summary:
      `${n(run.inputs)} inputs + ${n(c.fillerFrames ?? 0)} valid login/heartbeat/marker frames (+ ${sos.frames} from the SOS tracker) formed ${n(lo)}–${n(hi)} frames by the LEN / 0D 0A rules; ` +
      `the gateway counted ${n(frames)} + ${n(dropped)} dropped at close, ${n(accepted)} accepted, ${n(total(rejected))} rejected (${Object.entries(rejected).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(', ')}), ${n(unknown)} unknown device; ` +
      `garbage ${n(discarded.garbage ?? 0)} B and oversized ${n(discarded.oversized ?? 0)} B discarded (model ${n(c.confirmedGarbageBytes ?? 0)}–${n((c.confirmedGarbageBytes ?? 0) + (c.unconfirmedGarbageBytes ?? 0))} / ${n(c.confirmedOversizedBytes ?? 0)}–${n((c.confirmedOversizedBytes ?? 0) + (c.unconfirmedOversizedBytes ?? 0))}) ${framingHolds ? '✓' : '✗'}; ` +
      `bytes read ${n(bytesRead)} of ${n(wireBytes)} written ${holds ? '✓' : '✗ MISMATCH'}`,
  };
}
