/**
 * Watch protocol codec (protocols/watch/): real frames from ../shared/vectors/device-frames.json (key "watch"),
 * framing, encoder bytes, and fuzzing. Frames written out literally below are synthetic (made for one rule)
 * or the command examples printed in protocols.md §1.5; the captured device frames are only read from the vectors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALARM_KINDS, MESSAGE_KINDS, type AlarmKind, type DeviceMessage, type FrameEvent } from '../../../protocols/message.js';
import {
  WATCH_COMMANDS,
  WatchCommandError,
  WatchFramer,
  decodeWatch,
  encodeWatchCommand,
  escapeWatch,
  parseWatchHeader,
  watchProtocol,
  writeWatchFrame,
  type WatchCommand,
  type WatchHeader,
} from '../../../protocols/watch/index.js';
import { ALARM_STATUS_BITS, EVENT_BITS, STATE_BITS } from '../../../protocols/watch/status-bits.js';
import { loadVectors } from '../../helpers/vectors.js';

const vectors = loadVectors();
const W = vectors?.watch;
const ctx = { receivedAt: new Date('2026-01-01T00:00:00Z') };

function decodeOne(frame: string | Buffer): { msg: DeviceMessage; reply?: string } {
  const out = decodeWatch(typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame, ctx);
  if (!out.ok) throw new Error(`decode failed: ${out.reason}`);
  expect(out.messages).toHaveLength(1);
  return { msg: out.messages[0]!, reply: out.reply?.toString('latin1') };
}

function frames(events: FrameEvent[]): string[] {
  return events.flatMap((e) => ('frame' in e ? [e.frame.toString('latin1')] : []));
}

/** digits after the decimal point in the vector's number, so "to the given precision" means what it says */
function decimals(n: number): number {
  const s = String(n);
  return s.includes('.') ? s.length - s.indexOf('.') - 1 : 0;
}

/** Status bit → alarm: the table the decoder itself uses (protocols/watch/status-bits.ts, protocols.md §1.4). */
const EVENT_BIT_ALARM = new Map<number, AlarmKind>(ALARM_STATUS_BITS);
/** Traccar's single alarm, as an Anxin kind ('general' = AL with no bit → unspecified alarm raised as sos). */
const TRACCAR_ALARM: Record<string, AlarmKind> = { sos: 'sos', fallDown: 'fall', removing: 'removed', lowBattery: 'low_battery', general: 'sos' };

/** Values stated in protocols.md §1.6 that the JSON "parsed" block does not carry, keyed by `deviceId type`. */
const EXTRA: Record<string, { cells?: number; mcc?: number; mnc?: number; lac?: number; cid?: number; wifis?: number; accuracy?: number }> = {
  '8800000015 UD': { cells: 4, mcc: 460, mnc: 0 },
  '2104134718 UD_WCDMA': { cells: 1, mcc: 310, mnc: 410, lac: 23999, cid: 132013696, wifis: 1, accuracy: 8.263865 },
  '8809008845 AL': { cells: 7, mcc: 460 },
  '689466020014198 AL': { cells: 1, wifis: 6 },
  '9059011020 AL': { cells: 1, mcc: 234, lac: 0x55c0, cid: 0x3b882a2, accuracy: 10 },
};

