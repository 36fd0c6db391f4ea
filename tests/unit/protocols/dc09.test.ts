import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DC09_DEFAULTS,
  DC09_MAX_FRAME,
  Dc09Framer,
  SIA_CODES,
  crc16Arc,
  datagramFrame,
  decodeDc09,
  decryptHex,
  encodeAck,
  encodeDuh,
  encodeEncryptedAck,
  encodeMessage,
  encodeNak,
  encryptContent,
  frameRegion,
  normaliseDc09,
  openFrame,
  parseKey,
  parseTimestamp,
  stripPad,
  type Dc09DecodeContext,
  type Dc09Decision,
  type Dc09Message,
  type PadSource,
} from '../../../protocols/dc09/index.js';
import { isAlarmKind, type FrameEvent } from '../../../protocols/message.js';
import { loadDesignNote } from '../../helpers/vectors.js';

// ---------------------------------------------------------------------------------------------------------------
// The vectors are read from the design note at run time (dc09.md §9), never copied into the repo.

const loadSpec = () => loadDesignNote('dc09.md', 'DC-09 vector tests');

/** `\n` = 0x0A, `\r` = 0x0D, `\x00` = NUL (§9 notation); everything else literal. */
function unescape(s: string): Buffer {
  return Buffer.from(
    s.replace(/\\(n|r|x([0-9A-Fa-f]{2}))/g, (_, c: string, hex?: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : String.fromCharCode(parseInt(hex!, 16)))),
    'latin1',
  );
}

