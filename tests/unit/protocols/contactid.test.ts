import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACK,
  CLIMAX_CODES,
  NAK,
  RECEIVER_SERIAL_DEFAULTS,
  ReceiverFramer,
  SIA_DC05_CODES,
  buildContactId,
  buildHeartbeatLine,
  buildReceiverLine,
  classifyEvent,
  contactIdChecksum,
  contactIdDigitValue,
  contactIdProtocol,
  decodeReceiverLine,
  encodeAck,
  encodeNak,
  isContactIdChecksumValid,
  lookupEventCode,
  parseContactId,
  parseReceiverLine,
  receiverLineText,
  type ReceiverLine,
} from '../../../protocols/contactid/index.ts';
import { isAlarmKind, type DeviceMessage, type FrameEvent } from '../../../protocols/message.ts';
import { loadVectors } from '../../helpers/vectors.ts';

const vectors = loadVectors();
const noVectors = vectors === null;
const SKIP_MSG = 'shared vectors absent (../shared/vectors/device-frames.json): vector tests skipped';

interface CidVector {
  digits: string;
  acct: string;
  mt: string;
  q: string;
  xyz: string;
  gg: string;
  ccc: string;
  s: string;
  valid: boolean;
  meaning: string;
}
interface SurgardVector {
  line: string;
  source: string;
  hexTail: string;
}

const cidVectors: CidVector[] = vectors?.contactId ?? [];
const surgardVectors: SurgardVector[] = vectors?.surgardSerial ?? [];
const ctx = { receivedAt: new Date('2026-08-01T08:00:00Z') };

function decodeOne(line: string | Buffer, extra: Record<string, unknown> = {}): DeviceMessage {
  const out = decodeReceiverLine(Buffer.isBuffer(line) ? line : Buffer.from(line, 'latin1'), { ...ctx, ...extra });
  if (!out.ok) throw new Error(`expected ok, got ${out.reason}`);
  expect(out.messages).toHaveLength(1);
  expect(out.reply).toEqual(Buffer.from([0x06]));
  return out.messages[0]!;
}

