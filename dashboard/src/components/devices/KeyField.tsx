/**
 * A device's shared key (DC-09 AES), typed once by the installer: the key and how it is written (hex, or ASCII
 * characters as Ajax and Home Assistant take it). It is sent once and never shown again: the server keeps it
 * sealed, and the device list only says whether one is set.
 */
import { t } from '../../i18n';

export interface KeyValue {
  key: string;
  encoding: 'hex' | 'ascii';
}

export function KeyField({ hint, value, onChange, hasKey, prefix }: { hint: string; value: KeyValue; onChange: (v: KeyValue) => void; hasKey?: boolean; prefix: string }) {
  return (
    <fieldset class="device-settings" data-testid={`${prefix}-key`}>
      <legend>{t('devices.key')}</legend>
      {hasKey !== undefined && <p class="muted small">{hasKey ? t('devices.keySet') : t('devices.keyNone')}</p>}
      <label>
        <span>{hasKey ? t('devices.keyNew') : t('devices.keyValue')}</span>
        <input type="password" autoComplete="new-password" spellcheck={false} maxLength={64} value={value.key} onInput={(e) => onChange({ ...value, key: e.currentTarget.value })} data-testid={`${prefix}-key-value`} />
        <small class="muted" title={hint}>
          {t('devices.keyHint')}
        </small>
      </label>
      <label>
        <span>{t('devices.keyEncoding')}</span>
        <select value={value.encoding} onChange={(e) => onChange({ ...value, encoding: e.currentTarget.value as KeyValue['encoding'] })} data-testid={`${prefix}-key-encoding`}>
          <option value="hex">{t('devices.keyHex')}</option>
          <option value="ascii">{t('devices.keyAscii')}</option>
        </select>
      </label>
    </fieldset>
  );
}

/** The body fields for a key typed into KeyField (none when left empty). */
export const keyBody = (v: KeyValue): { key?: string; keyEncoding?: KeyValue['encoding'] } => (v.key.trim() ? { key: v.key.trim(), keyEncoding: v.encoding } : {});
