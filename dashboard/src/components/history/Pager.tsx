/** 上一页 / 第 n 页（共 m 页，k 条） / 下一页 under a history table. */
import { t } from '../../i18n';
import { pageCount, pageNo, type Pager as PagerState } from '../../history';

export function Pager({ pager, total, next, loading, onPrevious, onNext, testid }: { pager: PagerState; total: number | null; next: string | null; loading: boolean; onPrevious: () => void; onNext: (cursor: string) => void; testid: string }) {
  const n = pageNo(pager);
  return (
    <div class="list-foot history-pager" data-testid={`${testid}-pager`}>
      <button type="button" class="btn small" disabled={loading || n <= 1} onClick={onPrevious} data-testid={`${testid}-prev`}>
        {t('history.previous')}
      </button>
      <span class="muted" data-testid={`${testid}-page`}>
        {t('history.pageN', { n })}
        {total !== null && ` · ${t('history.pagesOf', { pages: pageCount(total), total })}`}
      </span>
      <button type="button" class="btn small" disabled={loading || next === null} onClick={() => next !== null && onNext(next)} data-testid={`${testid}-next`}>
        {t('history.next')}
      </button>
    </div>
  );
}
