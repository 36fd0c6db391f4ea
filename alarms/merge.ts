/**
 * Shared by rules and escalation plans: deep-merge a per-elder override onto defaults and validate
 * the result with TypeBox, giving one {path, message} per problem.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';

export interface FieldError {
  /** JSON pointer into the merged document, e.g. "/vitals/heartRate/min" ("" = the whole document). */
  path: string;
  message: string;
}


export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * JSON Merge Patch (RFC 7386): objects merge key by key, arrays and scalars replace,
 * and null deletes a key (e.g. `{ vitals: { spo2: null } }` turns the SpO2 rule off).
 * Neither argument is modified.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * TypeBox reports a failed union as just "Expected union value". Say which values a union of
 * literals takes, and for a union of objects told apart by `type`, report the chosen variant's errors.
 */
function* explain(errors: Iterable<ValueError>, prefix: string): Iterable<FieldError> {
  for (const e of errors) {
    const path = prefix + e.path;
    const variants = (e.schema as { anyOf?: TSchema[] }).anyOf;
    const description = (e.schema as { description?: string }).description;
    if (e.type === ValueErrorType.StringPattern && description) {
      yield { path, message: `expected ${description}, got ${JSON.stringify(e.value)}` };
      continue;
    }
    if (e.type !== ValueErrorType.Union || !variants) {
      yield { path, message: e.message };
      continue;
    }
    if (variants.every((v) => 'const' in v)) {
      yield { path, message: `expected one of ${variants.map((v) => JSON.stringify(v.const)).join(', ')}, got ${JSON.stringify(e.value)}` };
      continue;
    }
    const tagOf = (v: TSchema): unknown => (v.properties as Record<string, TSchema> | undefined)?.type?.const;
    const tags = variants.map(tagOf);
    if (tags.every((t) => t !== undefined)) {
      const chosen = isPlainObject(e.value) ? variants.find((v) => tagOf(v) === (e.value as Record<string, unknown>).type) : undefined;
      if (chosen) yield* explain(Value.Errors(chosen, e.value), path);
      else yield { path: `${path}/type`, message: `expected one of ${tags.map((t) => JSON.stringify(t)).join(', ')}` };
      continue;
    }
    yield { path, message: e.message };
  }
}

/**
 * Merge `override` onto `defaults`, fill schema defaults, then validate structurally (TypeBox)
 * and, only if that passes, semantically (`extra`, for rules a schema cannot say).
 */
export function mergeAndValidate<S extends TSchema>(
  schema: S,
  defaults: Static<S>,
  override: unknown,
  extra: (value: Static<S>) => FieldError[],
): { ok: true; value: Static<S> } | { ok: false; errors: FieldError[] } {
  if (override !== undefined && override !== null && !isPlainObject(override)) {
    return { ok: false, errors: [{ path: '', message: 'override must be an object' }] };
  }
  const merged = Value.Default(schema, mergePatch(defaults, override ?? {}));
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const e of explain(Value.Errors(schema, merged), '')) {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push({ path: e.path, message: e.message });
  }
  if (errors.length > 0) return { ok: false, errors };
  const value = merged as Static<S>;
  const semantic = extra(value);
  if (semantic.length > 0) return { ok: false, errors: semantic };
  return { ok: true, value };
}
