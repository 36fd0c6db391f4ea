/** The AT channel (sms.md B2, B4): one command at a time, echo, the bare `> ` prompt, URCs anywhere, error forms. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AtChannel, AtError, type Urc } from '../../../sms/modem/at.ts';

function channel() {
  const written: string[] = [];
  const urcs: Urc[] = [];
  const at = new AtChannel((d) => written.push(d), (u) => urcs.push(u));
  return { at, written, urcs };
}

afterEach(() => void vi.useRealTimers());

describe('AtChannel', () => {
  it('sends one command at a time, drops the echo and returns the information lines', async () => {
    const { at, written } = channel();
    const a = at.command('AT+CSQ');
    const b = at.command('AT+CPIN?');
    expect(written).toEqual(['AT+CSQ\r']);
    at.feed('AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
    await expect(a).resolves.toEqual(['+CSQ: 20,99']);
    expect(written).toEqual(['AT+CSQ\r', 'AT+CPIN?\r']);
    at.feed('\r\n+CPIN: READY\r\n\r\nOK\r\n');
    await expect(b).resolves.toEqual(['+CPIN: READY']);
  });

  it('AT+CMGS: the PDU and Ctrl-Z go at the bare prompt, with URCs before and after it', async () => {
    const { at, written, urcs } = channel();
    const p = at.command('AT+CMGS=19', { pdu: '0011000D91683108108300F00008A7044F60597D' });
    at.feed('\r\n+CMTI: "SM",3\r\n');
    expect(written).toHaveLength(1);
    at.feed('\r\n> ');
    expect(written[1]).toBe('0011000D91683108108300F00008A7044F60597D\x1a');
    at.feed('\r\n+CDS: 26\r\n0891683108100005F0062A0D91683108108300F0521051800304235210518003542300\r\n');
    at.feed('\r\n+CMGS: 42\r\n\r\nOK\r\n');
    await expect(p).resolves.toEqual(['+CMGS: 42']);
    expect(urcs).toEqual([{ line: '+CMTI: "SM",3' }, { line: '+CDS: 26', pdu: '0891683108100005F0062A0D91683108108300F0521051800304235210518003542300' }]);
  });

  it('+CMS ERROR / +CME ERROR come as numbers or text; ERROR is plain', async () => {
    const { at } = channel();
    const a = at.command('AT+CMGS=5', { pdu: '00' });
    const b = at.command('AT+CPIN?');
    const c = at.command('AT+FOO');
    at.feed('\r\n+CMS ERROR: 330\r\n');
    at.feed('\r\n+CME ERROR: SIM not inserted\r\n');
    at.feed('\r\nERROR\r\n');
    await expect(a).rejects.toMatchObject({ kind: 'CMS', detail: '330' });
    await expect(b).rejects.toMatchObject({ kind: 'CME', detail: 'SIM not inserted' });
    await expect(c).rejects.toBeInstanceOf(AtError);
  });

  it('a missing prompt times out, sends ESC, and the next command runs', async () => {
    vi.useFakeTimers();
    const { at, written } = channel();
    const p = at.command('AT+CMGS=19', { pdu: 'AA', promptTimeoutMs: 100 });
    const q = at.command('AT');
    const r = expect(p).rejects.toMatchObject({ kind: 'timeout' });
    await vi.advanceTimersByTimeAsync(150);
    await r;
    expect(written).toEqual(['AT+CMGS=19\r', '\x1b', 'AT\r']);
    at.feed('\r\nOK\r\n');
    await expect(q).resolves.toEqual([]);
  });

  it('+CREG: with two fields is the reply while AT+CREG? runs, with one a URC; reset fails what is queued', async () => {
    const { at, urcs } = channel();
    at.feed('\r\n+CREG: 1\r\n');
    const p = at.command('AT+CREG?');
    at.feed('\r\n+CREG: 5\r\n\r\n+CREG: 0,1\r\n\r\nOK\r\n');
    await expect(p).resolves.toEqual(['+CREG: 0,1']);
    expect(urcs).toEqual([{ line: '+CREG: 1' }, { line: '+CREG: 5' }]);
    const q = at.command('AT');
    at.reset();
    await expect(q).rejects.toMatchObject({ kind: 'closed' });
  });
});