describe.skipIf(noVectors)(`contactId vectors${noVectors ? ` (${SKIP_MSG})` : ''}`, () => {
  it('has vectors', () => {
    expect(cidVectors.length).toBeGreaterThan(0);
    expect(surgardVectors.length).toBeGreaterThan(0);
  });

  for (const v of cidVectors) {
    describe(`${v.digits} (${v.meaning})`, () => {
      it('checksum validity', () => {
        expect(isContactIdChecksumValid(v.digits)).toBe(v.valid);
        if (v.valid) expect(contactIdChecksum(v.digits.slice(0, 15))).toBe(v.s);
      });

      it('fields', () => {
        const p = parseContactId(v.digits);
        if (!v.valid) {
          expect(p).toEqual({ ok: false, reason: 'bad_checksum' });
          return;
        }
        expect(p.ok).toBe(true);
        if (!p.ok) return;
        expect(p.message).toMatchObject({
          account: v.acct,
          messageType: v.mt,
          qualifierDigit: v.q,
          code: v.xyz,
          group: v.gg,
          zone: v.ccc,
          checksum: v.s,
        });
      });

      it('rebuilds from its fields', () => {
        if (!v.valid) return;
        expect(
          buildContactId({
            account: v.acct,
            messageType: v.mt as '18' | '98',
            qualifier: v.q as '1' | '3' | '6',
            code: v.xyz,
            group: v.gg,
            zone: v.ccc,
          }),
        ).toBe(v.digits);
      });

      it('decodes as a bare DTMF line', () => {
        const m = decodeOne(v.digits);
        expect(m.deviceId).toBe(v.acct);
        expect(m.zone).toBe(v.ccc);
        expect(m.event?.code).toBe(v.xyz);
      });

      it('every single-digit change breaks the checksum', () => {
        for (let i = 0; i < 16; i++) {
          for (const d of '0123456789BCDEF') {
            if (d === v.digits[i]) continue;
            const bad = v.digits.slice(0, i) + d + v.digits.slice(i + 1);
            expect(isContactIdChecksumValid(bad)).toBe(false);
          }
        }
      });
    });
  }

  const expected: Record<string, Partial<ReceiverLine>> = {
    '5011 181234E12101001': { type: 'event', form: 'mlr2', receiver: '01', line: '1', account: '1234', qualifier: 'E', code: '121', group: '01', zone: '001' },
    '501100 181234E12101001': { type: 'event', form: 'sg', receiver: '01', line: '100', account: '1234', qualifier: 'E', code: '121', group: '01', zone: '001' },
    '1011           @    ': { type: 'heartbeat', receiver: '01', line: '1' },
    '101000           @    ': { type: 'heartbeat', receiver: '01', line: '000' },
    '5011 181234E10101001': { type: 'event', form: 'mlr2', receiver: '01', line: '1', account: '1234', qualifier: 'E', code: '101', group: '01', zone: '001' },
    '5011 181234R10101001': { type: 'event', form: 'mlr2', receiver: '01', line: '1', account: '1234', qualifier: 'R', code: '101', group: '01', zone: '001' },
  };

  for (const v of surgardVectors) {
    it(`surgardSerial ${JSON.stringify(v.line)} parses (${v.source})`, () => {
      const buf = Buffer.from(v.line, 'latin1');
      expect(buf.subarray(-4).toString('hex')).toBe(v.hexTail);
      expect(buf[buf.length - 1]).toBe(0x14);
      const text = v.line.slice(0, -1);
      const p = parseReceiverLine(buf);
      expect(p.type).not.toBe('invalid');
      expect(p.raw).toBe(text);
      const want = expected[text];
      expect(want, `no expectation written for ${JSON.stringify(text)}`).toBeDefined();
      expect(p).toMatchObject(want!);
      // the framer yields the same line from the byte stream
      expect(new ReceiverFramer().push(buf)).toEqual([{ frame: Buffer.from(text, 'latin1') }]);
      // and the decoder turns it into one message, answered with ACK
      const m = decodeOne(buf);
      expect(m.protocol).toBe('contactid');
      expect(m.raw).toBe(text);
      if (p.type === 'heartbeat') {
        expect(m.kind).toBe('heartbeat');
        expect(m.deviceId).toBe(`receiver:${p.receiver}`);
      } else if (p.type === 'event') {
        expect(m.deviceId).toBe(p.account);
        expect(m.zone).toBe(p.zone);
      }
    });
  }

  it('the MLR2 vector lines are what our builder produces', () => {
    const lines = surgardVectors.map((v) => v.line);
    expect(lines).toContain(buildReceiverLine({ account: '1234', qualifier: 'E', code: '121', group: '01', zone: '001' }).toString('latin1'));
    expect(lines).toContain(buildReceiverLine({ account: '1234', qualifier: 'E', code: '121', group: '01', zone: '001', line: '100' }).toString('latin1'));
    expect(lines).toContain(buildHeartbeatLine().toString('latin1'));
    expect(lines).toContain(buildHeartbeatLine({ line: '000' }).toString('latin1'));
  });
});

