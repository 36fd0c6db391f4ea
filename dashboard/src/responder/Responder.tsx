/**
 * What the staff member sees from the link in their dispatch SMS: the elder, the address, how to get in, the task,
 * and one big button for the next step: 接单 (or 拒单), 已到达 (with the phone's position if they allow it), 完成
 * with what was done. Text only; nothing from the order is ever HTML.
 */
import { useEffect, useState } from 'preact/hooks';
import { HttpError, get, post } from '../api';
import { t } from '../i18n';
import { LocaleSwitch } from '../components/LocaleSwitch';

interface View {
  order: { id: number; type: string; state: string; title: string; description: string | null; result: string | null; priority: number };
  elder: { name: string; address: string; accessNotes: string; phone: string; lat: number | null; lon: number | null } | null;
  mine: boolean;
  steps: string[];
  expiresAt: string;
}

/** The phone's position, if the responder allows it, within a few seconds; nothing otherwise. */
function position(): Promise<{ lat: number; lon: number } | undefined> {
  if (!('geolocation' in navigator)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => resolve(undefined),
      { timeout: 5000, maximumAge: 60_000 },
    );
  });
}

function problem(e: unknown): string {
  if (e instanceof HttpError) {
    if (e.code === 'link_unknown') return t('responder.unknown');
    if (e.code === 'link_expired') return t('responder.expired');
    if (e.code === 'not_yours') return t('responder.notYours');
    if (e.code === 'result_required') return t('responder.resultRequired');
    if (e.code === 'illegal_transition') return t('responder.moved');
  }
  return t('responder.failed');
}

export function Responder({ token }: { token: string }) {
  const [view, setView] = useState<View | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState('');

  useEffect(() => {
    get<View>(`/api/responder/${encodeURIComponent(token)}`).then(setView, (e) => setError(problem(e)));
  }, [token]);

  const step = async (s: string) => {
    setBusy(true);
    setError(null);
    try {
      const body = s === 'arrive' ? ((await position()) ?? {}) : s === 'done' ? { result } : {};
      setView(await post<View>(`/api/responder/${encodeURIComponent(token)}/${s}`, body));
    } catch (e) {
      setError(problem(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="responder" data-testid="responder" data-state={view?.order.state ?? ''}>
      <header class="responder-head">
        <span class="brand">{t('app.brand')}</span>
        <LocaleSwitch />
      </header>
      {error && (
        <p class="callout danger" role="alert" data-testid="responder-error">
          {error}
        </p>
      )}
      {!view && !error && <p class="muted">{t('common.loading')}</p>}
      {view && (
        <>
          <section class="box">
            <h1 data-testid="responder-title">{view.order.title}</h1>
            {view.order.description && <p class="pre">{view.order.description}</p>}
            <p>
              <span class="chip small" data-testid="responder-state">
                {t(`responder.state.${view.order.state}` as 'responder.state.dispatched')}
              </span>
            </p>
          </section>
          {view.elder && (
            <section class="box responder-elder">
              <h2 data-testid="responder-elder">{view.elder.name}</h2>
              <p data-testid="responder-address">{view.elder.address}</p>
              {view.elder.accessNotes && (
                <p class="access" data-testid="responder-access">
                  <strong>{t('responder.access')}</strong> {view.elder.accessNotes}
                </p>
              )}
              {view.elder.phone && (
                <a class="btn" href={`tel:${view.elder.phone.replace(/[^0-9+]/g, '')}`} data-testid="responder-call">
                  {t('responder.callElder')}
                </a>
              )}
            </section>
          )}
          {!view.mine && <p class="callout">{t('responder.notYours')}</p>}
          <section class="responder-steps">
            {view.steps.includes('accept') && (
              <button type="button" class="btn primary big" disabled={busy} onClick={() => void step('accept')} data-testid="responder-accept">
                {t('responder.accept')}
              </button>
            )}
            {view.steps.includes('refuse') && (
              <button type="button" class="btn big" disabled={busy} onClick={() => void step('refuse')} data-testid="responder-refuse">
                {t('responder.refuse')}
              </button>
            )}
            {view.steps.includes('arrive') && (
              <button type="button" class="btn primary big" disabled={busy} onClick={() => void step('arrive')} data-testid="responder-arrive">
                {t('responder.arrive')}
              </button>
            )}
            {view.steps.includes('done') && (
              <>
                <label class="responder-result">
                  <span>{t('responder.result')}</span>
                  <textarea rows={4} maxLength={2000} value={result} onInput={(e) => setResult(e.currentTarget.value)} data-testid="responder-result" />
                </label>
                <button type="button" class="btn primary big" disabled={busy || !result.trim()} onClick={() => void step('done')} data-testid="responder-done">
                  {t('responder.done')}
                </button>
              </>
            )}
            {view.order.state === 'done' && (
              <p class="callout" data-testid="responder-finished">
                {t('responder.finished')}
              </p>
            )}
          </section>
        </>
      )}
    </main>
  );
}
