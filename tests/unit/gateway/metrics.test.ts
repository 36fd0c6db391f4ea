import { describe, expect, it } from 'vitest';
import { createMetrics, hotCounter, hotCounters } from '../../../gateway/metrics.js';
import { metricValue } from '../../helpers/until.js';

describe('hotCounter', () => {
  it('adds locally and shows the sum whenever the registry is collected', async () => {
    const m = createMetrics();
    const watch = hotCounter(m.frames, { protocol: 'watch' });
    const gt06 = hotCounter(m.frames, { protocol: 'gt06' });
    watch.inc();
    watch.inc(2);
    gt06.inc();
    expect(await metricValue(m.registry, 'anxin_frames_total', 'protocol="watch"')).toBe(3);
    watch.inc(4);
    expect(await metricValue(m.registry, 'anxin_frames_total', 'protocol="watch"')).toBe(7);
    expect(await metricValue(m.registry, 'anxin_frames_total', 'protocol="gt06"')).toBe(1);
    // ordinary inc() on the same counter still adds up with it
    m.frames.inc({ protocol: 'watch' });
    expect((await m.frames.get()).values.find((v) => v.labels.protocol === 'watch')?.value).toBe(8);
  });

  it('hotCounters makes one counter per label set and reuses it', async () => {
    const m = createMetrics();
    const byKind = hotCounters(m.messages, ['protocol', 'kind']);
    expect(byKind('watch', 'position')).toBe(byKind('watch', 'position'));
    byKind('watch', 'position').inc();
    byKind('watch', 'position').inc();
    byKind('watch', 'alarm').inc();
    expect(await metricValue(m.registry, 'anxin_messages_total', 'protocol="watch",kind="position"')).toBe(2);
    expect(await metricValue(m.registry, 'anxin_messages_total', 'protocol="watch",kind="alarm"')).toBe(1);
  });
});
