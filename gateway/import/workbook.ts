/**
 * Reading and writing the import files with exceljs (xlsx and csv): no hand-written parser. A read gives each
 * sheet's rows as text cells keyed by column; a write neutralises cells a spreadsheet application would run as a
 * formula (OWASP "CSV injection": text beginning with = + - @, tab or carriage return gets a leading apostrophe,
 * which the import takes off again, so an exported file imports as it was).
 */
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { COLUMNS, SHEETS, columnOf, header, kindOfHeaders, kindOfSheet, type Column, type Kind } from './columns.js';

export type Format = 'xlsx' | 'csv';
export const CONTENT_TYPES: Record<Format, string> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
};

/** Largest cell the import reads; longer text is refused (every field's own limit is lower). */
export const MAX_CELL = 4000;

/** A file that cannot be read as an import: answered as a 400 (413 for size) with this message. */
export class ImportFileError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface Cell {
  text: string;
  /** why the cell cannot be read (a formula, an error value) */
  problem?: string;
}

export interface SheetRows {
  kind: Kind;
  /** the sheet's name in the workbook, or "csv" */
  sheet: string;
  /** the header text of each column found, by field key */
  headers: Map<string, string>;
  /** the columns present (field keys) */
  present: Set<string>;
  rows: { row: number; cells: Map<string, Cell> }[];
}

export interface ReadResult {
  format: Format;
  sheets: SheetRows[];
}

/** The formula neutraliser's prefix is taken off on import. */
const NEUTRALISED = /^'(?=[=+\-@\t\r])/;
const DANGEROUS = /^[=+\-@\t\r]/;

export function neutralise(v: string): string {
  return DANGEROUS.test(v) ? `'${v}` : v;
}

function dateText(d: Date): string {
  // xlsx dates carry no zone: exceljs gives them as UTC midnight
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

function cellOf(v: ExcelJS.CellValue): Cell {
  if (v === null || v === undefined) return { text: '' };
  if (typeof v === 'string') return { text: v.replace(NEUTRALISED, '') };
  if (typeof v === 'number') {
    // an 18-digit ID number typed into a number cell has lost its last digits already
    return Math.abs(v) > Number.MAX_SAFE_INTEGER ? { text: '', problem: '数字过长，请把此列设为文本格式 / number too long: format the column as text and type it again' } : { text: String(v) };
  }
  if (typeof v === 'boolean') return { text: v ? 'true' : 'false' };
  if (v instanceof Date) return { text: dateText(v) };
  if (typeof v === 'object') {
    if ('formula' in v || 'sharedFormula' in v) return { text: '', problem: '不接受公式，请粘贴为数值 / formulas are not accepted: paste the values' };
    if ('error' in v) return { text: '', problem: `单元格错误 / cell error ${String(v.error)}` };
    if ('richText' in v) return { text: v.richText.map((t) => t.text).join('').replace(NEUTRALISED, '') };
    if ('text' in v) return cellOf(v.text as ExcelJS.CellValue);
  }
  return { text: '', problem: '无法读取 / unreadable cell' };
}

function sheetRows(ws: ExcelJS.Worksheet, kind: Kind, maxRows: number): SheetRows {
  const headers = new Map<string, string>();
  const byCol = new Map<number, Column>();
  const unknown: string[] = [];
  const first = ws.getRow(1);
  first.eachCell({ includeEmpty: false }, (cell, col) => {
    const text = cellOf(cell.value).text.trim();
    if (!text) return;
    const c = columnOf(kind, text);
    if (!c) unknown.push(text);
    else if (headers.has(c.key)) throw new ImportFileError(`${ws.name}: 列重复 / column given twice: "${text}"`);
    else {
      headers.set(c.key, text);
      byCol.set(col, c);
    }
  });
  if (unknown.length) throw new ImportFileError(`${ws.name}: 未知列 / unknown columns: ${unknown.map((u) => JSON.stringify(u.slice(0, 60))).join(', ')} (use the template's headers)`);
  const missing = COLUMNS[kind].filter((c) => c.required && !headers.has(c.key));
  if (missing.length) throw new ImportFileError(`${ws.name}: 缺少必填列 / missing columns: ${missing.map(header).join(', ')}`);
  const rows: SheetRows['rows'] = [];
  ws.eachRow({ includeEmpty: false }, (r, n) => {
    if (n === 1) return;
    const cells = new Map<string, Cell>();
    let any = false;
    for (const [col, c] of byCol) {
      const cell = cellOf(r.getCell(col).value);
      cell.text = cell.text.trim();
      if (cell.text.length > MAX_CELL) cell.problem = `太长 / too long (${cell.text.length} characters)`;
      if (cell.text || cell.problem) any = true;
      cells.set(c.key, cell);
    }
    if (!any) return;
    if (rows.length >= maxRows) throw new ImportFileError(`${ws.name}: 行数过多 / too many rows: at most ${maxRows} per sheet`, 413);
    rows.push({ row: n, cells });
  });
  return { kind, sheet: ws.name, headers, present: new Set(headers.keys()), rows };
}

function decodeText(bytes: Buffer): string {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    // Excel in a Chinese locale saves CSV as GBK (GB 18030)
    try {
      text = new TextDecoder('gb18030', { fatal: true }).decode(body);
    } catch {
      throw new ImportFileError('不是表格文件 / not a spreadsheet: the file is neither .xlsx nor a UTF-8 or GBK text CSV');
    }
  }
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) throw new ImportFileError('不是表格文件 / not a spreadsheet: the file holds binary data, not .xlsx or CSV');
  return text;
}

