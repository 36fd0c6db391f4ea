/**
 * The DC-09 transmitter simulator (simulators/dc09/) against the protocol facts, not against our codec:
 * - with a fixed pad and clock it reproduces the dc09.md §9 vectors byte for byte; the vectors are read from
 *   ../shared/design/dc09.md at run time, never copied here (absent outside CI: skipped; CI=true: fails);
 * - its reply parser reads the §9 ACK, *ACK (with and without `|`), NAK and DUH frames;
 * - against tiny node:dgram / node:net receivers written here it retries with the same seq, corrects its clock
 *   from a NAK, keeps one TCP connection and copes with replies split byte by byte.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Dc09Transmitter, type Dc09TransmitterOptions } from '../../../simulators/dc09/transmitter.js';
import {
  ReplyFrames,
  cidData,
  crc16Arc,
  frame,
  message,
  messageBody,
  nextSeq,
  parseReply,
  parseTimestamp,
  siaData,
  timestamp,
  type MessageOptions,
  type PadSource,
  type Reply,
} from '../../../simulators/dc09/wire.js';
import { loadDesignNote } from '../../helpers/vectors.js';

// ---------------------------------------------------------------------------------------------------------------
// dc09.md, read at run time

const loadSpec = () => loadDesignNote('dc09.md', 'DC-09 simulator vector tests');

/** §9 notation: `\n` = 0x0A, `\r` = 0x0D, `\x00` = NUL; everything else literal. */
const unescape = (s: string): Buffer =>
  Buffer.from(
    s.replace(/\\(n|r|x([0-9A-Fa-f]{2}))/g, (_, c: string, h?: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : String.fromCharCode(parseInt(h!, 16)))),
    'latin1',
  );

/** `HH:MM:SS,MM-DD-YYYY` read here independently of wire.ts. */
function utc(ts: string): Date {
  const [h, mi, s, mo, d, y] = /(\d\d):(\d\d):(\d\d),(\d\d)-(\d\d)-(\d{4})/.exec(ts)!.slice(1).map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

interface Vector {
  /** backticked frames, in the order they appear (message first, then replies) */
  frames: Buffer[];
  /** the first `_HH:MM:SS,MM-DD-YYYY` of the section: the message's own time (in the frame or its plaintext) */
  time: Date;
}

interface Spec {
  crcCheck: number;
  clock: Date;
  key: Buffer;
  filler: string;
  v: Record<string, Vector>;
  /** §9.3 bullets' frames */
  pub: Buffer[][];
}

function parseSpec(md: string): Spec {
  const s9 = md.slice(md.indexOf('## 9. Test vectors'), md.indexOf('## 10.'));
  const [main, pub] = s9.split('### 9.3') as [string, string];
  const frames = (text: string) => [...text.matchAll(/`(\\n[^`]*)`/g)].map((m) => unescape(m[1]!));
  const v: Record<string, Vector> = {};
  const parts = main.split(/\*\*(V\d+b?)\b[^*]*\*\*/);
  for (let i = 1; i < parts.length; i += 2) {
    const text = parts[i + 1]!;
    const ts = /_(\d\d:\d\d:\d\d,\d\d-\d\d-\d{4})/.exec(text);
    v[parts[i]!] = { frames: frames(text), time: ts ? utc(ts[1]!) : new Date(NaN) };
  }
  return {
    crcCheck: parseInt(/check value of `123456789` = \*\*0x([0-9A-F]{4})\*\*/.exec(md)![1]!, 16),
    clock: utc(/Receiver clock for all vectors: \*\*[^*]*\*\*\s*\(`_([^`]+)`\)/.exec(main)![1]!),
    key: Buffer.from(/\(hex `([0-9A-F]{32,64})`\)/.exec(main)![1]!, 'hex'),
    filler: /first n characters of `([A-Z]+)`/.exec(main)![1]!,
    v,
    pub: pub.split(/\n\* /).slice(1).map(frames),
  };
}

const md = loadSpec();
const spec = md === null ? null : parseSpec(md);
const filler: PadSource = (n) => Buffer.from(spec!.filler.slice(0, n), 'latin1');
const vec = (label: string, i = 0): Buffer => {
  const f = spec!.v[label]?.frames[i];
  if (!f) throw new Error(`dc09.md §9 has no frame ${i} under ${label}`);
  return f;
};