function backticks(text: string): string[] {
  return [...text.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
}

interface Vector {
  /** the section's text */
  text: string;
  /** backticked frames (those starting with `\n`), unescaped */
  frames: Buffer[];
  /** other backticked strings holding a data block or timestamp (the stated plaintexts) */
  plaintexts: string[];
}

function vectorOf(text: string): Vector {
  const all = backticks(text);
  return {
    text,
    frames: all.filter((s) => s.startsWith('\\n')).map(unescape),
    plaintexts: all.filter((s) => !s.startsWith('\\n') && s.length > 16 && (s.includes('|') || s.includes(']_'))),
  };
}

interface Spec {
  clock: Date;
  key: Buffer;
  filler: string;
  /** §9 by label: V1 … V9, V7b */
  v: Record<string, Vector>;
  /** §9.3 bullets */
  pub: Vector[];
}

function parseSpec(md: string): Spec {
  const s9 = md.slice(md.indexOf('## 9. Test vectors'), md.indexOf('## 10.'));
  const [main, pub] = s9.split('### 9.3') as [string, string];
  const clock = /Receiver clock for all vectors: \*\*([^*]+?) UTC\*\*/.exec(main)![1]!;
  const key = /\(hex `([0-9A-F]{32,64})`\)/.exec(main)![1]!;
  const filler = /first n characters of `([A-Z]+)`/.exec(main)![1]!;
  const v: Record<string, Vector> = {};
  const parts = main.split(/\*\*(V\d+b?)\b[^*]*\*\*/);
  for (let i = 1; i < parts.length; i += 2) v[parts[i]!] = vectorOf(parts[i + 1]!);
  return {
    clock: new Date(clock.replace(' ', 'T') + 'Z'),
    key: Buffer.from(key, 'hex'),
    filler,
    v,
    pub: pub.split(/\n\* /).slice(1).map(vectorOf),
  };
}

const md = loadSpec();
const spec = md === null ? null : parseSpec(md);
const SKIP = md === null ? ' (dc09.md absent: skipped)' : '';

/** The §9 filler: the first n characters of `ABCDEFGHIJKLMNOP`. */
const filler: PadSource = (n) => Buffer.from(spec!.filler.slice(0, n), 'latin1');

function ctxFor(extra: Partial<Dc09DecodeContext> = {}): Dc09DecodeContext {
  return { now: spec!.clock, keyFor: () => spec!.key, pad: filler, ...extra };
}

function accepted(d: Dc09Decision): { message: Dc09Message; replyAfterCommit: Buffer } {
  if (d.action !== 'accept') throw new Error(`expected accept, got ${JSON.stringify(d)}`);
  return d;
}

function withoutNuls(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
}

/** The clear ACK's region for an inbound frame: its seq/R/L/account echoed (§4). */
function ackRegionFor(frame: Buffer): string {
  const r = openFrame(frame);
  if (!r.ok) throw new Error(r.reason);
  const text = r.region.toString('latin1');
  return `"ACK"${text.slice(text.indexOf('"', 1) + 1, text.indexOf('['))}[]`;
}

function allFrames(): Buffer[] {
  return [...Object.values(spec!.v).flatMap((v) => v.frames), ...spec!.pub.flatMap((v) => v.frames)];
}

function framesOf(events: FrameEvent[]): Buffer[] {
  return events.flatMap((e) => ('frame' in e ? [e.frame] : []));
}

// ---------------------------------------------------------------------------------------------------------------

describe('CRC-16/ARC', () => {
  it('has the check value 0xBB3D for "123456789" (§1)', () => {
    expect(crc16Arc(Buffer.from('123456789'))).toBe(0xbb3d);
  });

  it('takes a sub-range', () => {
    const b = Buffer.from('xx123456789yy');
    expect(crc16Arc(b, 2, 11)).toBe(0xbb3d);
  });
});

describe.skipIf(md === null)(`§9 vectors: CRC and length${SKIP}`, () => {
  it('every frame but V7 carries the CRC and length of its region R; re-framing gives the same bytes', () => {
    const frames = allFrames();
    expect(frames.length).toBeGreaterThanOrEqual(20);
    for (const f of frames) {
      if (spec!.v.V7!.frames.includes(f)) continue;
      const o = openFrame(f);
      expect(o.ok, f.toString('latin1')).toBe(true);
      if (!o.ok) continue;
      const text = withoutNuls(f).toString('latin1');
      expect(parseInt(text.slice(5, 9), 16)).toBe(o.region.length);
      expect(parseInt(text.slice(1, 5), 16)).toBe(crc16Arc(o.region));
      expect(frameRegion(o.region.toString('latin1'))).toEqual(withoutNuls(f));
    }
  });

  it('V7: the CRC does not match (the computed value is the one §9 states)', () => {
    const f = spec!.v.V7!.frames[0]!;
    expect(openFrame(f)).toEqual({ ok: false, reason: 'bad_crc' });
    const text = f.toString('latin1');
    const region = f.subarray(9, f.length - 1);
    const stated = /computed CRC\s+([0-9A-F]{4})/.exec(spec!.v.V7!.text)![1]!;
    expect(crc16Arc(region)).toBe(parseInt(stated, 16));
    expect(crc16Arc(region)).not.toBe(parseInt(text.slice(1, 5), 16));
  });
});

describe.skipIf(md === null)(`§9 vectors: decisions and replies${SKIP}`, () => {
  it('V1 ADM-CID personal emergency: accept, Q1 101 g01 z003, Δ −2 s, sos, the exact ACK', () => {
    const [frame, ack] = spec!.v.V1!.frames as [Buffer, Buffer];
    const { message: m, replyAfterCommit } = accepted(decodeDc09(frame, ctxFor()));
    expect(m).toMatchObject({ token: 'ADM-CID', encrypted: false, seq: '0001', prefix: '0', account: '1234', skewS: -2, inWindow: true });
    expect(m.receiver).toBeUndefined();
    expect(m.event).toMatchObject({ format: 'cid', account: '1234', qualifier: 'new', qualifierDigit: '1', code: '101', group: '01', zone: '003' });
    expect(normaliseDc09(m)).toMatchObject({ kind: 'alarm', alarms: ['sos'], restores: [], zone: '003', test: false });
    expect(normaliseDc09(m).event).toMatchObject({ code: '101', qualifier: 'E', group: '01', known: true });
    expect(replyAfterCommit).toEqual(ack);
  });

  it('V2 restore: Q3 closes the sos', () => {
    const [frame, ack] = spec!.v.V2!.frames as [Buffer, Buffer];
    const { message: m, replyAfterCommit } = accepted(decodeDc09(frame, ctxFor()));
    expect(m.event).toMatchObject({ format: 'cid', qualifier: 'restore', code: '101', group: '01', zone: '003' });
    expect(normaliseDc09(m)).toMatchObject({ kind: 'status', alarms: [], restores: ['sos'] });
    expect(replyAfterCommit).toEqual(ack);
  });

  it('V3 SIA-DCS medical: new event, area 1, MA zone 05', () => {
    const [frame, ack] = spec!.v.V3!.frames as [Buffer, Buffer];
    const { message: m, replyAfterCommit } = accepted(decodeDc09(frame, ctxFor()));
    expect(m.event).toMatchObject({ format: 'sia', account: '1234', newEvent: true, code: 'MA', number: '05', modifiers: { ri: '1' } });
    expect(normaliseDc09(m)).toMatchObject({ kind: 'alarm', alarms: ['medical'], zone: '05' });
    expect(replyAfterCommit).toEqual(ack);
  });

  it('V4 NULL with and without the timestamp: supervision only, the same ACK', () => {
    const [withTs, without, ack] = spec!.v.V4!.frames as [Buffer, Buffer, Buffer];
    for (const f of [withTs, without]) {
      const { message: m, replyAfterCommit } = accepted(decodeDc09(f, ctxFor()));
      expect(m.token).toBe('NULL');
      expect(m.event).toBeUndefined();
      expect(normaliseDc09(m)).toEqual({ kind: 'heartbeat', alarms: [], restores: [], test: false });
      expect(replyAfterCommit).toEqual(ack);
    }
    expect(accepted(decodeDc09(without, ctxFor())).message.skewS).toBeUndefined();
  });

  it('V5 receiver 1A and prefix 2F: echoed in the ACK', () => {
    const [frame, ack] = spec!.v.V5!.frames as [Buffer, Buffer];
    const { message: m, replyAfterCommit } = accepted(decodeDc09(frame, ctxFor()));
    expect(m).toMatchObject({ receiver: '1A', prefix: '2F', skewS: 1 });
    expect(m.event).toMatchObject({ format: 'cid', qualifier: 'new', code: '120', group: '02', zone: '015' });
    expect(normaliseDc09(m).alarms).toEqual(['sos']);
    expect(replyAfterCommit).toEqual(ack);
  });

  it('V6 encrypted, Δ −120 s: NAK with the receiver time, the decrypted content kept', () => {
    const v = spec!.v.V6!;
    const [frame, nak] = v.frames as [Buffer, Buffer];
    const d = decodeDc09(frame, ctxFor());
    expect(d.action).toBe('nak');
    if (d.action !== 'nak') return;
    expect(d.skewS).toBe(-120);
    expect(d.reply).toEqual(nak);
    expect(encodeNak(spec!.clock)).toEqual(nak);
    const plaintext = v.plaintexts[0]!;
    expect(d.message.content).toBe(plaintext.slice(plaintext.indexOf('|') + 1));
    expect(d.message.event).toMatchObject({ format: 'sia', code: 'FA', number: '02' });
    const hex = frame.toString('latin1').slice(frame.indexOf('[') + 1, -1);
    const dec = decryptHex(hex, spec!.key);
    expect(dec.ok && dec.plaintext.toString('latin1')).toBe(plaintext);
    // the same content in clear is accepted with the skew recorded (§4 step 7)
    const clear = encodeMessage({ token: 'SIA-DCS', seq: '0006', prefix: '0', account: '1234', data: d.message.data, timestamp: d.message.timestamp! });
    const c = accepted(decodeDc09(clear, ctxFor()));
    expect(c.message).toMatchObject({ skewS: -120, inWindow: false });
    // … unless the account is strict
    expect(decodeDc09(clear, ctxFor({ strictTime: true })).action).toBe('nak');
  });

  it('V7 garbled: dropped, no reply', () => {
    const d = decodeDc09(spec!.v.V7!.frames[0]!, ctxFor());
    expect(d).toEqual({ action: 'drop', reason: 'bad_crc' });
  });

  it('V7b unknown token: DUH echoing the header', () => {
    const [frame, duh] = spec!.v.V7b!.frames as [Buffer, Buffer];
    const d = decodeDc09(frame, ctxFor());
    expect(d).toMatchObject({ action: 'duh', reason: 'unsupported_token', reply: duh });
    if (d.action === 'duh') expect(encodeDuh(d.origin)).toEqual(duh);
  });

  it('V8 encrypted ADM-CID: accept, and the encrypted ACK with `|` byte for byte', () => {
    const v = spec!.v.V8!;
    const [frame, ack] = v.frames as [Buffer, Buffer, Buffer];
    const { message: m, replyAfterCommit } = accepted(decodeDc09(frame, ctxFor()));
    expect(m).toMatchObject({ token: 'ADM-CID', encrypted: true, seq: '0008', skewS: -1 });
    expect(m.content).toBe(v.plaintexts[0]!.slice(v.plaintexts[0]!.indexOf('|') + 1));
    expect(m.event).toMatchObject({ format: 'cid', qualifier: 'new', code: '101', group: '01', zone: '003' });
    expect(normaliseDc09(m).alarms).toEqual(['sos']);
    expect(replyAfterCommit).toEqual(ack);
    const hex = ack.toString('latin1').slice(ack.indexOf('[') + 1, -1);
    const dec = decryptHex(hex, spec!.key);
    expect(dec.ok && dec.plaintext.toString('latin1')).toBe(v.plaintexts[1]);
  });

  it('V8 pysiaalarm ACK variant (no `|`): decrypts to the stated plaintext and can be produced on request', () => {
    const v = spec!.v.V8!;
    const variant = v.frames[2]!;
    expect(openFrame(variant).ok).toBe(true);
    const hex = variant.toString('latin1').slice(variant.indexOf('[') + 1, -1);
    const dec = decryptHex(hex, spec!.key);
    expect(dec.ok && dec.plaintext.toString('latin1')).toBe(v.plaintexts[2]);
    const addr = { seq: '0008', prefix: '0', account: '1234' };
    expect(encodeEncryptedAck(addr, spec!.key, spec!.clock, { pad: filler, terminator: false })).toEqual(variant);
    // an ACK is a response: never answered
    expect(decodeDc09(variant, ctxFor())).toEqual({ action: 'drop', reason: 'response', token: 'ACK' });
  });

  it('V9 encrypted NULL: accept, encrypted ACK', () => {
    const v = spec!.v.V9!;
    const [frame, ack] = v.frames as [Buffer, Buffer];
    const { message: m, replyAfterCommit } = accepted(decodeDc09(frame, ctxFor()));
    expect(m).toMatchObject({ token: 'NULL', encrypted: true, seq: '0009', skewS: -1, data: '' });
    expect(m.event).toBeUndefined();
    expect(replyAfterCommit).toEqual(ack);
  });

  it('V6/V8/V9 with no key for the account: DUH', () => {
    for (const l of ['V6', 'V8', 'V9']) {
      const d = decodeDc09(spec!.v[l]!.frames[0]!, ctxFor({ keyFor: () => undefined }));
      expect(d).toMatchObject({ action: 'duh', reason: 'no_key' });
    }
  });

  it('V8 with a wrong key: DUH (CBC has no integrity check; `|`, `]` and the timestamp are the test)', () => {
    const d = decodeDc09(spec!.v.V8!.frames[0]!, ctxFor({ keyFor: () => Buffer.alloc(16, 7) }));
    expect(d.action).toBe('duh');
  });
});

describe.skipIf(md === null)(`§9.3 public strings${SKIP}`, () => {
  const find = (word: string) => spec!.pub.find((v) => v.text.includes(word))!;

  it('Pima Force local-time NULL: accepted in clear, skew recorded; NAK only when strict', () => {
    const f = find('Pima').frames[0]!;
    const { message: m, replyAfterCommit } = accepted(decodeDc09(f, ctxFor()));
    expect(m).toMatchObject({ token: 'NULL', receiver: '1', prefix: '0', account: 'AAAA', seq: '0182', inWindow: false });
    expect(m.skewS! < -DC09_DEFAULTS.window.pastS).toBe(true);
    const o = openFrame(replyAfterCommit);
    expect(o.ok && o.region.toString('latin1')).toBe(ackRegionFor(f));
    expect(ackRegionFor(f)).toContain('R1L0#AAAA');
    expect(decodeDc09(f, ctxFor({ strictTime: true })).action).toBe('nak');
  });

  it('Ajax 1-char account, seq 0000: accepted, the ACK it got', () => {
    const [f, ack] = find('Ajax').frames as [Buffer, Buffer];
    const { message: m, replyAfterCommit } = accepted(decodeDc09(f, ctxFor()));
    expect(m).toMatchObject({ account: '1', seq: '0000' });
    expect(replyAfterCommit).toEqual(ack);
  });

  it('empty `L` and a trailing 0x00: accepted, the bare `L` echoed', () => {
    const f = find('trailing 0x00').frames[0]!;
    expect(f[f.length - 1]).toBe(0);
    const { message: m, replyAfterCommit } = accepted(decodeDc09(f, ctxFor()));
    expect(m).toMatchObject({ prefix: '', account: '7303658550', token: 'NULL' });
    expect(m.receiver).toBeUndefined();
    const o = openFrame(replyAfterCommit);
    expect(o.ok && o.region.toString('latin1')).toBe(ackRegionFor(f));
    expect(encodeAck({ seq: m.seq, prefix: m.prefix, account: m.account })).toEqual(replyAfterCommit);
    expect(datagramFrame(f)).toEqual({ frame: withoutNuls(f) });
  });

  it('periodic test RP: a test, no alarm', () => {
    const f = find('Periodic test').frames[0]!;
    const { message: m } = accepted(decodeDc09(f, ctxFor()));
    expect(m.event).toMatchObject({ format: 'sia', code: 'RP', number: '0000', modifiers: { ri: '0' }, account: '0000' });
    expect(normaliseDc09(m)).toMatchObject({ kind: 'test', test: true, alarms: [], restores: [] });
  });

  it('a NAK is a response: ignored', () => {
    const f = find('NAK').frames[0]!;
    expect(decodeDc09(f, ctxFor())).toEqual({ action: 'drop', reason: 'response', token: 'NAK' });
  });
});

describe.skipIf(md === null)(`framing${SKIP}`, () => {
  it('every vector split at every byte across two reads gives the same frame', () => {
    for (const f of allFrames()) {
      const want = withoutNuls(f);
      for (let k = 0; k <= f.length; k++) {
        const fr = new Dc09Framer();
        const out = [...fr.push(f.subarray(0, k)), ...fr.push(f.subarray(k))];
        expect(framesOf(out)).toEqual([want]);
        expect(out.filter((e) => 'error' in e)).toEqual([]);
        expect(fr.buffered).toBe(0);
      }
    }
  });

  it('several frames in one read, with garbage and NULs between them', () => {
    const frames = allFrames();
    const fr = new Dc09Framer();
    const stream = Buffer.concat(frames.flatMap((f, i) => (i % 3 === 0 ? [Buffer.from('junk\0\0'), f] : [f])));
    const out = fr.push(stream);
    expect(framesOf(out)).toEqual(frames.map(withoutNuls));
    expect(out.filter((e) => 'error' in e).every((e) => 'error' in e && e.error === 'garbage' && e.discarded === 4)).toBe(true);
  });

  it('any chunking of the whole stream gives the same frames', () => {
    const frames = allFrames();
    const stream = Buffer.concat(frames);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 30 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const fr = new Dc09Framer();
        const out: FrameEvent[] = [];
        for (let i = 1; i < at.length; i++) out.push(...fr.push(stream.subarray(at[i - 1]!, at[i]!)));
        expect(framesOf(out)).toEqual(frames.map(withoutNuls));
      }),
      { numRuns: 200 },
    );
  });
});

