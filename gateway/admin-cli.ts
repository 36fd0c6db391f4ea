/**
 * Administration from the server's own shell, for when nobody can log in any more (issue 20):
 *
 *   npm run admin -- reset-password USERNAME                 # prints a new random password, once
 *   npm run admin -- reset-password USERNAME --password PW   # or sets the one given (at least 8 characters)
 *   printf %s "$NEW_PW" | npm run admin -- reset-password USERNAME --password-stdin
 *   npm run admin -- users                                   # who can log in, with their roles
 *   npm run admin -- add-user USERNAME --role wallboard      # a new user (a random password printed once), e.g. the wall's kiosk
 *
 * It reaches the database the server uses: DATABASE_URL when set, otherwise the embedded PostgreSQL in DATA_DIR (the
 * running server's, over its loopback port and DATA_DIR/pg.password; when no server runs, it starts the cluster for
 * the moment and stops it again). The password is hashed with the server's own argon2id code (gateway/passwords.ts),
 * every session of the user ends (their dashboards are logged out at their next request), and audit_log records it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.js';
import { hashPassword } from './passwords.js';
import { redactUrl } from './redact.js';
import { audit } from './store/audit.js';
import { createPool, ping, type Db } from './store/db.js';
import { ROLES, createUser, deleteUserSessions, getUserWithHash, listUsers, updateUser, type Role } from './store/users.js';

const USAGE = `usage: npm run admin -- reset-password USERNAME [--password PW | --password-stdin]
       npm run admin -- users
       npm run admin -- add-user USERNAME --role ROLE [--name NAME] [--password PW | --password-stdin]
       npm run admin -- --help
  reset-password  gives USERNAME a new password (a random one is printed once; --password PW or --password-stdin
                  sets yours, at least 8 characters), ends every session of the user and writes audit_log.
  users           lists the users (id, username, role, disabled).
  add-user        creates a user with ROLE (agent, supervisor, installer, admin, or wallboard: the wall screen's
                  kiosk account) and a random password printed once, or yours; writes audit_log.
  The database is DATABASE_URL, or the embedded PostgreSQL in DATA_DIR (default ./data): the running server's, or
  started for the moment when no server runs. Use the same DATA_DIR / DATABASE_URL / EMBEDDED_PG_PORT as the server.`;

const ACTOR = 'cli:admin';

class UsageError extends Error {}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        password: { type: 'string' },
        'password-stdin': { type: 'boolean', default: false },
        role: { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The database: DATABASE_URL, the running server's embedded cluster, or the embedded cluster started here. */
async function openDb(cfg: Config): Promise<{ db: Db; where: string; close: () => Promise<void> }> {
  if (cfg.databaseUrl) {
    const db = createPool(cfg.databaseUrl, 2);
    return { db, where: redactUrl(cfg.databaseUrl), close: () => db.end() };
  }
  const dir = resolve(join(cfg.dataDir, 'pg'));
  const passwordFile = `${dir}.password`;
  if (!existsSync(join(dir, 'PG_VERSION')) || !existsSync(passwordFile)) {
    throw new Error(`no Anxin database in ${dir}: start Anxin once (npm start) with this DATA_DIR, or set DATABASE_URL`);
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  const url = `postgres://anxin:${encodeURIComponent(password)}@127.0.0.1:${cfg.embeddedPgPort}/anxin`;
  const probe = createPool(url, 1);
  const running = await ping(probe).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') return false;
      throw new Error(`embedded PostgreSQL on 127.0.0.1:${cfg.embeddedPgPort} answered but refused us (${e.message}): is EMBEDDED_PG_PORT the server's, and DATA_DIR=${cfg.dataDir} its data directory?`);
    },
  ).finally(() => probe.end().catch(() => undefined));
  if (running) {
    const db = createPool(url, 2);
    return { db, where: `the running server's embedded PostgreSQL (${dir})`, close: () => db.end() };
  }
  const { startEmbeddedPg } = await import('./store/embedded.js');
  const emb = await startEmbeddedPg(dir, cfg.embeddedPgPort);
  const db = createPool(emb.url, 2);
  return {
    db,
    where: `the embedded PostgreSQL in ${dir} (started for this command, stopped again)`,
    close: async () => {
      await db.end();
      await emb.stop();
    },
  };
}