// ---------------------------------------------------------------------------------------------------------------
// A tiny receiver written here: reads frames with its own regex and node:crypto, answers by hand

interface Inbound {
  raw: Buffer;
  crcOk: boolean;
  encrypted: boolean;
  token: string;
  seq: number;
  account: string;
  /** the message time (clear or decrypted), null if none */
  time: Date | null;
  /** the clear block or the decrypted plaintext */
  block: string;
}

function readInbound(raw: Buffer, key?: Buffer): Inbound {
  const s = raw.toString('latin1');
  const m = /^\n([0-9A-F]{4})([0-9A-F]{4})("(\*?)([A-Z-]+)"(\d{4})(?:R[0-9A-F]+)?L[0-9A-F]*#([0-9A-Z]+)\[(.*))\r$/s.exec(s);
  if (!m) return { raw, crcOk: false, encrypted: false, token: '', seq: -1, account: '', time: null, block: '' };
  const region = Buffer.from(m[3]!, 'latin1');
  const crcOk = parseInt(m[1]!, 16) === crc16Arc(region) && parseInt(m[2]!, 16) === region.length;
  let block = m[8]!;
  if (m[4] === '*') {
    const d = createDecipheriv(`aes-${key!.length * 8}-cbc`, key!, Buffer.alloc(16)).setAutoPadding(false);
    block = Buffer.concat([d.update(Buffer.from(block, 'hex')), d.final()]).toString('latin1');
  }
  const ts = /_(\d\d:\d\d:\d\d,\d\d-\d\d-\d{4})$/.exec(block);
  return { raw, crcOk, encrypted: m[4] === '*', token: m[5]!, seq: Number(m[6]), account: m[7]!, time: ts ? utc(ts[1]!) : null, block };
}

const seq4 = (n: number) => String(n).padStart(4, '0');
const ack = (seq: number, account = '1234') => frame(`"ACK"${seq4(seq)}L0#${account}[]`);
const duh = (seq: number, account = '1234') => frame(`"DUH"${seq4(seq)}L0#${account}[]`);
const nak = (receiverTime: Date) => frame(`"NAK"0000R0L0A0[]${timestamp(receiverTime)}`);
/** `*ACK`: AES of `<pad>|]_<time>` (§4), pad of `#`, encrypted here with node:crypto. */
function encAck(seq: number, key: Buffer, time: Date, account = '1234'): Buffer {
  const tail = `|]${timestamp(time)}`;
  const plain = Buffer.from('#'.repeat(16 - (tail.length % 16)) + tail, 'latin1');
  const c = createCipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.alloc(16)).setAutoPadding(false);
  const hex = Buffer.concat([c.update(plain), c.final()]).toString('hex').toUpperCase();
  return frame(`"*ACK"${seq4(seq)}L0#${account}[${hex}`);
}

type Answer = Buffer | Buffer[] | undefined;
type Handler = (m: Inbound, n: number) => Answer;

interface TestServer {
  port: number;
  got: Inbound[];
  connections: number;
  close: () => Promise<void>;
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function udpServer(handler: Handler, key?: Buffer): Promise<TestServer> {
  const s = createSocket('udp4');
  const srv: TestServer = { port: 0, got: [], connections: 0, close: () => new Promise((r) => s.close(() => r())) };
  s.on('message', (msg, rinfo) => {
    const m = readInbound(msg, key);
    srv.got.push(m);
    const a = handler(m, srv.got.length);
    for (const r of a === undefined ? [] : Array.isArray(a) ? a : [a]) s.send(r, rinfo.port, rinfo.address);
  });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  srv.port = s.address().port;
  cleanup.push(srv.close);
  return srv;
}

/** `split`: every reply byte is written on its own, a few ms apart, so the transmitter reads them one by one. */
async function tcpServer(handler: Handler, o: { key?: Buffer; split?: boolean } = {}): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    srv.connections++;
    sockets.add(sock);
    sock.setNoDelay(true);
    let buf = '';
    let out = Promise.resolve();
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let cr: number;
      while ((cr = buf.indexOf('\r')) >= 0) {
        const raw = Buffer.from(buf.slice(buf.indexOf('\n'), cr + 1), 'latin1');
        buf = buf.slice(cr + 1);
        const m = readInbound(raw, o.key);
        srv.got.push(m);
        const a = handler(m, srv.got.length);
        const bytes = a === undefined ? null : Buffer.concat(Array.isArray(a) ? a : [a]);
        if (!bytes) continue;
        if (!o.split) sock.write(bytes);
        else
          out = out.then(async () => {
            for (const b of bytes) {
              if (sock.destroyed) return;
              sock.write(Buffer.from([b]));
              await new Promise((r) => setTimeout(r, 2));
            }
          });
      }
    });
    sock.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const srv: TestServer = {
    port: (server.address() as AddressInfo).port,
    got: [],
    connections: 0,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  cleanup.push(srv.close);
  return srv;
}

