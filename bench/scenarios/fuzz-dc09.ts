/**
 * The fuzz scenario's SIA DC-09 part (issue 26): frames through the live DC-09 receiver, TCP and UDP
 * (DC09_TCP_PORT, DC09_UDP_PORT). Inputs are built with the transmitter simulator's wire module
 * (simulators/dc09/wire.ts, written from shared/design/dc09.md), never with protocols/dc09:
 *   - TCP slots (12, 40 % of the inputs): one kept connection each (as Ajax panels do, §6), several frames per
 *     write, some writes split in pieces, garbage between frames; a valid NULL of the slot's own marker account
 *     after every 4 inputs (so "bad frames in a row" does not close every connection) and, at the end of each
 *     write, a marker NULL whose seq only this write uses: its ACK paces the writes (the receiver answers a
 *     connection's frames in order, each after its commit). Before the marker, when the framing model says a frame
 *     is still open, 4,100 NULs: longer than the 4 KiB cap, so every open frame is decided (framed, oversized or
 *     garbage) before the marker;
 *   - UDP slots (8, 60 %): one input per datagram from the slot's own socket, then a marker NULL from the same
 *     socket whose ACK paces the next batch; all slots together keep what they have in flight within what the
 *     receiver's socket buffer holds (UdpWindow), so the kernel drops no input.
 * The TCP and the UDP slots name accounts of their own (alarm commits take turns per account).
 * Inputs: valid frames (clear, encrypted, binary-CRC form, §9 vectors), header and block mutations with the CRC
 * and length made right again (so they reach the decoder), mutations of the whole frame, length / CRC lies,
 * oversized frames (> 4 KiB), encrypted frames with the right key, a wrong key, a key of another size, broken
 * plaintext or ciphertext, timestamps outside the window, clear frames for keyed accounts, encrypted frames for
 * accounts without a key, unknown accounts (and other protocols' identifiers), replies sent to the receiver, and
 * byte-identical replays of earlier valid frames.
 *
 * Every reply the fuzzers get is read with the simulator's parseReply (CRC, length, header; `*ACK` decrypted with
 * the account's key) and checked: an ACK may only name a registered account of the right kind (clear ACK: an
 * account without a key; `*ACK`: one with a key), with its registered L and R.
 *
 * Dc09Sos: two clean panels send an ADM-CID 1120 (panic) every 2 s, one over TCP in clear, one over UDP encrypted
 * (AES-128), each through Dc09Transmitter (retries with the same seq, as a panel does); every one must be ACKed.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Dc09Transmitter, type SendOutcome } from '../../simulators/dc09/transmitter.js';
import { cidData, crc16Arc, encryptHex, message, messageBody, parseReply, siaData, timestamp, type MessageOptions, type Reply, type Token } from '../../simulators/dc09/wire.js';
import { Budget, tcp, waitFor } from '../lib/fuzz-io.js';
import { mutate, Rng } from '../lib/fuzz-wire.js';
import { metricSum, type SosRecord, type SosWindow } from '../lib/probe.js';
import { dist, sleep } from '../lib/stats.js';

export const DC09_TCP_SLOTS = 12;
export const DC09_UDP_SLOTS = 8;
/** the TCP connections' share of the inputs (the rest go in UDP datagrams) */
const TCP_SHARE = 0.4;
/** inputs per TCP write */
const TCP_BATCH = 50;
/** datagrams per UDP batch before the marker, and at most about this much kernel buffer (a bigger datagram goes alone) */
const UDP_BATCH = 40;
const UDP_BATCH_CHARGE = 24_576;
/** the kernel buffer all UDP slots' batches may take at once in the receiver's socket buffer (see UdpWindow) */
const UDP_WINDOW = 160 * 1024;
/** §6: frames are capped at 4 KB; more than that of NULs decides any frame left open */
const MAX_FRAME = 4096;
const PAD = Buffer.alloc(4100);
/** the largest UDP payload over IPv4 */
const MAX_DATAGRAM = 65_507;

export interface Dc09Account {
  account: string;
  /** the `L` value; registered as meta.prefix */
  prefix: string;
  /** the `R` value; registered as meta.receiver when set */
  receiver?: string;
  key?: Buffer;
  meta?: Record<string, unknown>;
}

/** A deterministic key of `n` bytes. */
const key = (n: number, k: number) => Buffer.from(Array.from({ length: n }, (_, i) => (k * 37 + i * 11 + 5) & 0xff));

export interface Dc09Accounts {
  clear: Dc09Account[];
  keyed: Dc09Account[];
}

const accounts = (c: string, k: string, k0: number): Dc09Accounts => ({
  clear: [
    { account: `${c}1`, prefix: '0' },
    { account: `${c}2`, prefix: '0', meta: { vendor: 'climax' } },
    { account: `${c}3`, prefix: '2F', receiver: '1A' },
    { account: `${c}4`, prefix: '0', meta: { strictTime: true } },
  ],
  keyed: [
    { account: `${k}1`, prefix: '0', key: key(16, k0) },
    { account: `${k}2`, prefix: '0', key: key(24, k0 + 1) },
    { account: `${k}3`, prefix: '1', key: key(32, k0 + 2) },
  ],
});

/**
 * The registered accounts. Alarm commits take turns per device (a full turn queue refuses, and the frame is not
 * acknowledged): the UDP datagrams, handled concurrently, fill their accounts' queues, so the TCP connections,
 * which wait for each frame's answer, have accounts of their own. The SOS panels and every slot's marker have
 * their own too.
 */
export const DC09_ACCOUNTS = {
  tcp: accounts('A00', 'B00', 1),
  udp: accounts('A10', 'B10', 4),
  /** not DC-09 accounts: nobody's, or another protocol's identifier (fuzz.ts registers 1234 as Contact ID, the IMEI as GT06) */
  unknown: ['C0FFEE', '9999', '1', '0123456789ABCDEF', 'DEAD', '1234', '868120000000000', 'AAAA', '0'],
  sosTcp: { account: 'D001', prefix: '0' } as Dc09Account,
  sosUdp: { account: 'D002', prefix: '0', key: key(16, 9) } as Dc09Account,
};
export const dc09Marker = (transport: 'tcp' | 'udp', k: number): Dc09Account => ({ account: `E${transport === 'tcp' ? 0 : 1}${k.toString(16).toUpperCase()}`, prefix: '0' });

