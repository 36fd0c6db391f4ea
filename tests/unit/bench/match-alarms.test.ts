import { describe, expect, it } from 'vitest';
import { CALLBACK_DELAY_S, matchAlarms } from '../../../bench/lib/measure.js';

describe('bench: matching injected alarms with their stage times', () => {
  it('takes each stage as the first record at or after the frame was sent, per device', () => {
    const t = 1_000_000;
    const a = matchAlarms(
      [
        { device: 'w1', protocol: 'watch', kind: 'sos', sentAt: t + 0.4, ackAt: t + 20, attempts: 1 },
        { device: 'm1', protocol: 'mqtt', kind: 'fall', sentAt: t + 100, ackAt: t + 150, pubackAt: t + 149, attempts: 2 },
        { device: 'w2', protocol: 'watch', kind: 'sos', sentAt: t + 200, attempts: 1 },
      ],
      [
        { device: 'w1', stage: 'received', at: t - 5000 }, // an earlier alarm of the same device: not this one
        { device: 'w1', stage: 'received', at: t }, // whole milliseconds: may read just before sentAt
        { device: 'w1', stage: 'committed', at: t + 12 },
        { device: 'm1', stage: 'received', at: t + 101 },
        { device: 'm1', stage: 'committed', at: t + 140 },
        { device: 'm1', stage: 'received', at: t + 5101 }, // the retransmission
      ],
      [
        { type: 'alarm', action: 'raised', device: 'w1', at: t + 13 },
        { type: 'present', device: 'w1', at: t + 25 },
        { type: 'present', device: 'm1', at: t + 160 },
      ],
      [{ device: 'w1', at: t + CALLBACK_DELAY_S * 1000 + 300, endpoint: 'PJSIP/13900000001@trunk' }],
    );
    expect(a.injected).toBe(3);
    expect(a.acked).toBe(2);
    expect(a.retransmitted).toBe(1);
    expect(a.stages.received).toMatchObject({ n: 2, max: 1 });
    expect(a.stages.committed).toMatchObject({ n: 2, p50: 11.6, max: 40 });
    expect(a.stages.screenPop).toMatchObject({ n: 2, max: 60 });
    expect(a.stages.ari).toMatchObject({ n: 1, p50: 299.6 });
    expect(a.missing).toEqual({ received: 1, committed: 1, screenPop: 1 });
    expect(a.byProtocol.mqtt).toMatchObject({ injected: 1, acked: 1, ack: { p50: 50 } });
  });
});
