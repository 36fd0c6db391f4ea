/**
 * One typed configuration module. Sources, later wins: defaults → optional JSON config file
 * (ANXIN_CONFIG=path) → environment variables. Validated at start with errors a person can act on.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseReceivers, type ReceiverSettings } from './receiver-settings.js';

/** `json`: JSON text in the environment, or JSON itself in the config file; parsed by the setting's own module. */
type Kind = 'string' | 'int' | 'port' | 'url' | 'bool' | 'enum' | 'path' | 'json';

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
  mqttTlsPort: number;
  mqttTlsCert?: string;
  mqttTlsKey?: string;
  mqttMaxPacketBytes: number;
  mqttMaxConnections: number;
  mqttKeepaliveMaxS: number;
  mqttConnectTimeoutS: number;
  mqttMaxUnauthenticatedPerAddress: number;
  mqttIntegrators?: string;
  zigbee2mqttUrl?: string;
  zigbee2mqttPrefix: string;
  zigbee2mqttBridges?: string;
  zigbee2mqttMaxPacketBytes: number;
  watchPort: number;
  watchHost: string;
  watchIdleTimeoutS: number;
  watchMaxConnections: number;
  watchWorkers: number;
  watchFirstFrameTimeoutS: number;
  watchPartialFrameTimeoutS: number;
  watchMaxUnidentifiedPerAddress: number;
  badFrameLimit: number;
  dataDir: string;
  databaseUrl?: string;
  embeddedPgPort: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  adminPassword?: string;
  unknownDeviceLogIntervalS: number;
  commandTtlS: number;
  /** MONITOR (covert listen-in) may be sent to watches; off unless the centre enables it */
  allowMonitorCommand: boolean;
  telemetryFlushMs: number;
  telemetryMaxBuffer: number;
  telemetryBatchSize: number;
  overloadLagMs: number;
  influxUrl?: string;
  influxApi: '1' | '2';
  influxDatabase: string;
  influxRetentionPolicy?: string;
  influxUsername?: string;
  influxPassword?: string;
  influxOrg?: string;
  influxBucket?: string;
  influxToken?: string;
  sessionTtlH: number;
  wrapUpS: number;
  opsToken?: string;
  loginRatePerMin: number;
  agentExtensions: string;
  timezone: string;
  mapTileUrl?: string;
  mapTileAttribution?: string;
  journalDir?: string;
  telephony: 'simulated' | 'ari' | 'off';
  ariUrl?: string;
  ariUsername: string;
  ariPassword: string;
  ariApp: string;
  ariTrunkTemplate: string;
  ariAgentTemplate: string;
  redLineDid: string;
  greenLineDid: string;
  callerId: string;
  areaCode: string;
  simAsteriskPort: number;
  /** alarm receivers on serial lines (RECEIVERS); always an array after loadConfig */
  receivers?: ReceiverSettings[];
}

