/**
 * Issue 17 items 1, 3 and 4: how a leg ends, replayed with the event sequences a real Asterisk 22.10.1 sent
 * (captured with the README's dialplan, ../shared/asterisk): an inbound (dialplan) channel gets StasisEnd and no
 * ChannelDestroyed; busy and a ring timeout through a Local-channel trunk can end with cause 0, where the Dial
 * status is the witness; a rejected call through a Local trunk is Dial NOANSWER with cause 21.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { decodeEvent, type AriEvent } from '../../../telephony/ari-events.ts';
import type { AriAdapter } from '../../../telephony/ari.ts';
import { CallTracker, classifyEnd, type Leg } from '../../../telephony/calls.ts';
import type { CallRecord } from '../../../telephony/ports.ts';
import { memoryPorts } from '../../helpers/telephony-memory.ts';

/** The adapter surface CallTracker uses; events are pushed in by the test. */
class FakeAdapter {
  private readonly em = new EventEmitter();
  readonly hangups: string[] = [];
  on(type: string, fn: (e: unknown) => void): () => void {
    this.em.on(type, fn);
    return () => this.em.off(type, fn);
  }
  send(frame: Record<string, unknown>): void {
    const d = decodeEvent(JSON.stringify(frame));
    if (!d.ok) throw new Error(`test frame does not decode: ${d.unknown.reason}`);
    this.em.emit('event', d.event as AriEvent);
  }
  async originate(p: { channelId: string }) {
    return { id: p.channelId };
  }
  async hangup(channelId: string): Promise<boolean> {
    this.hangups.push(channelId);
    return true;
  }
  health() {
    return { state: 'up', since: new Date() };
  }
  async getChannel() {
    return undefined;
  }
}

const ch = (id: string, state = 'Ring', exten = '96110') => ({
  id,
  name: `Local/${exten}@from-trunk-00000003;2`,
  state,
  caller: { name: '', number: '02112345678' },
  connected: { name: '', number: '' },
  dialplan: { context: 'from-trunk', exten, priority: 2, app_name: 'Stasis', app_data: 'anxin' },
});

function setup() {
  const adapter = new FakeAdapter();
  const m = memoryPorts();
  const tracker = new CallTracker({ adapter: adapter as unknown as AriAdapter, ports: m.ports, log: { debug() {}, info() {}, warn() {}, error() {} }, notify: { call() {}, agentPhone() {} }, timeScale: 1 });
  tracker.start();
  return { adapter, m, tracker };
}

async function inbound(tracker: CallTracker, m: ReturnType<typeof memoryPorts>, id: string): Promise<Leg> {
  const record: CallRecord = { channelId: id, idempotencyKey: `inbound:${id}`, flowId: id, flow: 'inbound', direction: 'inbound', party: 'unknown', number: '02112345678', createdAt: new Date() };
  await m.calls.claim(record.idempotencyKey);
  await m.calls.create(record);
  return tracker.adoptInbound(ch(id), record, Promise.resolve(true));
}

async function outbound(tracker: CallTracker, key: string): Promise<Leg> {
  const placed = await tracker.place({ idempotencyKey: key, flowId: key, flow: 'callback', party: 'elder', number: '13800000002', endpoint: 'Local/13800000002@sim-trunk', timeoutS: 3 });
  if (placed.duplicate) throw new Error('duplicate');
  return placed.leg;
}

