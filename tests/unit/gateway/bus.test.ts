import { describe, expect, it } from 'vitest';
import { Bus } from '../../../gateway/bus.js';

describe('bus', () => {
  it('a failing listener does not stop the others', async () => {
    const bus = new Bus();
    const got: string[] = [];
    bus.on('device.unknown', () => {
      throw new Error('boom');
    });
    bus.on('device.unknown', async () => {
      throw new Error('async boom');
    });
    bus.on('device.unknown', (p) => void got.push(p.identifier));
    bus.emit('device.unknown', { identifier: 'x1', protocol: 'watch' });
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual(['x1']);
    expect(bus.failures).toBe(2);
  });
});