describe('checksum rule (protocols.md §3.2)', () => {
  it('digit values: 0 counts as 10, B-F = 11-15, A is not a digit', () => {
    expect(contactIdDigitValue('0')).toBe(10);
    expect(contactIdDigitValue('1')).toBe(1);
    expect(contactIdDigitValue('9')).toBe(9);
    expect(contactIdDigitValue('B')).toBe(11);
    expect(contactIdDigitValue('F')).toBe(15);
    expect(contactIdDigitValue('A')).toBeUndefined();
    expect(contactIdDigitValue('x')).toBeUndefined();
  });

  it('check digit 10 is sent as 0, 15 as F', () => {
    expect(contactIdChecksum('123418110201001')).toBe('0');
    // fifteen 0s sum to 150, a multiple of 15 → S = 15 → sent as F
    expect(contactIdChecksum('000000000000000')).toBe('F');
    expect(isContactIdChecksumValid('000000000000000F')).toBe(true);
    expect(contactIdChecksum('123418110101001')).toBe('B');
  });

  it('property: a built message always verifies and parses back', () => {
    const hex = fc.constantFrom(...'0123456789BCDEF'.split(''));
    const dec = fc.constantFrom(...'0123456789'.split(''));
    fc.assert(
      fc.property(
        fc.array(hex, { minLength: 4, maxLength: 4 }),
        fc.constantFrom('1', '3', '6'),
        fc.array(dec, { minLength: 3, maxLength: 3 }),
        fc.array(dec, { minLength: 2, maxLength: 2 }),
        fc.array(dec, { minLength: 3, maxLength: 3 }),
        (a, q, c, g, z) => {
          const d = buildContactId({ account: a.join(''), qualifier: q as '1', code: c.join(''), group: g.join(''), zone: z.join('') });
          expect(isContactIdChecksumValid(d)).toBe(true);
          const p = parseContactId(d);
          expect(p.ok).toBe(true);
          if (p.ok) expect(p.message.account).toBe(a.join(''));
        },
      ),
    );
  });

  it('bad checksum is reported as bad_checksum, by the parser and by the decoder', () => {
    expect(parseContactId('1234181131010159')).toEqual({ ok: false, reason: 'bad_checksum' });
    expect(decodeReceiverLine(Buffer.from('1234181131010159'), ctx)).toEqual({ ok: false, reason: 'bad_checksum' });
    expect(parseContactId('123418113101015')).toEqual({ ok: false, reason: 'bad_format' });
    expect(parseContactId('12341811310101A8')).toEqual({ ok: false, reason: 'bad_format' });
  });

  it('bad message type and qualifier in a valid-checksum message', () => {
    const mt = '1234' + '28' + '1131010' + '15';
    expect(parseContactId(mt + contactIdChecksum(mt))).toEqual({ ok: false, reason: 'bad_message_type' });
    const q = '1234' + '18' + '2131010' + '15';
    expect(parseContactId(q + contactIdChecksum(q))).toEqual({ ok: false, reason: 'bad_qualifier' });
  });
});

