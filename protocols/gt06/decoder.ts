/**
 * GT06 frame → DeviceMessage + the reply the device expects (protocols.md §2).
 *
 * Only the login (0x01) names the device; every later frame of the connection is the logged-in device's, so
 * they are addressed to `ctx.device` (the identity the transport bound on login) and are refused as
 * `not_logged_in` before it. A frame whose CRC does not check is refused as `bad_crc` (§2.1: Traccar does not
 * check, and an alarm must never be raised, nor acknowledged, from a corrupted frame). The alarm byte is read
 * through the device's vendor table (alarms.ts, `meta.vendor`). Replies echo the device's serial (§6.2); the
 * transport sends them only after the pipeline has handled the frame, so an alarm is acknowledged after its commit.
 * Pure; never throws on device input (a last-resort catch turns a bug into `internal_error`).
 */
import type { AlarmKind, Cell, DecodeContext, DecodeOutcome, DeviceMessage, Position } from '../message.js';
import { alarmTable, TERMINAL_ALARM, terminalStates, type Gt06AlarmTable } from './alarms.js';
import { commandOfFlag } from './commands.js';
import { gt06Ack, gt06TimeReply, gt06WifiReply } from './encoder.js';
import { GT06, parseGt06, type Gt06Cell, type Gt06Gps, type Gt06Packet, type Gt06Status } from './fields.js';

/** Packets acknowledged with `05 PROTO SERIAL` (§2.2; harmless for 0x12/0x22, §6.2). */
const ACKED = new Set<number>([GT06.LOGIN, GT06.STATUS, GT06.HEARTBEAT_2, GT06.GPS_LBS, GT06.GPS_LBS_2, GT06.ALARM, GT06.ALARM_2, GT06.LBS_STATUS]);

/** 0x94 sub-types §2.2 names; their layouts are not in §2, so the frame is kept raw. */
const INFO_TYPES: Readonly<Record<number, string>> = { 0x00: 'external voltage', 0x04: 'terminal status sync', 0x05: 'door status', 0x0a: 'ICCID' };

/** Voltage level 0-6 as a percentage (Traccar: level × 100 / 6); some devices send a percentage (§2.3). */
const batteryOf = (v: number): number | undefined => (v < 0 ? undefined : v <= 6 ? Math.round((v * 100) / 6) : v <= 100 ? v : undefined);
/** GSM level 0-4 as a percentage; a value 5-100 is taken as one already. */
const signalOf = (g: number): number | undefined => (g <= 4 ? g * 25 : g <= 100 ? g : undefined);

const position = (g: Gt06Gps): Position => ({ lat: round6(g.lat), lon: round6(g.lon), valid: g.fixed, source: 'gps', speed: g.speed, course: g.course, satellites: g.satellites });
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const cells = (c: Gt06Cell): Cell[] => [{ mcc: c.mcc, mnc: c.mnc, lac: c.lac, cid: c.cid }];
const code = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

/** Alarms and restores of a status block: terminal-info bits 3-5 and the alarm byte (vendor table), each on its own. */
function statusEvents(s: Gt06Status, table: Gt06AlarmTable, out: DeviceMessage): void {
  const alarms: AlarmKind[] = [];
  const restores: AlarmKind[] = [];
  const bits = TERMINAL_ALARM[(s.info >> 3) & 0b111];
  if (bits?.alarm) alarms.push(bits.alarm);
  if (s.alarm !== undefined && s.alarm !== 0) {
    const entry = table[s.alarm];
    if (entry?.alarm && !alarms.includes(entry.alarm)) alarms.push(entry.alarm);
    if (entry?.restore) restores.push(entry.restore);
    out.event = { code: code(s.alarm), label: entry?.label ?? 'unknown alarm code', known: entry !== undefined };
  }
  if (alarms.length) out.alarms = alarms;
  if (restores.length) out.restores = restores;
  out.states = terminalStates(s.info);
  const battery = batteryOf(s.voltage);
  if (battery !== undefined) out.battery = battery;
  const signal = signalOf(s.gsm);
  if (signal !== undefined) out.signal = signal;
}