describe('framer limits', () => {
  it('an LF inside a frame restarts it; bytes before the first LF are garbage', () => {
    const good = encodeAck({ seq: '0001', prefix: '0', account: '1234' });
    const fr = new Dc09Framer();
    const out = fr.push(Buffer.concat([Buffer.from('xy\n12'), good]));
    expect(out).toEqual([{ error: 'garbage', discarded: 2 }, { error: 'garbage', discarded: 3 }, { frame: good }]);
  });

  it('over 4 KB without CR: dropped and reported, then the next frame comes through', () => {
    expect(DC09_MAX_FRAME).toBe(4096);
    const fr = new Dc09Framer();
    const big = Buffer.concat([Buffer.from('\n'), Buffer.alloc(5000, 0x41)]);
    const good = encodeAck({ seq: '0002', prefix: '0', account: '1234' });
    const out = [...fr.push(big.subarray(0, 3000)), ...fr.push(big.subarray(3000)), ...fr.push(good)];
    expect(out[0]).toEqual({ error: 'oversized', discarded: 4096 });
    expect(framesOf(out)).toEqual([good]);
    expect(fr.buffered).toBe(0);
  });

  it('binary CRC (§8): raw CRC bytes that are CR or LF are framed by the length field', () => {
    // find a seq whose CRC has a 0x0A or 0x0D byte
    let frame: Buffer | undefined;
    for (let s = 1; s < 10000 && !frame; s++) {
      const f = encodeMessage({ token: 'SIA-DCS', seq: String(s).padStart(4, '0'), prefix: '0', account: '1234', data: '#1234|Nri1/MA05', crcForm: 'binary' });
      if ([0x0a, 0x0d].includes(f[1]!) || [0x0a, 0x0d].includes(f[2]!)) frame = f;
    }
    expect(frame).toBeDefined();
    for (let k = 0; k <= frame!.length; k++) {
      const fr = new Dc09Framer();
      expect(framesOf([...fr.push(frame!.subarray(0, k)), ...fr.push(frame!.subarray(k))])).toEqual([frame]);
    }
    const d = accepted(decodeDc09(frame!, { now: new Date(), keyFor: () => undefined }));
    expect(d.message.crcForm).toBe('binary');
    // the reply goes back in the panel's form: 2 raw CRC bytes then `0LLL"`
    expect(d.replyAfterCommit[7]).toBe(0x22);
    const o = openFrame(d.replyAfterCommit);
    expect(o.ok && o.crcForm).toBe('binary');
  });

  it('UDP: one datagram is one message', () => {
    const good = encodeAck({ seq: '0001', prefix: '0', account: '1234' });
    expect(datagramFrame(Buffer.concat([good, Buffer.alloc(3)]))).toEqual({ frame: good });
    expect(datagramFrame(Buffer.from('hello'))).toEqual({ error: 'not_a_frame', discarded: 5 });
    expect(datagramFrame(Buffer.alloc(5000, 0x0a))).toMatchObject({ error: 'oversized' });
  });

  it('arbitrary bytes in arbitrary chunks never throw; frames are LF … CR within the cap', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 12 }), (chunks) => {
        const fr = new Dc09Framer(512);
        for (const c of chunks) {
          for (const e of fr.push(Buffer.from(c))) {
            if ('frame' in e) {
              expect(e.frame[0]).toBe(0x0a);
              expect(e.frame[e.frame.length - 1]).toBe(0x0d);
              expect(e.frame.length).toBeLessThanOrEqual(512);
            } else expect(e.discarded).toBeGreaterThan(0);
          }
          expect(fr.buffered).toBeLessThan(512);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('decoder on arbitrary input', () => {
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const ctx: Dc09DecodeContext = { now: new Date('2025-06-01T08:30:00Z'), keyFor: () => key };

  it('never throws on arbitrary bytes, LF … CR or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, wrap) => {
        const f = wrap ? Buffer.concat([Buffer.from([0x0a]), Buffer.from(bytes), Buffer.from([0x0d])]) : Buffer.from(bytes);
        const d = decodeDc09(f, ctx);
        expect(['drop', 'duh', 'nak', 'accept']).toContain(d.action);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on well-framed arbitrary regions (CRC and length right)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 200 }), (r) => {
        expect(['drop', 'duh', 'nak', 'accept']).toContain(decodeDc09(frameRegion(r), ctx).action);
      }),
      { numRuns: 300 },
    );
    // past a parseable header, nothing is dropped: the panel gets an answer
    const region = fc.oneof(
      fc.tuple(fc.constantFrom('"ADM-CID"', '"SIA-DCS"', '"NULL"', '"*SIA-DCS"', '"*ADM-CID"', '"*NULL"', '"X"'), fc.string({ unit: 'binary-ascii', maxLength: 120 })).map(([t, s]) => `${t}0001L0#1234[${s}`),
      fc.tuple(fc.constantFrom('"*SIA-DCS"', '"*NULL"'), fc.uint8Array({ minLength: 0, maxLength: 64 })).map(([t, b]) => `${t}0001L0#1234[${Buffer.from(b).toString('hex')}`),
    );
    fc.assert(
      fc.property(region, (r) => {
        expect(decodeDc09(frameRegion(r), ctx).action).not.toBe('drop');
      }),
      { numRuns: 500 },
    );
  });

  it('a keyFor that throws is a missing key', () => {
    const f = encodeMessage({ token: 'NULL', seq: '0001', prefix: '0', account: '1234', data: '', timestamp: ctx.now, key });
    const d = decodeDc09(f, { now: ctx.now, keyFor: () => { throw new Error('db down'); } });
    expect(d).toMatchObject({ action: 'duh', reason: 'no_key' });
  });
});

