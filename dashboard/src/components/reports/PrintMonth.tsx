/**
 * 打印月报: every report for one month, one after another on A4 (print.css), headed with the centre's name, the
 * month and when it was generated. It lays over the app (a portal on <body>), so print hides the app and prints
 * only this; the toolbar (month, print, close) is not printed.
 */
import { createPortal } from 'preact/compat';
import { useEffect, useState } from 'preact/hooks';
import { locale, t, type MsgKey } from '../../i18n';
import { REPORTS, fetchReport, monthRange, type Report } from '../../reports';
import { errorText } from '../../session';
import { useStore } from '../../store';
import { LoadState } from '../LoadState';
import { ReportBody } from './ReportBody';
import './print.css';

export function PrintMonth({ month, onMonth, onClose }: { month: string; onMonth: (m: string) => void; onClose: () => void }) {
  const tz = useStore((s) => s.config.timezone);
  const centre = useStore((s) => s.config.centreName) || t('reports.centre');
  const [reports, setReports] = useState<Report[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setReports(null);
    setError(null);
    const range = monthRange(month);
    Promise.all(REPORTS.map((report) => fetchReport({ report, ...range, groupBy: 'day', area: '', agentId: '', kind: '', priority: '' })))
      .then((all) => live && setReports(all))
      .catch((e: unknown) => live && setError(errorText(e)));
    return () => void (live = false);
  }, [month]);

  useEffect(() => {
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    document.addEventListener('keydown', esc);
    return () => document.removeEventListener('keydown', esc);
  }, [onClose]);

  const [y, m] = month.split('-');
  const generated = reports?.[0]?.generatedAt;
  const at = (iso: string) => {
    try {
      return new Intl.DateTimeFormat(locale(), { timeZone: tz, dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(new Date(iso));
    } catch {
      return iso;
    }
  };
  return createPortal(
    <div class="print-month" role="dialog" aria-modal="true" aria-label={t('reports.printTitle')} data-testid="print-month" data-ready={reports ? 'yes' : 'no'}>
      <div class="print-toolbar">
        <label>
          <span>{t('reports.month')}</span>
          <input type="month" value={month} required onChange={(e) => e.currentTarget.value && onMonth(e.currentTarget.value)} data-testid="print-month-input" />
        </label>
        <button type="button" class="btn primary small" disabled={!reports} onClick={() => window.print()} data-testid="print-now">
          {t('reports.print')}
        </button>
        <button type="button" class="btn ghost small" onClick={onClose} data-testid="print-close">
          {t('reports.close')}
        </button>
      </div>
      <article class="print-sheet">
        <header class="print-head">
          <h1>{centre}</h1>
          <h2 data-testid="print-month-title">{t('reports.monthTitle', { y: y ?? '', m: Number(m) })}</h2>
          <p class="muted">
            {t('reports.generated', { at: generated ? at(generated) : '…', tz: tz ?? '' })}
          </p>
        </header>
        <LoadState error={error} loaded={!!reports || !!error} empty={false} emptyText="" testid="print-month" />
        {reports?.map((r) => (
          <section key={r.report} class="print-section" data-testid={`print-section-${r.report}`}>
            <h2>{t(`reports.name.${r.report}` as MsgKey)}</h2>
            <ReportBody report={r} chartHeight={230} print />
          </section>
        ))}
      </article>
    </div>,
    document.body,
  );
}
