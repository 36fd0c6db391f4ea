/**
 * Issue 15, item 2 for MQTT: connections that have not logged in are limited per address
 * (MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS) and must send CONNECT in time (MQTT_CONNECT_TIMEOUT_S); logged-in
 * clients do not count against the limit.
 */
import { connect, type Socket } from 'node:net';
import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startTestApp } from '../helpers/app.js';
import { metricValue, until } from '../helpers/until.js';

const LIMIT = 5;
const INTEGRATOR = { name: 'city-platform', password: 'integrator-pass-1501' };
let app: App;
const sockets: Socket[] = [];

function open(localAddress: string): Socket {
  const s = connect({ port: app.broker.port, host: '127.0.0.1', localAddress });
  s.on('error', () => undefined);
  sockets.push(s);
  return s;
}
const closed = (s: Socket, ms = 5000) =>
  new Promise<boolean>((r) => {
    if (s.destroyed) return r(true);
    const t = setTimeout(() => r(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      r(true);
    });
  });

const str = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
/** MQTT 3.1.1 CONNECT with username and password, clean session, keep-alive 60 s */
function connectPacket(clientId: string, username: string, password: string): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(clientId), str(username), str(password)]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}
/** Logs in over a raw socket; resolves with the CONNACK return code. */
async function logIn(s: Socket, clientId: string): Promise<number> {
  const ack = new Promise<number>((resolve, reject) => {
    s.once('data', (d: Buffer) => (d[0] === 0x20 ? resolve(d[3]!) : reject(new Error(`not a CONNACK: ${d.toString('hex')}`))));
    s.once('close', () => reject(new Error('closed before CONNACK')));
  });
  s.write(connectPacket(clientId, INTEGRATOR.name, INTEGRATOR.password));
  return ack;
}
const denied = () => metricValue(app.metrics.registry, 'anxin_mqtt_denials_total', 'reason="unauthenticated_per_address"');

beforeAll(async () => {
  // cheap parameters: the test logs in a dozen times and measures nothing about hashing
  const hash = await argon2.hash(INTEGRATOR.password, { memoryCost: 4096, timeCost: 2 });
  app = await startTestApp({ mqttConnectTimeoutS: 1, mqttMaxUnauthenticatedPerAddress: LIMIT }, { MQTT_INTEGRATORS: `${INTEGRATOR.name}:${hash}` });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await app?.stop();
});

describe('MQTT before login', () => {
  it('refuses connections past the per-address limit of not-logged-in clients; other addresses are not affected', async () => {
    const idle = Array.from({ length: LIMIT }, () => open('127.0.0.3'));
    await Promise.all(idle.map((s) => new Promise((r) => s.once('connect', r))));
    const extra = open('127.0.0.3');
    expect(await closed(extra)).toBe(true);
    await until(async () => (await denied()) === 1);
    // another address logs in meanwhile
    expect(await logIn(open('127.0.0.4'), 'other-address')).toBe(0);
    // the idle ones never sent CONNECT: closed after MQTT_CONNECT_TIMEOUT_S (1 s here)
    const t0 = Date.now();
    expect((await Promise.all(idle.map((s) => closed(s)))).every(Boolean)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(4000);
    // and the address may connect again
    expect(await logIn(open('127.0.0.3'), 'after-timeout')).toBe(0);
  });

  it('closes a client that drips its CONNECT byte by byte', async () => {
    const s = open('127.0.0.5');
    await new Promise((r) => s.once('connect', r));
    const packet = connectPacket('slow', INTEGRATOR.name, INTEGRATOR.password);
    let i = 0;
    const drip = setInterval(() => i < packet.length - 1 && !s.destroyed && s.write(packet.subarray(i, ++i)), 200);
    try {
      expect(await closed(s, 4000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
  });

  it('does not count logged-in clients against the limit', async () => {
    for (let i = 0; i < LIMIT + 3; i++) expect(await logIn(open('127.0.0.6'), `integrator-${i}`)).toBe(0);
    const before = await denied();
    const more = open('127.0.0.6');
    await new Promise((r) => more.once('connect', r));
    expect(await logIn(more, 'one-more')).toBe(0);
    expect(await denied()).toBe(before);
  });
});
