/**
 * One typed configuration module. Sources, later wins: defaults → optional JSON config file
 * (ANXIN_CONFIG=path) → environment variables. Validated at start with errors a person can act on.
 *
 * One TypeBox schema (`ConfigSchema`) is the single description of every setting: its property is the camelCase
 * key, and its schema carries the environment variable (`env`), how the text is read (`kind`), the default, the
 * rule (`minimum`/`maximum`, `minLength`, the allowed values, the URL format) and the README text
 * (`description`). The `Config` type, the environment parsing, the validation and the problem messages all come
 * from it; `SETTINGS` is the same list flattened for the README check.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FormatRegistry, Type, type Static, type TLiteral, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseReceivers, type ReceiverSettings } from './receiver-settings.js';
import { hotlineSettings } from './hotline-settings.js';
import { resolveSla } from '../workorders/index.js';

/** How a setting's text is read. `json`: JSON text in the environment, or JSON itself in the config file; parsed by the setting's own module. */
type Kind = 'string' | 'int' | 'port' | 'url' | 'bool' | 'enum' | 'path' | 'json';

/** The keys a setting's schema carries beside the JSON Schema keywords. */
interface SettingKeys {
  env: string;
  kind: Kind;
  description: string;
}

/** A URL with a scheme and a host: `htp:/x` and `influx:8086` are not. */
FormatRegistry.Set('anxin-url', (text) => {
  try {
    const u = new URL(text);
    return /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) && u.host !== '';
  } catch {
    return false;
  }
});

const keys = (env: string, kind: Kind, description: string): SettingKeys => ({ env, kind, description });
const string = (env: string, def: string, doc: string) => Type.String({ ...keys(env, 'string', doc), minLength: 1, default: def });
const optString = (env: string, doc: string) => Type.Optional(Type.String({ ...keys(env, 'string', doc), minLength: 1 }));
/** a file or directory, resolved against the working directory */
const path = (env: string, def: string, doc: string) => Type.String({ ...keys(env, 'path', doc), minLength: 1, default: def });
const optPath = (env: string, doc: string) => Type.Optional(Type.String({ ...keys(env, 'path', doc), minLength: 1 }));
const url = (env: string, doc: string) => Type.Optional(Type.String({ ...keys(env, 'url', doc), format: 'anxin-url' }));
const int = (env: string, def: number, range: { minimum: number; maximum?: number }, doc: string) =>
  Type.Integer({ ...keys(env, 'int', doc), ...range, default: def });
const port = (env: string, def: number, doc: string) => Type.Integer({ ...keys(env, 'port', doc), minimum: 0, maximum: 65535, default: def });
const bool = (env: string, def: boolean, doc: string) => Type.Boolean({ ...keys(env, 'bool', doc), default: def });
const oneOf = <const V extends readonly [string, ...string[]]>(env: string, values: V, def: V[number], doc: string) =>
  Type.Union(values.map((v) => Type.Literal(v)) as TLiteral<V[number]>[], { ...keys(env, 'enum', doc), default: def });
/** RECEIVERS: checked by receiver-settings.ts (parseReceivers), which lists its own problems */
const receivers = (env: string, doc: string) => Type.Optional(Type.Unsafe<ReceiverSettings[]>({ ...keys(env, 'json', doc) }));
/** HOTLINE_IVR: checked by hotline-settings.ts (JSON keyed by DID, or a path to such a file) */
const json = (env: string, doc: string) => Type.Optional(Type.Unsafe<unknown>({ ...keys(env, 'json', doc) }));