/** Types answered although the vectors give no serverReply (vendor document, protocols.md §1.2). */
const VENDOR_REPLY: Record<string, string> = { bphrt: 'bphrt', btemp2: 'btemp2' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function checkParsed(msg: DeviceMessage, reply: string | undefined, p: any, v: any): void {
  const header = parseWatchHeader(Buffer.from(v.frame as string));
  expect(header).toEqual({ manufacturer: p.manufacturer, deviceId: p.deviceId, ...(p.index ? { index: p.index } : {}) });
  expect(msg.deviceId).toBe(p.deviceId);
  expect(msg.protocol).toBe('watch');
  expect(msg.raw).toBe(v.frame);
  if (p.fixTimeUtc) expect(msg.deviceTime?.toISOString()).toBe(new Date(p.fixTimeUtc).toISOString());
  if (p.valid !== undefined) {
    const pos = msg.position!;
    expect(pos.valid).toBe(p.valid);
    if (p.valid) expect(pos.source).toBe('gps');
    else expect(['lbs', 'wifi']).toContain(pos.source);
    expect(pos.lat).toBeCloseTo(p.lat, decimals(p.lat));
    expect(pos.lon).toBeCloseTo(p.lon, decimals(p.lon));
    expect(pos.speed).toBeCloseTo(p.speedKmh, decimals(p.speedKmh));
    expect(pos.course).toBeCloseTo(p.course, decimals(p.course));
    expect(pos.altitude).toBeCloseTo(p.altitude, decimals(p.altitude));
    expect(pos.satellites).toBe(p.satellites);
    expect(msg.signal).toBe(p.gsmSignal);
    expect(msg.battery).toBe(p.batteryPct);
    expect(msg.health?.steps).toBe(p.steps);
    expect(msg.health?.tumbles).toBe(p.tumbles);
  }
  if (p.statusBitsSet) {
    const bits: number[] = p.statusBitsSet;
    const isAl = String(p.type).startsWith('AL');
    let want = bits.filter((b) => EVENT_BIT_ALARM.has(b)).map((b) => EVENT_BIT_ALARM.get(b)!);
    if (isAl && !bits.some((b) => b >= EVENT_BITS.first && b <= EVENT_BITS.last)) want = bits.includes(STATE_BITS.lowBattery) ? ['low_battery'] : ['sos'];
    expect(msg.alarms ?? []).toEqual(want);
    if (p.traccarAlarm && isAl) expect(msg.alarms).toContain(TRACCAR_ALARM[p.traccarAlarm]);
    if (p.traccarAlarm === 'general') expect(msg.states?.unspecifiedAlarm).toBe(true);
    expect(msg.kind).toBe(isAl ? 'alarm' : 'position');
    expect(msg.states?.static ?? false).toBe(bits.includes(STATE_BITS.static));
    expect(msg.states?.worn ?? false).toBe(bits.includes(STATE_BITS.worn));
    expect(msg.states?.lowBattery ?? false).toBe(bits.includes(STATE_BITS.lowBattery));
  }
  const extra = EXTRA[`${p.deviceId} ${p.type}`];
  if (extra) {
    if (extra.cells !== undefined) expect(msg.cells ?? []).toHaveLength(extra.cells);
    if (extra.mcc !== undefined) expect(msg.cells![0]!.mcc).toBe(extra.mcc);
    if (extra.mnc !== undefined) expect(msg.cells![0]!.mnc).toBe(extra.mnc);
    if (extra.lac !== undefined) expect(msg.cells![0]!.lac).toBe(extra.lac);
    if (extra.cid !== undefined) expect(msg.cells![0]!.cid).toBe(extra.cid);
    if (extra.wifis !== undefined) expect(msg.wifis ?? []).toHaveLength(extra.wifis);
    if (extra.accuracy !== undefined) expect(msg.position?.accuracy).toBeCloseTo(extra.accuracy, decimals(extra.accuracy));
  }
  const e = v.expected;
  if (e) {
    if (e.steps !== undefined) expect(msg.health?.steps).toBe(e.steps);
    if (e.tumbles !== undefined) expect(msg.health?.tumbles).toBe(e.tumbles);
    if (e.batteryPct !== undefined) expect(msg.battery).toBe(e.batteryPct);
    for (const k of ['spo2', 'systolic', 'diastolic', 'heartRate'] as const) if (e[k] !== undefined) expect(msg.health?.[k]).toBe(e[k]);
    if (e.bodyTempC !== undefined) expect(msg.health?.temperature).toBeCloseTo(e.bodyTempC, 2);
    if (e.spo2 ?? e.systolic ?? e.heartRate ?? e.bodyTempC) expect(msg.kind).toBe('health');
  }
  if (v.serverReply) expect(reply).toBe(v.serverReply);
  else if (VENDOR_REPLY[p.type]) {
    const content = VENDOR_REPLY[p.type]!;
    const idx = p.index ? `${p.index}*` : '';
    expect(reply).toBe(`[${p.manufacturer}*${p.deviceId}*${idx}${content.length.toString(16).toUpperCase().padStart(4, '0')}*${content}]`);
  } else expect(reply).toBeUndefined();
}

describe.skipIf(!vectors)('watch: shared vectors (device-frames.json "watch")', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const list: any[] = W?.frames ?? [];
  it('has frames to check', () => expect(list.length).toBeGreaterThan(20));

  for (const v of list) {
    it(`${v.parsed.type} ${v.parsed.deviceId}: ${String(v.note).slice(0, 60)}`, () => {
      const { msg, reply } = decodeOne(v.frame);
      checkParsed(msg, reply, v.parsed, v);
    });
  }

  it('framing: concatenated stream gives 4 frames', () => {
    const c = W.framing.concatenatedStream;
    expect(frames(new WatchFramer().push(Buffer.from(c.input)))).toEqual(c.expectedFrames);
    for (const f of c.expectedFrames) expect(decodeWatch(Buffer.from(f), ctx).ok).toBe(true);
  });

  it('framing: SSID with brackets stays inside one frame, and decodes', () => {
    const n = W.framing.nestedBracketsInSsid;
    const events = new WatchFramer().push(Buffer.from(n.input));
    expect(frames(events)).toEqual([n.input]);
    const { msg, reply } = decodeOne(n.input);
    checkParsed(msg, reply, n.parsed, { frame: n.input });
    expect(msg.wifis?.some((w) => w.ssid === '[LG_Wall-Mount A/C]e725')).toBe(true);
    expect(msg.position?.accuracy).toBe(15);
  });

  it('framing: escaped binary is un-escaped in the emitted frame', () => {
    const e = W.framing.escapedBinary;
    const input = Buffer.concat([Buffer.from(e.prefix), Buffer.from(e.inputHexAfterPrefix, 'hex'), Buffer.from(e.suffix)]);
    const [ev] = new WatchFramer().push(input);
    expect(ev && 'frame' in ev).toBe(true);
    const frame = (ev as { frame: Buffer }).frame;
    expect(frame.subarray(e.prefix.length, frame.length - e.suffix.length).toString('hex')).toBe(e.unescapedHex);
    // and escaping it again gives the device's bytes back
    expect(escapeWatch(Buffer.from(e.unescapedHex, 'hex')).toString('hex')).toBe(e.inputHexAfterPrefix);
    // binary frames are kept as hex in raw, decode as status, no reply
    const out = decodeWatch(frame, ctx);
    expect(out.ok && out.messages[0]!.kind).toBe('status');
    expect(out.ok && out.messages[0]!.raw).toBe(frame.toString('hex'));
    expect(out.ok && out.reply).toBeUndefined();
  });

  /**
   * The vector commands come from Traccar's encoder test, which writes LEN in lower case (`000e`); the vendor
   * writes upper case (`000A`). Our default is upper case; `hexCase: 'lower'` reproduces Traccar byte for byte,
   * so these are compared exactly with that option, and case-insensitively on LEN only with the default.
   */
  const BY_NOTE: Record<string, WatchCommand> = {
    reboot: { type: 'RESET' },
    'SOS number 1': { type: 'SOS1', number: '123456789' },
    "text 'text' as UTF-16BE hex": { type: 'MESSAGE', text: 'text' },
    custom: { type: 'custom', content: 'WORK,6-9,11-13,13-15,17-19' },
    'timezone Europe/Amsterdam (language empty)': { type: 'LZ', language: '', timezone: '+1' },
    'language 0, GMT+05:45': { type: 'LZ', language: 0, timezone: '+5.75' },
  };
  for (const [bytes, note] of (W?.serverCommands ?? []) as [string, string][]) {
    it(`serverCommand: ${note}`, () => {
      const cmd = BY_NOTE[note];
      expect(cmd, `no command mapped for vector note "${note}"`).toBeDefined();
      const header = parseWatchHeader(Buffer.from(bytes))!;
      expect(encodeWatchCommand(header, cmd!, { hexCase: 'lower' }).toString('latin1')).toBe(bytes);
      const upper = encodeWatchCommand(header, cmd!).toString('latin1');
      const lenCaseInsensitive = (s: string): string => s.replace(/^(\[[^*]+\*[^*]+\*)([0-9A-Fa-f]{4})/, (_m, a: string, len: string) => a + len.toUpperCase());
      expect(lenCaseInsensitive(upper)).toBe(lenCaseInsensitive(bytes));
    });
  }
});

describe('watch: decoder rules (synthetic frames)', () => {
  const ud = (status: string, type = 'UD', tail = '0'): string =>
    `[3G*1234567890*0000*${type},010226,080910,A,22.5,N,113.8,E,1.5,90,10,8,70,55,120,3,${status},${tail}]`;

  it('every status bit is decoded on its own; several events at once', () => {
    const { msg, reply } = decodeOne(ud('00310001'));
    expect(msg.kind).toBe('position');
    expect(msg.alarms).toEqual(['sos', 'removed', 'fall']);
    expect(msg.states).toMatchObject({ lowBattery: true, worn: false, static: false });
    expect(reply).toBeUndefined(); // UD is never answered, alarm bits or not
  });

  it('states: one flag per STATE_BITS entry, in the order of the table', () => {
    const { msg } = decodeOne(ud('000C401F'));
    expect(Object.keys(msg.states!)).toEqual(Object.keys(STATE_BITS));
    expect(Object.values(msg.states!).every((v) => v)).toBe(true);
    expect(Object.values(decodeOne(ud('00000000')).msg.states!).some((v) => v)).toBe(false);
  });

  it('bits 17 and 22 raise low_battery and vitals_abnormal; bit 14 is powerCut state', () => {
    const { msg } = decodeOne(ud('00424000', 'AL'));
    expect(msg.alarms).toEqual(['low_battery', 'vitals_abnormal']);
    expect(msg.states?.powerCut).toBe(true);
  });

  it("the watch's own fence: bit 18 raises geofence_exit, bit 19 alone restores it; both are states too", () => {
    const both = decodeOne(ud('000C0006', 'AL'));
    expect(both.msg.alarms).toEqual(['geofence_exit']);
    expect(both.msg.restores).toBeUndefined();
    expect(both.msg.states).toMatchObject({ deviceFenceExit: true, deviceFenceEnter: true, outOfFence: true, inFence: true });
    expect(both.msg.states?.unspecifiedAlarm).toBeUndefined();
    expect(both.reply).toBe('[3G*1234567890*0002*AL]');
    const exit = decodeOne(ud('00040002', 'AL'));
    expect(exit.msg.alarms).toEqual(['geofence_exit']);
    const enter = decodeOne(ud('00080004', 'AL'));
    expect(enter.msg.alarms).toBeUndefined();
    expect(enter.msg.restores).toEqual(['geofence_exit']);
    expect(enter.msg.states?.unspecifiedAlarm).toBeUndefined();
    expect(enter.reply).toBe('[3G*1234567890*0002*AL]');
  });

  it('AL with no event bit: low battery state → low_battery, otherwise unspecified → sos', () => {
    expect(decodeOne(ud('0001', 'AL')).msg.alarms).toEqual(['low_battery']);
    const { msg } = decodeOne(ud('00000018', 'AL_LTE'));
    expect(msg.alarms).toEqual(['sos']);
    expect(msg.states).toMatchObject({ unspecifiedAlarm: true, worn: true, static: true });
  });

  it('malformed AL still raises and is acknowledged (never lose an SOS to a parse error)', () => {
    const { msg, reply } = decodeOne('[3G*1234567890*0002*AL]');
    expect(msg.kind).toBe('alarm');
    expect(msg.alarms).toEqual(['sos']);
    expect(reply).toBe('[3G*1234567890*0002*AL]');
    const bad = decodeOne('[3G*1234567890*0000*AL,010226,080910,A,xx,N,1,E,0,0,0,0,0,0,0,0,00200000]');
    expect(bad.msg.alarms).toEqual(['fall']);
    expect(bad.msg.position).toBeUndefined();
    expect(bad.msg.deviceTime?.toISOString()).toBe('2026-02-01T08:09:10.000Z');
  });

  it('hemisphere: S/W force negative, else the sign in the number; spaces and empty hemispheres allowed', () => {
    const pos = (lat: string, ns: string, lon: string, ew: string) =>
      decodeOne(`[3G*1*0000*UD,010226,080910,A,${lat},${ns},${lon},${ew},0,0,0,0,0,0,0,0,00000000]`).msg.position!;
    expect(pos('33.5', 'S', '70.25', 'W')).toMatchObject({ lat: -33.5, lon: -70.25 });
    expect(pos('-33.5', 'S', '-70.25', 'W')).toMatchObject({ lat: -33.5, lon: -70.25 });
    expect(pos('-33.5', 'N', '-70.25', 'E')).toMatchObject({ lat: -33.5, lon: -70.25 });
    expect(pos(' 9.1574736', '', '  4.5', '')).toMatchObject({ lat: 9.1574736, lon: 4.5 });
  });

  it('invalid fix: source wifi when access points are present, else lbs', () => {
    const base = '[3G*1*0000*UD,010226,080910,V,0,N,0,E,0,0,0,0,0,0,0,0,00000000';
    expect(decodeOne(`${base},1,1,460,0,55C0,3B882A2,-70,0,20]`).msg.position).toMatchObject({ valid: false, source: 'lbs', accuracy: 20 });
    const w = decodeOne(`${base},0,2,home,aa:bb:cc:dd:ee:ff,-50,,11:22:33:44:55:66,-60,35.5]`).msg;
    expect(w.position).toMatchObject({ valid: false, source: 'wifi', accuracy: 35.5 });
    expect(w.wifis).toEqual([
      { ssid: 'home', mac: 'aa:bb:cc:dd:ee:ff', rssi: -50 },
      { ssid: '', mac: '11:22:33:44:55:66', rssi: -60 },
    ]);
  });

  it('cells: hex LAC/CID, decimal otherwise; a broken tail keeps the position', () => {
    const { msg } = decodeOne(ud('00000000', 'UD', '2,255,460,1,55C0,3B882A2,-70,9529,21809,158'));
    expect(msg.cells).toEqual([
      { mcc: 460, mnc: 1, lac: 0x55c0, cid: 0x3b882a2, rssi: -70 },
      { mcc: 460, mnc: 1, lac: 9529, cid: 21809, rssi: 158 },
    ]);
    const broken = decodeOne(ud('00000000', 'UD', '9,255,460,1,zz'));
    expect(broken.msg.position?.lat).toBe(22.5);
    expect(broken.msg.cells).toBeUndefined();
  });

  it('malformed position frames give short reasons', () => {
    const r = (s: string) => decodeWatch(Buffer.from(s), ctx);
    expect(r('[3G*1*0000*UD,010226,080910,A,95.0,N,1,E,0,0,0,0,0,0,0,0,00000000]')).toEqual({ ok: false, reason: 'bad_position' });
    expect(r('[3G*1*0000*UD,010226,080910,A,1,Q,1,E,0,0,0,0,0,0,0,0,00000000]')).toEqual({ ok: false, reason: 'bad_position' });
    expect(r('[3G*1*0000*UD,010226,080910,A,1,N,1,E]')).toEqual({ ok: false, reason: 'bad_position' });
    expect(r('[3G*1*0000*UD,010226,080910,A,1,N,1,E,fast,0,0,0,0,0,0,0,00000000]')).toEqual({ ok: false, reason: 'bad_number' });
    expect(r('[3G*1*0000*UD,010226,080910,A,1,N,1,E,0,0,0,0,0,0,0,0,nothex]')).toEqual({ ok: false, reason: 'bad_status' });
    expect(r('[3G*1*0000*heart,abc]')).toEqual({ ok: false, reason: 'bad_number' });
    expect(r('[3G*12a*0002*LK]')).toEqual({ ok: false, reason: 'bad_header' });
    expect(r('[3G*1*02*LK]')).toEqual({ ok: false, reason: 'bad_header' });
    expect(r('3G*1*0002*LK')).toEqual({ ok: false, reason: 'bad_header' });
    expect(r('[3G*1*0000*]')).toEqual({ ok: false, reason: 'bad_type' });
    expect(r('')).toEqual({ ok: false, reason: 'bad_header' });
  });

  it('a date that is not a date leaves deviceTime unset instead of failing the frame', () => {
    const { msg } = decodeOne('[3G*1*0000*UD,000000,000000,V,0,N,0,E,0,0,0,0,0,0,0,0,00000000]');
    expect(msg.deviceTime).toBeUndefined();
    expect(msg.position).toBeDefined();
  });

  it('health: heart,0 means no reading; readings with replies where the vendor asks for one', () => {
    const h0 = decodeOne('[3G*1*0007*heart,0]');
    expect(h0.msg.kind).toBe('health');
    expect(h0.msg.health?.heartRate).toBeUndefined();
    expect(h0.reply).toBeUndefined();
    expect(decodeOne('[3G*1*0000*btemp2,1,0]').msg.health?.temperature).toBeUndefined(); // vendor: 0 = measure error
    expect(decodeOne('[3G*1*0000*btemp2,0,36.6]').reply).toBe('[3G*1*0006*btemp2]');
    expect(decodeOne('[3G*1*0000*bphrt,0,0,66,,,,]').msg.health).toEqual({ heartRate: 66 });
  });

  it('LK: data, ZJ index echo, and an answer even when the data is junk', () => {
    expect(decodeOne('[3G*4700186508*0000*LK,50,100,100]').msg).toMatchObject({ kind: 'heartbeat', battery: 100, health: { steps: 50, tumbles: 100 } });
    expect(decodeOne('[ZJ*5678901234*0009*0002*LK]').reply).toBe('[ZJ*5678901234*0009*0002*LK]');
    const junk = decodeOne('[3g*1*0000*LK,x,y,z]');
    expect(junk.msg.battery).toBeUndefined();
    expect(junk.reply).toBe('[3g*1*0002*LK]'); // manufacturer echoed as the device wrote it
  });

  it('status types and their replies: TKQ, TKQ2, INIT, CONFIG', () => {
    expect(decodeOne('[3G*1*0004*TKQ2]').reply).toBe('[3G*1*0004*TKQ2]');
    expect(decodeOne('[ZJ*1*0005*0000*INIT,13800138000,1,abc]')).toMatchObject({ msg: { kind: 'status' }, reply: '[ZJ*1*0005*0006*INIT,1]' });
    expect(decodeOne('[3G*1*0000*CONFIG,TY:G75,UL:600,SY:1,CM:1]').reply).toBe('[3G*1*0008*CONFIG,1]');
  });

  it('command echoes become status with commandEcho and no reply', () => {
    for (const [frame, keyword, args] of [
      ['[3G*1*0002*CR]', 'CR', []],
      ['[3G*1*0006*UPLOAD]', 'UPLOAD', []],
      ['[3G*1*0007*LSSET,5]', 'LSSET', ['5']],
      ['[3G*1*0008*hrtstart]', 'hrtstart', []],
      ['[3G*1*0004*SOS1]', 'SOS1', []],
      ['[3G*1*0003*PHB]', 'PHB', []],
    ] as const) {
      const { msg, reply } = decodeOne(frame);
      expect(msg.kind).toBe('status');
      expect(msg.commandEcho).toEqual({ keyword, args });
      expect(reply).toBeUndefined();
    }
  });

  it('unknown types are kept raw as status, without a reply', () => {
    const { msg, reply } = decodeOne('[3G*1*0000*WHATEVER,1,2]');
    expect(msg).toMatchObject({ kind: 'status', raw: '[3G*1*0000*WHATEVER,1,2]' });
    expect(msg.commandEcho).toBeUndefined();
    expect(reply).toBeUndefined();
  });
});

/**
 * The decoder reads fields straight from the bytes, with fast paths for the usual forms and the original string
 * rules (protocols/watch/rules.ts) for anything else; these frames sit on the edges between the two.
 */
describe('watch: field reading edge cases', () => {
  const base = '010226,080910,A';

  it('odd number formatting: signs, spaces, a leading dot, leading zeros, lower-case hemispheres and hex; -0 keeps its sign', () => {
    const { msg } = decodeOne(`[3G*1*0000*UD,${base},+22.5,n, .5 ,e,+1.5, 90 ,-1,08,+70,55,-0,3,0000000a,0]`);
    expect(msg.position).toEqual({ lat: 22.5, lon: 0.5, valid: true, source: 'gps', speed: 1.5, course: 90, altitude: -1, satellites: 8 });
    expect(msg.signal).toBe(70);
    expect(msg.battery).toBe(55);
    expect(Object.is(msg.health?.steps, -0)).toBe(true);
    expect(msg.health?.tumbles).toBe(3);
    expect(msg.states).toMatchObject({ outOfFence: true, worn: true, lowBattery: false }); // 0x0a = bits 1 and 3
  });

  it('long numbers: 13-15 decimal digits stay decimal, 12 hex digits are hex, 13 are garbage; more than 15 digits go through Number()', () => {
    const tail = (cid: string, acc: string) =>
      `[3G*1*0000*UD,${base},22.5,N,113.8,E,0,0,0,0,0,0,0,0,00000000,1,1,460,0,1234567890123,${cid},-70,0,${acc}]`;
    const ok = decodeOne(tail('ABCDEF012345', '1234567890123456')).msg;
    expect(ok.cells).toEqual([{ mcc: 460, mnc: 0, lac: 1234567890123, cid: 0xabcdef012345, rssi: -70 }]);
    expect(ok.position?.accuracy).toBe(1234567890123456);
    const broken = decodeOne(tail('FFFFFFFFFFFFF', '12.5')).msg;
    expect(broken.cells).toBeUndefined(); // the tail stops at the bad CID: no cells, no accuracy
    expect(broken.position?.accuracy).toBeUndefined();
    const precise = decodeOne(`[3G*1*0000*UD,${base},22.123456789012345678,N,0.1,E,0,0,0,0,0,0,0,0,00000000]`).msg;
    expect(precise.position?.lat).toBe(Number('22.123456789012345678'));
    expect(precise.position?.lon).toBe(0.1);
    expect(decodeWatch(Buffer.from(`[3G*1*0000*UD,${base},1e1,N,1,E,0,0,0,0,0,0,0,0,0]`), ctx)).toEqual({ ok: false, reason: 'bad_position' });
  });

  it('control characters are trimmed like spaces, and make raw hex', () => {
    const frame = Buffer.from('[3G*1*0000*LK,\t12\t,0,80]');
    const { msg, reply } = decodeOne(frame);
    expect(msg.health).toEqual({ steps: 12, tumbles: 0 });
    expect(msg.battery).toBe(80);
    expect(msg.raw).toBe(frame.toString('hex'));
    expect(reply).toBe('[3G*1*0002*LK]');
  });

  it('UTF-8 content is read as text: SSID kept, Unicode spaces trimmed, raw stays text', () => {
    const text = `[3G*1*0000*UD,010226,080910,V,0,N,0,E,0,0,0,0,0,0,0,0,00000000,0,1,咖啡店,aa:bb:cc:dd:ee:ff,\u00a0-60\u3000,5]`;
    const { msg } = decodeOne(Buffer.from(text, 'utf8'));
    expect(msg.wifis).toEqual([{ ssid: '咖啡店', mac: 'aa:bb:cc:dd:ee:ff', rssi: -60 }]);
    expect(msg.position).toMatchObject({ source: 'wifi', accuracy: 5 });
    expect(msg.raw).toBe(text);
  });

  it('bytes that are not UTF-8 (cut characters next to the brackets) are read as the old UTF-8 decoding read them', () => {
    const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const lk = bytes('[3G*1*0000*LK,1,2,3,', [0xe5, 0x92], ']');
    const { msg, reply } = decodeOne(lk);
    expect(msg).toMatchObject({ kind: 'heartbeat', battery: 3, health: { steps: 1, tumbles: 2 }, raw: lk.toString('hex') });
    expect(reply).toBe('[3G*1*0002*LK]');
    expect(decodeWatch(bytes('[3G*1*0000*heart,72', [0xe5], ']'), ctx)).toEqual({ ok: false, reason: 'bad_number' });
    expect(decodeOne(bytes('[3G*1*0000*', [0x92], 'LK,1,2,3]')).msg).toMatchObject({ kind: 'status' }); // the type is not LK
  });

  it('case is folded as String#toUpperCase folds it (U+017F ſ is S)', () => {
    const echo = decodeOne(Buffer.from('[3G*1*0000*ſos,1]', 'utf8')).msg;
    expect(echo.commandEcho).toEqual({ keyword: 'ſos', args: ['1'] });
    const south = decodeOne(Buffer.from(`[3G*1*0000*UD,${base},22.5,ſ,113.8,E,0,0,0,0,0,0,0,0,00000000]`, 'utf8')).msg;
    expect(south.position?.lat).toBe(-22.5);
  });

  it('dates: leap days, impossible days, and the last second of a year', () => {
    const at = (date: string, time: string) => decodeOne(`[3G*1*0000*UD,${date},${time},A,1,N,1,E,0,0,0,0,0,0,0,0,0]`).msg.deviceTime?.toISOString();
    expect(at('290224', '235959')).toBe('2024-02-29T23:59:59.000Z');
    expect(at('290200', '000000')).toBe('2000-02-29T00:00:00.000Z');
    expect(at('290223', '000000')).toBeUndefined();
    expect(at('310426', '000000')).toBeUndefined();
    expect(at('311299', '235959')).toBe('2099-12-31T23:59:59.000Z');
    expect(at('010226', '240000')).toBeUndefined();
    expect(at('0102260', '080910')).toBeUndefined();
    expect(at(' 10226', '080910')).toBeUndefined(); // date and time are not trimmed
  });

  it('fewer than 16 fields is bad_position even when an earlier field is garbage', () => {
    expect(decodeWatch(Buffer.from(`[3G*1*0000*UD,${base},1,N,1,E,fast,0,0,0,0,0,0]`), ctx)).toEqual({ ok: false, reason: 'bad_position' });
    expect(decodeWatch(Buffer.from(`[3G*1*0000*UD,${base},1,N,1,E,fast,0,0,0,0,0,0,0,00000000]`), ctx)).toEqual({ ok: false, reason: 'bad_number' });
  });

  it('a cell or an access point is only taken with all three of its fields', () => {
    const cells = decodeOne(`[3G*1*0000*UD,${base},1,N,1,E,0,0,0,0,0,0,0,0,0,2,1,460,0,1,2,-50,3,4]`).msg;
    expect(cells.cells).toEqual([{ mcc: 460, mnc: 0, lac: 1, cid: 2, rssi: -50 }]);
    const aps = decodeOne('[3G*1*0000*UD,010226,080910,V,1,N,1,E,0,0,0,0,0,0,0,0,0,0,2,a,m1,-1,b,m2]').msg;
    expect(aps.wifis).toEqual([{ ssid: 'a', mac: 'm1', rssi: -1 }]);
    expect(aps.position?.accuracy).toBeUndefined();
  });

  it('oxygen: with two values the second is the SpO2', () => {
    expect(decodeOne('[3G*1*0000*oxygen,97]').msg.health).toEqual({ spo2: 97 });
    expect(decodeOne('[3G*1*0000*oxygen,x,97]').msg.health).toEqual({ spo2: 97 });
    expect(decodeWatch(Buffer.from('[3G*1*0000*oxygen,97,x]'), ctx)).toEqual({ ok: false, reason: 'bad_number' });
  });

  it('header: 32-digit ids pass, 33 do not; a 4-hex token and * after LEN is read as the ZJ index', () => {
    const id32 = '1'.repeat(32);
    expect(decodeOne(`[3G*${id32}*0002*LK]`).reply).toBe(`[3G*${id32}*0002*LK]`);
    expect(decodeWatch(Buffer.from(`[3G*${id32}1*0002*LK]`), ctx)).toEqual({ ok: false, reason: 'bad_header' });
    expect(parseWatchHeader(Buffer.from('[3G*1*0002*BEEF*x]'))).toEqual({ manufacturer: '3G', deviceId: '1', index: '0002' });
    expect(decodeOne('[3G*1*0002*BEEF*x]').msg).toMatchObject({ kind: 'status', raw: '[3G*1*0002*BEEF*x]' });
    expect(decodeWatch(Buffer.from('[3G*1*0002]'), ctx)).toEqual({ ok: false, reason: 'bad_header' });
  });

  it('nothing is kept from one frame to the next', () => {
    const frames = [
      Buffer.from('[3G*1*0000*UD,010226,080910,V,0,N,0,E,0,0,0,0,0,0,0,0,00000000,0,1,咖啡店,aa:bb:cc:dd:ee:ff,-60,5]', 'utf8'),
      Buffer.from('[3G*2*0000*LK]'),
      Buffer.from('[3G*3*0000*LK,\t1,2,3]'),
      Buffer.from('[ZJ*4*0003*0000*AL,010226,080910,A,1,N,1,E,0,0,0,0,0,0,0]'),
      Buffer.from('[3G*5*0000*CR,a,b]'),
      Buffer.from('[3G*6*0000*bphrt,120,80,72,,,,]'),
    ];
    const alone = frames.map((f) => JSON.stringify(decodeWatch(f, ctx)));
    for (let round = 0; round < 3; round++) {
      for (const [i, f] of [...frames.entries()].reverse()) {
        parseWatchHeader(frames[(i + 1) % frames.length]!);
        expect(JSON.stringify(decodeWatch(f, ctx))).toBe(alone[i]);
      }
    }
  });
});

describe('watch: framer', () => {
  const stream = Buffer.concat([
    Buffer.from('[3G*9705141740*0009*LK,0,0,53][SG*1*0000*UD,010226,080910,A,1,N,1,E,0,0,0,0,0,0,0,0,00000000,0,2,[x]y,aa:bb:cc:dd:ee:ff,-50,'),
    Buffer.from('[Br]ok[en],11:22:33:44:55:66,-60,5][CS*1234567890*000e*TK,#!AMR'),
    Buffer.from('7d017d027d037d047d05ff', 'hex'),
    Buffer.from(']\r\nnoise[3G*1*0003*TKQ]'),
  ]);
  const whole = frames(new WatchFramer().push(stream));

  it('the sample stream holds 4 frames (nested brackets, escapes and noise included)', () => {
    expect(whole).toHaveLength(4);
    expect(whole[1]).toContain('[Br]ok[en]');
    expect(whole[2]).toContain('}[],*');
  });

  it('splitting the stream at every byte position gives identical frames', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new WatchFramer();
      expect(frames([...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))])).toEqual(whole);
    }
    const f = new WatchFramer();
    const oneByOne: FrameEvent[] = [];
    for (const b of stream) oneByOne.push(...f.push(Buffer.from([b])));
    expect(frames(oneByOne)).toEqual(whole);
  });

  it('many frames in one chunk', () => {
    const many = Array.from({ length: 500 }, (_, i) => `[3G*${1000 + i}*0002*LK]`);
    expect(frames(new WatchFramer().push(Buffer.from(many.join(''))))).toEqual(many);
  });

  it('garbage before and between frames is discarded and counted', () => {
    const events = new WatchFramer().push(Buffer.from('junk[3G*1*0002*LK]\r\n]x[3G*2*0002*LK]'));
    expect(events).toEqual([
      { error: 'garbage', discarded: 4 },
      { frame: Buffer.from('[3G*1*0002*LK]') },
      { error: 'garbage', discarded: 4 },
      { frame: Buffer.from('[3G*2*0002*LK]') },
    ]);
  });

  it('holds a partial frame and reports how much it holds', () => {
    const f = new WatchFramer();
    expect(f.push(Buffer.from('[3G*1*00'))).toEqual([]);
    expect(f.buffered).toBe(8);
    expect(frames(f.push(Buffer.from('02*LK]')))).toEqual(['[3G*1*0002*LK]']);
    expect(f.buffered).toBe(0);
  });

  it('a frame over 64 KiB is reported and the next frame still decodes', () => {
    const f = new WatchFramer();
    const big = Buffer.concat([Buffer.from('[3G*1*FFFF*TK,'), Buffer.alloc(70_000, 0x41), Buffer.from(']')]);
    const events: FrameEvent[] = [];
    for (let i = 0; i < big.length; i += 4096) {
      events.push(...f.push(big.subarray(i, i + 4096)));
      expect(f.buffered).toBeLessThanOrEqual(64 * 1024);
    }
    events.push(...f.push(Buffer.from('[3G*1*0002*LK]')));
    expect(events.filter((e) => 'error' in e && e.error === 'oversized')).toHaveLength(1);
    const discarded = events.reduce((n, e) => n + ('discarded' in e ? e.discarded : 0), 0);
    expect(discarded).toBe(big.length); // every byte of the oversized frame is accounted for
    expect(frames(events)).toEqual(['[3G*1*0002*LK]']);
    const out = decodeWatch(Buffer.from('[3G*1*0002*LK]'), ctx);
    expect(out.ok).toBe(true);
  });

  it('a frame of exactly maxFrame bytes passes; one byte more is oversized at its closing bracket', () => {
    const lk = '[3G*1*0002*LK]'; // 14 bytes
    const long = '[3G*1*00002*LK]'; // 15 bytes
    for (let cut = 0; cut <= lk.length + long.length; cut++) {
      const data = Buffer.from(lk + long);
      const f = new WatchFramer(14);
      const events = [...f.push(data.subarray(0, cut)), ...f.push(data.subarray(cut))];
      expect(events).toEqual([{ frame: Buffer.from(lk) }, { error: 'oversized', discarded: 15 }]);
      expect(f.buffered).toBe(0);
    }
  });

  it('an oversized frame that never closes does not swallow the frames after it', () => {
    const f = new WatchFramer();
    const events = [...f.push(Buffer.concat([Buffer.from('[3G*1*0000*TK,'), Buffer.alloc(66_000, 0x42)])), ...f.push(Buffer.from('[3G*1*0002*LK]'))];
    expect(events.some((e) => 'error' in e && e.error === 'oversized')).toBe(true);
    expect(frames(events)).toEqual(['[3G*1*0002*LK]']);
  });
});