export const SETTINGS: readonly Setting[] = [
  { env: 'HTTP_HOST', key: 'httpHost', kind: 'string', def: '0.0.0.0', doc: 'Address the HTTP API and dashboard listen on.' },
  { env: 'HTTP_PORT', key: 'httpPort', kind: 'port', def: 8080, doc: 'Port of the HTTP API, /docs, /healthz, /metrics and the dashboard.' },
  { env: 'MQTT_HOST', key: 'mqttHost', kind: 'string', def: '0.0.0.0', doc: 'Address the embedded aedes MQTT broker listens on.' },
  { env: 'MQTT_PORT', key: 'mqttPort', kind: 'port', def: 1883, doc: 'Port of the embedded MQTT broker.' },
  { env: 'MQTT_TLS_PORT', key: 'mqttTlsPort', kind: 'port', def: 8883, doc: 'Port of MQTT over TLS; it listens only when MQTT_TLS_CERT and MQTT_TLS_KEY are set.' },
  { env: 'MQTT_TLS_CERT', key: 'mqttTlsCert', kind: 'path', doc: 'PEM certificate (chain) for MQTT over TLS. Set together with MQTT_TLS_KEY.' },
  { env: 'MQTT_TLS_KEY', key: 'mqttTlsKey', kind: 'path', doc: 'PEM private key for MQTT over TLS.' },
  { env: 'MQTT_MAX_PACKET_BYTES', key: 'mqttMaxPacketBytes', kind: 'int', def: 65536, min: 1024, doc: 'Largest MQTT packet a device, integrator or not-yet-logged-in client may send; a larger one closes the connection.' },
  { env: 'MQTT_MAX_CONNECTIONS', key: 'mqttMaxConnections', kind: 'int', def: 10000, min: 1, doc: 'Most concurrent MQTT connections (plain and TLS together); more are refused.' },
  { env: 'MQTT_KEEPALIVE_MAX_S', key: 'mqttKeepaliveMaxS', kind: 'int', def: 600, min: 10, max: 65535, doc: 'MQTT clients must ask for a keep-alive of 1 s to this; 0 (none) is refused. Silent clients are closed after 1.5 × their keep-alive.' },
  { env: 'MQTT_CONNECT_TIMEOUT_S', key: 'mqttConnectTimeoutS', kind: 'int', def: 10, min: 1, max: 600, doc: 'Close an MQTT connection whose CONNECT packet has not arrived this long after it opened.' },
  { env: 'MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS', key: 'mqttMaxUnauthenticatedPerAddress', kind: 'int', def: 20, min: 1, doc: 'Most MQTT connections from one IP address that have not logged in yet; more are refused (anxin_mqtt_denials_total{reason="unauthenticated_per_address"}). Logged-in clients do not count.' },
  { env: 'MQTT_INTEGRATORS', key: 'mqttIntegrators', kind: 'string', doc: 'Integrator accounts, `name:argon2hash` separated by spaces or `;` (tsx gateway/mqtt-account-cli.ts NAME); they may only read anxin/devices/+/events and anxin/alarms/#.' },
  { env: 'ZIGBEE2MQTT_URL', key: 'zigbee2mqttUrl', kind: 'url', doc: 'External broker to read Zigbee2MQTT from (mqtt://user:pass@host:1883, mqtts://…). Unset: read from bridge accounts on the embedded broker.' },
  { env: 'ZIGBEE2MQTT_PREFIX', key: 'zigbee2mqttPrefix', kind: 'string', def: 'zigbee2mqtt', doc: 'Zigbee2MQTT base topic; device state is read from PREFIX/+.' },
  { env: 'ZIGBEE2MQTT_BRIDGES', key: 'zigbee2mqttBridges', kind: 'string', doc: 'Zigbee2MQTT accounts on the embedded broker, `name:argon2hash` like MQTT_INTEGRATORS; they may publish and subscribe under ZIGBEE2MQTT_PREFIX/#.' },
  { env: 'ZIGBEE2MQTT_MAX_PACKET_BYTES', key: 'zigbee2mqttMaxPacketBytes', kind: 'int', def: 1048576, min: 1024, doc: 'Largest MQTT packet from a bridge account (Zigbee2MQTT publishes its whole device list, a few KB per device).' },
  { env: 'WATCH_HOST', key: 'watchHost', kind: 'string', def: '0.0.0.0', doc: 'Address of the watch (3G/SG/CS/ZJ) TCP server.' },
  { env: 'WATCH_PORT', key: 'watchPort', kind: 'port', def: 5093, doc: 'Port of the watch TCP server.' },
  { env: 'WATCH_IDLE_TIMEOUT_S', key: 'watchIdleTimeoutS', kind: 'int', def: 720, min: 30, doc: 'Close a watch connection silent this long (1.5 × the longest LK interval, 8 min).' },
  { env: 'WATCH_MAX_CONNECTIONS', key: 'watchMaxConnections', kind: 'int', def: 120000, min: 1, doc: 'Most concurrent watch connections. At the cap the oldest connection that has not identified yet is closed to make room; only when every connection is identified are newcomers refused. /healthz shows watch degraded from 90 %.' },
  { env: 'WATCH_WORKERS', key: 'watchWorkers', kind: 'int', def: 0, min: 0, doc: 'Worker processes holding the watch connections (0 = in the gateway process). Each process holds at most its open-files limit of connections; workers multiply that and spread decoding over the cores.' },
  { env: 'WATCH_FIRST_FRAME_TIMEOUT_S', key: 'watchFirstFrameTimeoutS', kind: 'int', def: 30, min: 1, doc: 'Close a watch connection that has not sent a frame from a registered device this long after it opened (watches send LK at once).' },
  { env: 'WATCH_PARTIAL_FRAME_TIMEOUT_S', key: 'watchPartialFrameTimeoutS', kind: 'int', def: 10, min: 1, doc: 'Close a watch connection that holds part of a frame this long without completing a frame (a slow-drip client).' },
  { env: 'WATCH_MAX_UNIDENTIFIED_PER_ADDRESS', key: 'watchMaxUnidentifiedPerAddress', kind: 'int', def: 20, min: 1, doc: 'Most watch connections from one IP address that have not yet sent a frame from a registered device; more are refused. Identified watches do not count, so many watches behind one NAT address are fine once logged in.' },
  { env: 'BAD_FRAME_LIMIT', key: 'badFrameLimit', kind: 'int', def: 10, min: 1, doc: 'Close a device connection after this many bad frames in a row.' },
  { env: 'DATA_DIR', key: 'dataDir', kind: 'path', def: './data', doc: 'Where embedded PostgreSQL and the alarm journal keep their files.' },
  { env: 'DATABASE_URL', key: 'databaseUrl', kind: 'url', doc: 'External PostgreSQL (postgres://user:pass@host:5432/db). Unset: embedded PostgreSQL in DATA_DIR.' },
  { env: 'EMBEDDED_PG_PORT', key: 'embeddedPgPort', kind: 'port', def: 54329, doc: 'Port of the embedded PostgreSQL (loopback only).' },
  { env: 'LOG_LEVEL', key: 'logLevel', kind: 'enum', def: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: 'pino log level.' },
  { env: 'ADMIN_PASSWORD', key: 'adminPassword', kind: 'string', doc: 'Password of the first admin user, created when there are no users. Unset: a random one is printed once at start.' },
  { env: 'UNKNOWN_DEVICE_LOG_INTERVAL_S', key: 'unknownDeviceLogIntervalS', kind: 'int', def: 3600, min: 1, doc: 'An unknown device is logged at most once per this interval.' },
  { env: 'COMMAND_TTL_S', key: 'commandTtlS', kind: 'int', def: 86400, min: 1, doc: 'How long a command for an offline device stays queued.' },
  { env: 'ALLOW_MONITOR_COMMAND', key: 'allowMonitorCommand', kind: 'bool', def: false, doc: 'Allow the watch command MONITOR (the watch silently calls a number back: covert listen-in), admins only and with a reason. Off: refused for everyone.' },
  { env: 'TELEMETRY_FLUSH_MS', key: 'telemetryFlushMs', kind: 'int', def: 1000, min: 10, doc: 'Telemetry batches are flushed at least this often.' },
  { env: 'TELEMETRY_MAX_BUFFER', key: 'telemetryMaxBuffer', kind: 'int', def: 100000, min: 100, doc: 'Bound of the telemetry buffer; beyond it the oldest points are dropped and counted.' },
  { env: 'TELEMETRY_BATCH_SIZE', key: 'telemetryBatchSize', kind: 'int', def: 5000, min: 1, doc: 'Most telemetry points per write (InfluxDB suggests 5,000 lines); a full batch is written at once, without waiting for the flush interval.' },
  { env: 'OVERLOAD_LAG_MS', key: 'overloadLagMs', kind: 'int', def: 500, min: 0, doc: 'Event-loop lag at which routine reports (positions, heartbeats, health readings without alarms) are shed, counted in anxin_shed_messages_total, so alarm frames keep moving; 0 = never shed.' },
  { env: 'INFLUX_URL', key: 'influxUrl', kind: 'url', doc: 'InfluxDB for telemetry (http://host:8086). Unset: telemetry goes to PostgreSQL.' },
  { env: 'INFLUX_API', key: 'influxApi', kind: 'enum', def: '1', values: ['1', '2'], doc: 'InfluxDB API: 1 = 1.x (/write, database and retention policy); 2 = 2.x and 3.x (/api/v2/write, org, bucket and token).' },
  { env: 'INFLUX_DATABASE', key: 'influxDatabase', kind: 'string', def: 'anxin', doc: 'API 1: database for telemetry; created on first write if the user may.' },
  { env: 'INFLUX_RETENTION_POLICY', key: 'influxRetentionPolicy', kind: 'string', doc: "API 1: retention policy to write and read. Unset: the database's default policy." },
  { env: 'INFLUX_USERNAME', key: 'influxUsername', kind: 'string', doc: 'API 1: user, when InfluxDB has auth enabled (needs INFLUX_PASSWORD).' },
  { env: 'INFLUX_PASSWORD', key: 'influxPassword', kind: 'string', doc: 'API 1: password of INFLUX_USERNAME.' },
  { env: 'INFLUX_ORG', key: 'influxOrg', kind: 'string', doc: 'API 2: organisation (required by InfluxDB 2.x, ignored by 3.x).' },
  { env: 'INFLUX_BUCKET', key: 'influxBucket', kind: 'string', doc: 'API 2: bucket (on InfluxDB 3.x: the database). Required with INFLUX_API=2.' },
  { env: 'INFLUX_TOKEN', key: 'influxToken', kind: 'string', doc: 'API 2: API token with write and read access to the bucket. Required with INFLUX_API=2.' },
  { env: 'SESSION_TTL_H', key: 'sessionTtlH', kind: 'int', def: 12, min: 1, doc: 'Dashboard login session lifetime in hours.' },
  { env: 'OPS_TOKEN', key: 'opsToken', kind: 'string', doc: 'When set, /metrics and /docs need `Authorization: Bearer <OPS_TOKEN>`. Unset: they are open to whoever reaches HTTP_HOST (bind it to an inside address, or set this).' },
  { env: 'LOGIN_RATE_PER_MIN', key: 'loginRatePerMin', kind: 'int', def: 30, min: 1, doc: 'Login attempts per minute from one address (429 beyond); failed logins also back off per username (after 3) and per address (after 10): 1 s, 2 s, 4 s … up to 15 min.' },
  { env: 'AGENT_EXTENSIONS', key: 'agentExtensions', kind: 'string', def: '8000-8999', doc: "Free phone extensions any agent may sign in to (签入), as ranges and numbers: `8001-8050,8100`. An extension assigned to a user (PATCH /api/users/:id {extension}) is that user's alone; one signed in by another agent is refused." },
  { env: 'WRAP_UP_S', key: 'wrapUpS', kind: 'int', def: 30, min: 0, max: 3600, doc: 'Wrap-up (话后整理) after an agent resolves an alarm or hangs up ends by itself after this many seconds and the agent is ready again (自动置闲); 0 = at once.' },
  { env: 'TZ_CENTRE', key: 'timezone', kind: 'string', def: 'Asia/Shanghai', doc: 'Time zone of the centre (schedules, greetings, reports).' },
  { env: 'MAP_TILE_URL', key: 'mapTileUrl', kind: 'string', doc: 'Map tiles for the dashboard, a Leaflet URL template (https://tile.example/{z}/{x}/{y}.png). Unset: maps draw positions, tracks and geofences without a base map.' },
  { env: 'MAP_TILE_ATTRIBUTION', key: 'mapTileAttribution', kind: 'string', doc: 'Attribution shown on the map for MAP_TILE_URL (e.g. © OpenStreetMap contributors).' },
  { env: 'JOURNAL_DIR', key: 'journalDir', kind: 'path', doc: 'Alarm journal directory. Unset: DATA_DIR/journal.' },
  { env: 'TELEPHONY', key: 'telephony', kind: 'enum', def: 'simulated', values: ['simulated', 'ari', 'off'], doc: 'simulated: start the built-in Asterisk simulator (the default, clearly labelled); ari: a real Asterisk at ARI_URL (implied when ARI_URL is set); off: no calls.' },
  { env: 'ARI_URL', key: 'ariUrl', kind: 'url', doc: "Asterisk's ARI base URL, e.g. http://pbx:8088. Setting it selects TELEPHONY=ari." },
  { env: 'ARI_USERNAME', key: 'ariUsername', kind: 'string', def: 'anxin', doc: 'ARI user (ari.conf).' },
  { env: 'ARI_PASSWORD', key: 'ariPassword', kind: 'string', def: 'anxin', doc: 'ARI password (ari.conf).' },
  { env: 'ARI_APP', key: 'ariApp', kind: 'string', def: 'anxin', doc: 'Stasis application the dialplan sends calls to.' },
  { env: 'ARI_TRUNK_TEMPLATE', key: 'ariTrunkTemplate', kind: 'string', def: 'PJSIP/{number}@trunk', doc: 'Endpoint for outbound calls to elders and contacts; {number} is replaced.' },
  { env: 'ARI_AGENT_TEMPLATE', key: 'ariAgentTemplate', kind: 'string', def: 'PJSIP/{ext}', doc: "Endpoint of an agent's extension; {ext} is replaced." },
  { env: 'RED_LINE_DID', key: 'redLineDid', kind: 'string', def: '96110', doc: 'The number one-key callers dial with the red (emergency) key.' },
  { env: 'GREEN_LINE_DID', key: 'greenLineDid', kind: 'string', def: '96120', doc: 'The number one-key callers dial with the green (service) key.' },
  { env: 'CALLER_ID', key: 'callerId', kind: 'string', def: '"Anxin" <96110>', doc: 'Caller ID on outbound calls.' },
  { env: 'AREA_CODE', key: 'areaCode', kind: 'string', def: '021', doc: 'Area code added to landline numbers given without one.' },
  { env: 'SIM_ASTERISK_PORT', key: 'simAsteriskPort', kind: 'port', def: 8088, doc: 'Port of the built-in Asterisk simulator (TELEPHONY=simulated).' },
  { env: 'RECEIVERS', key: 'receivers', kind: 'json', doc: 'Alarm receivers (Contact ID) on serial lines, a JSON array: `[{"name":"desk","path":"/dev/ttyUSB0"}]`, optional baudRate, dataBits, parity, stopBits (default 19200 7E1), lineWidth, vendor, heartbeatS (default 30). See "Alarm receivers".' },
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
    case 'json':
      return raw;
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
  problems.push(...telemetryProblems(out as Partial<Config>));
  const receivers = parseReceivers(out.receivers);
  problems.push(...receivers.problems);
  out.receivers = receivers.receivers;
  if (out.ariUrl && !env.TELEPHONY && file.TELEPHONY === undefined && file.telephony === undefined) out.telephony = 'ari';
  if (out.telephony === 'ari' && !out.ariUrl) problems.push('TELEPHONY=ari needs ARI_URL (e.g. http://pbx:8088)');
  if (problems.length) throw new ConfigError(problems);
  return out as unknown as Config;
}

