import { join } from 'node:path';
import { ROOT } from '../paths.js';
import { runner } from 'node-pg-migrate';

/** Always the SQL files in the sources (the compiled tree has no copy of them). */
export const MIGRATIONS_DIR = join(ROOT, 'gateway', 'store', 'migrations');

/**
 * Applies pending migrations; a second run is a no-op. Returns the names applied. Nodes of a cluster that start
 * together wait for each other's migration (the advisory lock's `wait` mode) instead of failing to start.
 */
export async function migrate(databaseUrl: string, log: (msg: string) => void = () => undefined): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    log,
    logger: { debug: () => undefined, info: log, warn: log, error: log },
  });
  return applied.map((m) => m.name);
}
