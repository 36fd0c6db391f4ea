/**
 * One measure of 生命体征: its latest reading and time as text, its alarm thresholds, the chart (or "no readings in
 * this range") and, folded away, a table of the same numbers as the chart.
 */
import { useMemo } from 'preact/hooks';
import { fmtTime, t } from '../../i18n';
import { useStore } from '../../store';
import { tr } from '../../vitals';
import { bucketsOf, chartOption, fieldName, fmtValue, thresholdLabels, thresholdOf, timeLabel, type Measure, type VitalRange, type VitalsSeries } from '../../vitals-chart';
import { EChart } from '../charts/EChart';

export function VitalCard({ measure: m, data, tz }: { measure: Measure; data: VitalsSeries; tz: string | undefined }) {
  const currentLocale = useStore((s) => s.locale);
  const unit = tr(m.unit);
  const buckets = bucketsOf(m, data);
  const option = useMemo(() => (buckets.length ? chartOption(m, data, { tz, locale: currentLocale, tr }) : null), [data, tz, currentLocale]);
  const latest = m.fields.map((f) => data.latest[f]);
  const shown = latest.filter((l) => l !== undefined);
  const limits = m.fields.flatMap((f) => thresholdLabels(thresholdOf(data, f), tr).map((l) => (m.fields.length > 1 ? `${fieldName(f, tr)} ${l.text}` : l.text)));
  const range = data.range as VitalRange;

  return (
    <div class="vital-card" data-testid={`vital-${m.id}`}>
      <div class="vital-head">
        <h4>
          {tr(m.title)} <small>{unit}</small>
        </h4>
        {shown.length > 0 && (
          <span class="vital-latest" data-testid={`vital-${m.id}-latest`}>
            <span class="muted">{t('vitals.latest')}</span>{' '}
            <strong data-testid={`vital-${m.id}-value`}>{latest.map((l) => (l ? fmtValue(l.value, m.digits) : '—')).join('/')}</strong> {unit}
            <span class="muted"> · {fmtTime(shown[0]!.time, tz, true)}</span>
          </span>
        )}
      </div>
      <p class="vital-limits muted" data-testid={`vital-${m.id}-limits`}>
        {limits.length ? t('vitals.limits', { unit, list: limits.join(t('vitals.sep')) }) : t('vitals.noLimits')}
      </p>
      {option ? (
        <>
          <EChart option={option} height={170} testId={`vital-${m.id}-chart`} label={`${tr(m.title)} (${unit})`} />
          <p class="vital-note muted">{m.id === 'steps' ? t('vitals.stepsNote') : t('vitals.bandNote')}</p>
          <details class="vital-table">
            <summary>{t('vitals.table')}</summary>
            <table>
              <thead>
                <tr>
                  <th>{t('vitals.col.time')}</th>
                  {m.fields.length > 1 && <th>{t('vitals.col.field')}</th>}
                  <th>{t('vitals.col.avg')}</th>
                  <th>{t('vitals.col.min')}</th>
                  <th>{t('vitals.col.max')}</th>
                  <th>{t('vitals.col.count')}</th>
                </tr>
              </thead>
              <tbody>
                {buckets.flatMap((b) =>
                  m.fields.map((f) => {
                    const s = b.fields[f];
                    if (!s) return null;
                    return (
                      <tr key={`${b.time}-${f}`}>
                        <td>{timeLabel(Date.parse(b.time), range === '30d' ? '7d' : range, tz, currentLocale)}</td>
                        {m.fields.length > 1 && <td>{fieldName(f, tr)}</td>}
                        <td>{fmtValue(s.avg, m.digits)}</td>
                        <td>{fmtValue(s.min, m.digits)}</td>
                        <td>{fmtValue(s.max, m.digits)}</td>
                        <td>{s.count}</td>
                      </tr>
                    );
                  }),
                )}
              </tbody>
            </table>
          </details>
        </>
      ) : (
        <p class="muted empty vital-empty" data-testid={`vital-${m.id}-empty`}>
          {t('vitals.empty')}
        </p>
      )}
    </div>
  );
}