/** What fuzz.ts registers: POST /api/devices bodies. */
export function dc09Registrations(): Record<string, unknown>[] {
  const all = [...DC09_ACCOUNTS.tcp.clear, ...DC09_ACCOUNTS.tcp.keyed, ...DC09_ACCOUNTS.udp.clear, ...DC09_ACCOUNTS.udp.keyed, DC09_ACCOUNTS.sosTcp, DC09_ACCOUNTS.sosUdp, ...Array.from({ length: DC09_TCP_SLOTS }, (_, k) => dc09Marker('tcp', k)), ...Array.from({ length: DC09_UDP_SLOTS }, (_, k) => dc09Marker('udp', k))];
  return all.map((a) => ({
    identifier: a.account,
    protocol: 'dc09',
    ...(a.key ? { key: a.key.toString('hex').toUpperCase() } : {}),
    meta: { prefix: a.prefix, ...(a.receiver ? { receiver: a.receiver } : {}), ...a.meta },
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Frames

const LF = 0x0a;
const CR = 0x0d;
const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

/**
 * `LF crc 0LLL <region R> CR` with the CRC and length right unless told otherwise: `len` replaces the length field
 * (a lie, or 4 hex digits past 0xFFF), `crc` the CRC text; `binary` writes the CRC as 2 raw bytes (§8); `lower`
 * writes the CRC in lower case (accepted, §1).
 */
function rawFrame(region: Buffer, o: { crc?: string; len?: string; binary?: boolean; lower?: boolean; noLf?: boolean; noCr?: boolean; trail?: Buffer } = {}): Buffer {
  const c = crc16Arc(region);
  const len = o.len ?? (region.length <= 0xfff ? `0${region.length.toString(16).toUpperCase().padStart(3, '0')}` : hex4(region.length & 0xffff));
  const crcText = o.crc ?? (o.lower ? hex4(c).toLowerCase() : hex4(c));
  const head = o.binary ? Buffer.concat([Buffer.from([LF, c >> 8, c & 0xff]), Buffer.from(len, 'latin1')]) : Buffer.from(`\n${crcText}${len}`, 'latin1');
  return Buffer.concat([o.noLf ? head.subarray(1) : head, region, o.noCr ? Buffer.alloc(0) : Buffer.from([CR]), o.trail ?? Buffer.alloc(0)]);
}

/** The §9 vectors and public strings of dc09.md (account 1234 is another protocol's here; the others nobody's). */
const VECTORS = [
  '\n3CDB003B"ADM-CID"0001L0#1234[#1234|1101 01 003]_08:29:58,06-01-2025\r',
  '\nE82D0039"SIA-DCS"0003L0#1234[#1234|Nri1/MA05]_08:29:59,06-01-2025\r',
  '\nCBB30013"NULL"0004L0#1234[]\r',
  '\n1A24003F"ADM-CID"0005R1AL2F#1234[#1234|1120 02 015]_08:30:01,06-01-2025\r',
  '\nD2F40076"*SIA-DCS"0006L0#1234[DAD88CCCBF1120F71955C81BEEC38B13B9003C6E478787987C38214DBCD4A5659039948FB517FEBC5CB57DABA98F7A72\r',
  '\nE3840039"SIA-DCS"0007L0#1234[#1234|Nri1/QA02]_08:29:59,06-01-2025\r',
  '\nE0AE0038"FOO-BAR"0007L0#1234[#1234|whatever]_08:29:59,06-01-2025\r',
  '\nB50D0076"*ADM-CID"0008L0#1234[1BAC7E37F18E5C46289F442A53E8642A84D30F60180E3113994C997B2172264CF119016F7F3D18939300E43D245D3088\r',
  '\n4EB90053"*NULL"0009L0#1234[12B9D9E2FB205A10E8D9ADD22EE7A5E4976244C385E19A3FD5241DE43B3067E9\r',
  '\n97200029"NULL"0182R1L0#AAAA[]_23:23:08,09-20-2023\r',
  '\n73000024"NULL"0000L0#1[]_09:15:05,02-25-2020\r',
  '\nBB86002C"NULL"0001L#7303658550[]_15:39:38,06-07-2019\r\x00',
  '\n70C4003B"SIA-DCS"1707L0#0000[#0000|Nri0/RP0000]_13:36:41,12-22-2021\r',
  '\nE4410025"NAK"0000R0L0A0[]_16:20:01,09-24-2025\r',
  '\n1BC10012"ACK"0001L0#1234[]\r',
  '\n3AFF0012"DUH"0007L0#1234[]\r',
].map((s) => Buffer.from(s, 'latin1'));

const CID_CODES = [101, 100, 120, 121, 110, 111, 114, 151, 162, 301, 302, 309, 311, 384, 137, 383, 602, 601, 608, 999, 0, 570, 400, 401];
const SIA_CODES = ['PA', 'PH', 'PR', 'QA', 'QH', 'MA', 'MH', 'FA', 'FH', 'KA', 'GA', 'AT', 'AR', 'YT', 'YR', 'XT', 'YM', 'TA', 'TR', 'RP', 'RX', 'RY', 'BA', 'OP', 'CL', 'WA', 'ZZ'];
const EXTRA = ['X006E07.7777777', 'Y52.21', 'X-181.5', 'Z100', 'H08:29:58,06-01-2025', 'Iliving room', 'LKitchen', 'RRoom 1', 'SSite', 'OBuilding', 'MAA:BB:CC:DD:EE:FF', 'C1', 'T1', 'J2', 'N10.0.0.1', 'V1', 'A00112233', 'K0011', 'P1'];

/** The first data block of an event (token and data) for `account`. */
function event(rng: Rng, account: string): { token: Token; data: string } {
  const r = rng.int(10);
  if (r < 3) return { token: 'NULL', data: '' };
  if (r < 7) {
    const data = cidData(rng.chance(0.9) ? account : rng.pick(['1234', '0000', 'FFFF']), rng.pick([1, 1, 3, 6, 0, 9]), rng.pick(CID_CODES), rng.int(100), rng.int(1000));
    // §3.1: the `#acct|` part may be missing
    return { token: 'ADM-CID', data: rng.chance(0.1) ? data.slice(data.indexOf('|') + 1) : data };
  }
  const zone = rng.chance(0.5) ? rng.int(100) : String(rng.int(10_000)).padStart(4, '0');
  const data = siaData(rng.chance(0.9) ? account : '', rng.pick(SIA_CODES), zone, rng.pick(['ri1', '', 'ri1/ti12:00', 'id501', 'pi3', 'ri0/ti23:59/id1']));
  return { token: 'SIA-DCS', data: rng.chance(0.1) ? `${data}^FRONT DOOR^` : data };
}

/** Pad bytes from the seeded generator: any value but `|` `[` `]` (§5). */
const PAD_BYTES = [...Array(256).keys()].filter((b) => b !== 0x7c && b !== 0x5b && b !== 0x5d);
const seededPad = (rng: Rng) => (n: number) => Buffer.from(Array.from({ length: n }, () => PAD_BYTES[rng.int(PAD_BYTES.length)]!));

/** A valid message for `a` (encrypted when it has a key), as MessageOptions. */
function validSpec(rng: Rng, a: Dc09Account, now: number): MessageOptions {
  const ev = event(rng, a.account);
  const skew = rng.chance(0.9) ? -rng.int(5) : rng.pick([-30, 15, -39, 19]);
  return {
    ...ev,
    seq: rng.chance(0.02) ? 0 : 1 + rng.int(9999),
    account: a.account,
    prefix: a.prefix,
    ...(a.receiver !== undefined ? { receiver: a.receiver } : {}),
    extra: rng.chance(0.15) ? Array.from({ length: 1 + rng.int(3) }, () => rng.pick(EXTRA)) : [],
    time: a.key || rng.chance(0.7) ? new Date(now + skew * 1000) : null,
    ...(a.key ? { key: a.key, pad: seededPad(rng) } : {}),
  };
}

const HEADER = /^"([^"]*)"([^RL#[]*)(R[^L]*)?L([^#]*)#([^[]*)\[/;

/** One header field of region R replaced (token, seq, R, L, account), the rest kept as it is. */
function mutateHeader(region: string, rng: Rng): string {
  const m = HEADER.exec(region);
  if (!m) return region;
  let token = m[1]!;
  let seq = m[2]!;
  let r = m[3] ?? '';
  let l = m[4]!;
  let acct = m[5]!;
  const rest = region.slice(m[0].length);
  const enc = token.startsWith('*');
  switch (rng.int(6)) {
    case 0:
      token = rng.pick(['FOO-BAR', 'ACK', 'NAK', 'DUH', 'RSP', '*ACK', enc ? token.slice(1) : `*${token}`, token.toLowerCase(), '', `${token} `, `${token}\x00`, '**NULL', '*', 'ADM-CID', 'SIA-DCS', 'NULL', 'SIA-DCX', rng.text(1 + rng.int(20)).replace(/"/g, ''), 'A'.repeat(300)]);
      break;
    case 1:
      seq = rng.pick(['0000', '9999', '10000', '12a4', '', '-001', '0001 ', '999', rng.digits(1 + rng.int(8)), '٠١٢٣']);
      break;
    case 2:
      r = rng.pick(['', 'R', 'R1234567', 'RZZ', 'R0', 'Rffffff', 'R1A', `R${rng.digits(3)}`]);
      break;
    case 3:
      l = rng.pick(['', '1234567', 'G', '0', 'A0', '2f', '2F', rng.text(1 + rng.int(6)).replace(/[#[]/g, '')]);
      break;
    case 4:
      acct = rng.pick(['', 'A'.repeat(17), acct.toLowerCase(), 'ÄÖ', '#', 'A001', 'B001', 'A101', 'B101', 'D001', 'E00', ...DC09_ACCOUNTS.unknown, rng.digits(1 + rng.int(20)), `${acct} `, `${acct}\x00`]);
      break;
    default:
      // two fields at once
      return mutateHeader(mutateHeader(region, rng), rng);
  }
  return `"${token}"${seq}${r}L${l}#${acct}[${rest}`;
}

/** The clear data block and what follows it, mutated: the event text, extended blocks, the timestamp, brackets. */
function mutateBlocks(region: string, rng: Rng, now: number): string {
  const open = region.indexOf('[');
  if (open < 0) return region;
  const head = region.slice(0, open + 1);
  let rest = region.slice(open + 1);
  switch (rng.int(9)) {
    case 0: {
      // Contact ID data at the edges
      const acct = /#([^[]*)\[/.exec(region)?.[1] ?? '1234';
      const cid = rng.pick([`#${acct}|9999 99 999`, `#${acct}|1101 01`, `#${acct}|1101 01 0031`, `#${acct}|E101 01 003`, `#${acct}|11O1 O1 OO3`, `#${acct}|1101`, `#${acct}|`, `#${acct}1101 01 003`, `|1101 01 003`, `#|1101 01 003`, `#${acct}|1101 01 003|1120 01 001`, `#${acct}|${rng.digits(rng.int(30))}`, `#${'9'.repeat(40)}|1101 01 003`, '']);
      rest = rest.replace(/^[^\]]*/, cid);
      break;
    }
    case 1: {
      // SIA data at the edges
      const sia = rng.pick(['#1234|N', '#1234|Nri1/', '#1234|Nri1/PA', '#1234|NPA01/MA02/FA03', '#1234|Nzz99/QA01', `#1234|Nri1/PA01^${'x'.repeat(rng.int(2000))}^`, '#1234|Nri1/PA01^unterminated', '#1234|Oti12:00/BA1', '#1234|Nti99:99/PA', '#1234|Npa', `#1234|N${'ri1/'.repeat(200)}PA`, '#1234|N/////']);
      rest = rest.replace(/^[^\]]*/, sia);
      break;
    }
    case 2:
      // extended blocks: many, empty, unknown letters, huge
      rest = rest.replace(']', `]${Array.from({ length: 1 + rng.int(rng.chance(0.1) ? 200 : 5) }, () => `[${rng.pick([...EXTRA, '', 'Q?', '[', 'I'.padEnd(1 + rng.int(3000), 'x'), 'X', 'Yabc', 'H99:99:99,13-45-2025'])}]`).join('')}`);
      break;
    case 3: {
      // a timestamp at the edges, or two, or none
      const ts = rng.pick(['_25:61:61,13-32-2025', '_', '_08:30:00', '_08:30:00,06-01-25', `${timestamp(new Date(now))}${timestamp(new Date(now))}`, timestamp(new Date(now - 86_400_000 * 400)), timestamp(new Date(now + 86_400_000)), timestamp(new Date(0)), '_ab:cd:ef,gh-ij-klmn', '_23:59:60,12-31-2016', '_00:00:00,02-29-2023', '_00:00:00,02-29-2024', `_${'9'.repeat(100)}`]);
      rest = /_[^_]*$/.test(rest) ? rest.replace(/_[^_]*$/, ts) : rest + ts;
      break;
    }
    case 4:
      // brackets removed or doubled
      rest = rng.pick([rest.replace(']', ''), rest.replace(']', ']]'), `[${rest}`, rest.replace(/\]/g, ''), `${rest}]`]);
      return head.slice(0, rng.chance(0.3) ? -1 : undefined) + rest;
    case 5:
      // text after the blocks
      rest += rng.pick(['garbage', ' ', '\x00', '[', 'ÿ', '\t', rng.text(1 + rng.int(40))]);
      break;
    case 6:
      // non-ASCII and control bytes inside the data
      rest = rest.replace(/^([^\]]*)/, (d) => d + rng.pick(['é', '\u20ac', '\x7f', '\x01', '\x1b[2J', '%s%n', '${x}', '\\', '"']));
      break;
    default:
      rest = mutate(Buffer.from(rest, 'latin1'), rng, 'text', 3000).toString('latin1');
  }
  return head + rest;
}

/** An encrypted region with a chosen plaintext: `"*TOKEN"seq[R]L#acct[` + hex of pad + `plain` (padded to 16). */
function encryptedRegion(rng: Rng, a: Dc09Account, token: string, seq: number, k: Buffer, plain: Buffer, padOk = true): string {
  const n = 16 - (plain.length % 16);
  const pad = padOk ? seededPad(rng)(n) : Buffer.from('|'.repeat(n));
  const head = `"*${token}"${String(seq).padStart(4, '0')}${a.receiver !== undefined ? `R${a.receiver}` : ''}L${a.prefix}#${a.account}[`;
  return head + encryptHex(k, Buffer.concat([pad, plain]));
}

/** Inputs that test the encryption rules (§5, §4 steps 6-7). */
function encryptedInput(rng: Rng, now: number, ctx: InputContext): { frame: Buffer; valid: boolean; kind: string } {
  const a = rng.chance(0.8) ? rng.pick(ctx.accounts.keyed) : rng.pick(ctx.accounts.clear);
  const k = a.key ?? key(16, 77);
  const spec = { ...validSpec(rng, { ...a, key: k }, now), key: k };
  const region = () => messageBody(spec).toString('latin1');
  switch (rng.int(10)) {
    case 0:
    case 1:
      // right key (for a clear account: DUH no_key)
      return { frame: rawFrame(messageBody(spec)), valid: !!a.key, kind: a.key ? 'enc.valid' : 'enc.noKeyAccount' };
    case 2:
      // outside the window: NAK
      spec.time = new Date(now + rng.pick([-120, -41, -45, 21, 25, 60, -86_400, 86_400 * 365, -3600]) * 1000);
      return { frame: rawFrame(messageBody(spec)), valid: false, kind: 'enc.window' };
    case 3: {
      // a wrong key: another account's, random, or of another size
      const wrong = rng.pick([key(16, 99), key(24, 98), key(32, 97), ...ctx.accounts.keyed.map((x) => x.key!).filter((x) => !x.equals(k)), Buffer.concat([k, k]).subarray(0, rng.pick([16, 24, 32]))]);
      spec.key = wrong.equals(k) ? key(16, 96) : wrong;
      return { frame: rawFrame(messageBody(spec)), valid: false, kind: 'enc.wrongKey' };
    }
    case 4: {
      // a chosen plaintext: no `|`, no `]`, no or a bad timestamp, data broken, a pad with `|`
      const ts = timestamp(new Date(now));
      const d = spec.data ?? '';
      const plain = rng.pick([`${d}]${ts}`, `|${d}${ts}`, `|${d}]`, `|${d}]_99:99:99,13-45-2025`, `|]${ts}`, `|${d}]${ts}${ts}`, `|${d}][Iroom]${ts}`, `|#${a.account}|1101 01${ts}`, `|${'A'.repeat(rng.int(2000))}]${ts}`, `||||${d}]${ts}`, `|${d}]${ts}garbage`, '']);
      return { frame: rawFrame(Buffer.from(encryptedRegion(rng, a, spec.token, spec.seq, k, Buffer.from(plain, 'latin1'), rng.chance(0.8)), 'latin1')), valid: false, kind: 'enc.plaintext' };
    }
    case 5: {
      // the ciphertext broken: odd length, not hex, not whole blocks, lower case (valid), text after it, empty
      const r = region();
      const at = r.indexOf('[') + 1;
      const hx = r.slice(at);
      const broken = rng.pick([hx.slice(0, -1), `${hx.slice(0, 10)}G${hx.slice(11)}`, hx.slice(0, -16), hx.slice(0, -32), hx.toLowerCase(), `${hx}]`, `${hx}${timestamp(new Date(now))}`, '', `${hx}${hx}`, hx.replace(/[0-9]/g, 'x'), `${hx} `]);
      return { frame: rawFrame(Buffer.from(r.slice(0, at) + broken, 'latin1')), valid: false, kind: 'enc.ciphertext' };
    }
    case 6: {
      // a keyed account in clear: DUH clear_with_key
      const c = validSpec(rng, { ...a, key: undefined }, now);
      return { frame: rawFrame(messageBody(c)), valid: false, kind: 'enc.clearForKeyed' };
    }
    case 7:
      // header mutations in front of a valid ciphertext
      return { frame: rawFrame(Buffer.from(mutateHeader(region(), rng), 'latin1')), valid: false, kind: 'enc.header' };
    case 8: {
      // an encrypted token with a clear block, and a clear token with a ciphertext
      const c = messageBody({ ...spec, key: undefined, time: new Date(now) }).toString('latin1');
      const r = rng.chance(0.5) ? c.replace(/^"/, '"*') : region().replace(/^"\*/, '"');
      return { frame: rawFrame(Buffer.from(r, 'latin1')), valid: false, kind: 'enc.mixed' };
    }
    default: {
      // a replay of an encrypted frame sent earlier: the same seq and content, maybe an old timestamp
      const old = ctx.replay.filter((f) => f.includes('"*', 9));
      return old.length ? { frame: rng.pick(old), valid: false, kind: 'enc.replay' } : { frame: rawFrame(messageBody(spec)), valid: !!a.key, kind: 'enc.valid' };
    }
  }
}

export interface InputContext {
  /** the registered accounts this slot's inputs name */
  accounts: Dc09Accounts;
  /** earlier valid frames of this slot (byte-identical replays) */
  replay: Buffer[];
}

/** Framing lies on a region: length, CRC, case, binary form, LF/CR missing or doubled, leading junk. */
function framingLie(region: Buffer, rng: Rng): Buffer {
  const c = crc16Arc(region);
  switch (rng.int(12)) {
    case 0:
      return rawFrame(region, { len: `0${((region.length + rng.pick([1, -1, 2, 100, -region.length])) & 0xfff).toString(16).toUpperCase().padStart(3, '0')}` });
    case 1:
      return rawFrame(region, { crc: hex4(c ^ (1 << rng.int(16))) });
    case 2:
      return rawFrame(region, { lower: true });
    case 3:
      return rawFrame(region, { binary: true });
    case 4:
      return rawFrame(region, { binary: true, len: rng.pick(['0FFF', '0000', `0${(region.length + 1).toString(16).padStart(3, '0')}`]) });
    case 5:
      return rawFrame(region, { len: rng.pick([`1${region.length.toString(16).padStart(3, '0')}`, region.length.toString(16).padStart(4, '0').toLowerCase(), 'GGGG', '0FFF', '    ', '-001']) });
    case 6:
      return rawFrame(region, { crc: rng.pick(['ZZZZ', '    ', hex4(c).slice(0, 3), `${hex4(c)}0`, '']) });
    case 7:
      return rawFrame(region, { noCr: true });
    case 8:
      return rawFrame(region, { noLf: true });
    case 9:
      return rawFrame(region, { trail: Buffer.from(rng.pick(['\x00', '\x00\x00\x00', '\r', '\n', '\r\n', '\x00\r'])) });
    case 10: {
      // a CR or an LF inside region R (CRC and length over it)
      const at = rng.int(region.length + 1);
      return rawFrame(Buffer.concat([region.subarray(0, at), Buffer.from([rng.chance(0.5) ? CR : LF]), region.subarray(at)]));
    }
    default:
      return Buffer.concat([Buffer.from(rng.pick(['\n', '\n\n', '\r\n', '\x00\x00', 'xx', '\n0000']), 'latin1'), rawFrame(region)]);
  }
}

/**
 * One fuzz input for a slot. `valid`: a frame a panel could send, expected to be acknowledged (kept for replays).
 * `kind` names the generator (counted per run).
 */
export function dc09Input(rng: Rng, now: number, ctx: InputContext): { frame: Buffer; valid: boolean; kind: string } {
  const pickAccount = (): Dc09Account => {
    const r = rng.int(10);
    if (r < 5) return rng.pick(ctx.accounts.clear);
    if (r < 8) return rng.pick(ctx.accounts.keyed);
    return { account: rng.pick(DC09_ACCOUNTS.unknown), prefix: rng.chance(0.8) ? '0' : rng.pick(['', '1', '2F']) };
  };
  const r = rng.int(100);
  if (r < 8) {
    const a = pickAccount();
    const body = messageBody(validSpec(rng, a, now));
    const known = ctx.accounts.clear.includes(a) || ctx.accounts.keyed.includes(a);
    // the binary-CRC form (§8) now and then
    return { frame: rawFrame(body, { binary: rng.chance(0.15), lower: rng.chance(0.1) }), valid: known, kind: known ? 'valid' : 'unknownAccount' };
  }
  if (r < 11 && ctx.replay.length) return { frame: rng.pick(ctx.replay), valid: false, kind: 'replay' };
  if (r < 13) return { frame: rng.pick(VECTORS), valid: false, kind: 'vector' };
  if (r < 16) {
    // garbage: random bytes, text, LF/CR runs
    const g = rng.pick([() => rng.bytes(1 + rng.int(rng.chance(0.1) ? 3000 : 120)), () => Buffer.from(rng.text(1 + rng.int(200)), 'latin1'), () => Buffer.from('\n'.repeat(1 + rng.int(20))), () => Buffer.from(`\n${rng.text(1 + rng.int(60))}\r`, 'latin1'), () => Buffer.alloc(1 + rng.int(100))]);
    return { frame: g(), valid: false, kind: 'garbage' };
  }
  if (r < 26) return encryptedInput(rng, now, ctx);
  const a = pickAccount();
  const region = messageBody(validSpec(rng, a, now)).toString('latin1');
  if (r < 44) {
    // header fields, then made valid again
    const m = Buffer.from(mutateHeader(region, rng), 'latin1');
    return { frame: rng.chance(0.85) ? rawFrame(m) : framingLie(m, rng), valid: false, kind: 'header' };
  }
  if (r < 58) {
    if (a.key) return encryptedInput(rng, now, ctx);
    const m = Buffer.from(mutateBlocks(region, rng, now), 'latin1');
    return { frame: rng.chance(0.85) ? rawFrame(m) : framingLie(m, rng), valid: false, kind: 'blocks' };
  }
  if (r < 68) {
    // region R mutated by the generic mutator, CRC and length right again
    const m = mutate(Buffer.from(region, 'latin1'), rng, 'text', rng.chance(0.02) ? 6000 : 3000, rng.pick(VECTORS).subarray(9));
    return { frame: rawFrame(m), valid: false, kind: 'region' };
  }
  if (r < 80) return { frame: framingLie(Buffer.from(region, 'latin1'), rng), valid: false, kind: 'framing' };
  if (r < 82) {
    // past the 4 KiB cap (§6): region R > 0xFFF with the CRC right and a 4-digit length, or a run with no CR
    const big = Buffer.from(region.replace(']', `][I${'x'.repeat(4100 + rng.int(3000))}]`), 'latin1');
    return { frame: rng.chance(0.7) ? rawFrame(big) : Buffer.concat([Buffer.from('\n'), rng.bytes(4200 + rng.int(2000)).map((b) => (b === CR || b === LF ? 0x20 : b))]), valid: false, kind: 'oversized' };
  }
  // the whole frame mutated (the CRC is then mostly wrong: dropped without a reply)
  return { frame: mutate(rawFrame(Buffer.from(region, 'latin1')), rng, 'text', 5000, rng.pick(VECTORS)), valid: false, kind: 'frame' };
}

// ---------------------------------------------------------------------------------------------------------------
// The framing rules (§1, §6, §8), to know what the written bytes form

/**
 * What a receiver's TCP framer makes of a byte stream, by dc09.md: a frame is LF … CR; bytes before an LF are
 * garbage (NULs after a CR are skipped, §8); an LF inside a frame means the bytes before it were a cut message
 * (garbage) and a frame starts again there; nothing longer than 4 KB is kept (§6: oversized, then garbage up to
 * the next LF); in the binary-CRC form (§8: the 2 CRC bytes may be CR or LF) the length field decides the end.
 */
export class Dc09FrameModel {
  frames = 0;
  oversized = 0;
  oversizedBytes = 0;
  garbageBytes = 0;
  private held = Buffer.alloc(0);

  get partial(): number {
    return this.held.length;
  }

  push(chunk: Buffer): void {
    const b = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const n = b.length;
    let i = 0;
    while (i < n) {
      if (b[i] !== LF) {
        let j = i;
        for (; j < n && b[j] !== LF; j++) if (b[j] !== 0) this.garbageBytes++;
        i = j;
        continue;
      }
      const end = this.end(b, i, n);
      if (end === null) break;
      if (end.frame) this.frames++;
      else if (end.oversized) {
        this.oversized++;
        this.oversizedBytes += end.at - i;
      } else this.garbageBytes += end.at - i;
      i = end.at;
    }
    this.held = i < n ? Buffer.from(b.subarray(i)) : Buffer.alloc(0);
  }

  private end(b: Buffer, s: number, n: number): { at: number; frame?: boolean; oversized?: boolean } | null {
    const delim = (c: number | undefined) => c === CR || c === LF;
    if (delim(b[s + 1]) || delim(b[s + 2])) {
      if (n - s < 8) return null;
      const lenText = b.toString('latin1', s + 3, s + 7);
      if (/^0[0-9A-Fa-f]{3}$/.test(lenText) && b[s + 7] === 0x22) {
        const total = 7 + parseInt(lenText, 16) + 1;
        if (total <= MAX_FRAME) {
          if (n - s < total) return null;
          if (b[s + total - 1] === CR) return { at: s + total, frame: true };
        }
      }
    }
    const limit = Math.min(n, s + MAX_FRAME);
    for (let j = s + 1; j < limit; j++) {
      if (b[j] === CR) return { at: j + 1, frame: true };
      if (b[j] === LF) return { at: j };
    }
    if (n - s >= MAX_FRAME) return { at: s + MAX_FRAME, oversized: true };
    return null;
  }
}

/** One UDP datagram by §6/§8: trailing NULs cut; more than 4 KB is oversized; otherwise LF … CR or not a frame. */
export function dc09Datagram(d: Buffer): 'frame' | 'oversized' | 'not_a_frame' {
  let end = d.length;
  while (end > 0 && d[end - 1] === 0) end--;
  if (end > MAX_FRAME) return 'oversized';
  return end >= 2 && d[0] === LF && d[end - 1] === CR ? 'frame' : 'not_a_frame';
}

// ---------------------------------------------------------------------------------------------------------------
// Replies

const KEYS = new Map<string, Buffer>([...DC09_ACCOUNTS.tcp.keyed, ...DC09_ACCOUNTS.udp.keyed, DC09_ACCOUNTS.sosUdp].map((a) => [a.account, a.key!]));
const CLEAR = new Map<string, Dc09Account>([...DC09_ACCOUNTS.tcp.clear, ...DC09_ACCOUNTS.udp.clear, DC09_ACCOUNTS.sosTcp, ...Array.from({ length: 16 }, (_, k) => dc09Marker('tcp', k)), ...Array.from({ length: 16 }, (_, k) => dc09Marker('udp', k))].map((a) => [a.account, a]));
const ALL = new Map<string, Dc09Account>([...CLEAR.values(), ...DC09_ACCOUNTS.tcp.keyed, ...DC09_ACCOUNTS.udp.keyed, DC09_ACCOUNTS.sosUdp].map((a) => [a.account, a]));

/** A frame in the binary-CRC form (§8: LF, 2 raw CRC bytes, `0LLL"`): its total length by the length field, else -1. */
function binaryLength(b: Buffer, s = 0): number {
  if (b.length - s < 8 || b[s] !== LF || b[s + 7] !== 0x22 || !/^0[0-9A-Fa-f]{3}$/.test(b.toString('latin1', s + 3, s + 7))) return -1;
  return 7 + parseInt(b.toString('latin1', s + 4, s + 7), 16) + 1;
}

/**
 * Splits the receiver's TCP byte stream into reply frames: LF … CR, or, for a reply in the binary-CRC form (the
 * receiver answers a binary-CRC message in kind: its CRC bytes may be CR or LF), by its length field.
 */
class Replies {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): { frames: Buffer[]; junk: number } {
    const b = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Buffer[] = [];
    let junk = 0;
    let i = 0;
    for (;;) {
      const lf = b.indexOf(LF, i);
      if (lf < 0) {
        for (let j = i; j < b.length; j++) if (b[j] !== 0) junk++;
        i = b.length;
        break;
      }
      for (let j = i; j < lf; j++) if (b[j] !== 0) junk++;
      if (b.length - lf < 8) {
        i = lf;
        break;
      }
      const total = binaryLength(b, lf);
      if (total > 0) {
        if (b.length - lf < total) {
          i = lf;
          break;
        }
        frames.push(Buffer.from(b.subarray(lf, lf + total)));
        i = lf + total;
        continue;
      }
      const cr = b.indexOf(CR, lf + 1);
      if (cr < 0) {
        i = lf;
        break;
      }
      frames.push(Buffer.from(b.subarray(lf, cr + 1)));
      i = cr + 1;
    }
    this.buf = Buffer.from(b.subarray(i));
    if (this.buf.length > 8192) {
      junk += this.buf.length;
      this.buf = Buffer.alloc(0);
    }
    return { frames, junk };
  }
}

/**
 * Reads one reply and checks it: a valid frame (CRC, length, header; `*ACK` decrypted with the named account's
 * key), and an ACK only for a registered account of the right kind with its registered L and R. A reply in the
 * binary-CRC form is read as its text form. Counts go to `b` (`reply.ACK`, `reply.*ACK`, `reply.DUH`,
 * `reply.NAK`, `reply.binaryForm`, `reply.invalid`, `reply.suspicious`), samples to `bad`.
 */
function checkReply(raw: Buffer, b: Budget, bad: string[]): Reply | undefined {
  let f = raw;
  if (binaryLength(raw) > 0) {
    b.add('reply.binaryForm');
    f = Buffer.concat([Buffer.from(`\n${hex4((raw[1]! << 8) | raw[2]!)}`, 'latin1'), raw.subarray(3)]);
  }
  const acct = /#([0-9A-Za-z]{1,16})\[/.exec(f.toString('latin1', 0, 80))?.[1];
  const r = parseReply(f, acct ? KEYS.get(acct.toUpperCase()) : undefined);
  const note = (what: string) => {
    if (bad.length < 10) bad.push(`${what}: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  };
  if (typeof r === 'string') {
    b.add('reply.invalid');
    note(`invalid reply (${r})`);
    return undefined;
  }
  b.add(`reply.${r.encrypted ? '*' : ''}${r.token}`);
  if (r.token === 'ACK') {
    const a = ALL.get((r.account ?? '').toUpperCase());
    const same = (x: string | undefined, y: string | undefined) => (x ?? '').toUpperCase() === (y ?? '').toUpperCase();
    const why = !a ? 'ACK for an account that is not a registered DC-09 account' : r.encrypted !== !!a.key ? (a.key ? 'clear ACK for an account with a key' : '*ACK for an account without a key') : !same(r.prefix, a.prefix) || (a.receiver !== undefined && !same(r.receiver, a.receiver)) ? 'ACK with another L/R than registered' : '';
    if (why) {
      b.add('reply.suspicious');
      note(why);
    }
  } else if (r.encrypted) {
    b.add('reply.suspicious');
    note(`encrypted ${r.token}`);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Fuzzers

/**
 * What a protocol's UDP slots may have in flight to the receiver's one socket, together. The receiver's socket
 * buffer (208 KiB by default on Linux) is charged each datagram's whole kernel buffer, about 2 KiB for a small
 * one and about twice the size for a big one, so it holds only about 100 small datagrams: past that the kernel
 * drops datagrams whenever the gateway's event loop is busy (RcvbufErrors), and the inputs never reach it. A slot
 * takes its batch's charge before sending it and gives it back when its marker is answered (the socket's queue is
 * first in, first out: everything sent before the marker was read by then). A slot never waits while holding.
 */
export class UdpWindow {
  private used = 0;
  constructor(readonly limit: number) {}
  /** the kernel buffer a datagram of `len` bytes takes, roughly (skb truesize on loopback) */
  static charge(len: number): number {
    return len <= 1024 ? 2304 : 2 * len + 1024;
  }
  /** waits until `n` fits (or nothing is in flight: a batch bigger than the window goes alone) */
  async acquire(n: number): Promise<void> {
    while (this.used > 0 && this.used + n > this.limit) await sleep(1);
    this.used += n;
  }
  release(n: number): void {
    this.used -= n;
  }
}

/** A part of a protocol's budget: at most `limit` of its inputs (the TCP or the UDP fuzzers' share). */
export class Share {
  used = 0;
  constructor(
    readonly b: Budget,
    readonly limit: number,
  ) {}
  take(n: number): number {
    const k = this.b.take(Math.min(n, Math.max(0, this.limit - this.used)));
    this.used += k;
    return k;
  }
  get done(): boolean {
    return this.b.done || this.used >= this.limit;
  }
}

/** The DC-09 fuzzers of one protocol budget: TCP slots and UDP slots, each with its share of the inputs. */
export function dc09Fuzz(ports: { tcp: number; udp: number }, b: Budget, seed0: number, bad: string[]): Promise<void> {
  const tcpShare = new Share(b, Math.round(b.total * TCP_SHARE));
  const udpShare = new Share(b, b.total - tcpShare.limit);
  const win = new UdpWindow(UDP_WINDOW);
  return Promise.all([
    ...Array.from({ length: DC09_TCP_SLOTS }, (_, k) => dc09TcpSlot(ports.tcp, k, tcpShare, seed0 + 0x6000 + k, bad)),
    ...Array.from({ length: DC09_UDP_SLOTS }, (_, k) => dc09UdpSlot(ports.udp, k, udpShare, win, seed0 + 0x6100 + k, bad)),
  ]).then(() => undefined);
}

/** A valid clear NULL (the filler and the marker). */
const nullFrame = (a: Dc09Account, seq: number) => message({ token: 'NULL', seq, account: a.account, prefix: a.prefix });

/** The slot's replay ring: the last 32 valid frames. */
function remember(ctx: InputContext, f: Buffer): void {
  ctx.replay.push(f);
  if (ctx.replay.length > 32) ctx.replay.shift();
}

export async function dc09TcpSlot(port: number, k: number, share: Share, seed: number, bad: string[]): Promise<void> {
  const b = share.b;
  const rng = new Rng(seed);
  const marker = dc09Marker('tcp', k);
  const ctx: InputContext = { accounts: DC09_ACCOUNTS.tcp, replay: [] };
  let seq = 0;
  while (!share.done) {
    let s: Socket;
    try {
      s = await tcp(port, `127.0.10.${k + 1}`);
    } catch {
      await sleep(50);
      continue;
    }
    b.connections++;
    s.setNoDelay(true);
    s.on('error', () => undefined);
    const frames = new Replies();
    let want = -1;
    let got = false;
    s.on('data', (d: Buffer) => {
      const x = frames.push(d);
      if (x.junk) b.add('reply.junkBytes', x.junk);
      for (const f of x.frames) {
        const r = checkReply(f, b, bad);
        if (r && r.token === 'ACK' && !r.encrypted && r.seq === want && r.account === marker.account) got = true;
      }
    });
    let closed = false;
    s.once('close', () => (closed = true));
    const model = new Dc09FrameModel();
    while (!share.done && !closed) {
      const n = share.take(TCP_BATCH);
      const now = Date.now();
      const parts: Buffer[] = [nullFrame(marker, 0)];
      let fillers = 1;
      for (let i = 0; i < n; i++) {
        const x = dc09Input(rng, now, ctx);
        b.add(`in.${x.kind}`);
        if (x.valid) remember(ctx, x.frame);
        parts.push(x.frame);
        b.bytes += x.frame.length;
        // garbage between frames now and then
        if (rng.chance(0.03)) parts.push(Buffer.from(rng.pick(['\x00\x00', 'junk', '\r\n', ' ', rng.text(1 + rng.int(30))]), 'latin1'));
        if (i % 4 === 3) {
          parts.push(nullFrame(marker, 0));
          fillers++;
        }
      }
      const body = Buffer.concat(parts);
      const f0 = model.frames;
      const o0 = model.oversized;
      const g0 = model.garbageBytes;
      model.push(body);
      const pad = model.partial ? PAD : Buffer.alloc(0);
      if (pad.length) model.push(pad);
      seq = seq >= 9999 ? 1 : seq + 1;
      const mk = nullFrame(marker, seq);
      model.push(mk);
      fillers++;
      want = seq;
      got = false;
      const wire = Buffer.concat([body, pad, mk]);
      // some writes in pieces, so frames are split across reads
      if (rng.chance(0.1)) {
        const cuts = [0, ...Array.from({ length: 1 + rng.int(3) }, () => rng.int(wire.length)).sort((x, y) => x - y), wire.length];
        for (let c = 0; c + 1 < cuts.length && !closed; c++) {
          s.write(wire.subarray(cuts[c], cuts[c + 1]));
          await sleep(2);
        }
        b.add('splitWrites');
      } else s.write(wire);
      const r = await waitFor(s, () => got, 30_000);
      if (r === 'timeout') b.markerTimeouts++;
      const bucket = r === 'ok' ? 'confirmed' : 'unconfirmed';
      b.add('tcp.batches');
      b.add('tcp.fillerFrames', fillers);
      b.add('tcp.wireBytes', wire.length);
      b.add(`tcp.${bucket}Batches`);
      b.add(`tcp.${bucket}Bytes`, wire.length);
      b.add(`tcp.${bucket}Frames`, model.frames - f0);
      b.add(`tcp.${bucket}Oversized`, model.oversized - o0);
      b.add(`tcp.${bucket}GarbageBytes`, model.garbageBytes - g0);
      b.add('tcp.inputs', n);
    }
    if (closed) b.closed++;
    b.add('tcp.partialAtEnd', model.partial);
    s.destroy();
  }
}

export async function dc09UdpSlot(port: number, k: number, share: Share, win: UdpWindow, seed: number, bad: string[]): Promise<void> {
  const b = share.b;
  const rng = new Rng(seed);
  const marker = dc09Marker('udp', k);
  const ctx: InputContext = { accounts: DC09_ACCOUNTS.udp, replay: [] };
  const u: UdpSocket = createSocket('udp4');
  u.on('error', (e) => {
    b.add('udp.socketErrors');
    if (bad.length < 10) bad.push(`UDP socket error: ${e.message}`);
  });
  await new Promise<void>((res) => u.bind(0, `127.0.11.${k + 1}`, () => res()));
  b.connections++;
  let want = -1;
  let got = false;
  u.on('message', (m: Buffer) => {
    const r = checkReply(m, b, bad);
    if (r && r.token === 'ACK' && !r.encrypted && r.seq === want && r.account === marker.account) got = true;
  });
  const send = (d: Buffer) =>
    new Promise<void>((res) =>
      u.send(d, port, '127.0.0.1', (e) => {
        if (e) b.add('udp.sendErrors');
        res();
      }),
    );
  let seq = 0;
  try {
    while (!share.done) {
      const now = Date.now();
      const batch: Buffer[] = [];
      let charge = 0;
      while (batch.length < UDP_BATCH && charge < UDP_BATCH_CHARGE && share.take(1)) {
        const x = dc09Input(rng, now, ctx);
        b.add(`in.${x.kind}`);
        if (x.valid) remember(ctx, x.frame);
        // now and then a datagram far past the 4 KiB cap, up to the UDP limit
        const d = rng.chance(0.002) ? Buffer.concat([x.frame, Buffer.alloc(rng.int(MAX_DATAGRAM - x.frame.length), 0x41)]).subarray(0, MAX_DATAGRAM) : x.frame.subarray(0, MAX_DATAGRAM);
        b.bytes += d.length;
        charge += UdpWindow.charge(d.length);
        b.add('udp.datagrams');
        b.add('udp.bytes', d.length);
        b.add(`udp.${dc09Datagram(d)}`);
        batch.push(d);
      }
      const n = batch.length;
      if (n === 0) break;
      await win.acquire(charge);
      await Promise.all(batch.map(send));
      seq = seq >= 9999 ? 1 : seq + 1;
      want = seq;
      got = false;
      const mk = nullFrame(marker, seq);
      let ok = false;
      // a datagram can be lost (a full receive buffer): the marker is sent again, as a panel would
      for (let t = 0; t < 3 && !ok; t++) {
        await send(mk);
        b.add('udp.markers');
        b.add('udp.bytes', mk.length);
        const end = performance.now() + 5000;
        while (!got && performance.now() < end) await sleep(2);
        ok = got;
      }
      win.release(charge);
      if (!ok) b.markerTimeouts++;
      b.add('udp.batches');
      b.add('udp.inputs', n);
    }
  } finally {
    u.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The SOS panels

const now = () => performance.timeOrigin + performance.now();

export interface Dc09SosRecord extends SosRecord {
  seq?: number;
  reply?: SendOutcome['reply'];
  tries?: number;
  error?: string;
}

/**
 * A registered panel on its own clean TCP connection or UDP socket, sending ADM-CID 1120 (panic, zone = a
 * counter) every `periodMs` through Dc09Transmitter: one message outstanding at a time, retried with the same seq
 * when no reply came (TCP after 10 s, 3 tries; UDP after 2 s, 10 tries). Acknowledged = its outcome is an ACK.
 */
export class Dc09Sos {
  readonly records: Dc09SosRecord[] = [];
  reconnects = 0;
  closes = 0;
  framesWritten = 0;
  bytesWritten = 0;
  replies = 0;
  protocolErrors: string[] = [];
  /** messages not acknowledged: their outcome and the frames sent */
  failures: { sentAt: string; reply: string; tries: number; frames: string[] }[] = [];
  private readonly t: Dc09Transmitter;
  private timer: NodeJS.Timeout | undefined;
  private zone = 0;
  private connects = 0;

  constructor(
    readonly a: Dc09Account,
    port: number,
    transport: 'tcp' | 'udp',
  ) {
    this.t = new Dc09Transmitter({
      host: '127.0.0.1',
      port,
      transport,
      account: a.account,
      prefix: a.prefix,
      ...(a.key ? { key: a.key } : {}),
      replyTimeoutMs: transport === 'udp' ? 2000 : 10_000,
      maxTries: transport === 'udp' ? 10 : 3,
    });
    this.t.on('connect', () => {
      if (this.connects++) this.reconnects++;
    });
    this.t.on('close', () => this.closes++);
    this.t.on('error', () => undefined);
    this.t.on('reply', () => this.replies++);
    this.t.on('sent', (e: { frame: Buffer }) => {
      this.framesWritten++;
      this.bytesWritten += e.frame.length;
    });
    this.t.on('protocol_error', (e: { reason: string }) => {
      if (this.protocolErrors.length < 10) this.protocolErrors.push(e.reason);
    });
  }

  async connect(): Promise<void> {
    await this.t.connect();
    // one poll first: the link works before the clock starts
    await this.t.nullPoll();
  }

  start(periodMs: number): void {
    this.timer = setInterval(() => this.send(), periodMs);
  }

  private send(): void {
    const r: Dc09SosRecord = { sentAt: now() };
    this.records.push(r);
    this.zone = (this.zone % 999) + 1;
    this.t.cid(1, 120, 1, this.zone).then(
      (o) => {
        r.reply = o.reply;
        r.tries = o.tries;
        r.seq = o.seq;
        if (o.reply === 'ACK') r.ackAt = now();
        else if (this.failures.length < 20) this.failures.push({ sentAt: new Date(r.sentAt).toISOString(), reply: o.reply, tries: o.tries, frames: o.frames.map((f) => f.toString('latin1')) });
      },
      (e: Error) => {
        r.error = e.message;
        if (this.failures.length < 20) this.failures.push({ sentAt: new Date(r.sentAt).toISOString(), reply: `error: ${e.message}`, tries: 0, frames: [] });
      },
    );
  }

  /** Stops sending; waits up to `waitMs` for the outstanding messages' outcomes. */
  async stop(waitMs = 10_000): Promise<void> {
    clearInterval(this.timer);
    const end = performance.now() + waitMs;
    while (this.records.some((r) => r.reply === undefined && r.error === undefined) && performance.now() < end) await sleep(50);
    await this.t.close();
  }

  window(from: number, to: number): SosWindow {
    const rs = this.records.filter((r) => r.sentAt >= from && r.sentAt < to);
    const lat = rs.filter((r) => r.ackAt !== undefined).map((r) => r.ackAt! - r.sentAt);
    const d = dist(lat);
    return { sent: rs.length, acked: lat.length, ackMs: d, p50: d.p50, p99: d.p99 };
  }

  get unacked(): number {
    return this.records.filter((r) => r.ackAt === undefined).length;
  }

  /** outcomes other than ACK, by kind */
  get outcomes(): Record<string, number> {
    const o: Record<string, number> = {};
    for (const r of this.records) {
      const k = r.reply ?? (r.error ? 'error' : 'pending');
      o[k] = (o[k] ?? 0) + 1;
    }
    return o;
  }
}

// ---------------------------------------------------------------------------------------------------------------

const byLabel = (all: Record<string, number>, name: string, label: string, filter = 'protocol="dc09"'): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(all)) {
    if (!key.startsWith(`${name}{`) || !key.includes(filter)) continue;
    const m = new RegExp(`${label}="([^"]*)"`).exec(key);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + v;
  }
  return out;
};
const n = (x: number) => x.toLocaleString('en');

/**
 * Inputs written against what the gateway counted. Frames: the TCP framing model's (between the confirmed
 * batches' and all batches') plus the UDP datagrams that are frames by the datagram rule plus the SOS panels';
 * UDP framing errors (oversized, not a frame) are the gateway's only datagram bad frames besides the decoder's;
 * replies: every reply the fuzzers read was counted by the gateway (it may count more: replies to a connection
 * that closed before they were written).
 */
export function reconcileDc09(run: { inputs: number; counts: Record<string, number> }, all: Record<string, number>, sos: { frames: number; bytes: number; replies: number }) {
  const c = run.counts;
  const sum = (name: string) => metricSum(all, name, 'protocol="dc09"');
  const frames = sum('anxin_frames_total');
  const dropped = sum('anxin_frames_dropped_total');
  const bad = byLabel(all, 'anxin_bad_frames_total', 'reason');
  const discarded = byLabel(all, 'anxin_bytes_discarded_total', 'reason');
  const replies = byLabel(all, 'anxin_dc09_replies_total', 'reply', '');
  const replyReasons: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) {
    const m = /^anxin_dc09_replies_total\{.*reply="([^"]*)".*reason="([^"]*)"|^anxin_dc09_replies_total\{.*reason="([^"]*)".*reply="([^"]*)"/.exec(k);
    if (m) replyReasons[`${m[1] ?? m[4]} ${m[2] ?? m[3]}`] = v;
  }
  const unknown = sum('anxin_unknown_device_frames_total');
  const bytesRead = sum('anxin_bytes_received_total');
  const udpFrames = c['udp.frame'] ?? 0;
  const udpMarkers = c['udp.markers'] ?? 0;
  const lo = (c['tcp.confirmedFrames'] ?? 0) + sos.frames;
  const hi = lo + (c['tcp.unconfirmedFrames'] ?? 0) + udpFrames + udpMarkers;
  const seen = frames + dropped;
  const wireBytes = (c['tcp.wireBytes'] ?? 0) + (c['udp.bytes'] ?? 0) + sos.bytes;
  const udpErrors = { oversized: c['udp.oversized'] ?? 0, not_a_frame: c['udp.not_a_frame'] ?? 0 };
  const got = Object.entries(c)
    .filter(([k]) => k.startsWith('reply.') && !['reply.invalid', 'reply.suspicious', 'reply.junkBytes', 'reply.binaryForm'].includes(k))
    .reduce((a, [, v]) => a + v, 0);
  const sent = Object.values(replies).reduce((a, v) => a + v, 0);
  const holds = seen >= lo && seen <= hi && bytesRead <= wireBytes && got + sos.replies <= sent && (bad.oversized ?? 0) <= udpErrors.oversized && (bad.not_a_frame ?? 0) >= 0;
  const udpLost = udpFrames + udpMarkers - (seen - lo - (c['tcp.unconfirmedFrames'] ?? 0));
  return {
    holds,
    checksOk: !(c['reply.invalid'] ?? 0) && !(c['reply.suspicious'] ?? 0),
    written: {
      inputs: run.inputs,
      tcp: { inputs: c['tcp.inputs'] ?? 0, fillerAndMarkerFrames: c['tcp.fillerFrames'] ?? 0, bytes: c['tcp.wireBytes'] ?? 0, batches: c['tcp.batches'] ?? 0, confirmedBatches: c['tcp.confirmedBatches'] ?? 0, splitWrites: c.splitWrites ?? 0 },
      udp: { inputs: c['udp.inputs'] ?? 0, datagrams: c['udp.datagrams'] ?? 0, markers: udpMarkers, bytes: c['udp.bytes'] ?? 0, sendErrors: c['udp.sendErrors'] ?? 0 },
      sosPanels: sos,
      inputsByKind: Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('in.')).map(([k, v]) => [k.slice(3), v])),
    },
    framingRules: {
      tcpFramesConfirmedBatches: c['tcp.confirmedFrames'] ?? 0,
      tcpFramesAllBatches: (c['tcp.confirmedFrames'] ?? 0) + (c['tcp.unconfirmedFrames'] ?? 0),
      tcpOversized: (c['tcp.confirmedOversized'] ?? 0) + (c['tcp.unconfirmedOversized'] ?? 0),
      tcpGarbageBytes: (c['tcp.confirmedGarbageBytes'] ?? 0) + (c['tcp.unconfirmedGarbageBytes'] ?? 0),
      udpFrames,
      udpErrors,
    },
    gateway: { bytesRead, framesCounted: frames, framesDroppedAtClose: dropped, badFramesByReason: bad, bytesDiscarded: discarded, replies, repliesByReason: replyReasons, unknownAccount: unknown, connectionsClosed: byLabel(all, 'anxin_connections_closed_total', 'reason') },
    fuzzerReplies: Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('reply.')).map(([k, v]) => [k.slice(6), v])),
    udpDatagramsNotCounted: udpLost,
    summary:
      `${n(run.inputs)} inputs (TCP ${n(c['tcp.inputs'] ?? 0)}, UDP ${n(c['udp.inputs'] ?? 0)}) + ${n(c['tcp.fillerFrames'] ?? 0)} TCP NULL fillers/markers + ${n(udpMarkers)} UDP markers (+ ${sos.frames} SOS panel frames) formed ` +
      `${n(lo)}–${n(hi)} frames by the LF…CR / 4 KB / datagram rules; the gateway counted ${n(frames)} + ${n(dropped)} dropped at close (UDP datagrams not counted: ${n(udpLost)}); ` +
      `replies ${Object.entries(replies).map(([k, v]) => `${k} ${n(v)}`).join(', ')}, ${n(got + sos.replies)} read by the fuzzers and panels; ${n(unknown)} unknown account; ` +
      `bytes read ${n(bytesRead)} of ${n(wireBytes)} written ${holds ? '✓' : '✗ MISMATCH'}; replies checked: ${n(c['reply.invalid'] ?? 0)} invalid, ${n(c['reply.suspicious'] ?? 0)} suspicious`,
  };
}