/** Reads an upload: an .xlsx workbook (by its bytes, whatever the content type says) or one CSV of `kind` (or of the kind its headers show). */
export async function readUpload(bytes: Buffer, opts: { kind?: Kind; maxRows: number }): Promise<ReadResult> {
  if (bytes.length === 0) throw new ImportFileError('文件为空 / the file is empty');
  if (bytes.subarray(0, 4).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0]))) throw new ImportFileError('不支持旧版 .xls 文件，请另存为 .xlsx / old .xls files are not supported: save as .xlsx');
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    const wb = new ExcelJS.Workbook();
    try {
      await wb.xlsx.load(bytes as unknown as ExcelJS.Buffer);
    } catch {
      throw new ImportFileError('不是有效的 .xlsx 文件 / not a readable .xlsx workbook');
    }
    const sheets: SheetRows[] = [];
    const seen = new Set<Kind>();
    for (const ws of wb.worksheets) {
      const kind = kindOfSheet(ws.name) ?? (wb.worksheets.length === 1 ? opts.kind : undefined);
      if (!kind) {
        if (ws.actualRowCount === 0) continue;
        throw new ImportFileError(`未知工作表 / unknown sheet "${ws.name.slice(0, 40)}": name the sheets ${Object.values(SHEETS).map((s) => `"${s.zh} ${s.en}"`).join(', ')}`);
      }
      if (seen.has(kind)) throw new ImportFileError(`工作表重复 / two sheets for ${kind}`);
      seen.add(kind);
      sheets.push(sheetRows(ws, kind, opts.maxRows));
    }
    if (!sheets.length) throw new ImportFileError('工作簿中没有可导入的工作表 / the workbook has no sheet to import');
    return { format: 'xlsx', sheets };
  }
  const text = decodeText(bytes);
  const wb = new ExcelJS.Workbook();
  let ws: ExcelJS.Worksheet;
  try {
    // every cell as text: no date or number guessing (ID numbers and phones keep their digits)
    ws = await wb.csv.read(Readable.from([text]), { map: (v: unknown) => v, parserOptions: { maxRows: opts.maxRows + 2 } });
  } catch (e) {
    throw new ImportFileError(`CSV 无法解析 / unreadable CSV: ${(e as Error).message.slice(0, 200)}`);
  }
  const headers: string[] = [];
  ws.getRow(1).eachCell((c) => headers.push(cellOf(c.value).text));
  const kind = opts.kind ?? kindOfHeaders(headers);
  if (!kind) throw new ImportFileError('无法识别的 CSV：表头不是老人、联系人或设备的模板 / not an import CSV: the headers are not those of the elders, contacts or devices template');
  if (ws.actualRowCount > opts.maxRows + 1) throw new ImportFileError(`行数过多 / too many rows: at most ${opts.maxRows}`, 413);
  return { format: 'csv', sheets: [sheetRows(ws, kind, opts.maxRows)] };
}

export interface SheetOut {
  kind: Kind;
  columns: Column[];
  rows: string[][];
}

/** A workbook (one sheet per kind) or a CSV (one kind; UTF-8 with a BOM so that Excel reads the Chinese). */
export async function writeFile(format: Format, sheets: SheetOut[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Anxin';
  for (const s of sheets) {
    const ws = wb.addWorksheet(`${SHEETS[s.kind].zh} ${SHEETS[s.kind].en}`);
    // text columns: a spreadsheet application must not turn ID numbers or phones into numbers
    ws.columns = s.columns.map((c) => ({ header: header(c), key: c.key, width: Math.max(12, header(c).length + 4), style: { numFmt: '@' } }));
    ws.getRow(1).font = { bold: true };
    for (const r of s.rows) ws.addRow(r.map(neutralise));
  }
  if (format === 'xlsx') return Buffer.from(await wb.xlsx.writeBuffer());
  const csv = Buffer.from(await wb.csv.writeBuffer({ map: (v: unknown) => v, formatterOptions: { writeBOM: false } }));
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv]);
}
