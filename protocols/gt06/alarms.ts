/**
 * GT06 alarm tables as data (protocols.md §2.3). The alarm byte of 0x16/0x26/0x19 (and of 0x13/0x23) means
 * different things on different product lines, so a device's registration `meta.vendor` picks the table;
 * `concox` is the default. Codes a table does not list are kept as the message's event with `known: false`.
 * Terminal-info bits 3-5 are read on their own as well (§2.3 "Terminal-info byte"; §6.2: SOS = alarm 0x01 or
 * bits 3-5 = 100).
 */
import type { AlarmKind } from '../message.js';

/** What one alarm code means: the alarm it raises (if any), the alarm it ends (if any), and words for the audit. */
export interface Gt06AlarmCode {
  label: string;
  alarm?: AlarmKind;
  restore?: AlarmKind;
}

export type Gt06AlarmTable = Readonly<Record<number, Gt06AlarmCode>>;

/** Traccar's mapping (§2.3), the Concox default. Vehicle codes are kept for the audit but raise nothing. */
const CONCOX: Gt06AlarmTable = {
  0x01: { label: 'SOS', alarm: 'sos' },
  0x02: { label: 'power cut', alarm: 'power_cut' },
  0x03: { label: 'vibration' },
  0x04: { label: 'enter fence', restore: 'geofence_exit' },
  0x05: { label: 'exit fence', alarm: 'geofence_exit' },
  0x06: { label: 'overspeed' },
  0x09: { label: 'vibration' },
  0x0c: { label: 'tampering', alarm: 'tamper' },
  0x0e: { label: 'low battery', alarm: 'low_battery' },
  0x0f: { label: 'low battery', alarm: 'low_battery' },
  0x11: { label: 'power off' },
  0x13: { label: 'tampering', alarm: 'tamper' },
  0x14: { label: 'door' },
  0x18: { label: 'removing', alarm: 'removed' },
  0x19: { label: 'low battery', alarm: 'low_battery' },
  0x1a: { label: 'braking' },
  0x1b: { label: 'cornering' },
  0x23: { label: 'fall down', alarm: 'fall' },
  0x25: { label: 'tampering', alarm: 'tamper' },
  0x26: { label: 'acceleration' },
  0x27: { label: 'braking' },
  0x2a: { label: 'cornering' },
  0x2b: { label: 'cornering' },
  0x2c: { label: 'accident' },
  0x2e: { label: 'cornering' },
  0x30: { label: 'jamming' },
  0x32: { label: 'tampering', alarm: 'tamper' },
  0xf0: { label: 'acceleration' },
  0xf1: { label: 'braking' },
  0xf2: { label: 'accident' },
};

/** LW models (§2.3): 0x19 is acceleration, not low battery, and 0x18 an accident, not removal. */
const LW: Gt06AlarmTable = { ...CONCOX, 0x18: { label: 'accident' }, 0x19: { label: 'acceleration' } };

/** The tables by `meta.vendor` (lower case). */
export const GT06_ALARM_TABLES: Readonly<Record<string, Gt06AlarmTable>> = { concox: CONCOX, lw: LW };
export const GT06_DEFAULT_VENDOR = 'concox';

export function alarmTable(vendor: unknown): Gt06AlarmTable {
  const key = typeof vendor === 'string' ? vendor.toLowerCase() : GT06_DEFAULT_VENDOR;
  return Object.prototype.hasOwnProperty.call(GT06_ALARM_TABLES, key) ? GT06_ALARM_TABLES[key]! : CONCOX;
}

/** Terminal-info bits 3-5 (§2.3): what each value reports; 110 geofence names no direction, so it raises nothing. */
export const TERMINAL_ALARM: Readonly<Record<number, Gt06AlarmCode>> = {
  0b001: { label: 'shock' },
  0b010: { label: 'power cut', alarm: 'power_cut' },
  0b011: { label: 'low battery', alarm: 'low_battery' },
  0b100: { label: 'SOS', alarm: 'sos' },
  0b110: { label: 'geofence' },
  0b111: { label: 'removal', alarm: 'removed' },
};

/** Terminal-info state bits, each on its own (§2.3). */
export function terminalStates(info: number): Record<string, boolean> {
  const field = (info >> 3) & 0b111;
  return {
    armed: (info & 0x01) !== 0,
    acc: (info & 0x02) !== 0,
    charging: (info & 0x04) !== 0,
    gpsTracking: (info & 0x40) !== 0,
    oilCut: (info & 0x80) !== 0,
    shock: field === 0b001,
    powerCut: field === 0b010,
    lowBattery: field === 0b011,
    sos: field === 0b100,
  };
}
