/**
 * SCAIP code tables as data (protocols.md §4 "Code values seen"): device types (`dty`), status codes (`stc`),
 * message types (`mty`), and which Anxin alarm a unit's alarm message raises, per vendor.
 *
 * - Codes compare numerically: `02`, `0002` and `2` are one device type; `10`, `010` and `0010` one status code
 *   (the real messages use all these forms). A code that is not digits is kept as text and is never known.
 * - The `dty` list is from one unverified source [?]; codes it does not list are kept with `known: false`.
 * - `stc` 0067 and 0009 (Telealarm) are seen but not understood: deliberately absent, so they stay `known: false`.
 */
import type { AlarmKind } from '../message.js';

export interface ScaipLabel {
  readonly zh: string;
  readonly en: string;
}

/** Device types (`dty`) by number. */
export const SCAIP_DEVICE_TYPES: Readonly<Record<number, ScaipLabel>> = {
  2: { zh: '本地主机（含控制器）', en: 'Local unit and controller' },
  3: { zh: '随身报警器', en: 'Personal trigger' },
  4: { zh: '固定报警按钮', en: 'Fixed trigger' },
  5: { zh: '跌倒探测器', en: 'Fall detector' },
  7: { zh: '紧急按钮', en: 'Panic button' },
  10: { zh: '活动探测器', en: 'Activity detector' },
};

/** What a status code means for the decoder: an alarm, the alarm's cancellation, or a test transmission. */
export type ScaipStatusMeaning = 'alarm' | 'cancel' | 'test';

export interface ScaipStatusEntry extends ScaipLabel {
  readonly meaning: ScaipStatusMeaning;
}

/** Status codes (`stc`) by number. */
export const SCAIP_STATUS_CODES: Readonly<Record<number, ScaipStatusEntry>> = {
  10: { zh: '报警（手动）', en: 'Alarm (manual)', meaning: 'alarm' },
  19: { zh: '取消报警', en: 'Alarm cancelled', meaning: 'cancel' },
  102: { zh: '测试传输（主通道）', en: 'Test transmission (primary channel)', meaning: 'test' },
};

export const SCAIP_MESSAGE_TYPES = ['ME', 'RE', 'IN', 'PI'] as const;
export type ScaipMessageType = (typeof SCAIP_MESSAGE_TYPES)[number];

/** Message types (`mty`). */
export const SCAIP_MESSAGE_TYPE_LABELS: Readonly<Record<ScaipMessageType, ScaipLabel>> = {
  ME: { zh: '报警', en: 'Alarm' },
  RE: { zh: '报警撤销', en: 'Alarm withdrawn' },
  IN: { zh: '信息', en: 'Information' },
  PI: { zh: '心跳', en: 'Heartbeat' },
};

/** Device type number → the Anxin alarm an alarm message (`mty` ME) from it raises. */
export type ScaipKindTable = Readonly<Record<number, AlarmKind>>;

/** The default table (§4 `dty` list). A local unit's own alarm is its button: `sos`. */
export const SCAIP_DEFAULT_KINDS: ScaipKindTable = {
  2: 'sos',
  3: 'sos',
  4: 'sos',
  5: 'fall',
  7: 'sos',
  10: 'inactivity',
};

/**
 * Per-vendor overrides of SCAIP_DEFAULT_KINDS, by the device registration's vendor (lower case). An entry here
 * wins; a device type it does not list falls back to the default table. None is known to differ yet: the keys
 * are the vendors whose traffic §4 quotes, ready for what their integration guides say.
 */
export const SCAIP_VENDOR_KINDS: Readonly<Record<string, ScaipKindTable>> = {
  essence: {},
  possum: {},
  telealarm: {},
  doro: {},
};

/**
 * The alarm an alarm message raises when no table maps its device type. An alarm message must never be absorbed
 * silently: `sos` (priority 1) reaches a person at once, and the message's event says the device type is unknown,
 * so the operator sees why. Guessing a lower priority would delay a real emergency; raising nothing would lose it.
 */
export const SCAIP_UNMAPPED_KIND: AlarmKind = 'sos';

/** `'0010'` → 10; undefined when the code is not 1–9 digits. */
export function codeNumber(code: string | undefined): number | undefined {
  if (code === undefined) return undefined;
  const t = code.trim();
  return /^[0-9]{1,9}$/.test(t) ? Number(t) : undefined;
}

/** One form per code, for counting and the audit: digits without leading zeros (`0010` → `10`), other text trimmed. */
export function canonicalCode(code: string): string {
  const n = codeNumber(code);
  return n === undefined ? code.trim() : String(n);
}

export interface ScaipCodeInfo {
  /** canonical (codeNumber) form */
  code: string;
  zh: string;
  en: string;
  known: boolean;
}

function has<T>(table: Readonly<Record<number, T>>, n: number | undefined): n is number {
  return n !== undefined && Object.prototype.hasOwnProperty.call(table, n);
}

export function deviceTypeInfo(dty: string): ScaipCodeInfo {
  const n = codeNumber(dty);
  const code = canonicalCode(dty);
  if (has(SCAIP_DEVICE_TYPES, n)) return { code, ...SCAIP_DEVICE_TYPES[n]!, known: true };
  return { code, zh: `未知设备类型 ${code}`, en: `Unknown device type ${code}`, known: false };
}

export function statusInfo(stc: string): ScaipCodeInfo & { meaning?: ScaipStatusMeaning } {
  const n = codeNumber(stc);
  const code = canonicalCode(stc);
  if (has(SCAIP_STATUS_CODES, n)) {
    const e = SCAIP_STATUS_CODES[n]!;
    return { code, zh: e.zh, en: e.en, known: true, meaning: e.meaning };
  }
  return { code, zh: `未知状态码 ${code}`, en: `Unknown status code ${code}`, known: false };
}

/** `me` / ` ME ` → `ME`; undefined for anything else. */
export function messageType(mty: string | undefined): ScaipMessageType | undefined {
  const t = mty?.trim().toUpperCase();
  return (SCAIP_MESSAGE_TYPES as readonly string[]).includes(t ?? '') ? (t as ScaipMessageType) : undefined;
}

/** The alarm an alarm message from device type `dty` raises, for the vendor; `mapped: false` = SCAIP_UNMAPPED_KIND. */
export function alarmKindFor(dty: string, vendor?: string): { kind: AlarmKind; mapped: boolean } {
  const n = codeNumber(dty);
  const key = vendor?.trim().toLowerCase();
  const override = key !== undefined && Object.prototype.hasOwnProperty.call(SCAIP_VENDOR_KINDS, key) ? SCAIP_VENDOR_KINDS[key]! : undefined;
  if (override && has(override, n)) return { kind: override[n]!, mapped: true };
  if (has(SCAIP_DEFAULT_KINDS, n)) return { kind: SCAIP_DEFAULT_KINDS[n]!, mapped: true };
  return { kind: SCAIP_UNMAPPED_KIND, mapped: false };
}
