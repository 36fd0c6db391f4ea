/**
 * The audit log tab (审计日志, admins): who did what, when and from where. Actions are translated where the
 * dashboard has a label, else shown as stored; the detail is its JSON as text, cut short with a toggle.
 */
import { useState } from 'preact/hooks';
import { auditActionText, auditWho, detailText, PAGE_SIZE, searchAudit, type AuditEntry, type AuditQuery } from '../../history';
import { fmtTime, t } from '../../i18n';
import { addDays, todayIn } from '../../reports';
import { useStore } from '../../store';
import { LoadState } from '../LoadState';
import { Pager } from './Pager';
import { useSearch } from './use-search';

interface Filters {
  from: string;
  to: string;
  /** a username, or an actor as stored (system, staff:3, user:12) */
  who: string;
  action: string;
  target: string;
  ip: string;
}

const lastWeek = (tz: string | undefined): Filters => {
  const today = todayIn(tz);
  return { from: addDays(today, -6), to: today, who: '', action: '', target: '', ip: '' };
};

function toQuery(f: Filters, cursor: string | undefined): AuditQuery {
  const who = f.who.trim();
  const stored = /^(system|anonymous|device)$|^[a-z]+:/.test(who);
  return {
    from: f.from || undefined,
    to: f.to || undefined,
    ...(who ? (stored ? { actor: who } : { username: who }) : {}),
    action: f.action.trim() || undefined,
    target: f.target.trim() || undefined,
    ip: f.ip.trim() || undefined,
    cursor,
    limit: PAGE_SIZE,
  };
}

function Detail({ e }: { e: AuditEntry }) {
  const [full, setFull] = useState(false);
  const d = detailText(e.detail, full);
  if (!d.text) return <span class="muted">—</span>;
  return (
    <span class="audit-detail">
      <code class={full ? 'full' : ''} data-testid="audit-detail">
        {d.text}
      </code>
      {(d.cut || full) && (
        <button type="button" class="btn ghost small" onClick={() => setFull((x) => !x)} data-testid="audit-detail-toggle">
          {t(full ? 'history.less' : 'history.more')}
        </button>
      )}
    </span>
  );
}

export function AuditLog() {
  const tz = useStore((s) => s.config.timezone);
  const [draft, setDraft] = useState<Filters>(() => lastWeek(tz));
  const s = useSearch(draft, (f, cursor) => searchAudit(toQuery(f, cursor)));
  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));
  const items = s.page?.items ?? [];
  return (
    <section class="box calllog-list history-list" aria-label={t('history.tab.audit')}>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          s.search({ ...draft });
        }}
        data-testid="audit-filters"
      >
        <label>
          <span>{t('history.from')}</span>
          <input type="date" value={draft.from} onInput={(e) => set({ from: e.currentTarget.value })} data-testid="audit-from" />
        </label>
        <label>
          <span>{t('history.to')}</span>
          <input type="date" value={draft.to} onInput={(e) => set({ to: e.currentTarget.value })} data-testid="audit-to" />
        </label>
        <label>
          <span>{t('history.who')}</span>
          <input value={draft.who} placeholder={t('history.whoPlaceholder')} onInput={(e) => set({ who: e.currentTarget.value })} data-testid="audit-who" />
        </label>
        <label>
          <span>{t('history.action')}</span>
          <input value={draft.action} placeholder={t('history.actionPlaceholder')} onInput={(e) => set({ action: e.currentTarget.value })} data-testid="audit-action" />
        </label>
        <label>
          <span>{t('history.target')}</span>
          <input value={draft.target} placeholder="alarm:12" onInput={(e) => set({ target: e.currentTarget.value })} data-testid="audit-target" />
        </label>
        <label>
          <span>{t('history.ip')}</span>
          <input value={draft.ip} onInput={(e) => set({ ip: e.currentTarget.value })} data-testid="audit-ip" />
        </label>
        <div class="filter-actions">
          <button type="submit" class="btn primary small" disabled={s.loading} data-testid="audit-search">
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
      <div class="table-wrap">
        <table class="table calllog-table audit-table" data-testid="audit-table">
          <thead>
            <tr>
              <th>{t('history.time')}</th>
              <th>{t('history.who')}</th>
              <th>{t('history.action')}</th>
              <th>{t('history.target')}</th>
              <th>{t('history.ip')}</th>
              <th>{t('history.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                <td class="nowrap">{fmtTime(e.at, tz, true)}</td>
                <td>
                  <span class="cell-clip audit-who" title={auditWho(e)} data-testid="audit-who-cell">
                    {auditWho(e)}
                  </span>
                </td>
                <td>
                  <span class="cell-clip" title={e.action}>
                    {auditActionText(e.action)}
                  </span>
                </td>
                <td>
                  <span class="cell-clip" title={e.target ?? ''}>
                    {e.target ?? '—'}
                  </span>
                </td>
                <td>
                  <span class="cell-clip" title={e.userAgent ?? ''} data-testid="audit-ip-cell">
                    {e.ip ?? '—'}
                  </span>
                </td>
                <td>
                  <Detail e={e} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <LoadState error={s.error} loaded={s.page !== null || s.error !== null} empty={!s.loading && items.length === 0} emptyText={t('history.emptyAudit')} testid="history-audit" />
      </div>
      <Pager pager={s.pager} total={s.page?.total ?? null} next={s.page?.nextCursor ?? null} loading={s.loading} onPrevious={s.previous} onNext={s.next} testid="history-audit" />
    </section>
  );
}
