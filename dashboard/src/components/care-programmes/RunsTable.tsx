/**
 * A day's welfare calls and reminders (平安呼叫, 提醒): time, elder, kind, state and each attempt (n, time, outcome),
 * with a way to the alarm a run raised. Used by the 关怀 view (all elders) and an elder's 关怀计划 tab.
 */
import { t } from '../../i18n';
import { attemptOutcomeLabel, centreHm, channelLabel, runStateLabel, scheduleKindLabel, type CareRun } from '../../care';
import { openFile } from '../../session';
import { store } from '../../store';

export function RunsTable({ runs, showElder = true, testid = 'care-runs' }: { runs: CareRun[]; showElder?: boolean; testid?: string }) {
  return (
    <div class="table-wrap">
      <table class="table care-table" data-testid={testid}>
        <thead>
          <tr>
            <th>{t('care.col.time')}</th>
            {showElder && <th>{t('care.col.elder')}</th>}
            <th>{t('care.col.kind')}</th>
            <th>{t('care.col.state')}</th>
            <th>{t('care.col.attempts')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-testid="care-run-row" data-run-id={r.id} data-state={r.state} class={r.state === 'failed' || r.state === 'help' ? 'care-bad' : ''}>
              <td class="num nowrap">{centreHm(r.dueAt)}</td>
              {showElder && (
                <td class="nowrap">
                  <span class="cell-clip" title={r.elderName}>
                    {r.elderName || `#${r.elderId}`}
                  </span>
                </td>
              )}
              <td class="nowrap">
                {scheduleKindLabel(r.kind)}
                {r.channel === 'sms' && <small class="muted"> · {channelLabel('sms')}</small>}
              </td>
              <td class="nowrap">
                <span class={`cstate s-${r.state}`} data-testid="care-run-state">
                  {runStateLabel(r.state)}
                </span>
                {r.state === 'retry_wait' && r.nextAttemptAt && <small class="muted"> {t('care.run.nextAttempt', { time: centreHm(r.nextAttemptAt) })}</small>}
              </td>
              <td>
                {r.attempts.length === 0 ? (
                  <span class="muted">—</span>
                ) : (
                  <ol class="care-attempts" data-testid="care-run-attempts">
                    {r.attempts.map((a) => (
                      <li key={a.n} data-outcome={a.outcome ?? ''}>
                        {t('care.run.attempt', { n: a.n, time: centreHm(a.at), outcome: attemptOutcomeLabel(a.outcome) })}
                      </li>
                    ))}
                  </ol>
                )}
              </td>
              <td class="nowrap">
                {r.alarmId !== null && (
                  <button
                    type="button"
                    class="btn ghost small"
                    onClick={() => {
                      openFile({ alarmId: r.alarmId!, elderId: r.elderId, reason: 'click' });
                      store.set({ view: 'desk' });
                    }}
                    data-testid="care-run-alarm"
                  >
                    {t('care.run.openAlarm', { id: r.alarmId })}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
