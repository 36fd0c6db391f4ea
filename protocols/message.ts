/**
 * The one shape every decoder emits (architecture.md, "Contracts").
 * Pure types and tables: no I/O here.
 */
import type { TObject, TSchema } from '@sinclair/typebox';

export const PROTOCOLS = ['watch', 'gt06', 'contactid', 'mqtt-json', 'zigbee2mqtt', 'phone', 'dc09', 'scaip'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const MESSAGE_KINDS = [
  'login',
  'heartbeat',
  'position',
  'alarm',
  'health',
  'status',
  'test',
  'call',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Closed set of alarm kinds, with the five telecare priority levels (P1 most urgent). */
export const ALARM_PRIORITY = {
  sos: 1,
  fall: 1,
  one_key_emergency: 1,
  medical: 1,
  fire: 1,
  smoke: 1,
  gas: 1,
  geofence_exit: 2,
  vitals_abnormal: 2,
  inactivity: 2,
  /** a welfare call (平安呼叫) answered with 2: "I need help" (issue 22) */
  help_requested: 2,
  /** every attempt of the day's welfare call failed: no answer, busy, no key (issue 22) */
  welfare_check_failed: 2,
  removed: 3,
  power_cut: 3,
  tamper: 3,
  /** two live connections from different addresses claim one identity (gateway/transports/sessions.ts) */
  device_clone_suspected: 3,
  device_silent: 4,
  test_missed: 4,
  low_battery: 4,
  receiver_silent: 4,
  one_key_service: 5,
} as const satisfies Record<string, 1 | 2 | 3 | 4 | 5>;

export type AlarmKind = keyof typeof ALARM_PRIORITY;
export type Priority = 1 | 2 | 3 | 4 | 5;
export const ALARM_KINDS = Object.keys(ALARM_PRIORITY) as AlarmKind[];

export function isAlarmKind(v: unknown): v is AlarmKind {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(ALARM_PRIORITY, v);
}

export interface Position {
  lat: number;
  lon: number;
  valid: boolean;
  source: 'gps' | 'lbs' | 'wifi';
  /** km/h */
  speed?: number;
  /** degrees */
  course?: number;
  /** metres */
  altitude?: number;
  satellites?: number;
  /** metres */
  accuracy?: number;
}

export interface Health {
  heartRate?: number;
  spo2?: number;
  systolic?: number;
  diastolic?: number;
  /** °C */
  temperature?: number;
  /** cumulative pedometer count as the device reports it */
  steps?: number;
  /** body rollover count during sleep (watch LK/UD field "tumbles"); not a fall counter */
  tumbles?: number;
}

export interface Cell {
  mcc: number;
  mnc: number;
  lac: number;
  cid: number;
  rssi?: number;
}

export interface Wifi {
  ssid: string;
  mac: string;
  rssi?: number;
}

export interface DeviceMessage {
  /** The identity the device claims: IMEI, account number, MQTT client id or phone number. */
  deviceId: string;
  protocol: Protocol;
  kind: MessageKind;
  deviceTime?: Date;
  receivedAt: Date;
  position?: Position;
  /** Events raised by this message (may be several at once, e.g. removal + fall). */
  alarms?: AlarmKind[];
  /** Conditions this message reports as over (battery back, Contact ID restore). */
  restores?: AlarmKind[];
  health?: Health;
  /** percent 0..100 */
  battery?: number;
  /** percent 0..100 */
  signal?: number;
  cells?: Cell[];
  wifis?: Wifi[];
  /** Device state bits that are not events (e.g. watch status bits 0–4). */
  states?: Record<string, boolean>;
  /** Sensor or zone inside a panel/receiver account (Contact ID zone, Zigbee name). */
  zone?: string;
  /** A device's echo of a command we sent it. */
  commandEcho?: { keyword: string; args: string[] };
  /** For `call` messages: caller number and dialled number. */
  call?: { caller?: string; dialled?: string };
  /**
   * The device's own event code, kept for the audit trail and for counting unmapped codes
   * (Contact ID: code `101`, qualifier `E`/`R`/`P`, group/partition `01`; `known: false` when no table lists it).
   */
  event?: { code: string; qualifier?: string; group?: string; label?: string; known: boolean };
  /** The frame as hex or text, for the audit trail. */
  raw: string;
  /**
   * What makes a resend of this message the same message, when its bytes do not (a DC-09 panel re-encrypts a
   * resend with a new pad, dc09.md §4 step 8): the alarm de-duplication keys on this, within `windowS`, instead of
   * on `raw` and the device time.
   */
  repeat?: { key: string; windowS: number };
  /** The number to call the device back on, as it told us (a SCAIP unit's `crd`): the alarm's callback dials it. */
  callbackNumber?: string;
}

/** The result of decoding one frame. `reply` is what the device expects back (sent after the frame is handled). */
export interface DecodeResult {
  messages: DeviceMessage[];
  reply?: Buffer;
}

/** A decoder never throws on device input; it returns a reason instead. */
export type DecodeOutcome = ({ ok: true } & DecodeResult) | { ok: false; reason: string };

/** One unit from a stream framer: a complete frame, or a counted reason for discarded bytes. */
export type FrameEvent = { frame: Buffer } | { error: string; discarded: number };

/** Stateful per connection: turns a byte stream into frames. */
export interface Framer {
  push(chunk: Buffer): FrameEvent[];
  /** bytes held waiting for the rest of a frame */
  readonly buffered: number;
}

export interface DecodeContext {
  receivedAt: Date;
  /**
   * The registered device this connection has identified as (the transport sets it after the first accepted
   * frame). Protocols whose frames after login carry no identity (GT06, protocols.md §2.2) address them to it,
   * and read its registration `meta` (GT06 `meta.vendor` picks the alarm table).
   */
  device?: { identifier: string; meta?: Record<string, unknown> };
}

/**
 * How a protocol's devices reach the gateway: a TCP server per protocol, the MQTT broker, a serial line, a phone call,
 * an IP alarm receiver (DC-09: its own TCP and UDP server, gateway/transports/dc09.ts; every frame names its account),
 * or SIP (SCAIP: MESSAGE requests to the gateway's own SIP port, gateway/transports/scaip.ts).
 */
export type TransportKind = 'tcp' | 'mqtt' | 'serial' | 'telephony' | 'ip-receiver' | 'sip';

/** What a device identifier of the protocol looks like (checked when a device is registered). */
export interface IdentifierRule {
  pattern: RegExp;
  /** what is expected, for the 400: `not a valid watch identifier: expected <hint>` */
  hint: string;
  /** the identifier as stored (default: as given) */
  normalise?(identifier: string): string;
  /**
   * The identifier is a telephone number: checked and normalised by the gateway's number rules (telephony/phone.ts,
   * the same as every other phone number), not by `pattern`.
   */
  phoneNumber?: boolean;
}

/**
 * The names of the settings (gateway/config.ts SETTINGS `env`) a TCP protocol's server reads, e.g. 'WATCH_PORT'.
 * A name config.ts does not know yet falls back: the port to the module's `defaultPort`, the rest to the gateway's
 * defaults for any TCP protocol.
 */
export interface TcpSettingNames {
  host: string;
  port: string;
  idleTimeoutS: string;
  maxConnections: string;
  /** worker processes holding the connections (0 = in the gateway process) */
  workers: string;
  firstFrameTimeoutS: string;
  partialFrameTimeoutS: string;
  maxUnidentifiedPerAddress: string;
}

/** How dangerous a command is. */
export interface CommandRisk {
  /** admin-only, needs a reason, audited against the device and the elder */
  dangerous: boolean;
  /** covert listen-in: refused for everyone unless ALLOW_MONITOR_COMMAND is on */
  monitor: boolean;
  /** what makes it dangerous, in words (for the 403 and the audit) */
  why?: string;
}

/** An encoder's refusal of a command's parameters; `field` names the offending one (the API answers 400 for it). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Server → device commands of a protocol: checked, addressed and named (the keyword the device echoes). */
export interface CommandCodec {
  /** TypeBox schema of a command's `type` (the API's envelope; the encoder checks each command's parameters) */
  typeSchema: TSchema;
  /** keywords that take over or silence a device, with why (API docs) */
  dangerous: Readonly<Record<string, string>>;
  /** bytes for the device; `lastFrame` is the device's last frame (its header addresses the command). Throws CommandError. */
  encode(command: Record<string, unknown>, to: { identifier: string; lastFrame?: Buffer }): Buffer;
  keyword(command: Record<string, unknown>): string;
  risk(command: Record<string, unknown>): CommandRisk;
}

/**
 * What each protocol folder's index.ts exports, and protocols/index.ts lists: everything the gateway needs to
 * serve, register and command the protocol's devices.
 */
export interface ProtocolModule {
  name: Protocol;
  /** for people, e.g. in the start summary: `Watch` */
  label?: string;
  /** what devices speak it: `3G/SG/CS/ZJ watches` */
  devices?: string;
  transport: TransportKind;
  defaultPort?: number;
  /** TCP protocols: the settings their server reads (see TcpSettingNames) */
  settings?: TcpSettingNames;
  identifier: IdentifierRule;
  /** the devices' longest regular reporting interval in seconds (silence is judged from it); 0 = never on a schedule */
  silentIntervalS: number;
  /** devices log in with a secret issued at registration (shown once) */
  deviceSecret?: boolean;
  /**
   * devices may share a symmetric key with us (DC-09's AES key), set at registration: checked by `parseKey`, kept
   * encrypted at rest (gateway/device-keys.ts) and never shown again
   */
  symmetricKey?: {
    parseKey(text: string, encoding: 'hex' | 'ascii'): Buffer;
    hint: string;
    /** how a key may be written; absent: as typed (a password) */
    encodings?: readonly ('hex' | 'ascii')[];
  };
  /** defaults when a device is registered: its kind, and whether its SIM number is its identifier */
  registration?: { kind?: string; simPhoneIsIdentifier?: boolean };
  /** command keywords */
  commands: readonly string[];
  commandCodec?: CommandCodec;
  /**
   * TypeBox schema of each command's parameters (the body's fields besides `type`), by keyword: the protocol
   * catalogue (GET /api/protocols) hands them to the dashboard's forms. The encoder stays the final check.
   */
  commandSchemas?: Readonly<Record<string, TObject>>;
  /** the everyday commands offered first: locate, SOS numbers, upload interval, find, reset */
  commonCommands?: readonly string[];
  /** the registration `meta` fields the protocol reads (Contact ID: the panel vendor and zone names) */
  settingsSchema?: TObject;
  /** stream protocols: stateful per connection, turns bytes into frames */
  createFramer?(): Framer;
  decode?(frame: Buffer, ctx: DecodeContext): DecodeOutcome;
}

/** A protocol the gateway can serve over a byte stream (TCP): framer and decoder present. */
export type StreamProtocol = ProtocolModule & Required<Pick<ProtocolModule, 'createFramer' | 'decode'>>;

/** A TCP protocol the gateway serves: a stream protocol with a port and its settings. */
export type TcpProtocol = StreamProtocol & Required<Pick<ProtocolModule, 'defaultPort' | 'settings'>> & { transport: 'tcp' };