export const ConfigSchema = Type.Object({
  httpHost: string('HTTP_HOST', '0.0.0.0', 'Address the HTTP API and dashboard listen on.'),
  httpPort: port('HTTP_PORT', 8080, 'Port of the HTTP API, /docs, /healthz, /metrics and the dashboard.'),
  mqttHost: string('MQTT_HOST', '0.0.0.0', 'Address the embedded aedes MQTT broker listens on.'),
  mqttPort: port('MQTT_PORT', 1883, 'Port of the embedded MQTT broker.'),
  mqttTlsPort: port('MQTT_TLS_PORT', 8883, 'Port of MQTT over TLS; it listens only when MQTT_TLS_CERT and MQTT_TLS_KEY are set.'),
  mqttTlsCert: optPath('MQTT_TLS_CERT', 'PEM certificate (chain) for MQTT over TLS. Set together with MQTT_TLS_KEY.'),
  mqttTlsKey: optPath('MQTT_TLS_KEY', 'PEM private key for MQTT over TLS.'),
  mqttMaxPacketBytes: int('MQTT_MAX_PACKET_BYTES', 65536, { minimum: 1024 }, 'Largest MQTT packet a device, integrator or not-yet-logged-in client may send; a larger one closes the connection.'),
  mqttMaxConnections: int('MQTT_MAX_CONNECTIONS', 10000, { minimum: 1 }, 'Most concurrent MQTT connections (plain and TLS together); more are refused.'),
  mqttKeepaliveMaxS: int('MQTT_KEEPALIVE_MAX_S', 600, { minimum: 10, maximum: 65535 }, 'MQTT clients must ask for a keep-alive of 1 s to this; 0 (none) is refused. Silent clients are closed after 1.5 × their keep-alive.'),
  mqttConnectTimeoutS: int('MQTT_CONNECT_TIMEOUT_S', 10, { minimum: 1, maximum: 600 }, 'Close an MQTT connection whose CONNECT packet has not arrived this long after it opened.'),
  mqttMaxUnauthenticatedPerAddress: int('MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS', 20, { minimum: 1 }, 'Most MQTT connections from one IP address that have not logged in yet; more are refused (anxin_mqtt_denials_total{reason="unauthenticated_per_address"}). Logged-in clients do not count.'),
  mqttMaxPendingLogins: int('MQTT_MAX_PENDING_LOGINS', 256, { minimum: 1 }, 'Most MQTT logins checked at once; past it a CONNECT is answered at once with CONNACK 3 (server unavailable) and counted in anxin_mqtt_denials_total{reason="busy"}, so a reconnect storm is paced by the devices\' back-off instead of queueing on the database.'),
  mqttBrokerUrl: url('MQTT_BROKER_URL', 'An external MQTT broker (Mosquitto, EMQX) to use instead of the embedded aedes: mqtt://anxin:PASSWORD@host:1883. The user and password are Anxin\'s own account there; the broker checks every other login with Anxin through POST /api/mqtt/authn (set MQTT_AUTH_TOKEN). Unset: the embedded broker.'),
  mqttAuthToken: optString('MQTT_AUTH_TOKEN', 'Bearer token an external broker sends to POST /api/mqtt/authn and /api/mqtt/authz (Mosquitto through plugins/mosquitto, EMQX through its HTTP authentication). Unset: those routes answer 404.'),
  mqttIntegrators: optString('MQTT_INTEGRATORS', 'Integrator accounts, `name:argon2hash` separated by spaces or `;` (npm run mqtt-account -- NAME; single-quote the value, the hashes contain $); they may only read anxin/devices/+/events and anxin/alarms/#.'),
  zigbee2mqttUrl: url('ZIGBEE2MQTT_URL', 'External broker to read Zigbee2MQTT from (mqtt://user:pass@host:1883, mqtts://…). Unset: read from bridge accounts on the embedded broker.'),
  zigbee2mqttPrefix: string('ZIGBEE2MQTT_PREFIX', 'zigbee2mqtt', 'Zigbee2MQTT base topic; device state is read from PREFIX/+.'),
  zigbee2mqttBridges: optString('ZIGBEE2MQTT_BRIDGES', 'Zigbee2MQTT accounts on the embedded broker, `name:argon2hash` like MQTT_INTEGRATORS; they may publish and subscribe under ZIGBEE2MQTT_PREFIX/#.'),
  zigbee2mqttMaxPacketBytes: int('ZIGBEE2MQTT_MAX_PACKET_BYTES', 1048576, { minimum: 1024 }, 'Largest MQTT packet from a bridge account (Zigbee2MQTT publishes its whole device list, a few KB per device).'),
  watchHost: string('WATCH_HOST', '0.0.0.0', 'Address of the watch (3G/SG/CS/ZJ) TCP server.'),
  watchPort: port('WATCH_PORT', 5093, 'Port of the watch TCP server.'),
  watchIdleTimeoutS: int('WATCH_IDLE_TIMEOUT_S', 720, { minimum: 30 }, 'Close a watch connection silent this long (1.5 × the longest LK interval, 8 min).'),
  watchMaxConnections: int('WATCH_MAX_CONNECTIONS', 120000, { minimum: 1 }, 'Most concurrent watch connections. At the cap the oldest connection that has not identified yet is closed to make room; only when every connection is identified are newcomers refused. /healthz shows watch degraded from 90 %.'),
  watchWorkers: int('WATCH_WORKERS', 0, { minimum: 0 }, 'Worker processes holding the watch connections (0 = in the gateway process). Each process holds at most its open-files limit of connections; workers multiply that and spread decoding over the cores.'),
  watchFirstFrameTimeoutS: int('WATCH_FIRST_FRAME_TIMEOUT_S', 30, { minimum: 1 }, 'Close a watch connection that has not sent a frame from a registered device this long after it opened (watches send LK at once).'),
  watchPartialFrameTimeoutS: int('WATCH_PARTIAL_FRAME_TIMEOUT_S', 10, { minimum: 1 }, 'Close a watch connection that holds part of a frame this long without completing a frame (a slow-drip client).'),
  watchMaxUnidentifiedPerAddress: int('WATCH_MAX_UNIDENTIFIED_PER_ADDRESS', 20, { minimum: 1 }, 'Most watch connections from one IP address that have not yet sent a frame from a registered device; more are refused. Identified watches do not count, so many watches behind one NAT address are fine once logged in.'),
  gt06Host: string('GT06_HOST', '0.0.0.0', 'Address of the GT06 (Concox) tracker TCP server.'),
  gt06Port: port('GT06_PORT', 5023, 'Port of the GT06 tracker TCP server.'),
  gt06IdleTimeoutS: int('GT06_IDLE_TIMEOUT_S', 720, { minimum: 30 }, 'Close a GT06 connection silent this long (trackers send a heartbeat every few minutes).'),
  gt06MaxConnections: int('GT06_MAX_CONNECTIONS', 120000, { minimum: 1 }, 'Most concurrent GT06 connections; at the cap the oldest connection that has not logged in yet is closed to make room.'),
  gt06Workers: int('GT06_WORKERS', 0, { minimum: 0 }, 'Worker processes holding the GT06 connections (0 = in the gateway process), as WATCH_WORKERS for the watch.'),
  gt06FirstFrameTimeoutS: int('GT06_FIRST_FRAME_TIMEOUT_S', 30, { minimum: 1 }, 'Close a GT06 connection that has not logged in as a registered device this long after it opened (trackers log in at once).'),
  gt06PartialFrameTimeoutS: int('GT06_PARTIAL_FRAME_TIMEOUT_S', 10, { minimum: 1 }, 'Close a GT06 connection that holds part of a frame this long without completing a frame.'),
  gt06MaxUnidentifiedPerAddress: int('GT06_MAX_UNIDENTIFIED_PER_ADDRESS', 20, { minimum: 1 }, 'Most GT06 connections from one IP address that have not logged in as a registered device; more are refused.'),
  dc09Host: string('DC09_HOST', '0.0.0.0', 'Address of the SIA DC-09 receiver (IP alarm panels and communicators), TCP and UDP.'),
  dc09TcpPort: port('DC09_TCP_PORT', 5096, 'TCP port of the SIA DC-09 receiver (0 = any free port; no standard port exists, panels are set to this one).'),
  dc09UdpPort: port('DC09_UDP_PORT', 5096, 'UDP port of the SIA DC-09 receiver: one message per datagram, replied to its source address and port.'),
  dc09IdleTimeoutS: int('DC09_IDLE_TIMEOUT_S', 7200, { minimum: 30 }, 'Close a DC-09 TCP connection silent this long. Panels that keep their connection open poll on it; keep this above the longest supervision interval.'),
  dc09MaxConnections: int('DC09_MAX_CONNECTIONS', 20000, { minimum: 1 }, 'Most concurrent DC-09 TCP connections; at the cap newcomers are refused.'),
  deviceKeysFile: optPath('DEVICE_KEYS_FILE', "File with the key that seals devices' symmetric keys (DC-09 AES keys) in the database: 64 hex digits, made with mode 0600 on first start. Unset: DATA_DIR/device-keys.key. Back it up with the database; every node of a cluster needs the same file."),
  scaipHost: string('SCAIP_HOST', '0.0.0.0', 'Address of the SCAIP receiver (social-alarm carephones sending SIP MESSAGE), UDP.'),
  scaipSipPort: port('SCAIP_SIP_PORT', 5070, "UDP port of the SCAIP receiver's SIP endpoint (0 = any free port). Not 5060: Asterisk's PJSIP usually holds that on the same host."),
  scaipAdvertise: optString('SCAIP_ADVERTISE', 'The address put in the Via and From of the <mrs> MESSAGEs sent back to units (default: SCAIP_HOST, or 127.0.0.1 when that is 0.0.0.0). Set it to the address units reach the gateway at.'),
  badFrameLimit: int('BAD_FRAME_LIMIT', 10, { minimum: 1 }, 'Close a device connection after this many bad frames in a row.'),
  dataDir: path('DATA_DIR', './data', 'Where embedded PostgreSQL and the alarm journal keep their files.'),
  databaseUrl: url('DATABASE_URL', 'External PostgreSQL (postgres://user:pass@host:5432/db). Unset: embedded PostgreSQL in DATA_DIR.'),
  embeddedPgPort: port('EMBEDDED_PG_PORT', 54329, 'Port of the embedded PostgreSQL (loopback only).'),
  logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'pino log level.'),
  adminPassword: optString('ADMIN_PASSWORD', 'Password of the first admin user, created when there are no users. Unset: a random one is printed once at start.'),
  unknownDeviceLogIntervalS: int('UNKNOWN_DEVICE_LOG_INTERVAL_S', 3600, { minimum: 1 }, 'An unknown device is logged at most once per this interval.'),
  commandTtlS: int('COMMAND_TTL_S', 86400, { minimum: 1 }, 'How long a command for an offline device stays queued.'),
  allowMonitorCommand: bool('ALLOW_MONITOR_COMMAND', false, 'Allow the watch command MONITOR (the watch silently calls a number back: covert listen-in), admins only and with a reason. Off: refused for everyone.'),
  telemetryFlushMs: int('TELEMETRY_FLUSH_MS', 1000, { minimum: 10 }, 'Telemetry batches are flushed at least this often.'),
  telemetryMaxBuffer: int('TELEMETRY_MAX_BUFFER', 100000, { minimum: 100 }, 'Bound of the telemetry buffer; beyond it the oldest points are dropped and counted.'),
  telemetryBatchSize: int('TELEMETRY_BATCH_SIZE', 5000, { minimum: 1 }, 'Most telemetry points per write (InfluxDB suggests 5,000 lines); a full batch is written at once, without waiting for the flush interval.'),
  overloadLagMs: int('OVERLOAD_LAG_MS', 500, { minimum: 0 }, 'Event-loop lag, or wait in the routine lane, at which routine reports (positions, heartbeats, health readings without alarms) are shed, counted in anxin_shed_messages_total, so alarm frames keep moving; 0 = never shed.'),
  influxUrl: url('INFLUX_URL', 'InfluxDB for telemetry (http://host:8086). Unset: telemetry goes to PostgreSQL.'),
  influxApi: oneOf('INFLUX_API', ['1', '2'], '1', 'InfluxDB API: 1 = 1.x (/write, database and retention policy); 2 = 2.x and 3.x (/api/v2/write, org, bucket and token).'),
  influxDatabase: string('INFLUX_DATABASE', 'anxin', 'API 1: database for telemetry; created on first write if the user may.'),
  influxRetentionPolicy: optString('INFLUX_RETENTION_POLICY', "API 1: retention policy to write and read. Unset: the database's default policy."),
  influxUsername: optString('INFLUX_USERNAME', 'API 1: user, when InfluxDB has auth enabled (needs INFLUX_PASSWORD).'),
  influxPassword: optString('INFLUX_PASSWORD', 'API 1: password of INFLUX_USERNAME.'),
  influxOrg: optString('INFLUX_ORG', 'API 2: organisation (required by InfluxDB 2.x, ignored by 3.x).'),
  influxBucket: optString('INFLUX_BUCKET', 'API 2: bucket (on InfluxDB 3.x: the database). Required with INFLUX_API=2.'),
  influxToken: optString('INFLUX_TOKEN', 'API 2: API token with write and read access to the bucket. Required with INFLUX_API=2.'),
  sessionTtlH: int('SESSION_TTL_H', 12, { minimum: 1 }, 'Dashboard login session lifetime in hours.'),
  opsToken: optString('OPS_TOKEN', 'When set, /metrics and /docs need `Authorization: Bearer <OPS_TOKEN>`. Unset: they are open to whoever reaches HTTP_HOST (bind it to an inside address, or set this).'),
  loginRatePerMin: int('LOGIN_RATE_PER_MIN', 30, { minimum: 1 }, 'Login attempts per minute from one address (429 beyond); failed logins also back off per username (after 3) and per address (after 10): 1 s, 2 s, 4 s … up to 15 min.'),
  agentExtensions: string('AGENT_EXTENSIONS', '8000-8999', "Free phone extensions any agent may sign in to (签入), as ranges and numbers: `8001-8050,8100`. An extension assigned to a user (PATCH /api/users/:id {extension}) is that user's alone; one signed in by another agent is refused."),
  wrapUpS: int('WRAP_UP_S', 30, { minimum: 0, maximum: 3600 }, 'Wrap-up (话后整理) after an agent resolves an alarm or hangs up ends by itself after this many seconds and the agent is ready again (自动置闲); 0 = at once.'),
  timezone: string('TZ_CENTRE', 'Asia/Shanghai', 'Time zone of the centre (schedules, greetings, reports).'),
  mapTileUrl: optString('MAP_TILE_URL', 'Map tiles for the dashboard, a Leaflet URL template (https://tile.example/{z}/{x}/{y}.png). Unset: maps draw positions, tracks and geofences without a base map.'),
  mapTileAttribution: optString('MAP_TILE_ATTRIBUTION', 'Attribution shown on the map for MAP_TILE_URL (e.g. © OpenStreetMap contributors).'),
  alarmCommitThread: bool('ALARM_COMMIT_THREAD', true, 'Commit alarms on a thread of their own, with its own PostgreSQL connections, so a commit never waits behind device traffic on the event loop (issue 25). Off: on the main event loop.'),
  journalDir: optPath('JOURNAL_DIR', 'Alarm journal directory. Unset: DATA_DIR/journal.'),
  redisUrl: url('REDIS_URL', 'Scale-out (several gateway nodes): the Redis they share, e.g. redis://10.0.0.5:6379. Unset: one node, nothing shared but PostgreSQL.'),
  nodeId: optString('NODE_ID', 'This gateway node\'s name in /healthz, /metrics and the device registry. Unset: host name and process id.'),
  nodeUrl: url('NODE_URL', "Scale-out: where the other nodes reach this node's HTTP API (call control is forwarded to the node running telephony), e.g. http://10.0.0.11:8080. Unset: http://HTTP_HOST:HTTP_PORT, or this host's first outside IPv4 address when HTTP_HOST is 0.0.0.0."),
  leaderTakeoverS: int('LEADER_TAKEOVER_S', 10, { minimum: 2, maximum: 300 }, 'Scale-out: within how many seconds another node takes over a singleton (ARI connection, rule engine tick, schedulers, serial receivers) from a node that died.'),
  telephony: oneOf('TELEPHONY', ['simulated', 'ari', 'off'], 'simulated', 'simulated: start the built-in Asterisk simulator (the default, clearly labelled); ari: a real Asterisk at ARI_URL (implied when ARI_URL is set); off: no calls.'),
  ariUrl: url('ARI_URL', "Asterisk's ARI base URL, e.g. http://pbx:8088. Setting it selects TELEPHONY=ari."),
  ariUsername: string('ARI_USERNAME', 'anxin', 'ARI user (ari.conf).'),
  ariPassword: string('ARI_PASSWORD', 'anxin', 'ARI password (ari.conf).'),
  ariApp: string('ARI_APP', 'anxin', 'Stasis application the dialplan sends calls to.'),
  ariTrunkTemplate: string('ARI_TRUNK_TEMPLATE', 'PJSIP/{number}@trunk', 'Endpoint for outbound calls to elders and contacts; {number} is replaced.'),
  ariAgentTemplate: string('ARI_AGENT_TEMPLATE', 'PJSIP/{ext}', "Endpoint of an agent's extension; {ext} is replaced."),
  ariKeepaliveS: int('ARI_KEEPALIVE_S', 10, { minimum: 0, maximum: 300 }, "Ping ARI's event WebSocket this often; no answer within as long again and the connection is dropped and made anew (a silently dead path would otherwise look up while no event arrives). 0 = off."),
  redLineDid: string('RED_LINE_DID', '96110', 'The number one-key callers dial with the red (emergency) key.'),
  greenLineDid: string('GREEN_LINE_DID', '96120', 'The number one-key callers dial with the green (service) key.'),
  callerId: string('CALLER_ID', '"Anxin" <96110>', 'Caller ID on outbound calls.'),
  areaCode: string('AREA_CODE', '021', 'Area code added to landline numbers given without one.'),
  simAsteriskPort: port('SIM_ASTERISK_PORT', 8088, 'Port of the built-in Asterisk simulator (TELEPHONY=simulated).'),
  hotlineDids: optString('HOTLINE_DIDS', 'Hotline numbers (e.g. 12349 and the centre\'s own number), comma-separated, as dialled: their calls are queued to agents (IVR, ACD, overflow). Unset: no hotline. See "Hotline".'),
  hotlineIvr: json('HOTLINE_IVR', 'IVR per hotline number: a JSON object keyed by DID (or a path to a JSON file), each `{"greeting":{"zh-CN":["sound:anxin-hotline-welcome"]},"options":{"1":"emergency","2":"services"},"timeoutS":5}`. A number without an entry goes straight to the queue.'),
  ringTimeoutS: int('RING_TIMEOUT_S', 15, { minimum: 1, maximum: 300 }, "Hotline ACD: an agent's phone rings this long (振铃) before the next agent's rings; the agent who did not answer is set 置忙 (not_ready) with the reason no_answer."),
  queueMaxWaitS: int('QUEUE_MAX_WAIT_S', 120, { minimum: 1, maximum: 3600 }, 'A hotline caller waits at most this long in the queue, then the queue overflows (supervisors alerted, QUEUE_OVERFLOW takes the call); with nobody signed in it overflows at once.'),
  queueOverflow: oneOf('QUEUE_OVERFLOW', ['voicemail', 'night', 'hangup'], 'voicemail', 'Where an overflowing hotline caller goes: voicemail (a stored recording on the call-back list), night (NIGHT_NUMBER, voicemail if not answered) or hangup (a prompt, then hang up).'),
  voicemailMaxS: int('VOICEMAIL_MAX_S', 120, { minimum: 1, maximum: 600 }, 'Longest hotline voicemail (QUEUE_OVERFLOW=voicemail, or a night number that does not answer); the caller may end it earlier with # or by hanging up.'),
  nightNumber: optString('NIGHT_NUMBER', 'The duty phone for QUEUE_OVERFLOW=night, dialled through ARI_TRUNK_TEMPLATE.'),
  publicUrl: url('PUBLIC_URL', "The address staff members' phones reach Anxin at, for the link to the responder's page in a dispatch SMS (e.g. https://anxin.example.org). Unset: http://HTTP_HOST:HTTP_PORT (localhost for 0.0.0.0)."),
  responderLinkTtlH: int('RESPONDER_LINK_TTL_H', 24, { minimum: 1, maximum: 720 }, "How long the link to the responder's page in a dispatch SMS works, in hours."),
  smsTransport: oneOf('SMS_TRANSPORT', ['off', 'smpp', 'modem'], 'off', 'How SMS (短信) go out: smpp (a carrier\'s SMSC: SMPP_HOST, SMPP_PORT, SMPP_SYSTEM_ID, SMPP_PASSWORD, SMS_SOURCE), modem (a GSM modem 短信猫 on MODEM_PATH), or off (messages are stored as failed with reason sms_off).'),
  smppHost: optString('SMPP_HOST', 'SMSC host for SMS_TRANSPORT=smpp.'),
  smppPort: port('SMPP_PORT', 2775, 'SMSC port for SMS_TRANSPORT=smpp.'),
  smppSystemId: optString('SMPP_SYSTEM_ID', 'SMPP system_id (at most 15 characters) the carrier gave the centre.'),
  smppPassword: optString('SMPP_PASSWORD', 'SMPP password (at most 8 characters).'),
  smsSource: string('SMS_SOURCE', '10690000', 'The centre\'s sender number (usually a 106… number the carrier assigns).'),
  modemPath: optString('MODEM_PATH', 'Serial device of the GSM modem for SMS_TRANSPORT=modem, e.g. /dev/serial/by-id/usb-Quectel_EC25-if02-port0.'),
  modemBaud: int('MODEM_BAUD', 115200, { minimum: 1200, maximum: 921600 }, 'Baud rate of the GSM modem.'),
  smsRatePerHour: int('SMS_RATE_PER_HOUR', 10, { minimum: 1, maximum: 1000 }, 'At most this many SMS to one number in an hour; more are stored as suppressed (rate_limited).'),
  smsQuietHours: string('SMS_QUIET_HOURS', '22:00-07:00', 'Local hours (HH:MM-HH:MM, or off) in which only P1 messages to families go at once; their others wait, durably, until the hours end. Staff on duty get theirs at once.'),
  careRingTimeoutS: int('CARE_RING_TIMEOUT_S', 30, { minimum: 5, maximum: 120 }, "A welfare or reminder call rings this long before it counts as not answered (and is retried)."),
  careMaxCalls: int('CARE_MAX_CALLS', 4, { minimum: 1, maximum: 100 }, 'Welfare and reminder calls (平安呼叫) placed at once; the rest of a busy hour waits its turn.'),
  jobPollS: int('JOB_POLL_S', 1, { minimum: 1, maximum: 60 }, 'How often the durable job queue (work orders\' service-level timers) looks for jobs that came due, in seconds.'),
  workOrderSla: json('WORK_ORDER_SLA', 'Service levels of work orders, over the defaults (an emergency accepted within 300 s, else the next on-duty responder gets it, and on site within 1800 s; a service visit accepted within 1800 s and made within 4 h): a JSON object like `{"emergency":{"accept":{"withinS":120,"escalate":true}},"service":{"on_site":null}}`.'),
  recordingRetentionDays: int('RECORDING_RETENTION_DAYS', 90, { minimum: 0, maximum: 36500 }, 'Call recordings and voicemails older than this many days are deleted from Asterisk through ARI; 0 = keep them.'),
  receivers: receivers('RECEIVERS', 'Alarm receivers (Contact ID) on serial lines, a JSON array: `[{"name":"desk","path":"/dev/ttyUSB0"}]`, optional baudRate, dataBits, parity, stopBits (default 19200 7E1), lineWidth, vendor, heartbeatS (default 30). See "Alarm receivers".'),
});

