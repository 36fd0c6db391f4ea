/**
 * A form generated from a JSON schema (GET /api/rules/schema): objects as groups, numbers, integers, booleans,
 * strings (with their pattern), enums, arrays of enums (checkboxes) and arrays of objects (a list of groups).
 * Each field shows its default, is marked when the elder's override sets it, and can be reset to the default.
 * What it edits is the override only (schema-form.ts keeps that logic pure and tested).
 */
import type { ComponentChildren } from 'preact';
import { hasKey, label, t } from '../../i18n';
import {
  applyEdit, enumValues, getAt, initialValue, isObj, isOverridden, kindOf, mergePatch, pathKey, withoutPath, type JsonSchema, type Override, type Path,
} from './schema-form';

export interface SchemaFormProps {
  /** which locale keys name the fields: elders.<prefix>.<field path> */
  prefix: 'rules' | 'plan';
  schema: JsonSchema;
  defaults: unknown;
  override: Override;
  onChange: (o: Override) => void;
  /** field errors by path in the document ("lowBattery/belowPct") */
  errors: Record<string, string>;
  /** top-level fields edited elsewhere (the geofences, on the map) */
  exclude?: string[];
}

export function SchemaForm(p: SchemaFormProps) {
  const merged = mergePatch(p.defaults, p.override);
  const ctx: Ctx = { ...p, merged, edit: (path, v) => p.onChange(applyEdit(p.defaults, p.override, path, v)), reset: (path) => p.onChange(withoutPath(p.override, path)) };
  return (
    <div class="elder-sf" data-testid={`sf-${p.prefix}`}>
      {Object.entries(p.schema.properties ?? {})
        .filter(([k]) => !p.exclude?.includes(k))
        .map(([k, s]) => (
          <Node key={k} ctx={ctx} s={s} path={[k]} required={p.schema.required?.includes(k) ?? false} />
        ))}
    </div>
  );
}

interface Ctx extends SchemaFormProps {
  merged: unknown;
  edit: (path: Path, value: unknown) => void;
  reset: (path: Path) => void;
}

/** elders.rules.lowBattery.belowPct; array indexes left out; the field's own name when there is no label. */
function fieldLabel(prefix: string, path: Path): string {
  const names = path.filter((x): x is string => typeof x === 'string');
  const key = `elders.${prefix}.${names.join('.')}`;
  return hasKey(key) ? t(key) : (names[names.length - 1] ?? '');
}

function enumLabel(prefix: string, v: unknown): string {
  const key = `elders.${prefix}.enum.${String(v)}`;
  if (hasKey(key)) return t(key);
  return label('kind', String(v));
}

function show(prefix: string, v: unknown): string {
  if (v === undefined || v === null) return t('elders.sf.none');
  if (typeof v === 'boolean') return t(v ? 'elders.sf.yes' : 'elders.sf.no');
  if (Array.isArray(v)) return !v.length ? t('elders.sf.empty') : v.some(isObj) ? t('elders.sf.items', { n: v.length }) : v.map((x) => enumLabel(prefix, x)).join(', ');
  if (isObj(v)) return '{…}';
  return String(v);
}

function Node({ ctx, s, path, required }: { ctx: Ctx; s: JsonSchema; path: Path; required: boolean }) {
  const kind = kindOf(s);
  if (kind === 'object') return <Group ctx={ctx} s={s} path={path} required={required} />;
  if (kind === 'array-objects') return <ObjectList ctx={ctx} s={s} path={path} />;
  if (kind === 'unknown') return null;
  return <Leaf ctx={ctx} s={s} path={path} required={required} />;
}

/** Inside an array item the override is the whole array: only the array itself has a mark and a reset. */
const inArray = (path: Path) => path.some((k) => typeof k === 'number');

