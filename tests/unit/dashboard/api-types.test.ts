/**
 * dashboard/src/api-types.ts is generated from the gateway's OpenAPI document (issue 16): regenerated here in
 * memory from a test server and compared with the committed file. On a difference: `npm run api-types`.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../gateway/app.js';
import { API_TYPES_ENV, API_TYPES_FILE, renderApiTypes } from '../../../scripts/api-types.js';
import { startTestApp } from '../../helpers/app.js';

let app: App;
beforeAll(async () => {
  app = await startTestApp({}, { ...API_TYPES_ENV });
});
afterAll(async () => app?.stop());

describe('dashboard API types', () => {
  it('the committed dashboard/src/api-types.ts matches the OpenAPI document (else: npm run api-types)', async () => {
    const generated = await renderApiTypes(app.http);
    expect(readFileSync(API_TYPES_FILE, 'utf8'), 'dashboard/src/api-types.ts is out of date: run `npm run api-types`').toBe(generated);
  });

  it('the document declares the responses dashboard/src/types.ts derives from', () => {
    const doc = app.http.swagger() as { paths: Record<string, Record<string, { responses?: Record<string, { content?: unknown }> }>> };
    for (const [path, method] of [
      ['/api/alarms/outcomes', 'get'],
      ['/api/alarms/stats', 'get'],
      ['/api/telemetry/last-positions', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.responses?.['200']?.content, `${method} ${path}`).toBeDefined();
    }
  });
});