/** The configuration as loadConfig returns it; `receivers` is always an array there. */
export type Config = Static<typeof ConfigSchema>;

interface Setting {
  env: string;
  key: keyof Config;
  kind: Kind;
  def?: string | number | boolean;
  values?: readonly string[];
  min?: number;
  max?: number;
  doc: string;
  schema: TSchema & SettingKeys;
}

/** Every setting in schema order (the order problems are listed in). */
export const SETTINGS: readonly Setting[] = Object.entries(ConfigSchema.properties).map(([key, schema]) => {
  const s = schema as TSchema & SettingKeys;
  return {
    env: s.env,
    key: key as keyof Config,
    kind: s.kind,
    def: s.default as Setting['def'],
    values: s.anyOf ? (s.anyOf as { const: string }[]).map((v) => v.const) : undefined,
    min: s.minimum as number | undefined,
    max: s.maximum as number | undefined,
    doc: s.description,
    schema: s,
  };
});

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The problem message when a setting's value does not satisfy its schema. */
function problem(s: Setting, shown: string): string {
  switch (s.kind) {
    case 'string':
    case 'path':
      return `${s.env} must not be empty`;
    case 'int':
      return `${s.env} must be an integer >= ${s.min ?? Number.MIN_SAFE_INTEGER}: ${shown}`;
    case 'port':
      return `${s.env} must be a port number ${s.min}-${s.max}: ${shown}`;
    case 'bool':
      return `${s.env} must be true or false: ${shown}`;
    case 'enum':
      return `${s.env} must be one of ${s.values!.join(', ')}: ${shown}`;
    case 'url':
      return `${s.env} is not a URL: ${shown}`;
    case 'json':
      return `${s.env} is not valid: ${shown}`;
  }
}

