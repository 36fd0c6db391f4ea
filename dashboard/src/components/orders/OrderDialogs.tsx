/**
 * The work order's action dialogs: dispatch or reassign (with the server's suggestions: the nearest on-duty staff
 * and stations, their distance and why), and one small form per other action (accept, arrive, done with a result,
 * reply, follow-up with 1–5 stars, archive, cancel with a reason). Each sends exactly one POST and shows the
 * server's refusal in place. Everything from data renders as text.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { fmtDistance, orderAct, orderActionLabel, orderErrorText, skillLabel, suggestFor, useDirectory, type ActBody, type OrderAction } from '../../orders';
import type { Suggestions, WorkOrder } from '../../types';
import { isTyping } from '../file-util';

/** A modal that keeps the keys to itself: Esc closes it (not the elder file under it), letters reach no shortcut. */
export function OrderModal({ title, children, onCancel, testid, wide }: { title: string; children: ComponentChildren; onCancel: () => void; testid: string; wide?: boolean }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        onCancel();
      } else if (e.key.length === 1 && !isTyping(e.target)) e.stopPropagation();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [onCancel]);
  return (
    <div class="modal-back" onClick={(e) => e.target === e.currentTarget && onCancel()}>
      <div class={`modal order-modal ${wide ? 'wide' : ''}`} role="dialog" aria-modal="true" aria-label={title} data-testid={testid}>
        <h3>{title}</h3>
        {children}
      </div>
    </div>
  );
}

export function Tail({ error, busy, ok, okLabel, onCancel, testid }: { error: string | null; busy: boolean; ok: boolean; okLabel: string; onCancel: () => void; testid: string }) {
  return (
    <>
      {error && (
        <p class="form-error" role="alert" data-testid="order-dialog-error">
          {error}
        </p>
      )}
      <div class="modal-actions">
        <button type="button" class="btn ghost" onClick={onCancel}>
          {t('common.cancel')} <kbd>Esc</kbd>
        </button>
        <button type="submit" class="btn primary" disabled={busy || !ok} data-testid={`${testid}-save`}>
          {okLabel}
        </button>
      </div>
    </>
  );
}

