/**
 * GT06 traffic as fast as a server takes it: `conns` connections, each one tracker that logs in once and then
 * writes a prebuilt mix again and again (heartbeat 0x13 40 %, position 0x12 40 %, position 0x22 20 %), built
 * with the simulator's own bytes (simulators/gt06/wire.ts), waiting for 'drain' when the socket is full.
 */
import { connect, type Socket } from 'node:net';
import { gpsBlock, imeiBcd, lbsBlock, packet } from '../../simulators/gt06/wire.js';

export function gt06Traffic(k: number, frames = 2000): Buffer {
  const out: Buffer[] = [];
  const t = new Date('2026-05-01T08:00:00Z');
  for (let j = 0; j < frames; j++) {
    const m = j % 5;
    const lat = 31.2 + ((k * 7 + j) % 100) / 1000;
    const lon = 121.4 + ((k * 3 + j) % 100) / 1000;
    if (m === 0 || m === 3) out.push(packet(0x13, [0x44, 5, 4, 0, 2], j & 0xffff));
    else if (m === 1 || m === 4) out.push(packet(0x12, [...gpsBlock(t, lat, lon), ...lbsBlock(460, 0, 10365, 8049)], j & 0xffff));
    else out.push(packet(0x22, [...gpsBlock(t, lat, lon), ...lbsBlock(460, 0, 10365, 8049), 0, 0, 0], j & 0xffff));
  }
  return Buffer.concat(out);
}

export async function gt06Blast(port: number, conns: number, imeiOf: (k: number) => string): Promise<{ stop(): void; frameBytes: number }> {
  let running = true;
  const sockets: Socket[] = [];
  let bytes = 0;
  let frames = 0;
  for (let k = 0; k < conns; k++) {
    const buf = gt06Traffic(k);
    bytes += buf.length;
    frames += 2000;
    const s = connect(port, '127.0.0.1');
    sockets.push(s);
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write(packet(0x01, imeiBcd(imeiOf(k)), 1));
    const pump = () => {
      while (running && !s.destroyed) {
        if (!s.write(buf)) {
          s.once('drain', pump);
          return;
        }
      }
    };
    setImmediate(pump);
  }
  return {
    frameBytes: Math.round(bytes / frames),
    stop() {
      running = false;
      for (const s of sockets) s.destroy();
    },
  };
}
