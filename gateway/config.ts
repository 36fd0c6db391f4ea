/**
 * One typed configuration module. Sources, later wins: defaults → optional JSON config file
 * (ANXIN_CONFIG=path) → environment variables. Validated at start with errors a person can act on.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

type Kind = 'string' | 'int' | 'port' | 'url' | 'bool' | 'enum' | 'path';

interface Setting {
  env: string;
  key: keyof Config;
  kind: Kind;
  def?: string | number | boolean;
  values?: readonly string[];
  min?: number;
  max?: number;
  doc: string;
}

export interface Config {
  httpHost: string;
  httpPort: number;
  mqttPort: number;
  mqttHost: string;
  watchPort: number;
  watchHost: string;
  watchIdleTimeoutS: number;
  watchMaxConnections: number;
  badFrameLimit: number;
  dataDir: string;
  databaseUrl?: string;
  embeddedPgPort: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  adminPassword?: string;
  unknownDeviceLogIntervalS: number;
  commandTtlS: number;
  telemetryFlushMs: number;
  telemetryMaxBuffer: number;
  sessionTtlH: number;
  timezone: string;
  journalDir?: string;
}

export const SETTINGS: readonly Setting[] = [
  { env: 'HTTP_HOST', key: 'httpHost', kind: 'string', def: '0.0.0.0', doc: 'Address the HTTP API and dashboard listen on.' },
  { env: 'HTTP_PORT', key: 'httpPort', kind: 'port', def: 8080, doc: 'Port of the HTTP API, /docs, /healthz, /metrics and the dashboard.' },
  { env: 'MQTT_HOST', key: 'mqttHost', kind: 'string', def: '0.0.0.0', doc: 'Address the embedded aedes MQTT broker listens on.' },
  { env: 'MQTT_PORT', key: 'mqttPort', kind: 'port', def: 1883, doc: 'Port of the embedded MQTT broker.' },
  { env: 'WATCH_HOST', key: 'watchHost', kind: 'string', def: '0.0.0.0', doc: 'Address of the watch (3G/SG/CS/ZJ) TCP server.' },
  { env: 'WATCH_PORT', key: 'watchPort', kind: 'port', def: 5093, doc: 'Port of the watch TCP server.' },
  { env: 'WATCH_IDLE_TIMEOUT_S', key: 'watchIdleTimeoutS', kind: 'int', def: 720, min: 30, doc: 'Close a watch connection silent this long (1.5 × the longest LK interval, 8 min).' },
  { env: 'WATCH_MAX_CONNECTIONS', key: 'watchMaxConnections', kind: 'int', def: 120000, min: 1, doc: 'Most concurrent watch connections; more are refused.' },
  { env: 'BAD_FRAME_LIMIT', key: 'badFrameLimit', kind: 'int', def: 10, min: 1, doc: 'Close a device connection after this many bad frames in a row.' },
  { env: 'DATA_DIR', key: 'dataDir', kind: 'path', def: './data', doc: 'Where embedded PostgreSQL and the alarm journal keep their files.' },
  { env: 'DATABASE_URL', key: 'databaseUrl', kind: 'url', doc: 'External PostgreSQL (postgres://user:pass@host:5432/db). Unset: embedded PostgreSQL in DATA_DIR.' },
  { env: 'EMBEDDED_PG_PORT', key: 'embeddedPgPort', kind: 'port', def: 54329, doc: 'Port of the embedded PostgreSQL (loopback only).' },
  { env: 'LOG_LEVEL', key: 'logLevel', kind: 'enum', def: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: 'pino log level.' },
  { env: 'ADMIN_PASSWORD', key: 'adminPassword', kind: 'string', doc: 'Password of the first admin user, created when there are no users. Unset: a random one is printed once at start.' },
  { env: 'UNKNOWN_DEVICE_LOG_INTERVAL_S', key: 'unknownDeviceLogIntervalS', kind: 'int', def: 3600, min: 1, doc: 'An unknown device is logged at most once per this interval.' },
  { env: 'COMMAND_TTL_S', key: 'commandTtlS', kind: 'int', def: 86400, min: 1, doc: 'How long a command for an offline device stays queued.' },
  { env: 'TELEMETRY_FLUSH_MS', key: 'telemetryFlushMs', kind: 'int', def: 1000, min: 10, doc: 'Telemetry batches are flushed at least this often.' },
  { env: 'TELEMETRY_MAX_BUFFER', key: 'telemetryMaxBuffer', kind: 'int', def: 100000, min: 100, doc: 'Bound of the telemetry buffer; beyond it the oldest points are dropped and counted.' },
  { env: 'SESSION_TTL_H', key: 'sessionTtlH', kind: 'int', def: 12, min: 1, doc: 'Dashboard login session lifetime in hours.' },
  { env: 'TZ_CENTRE', key: 'timezone', kind: 'string', def: 'Asia/Shanghai', doc: 'Time zone of the centre (schedules, greetings, reports).' },
  { env: 'JOURNAL_DIR', key: 'journalDir', kind: 'path', doc: 'Alarm journal directory. Unset: DATA_DIR/journal.' },
];

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function parseValue(s: Setting, raw: unknown, problems: string[]): unknown {
  const shown = JSON.stringify(raw);
  const text = String(raw).trim();
  switch (s.kind) {
    case 'string':
    case 'path':
      if (text === '') problems.push(`${s.env} must not be empty`);
      return s.kind === 'path' ? resolve(text) : text;
    case 'int':
    case 'port': {
      const n = Number(text);
      const min = s.kind === 'port' ? 0 : (s.min ?? Number.MIN_SAFE_INTEGER);
      const max = s.kind === 'port' ? 65535 : (s.max ?? Number.MAX_SAFE_INTEGER);
      if (!/^-?\d+$/.test(text) || n < min || n > max) {
        problems.push(`${s.env} must be ${s.kind === 'port' ? 'a port number 0-65535' : `an integer >= ${min}`}: ${shown}`);
      }
      return n;
    }
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(text)) problems.push(`${s.env} must be true or false: ${shown}`);
      return text === 'true' || text === '1';
    case 'enum':
      if (!s.values!.includes(text)) problems.push(`${s.env} must be one of ${s.values!.join(', ')}: ${shown}`);
      return text;
    case 'url': {
      let ok = false;
      try {
        const u = new URL(text);
        ok = /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) && u.host !== '';
      } catch {
        ok = false;
      }
      if (!ok) problems.push(`${s.env} is not a URL: ${shown}`);
      return text;
    }
  }
}

/** Reads and validates configuration. Throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  let file: Record<string, unknown> = {};
  if (env.ANXIN_CONFIG) {
    try {
      file = JSON.parse(readFileSync(env.ANXIN_CONFIG, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError([`ANXIN_CONFIG file ${JSON.stringify(env.ANXIN_CONFIG)} could not be read as JSON: ${(e as Error).message}`]);
    }
    const known = new Set(SETTINGS.flatMap((s) => [s.env, s.key]));
    for (const k of Object.keys(file)) if (!known.has(k)) problems.push(`unknown setting ${JSON.stringify(k)} in ${env.ANXIN_CONFIG}`);
  }
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const raw = env[s.env] ?? file[s.env] ?? file[s.key] ?? s.def;
    if (raw === undefined || raw === '') continue;
    out[s.key] = parseValue(s, raw, problems);
  }
  if (problems.length) throw new ConfigError(problems);
  return out as unknown as Config;
}
