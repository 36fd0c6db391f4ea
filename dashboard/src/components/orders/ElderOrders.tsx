/**
 * The elder file's 工单 box: the elder's open work orders (live), and 派单, which opens one from the alarm on screen
 * (an emergency order, or a service order for the green key) or from the elder, then shows the dispatch
 * suggestions at once. A row opens the order in the 工单 view. Resolving the alarm on screen with "service staff
 * dispatched" opens its emergency order on the server; when it arrives here the dispatch suggestions open at once,
 * so the agent sends the nearest on-duty responder without leaving the file.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtDuration, t } from '../../i18n';
import { isOpenOrder, listOrders, mergeOrder, onOrderChange, openOrder, orderErrorText, orderStateLabel, orderTypeLabel, orderAgeS, responderText, showOrder, useDirectory } from '../../orders';
import { store, useNow } from '../../store';
import type { WorkOrder } from '../../types';
import { DispatchDialog } from './OrderDialogs';

export function ElderOrders({ elderId, alarmId }: { elderId?: number; alarmId?: number }) {
  const [list, setList] = useState<WorkOrder[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dispatching, setDispatching] = useState<WorkOrder | null>(null);
  const dir = useDirectory();
  const now = useNow();
  const alarmRef = useRef(alarmId);
  alarmRef.current = alarmId;

  useEffect(() => {
    setList(null);
    setError(null);
    if (elderId === undefined) return;
    let alive = true;
    listOrders({ elderId, open: true, limit: 20 })
      .then((l) => alive && setList(l))
      .catch((e: unknown) => alive && setError(orderErrorText(e)));
    const off = onOrderChange((o, action) => {
      if (o.elderId !== elderId) return;
      setList((l) => mergeOrder(l ?? [], o, isOpenOrder));
      // the order my resolve of this alarm opened: dispatch it now
      if (action === 'open' && o.state === 'received' && o.alarmId !== null && o.alarmId === alarmRef.current && o.createdBy === store.get().user?.id) setDispatching((d) => d ?? o);
    });
    return () => {
      alive = false;
      off();
    };
  }, [elderId]);

  if (elderId === undefined && alarmId === undefined) return null;
  // one open order per alarm: the alarm's own is dispatched from its row, not opened twice
  const ofAlarm = alarmId !== undefined ? list?.find((o) => o.alarmId === alarmId) : undefined;
  const open = async () => {
    setBusy(true);
    setError(null);
    try {
      const o = await openOrder(alarmId !== undefined ? { alarmId } : { elderId });
      setList((l) => mergeOrder(l ?? [], o, isOpenOrder));
      setDispatching(o);
    } catch (e) {
      setError(orderErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="box elder-orders" data-testid="elder-orders">
      <div class="elder-orders-head">
        <h3>{t('orders.title')}</h3>
        <button type="button" class="btn small primary" disabled={busy || !!ofAlarm} title={ofAlarm ? t('orders.alarmHasOrder', { id: ofAlarm.id }) : undefined} onClick={() => void open()} data-testid="order-open">
          {t('orders.openFromFile')}
        </button>
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="elder-orders-error">
          {error}
        </p>
      )}
      {list && list.length === 0 && <p class="muted">{t('orders.noneOpen')}</p>}
      {list && list.length > 0 && (
        <ul class="elder-order-list">
          {list.map((o) => (
            <li key={o.id} data-testid="elder-order" data-order-id={o.id} data-state={o.state}>
              <button type="button" class="linkish" onClick={() => showOrder(o.id)} title={o.title} data-testid="elder-order-open">
                <span class={`otype t-${o.type}`}>{orderTypeLabel(o.type)}</span> <span class="num">#{o.id}</span>
              </button>
              <span class={`ostate s-${o.state}`} data-testid="elder-order-state">
                {orderStateLabel(o.state)}
              </span>
              <span class="eo-who">{responderText(o, dir)}</span>
              <span class="timer">{fmtDuration(orderAgeS(o, now))}</span>
              {o.state === 'received' && (
                <button type="button" class="btn small" onClick={() => setDispatching(o)} data-testid="elder-order-dispatch">
                  {t('order.action.dispatch')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {dispatching && (
        <DispatchDialog
          order={dispatching}
          onCancel={() => setDispatching(null)}
          onDone={(o) => {
            setDispatching(null);
            setList((l) => mergeOrder(l ?? [], o, isOpenOrder));
          }}
        />
      )}
    </div>
  );
}