/** Settings that only make sense together. */
function telemetryProblems(c: Partial<Config>): string[] {
  const p: string[] = [];
  // Only for a URL that parsed (else "is not a URL" was said already).
  const scheme = c.influxUrl ? /^([a-z][a-z0-9+.-]*):\/\/[^/]/i.exec(c.influxUrl)?.[1] : undefined;
  if (scheme && !/^https?$/i.test(scheme)) p.push(`INFLUX_URL must be an http:// or https:// URL: ${JSON.stringify(c.influxUrl)}`);
  if (c.influxUrl && c.influxApi === '2') {
    if (!c.influxBucket) p.push('INFLUX_API=2 needs INFLUX_BUCKET (on InfluxDB 3.x: the database name)');
    if (!c.influxToken) p.push('INFLUX_API=2 needs INFLUX_TOKEN (an API token with write and read access to the bucket)');
  }
  if (c.influxUsername && c.influxPassword === undefined) p.push('INFLUX_USERNAME is set but INFLUX_PASSWORD is not');
  if (c.telemetryBatchSize !== undefined && c.telemetryMaxBuffer !== undefined && c.telemetryBatchSize > c.telemetryMaxBuffer) {
    p.push(`TELEMETRY_BATCH_SIZE (${c.telemetryBatchSize}) must not exceed TELEMETRY_MAX_BUFFER (${c.telemetryMaxBuffer})`);
  }
  return p;
}
