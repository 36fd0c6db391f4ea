/**
 * Contact ID event code → meaning, as data (protocols.md §3.3). One table per panel vendor, in the manner of
 * zigbee-herdsman-converters: the SIA DC-05 table is the default and a vendor table lists only where it differs.
 *
 * DC-05 has no "fall" code; vendors improvise (Climax/Vesta label E102 "Fall Detected"), so the meaning of a
 * code depends on the panel vendor, and for 101 on the kind of device behind the account (a one-key caller's
 * red key is a `one_key_emergency`, a pendant's button an `sos`).
 *
 * Unknown codes are never an error: they become kind `status` with `known: false`, and the caller counts them.
 */
import type { AlarmKind, MessageKind } from '../message.ts';

export interface CodeEntry {
  /** English label (DC-05 wording, or the vendor's) */
  readonly label: string;
  /** message kind for a new event (E/1) or a still-present status (P/6) */
  readonly kind: MessageKind;
  /** the alarm it raises (E/P) or clears (R) */
  readonly alarm?: AlarmKind;
  /** the alarm by device type (registry device type, normalised to snake_case), overriding `alarm` */
  readonly alarmByDeviceType?: Readonly<Record<string, AlarmKind>>;
}

export type CodeTable = Readonly<Record<string, CodeEntry>>;

const ONE_KEY: Readonly<Record<string, AlarmKind>> = {
  one_key_caller: 'one_key_emergency',
  one_key: 'one_key_emergency',
  onekey: 'one_key_emergency',
};

/** SIA DC-05 Appendix C, the codes relevant to elder care (protocols.md §3.3). */
export const SIA_DC05_CODES: CodeTable = {
  '100': { label: 'Medical', kind: 'alarm', alarm: 'medical' },
  '101': { label: 'Personal emergency', kind: 'alarm', alarm: 'sos', alarmByDeviceType: ONE_KEY },
  // Fail to report in (a missed check-in): not an alarm by default; the Climax table reads it as a fall.
  '102': { label: 'Fail to report in', kind: 'status' },
  '110': { label: 'Fire', kind: 'alarm', alarm: 'fire' },
  '111': { label: 'Smoke', kind: 'alarm', alarm: 'smoke' },
  '114': { label: 'Heat', kind: 'alarm', alarm: 'fire' },
  '120': { label: 'Panic', kind: 'alarm', alarm: 'sos' },
  '121': { label: 'Duress', kind: 'alarm', alarm: 'sos' },
  '122': { label: 'Silent panic', kind: 'alarm', alarm: 'sos' },
  '123': { label: 'Audible panic', kind: 'alarm', alarm: 'sos' },
  '130': { label: 'Burglary', kind: 'status' },
  '137': { label: 'Tamper', kind: 'alarm', alarm: 'tamper' },
  '150': { label: '24-hour non-burglary', kind: 'status' },
  '151': { label: 'Gas detected', kind: 'alarm', alarm: 'gas' },
  '154': { label: 'Water leakage', kind: 'status' },
  '158': { label: 'High temperature', kind: 'status' },
  '159': { label: 'Low temperature', kind: 'status' },
  '162': { label: 'Carbon monoxide', kind: 'alarm', alarm: 'gas' },
  '301': { label: 'AC loss', kind: 'alarm', alarm: 'power_cut' },
  '302': { label: 'Low system battery', kind: 'alarm', alarm: 'low_battery' },
  '305': { label: 'System reset', kind: 'status' },
  '309': { label: 'Battery test failure', kind: 'alarm', alarm: 'low_battery' },
  '311': { label: 'Battery missing/dead', kind: 'alarm', alarm: 'low_battery' },
  '350': { label: 'Communication trouble', kind: 'status' },
  '373': { label: 'Fire trouble', kind: 'status' },
  '380': { label: 'Sensor trouble', kind: 'status' },
  '381': { label: 'Loss of supervision (RF)', kind: 'status' },
  '383': { label: 'Sensor tamper', kind: 'alarm', alarm: 'tamper' },
  '384': { label: 'RF low battery', kind: 'alarm', alarm: 'low_battery' },
  '401': { label: 'Open/close by user', kind: 'status' },
  '406': { label: 'Cancel', kind: 'status' },
  '570': { label: 'Zone bypass', kind: 'status' },
  '601': { label: 'Manual test', kind: 'test' },
  '602': { label: 'Periodic test report', kind: 'test' },
  '603': { label: 'Periodic RF transmission', kind: 'test' },
  '607': { label: 'Walk test', kind: 'test' },
  '608': { label: 'Periodic test with trouble', kind: 'test' },
  '641': { label: 'Senior watch trouble', kind: 'alarm', alarm: 'inactivity' },
  '654': { label: 'System inactivity', kind: 'alarm', alarm: 'inactivity' },
};

