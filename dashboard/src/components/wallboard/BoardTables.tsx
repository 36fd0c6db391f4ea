/** The queue (ages ticking each second) and today's last 10 alarms: text only, masked names, large type. */
import { fmtDuration, fmtTime, label, t } from '../../i18n';
import { useStore } from '../../store';
import type { BoardAlarm } from '../../wallboard';

export function AlarmTable({ rows, now, mode, testid, empty }: { rows: BoardAlarm[]; now: number; mode: 'queue' | 'latest'; testid: string; empty: string }) {
  const tz = useStore((s) => s.config.timezone) || undefined;
  if (!rows.length) return <p class="wb-empty" data-testid={`${testid}-empty`}>{empty}</p>;
  return (
    <table class={`wb-table wb-${mode}-table`} data-testid={testid}>
      <thead>
        <tr>
          <th class="c-pri">{t('wallboard.col.priority')}</th>
          <th class="c-kind">{t('wallboard.col.kind')}</th>
          <th class="c-elder">{t('wallboard.col.elder')}</th>
          {mode === 'queue' && <th class="c-area">{t('wallboard.col.area')}</th>}
          <th class="c-state">{mode === 'queue' ? t('wallboard.col.agent') : t('wallboard.col.state')}</th>
          <th class="c-age">{mode === 'queue' ? t('wallboard.col.age') : t('wallboard.col.time')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => {
          const ageS = (now - new Date(a.firstAt).getTime()) / 1000;
          const waiting = a.state === 'raised' || a.state === 'presented';
          return (
            <tr key={a.id} class={`p${a.priority} ${waiting ? 'waiting' : ''}`} data-alarm-id={a.id}>
              <td class="c-pri">
                <span class={`wb-pri p${a.priority}`}>P{a.priority}</span>
              </td>
              <td class="c-kind" title={label('kind', a.kind)}>{label('kind', a.kind)}</td>
              <td class="c-elder" data-testid="wb-elder">{a.elderName ?? '—'}</td>
              {mode === 'queue' && <td class="c-area" title={a.area}>{a.area || '—'}</td>}
              <td class="c-state">{mode === 'queue' && a.ownerName ? a.ownerName : label('state', a.state)}</td>
              <td class={`c-age ${mode === 'queue' && waiting && ageS > 60 ? 'late' : ''}`} data-testid={mode === 'queue' ? 'wb-age' : undefined}>
                {mode === 'queue' ? fmtDuration(ageS) : fmtTime(a.firstAt, tz).slice(0, 5)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