/** Reads a value (text from the environment, or a JSON value from the file) as its kind, and checks it against its schema. */
function parseValue(s: Setting, raw: unknown, problems: string[]): unknown {
  if (s.kind === 'json') return raw;
  const text = String(raw).trim();
  let value: unknown;
  switch (s.kind) {
    case 'int':
    case 'port':
      value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
      break;
    case 'bool':
      value = text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : undefined;
      break;
    default:
      value = text;
  }
  if (!Value.Check(s.schema, value)) problems.push(problem(s, JSON.stringify(raw)));
  if (s.kind === 'path') return resolve(text);
  if (s.kind === 'bool') return value === true;
  // as read, even when refused: the cross-checks below still see it (TELEMETRY_MAX_BUFFER=1e3 is 1000 there)
  if (s.kind === 'int' || s.kind === 'port') return Number(text);
  return value;
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
  problems.push(...hotlineSettings(out as unknown as Parameters<typeof hotlineSettings>[0]).problems);
  problems.push(...resolveSla(out.workOrderSla).problems);
  problems.push(...smsProblems(out as Partial<Config>));
  if (out.ariUrl && !env.TELEPHONY && file.TELEPHONY === undefined && file.telephony === undefined) out.telephony = 'ari';
  if (out.telephony === 'ari' && !out.ariUrl) problems.push('TELEPHONY=ari needs ARI_URL (e.g. http://pbx:8088)');
  if (problems.length) throw new ConfigError(problems);
  return out as unknown as Config;
}

/** SMS settings that only make sense together. */
function smsProblems(c: Partial<Config>): string[] {
  const p: string[] = [];
  if (c.smsTransport === 'smpp') for (const [k, env] of [['smppHost', 'SMPP_HOST'], ['smppSystemId', 'SMPP_SYSTEM_ID'], ['smppPassword', 'SMPP_PASSWORD']] as const) if (!c[k]) p.push(`SMS_TRANSPORT=smpp needs ${env}`);
  if (c.smsTransport === 'modem' && !c.modemPath) p.push('SMS_TRANSPORT=modem needs MODEM_PATH (e.g. /dev/ttyUSB2)');
  if (c.smsQuietHours && c.smsQuietHours !== 'off' && !/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(c.smsQuietHours)) p.push(`SMS_QUIET_HOURS must be HH:MM-HH:MM or off, not ${JSON.stringify(c.smsQuietHours)}`);
  return p;
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
