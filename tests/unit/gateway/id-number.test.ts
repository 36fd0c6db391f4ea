import { describe, expect, it } from 'vitest';
import { checkIdNumber, idCheckChar } from '../../../gateway/id-number.js';

describe('GB 11643 ID numbers', () => {
  it('accepts numbers whose check character is right (the standard’s own examples among them)', () => {
    for (const id of ['11010519491231002X', '440524188001010014', '110101194501091234', '110101194501062222', '110105194203070027']) {
      expect(checkIdNumber(id), id).toMatchObject({ ok: true, number: id });
    }
    expect(checkIdNumber(' 11010519491231002x ')).toEqual({ ok: true, number: '11010519491231002X', birthDate: '1949-12-31', gender: 'female' });
    expect(checkIdNumber('440524188001010014')).toMatchObject({ birthDate: '1880-01-01', gender: 'male' });
  });

  it('computes the check character, X for 10', () => {
    expect(idCheckChar('11010519491231002')).toBe('X');
    expect(idCheckChar('44052418800101001')).toBe('4');
  });

  it('refuses one mistyped digit, a swapped pair and a wrong check character', () => {
    const good = '110101194501091234';
    for (let i = 0; i < 17; i++) {
      const d = (Number(good[i]) + 1) % 10;
      const typo = good.slice(0, i) + d + good.slice(i + 1);
      expect(checkIdNumber(typo).ok, typo).toBe(false);
    }
    expect(checkIdNumber('110101194501011234')).toMatchObject({ ok: false, message: expect.stringContaining('check character') });
    expect(checkIdNumber('110101194510091234').ok).toBe(false); // 10 and 09 swapped → another sum
    expect(checkIdNumber('11010519491231002Y').ok).toBe(false);
  });

  it('refuses the wrong length and impossible or future birth dates even with a right check character', () => {
    expect(checkIdNumber('11010519491231002').ok).toBe(false);
    expect(checkIdNumber('1101051949123100211').ok).toBe(false);
    const withCheck = (first17: string) => first17 + idCheckChar(first17);
    expect(checkIdNumber(withCheck('11010519490230001'))).toMatchObject({ ok: false, message: expect.stringContaining('birth date') });
    expect(checkIdNumber(withCheck('11010518700101001')).ok).toBe(false); // before 1880
    const future = withCheck('11010520990101001');
    expect(checkIdNumber(future).ok).toBe(false);
    expect(checkIdNumber(future, Date.UTC(2100, 0, 1)).ok).toBe(true);
  });
});
