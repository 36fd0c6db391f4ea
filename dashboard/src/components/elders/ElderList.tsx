/** The elders list: search as one types (debounced), area and category filters, pages of 20. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { errorText } from '../../session';
import { CATEGORIES, categoryLabel, idTail, listElders, type ElderQuery, type ElderRow } from '../../elders-admin';

/** Areas seen in this page's answers: the area filter offers them (there is no list of areas to ask for). */
const seenAreas = new Set<string>();

export function ElderList({ query, setQuery, onOpen }: { query: ElderQuery; setQuery: (q: ElderQuery) => void; onOpen: (id: number | 'new') => void }) {
  const [text, setText] = useState(query.q);
  const [page, setPage] = useState<{ items: ElderRow[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);

  // typing waits 300 ms before asking; every change of the query asks again, and only the latest answer shows
  useEffect(() => {
    if (text === query.q) return;
    const h = setTimeout(() => setQuery({ ...query, q: text, offset: 0 }), 300);
    return () => clearTimeout(h);
  }, [text]);

  useEffect(() => {
    const n = ++seq.current;
    listElders(query)
      .then((p) => {
        if (n !== seq.current) return;
        for (const e of p.items) if (e.area) seenAreas.add(e.area);
        setPage(p);
        setError(null);
      })
      .catch((e: unknown) => n === seq.current && setError(errorText(e)));
  }, [query]);

  const set = (patch: Partial<ElderQuery>) => setQuery({ ...query, offset: 0, ...patch });
  const last = page ? Math.min(page.total, query.offset + page.items.length) : 0;

  return (
    <section class="box elders-list" aria-label={t('elders.title')}>
      <div class="elders-head">
        <h2>{t('elders.title')}</h2>
        <span class="muted" data-testid="elders-total">
          {page ? t('elders.count', { n: page.total }) : ''}
        </span>
        <button type="button" class="btn primary elders-new" onClick={() => onOpen('new')} data-testid="elders-new">
          {t('elders.new')}
        </button>
      </div>
      <div class="elders-filters">
        <input type="search" value={text} placeholder={t('elders.searchHint')} aria-label={t('elders.search')} onInput={(e) => setText(e.currentTarget.value)} data-testid="elders-search" />
        <input list="elders-areas" value={query.area} placeholder={t('elders.area')} aria-label={t('elders.filterArea')} onChange={(e) => set({ area: e.currentTarget.value })} data-testid="elders-filter-area" />
        <datalist id="elders-areas">
          {[...seenAreas].sort().map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <select value={query.category} aria-label={t('elders.filterCategory')} onChange={(e) => set({ category: e.currentTarget.value })} data-testid="elders-filter-category">
          <option value="">{t('elders.allCategories')}</option>
          {CATEGORIES.map((c) => (
            <option key={c} value={c}>
              {categoryLabel(c)}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {!page && !error && <p class="muted">{t('common.loading')}</p>}
      {page && (
        <div class="table-wrap">
          <table class="table elders-table" data-testid="elders-table">
            <thead>
              <tr>
                <th>{t('elders.name')}</th>
                <th>{t('elders.phone')}</th>
                <th>{t('elders.idTail')}</th>
                <th>{t('elders.address')}</th>
                <th>{t('elders.devices')}</th>
                <th>{t('elders.area')}</th>
                <th>{t('elders.openAlarms')}</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((e) => (
                <tr key={e.id} class="clickable" tabIndex={0} onClick={() => onOpen(e.id)} onKeyDown={(k) => k.key === 'Enter' && onOpen(e.id)} data-testid="elder-row" data-elder-id={e.id}>
                  <td class="elders-name" data-testid="elder-row-name">
                    <strong>{e.name}</strong>
                    {e.categories?.length ? <small class="muted"> {e.categories.map(categoryLabel).join('·')}</small> : null}
                  </td>
                  <td class="nowrap" data-label={t('elders.phone')}>{e.phone ?? ''}</td>
                  <td class="nowrap mono" data-label={t('elders.idTail')}>{idTail(e.idNumber)}</td>
                  <td class="elders-addr" title={e.address ?? ''} data-testid="elder-row-address">
                    {e.address ?? ''}
                  </td>
                  <td class="elders-devs" data-label={t('elders.devices')}>{(e.devices ?? []).join(', ')}</td>
                  <td class="nowrap" data-label={t('elders.area')}>{e.area ?? ''}</td>
                  <td class="num" data-label={t('elders.openAlarms')}>{e.openAlarms ? <span class="elders-open">{e.openAlarms}</span> : <span class="muted">0</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.items.length === 0 && <p class="muted">{t('elders.none')}</p>}
        </div>
      )}
      {page && page.total > query.limit && (
        <div class="elders-pager">
          <button type="button" class="btn small" disabled={query.offset === 0} onClick={() => setQuery({ ...query, offset: Math.max(0, query.offset - query.limit) })} data-testid="elders-prev">
            {t('elders.prev')}
          </button>
          <span class="muted">{t('elders.range', { from: query.offset + 1, to: last, n: page.total })}</span>
          <button type="button" class="btn small" disabled={last >= page.total} onClick={() => setQuery({ ...query, offset: query.offset + query.limit })} data-testid="elders-next">
            {t('elders.next')}
          </button>
        </div>
      )}
    </section>
  );
}