async function resetPassword(db: Db, username: string, given: string | undefined): Promise<void> {
  const user = await getUserWithHash(db, username);
  if (!user) {
    const names = (await listUsers(db)).map((u) => u.username);
    throw new Error(`no user ${JSON.stringify(username)}; users: ${names.join(', ') || '(none)'}`);
  }
  const password = given ?? randomBytes(12).toString('base64url');
  await updateUser(db, user.id, { passwordHash: await hashPassword(password) });
  const sessions = await deleteUserSessions(db, user.id);
  await audit(db, ACTOR, 'user_update', `user:${user.id}`, { fields: ['password'], via: 'admin-cli' });
  await audit(db, ACTOR, 'sessions_revoked', `user:${user.id}`, { reason: 'password_reset', sessions });
  if (given === undefined) console.log(`new password for ${user.username}: ${password}`);
  else console.log(`password for ${user.username} set`);
  console.log(`${sessions} session${sessions === 1 ? '' : 's'} ended${user.disabled ? `; note: ${user.username} is disabled (an admin can enable it: PATCH /api/users/${user.id} {"disabled":false})` : ''}`);
}

async function addUser(db: Db, username: string, role: Role, name: string | undefined, given: string | undefined): Promise<void> {
  if (await getUserWithHash(db, username)) throw new Error(`user ${JSON.stringify(username)} exists already (reset-password gives it a new password)`);
  const password = given ?? randomBytes(12).toString('base64url');
  const user = await createUser(db, { username, role, displayName: name?.slice(0, 64), passwordHash: await hashPassword(password) });
  await audit(db, ACTOR, 'user_create', `user:${user.id}`, { role, via: 'admin-cli' });
  console.log(given === undefined ? `new user ${username} (${role}), password: ${password}` : `new user ${username} (${role}) created`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError('a command is needed');
  if (command !== 'reset-password' && command !== 'users' && command !== 'add-user') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (command !== 'add-user' && (values.role !== undefined || values.name !== undefined)) throw new UsageError('--role and --name are for add-user');
  if (command === 'add-user') {
    if (rest.length !== 1 || !/^[A-Za-z0-9_.-]{2,32}$/.test(rest[0]!)) throw new UsageError('add-user needs one USERNAME (2 to 32 of A-Z a-z 0-9 _ . -)');
    if (!ROLES.includes(values.role as Role)) throw new UsageError(`add-user needs --role, one of ${ROLES.join(', ')}`);
    if (values.password !== undefined && values['password-stdin']) throw new UsageError('--password and --password-stdin exclude each other');
  }
  if (command === 'users' && (rest.length || values.password !== undefined || values['password-stdin'])) throw new UsageError('users takes no arguments');
  if (command === 'reset-password') {
    if (rest.length !== 1) throw new UsageError('reset-password needs exactly one USERNAME');
    if (values.password !== undefined && values['password-stdin']) throw new UsageError('--password and --password-stdin exclude each other');
  }
  const given = values['password-stdin'] ? await readStdin() : values.password;
  if (given !== undefined && (given.length < 8 || given.length > 256)) throw new UsageError('the password must be 8 to 256 characters');

  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const conn = await openDb(cfg);
  try {
    console.error(`database: ${conn.where}`);
    if (command === 'users') {
      for (const u of await listUsers(conn.db)) console.log(`${u.id}\t${u.username}\t${u.role}${u.disabled ? '\tdisabled' : ''}`);
    } else if (command === 'add-user') {
      await addUser(conn.db, rest[0]!, values.role as Role, values.name, given);
    } else {
      await resetPassword(conn.db, rest[0]!, given);
    }
  } finally {
    await conn.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`admin: ${(e as Error).message ?? String(e)}`);
    process.exit(1);
  },
);
