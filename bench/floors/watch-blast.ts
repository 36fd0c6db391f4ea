/**
 * Watch traffic as fast as a server takes it: `conns` connections, each one device writing a prebuilt mix of
 * the fleet's frames (LK 40 %, UD 40 %, bphrt 20 %: the realistic schedule's proportions) again and again,
 * waiting for 'drain' when the socket is full. Replies are read and dropped.
 */
import { connect, type Socket } from 'node:net';
import { WATCH_STATUS, positionOf, watchFrame, watchHealth, watchLK, watchReport } from '../../simulators/fleet/facts.js';

export function trafficFor(deviceId: string, k: number, frames = 2000): Buffer {
  const out: Buffer[] = [];
  const [lat, lon] = positionOf(k);
  for (let j = 0; j < frames; j++) {
    const m = j % 5;
    if (m === 0 || m === 3) out.push(watchLK(deviceId, j, 80));
    else if (m === 1 || m === 4) out.push(watchFrame(deviceId, watchReport('UD', lat, lon, 80, j, WATCH_STATUS.worn)));
    else out.push(watchHealth(deviceId, 120, 80, 72));
  }
  return Buffer.concat(out);
}

/** Starts blasting; call the returned stop() to end it. Returns the average frame size too. */
export async function blast(port: number, conns: number, idOf: (k: number) => string): Promise<{ stop(): void; frameBytes: number }> {
  let running = true;
  const sockets: Socket[] = [];
  let bytes = 0;
  let frames = 0;
  for (let k = 0; k < conns; k++) {
    const buf = trafficFor(idOf(k), k);
    bytes += buf.length;
    frames += 2000;
    const s = connect(port, '127.0.0.1');
    sockets.push(s);
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.once('connect', () => r()));
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
