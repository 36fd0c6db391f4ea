/**
 * Pick an elder by searching (name, phone, address, area, a device identifier; GET /api/elders?q=) — used to issue
 * a device to an elder (发放终端) and in the activation flow. Names and addresses are shown as text.
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { searchElders, type ElderBrief } from '../../devices-admin';

export function ElderPicker({ onPick, autoFocus }: { onPick: (e: ElderBrief) => void; autoFocus?: boolean }) {
  const [q, setQ] = useState('');
  const [list, setList] = useState<ElderBrief[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let alive = true;
    // a short pause while typing: one request per word, not per key
    const timer = setTimeout(() => {
      searchElders(q)
        .then((l) => alive && (setList(l), setFailed(false)))
        .catch(() => alive && setFailed(true));
    }, 250);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [q]);
  return (
    <div class="elder-picker" data-testid="elder-picker">
      <input type="search" autoFocus={autoFocus} value={q} placeholder={t('devices.elderSearch')} aria-label={t('devices.elderSearch')} onInput={(e) => setQ(e.currentTarget.value)} data-testid="elder-search" />
      {failed && <p class="form-error">{t('devices.err.elderSearch')}</p>}
      {list && !list.length && <p class="muted small">{t('devices.noElders')}</p>}
      <ul class="elder-results">
        {list?.map((e) => (
          <li key={e.id}>
            <button type="button" class="btn ghost elder-result" onClick={() => onPick(e)} data-testid="elder-result" data-elder-id={e.id}>
              <strong>{e.name}</strong>
              <small class="muted">{[e.phone, e.area, e.address].filter(Boolean).join(' · ')}</small>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
