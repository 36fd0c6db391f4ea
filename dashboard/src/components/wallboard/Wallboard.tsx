/**
 * The wallboard (大屏, issue 23): one 1920×1080 screen for the centre's wall, read from 5 m. The kiosk account sees
 * nothing else (App.tsx); supervisors and admins open it as a view. Large type, dark background, live: it reloads
 * on pushed changes and every 30 s, and a lost connection or a failed read says so across the top.
 */
import './wallboard.css';
import { fmtTime, t } from '../../i18n';
import { logout } from '../../session';
import { useNow, useStore } from '../../store';
import { useBoard } from '../../wallboard';
import { LocaleSwitch } from '../LocaleSwitch';
import { BoardAgents } from './BoardAgents';
import { BoardKpis } from './BoardKpis';
import { BoardMap } from './BoardMap';
import { AlarmTable } from './BoardTables';

export function Wallboard({ kiosk }: { kiosk: boolean }) {
  const { board, skewMs, failed, loadedAt } = useBoard();
  const connection = useStore((s) => s.connection);
  const tz = useStore((s) => s.config.timezone);
  const now = useNow() + skewMs;
  const lost = connection === 'offline' || failed;
  return (
    <div class={`wb ${kiosk ? 'kiosk' : ''}`} data-testid="wallboard">
      <header class="wb-head">
        <h1>{t('wallboard.title')}</h1>
        <span class="wb-clock" data-testid="wb-clock">
          {fmtTime(now, tz || undefined)}
        </span>
        <span class="wb-updated">{loadedAt ? t('wallboard.updated', { time: fmtTime(loadedAt + skewMs, tz || undefined) }) : t('wallboard.loading')}</span>
        {kiosk && (
          <span class="wb-tools">
            <LocaleSwitch />
            <button type="button" class="wb-logout" onClick={() => void logout()} data-testid="logout">
              {t('login.logout')}
            </button>
          </span>
        )}
      </header>
      {lost && (
        <div class="wb-banner" role="alert" data-testid="wb-offline">
          {connection === 'offline' ? t('wallboard.offline') : t('wallboard.loadError')}
          {loadedAt ? ` · ${t('wallboard.stale', { time: fmtTime(loadedAt + skewMs, tz || undefined) })}` : ''}
        </div>
      )}
      {board ? (
        <>
          <BoardKpis kpi={board.kpi} devices={board.devices} />
          <div class="wb-main">
            <section class="wb-panel wb-queue" aria-label={t('wallboard.queue')}>
              <h2>
                {t('wallboard.queue')} <span class="wb-count">{board.queue.length}</span>
              </h2>
              <AlarmTable rows={board.queue} now={now} mode="queue" testid="wb-queue" empty={t('wallboard.queueEmpty')} />
            </section>
            <section class="wb-panel wb-map-panel" aria-label={t('wallboard.map')}>
              <h2>{t('wallboard.map')}</h2>
              <BoardMap alarms={board.queue} elders={board.elders} />
            </section>
            <section class="wb-panel wb-latest" aria-label={t('wallboard.latest')}>
              <h2>{t('wallboard.latest')}</h2>
              <AlarmTable rows={board.latest} now={now} mode="latest" testid="wb-latest" empty={t('wallboard.latestEmpty')} />
            </section>
            <section class="wb-panel wb-agents" aria-label={t('wallboard.agents')}>
              <h2>{t('wallboard.agents')}</h2>
              <BoardAgents agents={board.agents} now={now} />
            </section>
          </div>
        </>
      ) : (
        <p class="wb-wait">{failed ? t('wallboard.loadError') : t('wallboard.loading')}</p>
      )}
    </div>
  );
}
