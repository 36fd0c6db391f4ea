/**
 * One PostgreSQL for the whole test run: TEST_DATABASE_URL if given (an admin URL of an external server),
 * otherwise an embedded PostgreSQL in a temporary directory. Each test file creates its own database.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPg } from '../gateway/store/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
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
