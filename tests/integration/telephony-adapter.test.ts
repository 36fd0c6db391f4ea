/**
 * telephony/ari.ts against the simulated Asterisk, through the real ari-client: connect, the 401 traps,
 * recovered HTTP statuses, process-wide credentials, unknown event types, and the health state across
 * WebSocket drops and Asterisk restarts.
 */
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.ts';
import { AriAdapter, AriError, channelIdFor, createTelephony, type AriHealth } from '../../telephony/index.ts';
import type { AriEvent, UnknownAriEvent } from '../../telephony/ari.ts';
import { startAriProxy } from '../helpers/ari-proxy.ts';
import { memoryPorts, waitFor } from '../helpers/telephony-memory.ts';

const APP = 'anxin-adapter';
/** The `ws` that ari-client itself loads (its own copy). */
const ariClientWebSocket = createRequire(createRequire(import.meta.url).resolve('ari-client'))('ws') as { prototype: { terminate(): void } };
let sim: AsteriskSim;
const adapters: AriAdapter[] = [];

function adapter(o: Partial<ConstructorParameters<typeof AriAdapter>[0]> = {}): AriAdapter {
  const a = new AriAdapter({ url: sim.url, username: sim.username, password: sim.password, app: APP, reconnect: { minDelayMs: 50, maxDelayMs: 400 }, ...o });
  adapters.push(a);
  return a;
}

async function rejection(p: Promise<unknown>): Promise<AriError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AriError);
    return err as AriError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  sim = await startAsteriskSim({
    port: 0,
    timeScale: 0.1,
    app: APP,
    directory: [
      { match: '13900139000', action: 'busy' },
      { match: '13800138000', action: 'answer', answerAfter: 1 },
    ],
  });
});

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.stop()));
  await waitFor(() => !sim.apps().includes(APP), 2000, 'app unregistered after stop');
  sim.reset();
});

afterAll(async () => {
  await sim?.stop();
});

