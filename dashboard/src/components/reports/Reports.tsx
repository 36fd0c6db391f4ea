/**
 * 统计报表 (issue 23): a supervisor or admin picks a report, a range of the centre's local dates (or a quick pick),
 * the grouping and the filters; the report shows as a chart and a table of the same numbers, exports as .xlsx or
 * .csv (a plain download link) and prints as the month's report. An agent gets 我的统计: the agents report, which the
 * server limits to their own row.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { label, t, type MsgKey } from '../../i18n';
import { ALARM_KINDS, QUICK, REPORTS, exportUrl, fetchReport, previousMonth, quickRange, reportPath, todayIn, uses, type GroupBy, type Quick, type Report, type ReportName, type ReportState } from '../../reports';
import { errorText, isLead, refreshAgents } from '../../session';
import { useStore } from '../../store';
import { LoadState } from '../LoadState';
import './reports.css';
import { PrintMonth } from './PrintMonth';
import { ReportBody } from './ReportBody';

/** The last query, kept while the user looks at another screen. */
let kept: ReportState | null = null;

export function Reports() {
  const user = useStore((s) => s.user);
  const tz = useStore((s) => s.config.timezone);
  const agents = useStore((s) => s.agents);
  const lead = isLead(user);
  const today = todayIn(tz);
  const [state, setState] = useState<ReportState>(() => {
    const initial = kept ?? { report: 'alarms', ...quickRange('month', today), groupBy: 'day', area: '', agentId: '', kind: '', priority: '' };
    // an agent has no filters (another user's may be kept from before a logout on this page)
    return lead ? initial : { ...initial, report: 'agents', agentId: '', area: '', kind: '', priority: '' };
  });
  const [report, setReport] = useState<Report | null>(null);
  // the query the report shown answers: `path` is the one asked now, which the render after a change of filter
  // shows before the fetch even starts (an e2e read the day rows as the month's)
  const [loadedPath, setLoadedPath] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [printMonth, setPrintMonth] = useState<string | null>(null);
  const seq = useRef(0);
  const path = reportPath(state);

  useEffect(() => {
    kept = state;
    const n = ++seq.current;
    setLoading(true);
    setError(null);
    fetchReport(state)
      .then((r) => {
        if (n !== seq.current) return;
        setReport(r);
        setLoadedPath(path);
      })
      .catch((e: unknown) => n === seq.current && setError(errorText(e)))
      .finally(() => n === seq.current && setLoading(false));
  }, [path]);
  useEffect(() => {
    if (lead) void refreshAgents();
  }, [lead]);

  const set = (patch: Partial<ReportState>) => setState((s) => ({ ...s, ...patch }));
  const pick = (q: Quick) => set({ ...quickRange(q, today), ...(q === 'year' ? { groupBy: 'month' as const } : {}) });
  const quickOn = (q: Quick) => {
    const r = quickRange(q, today);
    return r.from === state.from && r.to === state.to;
  };
  const reports: readonly ReportName[] = lead ? REPORTS : ['agents'];
  const agentList = [...agents.values()].filter((a) => a.role === 'agent' || a.role === 'supervisor').sort((a, b) => (a.displayName || a.username || '').localeCompare(b.displayName || b.username || ''));
  const shown = report && report.report === state.report ? report : null;

  return (
    <main class="reports" data-testid="reports-view" data-report={state.report}>
      <div class="view-tabs reports-tabs" role="tablist" aria-label={t('reports.title')}>
        {lead ? (
          reports.map((r) => (
            <button type="button" role="tab" key={r} aria-selected={state.report === r} class={`chip ${state.report === r ? 'on' : ''}`} onClick={() => set({ report: r })} data-testid={`report-tab-${r}`}>
              {t(`reports.name.${r}` as MsgKey)}
            </button>
          ))
        ) : (
          <h2 class="reports-mine">{t('reports.mine')}</h2>
        )}
        <div class="view-tabs-end reports-actions">
          <a class="btn small" href={exportUrl(state, 'xlsx')} download data-testid="report-export-xlsx">
            {t('reports.exportXlsx')}
          </a>
          <a class="btn small ghost" href={exportUrl(state, 'csv')} download data-testid="report-export-csv">
            {t('reports.exportCsv')}
          </a>
          {lead && (
            <button type="button" class="btn small ghost" onClick={() => setPrintMonth(previousMonth(today.slice(0, 7)))} data-testid="report-print">
              {t('reports.printMonth')}
            </button>
          )}
        </div>
      </div>
      <section class="box reports-main" aria-busy={loading}>
        <div class="filters report-filters" data-testid="report-filters">
          {uses(state.report, 'range') && (
            <>
              <div class="report-quick" role="group" aria-label={t('reports.quick')}>
                {QUICK.map((q) => (
                  <button type="button" key={q} class={`chip small ${quickOn(q) ? 'on' : ''}`} aria-pressed={quickOn(q)} onClick={() => pick(q)} data-testid={`report-quick-${q}`}>
                    {t(`reports.quick.${q}` as MsgKey)}
                  </button>
                ))}
              </div>
              <label>
                <span>{t('reports.from')}</span>
                <input type="date" value={state.from} max={state.to} required onChange={(e) => e.currentTarget.value && set({ from: e.currentTarget.value })} data-testid="report-from" />
              </label>
              <label>
                <span>{t('reports.to')}</span>
                <input type="date" value={state.to} min={state.from} required onChange={(e) => e.currentTarget.value && set({ to: e.currentTarget.value })} data-testid="report-to" />
              </label>
            </>
          )}
          {uses(state.report, 'groupBy') && (
            <label>
              <span>{t('reports.groupBy')}</span>
              <select value={state.groupBy} onChange={(e) => set({ groupBy: e.currentTarget.value as GroupBy })} data-testid="report-group-by">
                {(['day', 'week', 'month'] as const).map((g) => (
                  <option key={g} value={g}>
                    {t(`reports.by.${g}`)}
                  </option>
                ))}
              </select>
            </label>
          )}
          {lead && uses(state.report, 'area') && (
            <label>
              <span>{t('reports.area')}</span>
              <input value={state.area} maxLength={100} placeholder={t('reports.all')} onChange={(e) => set({ area: e.currentTarget.value })} data-testid="report-area" />
            </label>
          )}
          {lead && uses(state.report, 'agentId') && (
            <label>
              <span>{t('reports.agent')}</span>
              <select value={state.agentId} onChange={(e) => set({ agentId: e.currentTarget.value })} data-testid="report-agent">
                <option value="">{t('reports.all')}</option>
                {agentList.map((a) => (
                  <option key={a.userId} value={String(a.userId)}>
                    {a.displayName || a.username || `#${a.userId}`}
                  </option>
                ))}
              </select>
            </label>
          )}
          {lead && uses(state.report, 'kind') && (
            <label>
              <span>{t('reports.kind')}</span>
              <select value={state.kind} onChange={(e) => set({ kind: e.currentTarget.value as ReportState['kind'] })} data-testid="report-kind">
                <option value="">{t('reports.all')}</option>
                {ALARM_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {label('kind', k)}
                  </option>
                ))}
              </select>
            </label>
          )}
          {lead && uses(state.report, 'priority') && (
            <label>
              <span>{t('reports.priority')}</span>
              <select value={state.priority} onChange={(e) => set({ priority: e.currentTarget.value })} data-testid="report-priority">
                <option value="">{t('reports.all')}</option>
                {[1, 2, 3, 4, 5].map((p) => (
                  <option key={p} value={String(p)}>
                    P{p} {label('priority', p)}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
        <LoadState error={error} loaded={!!shown || !!error} empty={false} emptyText="" testid="report" />
        {shown && !error && (
          <div class={`report-content ${loading ? 'stale' : ''}`} data-testid="report-content" data-loaded-path={loading || loadedPath !== path ? '' : loadedPath}>
            <ReportBody report={shown} />
          </div>
        )}
      </section>
      {printMonth && <PrintMonth month={printMonth} onMonth={setPrintMonth} onClose={() => setPrintMonth(null)} />}
    </main>
  );
}
