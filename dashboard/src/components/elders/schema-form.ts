/**
 * The override logic behind the rules and response-plan forms (SchemaForm.tsx), pure so it is unit-tested
 * (tests/unit/dashboard/schema-form.test.ts). An elder's `rules` and `responsePlan` are JSON Merge Patches over
 * the centre's defaults (alarms/merge.ts: objects merge, arrays and scalars replace, null deletes). The form shows
 * the merged value; an edit writes only the difference: a value equal to the default is no override at all.
 */

/** The part of JSON Schema (as TypeBox writes it) the form understands. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  description?: string;
}

export type Path = (string | number)[];
export type Override = Record<string, unknown>;

export type FieldKind = 'object' | 'number' | 'integer' | 'boolean' | 'string' | 'enum' | 'array-objects' | 'array-enum' | 'unknown';

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The literals of a union of literals (TypeBox: anyOf of {const}), or of an `enum`. */
export function enumValues(s: JsonSchema | undefined): unknown[] | null {
  if (!s) return null;
  if (Array.isArray(s.enum)) return s.enum;
  if (Array.isArray(s.anyOf) && s.anyOf.length && s.anyOf.every((v) => 'const' in v)) return s.anyOf.map((v) => v.const);
  return null;
}

export function kindOf(s: JsonSchema): FieldKind {
  if (enumValues(s)) return 'enum';
  if (s.type === 'object' && s.properties) return 'object';
  if (s.type === 'array' && s.items) {
    if (enumValues(s.items)) return 'array-enum';
    if (s.items.type === 'object') return 'array-objects';
    return 'unknown';
  }
  if (s.type === 'number' || s.type === 'integer' || s.type === 'boolean' || s.type === 'string') return s.type;
  return 'unknown';
}

/** JSON Merge Patch (RFC 7386), as alarms/merge.ts applies it on the server. Neither argument is changed. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObj(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function getAt(v: unknown, path: Path): unknown {
  let cur = v;
  for (const k of path) {
    if (Array.isArray(cur) && typeof k === 'number') cur = cur[k];
    else if (isObj(cur)) cur = cur[String(k)];
    else return undefined;
  }
  return cur;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Whether the override itself sets this path (a value, or null: "off"). */
export function isOverridden(override: unknown, path: Path): boolean {
  let cur = override;
  for (const [i, k] of path.entries()) {
    if (!isObj(cur) || !(String(k) in cur)) return false;
    if (i === path.length - 1) return true;
    cur = cur[String(k)];
  }
  return false;
}

/** The override without this path, and without the objects left empty by its removal. */
export function withoutPath(override: Override, path: Path): Override {
  if (!path.length) return {};
  const [head, ...rest] = path;
  const key = String(head);
  if (!(key in override)) return override;
  const out = { ...override };
  const child = out[key];
  if (rest.length && isObj(child)) {
    const next = withoutPath(child, rest);
    if (Object.keys(next).length) out[key] = next;
    else delete out[key];
  } else if (!rest.length) {
    delete out[key];
  }
  return out;
}

function setPath(override: Override, path: Path, value: unknown): Override {
  const [head, ...rest] = path;
  const key = String(head);
  const out = { ...override };
  if (!rest.length) out[key] = value;
  else out[key] = setPath(isObj(out[key]) ? (out[key] as Override) : {}, rest, value);
  return out;
}

/**
 * Sets one object-path (no array indexes) of the override: `undefined` means "absent" (null in the patch when the
 * default has a value there, nothing when it has none); a value equal to the default removes the override.
 */
export function withOverride(override: Override, defaults: unknown, path: Path, value: unknown): Override {
  const def = getAt(defaults, path);
  if (value === undefined) return def === undefined ? withoutPath(override, path) : setPath(override, path, null);
  if (deepEqual(value, def)) return withoutPath(override, path);
  return setPath(override, path, value);
}

/** A copy of `root` with the value at `path` replaced (arrays and objects alike). */
function setIn(root: unknown, path: Path, value: unknown): unknown {
  if (!path.length) return value;
  const [head, ...rest] = path;
  if (Array.isArray(root) && typeof head === 'number') {
    const out = root.slice();
    out[head] = setIn(out[head], rest, value);
    return out;
  }
  const out: Record<string, unknown> = isObj(root) ? { ...root } : {};
  const next = setIn(out[String(head)], rest, value);
  if (next === undefined) delete out[String(head)];
  else out[String(head)] = next;
  return out;
}

/**
 * One edit in the form at `path` (which may run into an array: quietHours/0/from). Arrays replace as a whole in a
 * merge patch, so an edit inside one overrides the whole array, taken from the merged value.
 */
export function applyEdit(defaults: unknown, override: Override, path: Path, value: unknown): Override {
  const arrayAt = path.findIndex((k) => typeof k === 'number');
  if (arrayAt < 0) return withOverride(override, defaults, path, value);
  const arrayPath = path.slice(0, arrayAt);
  const merged = getAt(mergePatch(defaults, override), arrayPath);
  const next = setIn(Array.isArray(merged) ? merged : [], path.slice(arrayAt), value);
  return withOverride(override, defaults, arrayPath, next);
}

/** The paths the override sets, to the leaves the form edits (arrays whole), for "n fields changed". */
export function overriddenPaths(override: unknown, prefix: Path = []): Path[] {
  if (!isObj(override)) return prefix.length ? [prefix] : [];
  const out: Path[] = [];
  for (const [k, v] of Object.entries(override)) {
    if (isObj(v)) out.push(...overriddenPaths(v, [...prefix, k]));
    else out.push([...prefix, k]);
  }
  return out;
}

/** A starting value for a new array item or an optional object switched on: the schema's defaults, else plain zeros. */
export function initialValue(s: JsonSchema): unknown {
  if (s.default !== undefined) return structuredClone(s.default);
  const values = enumValues(s);
  if (values) return values[0];
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of s.required ?? []) {
        const p = s.properties?.[k];
        if (p) out[k] = initialValue(p);
      }
      return out;
    }
    case 'array':
      return [];
    case 'boolean':
      return false;
    case 'number':
    case 'integer':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
    case 'string':
      return '';
    default:
      return null;
  }
}

/** The API's field errors for one document ("body/rules/lowBattery/belowPct") keyed by their path in it ("lowBattery/belowPct"). */
export function errorsUnder(fields: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [f, m] of Object.entries(fields)) {
    if (f === prefix) out[''] = m;
    else if (f.startsWith(`${prefix}/`)) out[f.slice(prefix.length + 1)] = m;
  }
  return out;
}

export const pathKey = (path: Path) => path.join('/');
