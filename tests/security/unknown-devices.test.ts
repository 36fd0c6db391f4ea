/**
 * Issue 15: unknown devices cannot grow the database or the log without bound. 100,000 made-up ids once gave
 * 15 MB of rows and 20 MB of log; now the "awaiting registration" list keeps the most recent rows (the rest are
 * evicted and counted) and unknown-device log lines have a global budget per minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { Registry } from '../../gateway/registry.js';
import { startTestApp } from '../helpers/app.js';

let app: App;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.stop());

describe('unknown devices', () => {
  it('the awaiting-registration list stays bounded, oldest evicted and counted', async () => {
    app.registry.maxUnknown = 50;
    for (let i = 0; i < 400; i++) {
      const r = await app.pipeline.handle([{ deviceId: `99${String(i).padStart(8, '0')}`, protocol: 'watch', kind: 'heartbeat', receivedAt: new Date(), raw: `x${i}` }]);
      expect(r.ok).toBe(false);
    }
    const n = (await app.db.query('SELECT count(*)::int n FROM unknown_devices')).rows[0].n;
    expect(n).toBeLessThanOrEqual(50 + 100); // trimmed every 100 notes
    const kept = (await app.db.query(`SELECT 1 FROM unknown_devices WHERE identifier = '9900000399'`)).rowCount;
    expect(kept).toBe(1); // the newest stays
    const metrics = await app.metrics.registry.getSingleMetricAsString('anxin_unknown_devices_evicted_total');
    expect(Number(/ (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(250);
  });

  it('unknown-device log lines have a global budget per minute, and the next line says how many were held back', () => {
    const r = new Registry(undefined as never);
    r.maxUnknownLogsPerMin = 5;
    const said = Array.from({ length: 1000 }, (_, i) => r.shouldLogUnknown(`id-${i}`, 3_600_000)).filter(Boolean);
    expect(said).toHaveLength(5);
    // Once per interval per device still holds inside the budget.
    const r2 = new Registry(undefined as never);
    expect(r2.shouldLogUnknown('a', 3_600_000)).toEqual({ suppressed: 0 });
    expect(r2.shouldLogUnknown('a', 3_600_000)).toBe(false);
  });
});
