/**
 * 关怀 (issue 22): today's care calls for the agents (今日关怀电话) and today's welfare calls and reminders
 * (今日平安呼叫), live on `care_task` and `care_run`; an elder's care plan by search; for supervisors and admins
 * the report (关怀报表). Everything from data renders as text.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { RUN_STATES, careErrorText, centreDate, listRuns, mergeRow, onCareRun, runStateLabel, type CareRun } from '../../care';
import type { ElderBrief } from '../../devices-admin';
import { isLead } from '../../session';
import { useStore } from '../../store';
import { ElderPicker } from '../devices/ElderPicker';
import { CarePlan } from './CarePlan';
import { CareReportPanel } from './CareReport';
import { DueTasks } from './DueTasks';
import { RunsTable } from './RunsTable';
import { LoadState } from '../LoadState';

type Tab = 'today' | 'plans' | 'report';

export function CareView() {
  const user = useStore((s) => s.user);
  const lead = isLead(user);
  const [tab, setTab] = useState<Tab>('today');
  const tabs: Tab[] = lead ? ['today', 'plans', 'report'] : ['today', 'plans'];
  return (
    <main class="care-view" data-testid="care-view">
      <div class="view-tabs" role="tablist">
        {tabs.map((x) => (
          <button key={x} type="button" role="tab" aria-selected={tab === x} class={`chip ${tab === x ? 'on' : ''}`} onClick={() => setTab(x)} data-testid={`care-tab-${x}`}>
            {t(`care.tab.${x}`)}
          </button>
        ))}
      </div>
      {tab === 'today' && (
        <div class="care-today">
          <DueTasks />
          <TodayRuns />
        </div>
      )}
      {tab === 'plans' && <Plans editable={lead} />}
      {tab === 'report' && lead && <CareReportPanel />}
    </main>
  );
}

function TodayRuns() {
  const [runs, setRuns] = useState<CareRun[] | null>(null);
  const [state, setState] = useState('');
  const [error, setError] = useState<string | null>(null);
  const date = useRef(centreDate());
  const load = async () => {
    date.current = centreDate();
    try {
      setRuns(await listRuns({ date: date.current }));
      setError(null);
    } catch (e) {
      setError(careErrorText(e));
    }
  };
  useEffect(() => {
    void load();
    return onCareRun((r) =>
      setRuns((l) => {
        if (!l) return l;
        const merged = mergeRow(l, r);
        if (merged) return merged;
        // a run not in the list (planned since): the push has no elder name, so the list is read again
        if (r.localDate === date.current) void load();
        return l;
      }),
    );
  }, []);
  const connection = useStore((s) => s.connection);
  const wasOnline = useRef(connection === 'online');
  useEffect(() => {
    if (connection === 'online' && !wasOnline.current) void load();
    wasOnline.current = connection === 'online';
  }, [connection]);

  const shown = (runs ?? []).filter((r) => !state || r.state === state).sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.id - b.id);
  const counts = new Map<string, number>();
  for (const r of runs ?? []) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  return (
    <section class="box care-runs-box" aria-label={t('care.runs.title')} data-testid="care-runs-box">
      <div class="care-head">
        <h3>
          {t('care.runs.title')} <span class="muted small">{runs ? t('care.runs.count', { n: runs.length }) : ''}</span>
        </h3>
        <label class="care-head-end care-filter">
          <span class="muted small">{t('care.col.state')}</span>
          <select value={state} onChange={(e) => setState(e.currentTarget.value)} data-testid="care-runs-state">
            <option value="">{t('orders.filter.all')}</option>
            {RUN_STATES.map((s) => (
              <option key={s} value={s}>
                {runStateLabel(s)}
                {counts.get(s) ? ` (${counts.get(s)})` : ''}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="btn ghost small" onClick={() => void load()} data-testid="care-runs-refresh">
          {t('orders.refresh')}
        </button>
      </div>
      <LoadState error={error} loaded={!!runs} empty={shown.length === 0} emptyText={t('care.runs.empty')} testid="care-runs" />
      {shown.length > 0 && <RunsTable runs={shown} />}
    </section>
  );
}

function Plans({ editable }: { editable: boolean }) {
  const [elder, setElder] = useState<ElderBrief | null>(null);
  return (
    <section class="box care-plans" data-testid="care-plans">
      {elder ? (
        <>
          <div class="care-head">
            <button type="button" class="btn ghost small" onClick={() => setElder(null)} data-testid="care-plans-back">
              ← {t('care.plans.back')}
            </button>
            <h3 data-testid="care-plans-elder">{elder.name}</h3>
            <span class="muted small">{[elder.phone, elder.area].filter(Boolean).join(' · ')}</span>
          </div>
          <CarePlan key={elder.id} elderId={elder.id} editable={editable} />
        </>
      ) : (
        <>
          <p class="muted">{t('care.plans.pick')}</p>
          <ElderPicker onPick={setElder} />
        </>
      )}
    </section>
  );
}
