/**
 * 生命体征 in the elder's file (issue 23): heart rate, blood pressure, SpO₂, temperature and steps over 24 h, 7 d or
 * 30 d, with the elder's alarm thresholds drawn as dashed lines. Closed until the agent opens it, so a screen-pop
 * does not wait on the telemetry store. Health data: only for the roles that answer alarms, never installers.
 */
import { useEffect, useState } from 'preact/hooks';
import { HttpError } from '../../api';
import { fmtTime, t } from '../../i18n';
import { errorText } from '../../session';
import { useStore } from '../../store';
import { fetchVitals } from '../../vitals';
import { MEASURES, VITAL_RANGES, type VitalRange, type VitalsSeries } from '../../vitals-chart';
import { VitalCard } from './VitalCard';
import './vitals.css';

const ROLES = new Set(['agent', 'supervisor', 'admin']);

export function VitalsSection({ elderId }: { elderId: number }) {
  const role = useStore((s) => s.user?.role);
  const [open, setOpen] = useState(false);
  if (!role || !ROLES.has(role)) return null;
  return (
    <section class="box vitals" data-testid="vitals" aria-label={t('vitals.title')}>
      <button type="button" class="vitals-toggle" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="vitals-toggle">
        <h3>{t('vitals.title')}</h3>
        <span class="muted">{open ? t('vitals.hide') : t('vitals.show')}</span>
      </button>
      {open && <VitalsBody elderId={elderId} />}
    </section>
  );
}

/** While a new range loads, the last charts stay (dimmed), so the file does not jump. */
type Load = { state: 'loading'; data?: VitalsSeries } | { state: 'error'; message: string } | { state: 'ok'; data: VitalsSeries };

function VitalsBody({ elderId }: { elderId: number }) {
  const tz = useStore((s) => s.config.timezone);
  const [range, setRange] = useState<VitalRange>('24h');
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    let alive = true;
    setLoad((l) => ({ state: 'loading', data: 'data' in l ? l.data : undefined }));
    fetchVitals(elderId, range)
      .then((data) => alive && setLoad({ state: 'ok', data }))
      .catch((e: unknown) => alive && setLoad({ state: 'error', message: e instanceof HttpError && e.status === 503 ? t('vitals.unavailable') : errorText(e) }));
    return () => {
      alive = false;
    };
  }, [elderId, range, nonce]);

  return (
    <div class="vitals-body" data-testid="vitals-body" data-range={range} data-state={load.state}>
      <div class="vitals-bar">
        <span class="seg" role="group" aria-label={t('vitals.rangeLabel')}>
          {VITAL_RANGES.map((r) => (
            <button key={r} type="button" class={`chip small ${r === range ? 'on' : ''}`} aria-pressed={r === range} onClick={() => setRange(r)} data-testid={`vitals-range-${r}`}>
              {t(`vitals.range.${r}`)}
            </button>
          ))}
        </span>
        {load.state === 'ok' && (
          <span class="muted small-text" data-testid="vitals-window">
            {fmtTime(load.data.from, tz, true)} – {fmtTime(load.data.to, tz, true)}
          </span>
        )}
        <button type="button" class="btn ghost small" disabled={load.state === 'loading'} onClick={() => setNonce(nonce + 1)} data-testid="vitals-refresh">
          {t('vitals.refresh')}
        </button>
      </div>
      {load.state === 'loading' && <p class="muted vitals-loading">{t('common.loading')}</p>}
      {load.state === 'error' && (
        <div class="form-error vitals-error" role="alert" data-testid="vitals-error">
          <span>{load.message}</span>
          <button type="button" class="btn small" onClick={() => setNonce(nonce + 1)} data-testid="vitals-retry">
            {t('vitals.retry')}
          </button>
        </div>
      )}
      {load.state !== 'error' && load.data && (
        <div class={`vitals-grid ${load.state === 'loading' ? 'stale' : ''}`}>
          {MEASURES.map((m) => (
            <VitalCard key={m.id} measure={m} data={load.data!} tz={tz} />
          ))}
        </div>
      )}
    </div>
  );
}
