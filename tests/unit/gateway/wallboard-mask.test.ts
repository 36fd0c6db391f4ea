/** The wall's masked names (大屏, issue 23): staff can tell whom, a visitor cannot read the name nor its length. */
import { describe, expect, it } from 'vitest';
import { maskName } from '../../../gateway/http/wallboard.js';

describe('maskName', () => {
  it('keeps the first and last character, one star between, whatever the length', () => {
    expect(maskName('张秀兰')).toBe('张*兰');
    expect(maskName('欧阳建国')).toBe('欧*国');
    expect(maskName('王芳')).toBe('王*');
    expect(maskName('李')).toBe('李');
    expect(maskName('  陈 小 明 ')).toBe('陈*明');
    expect(maskName('Zhang Xiulan')).toBe('Z*n');
    expect(maskName(null)).toBeNull();
    expect(maskName('')).toBe('');
  });

  it('never splits a character made of two code units', () => {
    expect(maskName('王奶奶 👵')).toBe('王*👵');
    expect(maskName('𠀋小明')).toBe('𠀋*明');
  });
});