/** Fills `m` (the message under construction) from the packet. */
function body(p: Gt06Packet, table: Gt06AlarmTable, m: DeviceMessage): DeviceMessage {
  if (p.gps) {
    m.deviceTime = p.gps.time;
    m.position = position(p.gps);
  }
  if (p.cell) m.cells = cells(p.cell);
  if (p.status) statusEvents(p.status, table, m);
  if (p.acc !== undefined || p.reupload !== undefined) {
    m.states = { ...m.states, ...(p.acc !== undefined ? { acc: p.acc } : {}), ...(p.reupload !== undefined ? { reupload: p.reupload } : {}) };
  }
  switch (p.proto) {
    case GT06.LOGIN:
      m.kind = 'login';
      return m;
    case GT06.STATUS:
    case GT06.HEARTBEAT_2:
      m.kind = 'heartbeat';
      return m;
    case GT06.GPS:
    case GT06.GPS_LBS:
    case GT06.GPS_LBS_2:
      m.kind = 'position';
      return m;
    case GT06.ALARM:
    case GT06.ALARM_2:
    case GT06.LBS_STATUS:
      m.kind = m.alarms ? 'alarm' : 'status';
      return m;
    case GT06.COMMAND_RESPONSE:
    case GT06.COMMAND_RESPONSE_LONG: {
      const text = p.text ?? '';
      // our server flag names the command; otherwise the text's first word (`WHERE,...`) is the best guess
      const keyword = commandOfFlag(p.serverFlag ?? 0) ?? (text.split(/[,#:\s]/)[0] || 'response');
      m.commandEcho = { keyword, args: [text] };
      return m;
    }
    case GT06.INFO:
      m.event = { code: `0x94/${code(p.infoType ?? 0)}`, label: INFO_TYPES[p.infoType ?? -1] ?? 'information', known: (p.infoType ?? -1) in INFO_TYPES };
      return m;
    case GT06.TIME_REQUEST:
      m.event = { code: '0x8a', label: 'time request', known: true };
      return m;
    case GT06.WIFI:
    case GT06.WIFI_LBS:
    case GT06.WIFI_3:
      // Wi-Fi/multi-LBS layouts are not in §2: the device is alive and the frame is kept raw
      m.event = { code: code(p.proto), label: 'Wi-Fi / LBS report', known: true };
      return m;
    default:
      m.event = { code: code(p.proto), label: 'unsupported protocol number', known: false };
      return m;
  }
}

function reply(p: Gt06Packet, ctx: DecodeContext): Buffer | undefined {
  if (p.bcdTime) return gt06WifiReply(p.proto, p.bcdTime);
  if (p.proto === GT06.TIME_REQUEST) return gt06TimeReply(ctx.receivedAt);
  return ACKED.has(p.proto) ? gt06Ack(p.proto, p.serial, p.long) : undefined;
}

export function decodeGt06(frame: Buffer, ctx: DecodeContext): DecodeOutcome {
  try {
    const parsed = parseGt06(frame);
    if (!parsed.ok) return parsed;
    const p = parsed.packet;
    const deviceId = p.imei ?? ctx.device?.identifier;
    if (deviceId === undefined) return { ok: false, reason: 'not_logged_in' };
    const msg = body(p, alarmTable(ctx.device?.meta?.vendor), { deviceId, protocol: 'gt06', kind: 'status', receivedAt: ctx.receivedAt, raw: frame.toString('hex') });
    const r = reply(p, ctx);
    return r ? { ok: true, messages: [msg], reply: r } : { ok: true, messages: [msg] };
  } catch {
    return { ok: false, reason: 'internal_error' };
  }
}

export { parseGt06 };
