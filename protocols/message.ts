/**
 * The one shape every decoder emits (architecture.md, "Contracts").
 * Pure types and tables: no I/O here.
 */

export const PROTOCOLS = ['watch', 'gt06', 'contactid', 'mqtt-json', 'zigbee2mqtt', 'phone'] as const;
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
}

/** What each protocol folder's index.ts exports. */
export interface ProtocolModule {
  name: Protocol;
  defaultPort?: number;
  commands: readonly string[];
  createFramer(): Framer;
  decode(frame: Buffer, ctx: DecodeContext): DecodeOutcome;
}
