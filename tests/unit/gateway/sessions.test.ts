/** SessionTable: who holds a device's session, and clone episodes (gateway/transports/sessions.ts). */
import { describe, expect, it } from 'vitest';
import type { Device } from '../../../gateway/store/devices.js';
import { cloneAlarm, ipOf, SessionTable } from '../../../gateway/transports/sessions.js';

const dev = { id: 7, identifier: '8800000015', protocol: 'watch', elderId: 3 } as Device;

function table() {
  const log: string[] = [];
  const t = new SessionTable<string>({
    online: (_d, l) => log.push(`online ${l}`),
    offline: (_d, l) => log.push(`offline ${l}`),
    replaced: (l) => log.push(`replaced ${l}`),
    clone: (_d, h, s) => log.push(`clone ${h.remote} ${s.remote}`),
  });
  return { t, log };
}

describe('SessionTable', () => {
  it('binds the first connection; a reconnect from the same address replaces it', () => {
    const { t, log } = table();
    expect(t.report('a', dev, '10.0.0.1:1000')).toBe('bound');
    expect(t.report('a', dev, '10.0.0.1:1000')).toBe('bound');
    expect(t.report('b', dev, '10.0.0.1:2000')).toBe('bound');
    expect(t.holder(dev.identifier)).toBe('b');
    expect(t.report('a', dev, '10.0.0.1:1000')).toBe('contender'); // a frame still on its way
    t.closed('a');
    expect(log).toEqual(['online a', 'replaced a', 'online b']);
  });

  it('a newcomer from another address is not bound; a clone is suspected when both report, once per episode', () => {
    const { t, log } = table();
    t.report('a', dev, '10.0.0.1:1000');
    expect(t.report('b', dev, '10.9.9.9:5000')).toBe('contender');
    expect(log).toEqual(['online a']); // not yet: the holder may be a dead connection
    expect(t.report('a', dev, '10.0.0.1:1000')).toBe('bound');
    expect(log).toEqual(['online a', 'clone 10.0.0.1:1000 10.9.9.9:5000']);
    for (let i = 0; i < 5; i++) {
      t.report('b', dev, '10.9.9.9:5000');
      t.report('a', dev, '10.0.0.1:1000');
    }
    expect(log).toHaveLength(2);
    expect(t.cloneSuspected(dev.identifier)).toBe(true);
    // the suspect never takes the session, not even when the holder goes
    t.closed('a');
    expect(t.report('b', dev, '10.9.9.9:5000')).toBe('contender');
    expect(t.holder(dev.identifier)).toBeUndefined();
    // a fresh connection takes it; the episode ends when the suspect is gone
    expect(t.report('c', dev, '10.0.0.1:1001')).toBe('bound');
    t.closed('b');
    expect(t.cloneSuspected(dev.identifier)).toBe(false);
    t.report('d', dev, '10.7.7.7:1');
    t.report('c', dev, '10.0.0.1:1001');
    expect(log.filter((l) => l.startsWith('clone'))).toHaveLength(2); // a second episode
  });

  it('a contender that is not a suspect takes the session with its next frame after the holder closed', () => {
    const { t, log } = table();
    t.report('a', dev, '10.0.0.1:1000');
    t.report('b', dev, '10.9.9.9:5000'); // the holder never reports again: a dead connection
    t.closed('a');
    expect(t.report('b', dev, '10.9.9.9:5000')).toBe('bound');
    expect(log).toEqual(['online a', 'offline a', 'online b']);
  });

  it('reads the address out of a remote', () => {
    expect(ipOf('1.2.3.4:5678')).toBe('1.2.3.4');
    expect(ipOf('::ffff:127.0.0.2:40000')).toBe('127.0.0.2');
    expect(ipOf('::1:40000')).toBe('::1');
  });

  it('makes one alarm message per episode, keyed by its start', () => {
    const at = new Date('2026-08-01T00:00:00Z');
    const a = cloneAlarm(dev, { remote: 'x:1' }, { remote: 'y:2' }, at);
    expect(a.msg).toMatchObject({ deviceId: dev.identifier, protocol: 'watch', deviceTime: at, raw: `clone_suspected:${dev.identifier}:${at.getTime()}` });
    expect(a.raise).toEqual([{ kind: 'device_clone_suspected', detail: { holder: 'x:1', suspect: 'y:2' } }]);
  });
});
