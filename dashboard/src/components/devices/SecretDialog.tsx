/**
 * The MQTT device secret, shown this once (POST /api/devices answers it; the server keeps only a hash). Copy puts it
 * on the clipboard, or selects it for Ctrl+C where the clipboard is refused. Closing forgets it: it is in no state
 * that outlives the dialog.
 */
import { useRef, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { notify } from '../../store';
import { Modal } from '../Dialogs';

export function SecretDialog({ identifier, secret, onClose }: { identifier: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const code = useRef<HTMLElement>(null);
  const selectAll = () => {
    const el = code.current;
    const sel = window.getSelection();
    if (!el || !sel) return;
    const range = document.createRange();
    range.selectNodeContents(el);
    sel.removeAllRanges();
    sel.addRange(range);
  };
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      selectAll();
      notify('info', t('devices.secret.copyManual'));
    }
  };
  return (
    <Modal title={t('devices.secret.title', { identifier })} onCancel={() => undefined} testid="secret-dialog">
      <p class="secret-warning" role="alert">
        {t('devices.secret.once')}
      </p>
      <dl class="secret-fields">
        <dt>{t('devices.secret.username')}</dt>
        <dd>
          <code>{identifier}</code>
        </dd>
        <dt>{t('devices.secret.password')}</dt>
        <dd>
          <code ref={code} class="secret-value" onClick={selectAll} data-testid="mqtt-secret">
            {secret}
          </code>
        </dd>
      </dl>
      <div class="modal-actions">
        <button type="button" class="btn" onClick={() => void copy()} data-testid="secret-copy">
          {copied ? t('devices.secret.copied') : t('devices.secret.copy')}
        </button>
        <button type="button" class="btn primary" onClick={onClose} data-testid="secret-close">
          {t('devices.secret.done')}
        </button>
      </div>
    </Modal>
  );
}
