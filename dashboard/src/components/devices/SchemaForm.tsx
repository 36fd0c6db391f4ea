/**
 * A form made from a JSON schema (a protocol's device settings, a command's parameters; GET /api/protocols): text,
 * numbers, yes/no, a choice from an enum, lists of numbers (SOS numbers), lists of small objects (a phone book) and
 * maps of names (Contact ID zone names "001" → "厨房"). The schema is the server's; the form checks only what the
 * schema says is required, and the server answers per field for the rest. Every label is text, never HTML.
 */
import { hasKey, t } from '../../i18n';
import type { JsonSchema } from '../../devices-admin';

export type Values = Record<string, unknown>;

/** The choices of an enum written either as `enum` or as TypeBox's union of literals (anyOf of const). */
export function choicesOf(s: JsonSchema): unknown[] | null {
  if (s.enum) return s.enum;
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length && alts.every((a) => a.const !== undefined)) return alts.map((a) => a.const);
  return null;
}

const typeOf = (s: JsonSchema): string => {
  if (choicesOf(s)) return 'enum';
  const ty = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (ty === 'object' && !s.properties && (s.patternProperties || typeof s.additionalProperties === 'object')) return 'map';
  return ty ?? 'string';
};

/** Defaults from the schema (its `default`s), so a submitted form carries what the user saw. */
export function initialValues(schema: JsonSchema | null | undefined, from: Values = {}): Values {
  const out: Values = {};
  for (const [k, s] of Object.entries(schema?.properties ?? {})) {
    if (from[k] !== undefined) out[k] = from[k];
    else if (s.default !== undefined) out[k] = s.default;
    else if (typeOf(s) === 'boolean' && schema?.required?.includes(k)) out[k] = false;
    else if (typeOf(s) === 'array' && s.items && typeOf(s.items) !== 'object' && s.minItems) out[k] = Array.from({ length: s.minItems }, () => '');
  }
  return out;
}

/** The values as the server takes them: empty optional fields left out. Returns the first missing required field. */
export function cleanValues(schema: JsonSchema | null | undefined, v: Values): { values: Values; missing: string | null } {
  const values: Values = {};
  let missing: string | null = null;
  for (const [k, s] of Object.entries(schema?.properties ?? {})) {
    const x = v[k];
    const empty = x === undefined || x === '' || (typeOf(s) === 'map' && !Object.keys(x as object).length);
    if (empty) {
      if (schema?.required?.includes(k) && !missing) missing = k;
      continue;
    }
    values[k] = x;
  }
  return { values, missing };
}

export function SchemaForm({ schema, value, onChange, prefix }: { schema: JsonSchema; value: Values; onChange: (v: Values) => void; prefix: string }) {
  const props = Object.entries(schema.properties ?? {});
  if (!props.length) return <p class="muted small">{t('devices.noParams')}</p>;
  return (
    <div class="schema-form">
      {props.map(([name, s]) => (
        <Field key={name} name={name} schema={s} required={!!schema.required?.includes(name)} value={value[name]} onChange={(x) => onChange({ ...value, [name]: x })} testid={`${prefix}-${name}`} />
      ))}
    </div>
  );
}

function Field({ name, schema, required, value, onChange, testid }: { name: string; schema: JsonSchema; required: boolean; value: unknown; onChange: (v: unknown) => void; testid: string }) {
  const key = `devices.field.${name}`;
  const title = hasKey(key) ? t(key) : schema.title || name;
  const hint = schema.description;
  const kind = typeOf(schema);
  const head = (
    <span>
      {title}
      {required && <b class="req"> *</b>}
    </span>
  );
  if (kind === 'boolean') {
    return (
      <label class="sf-check" title={hint}>
        <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} data-testid={testid} />
        {head}
      </label>
    );
  }
  if (kind === 'enum') {
    const choices = choicesOf(schema)!;
    return (
      <label title={hint}>
        {head}
        <select value={value === undefined ? '' : String(value)} onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : choices.find((c) => String(c) === e.currentTarget.value))} data-testid={testid}>
          {!required && <option value="">—</option>}
          {required && value === undefined && <option value="">{t('devices.choose')}</option>}
          {choices.map((c) => (
            <option key={String(c)} value={String(c)}>
              {String(c)}
            </option>
          ))}
        </select>
      </label>
    );
  }
  if (kind === 'integer' || kind === 'number') {
    return (
      <label title={hint}>
        {head}
        <input
          type="number"
          inputMode="numeric"
          min={schema.minimum}
          max={schema.maximum}
          step={kind === 'integer' ? 1 : 'any'}
          value={value === undefined ? '' : String(value)}
          placeholder={range(schema)}
          onInput={(e) => onChange(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}
          data-testid={testid}
        />
      </label>
    );
  }
  if (kind === 'array' && schema.items) return <ListField title={head} hint={hint} schema={schema} value={Array.isArray(value) ? value : []} onChange={onChange} testid={testid} />;
  if (kind === 'map') return <MapField title={head} hint={hint} value={(value as Record<string, string>) ?? {}} onChange={onChange} testid={testid} />;
  if (kind === 'object' && schema.properties) {
    return (
      <fieldset class="sf-group">
        <legend>{head}</legend>
        <SchemaForm schema={schema} value={(value as Values) ?? {}} onChange={onChange} prefix={testid} />
      </fieldset>
    );
  }
  return (
    <label title={hint}>
      {head}
      <input type="text" maxLength={schema.maxLength} value={value === undefined ? '' : String(value)} placeholder={hint ?? ''} onInput={(e) => onChange(e.currentTarget.value)} data-testid={testid} />
    </label>
  );
}

