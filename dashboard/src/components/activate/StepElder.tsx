/**
 * Step 2 of 设备开通: the elder who gets the device — found by search, or created here with the minimum (name,
 * phone, address; the rest of the file is filled in later) — and the device bound to them.
 */
import { useState } from 'preact/hooks';
import { t } from '../../i18n';
import { bindDevice, createElder, deviceErrorText, type DeviceRow, type ElderBrief } from '../../devices-admin';
import { ElderPicker } from '../devices/ElderPicker';

export function StepElder({ device, elderName, onBound }: { device: DeviceRow; elderName: string | null; onBound: (d: DeviceRow, elderName: string) => void }) {
  const [mode, setMode] = useState<'search' | 'create'>('search');
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [address, setAddress] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const bind = async (e: ElderBrief) => {
    setBusy(true);
    setError(null);
    try {
      onBound(await bindDevice(device.id, e.id), e.name);
    } catch (err) {
      setError(deviceErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  const create = async () => {
    if (!name.trim()) return setError(t('activate.err.name'));
    setBusy(true);
    setError(null);
    try {
      const e = await createElder({ name: name.trim(), ...(phone.trim() ? { phone: phone.trim() } : {}), ...(address.trim() ? { address: address.trim() } : {}) });
      onBound(await bindDevice(device.id, e.id), e.name);
    } catch (err) {
      setError(deviceErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  if (device.elderId !== null) {
    return (
      <div class="act-step" data-testid="act-step-elder">
        <h2>{t('activate.step2')}</h2>
        <p>
          {t('activate.alreadyBound')} <strong data-testid="act-bound-elder">{elderName ?? `#${device.elderId}`}</strong>
        </p>
        <button type="button" class="btn primary big" onClick={() => onBound(device, elderName ?? `#${device.elderId}`)} data-testid="act-elder-continue">
          {t('activate.next')}
        </button>
      </div>
    );
  }

  return (
    <div class="act-step" data-testid="act-step-elder">
      <h2>{t('activate.step2')}</h2>
      <div class="view-switch act-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === 'search'} class={`chip ${mode === 'search' ? 'on' : ''}`} onClick={() => setMode('search')} data-testid="act-elder-search-tab">
          {t('activate.findElder')}
        </button>
        <button type="button" role="tab" aria-selected={mode === 'create'} class={`chip ${mode === 'create' ? 'on' : ''}`} onClick={() => setMode('create')} data-testid="act-elder-new-tab">
          {t('activate.newElder')}
        </button>
      </div>
      {mode === 'search' ? (
        <ElderPicker onPick={(e) => void bind(e)} />
      ) : (
        <form
          class="act-new-elder"
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <label>
            <span>
              {t('activate.elderName')} <b class="req">*</b>
            </span>
            <input maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="act-elder-name" />
          </label>
          <label>
            <span>{t('activate.elderPhone')}</span>
            <input type="tel" maxLength={32} value={phone} onInput={(e) => setPhone(e.currentTarget.value)} data-testid="act-elder-phone" />
          </label>
          <label>
            <span>{t('activate.elderAddress')}</span>
            <input maxLength={300} value={address} onInput={(e) => setAddress(e.currentTarget.value)} data-testid="act-elder-address" />
          </label>
          <button type="submit" class="btn primary big" disabled={busy} data-testid="act-elder-create">
            {busy ? t('common.wait') : t('activate.createAndBind')}
          </button>
        </form>
      )}
      {error && (
        <p class="form-error" role="alert" data-testid="act-elder-error">
          {error}
        </p>
      )}
    </div>
  );
}
