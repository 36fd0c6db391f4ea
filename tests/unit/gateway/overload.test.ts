import { describe, expect, it } from 'vitest';
import { isRoutine, OverloadGuard } from '../../../gateway/overload.js';
import type { DeviceMessage } from '../../../protocols/message.js';
import { until } from '../../helpers/until.js';

const m = (over: Partial<DeviceMessage>): DeviceMessage => ({ deviceId: '1', protocol: 'watch', kind: 'position', receivedAt: new Date(), raw: '', ...over });

describe('isRoutine', () => {
  it('is true only for reports with nothing for the alarm engine', () => {
    expect(isRoutine(m({ kind: 'position' }))).toBe(true);
    expect(isRoutine(m({ kind: 'heartbeat', battery: 5 }))).toBe(true);
    expect(isRoutine(m({ kind: 'health', health: { heartRate: 70 } }))).toBe(true);
    expect(isRoutine(m({ kind: 'alarm', alarms: ['sos'] }))).toBe(false);
    expect(isRoutine(m({ kind: 'position', alarms: ['fall'] }))).toBe(false);
    expect(isRoutine(m({ kind: 'heartbeat', restores: ['power_cut'] }))).toBe(false);
    expect(isRoutine(m({ kind: 'status' }))).toBe(false);
    expect(isRoutine(m({ kind: 'test' }))).toBe(false);
    expect(isRoutine(m({ kind: 'call' }))).toBe(false);
    expect(isRoutine(m({ kind: 'heartbeat', commandEcho: { keyword: 'CR' } as never }))).toBe(false);
  });
});

describe('OverloadGuard', () => {
  it('sheds from the first lagging sample and stops only after the hold time without lag', () => {
    const changes: boolean[] = [];
    const g = new OverloadGuard({ lagMs: 500, holdMs: 2000, onChange: (s) => changes.push(s) });
    g.sample(100, 0);
    expect(g.shedding).toBe(false);
    g.sample(600, 1000);
    expect(g.shedding).toBe(true);
    g.sample(10, 2500); // within the hold
    expect(g.shedding).toBe(true);
    g.sample(700, 2800); // lag again: the hold restarts
    g.sample(10, 4500);
    expect(g.shedding).toBe(true);
    g.sample(10, 4800);
    expect(g.shedding).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('measures a blocked event loop as lag', async () => {
    const g = new OverloadGuard({ lagMs: 150, holdMs: 60_000, sampleMs: 20 });
    g.start();
    try {
      expect(g.shedding).toBe(false);
      const end = Date.now() + 300;
      while (Date.now() < end); // the loop is held for 300 ms
      // the first sample after the block runs about 280 ms late
      await until(() => g.shedding, 2000);
    } finally {
      g.stop();
    }
  });

  it('never sheds with lagMs 0', () => {
    const g = new OverloadGuard({ lagMs: 0, holdMs: 1000 });
    g.start();
    expect(g.shedding).toBe(false);
    g.stop();
  });
});
