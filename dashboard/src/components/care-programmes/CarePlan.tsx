/**
 * 关怀计划: one elder's care schedules (平安呼叫, 用药提醒, 预约提醒) with their recurrence in words and the next run
 * in the centre's time zone; supervisors and admins create, change and delete them, agents read. Below, the elder's
 * runs of today, live on `care_run`.
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { careErrorText, centreDate, channelLabel, deleteSchedule, listRuns, listSchedules, mergeRow, nextRunText, onCareRun, scheduleKindLabel, scheduleWhenText, type CareRun, type CareSchedule } from '../../care';
import { ConfirmDialog } from '../Dialogs';
import { LongText } from '../LongText';
import { RunsTable } from './RunsTable';
import { ScheduleForm } from './ScheduleForm';
import { LoadState } from '../LoadState';

export function CarePlan({ elderId, editable }: { elderId: number; editable: boolean }) {
  const [list, setList] = useState<CareSchedule[] | null>(null);
  const [runs, setRuns] = useState<CareRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<CareSchedule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<CareSchedule | null>(null);
  const [busy, setBusy] = useState(false);

  const loadRuns = () =>
    listRuns({ elderId, date: centreDate() })
      .then(setRuns)
      .catch(() => setRuns([]));
  const load = () =>
    listSchedules(elderId)
      .then((l) => {
        setList(l);
        setError(null);
      })
      .catch((e: unknown) => setError(careErrorText(e)));
  useEffect(() => {
    void load();
    void loadRuns();
    return onCareRun((r) => {
      if (r.elderId !== elderId) return;
      setRuns((l) => (l ? (mergeRow(l, r) ?? (r.localDate === centreDate() ? [...l, r].sort((a, b) => a.dueAt.localeCompare(b.dueAt)) : l)) : l));
    });
  }, [elderId]);

  const saved = (s: CareSchedule) => {
    setEditing(null);
    setList((l) => (l ? (mergeRow(l, s) ?? [...l, s]) : [s]));
    void loadRuns();
  };

  const remove = async () => {
    if (!deleting) return;
    setBusy(true);
    try {
      await deleteSchedule(deleting.id);
      setList((l) => l?.filter((x) => x.id !== deleting.id) ?? l);
      setDeleting(null);
      void loadRuns();
    } catch (e) {
      setError(careErrorText(e));
      setDeleting(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="care-plan" data-testid="care-plan" data-elder-id={elderId}>
      <div class="care-head">
        <h3>{t('care.plan.title')}</h3>
        {!editable && <span class="muted small">{t('care.plan.readOnly')}</span>}
        {editable && editing === null && (
          <button type="button" class="btn small primary care-head-end" onClick={() => setEditing('new')} data-testid="care-schedule-new">
            + {t('care.plan.new')}
          </button>
        )}
      </div>
      <LoadState error={error} loaded={!!list} empty={list?.length === 0} emptyText={t('care.plan.empty')} testid="care-schedules" />
      {list && list.length > 0 && (
        <div class="table-wrap care-plan-table">
          <table class="table care-table" data-testid="care-schedules">
            <thead>
              <tr>
                <th>{t('care.col.kind')}</th>
                <th>{t('care.col.channel')}</th>
                <th>{t('care.col.when')}</th>
                <th>{t('care.col.next')}</th>
                <th>{t('care.col.details')}</th>
                <th>{t('care.col.active')}</th>
                {editable && <th />}
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id} class={`${s.active ? '' : 'care-inactive'} ${editing !== 'new' && editing?.id === s.id ? 'selected' : ''}`} data-testid="care-schedule-row" data-schedule-id={s.id} data-kind={s.kind}>
                  <td class="nowrap">
                    <span class={`ckind k-${s.kind}`}>{scheduleKindLabel(s.kind)}</span>
                  </td>
                  <td class="nowrap">{channelLabel(s.channel)}</td>
                  <td data-testid="care-schedule-when">{scheduleWhenText(s)}</td>
                  <td class="nowrap" data-testid="care-schedule-next">
                    {s.active ? nextRunText(s.nextAt) : '—'}
                  </td>
                  <td class="care-details">
                    <ScheduleDetails s={s} />
                  </td>
                  <td class="nowrap">{s.active ? t('care.yes') : t('care.no')}</td>
                  {editable && (
                    <td class="row-actions nowrap">
                      <button type="button" class="btn ghost small" onClick={() => setEditing(s)} data-testid="care-schedule-edit">
                        {t('care.plan.edit')}
                      </button>
                      <button type="button" class="btn ghost small danger-text" onClick={() => setDeleting(s)} data-testid="care-schedule-delete">
                        {t('care.plan.delete')}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editable && editing !== null && <ScheduleForm key={editing === 'new' ? 'new' : editing.id} elderId={elderId} schedule={editing === 'new' ? null : editing} onSaved={saved} onCancel={() => setEditing(null)} />}
      <h3 class="sub">{t('care.plan.todayRuns')}</h3>
      {runs && runs.length === 0 && (
        <p class="muted" data-testid="care-elder-runs-empty">
          {t('care.runs.emptyElder')}
        </p>
      )}
      {runs && runs.length > 0 && <RunsTable runs={runs} showElder={false} testid="care-elder-runs" />}
      {deleting && (
        <ConfirmDialog
          title={t('care.plan.deleteTitle')}
          text={t('care.plan.deleteText', { what: `${scheduleKindLabel(deleting.kind)} · ${scheduleWhenText(deleting)}` })}
          confirm={t('care.plan.delete')}
          busy={busy}
          onCancel={() => setDeleting(null)}
          onConfirm={() => void remove()}
        />
      )}
    </div>
  );
}

function ScheduleDetails({ s }: { s: CareSchedule }) {
  const bits: string[] = [];
  if (s.skipHolidays) bits.push(t('care.detail.skipHolidays'));
  bits.push(t('care.detail.retries', { n: s.retries, min: s.retryIntervalMin }));
  if (s.kind === 'welfare_call' && s.activityCheckin) bits.push(t('care.detail.activity'));
  if (s.kind === 'welfare_call' && s.checkinWindow) bits.push(t('care.detail.window', { from: s.checkinWindow.from, to: s.checkinWindow.to }));
  return (
    <>
      <span class="muted small" data-testid="care-schedule-details">
        {bits.join(' · ')}
      </span>
      {s.note && <LongText text={s.note} lines={2} class="care-note-text" />}
    </>
  );
}