describe('receiver line forms (protocols.md §3.4)', () => {
  it('MLR2: 5RRL 18AAAAQXYZGGCCC', () => {
    expect(parseReceiverLine('5011 181234E12101001\x14')).toMatchObject({ type: 'event', form: 'mlr2', protocolId: '5', receiver: '01', line: '1', messageType: '18', account: '1234' });
    expect(parseReceiverLine('5023 98B2C4P60200000')).toMatchObject({ form: 'mlr2', receiver: '02', line: '3', messageType: '98', account: 'B2C4', qualifier: 'P', code: '602', group: '00', zone: '000' });
  });

  it('SG with a 3-digit line: 5RRLLL 18AAAAQXYZGGCCC', () => {
    expect(parseReceiverLine('501100 181234E12101001\x14', { lineWidth: 3 })).toMatchObject({ type: 'event', form: 'sg', receiver: '01', line: '100', code: '121' });
  });

  it('SG with a 4-char line and no space (consistent with a 4-char setting, undocumented)', () => {
    expect(parseReceiverLine('5011001181234E10101001', { lineWidth: 4 })).toMatchObject({ form: 'sg', line: '1001', account: '1234', code: '101' });
  });

  it('configured line width is enforced on event lines', () => {
    expect(parseReceiverLine('5011 181234E12101001', { lineWidth: 3 })).toMatchObject({ type: 'invalid', reason: 'bad_line_width' });
    expect(decodeReceiverLine(Buffer.from('501100 181234E12101001'), { ...ctx, lineWidth: 1 })).toEqual({ ok: false, reason: 'bad_line_width' });
    expect(parseReceiverLine('5011 181234E12101001', { lineWidth: 1 })).toMatchObject({ type: 'event', line: '1' });
  });

  it('10-digit account: QRRLLL 58AAAAAAAAAAQXYZGGCCC', () => {
    const p = parseReceiverLine('Q01100 581234567890E10101001\x14');
    expect(p).toMatchObject({ type: 'event', form: 'sg10', protocolId: 'Q', receiver: '01', line: '100', messageType: '58', account: '1234567890', qualifier: 'E', code: '101', group: '01', zone: '001' });
    const m = decodeOne('Q01100 581234567890E10101001\x14');
    expect(m.deviceId).toBe('1234567890');
    expect(m.alarms).toEqual(['sos']);
    expect(buildReceiverLine({ account: '1234567890', qualifier: 'E', code: '101', group: 1, zone: 1, line: '100' }).toString('latin1')).toBe(
      'Q01100 581234567890E10101001\x14',
    );
  });

  it('heartbeats (MLR2 and SG), with the exact spacing', () => {
    const mlr2 = '1011' + ' '.repeat(11) + '@' + ' '.repeat(4);
    const sg = '101000' + ' '.repeat(11) + '@' + ' '.repeat(4);
    expect(mlr2.length).toBe(20);
    expect(parseReceiverLine(mlr2 + '\x14')).toEqual({ type: 'heartbeat', receiver: '01', line: '1', raw: mlr2 });
    expect(parseReceiverLine(sg + '\x14')).toEqual({ type: 'heartbeat', receiver: '01', line: '000', raw: sg });
    const m = decodeOne(sg + '\x14');
    expect(m).toMatchObject({ deviceId: 'receiver:01', kind: 'heartbeat', protocol: 'contactid' });
    expect(m.alarms).toBeUndefined();
    expect(parseReceiverLine('1011 @ ')).toMatchObject({ type: 'heartbeat' });
    expect(parseReceiverLine('1011           #    ')).toMatchObject({ type: 'invalid', reason: 'bad_format' });
  });

  it('malformed and unknown lines', () => {
    expect(parseReceiverLine('')).toMatchObject({ type: 'invalid', reason: 'empty' });
    expect(parseReceiverLine('\x14')).toMatchObject({ type: 'invalid', reason: 'empty' });
    expect(parseReceiverLine('S011 [#1234|NBA01]')).toMatchObject({ type: 'invalid', reason: 'unknown_form' });
    expect(parseReceiverLine('5011 181234E1010100')).toMatchObject({ type: 'invalid', reason: 'bad_format' });
    expect(parseReceiverLine('5011 181234E101010011')).toMatchObject({ type: 'invalid', reason: 'bad_format' });
    expect(parseReceiverLine('5011 171234E10101001')).toMatchObject({ type: 'invalid', reason: 'bad_format' });
    expect(parseReceiverLine('5011 181234X10101001')).toMatchObject({ type: 'invalid', reason: 'bad_qualifier' });
    expect(parseReceiverLine('5011 181234E1010\x0101')).toMatchObject({ type: 'invalid', reason: 'bad_format' });
    expect(decodeReceiverLine(Buffer.from('garbage'), ctx)).toEqual({ ok: false, reason: 'unknown_form' });
  });

  it('tolerates CR/LF/NUL padding around a line', () => {
    expect(receiverLineText('\r\n5011 181234E10101001\r\n\x14')).toBe('5011 181234E10101001');
    expect(parseReceiverLine('\x005011 181234E10101001\r\x14')).toMatchObject({ type: 'event', code: '101' });
  });
});

describe('qualifiers', () => {
  const cases: [string, 'E' | 'R' | 'P'][] = [
    ['E', 'E'],
    ['1', 'E'],
    ['R', 'R'],
    ['3', 'R'],
    ['P', 'P'],
    ['6', 'P'],
  ];
  for (const [q, letter] of cases) {
    it(`${q} → ${letter}`, () => {
      expect(parseReceiverLine(`5011 181234${q}10101001`)).toMatchObject({ type: 'event', qualifier: letter });
    });
  }

  it('E raises, R restores, P (still present) raises again', () => {
    expect(decodeOne('5011 181234E10101001')).toMatchObject({ kind: 'alarm', alarms: ['sos'] });
    const r = decodeOne('5011 181234R10101001');
    expect(r).toMatchObject({ kind: 'status', restores: ['sos'] });
    expect(r.alarms).toBeUndefined();
    expect(decodeOne('5011 181234P10101001')).toMatchObject({ kind: 'alarm', alarms: ['sos'] });
    expect(decodeOne('5011 181234E10101001').event).toEqual({ code: '101', qualifier: 'E', group: '01', label: 'Personal emergency', known: true });
  });

  it('DTMF qualifier digits map the same way', () => {
    expect(decodeOne('1234183101010019')).toMatchObject({ deviceId: '1234', kind: 'status', restores: ['sos'] });
  });
});