function transmitter(port: number, o: Partial<Dc09TransmitterOptions> = {}): { t: Dc09Transmitter; errors: string[] } {
  const t = new Dc09Transmitter({ host: '127.0.0.1', port, account: '1234', replyTimeoutMs: 150, ...o });
  const errors: string[] = [];
  t.on('protocol_error', (e: { reason: string }) => errors.push(e.reason));
  cleanup.push(() => t.close());
  return { t, errors };
}

const decrypt = (key: Buffer, hex: string): Buffer => {
  const d = createDecipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.alloc(16)).setAutoPadding(false);
  return Buffer.concat([d.update(Buffer.from(hex, 'hex')), d.final()]);
};

// ---------------------------------------------------------------------------------------------------------------

describe('dc09 simulator wire: blocks, timestamps, pads', () => {
  it('data helpers write the §3 forms', () => {
    expect(cidData('1234', 1, 101, 1, 3)).toBe('#1234|1101 01 003');
    expect(cidData('1234', 3, 120, 2, 15)).toBe('#1234|3120 02 015');
    expect(siaData('1234', 'MA', 5)).toBe('#1234|Nri1/MA05');
    expect(siaData('1234', 'CL', '501', '')).toBe('#1234|NCL501');
    expect(() => cidData('1234', 1, 1000, 1, 1)).toThrow(RangeError);
  });

  it('sequence numbers wrap 9999 -> 0001', () => {
    expect(nextSeq(1)).toBe(2);
    expect(nextSeq(9999)).toBe(1);
  });

  it('timestamps are UTC `_HH:MM:SS,MM-DD-YYYY`; impossible dates are refused', () => {
    const t = new Date(Date.UTC(2025, 11, 31, 23, 5, 9));
    expect(timestamp(t)).toBe('_23:05:09,12-31-2025');
    expect(parseTimestamp('_23:05:09,12-31-2025')).toEqual(t);
    expect(parseTimestamp('23:05:09,12-31-2025')).toEqual(t);
    expect(parseTimestamp('_23:05:09,13-31-2025')).toBeNull();
    expect(parseTimestamp('_25:05:09,12-31-2025')).toBeNull();
  });

  it('clear messages: the timestamp is optional; encrypted ones refuse to go without', () => {
    const o: MessageOptions = { token: 'NULL', seq: 4, account: '1234' };
    expect(messageBody(o).toString('latin1')).toBe('"NULL"0004L0#1234[]');
    expect(messageBody({ ...o, prefix: '', extra: ['X52.21'] }).toString('latin1')).toBe('"NULL"0004L#1234[][X52.21]');
    expect(() => messageBody({ ...o, key: randomBytes(16) })).toThrow(/timestamp/);
  });

  it('random pads: 1..16 bytes, never | [ ], pad + rest a multiple of 16, upper-case hex, AES-128/192/256', () => {
    const time = new Date();
    for (const size of [16, 24, 32]) {
      const key = randomBytes(size);
      for (let n = 0; n < 40; n++) {
        const data = n === 0 ? '' : `#1234|${'x'.repeat(n)}`;
        const body = messageBody({ token: n === 0 ? 'NULL' : 'SIA-DCS', seq: 1, account: '1234', data, time, key }).toString('latin1');
        const hex = body.slice(body.indexOf('[') + 1);
        expect(hex).toMatch(/^(?:[0-9A-F]{32})+$/);
        const plain = decrypt(key, hex);
        const rest = Buffer.from(`|${data}]${timestamp(time)}`, 'latin1');
        const pad = plain.subarray(0, plain.length - rest.length);
        expect(plain.subarray(pad.length)).toEqual(rest);
        expect(pad.length).toBeGreaterThanOrEqual(1);
        expect(pad.length).toBeLessThanOrEqual(16);
        expect(pad.length).toBe(16 - (rest.length % 16));
        expect([...pad].some((b) => b === 0x7c || b === 0x5b || b === 0x5d)).toBe(false);
      }
    }
  });

  it('reply frames: split byte by byte, several per read, junk and NULs between them', () => {
    const a = ack(1);
    const b = ack(2);
    const splitter = new ReplyFrames();
    const out: Buffer[] = [];
    let junk = 0;
    for (const byte of Buffer.concat([Buffer.from('zz'), a, Buffer.from([0]), b])) {
      const r = splitter.push(Buffer.from([byte]));
      out.push(...r.frames);
      junk += r.junk;
    }
    expect(out).toEqual([a, b]);
    expect(junk).toBe(2);
    expect(splitter.push(Buffer.concat([a, b, a])).frames).toEqual([a, b, a]);
  });

  it('reply parser refuses a wrong length, a bare LF CR, an *ACK without key or with the wrong key', () => {
    const good = ack(3);
    const longer = Buffer.from(good.toString('latin1').replace('0012', '0013'), 'latin1');
    expect(parseReply(longer)).toMatch(/length/);
    expect(parseReply(Buffer.from('\n\r'))).toMatch(/frame/);
    const key = randomBytes(16);
    const e = encAck(3, key, new Date());
    expect(parseReply(e)).toMatch(/no key/);
    expect(parseReply(e, randomBytes(16))).toMatch(/wrong key/);
    expect(parseReply(e, key)).toMatchObject({ token: 'ACK', encrypted: true, seq: 3, pipe: true });
  });
});