describe('watch: encoder', () => {
  const h: WatchHeader = { manufacturer: '3G', deviceId: '8800000015' };
  const enc = (cmd: WatchCommand, header: WatchHeader = h) => encodeWatchCommand(header, cmd).toString('utf8');

  it('exact bytes with LEN = content byte length (protocols.md §1.5 examples)', () => {
    expect(enc({ type: 'UPLOAD', seconds: 600 })).toBe('[3G*8800000015*000A*UPLOAD,600]');
    expect(enc({ type: 'FALLDOWN', alarmOn: true, callOn: true })).toBe('[3G*8800000015*000C*FALLDOWN,1,1]');
    expect(enc({ type: 'FALLDOWN', alarmOn: true, callOn: false })).toBe('[3G*8800000015*000C*FALLDOWN,1,0]');
    expect(enc({ type: 'LSSET', level: 5, variant: '+8' }, { manufacturer: '3G', deviceId: '4504816144' })).toBe('[3G*4504816144*0009*LSSET,5+8]');
    expect(enc({ type: 'APPLOCK', setting: 'DW-1' }, { manufacturer: '3G', deviceId: '0304927626' })).toBe('[3G*0304927626*000C*APPLOCK,DW-1]');
    expect(enc({ type: 'CR' }, { manufacturer: '3G', deviceId: '5678901234' })).toBe('[3G*5678901234*0002*CR]');
    expect(enc({ type: 'FIND' }, { manufacturer: '3G', deviceId: '5678901234' })).toBe('[3G*5678901234*0004*FIND]');
    expect(enc({ type: 'POWEROFF' })).toBe('[3G*8800000015*0008*POWEROFF]');
    expect(enc({ type: 'RESET' })).toBe('[3G*8800000015*0005*RESET]');
    expect(enc({ type: 'SOS2', number: '+8613800138000' })).toBe('[3G*8800000015*0013*SOS2,+8613800138000]');
    expect(enc({ type: 'SOS', numbers: ['00000000000', '00000000000', '00000000000'] })).toBe('[3G*8800000015*0027*SOS,00000000000,00000000000,00000000000]');
    expect(enc({ type: 'SOS', numbers: ['110', '', '120'] })).toBe('[3G*8800000015*000C*SOS,110,,120]');
    expect(enc({ type: 'CENTER', number: '00000000000' })).toBe('[3G*8800000015*0012*CENTER,00000000000]');
    expect(enc({ type: 'LZ', language: 1, timezone: '8' })).toBe('[3G*8800000015*0006*LZ,1,8]');
    expect(enc({ type: 'hrtstart', interval: 1 })).toBe('[3G*8800000015*000A*hrtstart,1]');
    expect(enc({ type: 'hrtstart', interval: 300 })).toBe('[3G*8800000015*000C*hrtstart,300]');
    expect(enc({ type: 'MESSAGE', text: '好123' }, { manufacturer: '3G', deviceId: '5678901234' })).toBe('[3G*5678901234*0018*MESSAGE,597D003100320033]');
    expect(enc({ type: 'PHB', entries: [{ number: '110', name: '张三' }] })).toBe('[3G*8800000015*0010*PHB,110,5F204E09]');
    expect(enc({ type: 'PHB2', entries: [{ number: '110', name: '张三' }] })).toBe('[3G*8800000015*0011*PHB2,110,5F204E09]');
    expect(enc({ type: 'REMOVE', on: true }, { manufacturer: '3G', deviceId: '5678901234' })).toBe('[3G*5678901234*0008*REMOVE,1]');
  });

  it('LEN counts bytes, not characters, and is computed for long content', () => {
    const msg = enc({ type: 'MESSAGE', text: 'x'.repeat(100) });
    expect(msg.startsWith('[3G*8800000015*0198*MESSAGE,')).toBe(true); // 8 + 400 hex digits = 408 = 0x198
    expect(writeWatchFrame(h, 'X,é').toString('utf8')).toBe('[3G*8800000015*0004*X,é]'); // é is 2 bytes in UTF-8
  });

  it('ZJ dialect: downlink index 0001; manufacturer and id echoed', () => {
    expect(enc({ type: 'CR' }, { manufacturer: 'ZJ', deviceId: '689466020014198', index: '0003' })).toBe('[ZJ*689466020014198*0001*0002*CR]');
    expect(enc({ type: 'CR' }, { manufacturer: 'SG', deviceId: '1' })).toBe('[SG*1*0002*CR]');
  });

  it('bad arguments throw WatchCommandError with a clear message', () => {
    const bad: [WatchCommand, RegExp][] = [
      [{ type: 'UPLOAD', seconds: 59 }, /seconds must be an integer 60\.\.65535/],
      [{ type: 'UPLOAD', seconds: 65536 }, /seconds/],
      [{ type: 'UPLOAD', seconds: 600.5 }, /seconds/],
      [{ type: 'SOS1', number: '12a45' }, /phone number/],
      [{ type: 'SOS1', number: '123 456' }, /phone number/],
      [{ type: 'SOS1', number: '' }, /phone number/],
      [{ type: 'CENTER', number: '123*45' }, /phone number/],
      [{ type: 'SOS', numbers: ['1'] as unknown as [string, string, string] }, /exactly 3/],
      [{ type: 'LSSET', level: 7, variant: '+6' }, /level must be an integer 1\.\.6/],
      [{ type: 'LSSET', level: 0, variant: '+8' }, /level/],
      [{ type: 'LSSET', level: 3, variant: '+7' as '+6' }, /variant/],
      [{ type: 'hrtstart', interval: 100 }, /interval/],
      [{ type: 'LZ', timezone: '+15' }, /timezone/],
      [{ type: 'LZ', timezone: 'UTC+1' }, /timezone/],
      [{ type: 'MESSAGE', text: '' }, /text/],
      [{ type: 'PHB', entries: [] }, /1\.\.5/],
      [{ type: 'PHB', entries: [{ number: '110', name: 'a very long name' }] }, /name/],
      [{ type: 'APPLOCK', setting: 'DW-1]' }, /setting/],
      [{ type: 'FALLDOWN', alarmOn: 1 as unknown as boolean, callOn: true }, /alarmOn/],
      [{ type: 'custom', content: 'IP,1.2.3.4,80]' }, /brackets|\[ or \]/],
      [{ type: 'NOPE' } as unknown as WatchCommand, /unknown watch command/],
    ];
    for (const [cmd, re] of bad) {
      expect(() => encodeWatchCommand(h, cmd), JSON.stringify(cmd)).toThrow(WatchCommandError);
      expect(() => encodeWatchCommand(h, cmd)).toThrow(re);
    }
    expect(() => encodeWatchCommand({ manufacturer: '3G', deviceId: '12ab' }, { type: 'CR' })).toThrow(/deviceId/);
    expect(() => encodeWatchCommand({ manufacturer: '3GX', deviceId: '1' }, { type: 'CR' })).toThrow(/manufacturer/);
  });

  it('every encoded command decodes back as a command echo keyword (round trip of the keyword list)', () => {
    const samples: WatchCommand[] = [
      { type: 'CR' }, { type: 'UPLOAD', seconds: 60 }, { type: 'SOS', numbers: ['110', '120', '119'] }, { type: 'SOS1', number: '110' },
      { type: 'SOS2', number: '110' }, { type: 'SOS3', number: '110' }, { type: 'CENTER', number: '110' }, { type: 'FIND' },
      { type: 'POWEROFF' }, { type: 'RESET' }, { type: 'LZ', timezone: '-3.5' }, { type: 'FALLDOWN', alarmOn: false, callOn: false },
      { type: 'LSSET', level: 1, variant: '+6' }, { type: 'hrtstart', interval: 0 }, { type: 'MESSAGE', text: 'hi' },
      { type: 'PHB', entries: [{ number: '110', name: 'A' }] }, { type: 'PHB2', entries: [{ number: '110', name: 'B' }] },
      { type: 'APPLOCK', setting: 'YJ-0' }, { type: 'REMOVE', on: false }, { type: 'custom', content: 'VERNO' },
    ];
    expect(samples.map((s) => s.type)).toEqual([...WATCH_COMMANDS]);
    for (const s of samples) {
      const out = decodeWatch(encodeWatchCommand(h, s), ctx);
      expect(out.ok && out.messages[0]!.commandEcho?.keyword.toUpperCase()).toBe((s.type === 'custom' ? 'VERNO' : s.type).toUpperCase());
    }
  });
});

