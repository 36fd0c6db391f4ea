/**
 * SIA event codes (the two-letter codes of SIA DC-03, as SIA-DCS carries them) → Anxin alarm kinds, as data
 * (dc09.md §7). Contact ID codes inside ADM-CID are not here: they go through protocols/contactid/codes.ts.
 *
 * - Restores come as `xH` ("alarm restore") or `xR` ("restoral"): both are listed for every alarm (§7).
 * - Test reports (RP automatic, RX manual, RY off-normal) refresh supervision and raise nothing (`test`).
 * - `kind: null` = a code we name but that raises no Anxin alarm (burglary, arming, water…): kept as "other".
 * - A code not in this table is never dropped either (§4 step 9): the decoder keeps it with its text.
 * - "fall" has no SIA code (§7): a panel's fall arrives as MA/QA, told apart per vendor or zone by the integration.
 */
import type { AlarmKind } from '../message.js';

export interface SiaCodeEntry {
  /** the Anxin alarm raised, or cleared when `restore`; null = none ("other", or a test) */
  readonly kind: AlarmKind | null;
  /** the code reports the condition over */
  readonly restore?: true;
  /** a test report: refreshes supervision, raises nothing */
  readonly test?: true;
  readonly zh: string;
  readonly en: string;
}

export const SIA_CODES: Readonly<Record<string, SiaCodeEntry>> = {
  // sos (§7: PA, QA). HA holdup/duress too: pysiaalarm maps Contact ID 121/122 to HA, and the Contact ID table
  // (protocols/contactid/codes.ts) makes 121/122 an sos, so the two paths agree.
  PA: { kind: 'sos', zh: '紧急报警', en: 'Panic alarm' },
  PH: { kind: 'sos', restore: true, zh: '紧急报警恢复', en: 'Panic alarm restore' },
  PR: { kind: 'sos', restore: true, zh: '紧急报警恢复', en: 'Panic restoral' },
  QA: { kind: 'sos', zh: '紧急求助', en: 'Emergency alarm' },
  QH: { kind: 'sos', restore: true, zh: '紧急求助恢复', en: 'Emergency alarm restore' },
  QR: { kind: 'sos', restore: true, zh: '紧急求助恢复', en: 'Emergency restoral' },
  HA: { kind: 'sos', zh: '胁迫报警', en: 'Holdup alarm' },
  HH: { kind: 'sos', restore: true, zh: '胁迫报警恢复', en: 'Holdup alarm restore' },
  HR: { kind: 'sos', restore: true, zh: '胁迫报警恢复', en: 'Holdup restoral' },
  // medical
  MA: { kind: 'medical', zh: '医疗求助', en: 'Medical alarm' },
  MH: { kind: 'medical', restore: true, zh: '医疗求助恢复', en: 'Medical alarm restore' },
  MR: { kind: 'medical', restore: true, zh: '医疗求助恢复', en: 'Medical restoral' },
  // fire; smoke has no letter code of its own and arrives as FA (§7)
  FA: { kind: 'fire', zh: '火警', en: 'Fire alarm' },
  FH: { kind: 'fire', restore: true, zh: '火警恢复', en: 'Fire alarm restore' },
  FR: { kind: 'fire', restore: true, zh: '火警恢复', en: 'Fire restoral' },
  KA: { kind: 'fire', zh: '高温报警', en: 'Heat alarm' },
  KH: { kind: 'fire', restore: true, zh: '高温报警恢复', en: 'Heat alarm restore' },
  KR: { kind: 'fire', restore: true, zh: '高温报警恢复', en: 'Heat restoral' },
  // gas
  GA: { kind: 'gas', zh: '燃气报警', en: 'Gas alarm' },
  GH: { kind: 'gas', restore: true, zh: '燃气报警恢复', en: 'Gas alarm restore' },
  GR: { kind: 'gas', restore: true, zh: '燃气报警恢复', en: 'Gas restoral' },
  // power_cut
  AT: { kind: 'power_cut', zh: '交流电故障（停电）', en: 'AC trouble' },
  AR: { kind: 'power_cut', restore: true, zh: '交流电恢复', en: 'AC restoral' },
  // low_battery: YT/YR the panel's battery, XT/XR a wireless device's (pendants report XT), YM battery missing
  YT: { kind: 'low_battery', zh: '主机电池电量低', en: 'System battery trouble' },
  YR: { kind: 'low_battery', restore: true, zh: '主机电池恢复', en: 'System battery restoral' },
  YM: { kind: 'low_battery', zh: '主机电池缺失', en: 'System battery missing' },
  XT: { kind: 'low_battery', zh: '无线设备电池电量低', en: 'Transmitter battery trouble' },
  XR: { kind: 'low_battery', restore: true, zh: '无线设备电池恢复', en: 'Transmitter battery restoral' },
  // tamper (ES: an expansion device's tamper)
  TA: { kind: 'tamper', zh: '防拆报警', en: 'Tamper alarm' },
  TH: { kind: 'tamper', restore: true, zh: '防拆报警恢复', en: 'Tamper alarm restore' },
  TR: { kind: 'tamper', restore: true, zh: '防拆恢复', en: 'Tamper restoral' },
  ES: { kind: 'tamper', zh: '扩展模块防拆', en: 'Expansion device tamper' },
  // tests: supervision only
  RP: { kind: null, test: true, zh: '定时测试', en: 'Automatic test' },
  RX: { kind: null, test: true, zh: '手动测试', en: 'Manual test' },
  RY: { kind: null, test: true, zh: '测试（异常状态）', en: 'Test off normal' },
  // named, no Anxin alarm ("other", §7)
  BA: { kind: null, zh: '防盗报警', en: 'Burglary alarm' },
  BH: { kind: null, restore: true, zh: '防盗报警恢复', en: 'Burglary alarm restore' },
  BR: { kind: null, restore: true, zh: '防盗报警恢复', en: 'Burglary restoral' },
  OP: { kind: null, zh: '撤防', en: 'Opening report' },
  CL: { kind: null, zh: '布防', en: 'Closing report' },
  WA: { kind: null, zh: '水浸报警', en: 'Water alarm' },
  WH: { kind: null, restore: true, zh: '水浸报警恢复', en: 'Water alarm restore' },
  WR: { kind: null, restore: true, zh: '水浸恢复', en: 'Water restoral' },
  ZA: { kind: null, zh: '低温报警', en: 'Freeze alarm' },
  ZH: { kind: null, restore: true, zh: '低温报警恢复', en: 'Freeze alarm restore' },
  ZR: { kind: null, restore: true, zh: '低温恢复', en: 'Freeze restoral' },
};

/** The entry for a code (upper case), or undefined when the table does not list it. */
export function lookupSiaCode(code: string): SiaCodeEntry | undefined {
  return Object.prototype.hasOwnProperty.call(SIA_CODES, code) ? SIA_CODES[code] : undefined;
}
