import { describe, expect, it } from 'vitest';
import { normalisePhone } from '../../../telephony/phone.js';

const ok = (s: string, area?: string) => {
  const r = normalisePhone(s, area);
  if (!r.ok) throw new Error(`${s}: ${r.reason}`);
  return r.number;
};

describe('normalisePhone', () => {
  it('mobile with and without +86', () => {
    expect(ok('13800138000')).toBe('13800138000');
    expect(ok('+86 138 0013 8000')).toBe('13800138000');
    expect(ok('008613800138000')).toBe('13800138000');
    expect(ok('8613800138000')).toBe('13800138000');
  });
  it('landline with and without the area code', () => {
    expect(ok('021-6218 1234')).toBe('02162181234');
    expect(ok('62181234', '021')).toBe('02162181234');
    expect(ok('+86 21 6218 1234')).toBe('02162181234');
    expect(ok('(010) 8888-6666')).toBe('01088886666');
  });
  it('international numbers keep their plus', () => {
    expect(ok('+44 20 7946 0958')).toBe('+442079460958');
  });
  it('refuses what is not a phone number', () => {
    expect(normalisePhone('abc').ok).toBe(false);
    expect(normalisePhone('').ok).toBe(false);
    expect(normalisePhone('12345').ok).toBe(false);
    expect(normalisePhone('1380013800').ok).toBe(false);
  });
});