/** Climax / Vesta panels: their CID table labels E102 "Fall Detected" and E101 "Emergency". */
export const CLIMAX_CODES: CodeTable = {
  '101': { label: 'Emergency', kind: 'alarm', alarm: 'sos', alarmByDeviceType: ONE_KEY },
  '102': { label: 'Fall detected', kind: 'alarm', alarm: 'fall' },
};

/** Vendor name → its differences from DC-05. `default` and `sia` are plain DC-05. */
export const VENDOR_CODE_TABLES: Readonly<Record<string, CodeTable>> = {
  default: {},
  sia: {},
  climax: CLIMAX_CODES,
  vesta: CLIMAX_CODES,
};

export const DEFAULT_VENDOR = 'default';

export function isKnownVendor(vendor: string): boolean {
  return Object.prototype.hasOwnProperty.call(VENDOR_CODE_TABLES, vendor.toLowerCase());
}

export interface CodeOptions {
  /** panel vendor (`climax`, `vesta`, `sia`, `default`); an unknown vendor falls back to DC-05 */
  vendor?: string;
  /** the registry's device type for the account, e.g. `one_key_caller` */
  deviceType?: string;
}

export interface CodeMeaning {
  code: string;
  /** false when neither the vendor table nor DC-05 lists the code */
  known: boolean;
  label: string;
  kind: MessageKind;
  alarm?: AlarmKind;
}

function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

function normaliseType(t: string): string {
  return t.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** What a code means for this vendor and device type (qualifier not applied). Never throws. */
export function lookupEventCode(code: string, opts: CodeOptions = {}): CodeMeaning {
  const vendorTable = own(VENDOR_CODE_TABLES, (opts.vendor ?? DEFAULT_VENDOR).toLowerCase()) ?? {};
  const entry = own(vendorTable, code) ?? own(SIA_DC05_CODES, code);
  if (!entry) return { code, known: false, label: `Unknown Contact ID code ${code}`, kind: 'status' };
  let alarm = entry.alarm;
  if (opts.deviceType && entry.alarmByDeviceType) {
    alarm = own(entry.alarmByDeviceType, normaliseType(opts.deviceType)) ?? alarm;
  }
  return alarm
    ? { code, known: true, label: entry.label, kind: entry.kind, alarm }
    : { code, known: true, label: entry.label, kind: entry.kind };
}

export type QualifierLetter = 'E' | 'R' | 'P';

export interface EventClassification {
  kind: MessageKind;
  alarms?: AlarmKind[];
  restores?: AlarmKind[];
  meaning: CodeMeaning;
}

/**
 * Apply the qualifier: E (new) and P (still present) raise the alarm, R (restore) puts it in `restores`.
 * A restore of an alarm code is a `status` message (the condition is over); test codes stay `test`.
 */
export function classifyEvent(code: string, qualifier: QualifierLetter, opts: CodeOptions = {}): EventClassification {
  const meaning = lookupEventCode(code, opts);
  if (!meaning.alarm) return { kind: meaning.kind, meaning };
  if (qualifier === 'R') return { kind: 'status', restores: [meaning.alarm], meaning };
  return { kind: meaning.kind, alarms: [meaning.alarm], meaning };
}
