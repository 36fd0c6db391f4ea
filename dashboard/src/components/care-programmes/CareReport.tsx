/**
 * 关怀报表 (supervisors, admins): welfare calls per day or area over a date range — made, answered, 平安, 求助,
 * 未接通, escalated, checked in — with totals, and the elders who missed two days in a row. A table, no chart.
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { REPORT_COLUMNS, addDays, careErrorText, careFieldErrors, careReport, centreDate, type CareReport } from '../../care';

export function CareReportPanel() {
  const today = centreDate();
  const [from, setFrom] = useState(addDays(today, -6));
  const [to, setTo] = useState(today);
  const [groupBy, setGroupBy] = useState<'day' | 'area'>('day');
  const [report, setReport] = useState<CareReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      setReport(await careReport({ from, to, groupBy }));
    } catch (e) {
      const f = careFieldErrors(e);
      setError(Object.values(f)[0] ?? careErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => void load(), [groupBy]);
  return (
    <section class="box care-report" data-testid="care-report">
      <form
        class="filters care-report-filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <label>
          <span>{t('care.report.from')}</span>
          <input type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} data-testid="care-report-from" />
        </label>
        <label>
          <span>{t('care.report.to')}</span>
          <input type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} data-testid="care-report-to" />
        </label>
        <label>
          <span>{t('care.report.groupBy')}</span>
          <select value={groupBy} onChange={(e) => setGroupBy(e.currentTarget.value as 'day' | 'area')} data-testid="care-report-group">
            <option value="day">{t('care.report.byDay')}</option>
            <option value="area">{t('care.report.byArea')}</option>
          </select>
        </label>
        <div class="filter-actions">
          <button type="submit" class="btn small primary" disabled={busy} data-testid="care-report-load">
            {t('care.report.load')}
          </button>
        </div>
      </form>
      {error && (
        <p class="form-error" role="alert" data-testid="care-report-error">
          {error}
        </p>
      )}
      {report && (
        <div class="care-report-body">
          <div class="table-wrap">
            <table class="table care-table care-report-table" data-testid="care-report-table">
              <thead>
                <tr>
                  <th>{report.groupBy === 'area' ? t('care.report.area') : t('care.report.day')}</th>
                  {REPORT_COLUMNS.map((c) => (
                    <th key={c} class="num">
                      {t(`care.report.col.${c}`)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {report.rows.length === 0 && (
                  <tr>
                    <td colSpan={REPORT_COLUMNS.length + 1} class="muted">
                      {t('care.report.empty')}
                    </td>
                  </tr>
                )}
                {report.rows.map((r) => (
                  <tr key={r.key} data-testid="care-report-row" data-key={r.key}>
                    <td class="nowrap">{r.key || t('care.report.noArea')}</td>
                    {REPORT_COLUMNS.map((c) => (
                      <td key={c} class={`num ${c === 'failed' && r.failed ? 'late' : ''}`} data-col={c}>
                        {r[c]}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr class="care-total" data-testid="care-report-total">
                  <td>{t('care.report.total')}</td>
                  {REPORT_COLUMNS.map((c) => (
                    <td key={c} class="num" data-col={c}>
                      {report.totals[c]}
                    </td>
                  ))}
                </tr>
              </tfoot>
            </table>
          </div>
          <div class="care-flagged" data-testid="care-report-flagged">
            <h4>{t('care.report.flagged')}</h4>
            {report.flagged.length === 0 ? (
              <p class="muted small">{t('care.report.noFlagged')}</p>
            ) : (
              <ul>
                {report.flagged.map((f) => (
                  <li key={f.elderId} data-testid="care-flagged-elder" data-elder-id={f.elderId}>
                    <strong>{f.name || `#${f.elderId}`}</strong>
                    {f.area && <small class="muted"> {f.area}</small>}
                    <span class="late"> {t('care.report.missed', { days: f.days, last: f.lastDate })}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