describe('inbound legs end at StasisEnd (item 1)', () => {
  it('the box hangs up: HangupRequest 16 then StasisEnd, no ChannelDestroyed: ended, cause 16, tracker empty', async () => {
    const { adapter, m, tracker } = setup();
    const leg = await inbound(tracker, m, '1796556528.7');
    adapter.send({ type: 'ChannelHangupRequest', cause: 16, channel: ch('1796556528.7') });
    expect(leg.live).toBe(true);
    adapter.send({ type: 'StasisEnd', channel: ch('1796556528.7') });
    const r = await leg.ended;
    expect(r).toMatchObject({ outcome: 'abandoned', cause: 16, answered: false });
    expect(tracker.size).toBe(0);
    await leg.flushed();
    expect(m.calls.get('1796556528.7').end).toMatchObject({ outcome: 'abandoned', cause: 16, causeText: 'Normal Clearing' });
    // the simulator (and ari.md before issue 17) also sent ChannelDestroyed: it must not end the call twice
    adapter.send({ type: 'ChannelDestroyed', cause: 16, cause_txt: 'Normal Clearing', channel: ch('1796556528.7') });
    await leg.flushed();
    expect(m.calls.ops.filter((o) => o.startsWith('ended:'))).toHaveLength(1);
  });

  it('answer-and-hang-up: our DELETE gives HangupRequest 32/soft and StasisEnd; the cause is the reason we gave (16)', async () => {
    const { adapter, m, tracker } = setup();
    const leg = await inbound(tracker, m, '1796556531.11');
    adapter.send({ type: 'ChannelStateChange', channel: ch('1796556531.11', 'Up') });
    await leg.hangup('normal', false);
    expect(adapter.hangups).toEqual(['1796556531.11']);
    adapter.send({ type: 'ChannelHangupRequest', cause: 32, soft: true, channel: ch('1796556531.11', 'Up') });
    adapter.send({ type: 'StasisEnd', channel: ch('1796556531.11', 'Up') });
    expect(await leg.ended).toMatchObject({ outcome: 'answered', cause: 16, answered: true });
    expect(tracker.size).toBe(0);
  });

  it('StasisEnd without any hangup request still ends it (cause unknown)', async () => {
    const { adapter, m, tracker } = setup();
    const leg = await inbound(tracker, m, 'in-3');
    adapter.send({ type: 'StasisEnd', channel: ch('in-3') });
    expect(await leg.ended).toMatchObject({ outcome: 'abandoned', cause: null });
    expect(tracker.size).toBe(0);
  });

  it('an originated leg still ends only on ChannelDestroyed (StasisEnd alone is not its end)', async () => {
    const { adapter, tracker } = setup();
    const leg = await outbound(tracker, 'out-stasisend');
    const id = leg.channelId;
    adapter.send({ type: 'StasisStart', args: ['anxin', 'callback', 'elder'], channel: ch(id, 'Up', '13800000001') });
    adapter.send({ type: 'StasisEnd', channel: ch(id, 'Up', '13800000001') });
    expect(leg.live).toBe(true);
    adapter.send({ type: 'ChannelDestroyed', cause: 16, cause_txt: 'Normal Clearing', channel: ch(id, 'Up', '13800000001') });
    expect(await leg.ended).toMatchObject({ outcome: 'answered', cause: 16 });
    expect(tracker.size).toBe(0);
  });
});

describe('outbound outcomes: the Dial status first, the cause second (items 3, 4)', () => {
  const run = async (frames: (id: string) => Record<string, unknown>[]) => {
    const { adapter, tracker } = setup();
    const leg = await outbound(tracker, `k-${Math.random()}`);
    for (const f of frames(leg.channelId)) adapter.send(f);
    const r = await leg.ended;
    expect(tracker.size).toBe(0);
    return r;
  };
  const peer = (id: string, state = 'Down') => ch(id, state, '13800000002');

  it('busy through a Local trunk (Busy() in the dialplan): HangupRequest 0, Dial BUSY, ChannelDestroyed 0 → busy', async () => {
    const r = await run((id) => [
      { type: 'Dial', dialstatus: '', peer: peer(id) },
      { type: 'ChannelHangupRequest', cause: 0, channel: peer(id) },
      { type: 'Dial', dialstatus: 'BUSY', peer: peer(id) },
      { type: 'ChannelDestroyed', cause: 0, cause_txt: 'Unknown', channel: peer(id) },
    ]);
    expect(r).toMatchObject({ outcome: 'busy', cause: 0 });
  });

  it('a ring timeout with cause 0 (18.x, 20 < 20.17, 22 < 22.7) is no_answer, with or without Dial NOANSWER', async () => {
    const noDial = await run((id) => [
      { type: 'Dial', dialstatus: 'RINGING', peer: peer(id, 'Ringing') },
      { type: 'ChannelDestroyed', cause: 0, cause_txt: 'Unknown', channel: peer(id, 'Ringing') },
    ]);
    expect(noDial.outcome).toBe('no_answer');
    const withDial = await run((id) => [
      { type: 'Dial', dialstatus: 'RINGING', peer: peer(id, 'Ringing') },
      { type: 'Dial', dialstatus: 'NOANSWER', peer: peer(id, 'Ringing') },
      { type: 'ChannelDestroyed', cause: 0, cause_txt: 'Unknown', channel: peer(id, 'Ringing') },
    ]);
    expect(withDial.outcome).toBe('no_answer');
  });

  it('rejected through a Local trunk on 22.10.1: Dial NOANSWER with cause 21 stays rejected', async () => {
    const r = await run((id) => [
      { type: 'Dial', dialstatus: '', peer: peer(id) },
      { type: 'ChannelHangupRequest', cause: 21, channel: peer(id) },
      { type: 'Dial', dialstatus: 'NOANSWER', peer: peer(id) },
      { type: 'ChannelDestroyed', cause: 21, cause_txt: 'Call Rejected', channel: peer(id) },
    ]);
    expect(r.outcome).toBe('rejected');
  });
});

