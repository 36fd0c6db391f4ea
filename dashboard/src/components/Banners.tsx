/** The offline banner, the "enable sound" prompt and the notices. */
import { unlockSound } from '../alerts';
import { fmtDuration, t } from '../i18n';
import { openFile } from '../session';
import { dismiss, store, useNow, useStore } from '../store';

export function OfflineBanner() {
  const connection = useStore((s) => s.connection);
  const since = useStore((s) => s.offlineSince);
  const at = useStore((s) => s.reconnectAt);
  const attempt = useStore((s) => s.reconnectAttempt);
  const now = useNow();
  if (connection !== 'offline') return null;
  const inS = at ? Math.max(0, Math.ceil((at - now) / 1000)) : 0;
  return (
    <div class="offline-banner" role="alert" data-testid="offline-banner">
      <strong>{t('offline.title')}</strong>
      <span>{t('offline.detail', { for: fmtDuration(since ? (now - since) / 1000 : 0), attempt, in: inS })}</span>
    </div>
  );
}

export function SoundPrompt() {
  const blocked = useStore((s) => s.soundBlocked);
  if (!blocked) return null;
  return (
    <button
      type="button"
      class="sound-banner"
      onClick={() => {
        unlockSound();
        store.set({ soundBlocked: false });
      }}
      data-testid="sound-prompt"
    >
      {t('sound.blocked')}
    </button>
  );
}

export function Notices() {
  const notices = useStore((s) => s.notices);
  if (!notices.length) return null;
  return (
    <div class="notices" aria-live="assertive">
      {notices.map((n) => (
        <div key={n.id} class={`notice notice-${n.kind}`} role={n.kind === 'info' ? 'status' : 'alert'} data-testid={`notice-${n.kind}`}>
          <span>{n.text}</span>
          {n.alarmId !== undefined && (
            <button
              type="button"
              class="btn small"
              onClick={() => {
                const a = store.get().alarms.get(n.alarmId!);
                openFile({ alarmId: n.alarmId, elderId: a?.elderId ?? undefined, reason: 'click' });
                store.set({ view: 'desk' });
                dismiss(n.id);
              }}
            >
              {t('common.open')}
            </button>
          )}
          <button type="button" class="btn ghost small" aria-label={t('common.dismiss')} onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
