/**
 * 人工报警: an alarm raised by hand for the elder on screen (a neighbour rang the hotline: she has fallen). It is
 * committed, escalated and popped like a device's (POST /api/alarms); the note goes on its timeline, and the file
 * turns to the new alarm. A second report of the same kind while one is open joins that one.
 */
import { useState } from 'preact/hooks';
import { post } from '../api';
import { label, t } from '../i18n';
import { errorText, openFile } from '../session';
import type { Alarm } from '../types';
import { OrderModal, Tail } from './orders/OrderDialogs';

/** what a caller reports by phone; device-only kinds (low battery, tamper …) are not offered */
const KINDS = ['fall', 'medical', 'sos', 'fire', 'gas', 'smoke', 'inactivity', 'one_key_service'] as const;

export function ManualAlarmDialog({ elderId, onCancel, onDone }: { elderId: number; onCancel: () => void; onDone: () => void }) {
  const [kind, setKind] = useState<(typeof KINDS)[number] | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!kind) return;
    setBusy(true);
    setError(null);
    try {
      const a = await post<Alarm>('/api/alarms', { elderId, kind, ...(note.trim() ? { note: note.trim() } : {}) });
      onDone();
      openFile({ alarmId: a.id, elderId, reason: 'click' });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <OrderModal title={t('manualAlarm.title')} onCancel={onCancel} testid="manual-alarm-dialog">
      <form class="order-form" onSubmit={(e) => void submit(e)}>
        <p class="muted order-dialog-hint">{t('manualAlarm.hint')}</p>
        <fieldset class="outcomes">
          <legend>{t('manualAlarm.kind')}</legend>
          {KINDS.map((k) => (
            <label key={k} class={`outcome-opt ${kind === k ? 'on' : ''}`}>
              <input type="radio" name="manual-kind" value={k} checked={kind === k} onChange={() => setKind(k)} data-testid={`manual-kind-${k}`} />
              {label('kind', k)}
            </label>
          ))}
        </fieldset>
        <label>
          <span>{t('manualAlarm.note')}</span>
          <textarea rows={3} maxLength={2000} value={note} placeholder={t('manualAlarm.notePlaceholder')} onInput={(e) => setNote(e.currentTarget.value)} data-testid="manual-alarm-note" />
        </label>
        <Tail error={error} busy={busy} ok={!!kind} okLabel={t('manualAlarm.save')} onCancel={onCancel} testid="manual-alarm" />
      </form>
    </OrderModal>
  );
}
