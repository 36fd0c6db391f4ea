/**
 * Register a device of any protocol the gateway knows (GET /api/protocols): its identifier (with the protocol's
 * hint), model, kind, SIM number, optionally the elder it is issued to, and the protocol's own settings (Contact
 * ID: the panel vendor and the zone names) kept in the device's meta. Also the edit form of a registered device
 * (model, SIM number, settings: PATCH /api/devices/:id).
 */
import { useState } from 'preact/hooks';
import { label, t } from '../../i18n';
import { DEVICE_KINDS, deviceErrorText, errorField, identifierHint, kindFor, patchDevice, registerDevice, type DeviceRow, type ElderBrief, type ProtocolInfo } from '../../devices-admin';
import { ElderPicker } from './ElderPicker';
import { KeyField, keyBody, type KeyValue } from './KeyField';
import { SchemaForm, cleanValues, initialValues, type Values } from './SchemaForm';

export interface Prefill {
  identifier?: string;
  protocol?: string;
}

export function RegisterForm({ protocols, prefill, onDone, onCancel, withElder = true }: { protocols: ProtocolInfo[]; prefill?: Prefill; onDone: (d: DeviceRow, secret?: string) => void; onCancel?: () => void; withElder?: boolean }) {
  const first = protocols.find((p) => p.name === prefill?.protocol) ?? protocols[0];
  const [protocol, setProtocol] = useState(first?.name ?? '');
  const [identifier, setIdentifier] = useState(prefill?.identifier ?? '');
  const [model, setModel] = useState('');
  const [kind, setKind] = useState(kindFor(first));
  const [simPhone, setSimPhone] = useState('');
  const [elder, setElder] = useState<ElderBrief | null>(null);
  const [picking, setPicking] = useState(false);
  const [settings, setSettings] = useState<Values>(() => initialValues(first?.settings));
  const [key, setKey] = useState<KeyValue>({ key: '', encoding: 'hex' });
  const [error, setError] = useState<{ text: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const proto = protocols.find((p) => p.name === protocol);

  const choose = (name: string) => {
    const p = protocols.find((x) => x.name === name);
    setProtocol(name);
    setKind(kindFor(p));
    setSettings(initialValues(p?.settings));
  };

  const submit = async () => {
    if (!proto) return;
    if (!identifier.trim()) return setError({ text: t('devices.err.identifier'), field: 'identifier' });
    const { values, missing } = cleanValues(proto.settings, settings);
    if (missing) return setError({ text: t('devices.err.setting', { field: missing }), field: 'meta' });
    setBusy(true);
    setError(null);
    try {
      const d = await registerDevice({
        identifier: identifier.trim(),
        protocol,
        kind,
        ...(model.trim() ? { model: model.trim() } : {}),
        ...(simPhone.trim() && !proto.identifierIsPhone ? { simPhone: simPhone.trim() } : {}),
        ...(Object.keys(values).length ? { meta: values } : {}),
        ...(elder ? { elderId: elder.id } : {}),
        ...(proto.keyHint ? keyBody(key, proto.keyEncodings) : {}),
      });
      onDone(d, d.mqttSecret);
    } catch (e) {
      setError({ text: deviceErrorText(e), field: errorField(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="device-form"
      data-testid="register-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label>
        <span>{t('devices.protocol')}</span>
        <select value={protocol} onChange={(e) => choose(e.currentTarget.value)} data-testid="reg-protocol">
          {protocols.map((p) => (
            <option key={p.name} value={p.name}>
              {p.label || p.name}
              {p.devices ? ` — ${p.devices}` : ''}
            </option>
          ))}
        </select>
      </label>
      <label class={error?.field === 'identifier' ? 'has-error' : ''}>
        <span>{proto?.identifierIsPhone ? t('devices.phoneNumber') : t('devices.identifier')}</span>
        <input name="identifier" autoComplete="off" spellcheck={false} maxLength={64} value={identifier} onInput={(e) => setIdentifier(e.currentTarget.value)} placeholder={identifierHint(proto)} required data-testid="reg-identifier" />
        {proto && <small class="muted">{identifierHint(proto)}</small>}
      </label>
      <label>
        <span>{t('devices.model')}</span>
        <input maxLength={100} value={model} onInput={(e) => setModel(e.currentTarget.value)} data-testid="reg-model" />
      </label>
      <label>
        <span>{t('devices.kind')}</span>
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value)} data-testid="reg-kind">
          {DEVICE_KINDS.map((k) => (
            <option key={k} value={k}>
              {label('deviceKind', k)}
            </option>
          ))}
        </select>
      </label>
      {!proto?.identifierIsPhone && (
        <label class={error?.field === 'simPhone' ? 'has-error' : ''}>
          <span>{t('devices.simPhone')}</span>
          <input type="tel" maxLength={32} value={simPhone} onInput={(e) => setSimPhone(e.currentTarget.value)} data-testid="reg-sim" />
        </label>
      )}
      {withElder && (
        <div class="device-form-elder">
          <span class="field-label">{t('devices.elderOptional')}</span>
          {elder ? (
            <span class="chosen-elder" data-testid="reg-elder">
              {elder.name}
              <button type="button" class="btn ghost small" onClick={() => setElder(null)}>
                {t('devices.clear')}
              </button>
            </span>
          ) : picking ? (
            <ElderPicker
              onPick={(e) => {
                setElder(e);
                setPicking(false);
              }}
            />
          ) : (
            <button type="button" class="btn small pick-elder" onClick={() => setPicking(true)} data-testid="reg-pick-elder">
              {t('devices.pickElder')}
            </button>
          )}
        </div>
      )}
      {proto?.settings && (
        <fieldset class="device-settings" data-testid="reg-settings">
          <legend>{t('devices.settings', { protocol: proto.label || proto.name })}</legend>
          <SchemaForm schema={proto.settings} value={settings} onChange={setSettings} prefix="setting" />
        </fieldset>
      )}
      {proto?.keyHint && <KeyField protocol={proto.name} hint={proto.keyHint} encodings={proto.keyEncodings} value={key} onChange={setKey} prefix="reg" />}
      {proto?.deviceSecret && <p class="muted small">{t('devices.secretNote')}</p>}
      {error && (
        <p class="form-error" role="alert" data-testid="register-error">
          {error.text}
        </p>
      )}
      <div class="device-form-actions">
        {onCancel && (
          <button type="button" class="btn ghost" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        )}
        <button type="submit" class="btn primary" disabled={busy || !proto} data-testid="reg-submit">
          {busy ? t('common.wait') : t('devices.register')}
        </button>
      </div>
    </form>
  );
}

/** Model, SIM number and the protocol's settings of a registered device. */
export function EditForm({ device, protocol, onDone, onCancel }: { device: DeviceRow; protocol: ProtocolInfo | undefined; onDone: (d: DeviceRow) => void; onCancel: () => void }) {
  const [model, setModel] = useState(device.model ?? '');
  const [simPhone, setSimPhone] = useState(device.simPhone ?? '');
  const [settings, setSettings] = useState<Values>(() => initialValues(protocol?.settings, device.meta ?? {}));
  const [key, setKey] = useState<KeyValue>({ key: '', encoding: 'hex' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const { values, missing } = cleanValues(protocol?.settings, settings);
    if (missing) return setError(t('devices.err.setting', { field: missing }));
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { model: model.trim() };
      if (!protocol?.identifierIsPhone) body.simPhone = simPhone.trim() || null;
      if (protocol?.settings) body.meta = { ...(device.meta ?? {}), ...values };
      if (protocol?.keyHint) Object.assign(body, keyBody(key, protocol.keyEncodings));
      onDone(await patchDevice(device.id, body));
    } catch (e) {
      setError(deviceErrorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="device-form"
      data-testid="edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label>
        <span>{t('devices.model')}</span>
        <input maxLength={100} value={model} onInput={(e) => setModel(e.currentTarget.value)} data-testid="edit-model" />
      </label>
      {!protocol?.identifierIsPhone && (
        <label>
          <span>{t('devices.simPhone')}</span>
          <input type="tel" maxLength={32} value={simPhone} onInput={(e) => setSimPhone(e.currentTarget.value)} data-testid="edit-sim" />
        </label>
      )}
      {protocol?.settings && (
        <fieldset class="device-settings">
          <legend>{t('devices.settings', { protocol: protocol.label || protocol.name })}</legend>
          <SchemaForm schema={protocol.settings} value={settings} onChange={setSettings} prefix="edit-setting" />
        </fieldset>
      )}
      {protocol?.keyHint && <KeyField protocol={protocol.name} hint={protocol.keyHint} encodings={protocol.keyEncodings} value={key} onChange={setKey} hasKey={device.hasKey === true} prefix="edit" />}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div class="device-form-actions">
        <button type="button" class="btn ghost" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" class="btn primary" disabled={busy} data-testid="edit-save">
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}