describe('watch: module', () => {
  it('exposes name, port, commands, framer and decoder', () => {
    expect(watchProtocol.name).toBe('watch');
    expect(watchProtocol.defaultPort).toBe(5093);
    expect(watchProtocol.commands).toContain('UPLOAD');
    expect(watchProtocol.createFramer()).toBeInstanceOf(WatchFramer);
    expect(watchProtocol.decode(Buffer.from('[3G*1*0002*LK]'), ctx).ok).toBe(true);
    expect(watchProtocol.parseHeader(Buffer.from('[ZJ*1*0003*0002*LK]'))).toEqual({ manufacturer: 'ZJ', deviceId: '1', index: '0003' });
  });
});

describe('watch: fuzz (fast-check)', () => {
  const finite = (n: number | undefined) => n === undefined || Number.isFinite(n);
  function checkOutcome(frame: Buffer): void {
    const out = decodeWatch(frame, ctx);
    if (!out.ok) {
      expect(out.reason).toMatch(/^[a-z_]+$/);
      return;
    }
    for (const m of out.messages) {
      expect(MESSAGE_KINDS).toContain(m.kind);
      for (const a of m.alarms ?? []) expect(ALARM_KINDS).toContain(a);
      expect(m.receivedAt).toBe(ctx.receivedAt);
      if (m.position) for (const n of Object.values(m.position)) if (typeof n === 'number') expect(finite(n)).toBe(true);
      if (m.deviceTime) expect(Number.isNaN(m.deviceTime.getTime())).toBe(false);
    }
    if (out.reply) expect(out.reply.toString('latin1')).toMatch(/^\[[0-9A-Za-z]{2}\*[0-9]+\*([0-9A-Fa-f]{4}\*)?[0-9A-F]{4}\*[^\]]+\]$/);
  }

  it('decode never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => checkOutcome(Buffer.from(bytes))), { numRuns: 2000 });
  });

  it('decode never throws on frame-shaped random text', () => {
    const types = ['LK', 'UD', 'UD2', 'UD_LTE', 'AL', 'AL_LTE', 'ALX', 'heart', 'bphrt', 'oxygen', 'btemp2', 'TEMP', 'BLOOD', 'TKQ', 'INIT', 'CONFIG', 'CR', 'ZZ'];
    const field = fc.oneof(
      fc.stringMatching(/^[0-9A-Fa-f.+\- NSEWAV:]{0,12}$/),
      fc.constantFrom('', '0', '-1', '1e9', 'NaN', 'Infinity', '999999999999999999999', ' 9.5', '00200000', 'FFFFFFFF'),
      fc.string({ maxLength: 8 }),
    );
    const frameArb = fc.record({
      mf: fc.constantFrom('3G', 'SG', 'ZJ', 'cs'),
      id: fc.stringMatching(/^[0-9]{1,16}$/),
      idx: fc.option(fc.stringMatching(/^[0-9A-F]{4}$/), { nil: undefined }),
      type: fc.constantFrom(...types),
      fields: fc.array(field, { maxLength: 40 }),
    });
    fc.assert(
      fc.property(frameArb, ({ mf, id, idx, type, fields }) => {
        const content = [type, ...fields].join(',');
        checkOutcome(Buffer.from(`[${mf}*${id}*${idx ? `${idx}*` : ''}0000*${content}]`));
      }),
      { numRuns: 3000 },
    );
  });

  it('the framer never throws, and chunking never changes the frames', () => {
    const alphabet = fc.constantFrom(...'[]}*,LK3G0129'.split('').map((c) => c.charCodeAt(0)), 0x7d, 0x01, 0x02, 0x03, 0x00, 0xff);
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 400 }), fc.array(fc.nat(50), { maxLength: 20 }), (bytes, cuts) => {
        const data = Buffer.from(bytes);
        const all = frames(new WatchFramer(64).push(data));
        const f = new WatchFramer(64);
        const got: FrameEvent[] = [];
        let at = 0;
        for (const c of cuts) {
          got.push(...f.push(data.subarray(at, at + c)));
          at += c;
        }
        got.push(...f.push(data.subarray(at)));
        expect(frames(got)).toEqual(all);
        expect(f.buffered).toBeLessThanOrEqual(64);
      }),
      { numRuns: 1000 },
    );
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
      const f = new WatchFramer();
      for (const c of chunks) f.push(Buffer.from(c));
    }));
  });
});
