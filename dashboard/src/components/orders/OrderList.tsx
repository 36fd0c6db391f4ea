/**
 * The work-order list: filters (open only, state, type, due for a follow-up call), most urgent and newest first
 * as the server sorts them, each row with its age, the elder's name and who has it. Live: every pushed change is
 * merged in place (a new order that matches the filters appears at the top, one that no longer matches leaves).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtDuration, t } from '../../i18n';
import { ORDER_STATES, ORDER_TYPES, followUpDue, listOrders, matchesQuery, mergeOrder, onOrderChange, orderAgeS, orderErrorText, orderStateLabel, orderTypeLabel, responderText, stateSince, useDirectory, type OrderQuery } from '../../orders';
import { elderName, ensureElder } from '../../session';
import { store, useNow, useStore } from '../../store';
import type { WorkOrder, WorkOrderState, WorkOrderType } from '../../types';

export function OrderList({ selected, onSelect, changed }: { selected: number | null; onSelect: (id: number) => void; changed: WorkOrder | null }) {
  const [q, setQ] = useState<OrderQuery>({ open: true });
  const [items, setItems] = useState<WorkOrder[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const dir = useDirectory();
  useStore((s) => s.elders);
  const now = useNow();
  const qRef = useRef(q);
  qRef.current = q;

  const load = async (query: OrderQuery) => {
    setError(null);
    try {
      const list = await listOrders({ ...query, limit: 200 });
      if (qRef.current !== query) return;
      setItems(list);
      for (const id of new Set(list.map((o) => o.elderId).filter((x): x is number => x !== null))) void ensureElder(id);
    } catch (e) {
      setError(orderErrorText(e));
    }
  };
  useEffect(() => void load(q), [q]);
  useEffect(
    () =>
      onOrderChange((o) => {
        setItems((list) => (list ? mergeOrder(list, o, (x) => matchesQuery(x, qRef.current, Date.now())) : list));
        if (o.elderId !== null) void ensureElder(o.elderId);
      }),
    [],
  );
  // back online after a drop: the pushes missed meanwhile are read again
  const connection = useStore((s) => s.connection);
  const wasOnline = useRef(connection === 'online');
  useEffect(() => {
    if (connection === 'online' && !wasOnline.current) void load(qRef.current);
    wasOnline.current = connection === 'online';
  }, [connection]);
  // a change made on this page (the detail's dialogs) lands at once, before its push
  useEffect(() => {
    if (changed) setItems((list) => (list ? mergeOrder(list, changed, (x) => matchesQuery(x, qRef.current, Date.now())) : list));
  }, [changed]);

  const set = (patch: Partial<OrderQuery>) => setQ((x) => ({ ...x, ...patch }));
  return (
    <section class="box orders-list" aria-label={t('orders.title')}>
      <form class="filters" onSubmit={(e) => e.preventDefault()} data-testid="order-filters">
        <label class="check">
          <input type="checkbox" checked={!!q.open} onChange={(e) => set({ open: e.currentTarget.checked || undefined })} data-testid="order-filter-open" />
          <span>{t('orders.filter.open')}</span>
        </label>
        <label>
          <span>{t('orders.filter.state')}</span>
          <select value={q.state ?? ''} onChange={(e) => set({ state: (e.currentTarget.value || undefined) as WorkOrderState | undefined })} data-testid="order-filter-state">
            <option value="">{t('orders.filter.all')}</option>
            {ORDER_STATES.map((s) => (
              <option key={s} value={s}>
                {orderStateLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('orders.filter.type')}</span>
          <select value={q.type ?? ''} onChange={(e) => set({ type: (e.currentTarget.value || undefined) as WorkOrderType | undefined })} data-testid="order-filter-type">
            <option value="">{t('orders.filter.all')}</option>
            {ORDER_TYPES.map((s) => (
              <option key={s} value={s}>
                {orderTypeLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={!!q.due} onChange={(e) => set({ due: e.currentTarget.checked || undefined })} data-testid="order-filter-due" />
          <span>{t('orders.filter.due')}</span>
        </label>
        <label class="check">
          <input type="checkbox" checked={q.followUpAgentId !== undefined} onChange={(e) => set({ followUpAgentId: e.currentTarget.checked ? store.get().user?.id : undefined })} data-testid="order-filter-mine" />
          <span>{t('orders.filter.mine')}</span>
        </label>
        <div class="filter-actions">
          <button type="button" class="btn ghost small" onClick={() => void load(q)} data-testid="orders-refresh">
            {t('orders.refresh')}
          </button>
        </div>
        <span class="muted orders-count">{items ? t('orders.count', { n: items.length }) : ''}</span>
      </form>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {!items && !error && <p class="muted">{t('common.loading')}</p>}
      {items && items.length === 0 && (
        <p class="muted empty" data-testid="orders-empty">
          {t('orders.empty')}
        </p>
      )}
      {items && items.length > 0 && (
        <div class="table-wrap">
          <table class="table orders-table" data-testid="orders-table">
            <thead>
              <tr>
                <th>#</th>
                <th>{t('orders.col.type')}</th>
                <th>{t('orders.col.state')}</th>
                <th>{t('orders.col.title')}</th>
                <th>{t('orders.col.elder')}</th>
                <th>{t('orders.col.responder')}</th>
                <th>{t('orders.col.age')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((o) => (
                <tr
                  key={o.id}
                  class={`clickable p${o.priority} ${selected === o.id ? 'selected' : ''} ${followUpDue(o, now) ? 'due' : ''}`}
                  onClick={() => onSelect(o.id)}
                  data-testid="order-row"
                  data-order-id={o.id}
                  data-state={o.state}
                >
                  <td class="num">{o.id}</td>
                  <td class="nowrap">
                    <span class={`otype t-${o.type}`}>{orderTypeLabel(o.type)}</span>
                  </td>
                  <td class="nowrap">
                    <span class={`ostate s-${o.state}`} data-testid="order-row-state">
                      {orderStateLabel(o.state)}
                    </span>
                    <small class="muted state-age"> {fmtDuration((now - new Date(stateSince(o)).getTime()) / 1000)}</small>
                  </td>
                  <td>
                    <span class="cell-clip" title={o.title}>
                      {o.title}
                    </span>
                  </td>
                  <td class="nowrap">{o.elderId !== null ? (elderName(o.elderId) ?? `#${o.elderId}`) : '—'}</td>
                  <td>
                    <span class="cell-clip">{responderText(o, dir)}</span>
                  </td>
                  <td class="num nowrap">{fmtDuration(orderAgeS(o, now))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
