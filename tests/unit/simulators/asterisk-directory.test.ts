/** Endpoint parsing, directory lookup order and Asterisk timestamps of the simulated Asterisk. */
import { describe, expect, it } from 'vitest';
import { Directory, parseDirectory, parseEndpoint } from '../../../simulators/asterisk/directory.ts';
import { astTimestamp, causeText, dialStatusForCause, parseCallerId } from '../../../simulators/asterisk/util.ts';

describe('parseEndpoint', () => {
  it('derives the number and the channel-name device from each endpoint form', () => {
    expect(parseEndpoint('PJSIP/0612345678@trunk')).toEqual({ tech: 'PJSIP', resource: '0612345678@trunk', number: '0612345678', device: 'trunk' });
    expect(parseEndpoint('PJSIP/8001')).toMatchObject({ number: '8001', device: '8001' });
    expect(parseEndpoint('PJSIP/trunk/sip:13800138000@10.0.0.1')).toMatchObject({ number: '13800138000', device: 'trunk' });
    expect(parseEndpoint('PJSIP/trunk/13800138000')).toMatchObject({ number: '13800138000', device: 'trunk' });
    expect(parseEndpoint('Local/100@ctx')).toMatchObject({ tech: 'Local', number: '100', device: '100@ctx' });
    expect(parseEndpoint('PJSIP')).toBeNull();
    expect(parseEndpoint('PJSIP/')).toBeNull();
    expect(parseEndpoint('/8001')).toBeNull();
  });
});

describe('Directory', () => {
  const dir = new Directory(
    parseDirectory({
      default: { action: 'busy' },
      endpoints: [
        { match: '138*', action: 'noanswer' },
        { match: '13800138000', action: 'reject' },
        { match: 'PJSIP/13800138000@other', action: 'answer' },
      ],
    }),
  );

  it('prefers the exact endpoint, then the exact number, then globs, then the default', () => {
    expect(dir.lookup('PJSIP/13800138000@other').action).toBe('answer');
    expect(dir.lookup('PJSIP/13800138000@trunk').action).toBe('reject');
    expect(dir.lookup('PJSIP/13812345678@trunk').action).toBe('noanswer');
    expect(dir.lookup('PJSIP/999@trunk')).toMatchObject({ action: 'busy', match: '(default)' });
  });

  it('adds, removes and resets scripts at run time', () => {
    dir.add({ match: '999', action: 'answer', answerAfter: 2 });
    expect(dir.lookup('PJSIP/999@trunk').action).toBe('answer');
    expect(dir.remove('999')).toBe(true);
    expect(dir.remove('999')).toBe(false);
    dir.set({ endpoints: [] });
    expect(dir.lookup('PJSIP/13800138000@trunk')).toMatchObject({ action: 'answer', answerAfter: 1 });
    dir.reset();
    expect(dir.lookup('PJSIP/13800138000@trunk').action).toBe('reject');
  });

  it('rejects malformed scripts', () => {
    expect(() => parseDirectory([{ match: '1', action: 'explode' }])).toThrow(/unknown action/);
    expect(() => parseDirectory([{ action: 'busy' }])).toThrow(/match/);
    expect(() => parseDirectory([{ match: '1', dtmf: [{ at: 1, digits: 'x' }] }])).toThrow(/dtmf/);
  });
});

describe('util', () => {
  it('formats timestamps like Asterisk: local time, milliseconds, offset without a colon', () => {
    expect(astTimestamp(new Date())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/);
    const d = new Date(2024, 4, 1, 10, 15, 30, 123);
    expect(new Date(astTimestamp(d)).getTime()).toBe(d.getTime());
  });

  it('maps causes to texts and Dial statuses', () => {
    expect([16, 17, 19, 21, 34].map(causeText)).toEqual(['Normal Clearing', 'User busy', 'User alerting, no answer', 'Call Rejected', 'Circuit/channel congestion']);
    expect([16, 17, 20, 21, 34].map(dialStatusForCause)).toEqual(['NOANSWER', 'BUSY', 'CHANUNAVAIL', 'NOANSWER', 'CONGESTION']);
  });

  it('parses caller IDs', () => {
    expect(parseCallerId('"Centre" <0800123456>')).toEqual({ name: 'Centre', number: '0800123456' });
    expect(parseCallerId('Anxin <100>')).toEqual({ name: 'Anxin', number: '100' });
    expect(parseCallerId('0800123456')).toEqual({ name: '', number: '0800123456' });
  });
});
