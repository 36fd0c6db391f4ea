/**
 * 新建工单: an order opened by hand, or from a call (an enquiry, a complaint, a service asked for on the phone).
 * The type, a title (the server gives one when left empty) and what was asked; the server checks the rest.
 */
import { useState } from 'preact/hooks';
import { t } from '../../i18n';
import { openOrder, orderErrorText, orderTypeLabel } from '../../orders';
import type { WorkOrder, WorkOrderType } from '../../types';
import { OrderModal, Tail } from './OrderDialogs';

/** an emergency order comes from an alarm (派单 in the file, or resolving it), not from here */
const TYPES: WorkOrderType[] = ['service', 'enquiry', 'complaint'];

export function NewOrderDialog({ from, onCancel, onDone }: { from: { callId?: string; elderId?: number }; onCancel: () => void; onDone: (o: WorkOrder) => void }) {
  const [type, setType] = useState<WorkOrderType>('service');
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await openOrder({ ...from, type, ...(title.trim() ? { title: title.trim() } : {}), ...(description.trim() ? { description: description.trim() } : {}) }));
    } catch (err) {
      setError(orderErrorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <OrderModal title={from.callId ? t('orders.newFromCall') : t('orders.new')} onCancel={onCancel} testid="new-order-dialog">
      <form class="order-form" onSubmit={(e) => void submit(e)}>
        <fieldset class="outcomes">
          <legend>{t('orders.newType')}</legend>
          {TYPES.map((x) => (
            <label key={x} class={`outcome-opt ${type === x ? 'on' : ''}`}>
              <input type="radio" name="order-type" value={x} checked={type === x} onChange={() => setType(x)} data-testid={`new-order-type-${x}`} />
              {orderTypeLabel(x)}
            </label>
          ))}
        </fieldset>
        <label>
          <span>{t('orders.newTitle')}</span>
          <input autoFocus value={title} maxLength={200} placeholder={t('orders.newTitleHint')} onInput={(e) => setTitle(e.currentTarget.value)} data-testid="new-order-title" />
        </label>
        <label>
          <span>{t('orders.newDescription')}</span>
          <textarea rows={4} value={description} maxLength={4000} onInput={(e) => setDescription(e.currentTarget.value)} data-testid="new-order-description" />
        </label>
        <Tail error={error} busy={busy} ok okLabel={t('orders.newSave')} onCancel={onCancel} testid="new-order" />
      </form>
    </OrderModal>
  );
}