describe('code tables per vendor', () => {
  it('every entry names a real alarm kind', () => {
    for (const table of [SIA_DC05_CODES, CLIMAX_CODES]) {
      for (const [code, e] of Object.entries(table)) {
        expect(code).toMatch(/^\d{3}$/);
        if (e.alarm) expect(isAlarmKind(e.alarm), code).toBe(true);
        for (const a of Object.values(e.alarmByDeviceType ?? {})) expect(isAlarmKind(a)).toBe(true);
      }
    }
  });

  const dc05: [string, string, string | undefined][] = [
    ['100', 'alarm', 'medical'],
    ['101', 'alarm', 'sos'],
    ['102', 'status', undefined],
    ['110', 'alarm', 'fire'],
    ['111', 'alarm', 'smoke'],
    ['151', 'alarm', 'gas'],
    ['162', 'alarm', 'gas'],
    ['137', 'alarm', 'tamper'],
    ['383', 'alarm', 'tamper'],
    ['301', 'alarm', 'power_cut'],
    ['302', 'alarm', 'low_battery'],
    ['384', 'alarm', 'low_battery'],
    ['601', 'test', undefined],
    ['602', 'test', undefined],
    ['603', 'test', undefined],
    ['654', 'alarm', 'inactivity'],
  ];
  for (const [code, kind, alarm] of dc05) {
    it(`DC-05 ${code} → ${kind}${alarm ? `/${alarm}` : ''}`, () => {
      const m = lookupEventCode(code);
      expect(m.known).toBe(true);
      expect(m.kind).toBe(kind);
      expect(m.alarm).toBe(alarm);
      const msg = decodeOne(buildReceiverLine({ account: '1234', qualifier: 'E', code, group: 1, zone: 3 }));
      expect(msg.kind).toBe(kind);
      expect(msg.alarms).toEqual(alarm ? [alarm] : undefined);
      expect(msg.zone).toBe('003');
    });
  }

  it('101 from a one-key caller is one_key_emergency', () => {
    expect(lookupEventCode('101', { deviceType: 'one_key_caller' }).alarm).toBe('one_key_emergency');
    expect(lookupEventCode('101', { deviceType: 'One-Key Caller' }).alarm).toBe('one_key_emergency');
    expect(lookupEventCode('101', { deviceType: 'pendant' }).alarm).toBe('sos');
    const seen: string[] = [];
    const m = decodeOne('5011 185678E10101001', {
      deviceTypeOf: (acct: string) => {
        seen.push(acct);
        return 'one_key_caller';
      },
    });
    expect(seen).toEqual(['5678']);
    expect(m.alarms).toEqual(['one_key_emergency']);
    expect(decodeOne('5011 185678E10101001', { deviceTypeOf: () => { throw new Error('registry down'); } }).alarms).toEqual(['sos']);
  });

  it('climax: 102 is a fall; vesta is the same table; DC-05 elsewhere', () => {
    expect(lookupEventCode('102', { vendor: 'climax' })).toMatchObject({ kind: 'alarm', alarm: 'fall', label: 'Fall detected' });
    expect(lookupEventCode('102', { vendor: 'Vesta' }).alarm).toBe('fall');
    expect(lookupEventCode('102', { vendor: 'sia' }).alarm).toBeUndefined();
    expect(lookupEventCode('102', { vendor: 'no-such-vendor' }).alarm).toBeUndefined();
    expect(lookupEventCode('100', { vendor: 'climax' }).alarm).toBe('medical');
    expect(decodeOne('5011 181234E10201001', { vendor: 'climax' })).toMatchObject({ kind: 'alarm', alarms: ['fall'] });
    expect(decodeOne('5011 181234R10201001', { vendor: 'climax' })).toMatchObject({ kind: 'status', restores: ['fall'] });
    expect(decodeOne('5011 181234E10201001')).toMatchObject({ kind: 'status' });
  });

  it('restores go to restores, not alarms', () => {
    expect(classifyEvent('384', 'R')).toMatchObject({ kind: 'status', restores: ['low_battery'] });
    expect(classifyEvent('301', 'R').alarms).toBeUndefined();
    expect(classifyEvent('602', 'R')).toMatchObject({ kind: 'test' });
  });

  it('unknown codes become status with the code kept, never thrown', () => {
    const m = decodeOne('5011 181234E99901001');
    expect(m.kind).toBe('status');
    expect(m.alarms).toBeUndefined();
    expect(m.event).toMatchObject({ code: '999', known: false });
    expect(lookupEventCode('__proto__')).toMatchObject({ known: false, kind: 'status' });
    expect(lookupEventCode('constructor', { vendor: 'constructor' })).toMatchObject({ known: false });
  });
});

