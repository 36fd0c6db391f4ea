/**
 * A device's shared key, typed once by the installer: a DC-09 panel's AES key and how it is written (hex, or ASCII
 * characters as Ajax and Home Assistant take it), or a SCAIP unit's SIP password (as typed). It is sent once and
 * never shown again: the server keeps it sealed, and the device list only says whether one is set.
 */
import { hasKey as hasKey_, t } from '../../i18n';

export interface KeyValue {
  key: string;
  encoding: 'hex' | 'ascii';
}

export function KeyField({ protocol, hint, encodings, value, onChange, hasKey, prefix }: { protocol: string; hint: string; encodings: string[]; value: KeyValue; onChange: (v: KeyValue) => void; hasKey?: boolean; prefix: string }) {
  const hintKey = `devices.keyHint.${protocol}`;
  return (
    <fieldset class="device-settings" data-testid={`${prefix}-key`}>
      <legend>{t(encodings.length ? 'devices.key' : 'devices.password')}</legend>
      {hasKey !== undefined && <p class="muted small">{t(hasKey ? 'devices.keySet' : encodings.length ? 'devices.keyNone' : 'devices.passwordNone')}</p>}
      <label>
        <span>{t(hasKey ? 'devices.keyNew' : encodings.length ? 'devices.keyValue' : 'devices.passwordValue')}</span>
        <input type="password" autoComplete="new-password" spellcheck={false} maxLength={64} value={value.key} onInput={(e) => onChange({ ...value, key: e.currentTarget.value })} data-testid={`${prefix}-key-value`} />
        <small class="muted" title={hint}>
          {hasKey_(hintKey) ? t(hintKey) : hint}
        </small>
      </label>
      {encodings.length > 0 && (
        <label>
          <span>{t('devices.keyEncoding')}</span>
          <select value={value.encoding} onChange={(e) => onChange({ ...value, encoding: e.currentTarget.value as KeyValue['encoding'] })} data-testid={`${prefix}-key-encoding`}>
            {encodings.includes('hex') && <option value="hex">{t('devices.keyHex')}</option>}
            {encodings.includes('ascii') && <option value="ascii">{t('devices.keyAscii')}</option>}
          </select>
        </label>
      )}
    </fieldset>
  );
}

/** The body fields for a key typed into KeyField (none when left empty; no encoding where keys are typed as is). */
export const keyBody = (v: KeyValue, encodings: string[]): { key?: string; keyEncoding?: KeyValue['encoding'] } =>
  v.key.trim() ? { key: v.key.trim(), ...(encodings.length ? { keyEncoding: v.encoding } : {}) } : {};