const range = (s: JsonSchema) => (s.minimum !== undefined || s.maximum !== undefined ? `${s.minimum ?? ''}–${s.maximum ?? ''}` : '');

/** A list: phone numbers (one input each) or small objects (one row of fields each), within minItems..maxItems. */
function ListField({ title, hint, schema, value, onChange, testid }: { title: preact.JSX.Element; hint?: string; schema: JsonSchema; value: unknown[]; onChange: (v: unknown) => void; testid: string }) {
  const item = schema.items!;
  const objects = typeOf(item) === 'object';
  const max = schema.maxItems ?? 10;
  const fixed = schema.minItems !== undefined && schema.minItems === schema.maxItems;
  const rows = value.length ? value : objects ? [{}] : [''];
  const set = (i: number, x: unknown) => onChange(rows.map((r, j) => (j === i ? x : r)));
  return (
    <fieldset class="sf-group" title={hint}>
      <legend>{title}</legend>
      {rows.map((r, i) => (
        <div class="sf-row" key={i}>
          {objects ? (
            <SchemaForm schema={item} value={(r as Values) ?? {}} onChange={(x) => set(i, x)} prefix={`${testid}-${i}`} />
          ) : (
            <input type="text" value={String(r ?? '')} placeholder={item.description ?? ''} onInput={(e) => set(i, e.currentTarget.value)} data-testid={`${testid}-${i}`} aria-label={`${i + 1}`} />
          )}
          {!fixed && rows.length > 1 && (
            <button type="button" class="btn ghost small" onClick={() => onChange(rows.filter((_, j) => j !== i))} aria-label={t('devices.removeRow')}>
              ✕
            </button>
          )}
        </div>
      ))}
      {!fixed && rows.length < max && (
        <button type="button" class="btn ghost small" onClick={() => onChange([...rows, objects ? {} : ''])}>
          {t('devices.addRow')}
        </button>
      )}
    </fieldset>
  );
}

/** Names per key (zone "001" → "厨房"). */
function MapField({ title, hint, value, onChange, testid }: { title: preact.JSX.Element; hint?: string; value: Record<string, string>; onChange: (v: unknown) => void; testid: string }) {
  const entries = Object.entries(value);
  const rows = entries.length ? entries : [['', '']];
  const put = (list: [string, string][]) => onChange(Object.fromEntries(list.filter(([k]) => k.trim() !== '')));
  return (
    <fieldset class="sf-group" title={hint}>
      <legend>{title}</legend>
      {rows.map(([k, v], i) => (
        <div class="sf-row" key={i}>
          <input type="text" class="sf-key" value={k} placeholder={t('devices.mapKey')} onInput={(e) => put(rows.map((r, j) => (j === i ? [e.currentTarget.value, r[1]] : r)) as [string, string][])} data-testid={`${testid}-key-${i}`} />
          <input type="text" value={v} placeholder={t('devices.mapValue')} onInput={(e) => put(rows.map((r, j) => (j === i ? [r[0], e.currentTarget.value] : r)) as [string, string][])} data-testid={`${testid}-value-${i}`} />
        </div>
      ))}
      <button type="button" class="btn ghost small" onClick={() => onChange({ ...value, [String(rows.length + 1).padStart(3, '0')]: '' })}>
        {t('devices.addRow')}
      </button>
    </fieldset>
  );
}
