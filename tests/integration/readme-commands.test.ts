/**
 * The README's commands, as a newcomer runs them (issue 20): every shell block tagged ```sh readme-test is run with
 * bash, in order, against a fresh server started like `npm start` (embedded PostgreSQL in a new DATA_DIR, the
 * admin password taken from the first-start message). Variables a block sets ($TOKEN, $ELDER, …) carry over to the
 * next blocks; the test provides $BASE and $ADMIN_PW as the README asks the reader to. Each block must exit 0, and
 * every `# prints: TEXT` comment in it must be found in the block's output. Then, with the server stopped,
 * `npm run admin -- reset-password` starts the embedded cluster itself, and the new password logs in after a restart.
 * Every command line named by package.json answers --help (exit 0, a README block) and an unknown option (exit 2, no
 * stack trace).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../testkit/free-port.js';
import { ROOT } from '../helpers/vectors.js';

interface Block {
  line: number;
  script: string;
  prints: string[];
}

/** The tagged blocks, indentation (a block inside a list item) removed. */
export function readmeTestBlocks(readme: string): Block[] {
  const blocks: Block[] = [];
  const re = /^([ \t]*)```sh readme-test[ \t]*\n([\s\S]*?)^\1```[ \t]*$/gm;
  for (let m = re.exec(readme); m; m = re.exec(readme)) {
    const indent = m[1]!.length;
    const script = m[2]!
      .split('\n')
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    const prints = [...script.matchAll(/#\s*prints:\s*(.+?)\s*$/gm)].map((p) => p[1]!);
    blocks.push({ line: readme.slice(0, m.index).split('\n').length, script, prints });
  }
  return blocks;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'anxin-readme-'));
chmodSync(dir, 0o755); // as root, the embedded PostgreSQL runs as `postgres` and must reach its data dir
const stateFile = join(dir, 'shell-state.sh');
let server: ChildProcess | undefined;

afterAll(async () => {
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
    server.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a fresh clone's shell: no DATABASE_URL or other Anxin settings leaking in from the test run. */
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...extra };
}

function startServer(env: Record<string, string>): { proc: ChildProcess; out: () => string } {
  let out = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], { cwd: ROOT, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, out: () => out };
}

