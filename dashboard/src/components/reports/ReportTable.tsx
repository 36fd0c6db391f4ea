/**
 * A report as a table: the report's own columns (zh-CN or English headers), its rows, then its totals. Every cell is
 * text (cellText); data-key and data-value keep the raw figure for tests and for copying.
 */
import { t } from '../../i18n';
import { cellText, columnTitle, isRate, isSeconds, type Column, type Row } from '../../reports';

export function ReportTable({ columns, rows, totals, groupBy, testid, caption }: { columns: Column[]; rows: Row[]; totals?: Row | null; groupBy?: string; testid: string; caption?: string }) {
  // a target met or missed (answering) is coloured as well as written
  const cls = (k: string, v: unknown) => [numeric(k) ? 'rnum' : '', v === true ? 'met' : v === false ? 'missed' : ''].join(' ').trim();
  const numeric = (k: string) => k !== 'agentId' && (isSeconds(k) || isRate(k) || rows.some((r) => typeof r[k] === 'number'));
  return (
    <div class="table-wrap report-table-wrap">
      <table class="table report-table" data-testid={testid}>
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} class={numeric(c.key) ? 'rnum' : ''} scope="col">
                {columnTitle(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns.length} class="muted" data-testid={`${testid}-empty`}>
                {t('reports.noRows')}
              </td>
            </tr>
          )}
          {rows.map((r, i) => (
            <tr key={i} data-testid={`${testid}-row`}>
              {columns.map((c) => (
                <td key={c.key} class={cls(c.key, r[c.key])} data-key={c.key} data-value={r[c.key] === null || r[c.key] === undefined ? '' : String(r[c.key])}>
                  {cellText(c.key, r[c.key], groupBy)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
        {totals && (
          <tfoot>
            <tr data-testid={`${testid}-totals`}>
              {columns.map((c, i) => (
                <td key={c.key} class={cls(c.key, totals[c.key])} data-key={c.key} data-value={totals[c.key] === null || totals[c.key] === undefined ? '' : String(totals[c.key])}>
                  {i === 0 ? t('reports.total') : cellText(c.key, totals[c.key], groupBy)}
                </td>
              ))}
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}
