/** The GSM PDU codec against sms.md's vectors (C1–C5, B6), checked there by an independent decoder. */
import { describe, expect, it } from 'vitest';
import { decodePdu, encodeSubmit } from '../../../sms/modem/pdu.ts';
import { concatUdh, parseConcat } from '../../../sms/split.ts';
import { encodeUcs2 } from '../../../sms/ucs2.ts';

describe('SMS-SUBMIT encoding', () => {
  it('B6: 你好 to +8613800138000, no status report, 19 octets for AT+CMGS', () => {
    const e = encodeSubmit({ to: '+8613800138000', body: encodeUcs2('你好') });
    expect(e.hex).toBe('0011000D91683108108300F00008A7044F60597D');
    expect(e.length).toBe(19);
  });

  it('C1: 紧急报警 with a status report request (fo 0x31), AT+CMGS=23', () => {
    const e = encodeSubmit({ to: '8613800138000', body: encodeUcs2('紧急报警'), statusReport: true });
    expect(e.hex).toBe('0031000D91683108108300F00008A7087D27602562A58B66');
    expect(e.length).toBe(23);
  });

  it('C4: part 2/2 of a 71-character text with UDH ref A7 (fo 0x51), AT+CMGS=29; part 1 is 155', () => {
    const p2 = encodeSubmit({ to: '+8613800138000', udh: concatUdh(0xa7, 2, 2), body: encodeUcs2('张张张张') });
    expect(p2.hex).toBe('0051000D91683108108300F00008A70E050003A702025F205F205F205F20');
    expect(p2.length).toBe(29);
    const p1 = encodeSubmit({ to: '+8613800138000', udh: concatUdh(0xa7, 2, 1), body: encodeUcs2('张'.repeat(67)) });
    expect(p1.hex.startsWith('0051000D91683108108300F00008A78C050003A70201')).toBe(true);
    expect(p1.length).toBe(155);
  });

  it('refuses more than 140 octets of user data', () => {
    expect(() => encodeSubmit({ to: '+8613800138000', body: encodeUcs2('张'.repeat(71)) })).toThrow(RangeError);
  });
});

describe('SMS-DELIVER / STATUS-REPORT decoding', () => {
  it('C2: UCS2 收到 from +8613912345678 with its timestamp', () => {
    const d = decodePdu('0891683108100005F0040D91683119325476F80008521051800354230465365230');
    expect(d).toMatchObject({ type: 'deliver', smsc: '+8613800100500', from: '+8613912345678', dcs: 8, text: '收到' });
    expect(d.type === 'deliver' && d.at.toISOString()).toBe('2025-01-15T00:30:45.000Z');
  });

  it('C2 with DCS 00 and UD 02CF25: GSM-7 "OK"', () => {
    const d = decodePdu('0891683108100005F0040D91683119325476F8000052105180035423' + '02CF25');
    expect(d).toMatchObject({ type: 'deliver', text: 'OK', dcs: 0 });
  });

  it('C3: status report, MR 0x2A, delivered (ST 00)', () => {
    const d = decodePdu('0891683108100005F0062A0D91683108108300F0521051800304235210518003542300');
    expect(d).toMatchObject({ type: 'status-report', mr: 0x2a, recipient: '+8613800138000', status: 0 });
    expect(d.type === 'status-report' && d.discharge.toISOString()).toBe('2025-01-15T00:30:45.000Z');
  });

  it('C5: part 1/2 with a 16-bit reference (IEI 08)', () => {
    const d = decodePdu('0891683108100005F0440D91683119325476F80008521051800354230F060804123402017B2C4E0090E85206');
    expect(d).toMatchObject({ type: 'deliver', from: '+8613912345678', text: '第一部分' });
    expect(d.type === 'deliver' && d.udh && parseConcat(d.udh)).toEqual({ ref: 0x1234, total: 2, seq: 1 });
  });

  it('a negative time zone (−05:00 is 0A)', () => {
    const d = decodePdu('00040D91683119325476F80008521051800354' + '0A' + '0465365230');
    expect(d.type === 'deliver' && d.at.toISOString()).toBe('2025-01-15T13:30:45.000Z');
  });

  it('GSM-7 behind a 6-octet UDH starts after one fill bit', () => {
    // "Hi" after UDH 050003010201: UDL = 7 septets (UDH) + 2; the text septets start at bit 49
    const udh = Buffer.from('050003010201', 'hex');
    const bits = [...udh].flatMap((o) => [...Array(8).keys()].map((k) => (o >> k) & 1));
    bits.push(0); // fill
    for (const c of [0x48, 0x69]) for (let k = 0; k < 7; k++) bits.push((c >> k) & 1);
    const ud = Buffer.alloc(Math.ceil(bits.length / 8));
    bits.forEach((b, i) => (ud[i >> 3]! |= b << (i & 7)));
    const hex = '00440D91683119325476F8000052105180035423' + (9).toString(16).padStart(2, '0') + ud.toString('hex');
    expect(decodePdu(hex)).toMatchObject({ type: 'deliver', text: 'Hi' });
  });
});
