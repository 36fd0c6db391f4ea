/** Receipt text parsing and state mapping (sms.md A6, B8). */
import { describe, expect, it } from 'vitest';
import { destination, normaliseSender } from '../../../sms/number.ts';
import { idVariants, messageState, parseReceiptText, smppState, tpStatusState } from '../../../sms/receipt.ts';

describe('parseReceiptText', () => {
  it('reads the spec example (C8)', () => {
    const r = parseReceiptText('id:1A2B3C sub:001 dlvrd:001 submit date:2501150830 done date:2501150831 stat:DELIVRD err:000 text:');
    expect(r).toEqual({ id: '1A2B3C', stat: 'DELIVRD', err: '000', submitDate: '2501150830', doneDate: '2501150831' });
  });

  it('reads labels in any case, without sub/dlvrd, 12-digit dates, and ignores the text', () => {
    const r = parseReceiptText('ID:0012345678901 Submit Date:250115083000 Done Date:250115083100 Stat:undeliv Err:001 Text:stat:DELIVRD');
    expect(r).toMatchObject({ id: '0012345678901', stat: 'UNDELIV', err: '001', submitDate: '250115083000' });
  });
});

describe('states', () => {
  it('maps stat words and message_state numbers', () => {
    expect(smppState('DELIVRD')).toBe('delivered');
    expect(smppState(2)).toBe('delivered');
    expect(smppState(3)).toBe('expired');
    expect(smppState('ENROUTE')).toBe('enroute');
    expect(smppState('weird')).toBe('unknown');
  });

  it('maps TP-ST', () => {
    expect(tpStatusState(0)).toBe('delivered');
    expect(tpStatusState(0x21)).toBe('enroute');
    expect(tpStatusState(0x46)).toBe('expired');
    expect(tpStatusState(0x62)).toBe('undeliverable');
  });

  it('aggregates parts', () => {
    expect(messageState(['delivered', undefined])).toBe('submitted');
    expect(messageState(['delivered', 'delivered'])).toBe('delivered');
    expect(messageState(['delivered', 'expired'])).toBe('expired');
  });

  it('id variants cover hex ↔ decimal', () => {
    expect(idVariants('1A2B3C')).toContain(String(0x1a2b3c));
    expect(idVariants(String(0x1a2b3c))).toContain('1A2B3C');
  });
});

describe('numbers', () => {
  it('international and national forms', () => {
    expect(destination('13800138000', 'international')).toEqual({ digits: '8613800138000', ton: 1, npi: 1 });
    expect(destination('+8613800138000', 'national')).toEqual({ digits: '13800138000', ton: 2, npi: 1 });
    expect(normaliseSender('8613912345678', 1)).toBe('+8613912345678');
    expect(normaliseSender('13912345678', 0)).toBe('+8613912345678');
    expect(normaliseSender('10086', 0)).toBe('10086');
    expect(() => destination('abc', 'international')).toThrow();
  });
});