function Row({ ctx, path, title, def, children, marked }: { ctx: Ctx; path: Path; title: string; def?: string; children: ComponentChildren; marked: boolean }) {
  const key = pathKey(path);
  const error = ctx.errors[key];
  return (
    <div class={`esf-row ${marked ? 'esf-over' : ''} ${error ? 'ef-bad' : ''}`} data-testid={`sf-${ctx.prefix}-${key}`} data-overridden={String(marked)}>
      <span class="esf-label">{title}</span>
      <span class="esf-input">{children}</span>
      <span class="esf-meta">
        {def !== undefined && <small class="muted">{t('elders.sf.default', { v: def })}</small>}
        {marked && (
          <>
            <span class="esf-flag" data-testid="sf-overridden">
              {t('elders.sf.overridden')}
            </span>
            <button type="button" class="btn ghost small" onClick={() => ctx.reset(path)} data-testid="sf-reset">
              {t('elders.sf.reset')}
            </button>
          </>
        )}
      </span>
      {error && (
        <small class="ef-error" role="alert" data-testid="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

function Leaf({ ctx, s, path, required }: { ctx: Ctx; s: JsonSchema; path: Path; required: boolean }) {
  const kind = kindOf(s);
  const v = getAt(ctx.merged, path);
  const arr = inArray(path);
  const marked = !arr && isOverridden(ctx.override, path);
  const def = arr ? undefined : show(ctx.prefix, getAt(ctx.defaults, path));
  const id = `sf-input-${ctx.prefix}-${pathKey(path)}`;
  // an emptied required field goes back to its default; an emptied optional one is "not set"
  const empty = () => (required && !arr ? ctx.reset(path) : ctx.edit(path, undefined));
  let input: ComponentChildren;
  if (kind === 'boolean') {
    input = <input type="checkbox" checked={v === true} onChange={(e) => ctx.edit(path, e.currentTarget.checked)} data-testid={id} />;
  } else if (kind === 'number' || kind === 'integer') {
    input = (
      <input
        type="number"
        step={kind === 'integer' ? 1 : 'any'}
        min={s.minimum}
        max={s.maximum}
        value={typeof v === 'number' ? v : ''}
        onInput={(e) => {
          const raw = e.currentTarget.value.trim();
          if (raw === '') return empty();
          const n = Number(raw);
          if (Number.isFinite(n)) ctx.edit(path, n);
        }}
        data-testid={id}
      />
    );
  } else if (kind === 'enum') {
    const values = enumValues(s) ?? [];
    input = (
      <select value={String(v ?? '')} onChange={(e) => (e.currentTarget.value === '' ? empty() : ctx.edit(path, values.find((x) => String(x) === e.currentTarget.value)))} data-testid={id}>
        {!required && <option value="">{t('elders.sf.none')}</option>}
        {values.map((x) => (
          <option key={String(x)} value={String(x)}>
            {enumLabel(ctx.prefix, x)}
          </option>
        ))}
      </select>
    );
  } else if (kind === 'array-enum') {
    const values = enumValues(s.items) ?? [];
    const chosen = Array.isArray(v) ? v : [];
    input = (
      <span class="esf-checks" data-testid={id}>
        {values.map((x) => (
          <label key={String(x)} class="inline">
            <input type="checkbox" checked={chosen.includes(x)} onChange={(e) => ctx.edit(path, e.currentTarget.checked ? [...chosen, x] : chosen.filter((y) => y !== x))} />
            {enumLabel(ctx.prefix, x)}
          </label>
        ))}
      </span>
    );
  } else {
    input = (
      <input
        value={typeof v === 'string' ? v : ''}
        pattern={s.pattern}
        title={s.description}
        onInput={(e) => (e.currentTarget.value === '' && !required ? empty() : ctx.edit(path, e.currentTarget.value))}
        data-testid={id}
      />
    );
  }
  return (
    <Row ctx={ctx} path={path} title={fieldLabel(ctx.prefix, path)} def={def} marked={marked}>
      {input}
    </Row>
  );
}

function Group({ ctx, s, path, required }: { ctx: Ctx; s: JsonSchema; path: Path; required: boolean }) {
  const v = getAt(ctx.merged, path);
  const on = v !== undefined;
  const arr = inArray(path);
  const off = !arr && getAt(ctx.override, path) === null;
  const def = getAt(ctx.defaults, path);
  const touched = !arr && isOverridden(ctx.override, path);
  // a group of groups only (the vital signs) lays them side by side
  const nested = Object.values(s.properties ?? {}).every((c) => kindOf(c) === 'object');
  return (
    <fieldset class={`esf-group ${nested ? 'esf-groups' : ''} ${off ? 'esf-over' : ''}`} data-testid={`sf-${ctx.prefix}-${pathKey(path)}`} data-overridden={String(touched)}>
      <legend>
        {fieldLabel(ctx.prefix, path)}
        {!required && (
          <label class="inline esf-toggle">
            <input type="checkbox" checked={on} onChange={(e) => ctx.edit(path, e.currentTarget.checked ? (def ?? initialValue(s)) : undefined)} data-testid={`sf-on-${ctx.prefix}-${pathKey(path)}`} />
            {t('elders.sf.enabled')}
          </label>
        )}
        {touched && (
          <button type="button" class="btn ghost small" onClick={() => ctx.reset(path)} data-testid="sf-reset-group">
            {t('elders.sf.resetGroup')}
          </button>
        )}
      </legend>
      {on &&
        Object.entries(s.properties ?? {}).map(([k, c]) => <Node key={k} ctx={ctx} s={c} path={[...path, k]} required={s.required?.includes(k) ?? false} />)}
      {!on && <p class="muted small">{t(def === undefined ? 'elders.sf.notSet' : 'elders.sf.off')}</p>}
    </fieldset>
  );
}

function ObjectList({ ctx, s, path }: { ctx: Ctx; s: JsonSchema; path: Path }) {
  const v = getAt(ctx.merged, path);
  const items = Array.isArray(v) ? v : [];
  const marked = isOverridden(ctx.override, path);
  const item = s.items!;
  return (
    <fieldset class={`esf-group esf-list ${marked ? 'esf-over' : ''}`} data-testid={`sf-${ctx.prefix}-${pathKey(path)}`} data-overridden={String(marked)}>
      <legend>
        {fieldLabel(ctx.prefix, path)}
        <small class="muted"> {t('elders.sf.default', { v: show(ctx.prefix, getAt(ctx.defaults, path)) })}</small>
        {marked && (
          <>
            <span class="esf-flag">{t('elders.sf.overridden')}</span>
            <button type="button" class="btn ghost small" onClick={() => ctx.reset(path)} data-testid="sf-reset">
              {t('elders.sf.reset')}
            </button>
          </>
        )}
      </legend>
      {items.map((_, i) => (
        <div key={i} class="esf-item">
          <div class="esf-item-head">
            <b>{i + 1}</b>
            <button type="button" class="btn ghost small" disabled={s.minItems !== undefined && items.length <= s.minItems} onClick={() => ctx.edit(path, items.filter((__, j) => j !== i))} data-testid="sf-item-remove">
              {t('elders.remove')}
            </button>
          </div>
          {Object.entries(item.properties ?? {}).map(([k, c]) => (
            <Node key={k} ctx={ctx} s={c} path={[...path, i, k]} required={item.required?.includes(k) ?? false} />
          ))}
        </div>
      ))}
      {ctx.errors[pathKey(path)] && <small class="ef-error">{ctx.errors[pathKey(path)]}</small>}
      <button type="button" class="btn small" disabled={s.maxItems !== undefined && items.length >= s.maxItems} onClick={() => ctx.edit(path, [...items, initialValue(item)])} data-testid="sf-item-add">
        {t('elders.sf.add')}
      </button>
    </fieldset>
  );
}
