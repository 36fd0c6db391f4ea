import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../gateway/store/migrate.js';

/** A fresh, empty database on the test server; returns its URL. */
export async function createTestDatabase(prefix = 't'): Promise<string> {
  const admin = inject('pgAdminUrl');
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createMigratedDatabase(prefix = 't'): Promise<string> {
  const url = await createTestDatabase(prefix);
  await migrate(url);
  return url;
}
