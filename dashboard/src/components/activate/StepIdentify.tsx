/**
 * Step 1 of 设备开通: the identifier, typed or scanned. A registered device goes on to step 2; an unknown one can be
 * registered here (the protocol guessed from the identifier's shape), and if it already tried to connect (待开通)
 * the screen says so.
 */
import { useEffect, useState } from 'preact/hooks';
import { fmtAgo, label, t } from '../../i18n';
import { DEVICE_KINDS, deviceErrorText, findDevice, guessProtocols, kindFor, listUnregistered, registerDevice, type DeviceRow, type ProtocolInfo, type UnknownDevice } from '../../devices-admin';
import { SecretDialog } from '../devices/SecretDialog';
import { Scanner, canScan } from './Scanner';

export function StepIdentify({ protocols, onDevice }: { protocols: ProtocolInfo[]; onDevice: (d: DeviceRow) => void }) {
  const [identifier, setIdentifier] = useState('');
  const [scan, setScan] = useState(false);
  const [scanning, setScanning] = useState(false);
  const [unknown, setUnknown] = useState<{ identifier: string; seen: UnknownDevice | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => void canScan().then(setScan), []);

  const lookUp = async (raw = identifier) => {
    const id = raw.trim();
    if (!id) return setError(t('activate.err.empty'));
    setBusy(true);
    setError(null);
    setUnknown(null);
    try {
      const d = await findDevice(id);
      if (d) return onDevice(d);
      const waiting = await listUnregistered().catch(() => [] as UnknownDevice[]);
      setUnknown({ identifier: id, seen: waiting.find((u) => u.identifier === id) ?? null });
    } catch (e) {
      setError(deviceErrorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="act-step" data-testid="act-step-identify">
      <h2>{t('activate.step1')}</h2>
      <form
        class="act-identify"
        onSubmit={(e) => {
          e.preventDefault();
          void lookUp();
        }}
      >
        <label>
          <span>{t('activate.identifier')}</span>
          <input name="imei" inputMode="numeric" autoComplete="off" spellcheck={false} maxLength={64} value={identifier} placeholder={t('activate.identifierHint')} onInput={(e) => setIdentifier(e.currentTarget.value)} data-testid="act-identifier" />
        </label>
        <div class="act-buttons">
          {scan && (
            <button type="button" class="btn" onClick={() => setScanning(true)} data-testid="act-scan">
              {t('activate.scan')}
            </button>
          )}
          <button type="submit" class="btn primary big" disabled={busy} data-testid="act-lookup">
            {busy ? t('common.wait') : t('activate.next')}
          </button>
        </div>
      </form>
      {scanning && (
        <Scanner
          onClose={() => setScanning(false)}
          onResult={(id) => {
            setScanning(false);
            setIdentifier(id);
            void lookUp(id);
          }}
        />
      )}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {unknown && <RegisterHere key={unknown.identifier} identifier={unknown.identifier} seen={unknown.seen} protocols={protocols} onDevice={onDevice} />}
    </div>
  );
}

/** Not registered: register it here, the protocol chosen from the identifier's shape. */
function RegisterHere({ identifier, seen, protocols, onDevice }: { identifier: string; seen: UnknownDevice | null; protocols: ProtocolInfo[]; onDevice: (d: DeviceRow) => void }) {
  const order = guessProtocols(
    identifier,
    protocols.map((p) => p.name),
  );
  const first = seen?.protocol && protocols.some((p) => p.name === seen.protocol) ? seen.protocol : order[0]!;
  const [protocol, setProtocol] = useState(first);
  const proto = protocols.find((p) => p.name === protocol);
  const [kind, setKind] = useState(kindFor(proto));
  const [simPhone, setSimPhone] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<{ device: DeviceRow; secret: string } | null>(null);
  const likely = order.slice(0, 2);
  const [all, setAll] = useState(!likely.includes(first));

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const d = await registerDevice({ identifier, protocol, kind, ...(simPhone.trim() && !proto?.identifierIsPhone ? { simPhone: simPhone.trim() } : {}) });
      if (d.mqttSecret) setSecret({ device: d, secret: d.mqttSecret });
      else onDevice(d);
    } catch (e) {
      setError(deviceErrorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="act-register" data-testid="act-register">
      <p class="act-notice">{t('activate.notRegistered', { identifier })}</p>
      {seen && (
        <p class="act-seen" data-testid="act-seen">
          {t('activate.seenWaiting', { ago: fmtAgo(seen.lastSeen), n: seen.attempts })}
        </p>
      )}
      <fieldset class="act-protocols">
        <legend>{t('activate.whichProtocol')}</legend>
        {(all ? order : likely).map((name) => {
          const p = protocols.find((x) => x.name === name)!;
          return (
            <label key={name} class={`act-proto ${protocol === name ? 'on' : ''} ${likely.includes(name) ? '' : 'unlikely'}`}>
              <input
                type="radio"
                name="protocol"
                checked={protocol === name}
                onChange={() => {
                  setProtocol(name);
                  setKind(kindFor(p));
                }}
                data-testid={`act-proto-${name}`}
              />
              <span>
                <strong>{p.label || p.name}</strong>
                {p.devices && <small class="muted block">{p.devices}</small>}
              </span>
            </label>
          );
        })}
        {!all && (
          <button type="button" class="btn ghost small" onClick={() => setAll(true)} data-testid="act-proto-more">
            {t('activate.otherProtocols')}
          </button>
        )}
      </fieldset>
      <label>
        <span>{t('devices.kind')}</span>
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value)} data-testid="act-kind">
          {DEVICE_KINDS.map((k) => (
            <option key={k} value={k}>
              {label('deviceKind', k)}
            </option>
          ))}
        </select>
      </label>
      {!proto?.identifierIsPhone && (
        <label>
          <span>{t('devices.simPhone')}</span>
          <input type="tel" maxLength={32} value={simPhone} onInput={(e) => setSimPhone(e.currentTarget.value)} data-testid="act-sim" />
        </label>
      )}
      {error && (
        <p class="form-error" role="alert" data-testid="act-register-error">
          {error}
        </p>
      )}
      <button type="button" class="btn primary big" disabled={busy} onClick={() => void submit()} data-testid="act-register-submit">
        {t('activate.registerIt')}
      </button>
      {secret && (
        <SecretDialog
          identifier={secret.device.identifier}
          secret={secret.secret}
          onClose={() => {
            const d = secret.device;
            setSecret(null);
            onDevice(d);
          }}
        />
      )}
    </div>
  );
}