describe.skipIf(!spec)(`dc09 simulator: dc09.md §9 vectors byte for byte${spec ? '' : ' (dc09.md absent: skipped)'}`, () => {
  it('CRC-16/ARC check value (§1)', () => {
    expect(crc16Arc(Buffer.from('123456789'))).toBe(spec!.crcCheck);
  });

  const clear: Array<[string, number, Omit<MessageOptions, 'account' | 'time'>, boolean]> = [
    ['V1', 0, { token: 'ADM-CID', seq: 1, data: cidData('1234', 1, 101, 1, 3) }, true],
    ['V2', 0, { token: 'ADM-CID', seq: 2, data: cidData('1234', 3, 101, 1, 3) }, true],
    ['V3', 0, { token: 'SIA-DCS', seq: 3, data: siaData('1234', 'MA', 5) }, true],
    ['V4', 0, { token: 'NULL', seq: 4 }, true],
    ['V4', 1, { token: 'NULL', seq: 4 }, false],
    ['V5', 0, { token: 'ADM-CID', seq: 5, receiver: '1A', prefix: '2F', data: cidData('1234', 1, 120, 2, 15) }, true],
  ];
  it.each(clear)('%s (frame %i): clear message', (label, i, o, withTime) => {
    const built = message({ ...o, account: '1234', time: withTime ? spec!.v[label]!.time : null });
    expect(built.toString('latin1')).toBe(vec(label, i).toString('latin1'));
  });

  const encrypted: Array<[string, Omit<MessageOptions, 'account' | 'time'>]> = [
    ['V6', { token: 'SIA-DCS', seq: 6, data: siaData('1234', 'FA', 2) }],
    ['V8', { token: 'ADM-CID', seq: 8, data: cidData('1234', 1, 101, 1, 3) }],
    ['V9', { token: 'NULL', seq: 9 }],
  ];
  it.each(encrypted)('%s: encrypted message, key 00..0F, fixed filler pad', (label, o) => {
    const built = message({ ...o, account: '1234', time: spec!.v[label]!.time, key: spec!.key, pad: filler });
    expect(built.toString('latin1')).toBe(vec(label).toString('latin1'));
  });

  it('V8 uses pad "ABCDEFGHI" (9 bytes)', () => {
    const hex = vec('V8').toString('latin1').split('[')[1]!.slice(0, -1);
    expect(decrypt(spec!.key, hex).toString('latin1', 0, 10)).toBe(`${spec!.filler.slice(0, 9)}|`);
  });

  it('reads V1 ACK and V5 ACK (R and L echoed)', () => {
    expect(parseReply(vec('V1', 1))).toMatchObject({ token: 'ACK', encrypted: false, seq: 1, prefix: '0', account: '1234', data: '' });
    const r5 = parseReply(vec('V5', 1)) as Reply;
    expect(r5).toMatchObject({ token: 'ACK', seq: 5, receiver: '1A', prefix: '2F', account: '1234' });
    expect(r5.time).toBeUndefined();
  });

  it('reads V8 *ACK with and without `|`, and V9 *ACK: decrypted receiver time', () => {
    const withBar = parseReply(vec('V8', 1), spec!.key) as Reply;
    const without = parseReply(vec('V8', 2), spec!.key) as Reply;
    const v9 = parseReply(vec('V9', 1), spec!.key) as Reply;
    for (const [r, seq] of [[withBar, 8], [without, 8], [v9, 9]] as const) {
      expect(r).toMatchObject({ token: 'ACK', encrypted: true, seq, account: '1234' });
      expect(r.time).toEqual(spec!.clock);
    }
    expect(withBar.pipe).toBe(true);
    expect(without.pipe).toBe(false);
  });

  it('reads the NAK (V6) and the public NAK (§9.3): receiver time, seq 0000, no account', () => {
    const r = parseReply(vec('V6', 1)) as Reply;
    expect(r).toMatchObject({ token: 'NAK', seq: 0, encrypted: false });
    expect(r.account).toBeUndefined();
    expect(r.time).toEqual(spec!.clock);
    const pub = spec!.pub.flat().find((f) => f.includes('"NAK"'))!;
    const p = parseReply(pub) as Reply;
    expect(p.token).toBe('NAK');
    expect(timestamp(p.time!)).toBe(pub.toString('latin1').slice(-21, -1));
  });

  it('reads V7b DUH; V7 (garbled) fails the CRC check', () => {
    expect(parseReply(vec('V7b', 1))).toMatchObject({ token: 'DUH', seq: 7, account: '1234' });
    expect(parseReply(vec('V7'))).toMatch(/CRC/);
  });

  it('transmitter, UDP, fixed clock: sends V1 byte for byte, silent once, then the V1 ACK: same seq again', async () => {
    const srv = await udpServer((_m, n) => (n === 1 ? undefined : vec('V1', 1)));
    const { t, errors } = transmitter(srv.port, { transport: 'udp', clock: () => spec!.v.V1!.time.getTime(), replyTimeoutMs: 100 });
    const r = await t.cid(1, 101, 1, 3);
    expect(r).toMatchObject({ reply: 'ACK', tries: 2, seq: 1, naks: 0 });
    expect(srv.got.map((m) => m.raw.toString('latin1'))).toEqual([vec('V1').toString('latin1'), vec('V1').toString('latin1')]);
    expect(errors).toEqual([]);
  });

  it('transmitter, TCP split byte by byte, clock 120 s behind: V6, the V6 NAK, clock corrected, resent at receiver time', async () => {
    const key = spec!.key;
    const srv = await tcpServer((m, n) => (n === 1 ? vec('V6', 1) : encAck(m.seq, key, spec!.clock)), { key, split: true });
    const { t, errors } = transmitter(srv.port, { key, pad: filler, firstSeq: 6, clock: () => spec!.v.V6!.time.getTime(), replyTimeoutMs: 2000 });
    const r = await t.sia('FA', 2);
    expect(r).toMatchObject({ reply: 'ACK', tries: 2, naks: 1, seq: 6, ackSkewS: 0 });
    expect(srv.got[0]!.raw.toString('latin1')).toBe(vec('V6').toString('latin1'));
    expect(srv.got[1]).toMatchObject({ seq: 6, token: 'SIA-DCS', encrypted: true, crcOk: true });
    expect(srv.got[1]!.time).toEqual(spec!.clock);
    expect(t.clockSkewS).toBe((spec!.clock.getTime() - spec!.v.V6!.time.getTime()) / 1000);
    expect(errors).toEqual([]);
  });

  it('transmitter, UDP: V8 and V9 byte for byte, answered by their *ACKs', async () => {
    let now = spec!.v.V8!.time.getTime();
    const srv = await udpServer((m) => (m.seq === 8 ? vec('V8', 1) : vec('V9', 1)), spec!.key);
    const { t, errors } = transmitter(srv.port, { transport: 'udp', key: spec!.key, pad: filler, firstSeq: 8, clock: () => now });
    expect(await t.cid(1, 101, 1, 3)).toMatchObject({ reply: 'ACK', tries: 1, seq: 8, ackSkewS: 1 });
    now = spec!.v.V9!.time.getTime();
    expect(await t.nullPoll()).toMatchObject({ reply: 'ACK', tries: 1, seq: 9 });
    expect(srv.got.map((m) => m.raw.toString('latin1'))).toEqual([vec('V8').toString('latin1'), vec('V9').toString('latin1')]);
    expect(errors).toEqual([]);
  });
});