describe('decisions beyond the vectors', () => {
  const now = new Date('2025-06-01T08:30:00Z');
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const ctx: Dc09DecodeContext = { now, keyFor: () => key };
  const base = { seq: '0042', prefix: '0', account: '1234' };

  it('header unparseable: dropped (nothing to echo)', () => {
    expect(decodeDc09(frameRegion('"SIA-DCS"42L0#1234[]'), ctx)).toEqual({ action: 'drop', reason: 'bad_header' });
    expect(decodeDc09(frameRegion('"SIA-DCS"0042L0#[]'), ctx)).toEqual({ action: 'drop', reason: 'bad_header' });
  });

  it('length wrong: dropped', () => {
    const f = encodeAck(base);
    const bad = Buffer.from(f.toString('latin1').replace('0012', '0013'), 'latin1');
    expect(decodeDc09(bad, ctx)).toEqual({ action: 'drop', reason: 'bad_length' });
  });

  it('lower-case CRC hex is accepted', () => {
    const f = encodeMessage({ ...base, token: 'NULL', data: '' });
    const lower = Buffer.concat([f.subarray(0, 1), Buffer.from(f.toString('latin1', 1, 5).toLowerCase(), 'latin1'), f.subarray(5)]);
    expect(decodeDc09(lower, ctx).action).toBe('accept');
  });

  it('clear data block without `]`, junk after the blocks, or a bad timestamp: DUH', () => {
    expect(decodeDc09(frameRegion('"SIA-DCS"0042L0#1234[#1234|Nri1/MA05'), ctx)).toMatchObject({ action: 'duh', reason: 'bad_data' });
    expect(decodeDc09(frameRegion('"SIA-DCS"0042L0#1234[#1234|Nri1/MA05]junk'), ctx)).toMatchObject({ action: 'duh', reason: 'bad_data' });
    expect(decodeDc09(frameRegion('"SIA-DCS"0042L0#1234[#1234|Nri1/MA05]_25:00:00,06-01-2025'), ctx)).toMatchObject({ action: 'duh', reason: 'bad_timestamp' });
    expect(decodeDc09(frameRegion('"SIA-DCS"0042L0#1234[#1234|Nri1/MA05]_08:00:00,02-30-2025'), ctx)).toMatchObject({ action: 'duh', reason: 'bad_timestamp' });
  });

  it('encrypted: odd hex, a length not a multiple of 16, no timestamp: DUH', () => {
    expect(decodeDc09(frameRegion('"*SIA-DCS"0042L0#1234[ABC'), ctx)).toMatchObject({ action: 'duh', reason: 'bad_hex' });
    expect(decodeDc09(frameRegion(`"*SIA-DCS"0042L0#1234[${'AB'.repeat(15)}`), ctx)).toMatchObject({ action: 'duh', reason: 'bad_cipher_length' });
    const noTs = `"*SIA-DCS"0042L0#1234[${encryptContent('#1234|Nri1/MA05]', key)}`;
    expect(decodeDc09(frameRegion(noTs), ctx)).toMatchObject({ action: 'duh', reason: 'no_timestamp' });
    const noBar = `"*SIA-DCS"0042L0#1234[${encryptContent(']_08:30:00,06-01-2025', key, { terminator: false })}`;
    expect(decodeDc09(frameRegion(noBar), ctx)).toMatchObject({ action: 'duh', reason: 'no_pad_terminator' });
    expect(decodeDc09(frameRegion('"*NULL"0042L0#1234[00'), { now, keyFor: () => Buffer.alloc(10) })).toMatchObject({ action: 'duh', reason: 'bad_key' });
  });

  it('the window edges: −40 s and +20 s accepted, one second beyond NAKed (encrypted)', () => {
    const at = (s: number) => encodeMessage({ ...base, token: 'NULL', data: '', timestamp: new Date(now.getTime() + s * 1000), key });
    expect(decodeDc09(at(-40), ctx).action).toBe('accept');
    expect(decodeDc09(at(20), ctx).action).toBe('accept');
    expect(decodeDc09(at(-41), ctx)).toMatchObject({ action: 'nak', skewS: -41 });
    expect(decodeDc09(at(21), ctx)).toMatchObject({ action: 'nak', skewS: 21 });
    expect(decodeDc09(at(-100), { ...ctx, window: { pastS: 120, futureS: 0 } }).action).toBe('accept');
    // the receiver clock's milliseconds do not count
    expect(decodeDc09(at(-40), { ...ctx, now: new Date(now.getTime() + 999) }).action).toBe('accept');
  });

  it('unknown SIA code and unknown Contact ID code: accepted as other, never dropped (§4 step 9)', () => {
    const sia = accepted(decodeDc09(encodeMessage({ ...base, token: 'SIA-DCS', data: '#1234|NUX12' }), ctx)).message;
    expect(sia.event).toMatchObject({ format: 'sia', code: 'UX', number: '12' });
    expect(normaliseDc09(sia)).toMatchObject({ kind: 'status', alarms: [], event: { code: 'UX', known: false } });
    const cid = accepted(decodeDc09(encodeMessage({ ...base, token: 'ADM-CID', data: '#1234|1999 01 001' }), ctx)).message;
    expect(normaliseDc09(cid)).toMatchObject({ kind: 'status', alarms: [], event: { code: '999', known: false } });
    const junk = accepted(decodeDc09(encodeMessage({ ...base, token: 'ADM-CID', data: '#1234|whatever' }), ctx)).message;
    expect(junk.event).toEqual({ format: 'unparsed', account: '1234', text: '#1234|whatever' });
    expect(normaliseDc09(junk)).toMatchObject({ kind: 'status', event: { known: false } });
  });

  it('SIA-DCS forms: empty account, modifiers run together, free text, more events, a named code with no kind', () => {
    const m = (data: string) => accepted(decodeDc09(encodeMessage({ ...base, token: 'SIA-DCS', data }), ctx)).message.event;
    expect(m('|Nri1/CL501')).toMatchObject({ format: 'sia', account: '', code: 'CL', number: '501', modifiers: { ri: '1' } });
    expect(m('#1234|Nri1CL0^VX FRONTE ^')).toMatchObject({ code: 'CL', number: '0', text: 'VX FRONTE ', modifiers: { ri: '1' } });
    expect(m('#1234|Nti12:30/id5/ri2/PA3/BA04')).toMatchObject({ code: 'PA', number: '3', modifiers: { ti: '12:30', id: '5', ri: '2' }, more: '/BA04' });
    expect(m('#1234|NA01')).toMatchObject({ newEvent: false, code: 'NA', number: '01' });
    const ba = accepted(decodeDc09(encodeMessage({ ...base, token: 'SIA-DCS', data: '#1234|Nri1/BA01' }), ctx)).message;
    expect(normaliseDc09(ba)).toMatchObject({ kind: 'status', alarms: [], restores: [], event: { code: 'BA', known: true, group: '1' } });
    const qr = accepted(decodeDc09(encodeMessage({ ...base, token: 'SIA-DCS', data: '#1234|Nri1/QR01' }), ctx)).message;
    expect(normaliseDc09(qr)).toMatchObject({ kind: 'status', restores: ['sos'] });
  });

  it('ADM-CID: the Contact ID tables apply (vendor, still-present, tests)', () => {
    const msg = (data: string, extra: Partial<Dc09DecodeContext> = {}) => accepted(decodeDc09(encodeMessage({ ...base, token: 'ADM-CID', data }), { ...ctx, ...extra })).message;
    expect(normaliseDc09(msg('#1234|1102 01 001', { cid: { vendor: 'climax' } })).alarms).toEqual(['fall']);
    expect(normaliseDc09(msg('#1234|1102 01 001')).alarms).toEqual([]);
    expect(normaliseDc09(msg('#1234|6301 00 000'))).toMatchObject({ kind: 'alarm', alarms: ['power_cut'] });
    expect(msg('#1234|6301 00 000').event).toMatchObject({ qualifier: 'still_present', qualifierDigit: '6' });
    for (const code of ['601', '602', '608']) expect(normaliseDc09(msg(`#1234|1${code} 00 000`))).toMatchObject({ kind: 'test', test: true, alarms: [] });
    // the data block's account may differ from the header's (a relay), or be missing
    expect(msg('#AAAAAA|1101 01 003').event).toMatchObject({ format: 'cid', account: 'AAAAAA', code: '101' });
    expect(msg('1101 01 003').event).toMatchObject({ format: 'cid', code: '101' });
  });

  it('extended data blocks are kept; the dedup key ignores pad and timestamp', () => {
    const f = (ts: Date, k?: Buffer) =>
      encodeMessage({ ...base, token: 'SIA-DCS', data: '#1234|Nri1/MA05', extended: [{ id: 'X', value: '52.21' }, { id: 'Y', value: '4.9' }], timestamp: ts, key: k });
    const a = accepted(decodeDc09(f(now, key), ctx)).message;
    const b = accepted(decodeDc09(f(new Date(now.getTime() - 5000), key), ctx)).message;
    const c = accepted(decodeDc09(f(now), ctx)).message;
    expect(a.extended).toEqual([{ id: 'X', value: '52.21' }, { id: 'Y', value: '4.9' }]);
    expect(a.dedupKey).toBe(b.dedupKey);
    expect(a.dedupKey).toBe(c.dedupKey);
    expect(a.raw).not.toBe(b.raw); // random pads
    const other = accepted(decodeDc09(encodeMessage({ ...base, seq: '0043', token: 'SIA-DCS', data: '#1234|Nri1/MA05' }), ctx)).message;
    expect(other.dedupKey).not.toBe(c.dedupKey);
  });

  it('replies: `*ACK` iff the token had `*`; DUH and NAK never encrypted', () => {
    const enc = accepted(decodeDc09(encodeMessage({ ...base, token: 'NULL', data: '', timestamp: now, key }), ctx));
    expect(enc.replyAfterCommit.toString('latin1')).toContain('"*ACK"0042L0#1234[');
    const clear = accepted(decodeDc09(encodeMessage({ ...base, token: 'NULL', data: '' }), ctx));
    expect(clear.replyAfterCommit.toString('latin1')).toContain('"ACK"0042L0#1234[]\r');
    const duh = decodeDc09(encodeMessage({ ...base, token: 'FOO', data: '', timestamp: now, key }), ctx);
    expect(duh.action === 'duh' && duh.reply.toString('latin1')).toContain('"DUH"0042L0#1234[]\r');
  });
});

