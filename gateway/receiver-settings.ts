/**
 * The RECEIVERS setting: alarm receivers on serial lines (README "Alarm receivers"). A JSON array with one
 * object per receiver, e.g. `[{"name":"desk","path":"/dev/serial/by-id/usb-FTDI…"}]`.
 *
 * Missing serial settings take the Sur-Gard MLR2E defaults (19200 baud, 7 data bits, even parity, 1 stop bit,
 * protocols.md §3.4) and a 30 s heartbeat. Pure: parsing and validation only, every problem reported at once.
 */
import { RECEIVER_SERIAL_DEFAULTS, RECEIVER_TIMING, VENDOR_CODE_TABLES, isKnownVendor } from '../protocols/index.js';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export interface ReceiverSettings {
  /** our name for the receiver: health part `receiver:<name>`, metrics label, alarm source `receiver:<name>` */
  name: string;
  /** serial device; a /dev/serial/by-id/… link survives re-plugging (ttyUSB numbers do not) */
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: Parity;
  stopBits: 1 | 2;
  /** line-card number width the receiver prints (MLR2 1, SG 3); unset: any width is accepted */
  lineWidth?: number;
  /** panel vendor code table for accounts whose device meta names none */
  vendor: string;
  /** the receiver's heartbeat period; two periods without a line raise `receiver_silent` */
  heartbeatS: number;
}

const KEYS = ['name', 'path', 'baudRate', 'dataBits', 'parity', 'stopBits', 'lineWidth', 'vendor', 'heartbeatS'] as const;
const BAUD_RATES = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];
const PARITIES: readonly Parity[] = ['none', 'even', 'odd', 'mark', 'space'];
const NAME_RE = /^[A-Za-z0-9_-]{1,32}$/;

const MLR2E = RECEIVER_SERIAL_DEFAULTS.mlr2e;

export const RECEIVER_EXAMPLE = '[{"name":"desk","path":"/dev/ttyUSB0"}]';

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/**
 * `value` is the setting as given: JSON text (environment) or an already parsed array (JSON config file).
 * Unset or empty: no receivers.
 */
export function parseReceivers(value: unknown, env = 'RECEIVERS'): { receivers: ReceiverSettings[]; problems: string[] } {
  const problems: string[] = [];
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return { receivers: [], problems };
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch (e) {
      return { receivers: [], problems: [`${env} is not valid JSON (${(e as Error).message}); expected e.g. ${RECEIVER_EXAMPLE}`] };
    }
  }
  if (!Array.isArray(list)) return { receivers: [], problems: [`${env} must be a JSON array of receivers, e.g. ${RECEIVER_EXAMPLE}`] };

  const receivers: ReceiverSettings[] = [];
  const names = new Set<string>();
  const paths = new Set<string>();
  list.forEach((item: unknown, i) => {
    const at = `${env}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${at} must be an object like ${RECEIVER_EXAMPLE.slice(1, -1)}`);
      return;
    }
    const o = item as Record<string, unknown>;
    const before = problems.length;
    for (const k of Object.keys(o)) {
      if (!(KEYS as readonly string[]).includes(k)) problems.push(`${at} has an unknown key ${JSON.stringify(k)} (known: ${KEYS.join(', ')})`);
    }
    const bad = (key: string, want: string) => problems.push(`${at}.${key} must be ${want}: ${JSON.stringify(o[key])}`);

    if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) bad('name', '1-32 letters, digits, _ or -');
    else if (names.has(o.name)) problems.push(`${at}.name ${JSON.stringify(o.name)} is used by an earlier receiver`);
    if (typeof o.path !== 'string' || o.path.trim() === '') bad('path', 'the serial device, e.g. /dev/ttyUSB0');
    else if (paths.has(o.path)) problems.push(`${at}.path ${JSON.stringify(o.path)} is used by an earlier receiver`);
    if (o.baudRate !== undefined && !BAUD_RATES.includes(o.baudRate as number)) bad('baudRate', `one of ${BAUD_RATES.join(', ')}`);
    if (o.dataBits !== undefined && !isInt(o.dataBits, 5, 8)) bad('dataBits', '5, 6, 7 or 8');
    if (o.parity !== undefined && !PARITIES.includes(o.parity as Parity)) bad('parity', PARITIES.join(', '));
    if (o.stopBits !== undefined && o.stopBits !== 1 && o.stopBits !== 2) bad('stopBits', '1 or 2');
    if (o.lineWidth !== undefined && !isInt(o.lineWidth, 1, 8)) bad('lineWidth', 'an integer 1-8');
    if (o.vendor !== undefined && (typeof o.vendor !== 'string' || !isKnownVendor(o.vendor))) bad('vendor', `one of ${Object.keys(VENDOR_CODE_TABLES).join(', ')}`);
    if (o.heartbeatS !== undefined && !isInt(o.heartbeatS, 1, 3600)) bad('heartbeatS', 'an integer 1-3600 (seconds)');
    if (typeof o.name === 'string') names.add(o.name);
    if (typeof o.path === 'string') paths.add(o.path);
    if (problems.length > before) return;

    const r: ReceiverSettings = {
      name: o.name as string,
      path: o.path as string,
      baudRate: (o.baudRate as number | undefined) ?? MLR2E.baudRate,
      dataBits: (o.dataBits as ReceiverSettings['dataBits'] | undefined) ?? MLR2E.dataBits,
      parity: (o.parity as Parity | undefined) ?? MLR2E.parity,
      stopBits: (o.stopBits as ReceiverSettings['stopBits'] | undefined) ?? MLR2E.stopBits,
      vendor: ((o.vendor as string | undefined) ?? 'default').toLowerCase(),
      heartbeatS: (o.heartbeatS as number | undefined) ?? RECEIVER_TIMING.heartbeatMs / 1000,
    };
    if (o.lineWidth !== undefined) r.lineWidth = o.lineWidth as number;
    receivers.push(r);
  });
  return { receivers, problems };
}

/** `19200 7E1` */
export function describeSerial(r: Pick<ReceiverSettings, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>): string {
  return `${r.baudRate} ${r.dataBits}${r.parity[0]!.toUpperCase()}${r.stopBits}`;
}
