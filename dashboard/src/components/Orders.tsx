/**
 * 工单 (work orders, issue 21): the list with its filters and one order's detail, live on `work_order`; for
 * admins a second tab, 服务站与人员 (stations, staff and their rotas). Everything from data renders as text.
 */
import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { takePendingOrder } from '../orders';
import { useStore } from '../store';
import type { WorkOrder } from '../types';
import { OrderDetail } from './orders/OrderDetail';
import { NewOrderDialog } from './orders/NewOrderDialog';
import { OrderList } from './orders/OrderList';
import { Stations } from './orders/Stations';

type Tab = 'orders' | 'stations';

export function Orders() {
  const role = useStore((s) => s.user?.role);
  const [tab, setTab] = useState<Tab>('orders');
  const [selected, setSelected] = useState<number | null>(() => takePendingOrder());
  const [changed, setChanged] = useState<WorkOrder | null>(null);
  const [creating, setCreating] = useState(false);
  return (
    <main class="orders-view" data-testid="orders-view">
      <div class="view-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'orders'} class={`chip ${tab === 'orders' ? 'on' : ''}`} onClick={() => setTab('orders')} data-testid="tab-orders">
          {t('orders.title')}
        </button>
        {role === 'admin' && (
          <button type="button" role="tab" aria-selected={tab === 'stations'} class={`chip ${tab === 'stations' ? 'on' : ''}`} onClick={() => setTab('stations')} data-testid="tab-stations">
            {t('stations.title')}
          </button>
        )}
        {tab === 'orders' && (
          <button type="button" class="btn small primary view-tabs-end" onClick={() => setCreating(true)} data-testid="order-new">
            {t('orders.new')}
          </button>
        )}
      </div>
      {creating && (
        <NewOrderDialog
          from={{}}
          onCancel={() => setCreating(false)}
          onDone={(o) => {
            setCreating(false);
            setChanged(o);
            setSelected(o.id);
          }}
        />
      )}
      {tab === 'stations' && role === 'admin' ? (
        <Stations />
      ) : (
        <div class={`orders-body ${selected !== null ? 'with-detail' : ''}`}>
          <OrderList selected={selected} onSelect={setSelected} changed={changed} />
          {selected !== null && <OrderDetail key={selected} id={selected} onClose={() => setSelected(null)} onChanged={setChanged} />}
        </div>
      )}
    </main>
  );
}
