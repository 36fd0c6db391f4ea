/** One history tab's search: the applied filters, the pager, the page on screen, loading and error. */
import { useEffect, useState } from 'preact/hooks';
import { currentCursor, firstPage, nextPage, previousPage, type Pager } from '../../history';
import { errorText } from '../../session';

interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
}

export function useSearch<F, T>(initial: F, fetch: (f: F, cursor: string | undefined) => Promise<PageOf<T>>) {
  const [applied, setApplied] = useState<F>(initial);
  const [pager, setPager] = useState<Pager>(firstPage);
  const [page, setPage] = useState<PageOf<T> | null>(null);
  // the pages behind the rows on screen: the label and the buttons follow them, not a request still on its way
  const [shown, setShown] = useState<Pager>(firstPage);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    setLoading(true);
    setError(null);
    fetch(applied, currentCursor(pager)).then(
      (p) => alive && (setPage(p), setShown(pager), setLoading(false)),
      (e: unknown) => alive && (setError(errorText(e)), setPage(null), setLoading(false)),
    );
    return () => void (alive = false);
  }, [applied, pager]);
  return {
    page,
    loading,
    error,
    pager: shown,
    /** a new search starts on page 1 */
    search: (f: F) => {
      setApplied(f);
      setPager(firstPage());
    },
    next: (cursor: string) => setPager(nextPage(shown, cursor)),
    previous: () => setPager(previousPage(shown)),
  };
}