/** Runs one action; answers the updated order, or shows why not. */
function useAct(order: WorkOrder, action: OrderAction, onDone: (o: WorkOrder) => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (body: ActBody) => {
    setBusy(true);
    setError(null);
    try {
      onDone(await orderAct(order.id, action, body));
    } catch (e) {
      setError(orderErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

export function ActionDialog({ order, act, onCancel, onDone }: { order: WorkOrder; act: OrderAction; onCancel: () => void; onDone: (o: WorkOrder) => void }) {
  if (act === 'dispatch' || act === 'reassign') return <DispatchDialog order={order} act={act} onCancel={onCancel} onDone={onDone} />;
  return <SimpleDialog order={order} act={act} onCancel={onCancel} onDone={onDone} />;
}

function SimpleDialog({ order, act: action, onCancel, onDone }: { order: WorkOrder; act: Exclude<OrderAction, 'dispatch' | 'reassign'>; onCancel: () => void; onDone: (o: WorkOrder) => void }) {
  const { busy, error, run } = useAct(order, action, onDone);
  const [text, setText] = useState('');
  const [note, setNote] = useState('');
  const [stars, setStars] = useState(0);
  const [followUpAt, setFollowUpAt] = useState('');
  const testid = `order-${action.replace('_', '-')}`;
  const needsText = action === 'done' || action === 'cancel';
  const ok = (!needsText || !!text.trim()) && (action !== 'follow_up' || stars > 0);
  const submit = () => {
    if (!ok) return;
    const n = note.trim() || undefined;
    if (action === 'done') void run({ result: text.trim(), note: n });
    else if (action === 'cancel') void run({ reason: text.trim(), note: n });
    else if (action === 'follow_up') void run({ satisfaction: stars, comment: text.trim() || undefined });
    else if (action === 'reply') void run({ note: n, followUpAt: followUpAt ? new Date(followUpAt).toISOString() : undefined });
    else void run({ note: n });
  };
  return (
    <OrderModal title={t('order.dialogTitle', { action: orderActionLabel(action), id: order.id })} onCancel={onCancel} testid={`${testid}-dialog`}>
      <form
        class="order-form"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <p class="muted order-dialog-hint">{t(`order.hint.${action}`)}</p>
        {action === 'follow_up' && (
          <fieldset class="stars" data-testid="order-stars">
            <legend>{t('order.satisfaction')}</legend>
            {[1, 2, 3, 4, 5].map((n) => (
              <button
                type="button"
                key={n}
                class={`star ${n <= stars ? 'on' : ''}`}
                aria-pressed={n <= stars}
                aria-label={t('order.starsN', { n })}
                title={t('order.starsN', { n })}
                onClick={() => setStars(n)}
                data-testid={`order-star-${n}`}
              >
                ★
              </button>
            ))}
            <span class="stars-text">{stars ? t('order.starsN', { n: stars }) : t('order.starsPick')}</span>
          </fieldset>
        )}
        {(needsText || action === 'follow_up') && (
          <label>
            <span>{action === 'done' ? t('order.result') : action === 'cancel' ? t('order.reason') : t('order.comment')}</span>
            <textarea autoFocus rows={3} maxLength={action === 'cancel' ? 1000 : action === 'follow_up' ? 2000 : 4000} value={text} onInput={(e) => setText(e.currentTarget.value)} data-testid={`${testid}-text`} />
          </label>
        )}
        {action === 'reply' && (
          <label>
            <span>{t('order.followUpAt')}</span>
            <input type="datetime-local" value={followUpAt} onInput={(e) => setFollowUpAt(e.currentTarget.value)} data-testid={`${testid}-at`} />
          </label>
        )}
        {action !== 'follow_up' && (
          <label>
            <span>{t('order.note')}</span>
            <textarea rows={2} maxLength={4000} value={note} placeholder={t('order.notePlaceholder')} onInput={(e) => setNote(e.currentTarget.value)} data-testid={`${testid}-note`} />
          </label>
        )}
        <Tail error={error} busy={busy} ok={ok} okLabel={orderActionLabel(action)} onCancel={onCancel} testid={testid} />
      </form>
    </OrderModal>
  );
}

/** 派单 / 改派: the suggestions first (on duty, the elder's area, then nearest), or any active station or staff member. */
export function DispatchDialog({ order, act: action = 'dispatch', onCancel, onDone }: { order: WorkOrder; act?: 'dispatch' | 'reassign'; onCancel: () => void; onDone: (o: WorkOrder) => void }) {
  const { busy, error, run } = useAct(order, action, onDone);
  const dir = useDirectory();
  const [sug, setSug] = useState<Suggestions | null>(null);
  const [sugError, setSugError] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [other, setOther] = useState('');
  useEffect(() => {
    let alive = true;
    suggestFor(order.id)
      .then((s) => alive && setSug(s))
      .catch((e: unknown) => alive && setSugError(orderErrorText(e)));
    return () => {
      alive = false;
    };
  }, [order.id]);
  const n = () => note.trim() || undefined;
  const stationName = (id: number | null) => (id !== null ? (dir.stations.get(id)?.name ?? t('order.stationN', { id })) : '—');
  const why = (x: { areaMatch: boolean; distanceM: number | null }) =>
    [x.areaMatch ? t('order.why.area') : null, fmtDistance(x.distanceM) ? t('order.why.distance', { d: fmtDistance(x.distanceM)! }) : t('order.why.noDistance')].filter(Boolean).join(' · ');
  const current = (x: { stationId?: number | null; staffId?: number | null }) => action === 'reassign' && (x.staffId ?? null) === order.staffId && (x.stationId ?? order.stationId) === order.stationId;
  const activeStaff = [...dir.staff.values()].filter((s) => s.active);
  const activeStations = [...dir.stations.values()].filter((s) => s.active);
  const testid = action === 'dispatch' ? 'dispatch' : 'reassign';
  return (
    <OrderModal title={t('order.dialogTitle', { action: orderActionLabel(action), id: order.id })} onCancel={onCancel} testid={`${testid}-dialog`} wide>
      <div class="order-form">
        {!sug && !sugError && <p class="muted">{t('common.loading')}</p>}
        {sugError && <p class="form-error">{sugError}</p>}
        {sug && (
          <>
            <p class="muted order-dialog-hint" data-testid="suggest-basis">
              {sug.basis.area && sug.basis.position ? t('order.basis.both') : sug.basis.area ? t('order.basis.area') : sug.basis.position ? t('order.basis.position') : t('order.basis.none')}
            </p>
            <h4>{t('order.suggestStaff')}</h4>
            {sug.staff.length === 0 ? (
              <p class="muted" data-testid="suggest-no-staff">
                {t('order.noStaffOnDuty')}
              </p>
            ) : (
              <ul class="suggest-list" data-testid="suggest-staff">
                {sug.staff.map((s, i) => (
                  <li key={s.id} data-testid="suggest-staff-row" data-staff-id={s.id}>
                    <span class="suggest-rank">{i + 1}</span>
                    <span class="suggest-who">
                      <strong>{s.name}</strong>
                      <small>
                        {stationName(s.stationId)}
                        {s.skills.length ? ` · ${s.skills.map(skillLabel).join('、')}` : ''}
                      </small>
                    </span>
                    <span class="suggest-why" data-testid="suggest-why">
                      {why(s)}
                    </span>
                    <button type="button" class="btn primary small" disabled={busy || current({ staffId: s.id, stationId: s.stationId })} onClick={() => void run({ staffId: s.id, note: n() })} data-testid="suggest-dispatch-staff">
                      {t('order.sendTo')}
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <h4>{t('order.suggestStations')}</h4>
            {sug.stations.length === 0 ? (
              <p class="muted">{t('order.noStationOnDuty')}</p>
            ) : (
              <ul class="suggest-list" data-testid="suggest-stations">
                {sug.stations.map((s, i) => (
                  <li key={s.id} data-testid="suggest-station-row" data-station-id={s.id}>
                    <span class="suggest-rank">{i + 1}</span>
                    <span class="suggest-who">
                      <strong>{s.name}</strong>
                      <small>
                        {s.area || '—'} · {t('order.onDutyN', { n: s.onDutyStaffIds.length })}
                      </small>
                    </span>
                    <span class="suggest-why">{why(s)}</span>
                    <button type="button" class="btn small" disabled={busy || current({ stationId: s.id, staffId: null })} onClick={() => void run({ stationId: s.id, note: n() })} data-testid="suggest-dispatch-station">
                      {t('order.sendToStation')}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
        <div class="dispatch-other">
          <label>
            <span>{t('order.otherResponder')}</span>
            <select value={other} onChange={(e) => setOther(e.currentTarget.value)} data-testid="dispatch-other">
              <option value="">—</option>
              {activeStaff.map((s) => (
                <option key={`f${s.id}`} value={`staff:${s.id}`}>
                  {s.name}
                  {s.stationId !== null ? ` · ${stationName(s.stationId)}` : ''}
                </option>
              ))}
              {activeStations.map((s) => (
                <option key={`s${s.id}`} value={`station:${s.id}`}>
                  {t('order.stationOption', { name: s.name })}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            class="btn"
            disabled={busy || !other}
            onClick={() => {
              const [kind, id] = other.split(':');
              void run(kind === 'staff' ? { staffId: Number(id), note: n() } : { stationId: Number(id), note: n() });
            }}
            data-testid="dispatch-other-send"
          >
            {orderActionLabel(action)}
          </button>
          {action === 'reassign' && (
            <button type="button" class="btn ghost" disabled={busy} onClick={() => void run({ note: n() })} data-testid="reassign-pool">
              {t('order.backToPool')}
            </button>
          )}
        </div>
        <label>
          <span>{t('order.note')}</span>
          <textarea rows={2} maxLength={4000} value={note} placeholder={t('order.notePlaceholder')} onInput={(e) => setNote(e.currentTarget.value)} data-testid={`${testid}-note`} />
        </label>
        {error && (
          <p class="form-error" role="alert" data-testid="order-dialog-error">
            {error}
          </p>
        )}
        <div class="modal-actions">
          <button type="button" class="btn ghost" onClick={onCancel}>
            {t('common.cancel')} <kbd>Esc</kbd>
          </button>
        </div>
      </div>
    </OrderModal>
  );
}
