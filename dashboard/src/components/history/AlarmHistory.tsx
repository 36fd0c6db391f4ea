/**
 * The alarm history tab: range (local dates of the centre), elder, device, agent, kind, priority, state and outcome;
 * a page of alarms newest first; a row opens the alarm and its elder on the desk, the way the call log does.
 * Names come from data and render as text.
 */
import { useEffect, useState } from 'preact/hooks';
import { ALARM_STATES, PAGE_SIZE, searchAlarmHistory, type AlarmHistoryQuery, type AlarmHistoryRow } from '../../history';
import { fmtTime, label, locale, t } from '../../i18n';
import { ALARM_KINDS, addDays, todayIn } from '../../reports';
import { isLead, openFile, refreshAgents } from '../../session';
import { store, useStore } from '../../store';
import { ElderPicker } from '../devices/ElderPicker';
import { LoadState } from '../LoadState';
import { Pager } from './Pager';
import { useSearch } from './use-search';

interface Filters {
  from: string;
  to: string;
  elder: { id: number; name: string } | null;
  source: string;
  agentId: string;
  kind: string;
  priority: string;
  state: string;
  outcome: string;
}

const lastWeek = (tz: string | undefined): Filters => {
  const today = todayIn(tz);
  return { from: addDays(today, -6), to: today, elder: null, source: '', agentId: '', kind: '', priority: '', state: '', outcome: '' };
};

function toQuery(f: Filters, cursor: string | undefined): AlarmHistoryQuery {
  return {
    from: f.from || undefined,
    to: f.to || undefined,
    elderId: f.elder?.id,
    source: f.source.trim() || undefined,
    agentId: f.agentId ? Number(f.agentId) : undefined,
    kind: (f.kind || undefined) as AlarmHistoryQuery['kind'],
    priority: f.priority ? Number(f.priority) : undefined,
    state: (f.state || undefined) as AlarmHistoryQuery['state'],
    outcome: (f.outcome || undefined) as AlarmHistoryQuery['outcome'],
    cursor,
    limit: PAGE_SIZE,
  };
}

