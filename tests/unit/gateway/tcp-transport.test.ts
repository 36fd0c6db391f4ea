import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../gateway/metrics.js';
import { TcpTransport } from '../../../gateway/transports/tcp.js';
import type { Device } from '../../../gateway/store/devices.js';
import { watchProtocol } from '../../../protocols/watch/index.js';

const device = { id: 1, identifier: '8800000015', protocol: 'watch', elderId: null } as Device;
let t: TcpTransport | undefined;
afterEach(async () => t?.stop(10));

async function open(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  return s;
}
const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

function transport(o: Partial<{ idleTimeoutS: number; maxConnections: number; badFrameLimit: number }> = {}) {
  const metrics = createMetrics();
  t = new TcpTransport(
    watchProtocol,
    { host: '127.0.0.1', port: 0, idleTimeoutS: 60, maxConnections: 100, badFrameLimit: 10, ...o },
    { handle: async () => ({ ok: true, device }) },
    metrics,
    pino({ level: 'silent' }),
  );
  return { t, metrics };
}

describe('TcpTransport', () => {
  it('closes an idle connection', async () => {
    const { t, metrics } = transport({ idleTimeoutS: 0.2 });
    await t.start();
    const s = await open(t.port);
    await closed(s);
    expect((await metrics.registry.getSingleMetricAsString('anxin_connections_closed_total'))).toContain('reason="idle"');
  });

  it('refuses connections beyond the limit once every connection is identified', async () => {
    const { t, metrics } = transport({ maxConnections: 1 });
    await t.start();
    const a = await open(t.port);
    const lk = new Promise((r) => a.once('data', r));
    a.write('[3G*8800000015*0002*LK]');
    await lk;
    const b = await open(t.port);
    await closed(b);
    expect(a.destroyed).toBe(false);
    expect(await metrics.registry.getSingleMetricAsString('anxin_connections_refused_total')).toContain('reason="max_connections"');
    a.destroy();
  });

  it('binds the connection after the first valid frame and replies', async () => {
    const { t } = transport();
    await t.start();
    const s = await open(t.port);
    const reply = new Promise<string>((r) => s.once('data', (d) => r(d.toString())));
    s.write('[3G*8800000015*0002*LK]');
    expect(await reply).toBe('[3G*8800000015*0002*LK]');
    expect(t.sessions.has('8800000015')).toBe(true);
    s.destroy();
  });

  it('survives random bytes: nothing a device sends throws', async () => {
    const { t } = transport({ badFrameLimit: 1_000_000 });
    await t.start();
    const s = await open(t.port);
    for (let i = 0; i < 200; i++) s.write(Buffer.concat([randomBytes(64), Buffer.from('[3G*1*0002*'), randomBytes(32), Buffer.from(']')]));
    // An unclosed '[' in the noise may hold the rest of this stream until the 64 KiB cap: overflow it.
    s.write(Buffer.alloc(70 * 1024, 0x41));
    await new Promise((r) => setTimeout(r, 100));
    const reply = new Promise<string>((r) => s.on('data', (d) => d.toString().includes('*LK]') && r(d.toString())));
    s.write(']]][3G*8800000015*0002*LK]');
    expect(await reply).toContain('[3G*8800000015*0002*LK]');
    s.destroy();
  });
});
