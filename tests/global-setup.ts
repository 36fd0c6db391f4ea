/**
 * One PostgreSQL for the whole test run: TEST_DATABASE_URL if given (an admin URL of an external server),
 * otherwise an embedded PostgreSQL in a temporary directory. Each test file creates its own database.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPg } from '../gateway/store/embedded.js';
import { freePort } from '../testkit/free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('pgAdminUrl', process.env.TEST_DATABASE_URL);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'anxin-test-pg-'));
  chmodSync(dir, 0o755); // as root, postgres runs as the `postgres` user and must reach its data dir
  const pg = await startEmbeddedPg(join(dir, 'data'), await freePort());
  project.provide('pgAdminUrl', pg.url.replace(/\/anxin$/, '/postgres'));
  return async () => {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
