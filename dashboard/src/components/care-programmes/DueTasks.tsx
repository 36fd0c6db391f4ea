/**
 * 今日关怀电话: the agents' care calls (birthdays, after a hospital stay, follow-ups, failed welfare calls) due by
 * today, overdue ones marked, each with the elder's phone and click-to-call; 完成 with 已联系/未联系 and a note moves
 * a row to 已完成. Live on `care_task` (made or done on another screen). Everything from data renders as text.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { myLiveCall, startCall } from '../../calls';
import { HAND_REASONS, addTask, careErrorText, centreDate, centreHm, doneTask, listDue, mergeRow, onCareTask, reasonLabel, resultLabel, taskNoteText, type CareTask, type TaskReason, type TaskResult } from '../../care';
import type { ElderBrief } from '../../devices-admin';
import { actorName, errorText } from '../../session';
import { notify, useStore } from '../../store';
import { ElderPicker } from '../devices/ElderPicker';
import { PhoneIcon } from '../icons';
import { LongText } from '../LongText';
import { OrderModal, Tail } from '../orders/OrderDialogs';
import { LoadState } from '../LoadState';

const byDue = (a: CareTask, b: CareTask) => a.dueDate.localeCompare(b.dueDate) || a.id - b.id;

export function DueTasks() {
  const [items, setItems] = useState<CareTask[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [doing, setDoing] = useState<CareTask | null>(null);
  const [adding, setAdding] = useState(false);
  const reload = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const today = centreDate();

  const load = async () => {
    try {
      setItems(await listDue(centreDate()));
      setError(null);
    } catch (e) {
      setError(careErrorText(e));
    }
  };
  useEffect(() => {
    void load();
    const off = onCareTask((task) => {
      setItems((l) => {
        const merged = l ? mergeRow(l, task) : null;
        if (merged) return merged;
        // a new task: the push has no elder name or phone, so the list is read again
        clearTimeout(reload.current);
        reload.current = setTimeout(() => void load(), 200);
        return l;
      });
    });
    return () => {
      off();
      clearTimeout(reload.current);
    };
  }, []);
  // back online after a drop: the pushes missed meanwhile are read again
  const connection = useStore((s) => s.connection);
  const wasOnline = useRef(connection === 'online');
  useEffect(() => {
    if (connection === 'online' && !wasOnline.current) void load();
    wasOnline.current = connection === 'online';
  }, [connection]);

  const open = (items ?? []).filter((x) => x.state === 'open').sort(byDue);
  const done = (items ?? []).filter((x) => x.state === 'done').sort((a, b) => (b.doneAt ?? '').localeCompare(a.doneAt ?? ''));
  const put = (task: CareTask) => setItems((l) => (l ? (mergeRow(l, task) ?? [...l, task]) : [task]));

  return (
    <section class="box care-due" aria-label={t('care.due.title')} data-testid="care-due">
      <div class="care-head">
        <h3>
          {t('care.due.title')} <span class="muted small">{t('care.due.count', { n: open.length })}</span>
        </h3>
        <button type="button" class="btn small primary care-head-end" onClick={() => setAdding(true)} data-testid="care-task-new">
          + {t('care.task.new')}
        </button>
      </div>
      <LoadState error={error} loaded={!!items} empty={open.length === 0} emptyText={t('care.due.empty')} testid="care-tasks" />
      {open.length > 0 && <TaskTable tasks={open} today={today} onDone={setDoing} testid="care-tasks-open" />}
      {done.length > 0 && (
        <>
          <h4 class="sub">
            {t('care.due.done')} <span class="muted small">{done.length}</span>
          </h4>
          <TaskTable tasks={done} today={today} testid="care-tasks-done" />
        </>
      )}
      {doing && (
        <DoneDialog
          task={doing}
          onCancel={() => setDoing(null)}
          onDone={(x) => {
            setDoing(null);
            put(x);
          }}
        />
      )}
      {adding && (
        <NewTaskDialog
          onCancel={() => setAdding(false)}
          onDone={() => {
            setAdding(false);
            void load();
          }}
        />
      )}
    </section>
  );
}

function TaskTable({ tasks, today, onDone, testid }: { tasks: CareTask[]; today: string; onDone?: (x: CareTask) => void; testid: string }) {
  const me = useStore((s) => s.me);
  const role = useStore((s) => s.user?.role);
  const onCall = useStore((s) => !!myLiveCall(s));
  const [calling, setCalling] = useState<number | null>(null);
  const signedIn = !!me?.signedIn;
  const call = async (x: CareTask) => {
    setCalling(x.id);
    try {
      await startCall({ elderId: x.elderId }, x.elderName ?? undefined);
    } catch (e) {
      notify('error', errorText(e));
    } finally {
      setCalling(null);
    }
  };
  return (
    <div class="table-wrap">
      <table class="table care-table" data-testid={testid}>
        <thead>
          <tr>
            <th>{t('care.col.elder')}</th>
            <th>{t('care.col.reason')}</th>
            <th>{t('care.col.note')}</th>
            <th>{t('care.col.due')}</th>
            <th>{t('care.col.phone')}</th>
            <th>{onDone ? '' : t('care.col.result')}</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((x) => {
            const overdue = x.state === 'open' && x.dueDate < today;
            return (
              <tr key={x.id} class={overdue ? 'care-overdue' : ''} data-testid="care-task-row" data-task-id={x.id} data-state={x.state} data-reason={x.reason} data-overdue={overdue ? 'true' : 'false'}>
                <td class="nowrap">
                  <strong class="cell-clip" title={x.elderName ?? ''} data-testid="care-task-elder">
                    {x.elderName || `#${x.elderId}`}
                  </strong>
                  {x.area && <small class="muted"> {x.area}</small>}
                </td>
                <td class="nowrap">
                  <span class={`creason r-${x.reason}`}>{reasonLabel(x.reason)}</span>
                </td>
                <td class="care-note-cell" data-testid="care-task-note">
                  {x.note ? <LongText text={taskNoteText(x)} lines={2} /> : <span class="muted">—</span>}
                </td>
                <td class={`nowrap num ${overdue ? 'late' : ''}`} data-testid="care-task-due">
                  {x.dueDate === today ? t('care.due.today') : x.dueDate}
                  {overdue && <small> {t('care.due.overdue')}</small>}
                </td>
                <td class="nowrap">
                  <span class="care-phone">{x.elderPhone || '—'}</span>
                  {onDone && x.elderPhone && (
                    <button
                      type="button"
                      class="btn call small"
                      disabled={!signedIn || onCall || calling !== null}
                      title={!signedIn ? t('call.signInFirst') : onCall ? t('call.inProgress') : undefined}
                      onClick={() => void call(x)}
                      data-testid="care-task-call"
                    >
                      <PhoneIcon size={16} /> {t('action.call')}
                    </button>
                  )}
                </td>
                <td class="nowrap">
                  {onDone ? (
                    <button type="button" class="btn small primary" onClick={() => onDone(x)} data-testid="care-task-done">
                      {t('care.task.done')}
                    </button>
                  ) : (
                    <span class="care-result-cell" data-testid="care-task-result">
                      <span class={`cresult ${x.result ?? ''}`}>{resultLabel(x.result)}</span>
                      <small class="muted">
                        {' '}
                        {x.doneAt ? centreHm(x.doneAt) : ''}
                        {x.doneBy !== null ? ` · ${actorName(x.doneBy)}` : ''}
                      </small>
                      {x.resultNote && <LongText text={x.resultNote} lines={2} class="muted small-text" />}
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {onDone && !signedIn && role === 'agent' && tasks.some((x) => x.elderPhone) && (
        <p class="hint muted small" data-testid="care-sign-in-hint">
          {t('call.signInFirst')}
        </p>
      )}
    </div>
  );
}

function DoneDialog({ task, onCancel, onDone }: { task: CareTask; onCancel: () => void; onDone: (x: CareTask) => void }) {
  const [result, setResult] = useState<TaskResult | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!result) return;
    setBusy(true);
    setError(null);
    try {
      onDone(await doneTask(task.id, { result, ...(note.trim() ? { note: note.trim() } : {}) }));
    } catch (err) {
      setError(careErrorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <OrderModal title={t('care.task.doneTitle', { name: task.elderName ?? `#${task.elderId}` })} onCancel={onCancel} testid="care-done-dialog">
      <form class="order-form care-done-form" onSubmit={(e) => void submit(e)}>
        <fieldset class="outcomes care-opts">
          <legend>{t('care.task.result')}</legend>
          {(['reached', 'not_reached'] as const).map((r) => (
            <label key={r} class={`outcome-opt ${result === r ? 'on' : ''}`}>
              <input type="radio" name="care-result" value={r} checked={result === r} onChange={() => setResult(r)} data-testid={`care-done-${r}`} />
              {resultLabel(r)}
            </label>
          ))}
        </fieldset>
        <label>
          <span>{t('care.task.resultNote')}</span>
          <textarea rows={3} value={note} maxLength={2000} onInput={(e) => setNote(e.currentTarget.value)} data-testid="care-done-note" />
        </label>
        <Tail error={error} busy={busy} ok={!!result} okLabel={t('care.task.doneSave')} onCancel={onCancel} testid="care-done" />
      </form>
    </OrderModal>
  );
}

function NewTaskDialog({ onCancel, onDone }: { onCancel: () => void; onDone: (x: CareTask) => void }) {
  const [elder, setElder] = useState<ElderBrief | null>(null);
  const [reason, setReason] = useState<TaskReason>('after_hospital');
  const [dueDate, setDueDate] = useState(centreDate());
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!elder) return;
    setBusy(true);
    setError(null);
    try {
      onDone(await addTask({ elderId: elder.id, reason, dueDate, ...(note.trim() ? { note: note.trim() } : {}) }));
    } catch (err) {
      setError(careErrorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <OrderModal title={t('care.task.new')} onCancel={onCancel} testid="care-task-dialog" wide>
      <form class="order-form" onSubmit={(e) => void submit(e)}>
        <div class="care-pick">
          <span class="field-label">{t('care.col.elder')}</span>
          {elder ? (
            <div class="chosen-elder" data-testid="care-task-elder-chosen">
              <span>{elder.name}</span>
              <small class="muted">{[elder.phone, elder.area].filter(Boolean).join(' · ')}</small>
              <button type="button" class="btn ghost small" onClick={() => setElder(null)}>
                {t('care.task.changeElder')}
              </button>
            </div>
          ) : (
            <ElderPicker autoFocus onPick={setElder} />
          )}
        </div>
        <fieldset class="outcomes care-opts">
          <legend>{t('care.col.reason')}</legend>
          {HAND_REASONS.map((r) => (
            <label key={r} class={`outcome-opt ${reason === r ? 'on' : ''}`}>
              <input type="radio" name="care-reason" value={r} checked={reason === r} onChange={() => setReason(r)} data-testid={`care-task-reason-${r}`} />
              {reasonLabel(r)}
            </label>
          ))}
        </fieldset>
        <label>
          <span>{t('care.col.due')}</span>
          <input type="date" value={dueDate} onInput={(e) => setDueDate(e.currentTarget.value)} data-testid="care-task-due-input" />
        </label>
        <label>
          <span>{t('care.col.note')}</span>
          <textarea rows={3} value={note} maxLength={1000} onInput={(e) => setNote(e.currentTarget.value)} data-testid="care-task-note-input" />
        </label>
        <Tail error={error} busy={busy} ok={!!elder && !!dueDate} okLabel={t('care.task.save')} onCancel={onCancel} testid="care-task" />
      </form>
    </OrderModal>
  );
}