export function AlarmHistory() {
  const tz = useStore((s) => s.config.timezone);
  const user = useStore((s) => s.user);
  const agents = useStore((s) => s.agents);
  const outcomes = useStore((s) => s.outcomes);
  const lead = isLead(user);
  const [draft, setDraft] = useState<Filters>(() => lastWeek(tz));
  const [picking, setPicking] = useState(false);
  const s = useSearch(draft, (f, cursor) => searchAlarmHistory(toQuery(f, cursor)));
  useEffect(() => {
    if (lead) void refreshAgents();
  }, [lead]);
  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));
  const agentList = [...agents.values()].filter((a) => a.role !== 'installer').sort((a, b) => (a.displayName || a.username || '').localeCompare(b.displayName || b.username || ''));
  const outcomeText = (code: string) => (outcomes[code] ? (locale() === 'en' ? outcomes[code].en : outcomes[code].zh) : code);
  const open = (a: AlarmHistoryRow) => {
    openFile({ alarmId: a.id, ...(a.elderId !== null ? { elderId: a.elderId } : {}), reason: 'click' });
    store.set({ view: 'desk' });
  };
  const items = s.page?.items ?? [];

  return (
    <section class="box calllog-list history-list" aria-label={t('history.tab.alarms')}>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          s.search({ ...draft });
        }}
        data-testid="history-alarm-filters"
      >
        <label>
          <span>{t('history.from')}</span>
          <input type="date" value={draft.from} onInput={(e) => set({ from: e.currentTarget.value })} data-testid="history-from" />
        </label>
        <label>
          <span>{t('history.to')}</span>
          <input type="date" value={draft.to} onInput={(e) => set({ to: e.currentTarget.value })} data-testid="history-to" />
        </label>
        {draft.elder ? (
          <span class="chip small on filter-elder" data-testid="history-elder">
            <span class="cell-clip" title={draft.elder.name}>
              {t('history.elder')}: {draft.elder.name}
            </span>
            <button type="button" class="btn ghost small" aria-label={t('common.dismiss')} onClick={() => set({ elder: null })}>
              ×
            </button>
          </span>
        ) : (
          <button type="button" class="btn small" onClick={() => setPicking((p) => !p)} aria-expanded={picking} data-testid="history-pick-elder">
            {t('history.pickElder')}
          </button>
        )}
        <label>
          <span>{t('history.device')}</span>
          <input value={draft.source} placeholder={t('history.devicePlaceholder')} onInput={(e) => set({ source: e.currentTarget.value })} data-testid="history-device" />
        </label>
        <label>
          <span>{t('history.agent')}</span>
          <select value={draft.agentId} onChange={(e) => set({ agentId: e.currentTarget.value })} data-testid="history-agent">
            <option value="">{t('history.all')}</option>
            {lead
              ? agentList.map((a) => (
                  <option key={a.userId} value={String(a.userId)}>
                    {a.displayName || a.username || `#${a.userId}`}
                  </option>
                ))
              : user && <option value={String(user.id)}>{t('history.mine')}</option>}
          </select>
        </label>
        <label>
          <span>{t('history.kind')}</span>
          <select value={draft.kind} onChange={(e) => set({ kind: e.currentTarget.value })} data-testid="history-kind">
            <option value="">{t('history.all')}</option>
            {ALARM_KINDS.map((k) => (
              <option key={k} value={k}>
                {label('kind', k)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('history.priority')}</span>
          <select value={draft.priority} onChange={(e) => set({ priority: e.currentTarget.value })} data-testid="history-priority">
            <option value="">{t('history.all')}</option>
            {[1, 2, 3, 4, 5].map((p) => (
              <option key={p} value={String(p)}>
                P{p} {label('priority', p)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('history.state')}</span>
          <select value={draft.state} onChange={(e) => set({ state: e.currentTarget.value })} data-testid="history-state">
            <option value="">{t('history.all')}</option>
            {ALARM_STATES.map((x) => (
              <option key={x} value={x}>
                {label('state', x)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('history.outcome')}</span>
          <select value={draft.outcome} onChange={(e) => set({ outcome: e.currentTarget.value })} data-testid="history-outcome">
            <option value="">{t('history.all')}</option>
            {Object.keys(outcomes).map((o) => (
              <option key={o} value={o}>
                {outcomeText(o)}
              </option>
            ))}
          </select>
        </label>
        <div class="filter-actions">
          <button type="submit" class="btn primary small" disabled={s.loading} data-testid="history-search">
            {t('history.search')}
          </button>
          <button
            type="button"
            class="btn ghost small"
            onClick={() => {
              const f = lastWeek(tz);
              setDraft(f);
              s.search(f);
            }}
          >
            {t('history.reset')}
          </button>
        </div>
      </form>
      {picking && !draft.elder && (
        <div class="history-picker">
          <ElderPicker
            autoFocus
            onPick={(e) => {
              set({ elder: { id: e.id, name: e.name } });
              setPicking(false);
            }}
          />
        </div>
      )}
      <div class="table-wrap">
        <table class="table calllog-table" data-testid="history-alarm-table">
          <thead>
            <tr>
              <th>{t('history.time')}</th>
              <th>{t('history.kind')}</th>
              <th>{t('history.elder')}</th>
              <th>{t('history.area')}</th>
              <th>{t('history.device')}</th>
              <th>{t('history.agent')}</th>
              <th>{t('history.state')}</th>
              <th>{t('history.outcome')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr
                key={a.id}
                class="clickable"
                tabIndex={0}
                onClick={() => open(a)}
                onKeyDown={(e) => e.key === 'Enter' && open(a)}
                data-testid="history-alarm-row"
                data-alarm-id={a.id}
                data-kind={a.kind}
              >
                <td class="nowrap">{fmtTime(a.firstAt, tz, true)}</td>
                <td class="nowrap">
                  <span class={`prio-pill p${a.priority}`}>P{a.priority}</span> {label('kind', a.kind)}
                  {a.test && <small class="muted"> · {t('history.test')}</small>}
                </td>
                <td>
                  <span class="cell-clip" data-testid="history-alarm-elder">
                    {a.elderName ?? '—'}
                  </span>
                </td>
                <td>
                  <span class="cell-clip">{a.area ?? '—'}</span>
                </td>
                <td>
                  <span class="cell-clip">{a.deviceIdentifier ?? a.sourceKey ?? '—'}</span>
                </td>
                <td>
                  <span class="cell-clip">{a.agentName ?? '—'}</span>
                </td>
                <td class="nowrap">{label('state', a.state)}</td>
                <td>
                  <span class="cell-clip">{a.outcome ? outcomeText(a.outcome) : '—'}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <LoadState error={s.error} loaded={s.page !== null || s.error !== null} empty={!s.loading && items.length === 0} emptyText={t('history.emptyAlarms')} testid="history-alarms" />
      </div>
      <Pager pager={s.pager} total={s.page?.total ?? null} next={s.page?.nextCursor ?? null} loading={s.loading} onPrevious={s.previous} onNext={s.next} testid="history-alarms" />
    </section>
  );
}
