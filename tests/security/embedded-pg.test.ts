/**
 * Issue 15: the embedded PostgreSQL has no fixed password. One is generated at first start and kept beside the
 * cluster with mode 600; a cluster made with the old fixed password is switched to a generated one.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPg, type EmbeddedPg } from '../../gateway/store/embedded.js';
import { freePort } from '../../testkit/free-port.js';

const canConnect = async (url: string) => {
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
};

let db: EmbeddedPg | undefined;
afterAll(async () => db?.stop());

describe('embedded PostgreSQL password', () => {
  it('is generated at first start, kept with mode 600, and replaces the old fixed one in an existing cluster', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'anxin-pgpw-'));
    chmodSync(parent, 0o755); // as root, the postgres user must enter it
    const dir = join(parent, 'pg');
    const port = await freePort();
    db = await startEmbeddedPg(dir, port);
    const file = `${dir}.password`;
    const pw = readFileSync(file, 'utf8').trim();
    expect(pw.length).toBeGreaterThanOrEqual(24);
    expect(pw).not.toBe('anxin-embedded');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(db.url).toContain(encodeURIComponent(pw));
    expect(await canConnect(`postgres://anxin:anxin-embedded@127.0.0.1:${port}/anxin`)).toBe(false);

    // Make it a cluster from before this change: the old fixed password, no password file.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(`ALTER ROLE anxin PASSWORD 'anxin-embedded'`);
    await c.end();
    await db.stop();
    rmSync(file);
    db = await startEmbeddedPg(dir, port);
    const rotated = readFileSync(file, 'utf8').trim();
    expect(rotated).not.toBe(pw);
    expect(await canConnect(db.url)).toBe(true);
    expect(await canConnect(`postgres://anxin:anxin-embedded@127.0.0.1:${port}/anxin`)).toBe(false);

    // A restart keeps the password.
    await db.stop();
    db = await startEmbeddedPg(dir, port);
    expect(readFileSync(file, 'utf8').trim()).toBe(rotated);
    expect(await canConnect(db.url)).toBe(true);
  }, 120_000);
});
