/**
 * Geofences (电子围栏) drawn on the map: a circle (click the centre, then set the radius by number or by dragging
 * its edge) or a polygon (click the points, then finish); each named; deleted from the list. Saved as the elder's
 * `rules.geofences` (PATCH rules: the rest of the override kept as it is).
 */
import { useState } from 'preact/hooks';
import { t } from '../../i18n';
import { errorText } from '../../session';
import { notify } from '../../store';
import { fieldErrors, patchElder, rulesWith, type ElderDetail } from '../../elders-admin';
import type { Geofence } from '../../types';
import { EditMap, type Shape } from './EditMap';

type Mode = 'idle' | 'circle' | 'polygon';
const DEFAULT_RADIUS = 200;

const newId = () => `gf-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export function GeofenceEditor({ elder, onSaved }: { elder: ElderDetail; onSaved: (e: ElderDetail) => void }) {
  const [fences, setFences] = useState<Geofence[]>(() => elder.rules?.geofences ?? []);
  const [mode, setMode] = useState<Mode>('idle');
  const [draft, setDraft] = useState<Shape | null>(null);
  const [name, setName] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);
  const home = typeof elder.lat === 'number' && typeof elder.lon === 'number' ? { lat: elder.lat, lon: elder.lon } : null;

  const start = (m: Mode) => {
    setMode(m);
    setDraft(null);
    setSelected(null);
    setName('');
  };
  const click = (p: { lat: number; lon: number }) => {
    if (mode === 'circle') setDraft((d) => ({ type: 'circle', center: p, radiusM: d?.type === 'circle' ? d.radiusM : DEFAULT_RADIUS }));
    else if (mode === 'polygon') setDraft((d) => ({ type: 'polygon', points: [...(d?.type === 'polygon' ? d.points : []), p] }));
  };
  const canFinish = draft !== null && (draft.type === 'circle' ? draft.radiusM > 0 : draft.points.length >= 3);
  const finish = () => {
    if (!draft || !canFinish) return;
    const f: Geofence = { id: newId(), name: name.trim() || t(draft.type === 'circle' ? 'elders.fence.circle' : 'elders.fence.polygon'), shape: draft };
    setFences((l) => [...l, f]);
    setSelected(f.id);
    setMode('idle');
    setDraft(null);
    setName('');
    setDirty(true);
  };
  const update = (id: string, patch: Partial<Geofence>) => {
    setFences((l) => l.map((f) => (f.id === id ? { ...f, ...patch } : f)));
    setDirty(true);
  };
  const setRadius = (r: number) => {
    if (!(r > 0)) return;
    if (mode === 'circle' && draft?.type === 'circle') setDraft({ ...draft, radiusM: r });
    else {
      const f = fences.find((x) => x.id === selected);
      if (f?.shape.type === 'circle') update(f.id, { shape: { ...f.shape, radiusM: r } });
    }
  };

  const save = async () => {
    setBusy(true);
    try {
      const saved = await patchElder(elder.id, { rules: rulesWith(elder.rules ?? {}, fences) });
      setErrors({});
      setDirty(false);
      notify('info', t('elders.fence.saved', { n: fences.length }));
      onSaved(saved);
    } catch (e) {
      const f = fieldErrors(e);
      setErrors(f);
      notify('error', Object.values(f)[0] ?? errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const selectedCircle = mode === 'idle' ? fences.find((f) => f.id === selected && f.shape.type === 'circle') : undefined;
  return (
    <div class="fence-editor" data-testid="fence-editor">
      <div class="fence-map">
        <EditMap home={home} fences={fences} selectedId={selected} draft={draft} onClick={mode === 'idle' ? undefined : click} onRadius={draft?.type === 'circle' || selectedCircle ? setRadius : undefined} testid="fence-map" />
      </div>
      <div class="fence-side">
        <div class="fence-tools">
          <button type="button" class={`btn small ${mode === 'circle' ? 'primary' : ''}`} onClick={() => start(mode === 'circle' ? 'idle' : 'circle')} data-testid="fence-circle">
            {t('elders.fence.drawCircle')}
          </button>
          <button type="button" class={`btn small ${mode === 'polygon' ? 'primary' : ''}`} onClick={() => start(mode === 'polygon' ? 'idle' : 'polygon')} data-testid="fence-polygon">
            {t('elders.fence.drawPolygon')}
          </button>
        </div>
        {mode !== 'idle' && (
          <div class="fence-draft" data-testid="fence-draft">
            <p class="muted small">{t(mode === 'circle' ? 'elders.fence.circleHint' : 'elders.fence.polygonHint')}</p>
            <label class="ef-field">
              <span>{t('elders.fence.name')}</span>
              <input value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} data-testid="fence-name" />
            </label>
            {draft?.type === 'circle' && (
              <label class="ef-field">
                <span>{t('elders.fence.radius')}</span>
                <input type="number" min={1} value={draft.radiusM} onInput={(e) => setRadius(Number(e.currentTarget.value))} data-testid="fence-radius" />
              </label>
            )}
            {draft?.type === 'polygon' && <p class="small" data-testid="fence-points">{t('elders.fence.points', { n: draft.points.length })}</p>}
            <div class="fence-tools">
              <button type="button" class="btn primary small" disabled={!canFinish} onClick={finish} data-testid="fence-finish">
                {t('elders.fence.finish')}
              </button>
              <button type="button" class="btn ghost small" onClick={() => start('idle')}>
                {t('common.cancel')}
              </button>
            </div>
          </div>
        )}
        <ul class="fence-list" data-testid="fence-list">
          {fences.map((f, i) => (
            <li key={f.id} class={f.id === selected ? 'on' : ''} data-testid="fence-item" data-shape={f.shape.type}>
              <button type="button" class="btn ghost small" onClick={() => setSelected(f.id === selected ? null : f.id)} aria-pressed={f.id === selected}>
                {t(f.shape.type === 'circle' ? 'elders.fence.circle' : 'elders.fence.polygon')}
              </button>
              <input value={f.name} maxLength={200} aria-label={t('elders.fence.name')} onInput={(e) => update(f.id, { name: e.currentTarget.value })} data-testid="fence-item-name" />
              {f.shape.type === 'circle' ? (
                <input
                  type="number"
                  class="fence-r"
                  min={1}
                  value={f.shape.radiusM}
                  aria-label={t('elders.fence.radius')}
                  onInput={(e) => {
                    const r = Number(e.currentTarget.value);
                    if (r > 0 && f.shape.type === 'circle') update(f.id, { shape: { ...f.shape, radiusM: r } });
                  }}
                  data-testid="fence-item-radius"
                />
              ) : (
                <small class="muted">{t('elders.fence.points', { n: f.shape.points.length })}</small>
              )}
              <button type="button" class="btn ghost small" onClick={() => {
                  setFences((l) => l.filter((x) => x.id !== f.id));
                  setDirty(true);
                }} data-testid="fence-delete">
                {t('elders.remove')}
              </button>
              {Object.entries(errors)
                .filter(([k]) => k.startsWith(`rules/geofences/${i}`))
                .map(([k, m]) => (
                  <small key={k} class="ef-error" role="alert">
                    {m}
                  </small>
                ))}
            </li>
          ))}
        </ul>
        {fences.length === 0 && <p class="muted small">{t('elders.fence.none')}</p>}
        <div class="ef-actions">
          <button type="button" class="btn primary" disabled={busy || !dirty || mode !== 'idle'} onClick={() => void save()} data-testid="fence-save">
            {t('elders.fence.save')}
          </button>
        </div>
      </div>
    </div>
  );
}
