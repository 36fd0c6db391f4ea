import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../gateway/store/migrate.js';
import { createTestDatabase } from '../helpers/db.js';

describe('migrations', () => {
  it('apply to an empty database, and a second run is a no-op', async () => {
    const url = await createTestDatabase('mig');
    const first = await migrate(url);
    expect(first.length).toBeGreaterThan(0);
    const second = await migrate(url);
    expect(second).toEqual([]);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const r = await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
    await c.end();
    const tables = r.rows.map((x) => x.table_name);
    for (const t of ['elders', 'contacts', 'devices', 'users', 'alarms', 'alarm_events', 'calls', 'audit_log', 'unknown_devices', 'telemetry']) {
      expect(tables).toContain(t);
    }
  });

  it('three nodes starting at once all start: each waits for the migration in progress', async () => {
    const url = await createTestDatabase('mig3');
    const runs = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    // Exactly one of them applied the migrations; the others found nothing left to do.
    expect(runs.filter((r) => r.length > 0)).toHaveLength(1);
    expect(runs.flat().length).toBe(runs.find((r) => r.length > 0)!.length);
  });
});
