/**
 * Issue 17 item 7: the ARI event WebSocket is pinged, and a missed pong takes health down and reconnects.
 * A TCP proxy between the adapter and Asterisk drops the path silently (no FIN, no RST). Runs against the
 * simulator, and against a real Asterisk when TEST_ARI_URL is set (with CI=true a missing one fails the run).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.ts';
import { AriAdapter, channelIdFor } from '../../telephony/index.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/telephony-memory.ts';

const real = process.env.TEST_ARI_URL;
if (!real && process.env.CI === 'true') throw new Error('CI=true but TEST_ARI_URL is not set (.ci/run starts the real Asterisk)');
if (!real) console.warn('telephony-keepalive: TEST_ARI_URL is not set, running against the simulator only');

interface Target {
  name: string;
  url: string;
  username: string;
  password: string;
  /** An endpoint that answers (StasisStart for an originate to our app). */
  answering: string;
  start?: () => Promise<void>;
  stop?: () => Promise<void>;
}

let sim: AsteriskSim | undefined;
const targets: Target[] = [
  {
    name: 'simulator',
    url: '',
    username: 'anxin',
    password: 'anxin',
    answering: 'PJSIP/13800000001@trunk',
    async start() {
      sim = await startAsteriskSim({ port: 0, timeScale: 0.1, directory: [{ match: '13800000001', action: 'answer', answerAfter: 1 }] });
      this.url = sim.url;
      this.username = sim.username;
      this.password = sim.password;
    },
    stop: async () => sim?.stop(),
  },
];
if (real) targets.push({ name: 'real Asterisk', url: real, username: process.env.TEST_ARI_USERNAME ?? 'anxin', password: process.env.TEST_ARI_PASSWORD ?? 'anxin', answering: 'Local/13800000001@sim-trunk' });

const INTERVAL = 200;

describe.each(targets)('ARI WebSocket keepalive against the $name', (target) => {
  let proxy: TcpProxy;
  const adapters: AriAdapter[] = [];
  beforeAll(async () => {
    await target.start?.();
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.stop()));
    await proxy?.close();
  });
  afterAll(async () => {
    await target.stop?.();
  });

  const adapter = (app: string, keepaliveMs: number) => {
    const a = new AriAdapter({
      url: proxy.url,
      username: target.username,
      password: target.password,
      app: `${app}-${process.pid}`,
      keepalive: { intervalMs: keepaliveMs, timeoutMs: keepaliveMs },
      connectTimeoutMs: 800,
      requestTimeoutMs: 2000,
      reconnect: { minDelayMs: 50, maxDelayMs: 300 },
    });
    adapters.push(a);
    return a;
  };

  it('a silently dropped path takes health down within two intervals; a fresh path brings it up and events flow again', async () => {
    proxy = await startTcpProxy(target.url);
    const a = adapter('anxin-fix-ka', INTERVAL);
    await a.start();
    expect(a.health().state).toBe('up');
    // pongs come back: a healthy path stays up over several intervals
    await new Promise((r) => setTimeout(r, INTERVAL * 5));
    expect(a.health().state).toBe('up');

    proxy.freeze();
    const t0 = Date.now();
    await waitFor(() => a.health().state === 'telephony_down', INTERVAL * 2 + 1500, 'health down after the freeze');
    expect(Date.now() - t0).toBeLessThan(INTERVAL * 2 + 600);
    const h = a.health();
    expect(h.state === 'telephony_down' && h.reason).toMatch(/no pong/);
    // still down while the path is dead (reconnects cannot get through)
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.health().state).toBe('telephony_down');

    proxy.unfreeze();
    expect(await a.waitUntilUp(10_000)).toBe(true);
    const key = `ka-${process.pid}-${Date.now()}`;
    const id = channelIdFor(key);
    const started = new Promise<void>((resolve) => a.on('StasisStart', (e) => e.channel.id === id && resolve()));
    const destroyed = new Promise<void>((resolve) => a.on('ChannelDestroyed', (e) => e.channel.id === id && resolve()));
    await a.originate({ idempotencyKey: key, endpoint: target.answering, appArgs: ['anxin', 'test'], timeoutS: 10 });
    await started;
    await a.hangup(id);
    await destroyed;
  }, 30_000);

  it('without the keepalive the same drop goes unnoticed (what item 7 is about)', async () => {
    proxy = await startTcpProxy(target.url);
    const a = adapter('anxin-fix-noka', 0);
    await a.start();
    proxy.freeze();
    await new Promise((r) => setTimeout(r, INTERVAL * 2 + 800));
    expect(a.health().state).toBe('up');
  }, 20_000);
});
