/**
 * Issue 15: MQTT bad passwords back off. After 5 failures a client id waits (1 s, doubling), and while it waits even
 * the right secret is refused unchecked (CONNACK 5), so a flood costs the broker a map lookup, not a hash. Device
 * secrets are stored as a salted HMAC-SHA-256, never in clear; old argon2 hashes still verify.
 */
import { connect as netConnect } from 'node:net';
import argon2 from 'argon2';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { hashDeviceSecret, verifyDeviceSecret } from '../../gateway/device-secrets.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

let app: App;
let secret: string;
beforeAll(async () => {
  app = await startTestApp();
  const admin = await login(app);
  const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: 'fs-bf', protocol: 'mqtt-json' } });
  secret = r.json().mqttSecret;
});
afterAll(async () => app?.stop());

/** One CONNECT as fs-bf from a loopback address: 0 when accepted, else the CONNACK code. */
const attempt = (password: string, from = '127.0.0.1') =>
  new Promise<number>((resolve) => {
    const c = new mqtt.MqttClient(() => netConnect({ host: '127.0.0.1', port: app.broker.port, localAddress: from }), {
      reconnectPeriod: 0, clientId: 'fs-bf', username: 'fs-bf', password, connectTimeout: 5000, protocolVersion: 4,
    });
    c.once('connect', () => c.end(true, () => resolve(0)));
    c.once('error', (e: Error & { code?: number }) => {
      c.end(true);
      resolve(e.code ?? -1);
    });
  });

describe('MQTT login backoff', () => {
  it('refuses a client id that keeps failing, even with the right secret, until its wait is over', async () => {
    expect(await attempt(secret)).toBe(0);
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push(await attempt(`wrong-${i}`));
    expect(codes).toEqual([4, 4, 4, 4, 4]); // bad user name or password
    expect(await attempt(secret)).toBe(5); // not authorised: backing off, the secret is not even checked
    const metrics = await app.metrics.registry.getSingleMetricAsString('anxin_mqtt_denials_total');
    expect(metrics).toMatch(/reason="auth_backoff"\} [1-9]/);
    // Whoever floods a device's id cannot lock the device out: from its own address the right secret still works.
    expect(await attempt(secret, '127.0.0.3')).toBe(0);
    await until(async () => (await attempt(secret)) === 0, 10_000);
  });

  it('stores device secrets as a salted HMAC and still verifies old argon2 hashes', async () => {
    const row = (await app.db.query(`SELECT mqtt_secret_hash FROM devices WHERE identifier = 'fs-bf'`)).rows[0].mqtt_secret_hash as string;
    expect(row).toMatch(/^hmac-sha256\$[\w-]{22}\$[\w-]{43}$/);
    expect(row).not.toContain(secret);
    expect(await verifyDeviceSecret(row, secret)).toBe(true);
    expect(await verifyDeviceSecret(row, `${secret}x`)).toBe(false);
    expect(hashDeviceSecret(secret)).not.toBe(hashDeviceSecret(secret)); // per-device salt
    const old = await argon2.hash('legacy-secret', { type: argon2.argon2id, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    expect(await verifyDeviceSecret(old, 'legacy-secret')).toBe(true);
    expect(await verifyDeviceSecret(old, 'nope')).toBe(false);
  });
});
