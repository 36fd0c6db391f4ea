/**
 * The elder's identity, home and care details: create (POST) or edit (PATCH, the changed fields only). Field errors
 * of the API's 400 show next to their field. Health fields (and the others the gateway hides from installers) are
 * not shown to installers. The home position is typed or picked on the map.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { label, t, type MsgKey } from '../../i18n';
import { errorText } from '../../session';
import { notify, useStore } from '../../store';
import { CATEGORIES, categoryLabel, createElder, fieldErrors, patchElder, type ElderDetail } from '../../elders-admin';
import { bodyOf, formOf, hiddenFor, isMasked, type ElderFormValues } from './elder-form';
import { EditMap } from './EditMap';
import { ElderPhoto } from './ElderPhoto';

type TextKey = Exclude<keyof ElderFormValues, 'livesAlone' | 'categories'>;

export function ElderForm({ elder, onSaved }: { elder: ElderDetail | null; onSaved: (e: ElderDetail) => void }) {
  const role = useStore((s) => s.user?.role);
  const [was, setWas] = useState(() => formOf(elder));
  const [f, setF] = useState(was);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const hidden = hiddenFor(role);
  const set = (patch: Partial<ElderFormValues>) => setF((x) => ({ ...x, ...patch }));

  const save = async (ev: Event) => {
    ev.preventDefault();
    const body = bodyOf(f, was, role);
    if (!f.name.trim()) return setErrors({ name: t('elders.err.nameRequired') });
    if (elder && !Object.keys(body).length) return notify('info', t('elders.nothingChanged'));
    setBusy(true);
    try {
      const saved = elder ? await patchElder(elder.id, body) : await createElder(body);
      setErrors({});
      const next = formOf(saved);
      setWas(next);
      setF(next);
      notify('info', t(elder ? 'elders.saved' : 'elders.created', { name: saved.name }));
      onSaved(saved);
    } catch (e) {
      const fields = fieldErrors(e);
      setErrors(fields);
      if (!Object.keys(fields).length) notify('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const text = (k: TextKey, key: MsgKey, o: { area?: boolean; type?: 'text' | 'date' | 'tel' | 'number'; max?: number; hint?: string } = {}) =>
    hidden.has(k) ? null : (
      <Field label={t(key)} error={errors[k]} wide={o.area}>
        {o.area ? (
          <textarea rows={2} maxLength={o.max} value={f[k]} onInput={(e) => set({ [k]: e.currentTarget.value })} data-testid={`ef-${k}`} />
        ) : (
          <input type={(o.type ?? 'text') as 'text'} step={o.type === 'number' ? 'any' : undefined} maxLength={o.max} value={f[k]} placeholder={o.hint} onInput={(e) => set({ [k]: e.currentTarget.value })} data-testid={`ef-${k}`} />
        )}
      </Field>
    );
  const home = f.lat && f.lon && Number.isFinite(Number(f.lat)) && Number.isFinite(Number(f.lon)) ? { lat: Number(f.lat), lon: Number(f.lon) } : null;

  return (
    <form class="elder-form" onSubmit={(e) => void save(e)} data-testid="elder-form" noValidate>
      <fieldset class="ef-group">
        <legend>{t('elders.identity')}</legend>
        {elder ? <ElderPhoto elder={elder} /> : <p class="muted small">{t('elders.photoAfterSave')}</p>}
        {text('name', 'elders.name', { max: 100 })}
        <Field label={t('elders.gender')} error={errors.gender}>
          <select value={f.gender} onChange={(e) => set({ gender: e.currentTarget.value })} data-testid="ef-gender">
            <option value="">—</option>
            {(['male', 'female', 'other'] as const).map((g) => (
              <option key={g} value={g}>
                {label('gender', g)}
              </option>
            ))}
          </select>
        </Field>
        {text('birthDate', 'elders.birthDate', { type: 'date' })}
        {!hidden.has('idNumber') && (
          <Field label={t('elders.idNumber')} error={errors.idNumber} note={isMasked(f.idNumber) ? t('elders.idMasked') : undefined}>
            <input value={f.idNumber} maxLength={18} onInput={(e) => set({ idNumber: e.currentTarget.value })} data-testid="ef-idNumber" />
          </Field>
        )}
        {text('phone', 'elders.phone', { type: 'tel', max: 32 })}
      </fieldset>

      <fieldset class="ef-group">
        <legend>{t('elders.home')}</legend>
        {text('address', 'elders.address', { area: true, max: 300 })}
        <div class="ef-latlon">
          {text('lat', 'elders.lat', { type: 'number' })}
          {text('lon', 'elders.lon', { type: 'number' })}
        </div>
        <p class="muted small">{t('elders.pickHint')}</p>
        <EditMap home={home} fences={elder?.rules?.geofences ?? []} onClick={(p) => set({ lat: String(p.lat), lon: String(p.lon) })} testid="ef-map" />
        {text('area', 'elders.area', { max: 100 })}
        <Field label={t('elders.categories')} error={errors.categories} wide>
          <div class="ef-checks">
            {CATEGORIES.map((c) => (
              <label key={c} class="inline">
                <input
                  type="checkbox"
                  checked={f.categories.includes(c)}
                  onChange={(e) => set({ categories: e.currentTarget.checked ? [...f.categories, c] : f.categories.filter((x) => x !== c) })}
                  data-testid={`ef-category-${c}`}
                />
                {categoryLabel(c)}
              </label>
            ))}
          </div>
        </Field>
      </fieldset>

      <fieldset class="ef-group">
        <legend>{t('elders.care')}</legend>
        {!hidden.has('livesAlone') && (
          <label class="inline ef-inline">
            <input type="checkbox" checked={f.livesAlone} onChange={(e) => set({ livesAlone: e.currentTarget.checked })} data-testid="ef-livesAlone" />
            {t('elders.livesAlone')}
          </label>
        )}
        {text('dialect', 'elders.dialect', { max: 50 })}
        {text('accessNotes', 'elders.accessNotes', { area: true, max: 1000, hint: t('elders.accessHint') })}
        {text('conditions', 'elders.conditions', { area: true, max: 2000 })}
        {text('medications', 'elders.medications', { area: true, max: 2000 })}
        {text('allergies', 'elders.allergies', { area: true, max: 1000 })}
        {text('doctor', 'elders.doctor', { max: 200 })}
        {role === 'installer' && <p class="muted small" data-testid="ef-no-medical">{t('elders.noMedical')}</p>}
      </fieldset>

      <div class="ef-actions">
        {errors[''] && <p class="form-error">{errors['']}</p>}
        <button type="submit" class="btn primary" disabled={busy} data-testid="ef-save">
          {elder ? t('common.save') : t('elders.create')}
        </button>
      </div>
    </form>
  );
}

function Field({ label: l, error, note, wide, children }: { label: string; error?: string; note?: string; wide?: boolean; children: ComponentChildren }) {
  return (
    <label class={`ef-field ${wide ? 'wide' : ''} ${error ? 'ef-bad' : ''}`}>
      <span>{l}</span>
      {children}
      {note && <small class="muted">{note}</small>}
      {error && (
        <small class="ef-error" role="alert" data-testid="field-error">
          {error}
        </small>
      )}
    </label>
  );
}
