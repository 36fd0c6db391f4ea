/**
 * Text PostgreSQL cannot store: a NUL character, or a lone UTF-16 surrogate (jsonb refuses its \u escape). Such
 * input used to reach the database and come back as a 500; it is now a 400 naming the field (issue 15).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

const BAD = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The JSON-pointer-ish path of the first string (or key) that cannot be stored, or undefined. */
export function badTextPath(v: unknown, path: string, depth = 0): string | undefined {
  if (typeof v === 'string') return BAD.test(v) ? path : undefined;
  if (depth > 32 || v === null || typeof v !== 'object') return undefined;
  // raw uploads (photos, import files) are bytes, not text: walking a 1 MB Buffer key by key took 1.7 s
  if (ArrayBuffer.isView(v)) return undefined;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (BAD.test(k)) return `${path}/${k.replace(BAD, '?')}`;
    const p = badTextPath(x, `${path}/${k}`, depth + 1);
    if (p) return p;
  }
  return undefined;
}

export function installTextGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    for (const [where, v] of [['body', req.body], ['querystring', req.query], ['params', req.params]] as const) {
      const field = badTextPath(v, where);
      if (field) throw new ApiError(400, 'validation', `${field}: must not contain NUL characters or unpaired surrogates`, [{ field, message: 'must not contain NUL characters or unpaired surrogates' }]);
    }
  });
}