describe('connect and credentials', () => {
  it('connects with ari-client, registers the app, reports up', async () => {
    const a = adapter();
    const ups: AriHealth[] = [];
    a.on('up', (h) => ups.push(h));
    expect(a.health()).toMatchObject({ state: 'telephony_down', reason: 'not started' });
    await a.start();
    expect(a.health().state).toBe('up');
    expect(ups).toHaveLength(1);
    expect(sim.apps()).toContain(APP);
    const info = await a.info();
    expect(info).toHaveProperty('system');
  });

  it('a wrong password is a clear 401 error, not an uncaught exception; health says why', async () => {
    const a = adapter({ password: 'wrong' });
    const downs: AriHealth[] = [];
    a.on('down', (h) => downs.push(h));
    const err = await rejection(a.start());
    expect(err.code).toBe('auth');
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/401/);
    expect(err.message).toMatch(/user 'anxin'/);
    const h = a.health();
    expect(h.state).toBe('telephony_down');
    expect(h.state === 'telephony_down' && h.reason).toMatch(/401/);
    expect(downs).toHaveLength(1);
    expect(sim.apps()).not.toContain(APP);
  });

  it('a 401 on the api-docs (after the probe passed) rejects connect instead of crashing the process', async () => {
    const proxy = await startAriProxy(sim.url, { apiDocsStatus: 401 });
    try {
      const a = adapter({ url: proxy.url });
      const err = await rejection(a.start());
      expect(err.code).toBe('auth');
      expect(err.status).toBe(401);
      expect(a.health().state).toBe('telephony_down');
    } finally {
      await proxy.close();
    }
  });

  it('two adapters with different credentials in one process each use their own (process-wide swagger auth)', async () => {
    const other = await startAsteriskSim({ port: 0, timeScale: 0.1, app: 'other-app', username: 'second', password: 'secret-2', directory: [{ match: '13900139000', action: 'busy' }] });
    try {
      const a = adapter();
      const b = adapter({ url: other.url, username: 'second', password: 'secret-2', app: 'other-app' });
      await a.start();
      await b.start(); // b's connect installed its credentials last
      for (let i = 0; i < 3; i++) {
        const [ia, ib] = await Promise.all([a.info(), b.info()]);
        expect(ia).toHaveProperty('system');
        expect(ib).toHaveProperty('system');
      }
      const busyA = new Promise<AriEvent>((r) => a.on('ChannelDestroyed', r));
      const busyB = new Promise<AriEvent>((r) => b.on('ChannelDestroyed', r));
      await a.originate({ idempotencyKey: 'cred-a', endpoint: 'PJSIP/13900139000@trunk' });
      await b.originate({ idempotencyKey: 'cred-b', endpoint: 'PJSIP/13900139000@trunk' });
      expect((await busyA).type).toBe('ChannelDestroyed');
      expect((await busyB).type).toBe('ChannelDestroyed');
      expect(sim.requestLog().filter((r) => r.status === 401 && !r.url.endsWith('resources.json'))).toEqual([]);
      expect(other.requestLog().filter((r) => r.status === 401 && !r.url.endsWith('resources.json'))).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});

describe('REST errors keep their HTTP status', () => {
  it('404, 400, 409 and 412 are told apart; a missing channel is undefined / false', async () => {
    const a = adapter();
    await a.start();
    expect(await a.getChannel('nope')).toBeUndefined();
    expect(await a.hangup('nope')).toBe(false);
    const e404 = await rejection(a.answer('nope'));
    expect([e404.code, e404.status, e404.ariMessage]).toEqual(['http', 404, 'Channel not found']);

    const bridge = await a.createBridge({ bridgeId: 'br-errors' });
    // addChannel answers 400 "Channel not found" (a message-text table would guess 404)
    const e400 = await rejection(a.addToBridge(bridge.id, ['nope']));
    expect([e400.status, e400.ariMessage]).toEqual([400, 'Channel not found']);

    // originated, not answered yet: not in Stasis → 409
    const ringing = await a.originate({ idempotencyKey: 'err-409', endpoint: 'PJSIP/13800138000@trunk', timeoutS: -1 });
    const e409 = await rejection(a.answer(ringing.id));
    expect([e409.status, e409.ariMessage]).toEqual([409, 'Channel not in Stasis application']);

    // created (in Stasis, state Down), not dialled: 412
    const created = await a.createChannel({ idempotencyKey: 'err-412', endpoint: 'PJSIP/13800138000@trunk' });
    const e412 = await rejection(a.answer(created.id));
    expect([e412.status, e412.ariMessage]).toEqual([412, 'Channel in invalid state']);

    // Allocation failed (500, key "error")
    const e500 = await rejection(a.originate({ idempotencyKey: 'err-500', endpoint: 'Bogus/1' }));
    expect([e500.status, e500.ariMessage]).toEqual([500, 'Allocation failed']);

    expect(await a.hangup(ringing.id, 'no_answer')).toBe(true);
    expect(await a.hangup(created.id)).toBe(true);
    expect(await a.destroyBridge(bridge.id)).toBe(true);
    expect(await a.destroyBridge(bridge.id)).toBe(false);
  });

  it('the same idempotency key is never originated twice; a live duplicate channel id gets code duplicate', async () => {
    const a = adapter();
    await a.start();
    const ch = await a.originate({ idempotencyKey: 'dup-key', endpoint: 'PJSIP/13800138000@trunk', timeoutS: -1 });
    expect(ch.id).toBe(channelIdFor('dup-key'));
    expect((await rejection(a.originate({ idempotencyKey: 'dup-key', endpoint: 'PJSIP/13800138000@trunk' }))).code).toBe('duplicate');
    // another key, but the id of the live channel: Asterisk's 409 becomes 'duplicate'
    const e = await rejection(a.originate({ idempotencyKey: 'dup-key-2', channelId: ch.id, endpoint: 'PJSIP/13800138000@trunk' }));
    expect([e.code, e.status]).toEqual(['duplicate', 409]);
    expect(sim.originateLog().filter((o) => o.channelId === ch.id && o.dialed)).toHaveLength(1);
    await a.hangup(ch.id);
  });

  it('a REST call while telephony is down fails at once with code down (nothing sent)', async () => {
    const a = adapter();
    const e = await rejection(a.originate({ idempotencyKey: 'down-1', endpoint: 'PJSIP/13800138000@trunk' }));
    expect(e.code).toBe('down');
    expect(sim.originateLog()).toHaveLength(0);
  });
});

describe('events', () => {
  it('decodes typed events; an event type unknown to the adapter is reported, not a crash', async () => {
    const proxy = await startAriProxy(sim.url);
    try {
      const a = adapter({ url: proxy.url });
      const unknown: UnknownAriEvent[] = [];
      const destroyed: AriEvent[] = [];
      a.on('unknown', (u) => unknown.push(u));
      a.on('ChannelDestroyed', (e) => destroyed.push(e));
      await a.start();
      await waitFor(() => proxy.clients() === 1, 2000, 'proxied event socket');
      proxy.inject(JSON.stringify({ type: 'ChannelToneDetected', timestamp: '2024-05-01T10:15:30.123+0200', channel: { id: 'x' }, application: APP }));
      proxy.inject(JSON.stringify({ type: 'EndpointStateChange', endpoint: { technology: 'PJSIP', resource: '8001', state: 'online' }, application: APP }));
      proxy.inject('not json');
      proxy.inject(JSON.stringify({ type: 'ChannelDestroyed', cause: 16, cause_txt: 'Normal Clearing', channel: { name: 'no id' } }));
      await waitFor(() => unknown.length === 4, 2000, 'unknown events');
      expect(unknown.map((u) => u.type)).toEqual(['ChannelToneDetected', 'EndpointStateChange', '', 'ChannelDestroyed']);
      expect(unknown[3]?.reason).toMatch(/channel id/);
      // still working: a real call's events arrive typed
      await a.originate({ idempotencyKey: 'after-unknown', endpoint: 'PJSIP/13900139000@trunk' });
      const d = await waitFor(() => destroyed[0], 3000, 'ChannelDestroyed');
      expect(d.type === 'ChannelDestroyed' && d.cause).toBe(17);
      expect(a.health().state).toBe('up');
    } finally {
      await proxy.close();
    }
  });
});

describe('health and reconnection', () => {
  it('a dropped event WebSocket gives telephony_down, then up again by itself, with the app registered once', async () => {
    const a = adapter();
    const seen: string[] = [];
    a.on('up', () => seen.push('up'));
    a.on('down', (h) => seen.push(`down:${h.state === 'telephony_down' ? h.reason : ''}`));
    await a.start();
    // ari-client's own event sockets (its own copy of ws): the adapter aborts those a retired client opens
    const aborted = vi.spyOn(ariClientWebSocket.prototype, 'terminate');
    try {
      sim.disconnectEvents();
      await waitFor(() => seen.length >= 3, 5000, 'down then up');
      expect(seen[0]).toBe('up');
      expect(seen[1]).toMatch(/^down:event WebSocket closed/);
      expect(seen[2]).toBe('up');
      expect(sim.apps()).toEqual([APP]);
      // ari-client's own retry of the retired client (100 ms after the drop) must not steal the app later:
      // once it has run and its socket has been aborted, nothing is left to retry.
      await waitFor(() => aborted.mock.calls.length > 0, 3000, "the retired client's retry");
    } finally {
      aborted.mockRestore();
    }
    expect(a.health().state).toBe('up');
    expect(sim.eventLog().filter((e) => e.event.type === 'ApplicationReplaced')).toEqual([]);
  });

  it('another connection taking the Stasis app over gives telephony_down without a fight over the app', async () => {
    const a = adapter();
    const b = adapter();
    await a.start();
    await b.start();
    await waitFor(() => a.health().state === 'telephony_down', 3000, 'a down');
    const h = a.health();
    expect(h.state === 'telephony_down' && h.reason).toMatch(/taken over/);
    await new Promise((r) => setTimeout(r, 500));
    expect(a.health().state).toBe('telephony_down');
    expect(b.health().state).toBe('up');
    expect(sim.eventLog().filter((e) => e.event.type === 'ApplicationReplaced')).toHaveLength(1);
  });

  it('stopping Asterisk gives telephony_down; restarting it brings up back by itself, and a call works after', async () => {
    const port = sim.port;
    const m = memoryPorts();
    const failedAttempts: unknown[] = [];
    const log = { debug: (o: object, msg?: string) => msg?.includes('reconnect attempt failed') && failedAttempts.push(o), info() {}, warn() {}, error() {} };
    const tel = createTelephony({
      url: sim.url,
      username: sim.username,
      password: sim.password,
      app: APP,
      trunkTemplate: 'PJSIP/{number}@trunk',
      agentTemplate: 'PJSIP/{ext}',
      redDid: '96110',
      greenDid: '96120',
      ports: m.ports,
      log,
      timeScale: 0.1,
      ari: { reconnect: { minDelayMs: 20, maxDelayMs: 80 }, requestTimeoutMs: 1000 },
    });
    const seen: string[] = [];
    tel.on('up', () => seen.push('up'));
    tel.on('down', () => seen.push('down'));
    await tel.start();
    try {
      expect(tel.health().state).toBe('up');
      await sim.stop();
      await waitFor(() => tel.health().state === 'telephony_down', 3000, 'telephony_down');
      // More failed attempts than ari-client's 10 before it gives up for good: the adapter's own loop has no limit.
      await waitFor(() => failedAttempts.length > 12, 10_000, 'more than 10 failed reconnect attempts');
      const h = tel.health();
      expect(h.state === 'telephony_down' && h.reason).toMatch(/not reachable/);
      const refused = await tel.callback({ idempotencyKey: 'while-down', number: '13800138000' });
      const r0 = await refused.done;
      expect(r0.status).toBe('not_reached');
      expect(r0.elder?.outcome).toBe('failed');

      sim = await startAsteriskSim({ port, timeScale: 0.1, app: APP, directory: [{ match: '13800138000', action: 'answer', answerAfter: 1 }] });
      expect(await tel.waitUntilUp(5000)).toBe(true);
      expect(seen).toEqual(['up', 'down', 'up']);
      const t = await tel.callback({ idempotencyKey: 'after-restart', number: '13800138000' });
      const r = await t.done;
      expect(r.status).toBe('completed');
      expect(r.elder?.outcome).toBe('answered');
      expect(sim.originateLog().filter((o) => o.dialed)).toHaveLength(1);
    } finally {
      await tel.stop();
    }
  });

  it('a call in progress when Asterisk restarts (state lost without events) ends as lost', async () => {
    const m = memoryPorts();
    const tel = createTelephony({
      url: sim.url,
      username: sim.username,
      password: sim.password,
      app: APP,
      trunkTemplate: 'PJSIP/{number}@trunk',
      agentTemplate: 'PJSIP/{ext}',
      redDid: '96110',
      greenDid: '96120',
      ports: m.ports,
      timeScale: 0.1,
      ari: { reconnect: { minDelayMs: 50, maxDelayMs: 300 } },
    });
    await tel.start();
    try {
      sim.directory.add({ match: '13700137000', action: 'answer', answerAfter: 0.5 });
      const t = await tel.callback({ idempotencyKey: 'lost-call', number: '13700137000', greeting: Array(8).fill('sound:hello-world') });
      await waitFor(() => m.calls.byFlow(t.callId)[0]?.answeredAt, 3000, 'answered');
      await sim.restart();
      const r = await t.done;
      expect(r.elder?.outcome).toBe('lost');
      const rec = m.calls.byFlow(t.callId)[0];
      expect(rec?.end).toMatchObject({ outcome: 'lost', cause: null });
      expect(tel.health().state).toBe('up');
    } finally {
      await tel.stop();
    }
  });
});
