/**
 * The reports' columns (zh-CN with English, as the import templates) and their export: one sheet, the header row,
 * then the same rows as the JSON answer and its totals row last; xlsx, or CSV in UTF-8 with a BOM so that Excel
 * reads the Chinese. Text cells that a spreadsheet would run as a formula are neutralised as on the import export.
 */
import ExcelJS from 'exceljs';
import { neutralise } from '../import/workbook.js';
import type { Cell, Row } from '../store/reports.js';

export const REPORTS = ['alarms', 'answering', 'agents', 'calls', 'work-orders', 'devices'] as const;
export type ReportName = (typeof REPORTS)[number];

export interface ReportColumn {
  key: string;
  zh: string;
  en: string;
}

const col = (key: string, zh: string, en: string): ReportColumn => ({ key, zh, en });
const BUCKET = col('bucket', '时段', 'period');

export const REPORT_COLUMNS: Record<ReportName, ReportColumn[]> = {
  alarms: [BUCKET, col('kind', '告警类型', 'kind'), col('priority', '优先级', 'priority'), col('count', '数量', 'count')],
  answering: [
    BUCKET,
    col('alarms', '告警数', 'alarms'),
    col('answered', '已接警', 'answered'),
    col('decided60', '60秒已判定', 'decided (60 s)'),
    col('within60', '60秒内接警', 'answered within 60 s'),
    col('rate60', '60秒接警率', 'rate within 60 s'),
    col('met60', '60秒达标(97.5%)', 'target 60 s met (97.5 %)'),
    col('decided180', '180秒已判定', 'decided (180 s)'),
    col('within180', '180秒内接警', 'answered within 180 s'),
    col('rate180', '180秒接警率', 'rate within 180 s'),
    col('met180', '180秒达标(99%)', 'target 180 s met (99 %)'),
    col('avgAcceptS', '平均接警时长(秒)', 'avg time to accept (s)'),
    col('maxAcceptS', '最长接警时长(秒)', 'longest time to accept (s)'),
    col('avgResolveS', '平均处置时长(秒)', 'avg time to resolve (s)'),
    col('maxResolveS', '最长处置时长(秒)', 'longest time to resolve (s)'),
    col('avgCloseS', '平均关闭时长(秒)', 'avg time to close (s)'),
    col('maxCloseS', '最长关闭时长(秒)', 'longest time to close (s)'),
  ],
  agents: [
    col('agentId', '坐席ID', 'agent id'),
    col('username', '用户名', 'username'),
    col('name', '姓名', 'name'),
    col('alarms', '处理告警数', 'alarms handled'),
    col('calls', '通话数', 'calls'),
    col('talkS', '通话时长(秒)', 'talk time (s)'),
    col('signedInS', '签入时长(秒)', 'signed in (s)'),
    col('readyS', '置闲(秒)', 'ready (s)'),
    col('notReadyS', '置忙(秒)', 'not ready (s)'),
    col('awayS', '离席(秒)', 'away (s)'),
    col('wrapUpS', '话后整理(秒)', 'wrap-up (s)'),
    col('onCallS', '通话中(秒)', 'on call (s)'),
    col('handlingS', '处理中(秒)', 'handling (s)'),
    col('ringingS', '振铃(秒)', 'ringing (s)'),
  ],
  calls: [
    BUCKET,
    col('calls', '通话数', 'calls'),
    col('inbound', '呼入', 'inbound'),
    col('outbound', '呼出', 'outbound'),
    col('answered', '接通', 'answered'),
    col('abandoned', '放弃', 'abandoned'),
    col('avgWaitS', '平均等待(秒)', 'avg wait (s)'),
  ],
  'work-orders': [
    col('type', '工单类型', 'type'),
    col('state', '状态', 'state'),
    col('orders', '工单数', 'orders'),
    col('slaMet', 'SLA达标', 'SLA met'),
    col('slaMissed', 'SLA超时', 'SLA missed'),
    col('rated', '已评价', 'rated'),
    col('avgSatisfaction', '平均满意度', 'avg satisfaction'),
  ],
  devices: [
    col('area', '片区', 'area'),
    col('devices', '设备数', 'devices'),
    col('online', '在线', 'online'),
    col('silent', '静默', 'silent'),
    col('lowBattery', '低电量', 'low battery'),
    col('neverActivated', '未开通', 'never activated'),
  ],
};

export const headerOf = (c: ReportColumn) => `${c.zh} ${c.en}`;
export const TOTAL_LABEL = '合计 Total';

/** The rows of the sheet: the JSON rows, then the totals (labelled in its first column) when the report has them. */
export function sheetRows(columns: ReportColumn[], rows: Row[], totals: Row | null): Cell[][] {
  const out = rows.map((r) => columns.map((c) => r[c.key] ?? null));
  if (totals) out.push(columns.map((c, i) => (i === 0 ? TOTAL_LABEL : (totals[c.key] ?? null))));
  return out;
}

export async function exportReport(format: 'xlsx' | 'csv', title: string, columns: ReportColumn[], rows: Cell[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Anxin';
  const ws = wb.addWorksheet(title.slice(0, 31));
  ws.columns = columns.map((c) => ({ header: headerOf(c), key: c.key, width: Math.max(12, headerOf(c).length + 4) }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(r.map((v) => (typeof v === 'string' ? neutralise(v) : v)));
  if (format === 'xlsx') return Buffer.from(await wb.xlsx.writeBuffer());
  const csv = Buffer.from(await wb.csv.writeBuffer({ map: (v: unknown) => v, formatterOptions: { writeBOM: false } }));
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv]);
}
