/** UCS2 splitting (sms.md A3/A4): 70 single, 67 per part behind a 6-octet UDH, never half a surrogate pair. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reassembler } from '../../../sms/reassembly.ts';
import { concatUdh, encodeUcs2Parts, parseConcat, splitUcs2 } from '../../../sms/split.ts';
import { decodeUcs2, encodeUcs2 } from '../../../sms/ucs2.ts';

describe('splitUcs2', () => {
  it('70 units fit in one SMS, 71 need two parts of 67 + 4', () => {
    expect(splitUcs2('张'.repeat(70))).toHaveLength(1);
    expect(splitUcs2('张'.repeat(71)).map((p) => p.length)).toEqual([67, 4]);
    expect(splitUcs2('张'.repeat(150)).map((p) => p.length)).toEqual([67, 67, 16]);
  });

  it('keeps a surrogate pair whole at the cut', () => {
    const t = '张'.repeat(66) + '😀' + '张'.repeat(10);
    const parts = splitUcs2(t);
    expect(parts[0]).toBe('张'.repeat(66));
    expect(parts[1]!.startsWith('😀')).toBe(true);
  });

  it('property: parts rejoin to the text, each ≤ 67 units (or one ≤ 70), no lone surrogate at an edge', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (t) => {
        const parts = splitUcs2(t);
        expect(parts.join('')).toBe(t);
        if (parts.length > 1) for (const p of parts) expect(p.length).toBeLessThanOrEqual(67);
        else expect(parts[0]!.length).toBeLessThanOrEqual(70);
        for (const p of parts) {
          if (p.length === 0) continue;
          const last = p.charCodeAt(p.length - 1);
          expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
        }
      }),
    );
  });
});

describe('UDH', () => {
  it('builds and reads IEI 00 and IEI 08', () => {
    expect(concatUdh(0xa7, 2, 1).toString('hex')).toBe('050003a70201');
    expect(concatUdh(0x1234, 3, 2, 16).toString('hex')).toBe('0608041234030' + '2');
    expect(parseConcat(Buffer.from('050003a70201', 'hex'))).toEqual({ ref: 0xa7, total: 2, seq: 1 });
    expect(parseConcat(Buffer.from('0a0003a70201' + '0804123402', 'hex').subarray(0, 6))).toEqual({ ref: 0xa7, total: 2, seq: 1 });
    // another IE first (IEI 0x24 national language shift), then the concatenation IE
    expect(parseConcat(Buffer.from('080201020003070301', 'hex'))).toEqual({ ref: 7, total: 3, seq: 1 });
  });

  it('encodeUcs2Parts: every part ≤ 140 octets with its UDH', () => {
    const parts = encodeUcs2Parts('张'.repeat(150), 9);
    expect(parts.map((p) => (p.udh?.length ?? 0) + p.body.length)).toEqual([140, 140, 38]);
    expect(parts.map((p) => decodeUcs2(p.body)).join('')).toBe('张'.repeat(150));
    expect(encodeUcs2Parts('你好', 1)[0]!.udh).toBeUndefined();
    expect(encodeUcs2('你好').toString('hex')).toBe('4f60597d');
  });
});

describe('Reassembler', () => {
  it('joins parts in any order, ignores repeats, and drops an incomplete set after its timeout', () => {
    const r = new Reassembler(1000);
    expect(r.add({ from: 'a', ref: 1, total: 3, seq: 3, text: 'C' }, 0)).toBeUndefined();
    expect(r.add({ from: 'a', ref: 1, total: 3, seq: 1, text: 'A' }, 1)).toBeUndefined();
    expect(r.add({ from: 'a', ref: 1, total: 3, seq: 1, text: 'A' }, 2)).toBeUndefined();
    expect(r.add({ from: 'b', ref: 1, total: 3, seq: 2, text: 'x' }, 3)).toBeUndefined();
    expect(r.add({ from: 'a', ref: 1, total: 3, seq: 2, text: 'B' }, 4)).toBe('ABC');
    expect(r.size).toBe(1);
    r.expire(5000);
    expect(r.size).toBe(0);
    expect(r.dropped).toBe(1);
  });
});
