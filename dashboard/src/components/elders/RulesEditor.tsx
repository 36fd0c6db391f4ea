/**
 * The elder's rules and response plan: forms generated from GET /api/rules/schema, over the centre's defaults.
 * Saving sends the overrides only (PATCH rules, with the geofences the map keeps, and responsePlan: null when
 * nothing of the plan is overridden).
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../../i18n';
import { errorText } from '../../session';
import { notify } from '../../store';
import { fieldErrors, patchElder, rulesSchema, rulesWith, type ElderDetail, type RulesSchemaAnswer } from '../../elders-admin';
import { errorsUnder, overriddenPaths, type Override } from './schema-form';
import { SchemaForm } from './SchemaForm';

function rulesOverride(e: ElderDetail): Override {
  const { geofences: _g, ...rest } = (e.rules ?? {}) as Override;
  return rest;
}

export function RulesEditor({ elder, onSaved }: { elder: ElderDetail; onSaved: (e: ElderDetail) => void }) {
  const [schema, setSchema] = useState<RulesSchemaAnswer | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [rules, setRules] = useState<Override>(() => rulesOverride(elder));
  const [plan, setPlan] = useState<Override>(() => ({ ...(elder.responsePlan ?? {}) }));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);

  useEffect(() => {
    rulesSchema()
      .then(setSchema)
      .catch((e: unknown) => setLoadError(errorText(e)));
  }, []);

  const save = async () => {
    setBusy(true);
    try {
      const saved = await patchElder(elder.id, { rules: rulesWith(rules, elder.rules?.geofences ?? []), responsePlan: Object.keys(plan).length ? plan : null });
      setErrors({});
      setDirty(false);
      setRules(rulesOverride(saved));
      setPlan({ ...(saved.responsePlan ?? {}) });
      notify('info', t('elders.rulesSaved'));
      onSaved(saved);
    } catch (e) {
      const f = fieldErrors(e);
      setErrors(f);
      notify('error', Object.keys(f).length ? t('elders.rulesInvalid') : errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (loadError) return <p class="form-error">{loadError}</p>;
  if (!schema) return <p class="muted">{t('common.loading')}</p>;
  const n = overriddenPaths(rules).length + overriddenPaths(plan).length;
  return (
    <div class="rules-editor" data-testid="rules-editor">
      <div class="rules-head">
        <p class="muted small">{t('elders.rulesNote')}</p>
        <span class="esf-count" data-testid="rules-override-count">
          {t('elders.overrides', { n })}
        </span>
        <button type="button" class="btn primary" disabled={busy || !dirty} onClick={() => void save()} data-testid="rules-save">
          {t('elders.saveRules')}
        </button>
      </div>
      <div class="rules-cols">
        <section>
          <h3>{t('elders.rulesTitle')}</h3>
          <SchemaForm
            prefix="rules"
            schema={schema.rules.schema}
            defaults={schema.rules.defaults}
            override={rules}
            onChange={(o) => {
              setRules(o);
              setDirty(true);
            }}
            errors={errorsUnder(errors, 'rules')}
            exclude={['geofences']}
          />
        </section>
        <section>
          <h3>{t('elders.planTitle')}</h3>
          <SchemaForm
            prefix="plan"
            schema={schema.plan.schema}
            defaults={schema.plan.defaults}
            override={plan}
            onChange={(o) => {
              setPlan(o);
              setDirty(true);
            }}
            errors={errorsUnder(errors, 'responsePlan')}
          />
        </section>
      </div>
    </div>
  );
}
