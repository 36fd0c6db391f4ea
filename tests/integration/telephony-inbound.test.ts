/**
 * Inbound one-key-caller calls (protocols.md §6, ari.md §3.5) injected into the simulated Asterisk: red and
 * green DIDs, known and unknown callers, several presses folded into one event with a count, and the two
 * hub behaviours (let it ring / answer and hang up).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.ts';
import { createTelephony, type OneKeyEvent, type Telephony, type TelephonyOptions } from '../../telephony/index.ts';
import { memoryPorts, waitFor, type MemoryPorts } from '../helpers/telephony-memory.ts';

const APP = 'anxin-inbound';
const APP_ANSWER = 'anxin-inbound-answer';
const SCALE = 0.1;
const RED = '96110';
const GREEN = '96120';

let sim: AsteriskSim;
let m: MemoryPorts;
let tel: Telephony;
let telAnswer: Telephony;
const firsts: OneKeyEvent[] = [];
const repeats: OneKeyEvent[] = [];

function options(app: string, ports: MemoryPorts['ports'], inbound: TelephonyOptions['inbound']): TelephonyOptions {
  return {
    url: sim.url,
    username: sim.username,
    password: sim.password,
    app,
    trunkTemplate: 'PJSIP/{number}@trunk',
    agentTemplate: 'PJSIP/{ext}',
    redDid: RED,
    greenDid: GREEN,
    ports,
    timeScale: SCALE,
    inbound,
  };
}

beforeAll(async () => {
  sim = await startAsteriskSim({ port: 0, timeScale: SCALE, app: APP });
  m = memoryPorts({ '02162345678': { elderId: 'E1', name: 'Wang', deviceId: 'D1' } });
  tel = createTelephony(options(APP, m.ports, { pressWindowS: 5, maxRingS: 3 }));
  tel.on('inbound', (e) => firsts.push(e));
  tel.on('inbound_repeat', (e) => repeats.push(e));
  telAnswer = createTelephony(options(APP_ANSWER, m.ports, { mode: 'answer_hangup' }));
  await tel.start();
  await telAnswer.start();
});

beforeEach(() => {
  sim.reset();
});

afterAll(async () => {
  await tel?.stop();
  await telAnswer?.stop();
  await sim?.stop();
});

const ended = (channelId: string) => waitFor(() => m.calls.calls.get(channelId)?.end, 5000, `call record of ${channelId} ended`);

describe('one-key caller presses', () => {
  it('red line from a known elder (number normalised): one_key_emergency, rings until the box hangs up', async () => {
    const { channel } = sim.injectCall({ from: '62345678', to: RED, hangupAfter: 2, app: APP });
    const e = await waitFor(() => firsts.find((f) => f.channelIds.includes(channel.id)), 3000, 'inbound event');
    expect(e).toMatchObject({
      kind: 'one_key_emergency',
      line: 'red',
      did: RED,
      callerNumber: '02162345678',
      rawCallerNumber: '62345678',
      elder: { elderId: 'E1', deviceId: 'D1' },
      count: 1,
    });
    expect(m.pressed.filter((p) => p.eventId === e.eventId)).toHaveLength(1);
    expect(m.lookups).toContain('02162345678');

    const end = await ended(channel.id);
    const rec = m.calls.get(channel.id);
    expect(rec).toMatchObject({ direction: 'inbound', flow: 'inbound', party: 'elder', elderId: 'E1', number: '02162345678', did: RED, line: 'red', idempotencyKey: `inbound:${channel.id}` });
    expect(rec.answeredAt).toBeUndefined();
    expect(end).toMatchObject({ outcome: 'abandoned', cause: 16, talkMs: 0 });
    expect(end.durationMs).toBe(end.at.getTime() - rec.createdAt.getTime());
    // not answered; ringing indicated; the box hung up
    expect(sim.callLog().find((c) => c.channelId === channel.id)).toMatchObject({ endedBy: 'far_end' });
    expect(sim.callLog().find((c) => c.channelId === channel.id)?.answeredAt).toBeUndefined();
    expect(sim.requestLog().some((r) => r.method === 'POST' && r.url.startsWith(`/ari/channels/${channel.id}/ring`) && r.status === 204)).toBe(true);
  });

  it('green line from an unknown number: one_key_service for an unknown caller', async () => {
    const { channel } = sim.injectCall({ from: '+86 139 1234 5678', to: GREEN, hangupAfter: 1, app: APP });
    const e = await waitFor(() => firsts.find((f) => f.channelIds.includes(channel.id)), 3000, 'inbound event');
    expect(e).toMatchObject({ kind: 'one_key_service', line: 'green', callerNumber: '13912345678', count: 1 });
    expect(e.elder).toBeUndefined();
    await ended(channel.id);
    expect(m.calls.get(channel.id)).toMatchObject({ party: 'unknown', line: 'green', number: '13912345678' });
    expect(m.calls.get(channel.id).elderId).toBeUndefined();
  });

  it('red line from an unknown number is still an emergency', async () => {
    const { channel } = sim.injectCall({ from: '13700001111', to: RED, hangupAfter: 1, app: APP });
    const e = await waitFor(() => firsts.find((f) => f.channelIds.includes(channel.id)), 3000, 'inbound event');
    expect(e).toMatchObject({ kind: 'one_key_emergency', callerNumber: '13700001111' });
    expect(e.elder).toBeUndefined();
    await ended(channel.id);
  });

  it('several presses within the window are one event with a count; a press after the window is a new event', async () => {
    const from = '13811112222';
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(sim.injectCall({ from, to: RED, hangupAfter: 1, app: APP }).channel.id);
      await new Promise((r) => setTimeout(r, 60));
    }
    // the same number on the green line is a different event
    const green = sim.injectCall({ from, to: GREEN, hangupAfter: 1, app: APP }).channel.id;
    await waitFor(() => repeats.filter((r) => r.callerNumber === from).length === 2, 3000, 'two repeats');
    await waitFor(() => firsts.some((f) => f.channelIds.includes(green)), 3000, 'green event');
    const reds = firsts.filter((f) => f.callerNumber === from && f.line === 'red');
    expect(reds).toHaveLength(1);
    const first = reds[0]!;
    const reps = repeats.filter((r) => r.callerNumber === from);
    expect(reps.map((r) => r.eventId)).toEqual([first.eventId, first.eventId]);
    expect(reps.map((r) => r.count)).toEqual([2, 3]);
    expect(reps[1]?.channelIds.sort()).toEqual([...ids].sort());
    expect(m.pressed.filter((p) => p.callerNumber === from && p.line === 'red')).toHaveLength(1);
    expect(m.repeated.filter((p) => p.eventId === first.eventId).map((p) => p.count)).toEqual([2, 3]);
    // every press still has its own call record
    await Promise.all(ids.map(ended));

    // the window (5 s × 0.1) runs from the last press: the next press comes 700 ms after it (the clock is
    // moved on, and runs on from there, rather than waited for)
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    try {
      vi.setSystemTime(Math.max(Date.now(), reps[1]!.lastAt.getTime() + 700));
      const later = sim.injectCall({ from, to: RED, hangupAfter: 1, app: APP }).channel.id;
      const e2 = await waitFor(() => firsts.find((f) => f.channelIds.includes(later)), 3000, 'new event');
      expect(e2.eventId).not.toBe(first.eventId);
      expect(e2.count).toBe(1);
      await ended(later);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a call that never hangs up is hung up by the hub after maxRingS (still unanswered)', async () => {
    const { channel } = sim.injectCall({ from: '13822223333', to: RED, hangupAfter: null, app: APP });
    const end = await ended(channel.id);
    expect(end).toMatchObject({ outcome: 'abandoned', talkMs: 0 });
    expect(sim.callLog().find((c) => c.channelId === channel.id)).toMatchObject({ endedBy: 'app' });
  });

  it('a DID that is neither line is recorded but raises no event', async () => {
    const { channel } = sim.injectCall({ from: '13833334444', to: '80000000', hangupAfter: 1, app: APP });
    await ended(channel.id);
    expect(m.calls.get(channel.id)).toMatchObject({ line: 'other', did: '80000000' });
    expect(firsts.some((f) => f.channelIds.includes(channel.id))).toBe(false);
  });
});

describe('answer-and-hang-up mode', () => {
  it('answers and hangs up at once; the event is the same', async () => {
    const { channel } = sim.injectCall({ from: '62345678', to: RED, hangupAfter: 5, app: APP_ANSWER });
    const end = await ended(channel.id);
    const rec = m.calls.get(channel.id);
    expect(rec.answeredAt).toBeInstanceOf(Date);
    expect(end).toMatchObject({ outcome: 'answered', cause: 16 });
    expect(end.talkMs).toBe(end.at.getTime() - rec.answeredAt!.getTime());
    const sc = sim.callLog().find((c) => c.channelId === channel.id);
    expect(sc?.answeredAt).toBeDefined();
    expect(sc?.endedBy).toBe('app');
    const p = await waitFor(() => m.pressed.find((x) => x.channelIds.includes(channel.id)), 3000, 'pressed');
    expect(p).toMatchObject({ kind: 'one_key_emergency', elder: { elderId: 'E1' } });
  });
});