async function waitHealthy(port: number, ms: number, out: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server was not healthy within ${ms} ms:\n${out()}`);
}

async function stopServer(): Promise<number | null> {
  const p = server!;
  if (p.exitCode !== null) return p.exitCode;
  const code = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  p.kill('SIGTERM');
  return code;
}

/** Runs one block in bash after the variables earlier blocks left, and keeps the ones it sets for the next. */
function runBlock(block: Block, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const script = [
    'set -euo pipefail',
    `[ -f '${stateFile}' ] && . '${stateFile}'`,
    '__before=$(compgen -v)',
    block.script,
    `for __v in $(compgen -v); do case "$__v" in __*|BASH*|FUNCNAME|PIPESTATUS|_) continue;; esac; grep -qxF "$__v" <<<"$__before" || declare -p "$__v" >> '${stateFile}'; done`,
  ].join('\n');
  const r = spawnSync('bash', ['-c', script], { cwd: ROOT, env: baseEnv(env), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('README commands on a fresh server', () => {
  it('finds the tagged blocks: First steps, the password reset and the --help lines', () => {
    const all = readmeTestBlocks(README).map((b) => b.script).join('\n');
    expect(readmeTestBlocks(README).length).toBeGreaterThanOrEqual(5);
    for (const cmd of ['/api/auth/login', '/api/elders', '/api/devices', '/bind', '/api/agents/me/sign-in', '/api/agents/me/state', 'npm run -s admin -- reset-password', 'npm run -s admin -- --help']) {
      expect(all).toContain(cmd);
    }
  });

  it('runs every tagged block in order against `npm start` (embedded PostgreSQL), then resets a password with the server stopped', async () => {
    const [http, mqtt, watch, gt06, pgPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const serverEnv = {
      DATA_DIR: join(dir, 'data'),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(http),
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqtt),
      WATCH_HOST: '127.0.0.1',
      WATCH_PORT: String(watch),
      GT06_HOST: '127.0.0.1',
      GT06_PORT: String(gt06),
      DC09_TCP_PORT: '0',
      DC09_UDP_PORT: '0',
      SCAIP_SIP_PORT: '0',
      EMBEDDED_PG_PORT: String(pgPort),
      TELEPHONY: 'off',
      LOG_LEVEL: 'warn',
    };
    const first = startServer(serverEnv);
    server = first.proc;
    await waitHealthy(http, 60_000, first.out);
    const printed = /created with password (\S+)/.exec(first.out());
    expect(printed, first.out()).not.toBeNull();
    const shellEnv = { ...serverEnv, BASE: `http://127.0.0.1:${http}`, ADMIN_PW: printed![1]! };

    for (const block of readmeTestBlocks(README)) {
      const r = runBlock(block, shellEnv);
      const where = `README.md line ${block.line}:\n${block.script}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      expect(r.status, where).toBe(0);
      for (const p of block.prints) expect(r.stdout, `${where}\n--- expected to print: ${p}`).toContain(p);
    }

    // The agent's password was reset by the last README block while the server ran: the old one is refused.
    const login = (username: string, password: string) =>
      fetch(`http://127.0.0.1:${http}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    expect((await login('wangfang', 'another-pass-8001')).status).toBe(401);

    // With the server stopped, the admin CLI starts the embedded cluster itself (and stops it again).
    expect(await stopServer()).toBe(0);
    const reset = spawnSync('npm', ['run', '-s', 'admin', '--', 'reset-password', 'admin', '--password-stdin'], {
      cwd: ROOT,
      env: baseEnv(serverEnv),
      input: 'reset-while-stopped\n',
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(reset.status, reset.stdout + reset.stderr).toBe(0);
    expect(reset.stdout).toContain('password for admin set');
    expect(reset.stderr).toContain('started for this command');

    const second = startServer(serverEnv);
    server = second.proc;
    await waitHealthy(http, 60_000, second.out);
    expect((await login('admin', printed![1]!)).status).toBe(401);
    const ok = await login('admin', 'reset-while-stopped');
    expect(ok.status).toBe(200);
    const audit = spawnSync('npm', ['run', '-s', 'admin', '--', 'users'], { cwd: ROOT, env: baseEnv(serverEnv), encoding: 'utf8', timeout: 60_000 });
    expect(audit.status, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/\tadmin\tadmin/);
    expect(audit.stdout).toMatch(/\twangfang\tagent/);
    expect(audit.stderr).toContain("the running server's embedded PostgreSQL");
    expect(await stopServer()).toBe(0);
  }, 600_000);
});

describe('command lines', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const CLIS = ['admin', 'mqtt-account', 'migrate', 'sim:watch', 'sim:gt06', 'sim:fall', 'sim:receiver', 'sim:asterisk', 'api-types', 'prompts', 'bench'];

  it('package.json names every command line the README runs', () => {
    for (const name of CLIS) expect(pkg.scripts[name], name).toBeDefined();
    // no bare `tsx …` command left in the README for a reader to run (npx tsx and npm scripts work; tsx alone does not)
    const bare = README.split('\n').filter((l) => /(^|[\s`(])tsx [a-z]/.test(l) && !/npx tsx|under tsx|--import tsx/.test(l));
    expect(bare).toEqual([]);
  });

  it('each answers an unknown option with one line and the usage, exit 2 and no stack trace (--help: the README block above)', async () => {
    const run = (name: string) =>
      new Promise<{ name: string; code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn('npm', ['run', '-s', name, '--', '--no-such-option'], { cwd: ROOT, env: baseEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('exit', (code) => resolve({ name, code, out, err }));
      });
    const results: Awaited<ReturnType<typeof run>>[] = [];
    const queue = [...CLIS];
    await Promise.all([1, 2, 3].map(async () => {
      for (let name = queue.shift(); name; name = queue.shift()) results.push(await run(name));
    }));
    expect(results.map((r) => r.name).sort()).toEqual([...CLIS].sort());
    for (const bad of results) {
      expect(bad.code, `${bad.name} --no-such-option: ${bad.out}${bad.err}`).toBe(2);
      expect(bad.err.split('\n')[0], bad.name).toMatch(/no-such-option/);
      expect(bad.err, bad.name).toContain('usage: ');
      expect(bad.err, bad.name).not.toMatch(/\n\s+at /); // no stack trace
    }
  }, 120_000);
});
