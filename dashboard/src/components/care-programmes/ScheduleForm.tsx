/**
 * One care schedule to create or change: kind, channel (SMS for reminders only), recurrence (daily, weekdays,
 * chosen weekdays, every n days from a date), 1–6 times, holidays, retries, check-ins (welfare calls), a note,
 * active. The server checks everything; its 400 fields[] are shown next to the field they name.
 */
import { useState } from 'preact/hooks';
import { t } from '../../i18n';
import { HttpError } from '../../api';
import { SCHEDULE_KINDS, careErrorText, careFieldErrors, centreDate, channelLabel, createSchedule, patchSchedule, scheduleKindLabel, weekdayLabel, type CareSchedule, type Recurrence, type ScheduleBody, type ScheduleKind } from '../../care';

type RecKind = Recurrence['kind'];
const REC_KINDS: RecKind[] = ['daily', 'weekdays', 'days', 'every'];
const DAYS = [1, 2, 3, 4, 5, 6, 7];

function Err({ errs, field }: { errs: Record<string, string>; field: string }) {
  const m = errs[field];
  return m ? (
    <span class="ef-error" role="alert" data-testid={`care-f-err-${field.replace(/\./g, '-')}`}>
      {m}
    </span>
  ) : null;
}

export function ScheduleForm({ elderId, schedule, onSaved, onCancel }: { elderId: number; schedule: CareSchedule | null; onSaved: (s: CareSchedule) => void; onCancel: () => void }) {
  const s = schedule;
  const r = s?.recurrence;
  const [kind, setKind] = useState<ScheduleKind>(s?.kind ?? 'welfare_call');
  const [channel, setChannel] = useState<'call' | 'sms'>(s?.channel ?? 'call');
  const [recKind, setRecKind] = useState<RecKind>(r?.kind ?? 'daily');
  const [days, setDays] = useState<number[]>(r?.kind === 'days' ? r.days : [1, 3, 5]);
  const [everyN, setEveryN] = useState(r?.kind === 'every' ? String(r.n) : '3');
  const [everyFrom, setEveryFrom] = useState(r?.kind === 'every' ? r.from : centreDate());
  const [times, setTimes] = useState<string[]>(s?.times.length ? s.times : ['09:00']);
  const [skipHolidays, setSkipHolidays] = useState(s?.skipHolidays ?? false);
  const [retries, setRetries] = useState(String(s?.retries ?? 2));
  const [interval, setIntervalMin] = useState(String(s?.retryIntervalMin ?? 10));
  const [activity, setActivity] = useState(s?.activityCheckin ?? false);
  const [windowOn, setWindowOn] = useState(!!s?.checkinWindow);
  const [winFrom, setWinFrom] = useState(s?.checkinWindow?.from ?? '07:00');
  const [winTo, setWinTo] = useState(s?.checkinWindow?.to ?? '09:00');
  const [note, setNote] = useState(s?.note ?? '');
  const [active, setActive] = useState(s?.active ?? true);
  const [errs, setErrs] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const welfare = kind === 'welfare_call';

  const num = (v: string) => (v.trim() === '' ? Number.NaN : Number(v));
  const body = (): ScheduleBody => {
    const recurrence: Recurrence =
      recKind === 'days' ? { kind: 'days', days: [...days].sort((a, b) => a - b) } : recKind === 'every' ? { kind: 'every', n: num(everyN), from: everyFrom } : { kind: recKind };
    return {
      kind,
      channel: welfare ? 'call' : channel,
      recurrence,
      times: times.map((x) => x.trim()).filter(Boolean),
      skipHolidays,
      retries: num(retries),
      retryIntervalMin: num(interval),
      activityCheckin: welfare && activity,
      checkinWindow: welfare && windowOn ? { from: winFrom, to: winTo } : null,
      note: note.trim(),
      active,
    };
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrs({});
    setError(null);
    try {
      const b = body();
      onSaved(s ? await patchSchedule(s.id, b) : await createSchedule(elderId, b));
    } catch (err) {
      const f = careFieldErrors(err);
      setErrs(f);
      // a 400 whose fields are all shown next to them needs no second line; anything else does
      if (!(err instanceof HttpError && err.status === 400 && Object.keys(f).length)) setError(careErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="care-form" noValidate onSubmit={(e) => void submit(e)} data-testid="care-schedule-form" data-schedule-id={s?.id ?? ''}>
      <h4>{s ? t('care.form.editTitle') : t('care.form.newTitle')}</h4>
      <div class="care-form-grid">
        <label class="ef-field">
          <span>{t('care.form.kind')}</span>
          <select
            value={kind}
            onChange={(e) => {
              const k = e.currentTarget.value as ScheduleKind;
              setKind(k);
              if (k === 'welfare_call') setChannel('call');
            }}
            data-testid="care-f-kind"
          >
            {SCHEDULE_KINDS.map((k) => (
              <option key={k} value={k}>
                {scheduleKindLabel(k)}
              </option>
            ))}
          </select>
          <Err errs={errs} field="kind" />
        </label>
        <label class="ef-field">
          <span>{t('care.form.channel')}</span>
          <select value={welfare ? 'call' : channel} onChange={(e) => setChannel(e.currentTarget.value as 'call' | 'sms')} data-testid="care-f-channel">
            <option value="call">{channelLabel('call')}</option>
            <option value="sms" disabled={welfare}>
              {channelLabel('sms')}
            </option>
          </select>
          {welfare && <small class="muted">{t('care.form.welfareIsCall')}</small>}
          <Err errs={errs} field="channel" />
        </label>
        <label class="ef-field">
          <span>{t('care.form.recurrence')}</span>
          <select value={recKind} onChange={(e) => setRecKind(e.currentTarget.value as RecKind)} data-testid="care-f-recurrence">
            {REC_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`care.form.rec.${k}`)}
              </option>
            ))}
          </select>
          <Err errs={errs} field="recurrence" />
          <Err errs={errs} field="recurrence.kind" />
        </label>
        {recKind === 'days' && (
          <div class="ef-field care-days">
            <span>{t('care.form.days')}</span>
            <div class="care-day-chips" role="group" aria-label={t('care.form.days')}>
              {DAYS.map((d) => (
                <label key={d} class={`care-day ${days.includes(d) ? 'on' : ''}`}>
                  <input type="checkbox" checked={days.includes(d)} onChange={(e) => setDays((x) => (e.currentTarget.checked ? [...x, d] : x.filter((y) => y !== d)))} data-testid={`care-f-day-${d}`} />
                  {weekdayLabel(d)}
                </label>
              ))}
            </div>
            <Err errs={errs} field="recurrence.days" />
          </div>
        )}
        {recKind === 'every' && (
          <div class="ef-field care-every">
            <span>{t('care.form.every')}</span>
            <div class="care-inline">
              <input type="number" min={1} max={365} value={everyN} onInput={(e) => setEveryN(e.currentTarget.value)} aria-label={t('care.form.everyN')} data-testid="care-f-every-n" />
              <span class="ef-inline">{t('care.form.everyFrom')}</span>
              <input type="date" value={everyFrom} onInput={(e) => setEveryFrom(e.currentTarget.value)} aria-label={t('care.form.everyFrom')} data-testid="care-f-every-from" />
            </div>
            <Err errs={errs} field="recurrence.n" />
            <Err errs={errs} field="recurrence.from" />
          </div>
        )}
        <div class="ef-field care-times">
          <span>{t('care.form.times')}</span>
          <div class="care-inline">
            {times.map((x, i) => (
              <span key={i} class="care-time">
                <input type="time" value={x} onInput={(e) => setTimes((l) => l.map((y, j) => (j === i ? e.currentTarget.value : y)))} aria-label={t('care.form.timeN', { n: i + 1 })} data-testid={`care-f-time-${i}`} />
                {times.length > 1 && (
                  <button type="button" class="btn ghost small" onClick={() => setTimes((l) => l.filter((_, j) => j !== i))} aria-label={t('care.form.removeTime')} title={t('care.form.removeTime')}>
                    ×
                  </button>
                )}
              </span>
            ))}
            {times.length < 6 && (
              <button type="button" class="btn ghost small" onClick={() => setTimes((l) => [...l, ''])} data-testid="care-f-add-time">
                + {t('care.form.addTime')}
              </button>
            )}
          </div>
          <Err errs={errs} field="times" />
        </div>
        <label class="ef-field">
          <span>{t('care.form.retries')}</span>
          <input type="number" min={0} max={5} value={retries} onInput={(e) => setRetries(e.currentTarget.value)} data-testid="care-f-retries" />
          <Err errs={errs} field="retries" />
        </label>
        <label class="ef-field">
          <span>{t('care.form.interval')}</span>
          <input type="number" min={1} max={120} value={interval} onInput={(e) => setIntervalMin(e.currentTarget.value)} data-testid="care-f-interval" />
          <Err errs={errs} field="retryIntervalMin" />
        </label>
        <div class="ef-field care-checks">
          <label class="inline">
            <input type="checkbox" checked={skipHolidays} onChange={(e) => setSkipHolidays(e.currentTarget.checked)} data-testid="care-f-skip-holidays" />
            <span class="ef-inline">{t('care.form.skipHolidays')}</span>
          </label>
          <label class="inline">
            <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} data-testid="care-f-active" />
            <span class="ef-inline">{t('care.form.active')}</span>
          </label>
          <Err errs={errs} field="skipHolidays" />
        </div>
        {welfare && (
          <div class="ef-field care-checkin">
            <span>{t('care.form.checkin')}</span>
            <label class="inline">
              <input type="checkbox" checked={activity} onChange={(e) => setActivity(e.currentTarget.checked)} data-testid="care-f-activity" />
              <span class="ef-inline">{t('care.form.activity')}</span>
            </label>
            <label class="inline">
              <input type="checkbox" checked={windowOn} onChange={(e) => setWindowOn(e.currentTarget.checked)} data-testid="care-f-window" />
              <span class="ef-inline">{t('care.form.window')}</span>
            </label>
            {windowOn && (
              <div class="care-inline">
                <input type="time" value={winFrom} onInput={(e) => setWinFrom(e.currentTarget.value)} aria-label={t('care.form.windowFrom')} data-testid="care-f-window-from" />
                <span class="ef-inline">–</span>
                <input type="time" value={winTo} onInput={(e) => setWinTo(e.currentTarget.value)} aria-label={t('care.form.windowTo')} data-testid="care-f-window-to" />
              </div>
            )}
            <small class="muted">{t('care.form.windowHint')}</small>
            <Err errs={errs} field="checkinWindow" />
            <Err errs={errs} field="activityCheckin" />
          </div>
        )}
        <label class="ef-field care-note">
          <span>{welfare ? t('care.form.note') : t('care.form.noteReminder')}</span>
          <input value={note} maxLength={200} placeholder={welfare ? '' : t('care.form.notePlaceholder')} onInput={(e) => setNote(e.currentTarget.value)} data-testid="care-f-note" />
          <Err errs={errs} field="note" />
        </label>
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="care-f-error">
          {error}
        </p>
      )}
      <div class="care-form-actions">
        <button type="button" class="btn ghost" onClick={onCancel} data-testid="care-f-cancel">
          {t('common.cancel')}
        </button>
        <button type="submit" class="btn primary" disabled={busy} data-testid="care-f-save">
          {t('care.form.save')}
        </button>
      </div>
    </form>
  );
}