describe('encoder', () => {
  it('ACK and NAK bytes', () => {
    expect(encodeAck()).toEqual(Buffer.from([0x06]));
    expect(encodeNak()).toEqual(Buffer.from([0x15]));
    expect(ACK).toBe(0x06);
    expect(NAK).toBe(0x15);
  });

  it('builder rejects wrong widths', () => {
    expect(() => buildContactId({ account: '123', qualifier: 'E', code: '101' })).toThrow(RangeError);
    expect(() => contactIdChecksum('12341811310101')).toThrow(RangeError);
    expect(() => contactIdChecksum('1234181131010A5')).toThrow(RangeError);
  });
});

describe('index', () => {
  it('module shape and serial defaults', () => {
    expect(contactIdProtocol.name).toBe('contactid');
    expect(contactIdProtocol.commands).toEqual([]);
    expect(RECEIVER_SERIAL_DEFAULTS.mlr2e).toEqual({ baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1 });
    expect(RECEIVER_SERIAL_DEFAULTS.mlr2000).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    const f = contactIdProtocol.createFramer();
    const ev = f.push(Buffer.from('5011 181234E10201001\x14'));
    expect(ev).toHaveLength(1);
    const frame = (ev[0] as { frame: Buffer }).frame;
    const d = contactIdProtocol.decode(frame, ctx);
    expect(d.ok && d.messages[0]!.kind).toBe('status');
    const climax = contactIdProtocol.decoderWith({ vendor: 'climax' })(frame, ctx);
    expect(climax.ok && climax.messages[0]!.alarms).toEqual(['fall']);
  });
});

describe('ReceiverFramer', () => {
  const lines = [
    '5011 181234E10101001\x14',
    '\r\n',
    '1011           @    \x14',
    '\x00',
    '501100 181234R10101001\x14',
    '\x14',
    'Q01100 581234567890E10101001\x14',
  ];
  const stream = Buffer.from(lines.join(''), 'latin1');
  const want = [
    '5011 181234E10101001',
    '1011           @    ',
    '501100 181234R10101001',
    'Q01100 581234567890E10101001',
  ].map((s) => ({ frame: Buffer.from(s, 'latin1') }));

  it('splits several lines in one chunk, skipping CR/LF/NUL and empty lines', () => {
    const f = new ReceiverFramer();
    expect(f.push(stream)).toEqual(want);
    expect(f.buffered).toBe(0);
  });

  it('gives the same frames whatever the split position (every byte)', () => {
    for (let i = 0; i <= stream.length; i++) {
      const f = new ReceiverFramer();
      const got = [...f.push(stream.subarray(0, i)), ...f.push(stream.subarray(i))];
      expect(got, `split at ${i}`).toEqual(want);
    }
  });

  it('byte by byte', () => {
    const f = new ReceiverFramer();
    const got: FrameEvent[] = [];
    for (const b of stream) {
      got.push(...f.push(Buffer.from([b])));
      expect(f.buffered).toBeLessThanOrEqual(f.maxLine);
    }
    expect(got).toEqual(want);
  });

  it('holds a partial line', () => {
    const f = new ReceiverFramer();
    expect(f.push(Buffer.from('5011 1812'))).toEqual([]);
    expect(f.buffered).toBe(9);
    expect(f.push(Buffer.from('34E10101001\x14'))).toEqual([want[0]]);
    expect(f.buffered).toBe(0);
  });

  it('an oversized line is dropped, counted, and the framer resyncs at the next DC4', () => {
    const f = new ReceiverFramer({ maxLine: 32 });
    const junk = Buffer.alloc(40, 0x41);
    const ev = f.push(Buffer.concat([junk, Buffer.from('\x145011 181234E10101001\x14')]));
    expect(ev).toEqual([{ error: 'oversized', discarded: 33 }, { error: 'oversized', discarded: 8 }, want[0]]);
    const total = ev.reduce((n, e) => n + ('discarded' in e ? e.discarded : 0), 0);
    expect(total).toBe(41); // 40 junk bytes + their DC4
  });

  it('a long run without DC4 is reported in maxLine-sized pieces', () => {
    const f = new ReceiverFramer({ maxLine: 16 });
    const ev = f.push(Buffer.alloc(100, 0x30));
    expect(ev.every((e) => 'error' in e && e.error === 'oversized')).toBe(true);
    const total = ev.reduce((n, e) => n + ('discarded' in e ? e.discarded : 0), 0);
    // 17 at the overflow, then 5 × 16; the last 3 are reported at the next DC4 or the next full piece
    expect(total).toBe(97);
    expect(f.buffered).toBe(0);
    expect(f.push(Buffer.from([0x14]))).toEqual([{ error: 'oversized', discarded: 4 }]);
  });

  it('a line of exactly maxLine bytes passes', () => {
    const f = new ReceiverFramer({ maxLine: 20 });
    expect(f.push(Buffer.from('5011 181234E10101001\x14'))).toEqual([want[0]]);
  });
});