describe('classifyEnd', () => {
  const base = { direction: 'outbound' as const, answered: false, cancelledByUs: false };
  it.each([
    ['BUSY', 0, 'busy'],
    ['BUSY', 16, 'busy'],
    ['BUSY', 17, 'busy'],
    ['NOANSWER', 0, 'no_answer'],
    ['NOANSWER', 19, 'no_answer'],
    ['NOANSWER', 21, 'rejected'],
    ['CONGESTION', 0, 'failed'],
    ['CONGESTION', 34, 'congestion'],
    ['CHANUNAVAIL', 0, 'failed'],
    ['CHANUNAVAIL', 20, 'unreachable'],
    ['CANCEL', 0, 'no_answer'],
    [undefined, 0, 'no_answer'],
    [undefined, 17, 'busy'],
    [undefined, 19, 'no_answer'],
    [undefined, null, 'failed'],
  ] as const)('Dial %s with cause %s → %s', (dialstatus, cause, outcome) => {
    expect(classifyEnd({ ...base, cause, dialstatus })).toBe(outcome);
  });
  it('our own cancel wins over NOANSWER / CANCEL; an answer and an inbound call are not looked at', () => {
    expect(classifyEnd({ ...base, cause: 0, dialstatus: 'CANCEL', cancelledByUs: true })).toBe('cancelled');
    expect(classifyEnd({ ...base, cause: 16, dialstatus: 'NOANSWER', cancelledByUs: true })).toBe('cancelled');
    expect(classifyEnd({ ...base, cause: 16, dialstatus: 'BUSY', answered: true })).toBe('answered');
    expect(classifyEnd({ ...base, direction: 'inbound', cause: 16, dialstatus: 'BUSY' })).toBe('abandoned');
  });
});

describe('a snoop channel joins a bridge only once it is in the app (CallTracker.inStasis)', () => {
  const snoop = (id: string) => ({ ...ch(id, 'Up'), name: `Snoop/PJSIP/8001-00000001-0000000${id.length}` });

  it('waits for a StasisStart that comes after the HTTP 200, as a loaded Asterisk sent it', async () => {
    const { adapter, tracker } = setup();
    tracker.expected.add('c1-snoop1');
    let inApp = false;
    const waiting = tracker.inStasis('c1-snoop1').then(() => (inApp = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(inApp).toBe(false);
    adapter.send({ type: 'StasisStart', args: ['snoop', 'c1'], channel: snoop('c1-snoop1') });
    await waiting;
    expect(inApp).toBe(true);
    expect(adapter.hangups).toEqual([]); // an expected channel, not an orphan
  });

  it('answers at once when the StasisStart came first (the usual order), and fails after its bound when none comes', async () => {
    const { adapter, tracker } = setup();
    tracker.expected.add('c2-snoop1');
    adapter.send({ type: 'StasisStart', args: ['snoop', 'c2'], channel: snoop('c2-snoop1') });
    await tracker.inStasis('c2-snoop1');
    tracker.forgetExpected('c2-snoop1');
    tracker.expected.add('c3-snoop1');
    await expect(tracker.inStasis('c3-snoop1', 30)).rejects.toThrow(/did not enter the app within 30 ms/);
  });
});
