/** The supervisor's alert banners: each stays until 知道了 (acknowledged); more than three are counted. */
import { fmtTime, label, t } from '../i18n';
import { elderName, openFile } from '../session';
import { store, useStore } from '../store';
import { acknowledgeAlert, acknowledgeAllAlerts, reasonKey } from '../supervisor-alerts';

const SHOWN = 3;

export function SupervisorAlerts() {
  const alerts = useStore((s) => s.supAlerts);
  useStore((s) => s.elders); // names arrive after the alert
  const tz = useStore((s) => s.config.timezone);
  if (!alerts.length) return null;
  const newest = [...alerts].reverse();
  const more = newest.length - SHOWN;
  return (
    <div class="sup-alerts" role="alert" data-testid="sup-alerts" data-count={alerts.length}>
      {newest.slice(0, SHOWN).map((a) => (
        <div key={a.id} class={`sup-alert p${a.priority}`} data-testid="sup-alert" data-alarm-id={a.alarmId} data-reason={a.reason}>
          <strong class="sup-reason">{t(reasonKey(a.reason))}</strong>
          <span class="sup-what">
            {t('supAlert.what', { id: a.alarmId, kind: label('kind', a.kind), name: elderName(a.elderId) ?? '' })}
            {a.count > 1 && <small class="sup-count">{t('supAlert.times', { n: a.count })}</small>}
          </span>
          <time class="muted">{fmtTime(a.at, tz)}</time>
          <button
            type="button"
            class="btn small"
            onClick={() => {
              openFile({ alarmId: a.alarmId, elderId: a.elderId ?? undefined, reason: 'click' });
              store.set({ view: 'desk' });
            }}
          >
            {t('common.open')}
          </button>
          <button type="button" class="btn primary small" onClick={() => acknowledgeAlert(a.id)} data-testid="sup-alert-ack">
            {t('supAlert.ack')}
          </button>
        </div>
      ))}
      {more > 0 && (
        <div class="sup-alert sup-more" data-testid="sup-alert-more">
          <span>{t('supAlert.more', { n: more })}</span>
          <button type="button" class="btn small" onClick={acknowledgeAllAlerts} data-testid="sup-alert-ack-all">
            {t('supAlert.ackAll')}
          </button>
        </div>
      )}
    </div>
  );
}
