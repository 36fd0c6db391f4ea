/**
 * Debian's Mosquitto on a free loopback port, for tests and benchmarks: anonymous (the C broker floor), or with
 * Anxin as its authentication and ACL backend through plugins/mosquitto (built here on first use).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
const PLUGIN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'plugins', 'mosquitto');

export interface Mosquitto {
  port: number;
  pid: number;
  /** what it wrote to stderr lately (its log goes there) */
  log(): string;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  bin?: string;
  /** Anxin checks the logins (plugins/mosquitto): its POST /api/mqtt/authn and MQTT_AUTH_TOKEN */
  auth?: { authnUrl: string; token: string };
  /** a fixed port (a restart on the same one); default a free one */
  port?: number;
}

let built: Promise<string> | undefined;

/** Builds plugins/mosquitto once per process; resolves to the .so's path. */
export function buildAuthPlugin(): Promise<string> {
  built ??= (async () => {
    const out = mkdtempSync(join(tmpdir(), 'anxin-mosquitto-plugin-'));
    // run as root, mosquitto drops to its own user before it loads plugins: mkdtemp's 700 would keep it out
    chmodSync(out, 0o755);
    await promisify(execFile)(join(PLUGIN_DIR, 'build.sh'), [out]);
    return join(out, 'anxin_auth.so');
  })();
  return built;
}

export async function startMosquitto(o: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'anxin-mosquitto-'));
  const port = o.port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'max_inflight_messages 0', 'max_queued_messages 100000'];
  if (o.auth) {
    lines.push('allow_anonymous false', `plugin ${await buildAuthPlugin()}`, `plugin_opt_authn_url ${o.auth.authnUrl}`, `plugin_opt_token ${o.auth.token}`, 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice');
  } else {
    lines.push('allow_anonymous true', 'log_dest none');
  }
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(o.bin ?? MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-8000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // polls until it accepts connections; the bound only turns a hang into a readable failure
  for (let k = 0; ; k++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${err}`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1')
        .once('connect', () => (s.destroy(), r(true)))
        .once('error', () => r(false));
    });
    if (ok) break;
    if (k >= 100) throw new Error(`mosquitto did not listen on ${port}: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pid: child.pid ?? 0,
    log: () => err,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
