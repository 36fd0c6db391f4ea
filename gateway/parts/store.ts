/** Part 1: PostgreSQL (external if DATABASE_URL is set, otherwise embedded in DATA_DIR), migrations, the first admin. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hashPassword } from '../passwords.js';
import { redactUrl } from '../redact.js';
import { ALARM_POOL, createPool, ping, type Db } from '../store/db.js';
import { startEmbeddedPg } from '../store/embedded.js';
import { migrate } from '../store/migrate.js';
import { countUsers, createUser } from '../store/users.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface StorePart extends Part {
  db: Db;
  /**
   * A small pool of its own for committing alarms: a flood that fills the main pool (unknown devices' lookups, fuzzed
   * frames, reports) cannot make an SOS wait for a connection (issue 15; bench fuzz: pool timeouts delayed acks).
   */
  alarmDb: Db;
  databaseUrl: string;
  /** set when a first admin was created with a generated password */
  generatedAdminPassword?: string;
}

export async function startStore({ cfg, log, health, summary }: PartContext): Promise<StorePart> {
  const stops = new Stops(log);
  return stops.starting(async () => {
    let databaseUrl = cfg.databaseUrl;
    if (!databaseUrl) {
      const pgDir = join(cfg.dataDir, 'pg');
      const emb = await startEmbeddedPg(pgDir, cfg.embeddedPgPort, (m) => log.debug({ part: 'embedded-pg' }, m));
      stops.add('embedded-pg', () => emb.stop());
      databaseUrl = emb.url;
      summary.push(`PostgreSQL   embedded   127.0.0.1:${cfg.embeddedPgPort}  data in ${pgDir}`);
    } else {
      summary.push(`PostgreSQL   external   ${redactUrl(databaseUrl)}`);
    }
    const applied = await migrate(databaseUrl, (m) => log.debug({ part: 'migrate' }, m));
    if (applied.length) log.info({ applied }, 'migrations applied');
    const db = createPool(databaseUrl);
    stops.add('pg-pool', () => db.end());
    const alarmDb = createPool(databaseUrl, ALARM_POOL);
    stops.add('pg-alarm-pool', () => alarmDb.end());
    health.register('database', async () => {
      try {
        await ping(db);
        return { state: 'up', mode: cfg.databaseUrl ? 'external' : 'embedded' };
      } catch (e) {
        return { state: 'down', detail: (e as Error).message };
      }
    });

    let generatedAdminPassword: string | undefined;
    if ((await countUsers(db)) === 0) {
      const password = cfg.adminPassword ?? randomBytes(9).toString('base64url');
      if (!cfg.adminPassword) generatedAdminPassword = password;
      await createUser(db, { username: 'admin', displayName: '管理员 Administrator', role: 'admin', passwordHash: await hashPassword(password) });
    }
    return { db, alarmDb, databaseUrl, generatedAdminPassword, stop: () => stops.stop() };
  });
}
