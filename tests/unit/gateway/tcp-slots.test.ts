/**
 * TcpTransport slot defences (issue 15): first-frame timeout, partial-frame timeout, the per-address limit
 * on unidentified connections, and eviction of unidentified connections at the cap.
 */
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../gateway/metrics.js';
import type { Device } from '../../../gateway/store/devices.js';
import { TcpTransport, type TcpOptions } from '../../../gateway/transports/tcp.js';
import { watchProtocol } from '../../../protocols/watch/index.js';

const device = { id: 1, identifier: '8800000015', protocol: 'watch', elderId: null } as Device;
let t: TcpTransport | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await t?.stop(10);
});

async function open(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  return s;
}
const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));
const isOpenAfter = async (s: Socket, ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  return !s.destroyed && !s.readableEnded;
};
async function login(s: Socket, id = '8800000015'): Promise<void> {
  const reply = new Promise((r) => s.once('data', r));
  s.write(`[3G*${id}*0002*LK]`);
  await reply;
}

function transport(o: Partial<TcpOptions> = {}) {
  const metrics = createMetrics();
  t = new TcpTransport(
    watchProtocol,
    { host: '127.0.0.1', port: 0, idleTimeoutS: 60, maxConnections: 100, badFrameLimit: 10, ...o },
    { handle: async (msgs) => ({ ok: true, device: { ...device, identifier: msgs[0]!.deviceId } }) },
    metrics,
    pino({ level: 'silent' }),
  );
  const closedFor = async (reason: string) => {
    const v = (await metrics.closed.get()).values.find((x) => x.labels.reason === reason);
    return v?.value ?? 0;
  };
  return { t, metrics, closedFor };
}

describe('TcpTransport slot defences', () => {
  it('closes a connection that sends no frame from a registered device in time; an identified one stays', async () => {
    const { t, closedFor } = transport({ firstFrameTimeoutS: 0.3 });
    await t.start();
    const idle = await open(t.port);
    const watch = await open(t.port);
    await login(watch);
    await closed(idle);
    expect(await closedFor('first_frame_timeout')).toBe(1);
    expect(await isOpenAfter(watch, 400)).toBe(true);
  });

  it('closes a connection that drips a frame byte by byte past the partial-frame timeout', async () => {
    const { t, closedFor } = transport({ partialFrameTimeoutS: 0.4 });
    await t.start();
    const s = await open(t.port);
    await login(s); // identified: only the partial-frame clock can close it
    s.write('[3G*8800000015*');
    const drip = setInterval(() => !s.destroyed && s.write('0'), 50);
    try {
      await closed(s);
    } finally {
      clearInterval(drip);
    }
    expect(await closedFor('partial_frame_timeout')).toBe(1);
  });

  it('keeps a connection whose frames complete, even when reads end mid-frame', async () => {
    const { t } = transport({ partialFrameTimeoutS: 0.3 });
    await t.start();
    const s = await open(t.port);
    await login(s);
    // every 100 ms the end of one frame and the start of the next: bytes always wait, frames keep completing
    s.write('[3G*8800000015*0002*L');
    const tick = setInterval(() => !s.destroyed && s.write('K][3G*8800000015*0002*L'), 100);
    try {
      expect(await isOpenAfter(s, 900)).toBe(true);
    } finally {
      clearInterval(tick);
    }
  });

  it('refuses more unidentified connections from one address than the limit; identified ones do not count', async () => {
    const { t, metrics } = transport({ maxUnidentifiedPerAddress: 3 });
    await t.start();
    const first = await Promise.all([open(t.port), open(t.port), open(t.port)]);
    const fourth = await open(t.port);
    await closed(fourth);
    expect(await metrics.registry.getSingleMetricAsString('anxin_connections_refused_total')).toContain('reason="unidentified_per_address"');
    await login(first[0]!);
    const fifth = await open(t.port);
    expect(await isOpenAfter(fifth, 200)).toBe(true);
    expect(t.unidentifiedCount).toBe(3);
  });

  it('at the cap, evicts the oldest unidentified connection instead of refusing the newcomer', async () => {
    const { t, closedFor } = transport({ maxConnections: 3 });
    await t.start();
    const watch = await open(t.port);
    await login(watch);
    const oldest = await open(t.port);
    await new Promise((r) => setTimeout(r, 20));
    const younger = await open(t.port);
    await new Promise((r) => setTimeout(r, 20));
    const newcomer = await open(t.port);
    await closed(oldest);
    expect(await closedFor('evicted')).toBe(1);
    expect(younger.destroyed).toBe(false);
    await login(newcomer, '8800000016');
    expect(watch.destroyed).toBe(false);
    expect(t.sessions.has('8800000016')).toBe(true);
  });
});