describe('fast-check: never throws', () => {
  it('decoder and parser on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const out = decodeReceiverLine(Buffer.from(bytes), ctx);
        expect(typeof out.ok).toBe('boolean');
        const p = parseReceiverLine(Buffer.from(bytes));
        expect(['heartbeat', 'event', 'invalid']).toContain(p.type);
      }),
      { numRuns: 2000 },
    );
  });

  it('decoder on near-miss receiver lines', () => {
    const alphabet = fc.constantFrom(...'0123456789ABCDEFERPQ @\x14\r\n'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), fc.constantFrom('5011 18', '501100 18', 'Q01100 58', '1011', ''), (chars, prefix) => {
        const out = decodeReceiverLine(Buffer.from(prefix + chars.join(''), 'latin1'), { ...ctx, vendor: 'climax', lineWidth: 3 });
        if (out.ok) {
          for (const m of out.messages) {
            for (const a of [...(m.alarms ?? []), ...(m.restores ?? [])]) expect(isAlarmKind(a)).toBe(true);
          }
        } else {
          expect(out.reason).toMatch(/^[a-z_]+$/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('valid built lines always decode with their fields', () => {
    const dec = (n: number) => fc.array(fc.constantFrom(...'0123456789'.split('')), { minLength: n, maxLength: n }).map((a) => a.join(''));
    fc.assert(
      fc.property(dec(4), fc.constantFrom('E', 'R', 'P') as fc.Arbitrary<'E' | 'R' | 'P'>, dec(3), dec(2), dec(3), fc.integer({ min: 1, max: 4 }), (account, qualifier, code, group, zone, w) => {
        const line = '1234'.slice(0, w);
        const p = parseReceiverLine(buildReceiverLine({ account, qualifier, code, group, zone, line }), { lineWidth: w });
        expect(p).toMatchObject({ type: 'event', account, qualifier, code, group, zone, line });
      }),
    );
  });

  it('framer on arbitrary chunked bytes: no throw, bounded, chunking-independent', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600), { maxLength: 8 }), (bytes, cuts) => {
        const buf = Buffer.from(bytes);
        const whole = new ReceiverFramer({ maxLine: 64 }).push(buf);
        const f = new ReceiverFramer({ maxLine: 64 });
        const pieces: FrameEvent[] = [];
        let at = 0;
        for (const c of [...cuts].sort((a, b) => a - b)) {
          const end = Math.min(c, buf.length);
          if (end < at) continue;
          pieces.push(...f.push(buf.subarray(at, end)));
          at = end;
        }
        pieces.push(...f.push(buf.subarray(at)));
        expect(pieces).toEqual(whole);
        for (const e of whole) {
          if ('frame' in e) {
            expect(e.frame.length).toBeLessThanOrEqual(64);
            expect(e.frame.includes(0x14)).toBe(false);
          }
        }
        expect(f.buffered).toBeLessThanOrEqual(64);
      }),
      { numRuns: 500 },
    );
  });
});