describe('dc09 simulator transmitter against a tiny local receiver', () => {
  it('UDP: silent once, then ACK: the retry carries the same seq', async () => {
    const srv = await udpServer((m, n) => (n === 1 ? undefined : ack(m.seq)));
    const { t } = transmitter(srv.port, { transport: 'udp', replyTimeoutMs: 80 });
    const r = await t.sia('MA', 5);
    expect(r).toMatchObject({ reply: 'ACK', tries: 2, seq: 1 });
    expect(srv.got.map((m) => m.seq)).toEqual([1, 1]);
    expect(srv.got.every((m) => m.crcOk && m.token === 'SIA-DCS')).toBe(true);
    expect((await t.nullPoll()).seq).toBe(2);
  });

  it('UDP: never answered: 5 tries (the default), same seq, then none', async () => {
    const srv = await udpServer(() => undefined);
    const { t } = transmitter(srv.port, { transport: 'udp', replyTimeoutMs: 30 });
    const r = await t.cid(1, 120, 1, 1);
    expect(r).toMatchObject({ reply: 'none', tries: 5, seq: 1, answer: null });
    expect(r.frames).toHaveLength(5);
    expect(srv.got.map((m) => m.seq)).toEqual([1, 1, 1, 1, 1]);
  });

  it('TCP, split replies: a NAK with a receiver time 120 s ahead: clock corrected, resent with the same seq inside the window', async () => {
    const key = randomBytes(32);
    const receiverNow = () => new Date(Date.now() + 120_000);
    const deltas: number[] = [];
    const srv = await tcpServer(
      (m) => {
        const d = (m.time!.getTime() - receiverNow().getTime()) / 1000;
        deltas.push(d);
        // §4 step 7: −40 s … +20 s
        return d < -40 || d > 20 ? nak(receiverNow()) : encAck(m.seq, key, receiverNow());
      },
      { key, split: true },
    );
    const { t, errors } = transmitter(srv.port, { key, replyTimeoutMs: 2000 });
    const corrected: number[] = [];
    t.on('clock_corrected', (e: { changeS: number }) => corrected.push(e.changeS));
    const r = await t.cid(1, 101, 1, 3);
    expect(r).toMatchObject({ reply: 'ACK', tries: 2, naks: 1, seq: 1 });
    expect(srv.got.map((m) => [m.seq, m.token, m.encrypted])).toEqual([
      [1, 'ADM-CID', true],
      [1, 'ADM-CID', true],
    ]);
    expect(deltas[0]).toBeLessThan(-119);
    expect(deltas[1]).toBeGreaterThanOrEqual(-40);
    expect(deltas[1]).toBeLessThanOrEqual(20);
    expect(Math.abs(deltas[1]!)).toBeLessThan(3);
    expect(corrected).toHaveLength(1);
    expect(Math.abs(t.clockSkewS - 120)).toBeLessThan(2);
    expect(Math.abs(r.ackSkewS!)).toBeLessThan(3);
    expect(srv.connections).toBe(1);
    expect(errors).toEqual([]);
  });

  it('TCP: one connection for several messages; seq per message; a stale ACK and the real one in one read', async () => {
    const srv = await tcpServer((m) => (m.seq > 1 ? [ack(m.seq - 1), ack(m.seq)] : ack(m.seq)));
    const { t, errors } = transmitter(srv.port, { timestamps: false });
    await t.connect();
    const seqs: number[] = [];
    for (const send of [() => t.nullPoll(), () => t.cid(1, 100, 1, 2), () => t.sia('FA', 3)]) {
      const r = await send();
      expect(r).toMatchObject({ reply: 'ACK', tries: 1 });
      seqs.push(r.seq);
    }
    expect(seqs).toEqual([1, 2, 3]);
    expect(srv.connections).toBe(1);
    expect(srv.got.map((m) => m.time)).toEqual([null, null, null]);
    expect(errors).toEqual(['ACK for seq 1 while waiting for 2', 'ACK for seq 2 while waiting for 3']);
  });

  it('TCP split byte by byte: several replies each read one byte at a time', async () => {
    const srv = await tcpServer((m) => ack(m.seq), { split: true });
    const { t } = transmitter(srv.port, { replyTimeoutMs: 2000 });
    expect((await t.nullPoll()).reply).toBe('ACK');
    expect((await t.cid(1, 101, 1, 3)).reply).toBe('ACK');
    expect(srv.connections).toBe(1);
  });

  it('DUH: given up at once, never repeated', async () => {
    const srv = await tcpServer((m) => duh(m.seq));
    const { t } = transmitter(srv.port);
    expect(await t.cid(1, 101, 1, 3)).toMatchObject({ reply: 'DUH', tries: 1, seq: 1 });
    expect(srv.got).toHaveLength(1);
  });

  it('a clear ACK to an encrypted message is not an answer: the transmitter retries', async () => {
    const key = randomBytes(16);
    const srv = await udpServer((m, n) => (n === 1 ? ack(m.seq) : encAck(m.seq, key, new Date())), key);
    const { t, errors } = transmitter(srv.port, { transport: 'udp', key, replyTimeoutMs: 80 });
    expect(await t.nullPoll()).toMatchObject({ reply: 'ACK', tries: 2 });
    expect(errors).toEqual(['clear ACK to an encrypted message (§2: *ACK)']);
  });

  it('resend(last): the same message again with the same seq; the next message takes the next seq', async () => {
    const srv = await udpServer((m) => ack(m.seq));
    const { t } = transmitter(srv.port, { transport: 'udp' });
    const first = await t.cid(1, 101, 1, 3);
    const again = await t.resend(first);
    const next = await t.nullPoll();
    expect([first.seq, again.seq, next.seq]).toEqual([1, 1, 2]);
    expect(srv.got.map((m) => [m.seq, m.token])).toEqual([
      [1, 'ADM-CID'],
      [1, 'ADM-CID'],
      [2, 'NULL'],
    ]);
    expect(srv.got[1]!.block.slice(0, -20)).toBe(srv.got[0]!.block.slice(0, -20));
  });

  it('sendRaw: a frame with a wrong CRC goes out as is; the receiver stays silent', async () => {
    const srv = await tcpServer((m) => (m.crcOk ? ack(m.seq) : undefined));
    const { t } = transmitter(srv.port);
    const good = message({ token: 'SIA-DCS', seq: 7, account: '1234', data: siaData('1234', 'QA', 2) });
    const bad = Buffer.from(good);
    bad[1] = bad[1] === 0x30 ? 0x31 : 0x30;
    expect(await t.sendRaw(bad, 100)).toEqual([]);
    expect(srv.got[0]!.raw).toEqual(bad);
    expect(srv.got[0]!.crcOk).toBe(false);
    const replies = await t.sendRaw(good, 300);
    expect(replies.map((r) => [r.token, r.seq])).toEqual([['ACK', 7]]);
  });

  it('NULL polling at an interval, seq per poll; nullSeqZero sends 0000 as Ajax does', async () => {
    const srv = await udpServer((m) => ack(m.seq));
    const { t } = transmitter(srv.port, { transport: 'udp' });
    const polls: unknown[] = [];
    t.on('poll', (r) => polls.push(r));
    await t.connect();
    t.startPolling(30);
    await until(() => polls.length >= 3);
    t.stopPolling();
    expect(srv.got.slice(0, 3).map((m) => [m.token, m.seq])).toEqual([
      ['NULL', 1],
      ['NULL', 2],
      ['NULL', 3],
    ]);
    const z = transmitter(srv.port, { transport: 'udp', nullSeqZero: true }).t;
    expect(await z.nullPoll()).toMatchObject({ reply: 'ACK', seq: 0 });
    expect((await z.cid(1, 602, 0, 0)).seq).toBe(1);
  });

  it('seq wraps 9999 -> 0001 across messages', async () => {
    const srv = await udpServer((m) => ack(m.seq));
    const { t } = transmitter(srv.port, { transport: 'udp', firstSeq: 9999 });
    expect((await t.nullPoll()).seq).toBe(9999);
    expect((await t.nullPoll()).seq).toBe(1);
    expect(srv.got.map((m) => m.raw.toString('latin1').slice(15, 19))).toEqual(['9999', '0001']);
  });
});

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