describe('AES (§5)', () => {
  it('parses installer keys with an explicit encoding', () => {
    expect(parseKey('000102030405060708090A0B0C0D0E0F', 'hex')).toEqual({ ok: true, key: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex') });
    const ascii = parseKey('000102030405060708090A0B0C0D0E0F', 'ascii');
    expect(ascii.ok && ascii.key.length).toBe(32); // the same 32 characters: AES-256 as ASCII
    expect(parseKey('a'.repeat(48), 'hex')).toMatchObject({ ok: true });
    expect(parseKey('a'.repeat(64), 'hex')).toMatchObject({ ok: true });
    expect(parseKey('abcdefghijklmnop', 'ascii')).toMatchObject({ ok: true });
    expect(parseKey('abcdefghijklmnopqrstuvwx', 'ascii')).toMatchObject({ ok: true });
    for (const [t, e] of [['a'.repeat(31), 'hex'], ['g'.repeat(32), 'hex'], ['short', 'ascii'], ['é'.repeat(16), 'ascii']] as const) {
      expect(parseKey(t, e).ok).toBe(false);
    }
  });

  it('encrypt → decrypt round trip for AES-128/192/256 with random pads', () => {
    const forbidden = new Set([0x7c, 0x5b, 0x5d]);
    const padByte = fc.integer({ min: 0, max: 255 }).filter((b) => !forbidden.has(b));
    fc.assert(
      fc.property(
        fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        fc.string({ unit: 'binary-ascii', maxLength: 100 }),
        fc.array(padByte, { minLength: 16, maxLength: 16 }),
        (keyBytes, content, padBytes) => {
          const key = Buffer.from(keyBytes);
          const hex = encryptContent(content, key, { pad: (n) => Buffer.from(padBytes.slice(0, n)) });
          expect(hex.length % 32).toBe(0);
          expect(hex).toBe(hex.toUpperCase());
          const dec = decryptHex(hex.toLowerCase(), key); // either case (§5: ioBroker sends lower)
          expect(dec.ok).toBe(true);
          if (!dec.ok) return;
          const open = stripPad(dec.plaintext);
          expect(open.ok && open.content).toBe(content);
          expect(open.ok && open.pad).toBeGreaterThanOrEqual(1);
          expect(open.ok && open.pad).toBeLessThanOrEqual(16);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('random pads are 1-16 bytes of [0-9A-Za-z] and differ between messages', () => {
    const key = Buffer.alloc(16, 1);
    const a = encryptContent(']_08:30:00,06-01-2025', key);
    const b = encryptContent(']_08:30:00,06-01-2025', key);
    expect(a).not.toBe(b);
    const dec = decryptHex(a, key);
    const text = dec.ok ? dec.plaintext.toString('latin1') : '';
    expect(text).toMatch(/^[0-9A-Za-z]{10}\|\]_08:30:00,06-01-2025$/);
  });

  it('full message round trip, encrypted, every key size; the encrypted ACK decrypts to the receiver time', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        fc.integer({ min: 0, max: 9999 }),
        fc.stringMatching(/^[0-9A-F]{1,16}$/),
        fc.constantFrom('1101 01 003', '3120 02 015', '1602 00 000', '1384 01 002'),
        fc.integer({ min: -40, max: 20 }),
        (keyBytes, seq, account, cid, skew) => {
          const key = Buffer.from(keyBytes);
          const now = new Date('2025-06-01T08:30:00Z');
          const f = encodeMessage({ token: 'ADM-CID', seq: String(seq).padStart(4, '0'), receiver: 'AB', prefix: '1', account, data: `#${account}|${cid}`, timestamp: new Date(now.getTime() + skew * 1000), key });
          const { message: m, replyAfterCommit } = accepted(decodeDc09(f, { now, keyFor: (a, r, p) => (a === account && r === 'AB' && p === '1' ? key : undefined) }));
          expect(m).toMatchObject({ encrypted: true, account, receiver: 'AB', prefix: '1', skewS: skew, data: `#${account}|${cid}` });
          expect(m.event).toMatchObject({ format: 'cid', code: cid.slice(1, 4) });
          const text = replyAfterCommit.toString('latin1');
          expect(text).toContain(`"*ACK"${String(seq).padStart(4, '0')}RABL1#${account}[`);
          const dec = decryptHex(text.slice(text.indexOf('[') + 1, -1), key);
          const open = dec.ok ? stripPad(dec.plaintext) : undefined;
          expect(open?.ok && open.content).toBe(']_08:30:00,06-01-2025');
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('timestamps', () => {
  it('parses and refuses', () => {
    expect(parseTimestamp('08:29:58,06-01-2025')).toEqual(new Date('2025-06-01T08:29:58Z'));
    expect(parseTimestamp('23:59:59,02-29-2024')).toEqual(new Date('2024-02-29T23:59:59Z'));
    for (const bad of ['24:00:00,06-01-2025', '08:60:00,06-01-2025', '08:00:00,13-01-2025', '08:00:00,02-29-2025', '08:00:00,06-00-2025', '8:00:00,06-01-2025', '']) {
      expect(parseTimestamp(bad)).toBeUndefined();
    }
  });
});

describe('SIA code table (§7)', () => {
  it('every kind it names is a real AlarmKind', () => {
    for (const [code, e] of Object.entries(SIA_CODES)) {
      expect(code).toMatch(/^[A-Z]{2}$/);
      if (e.kind !== null) expect(isAlarmKind(e.kind), code).toBe(true);
      expect(e.zh.length).toBeGreaterThan(0);
      expect(e.en.length).toBeGreaterThan(0);
    }
  });

  it('every xA alarm has both restores xH and xR, of the same kind', () => {
    const alarms = Object.entries(SIA_CODES).filter(([c, e]) => c[1] === 'A' && !e.restore);
    expect(alarms.length).toBeGreaterThanOrEqual(8);
    for (const [code, e] of alarms) {
      for (const r of [`${code[0]}H`, `${code[0]}R`]) {
        expect(SIA_CODES[r], r).toMatchObject({ kind: e.kind, restore: true });
      }
    }
  });

  it('the §7 mapping', () => {
    const kindOf = (c: string) => SIA_CODES[c]?.kind;
    expect(['PA', 'QA'].map(kindOf)).toEqual(['sos', 'sos']);
    expect(kindOf('MA')).toBe('medical');
    expect(['FA', 'KA'].map(kindOf)).toEqual(['fire', 'fire']);
    expect(kindOf('GA')).toBe('gas');
    expect(kindOf('AT')).toBe('power_cut');
    expect(['YT', 'XT', 'YM'].map(kindOf)).toEqual(['low_battery', 'low_battery', 'low_battery']);
    expect(['AR', 'YR', 'XR', 'TR'].every((c) => SIA_CODES[c]?.restore)).toBe(true);
    expect(kindOf('TA')).toBe('tamper');
    for (const t of ['RP', 'RX', 'RY']) expect(SIA_CODES[t]).toMatchObject({ kind: null, test: true });
  });
});
