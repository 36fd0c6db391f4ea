/**
 * Inbound one-key-caller calls (protocols.md §6, ari.md §3.5): red and green DIDs, known and unknown callers,
 * several presses folded into one event with a count, and the two hub behaviours (let it ring / answer and
 * hang up). Runs against the simulator and, when TEST_ARI_URL is set, against the real Asterisk (issue 17;
 * with CI=true a missing one fails the run). A press is the box's own call: `Local/red@box` dials the red
 * line's DID into Stasis(anxin), with the caller number we give (the box context keeps a given one).
 *
 * On the real server every inbound call goes to the one app "anxin", shared with other test files: each
 * target's suite holds `lockInbound()` from its first test to its last, and only one Telephony is connected to
 * the app at a time (ring mode, then answer-and-hang-up mode).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTelephony, type OneKeyEvent, type Telephony, type TelephonyLog, type TelephonyOptions } from '../../telephony/index.ts';
import { targets, type AriTargetEnv, type InboundHandle } from '../helpers/ari-target.ts';
import { makeAri } from '../helpers/ari-raw.ts';
import { memoryPorts, waitFor, type MemoryPorts } from '../helpers/telephony-memory.ts';

/** A DID that is neither line: the real dialplan's from-trunk `_X.` sends it to Stasis(anxin) too. */
const OTHER_DID = '80000000';
const OTHER_ENDPOINT = `Local/${OTHER_DID}@from-trunk`;
/** Milliseconds, on both targets (the hub's timers are scaled by the target's timeScale, 1 here). */
const RING_MS = 3000;
const WINDOW_MS = 2000;

type Line = { level: keyof TelephonyLog; msg: string | undefined };

for (const target of targets()) {
  describe(`inbound one-key calls (${target.name})`, () => {
    let t: AriTargetEnv;
    let release: () => void = () => undefined;
    let ari: ReturnType<typeof makeAri>;
    const m: MemoryPorts = memoryPorts({ '02162345678': { elderId: 'E1', name: 'Wang', deviceId: 'D1' } });
    const boxes: InboundHandle[] = [];
    const lines: Line[] = [];
    const log: TelephonyLog = {
      debug: (_o, msg) => void lines.push({ level: 'debug', msg }),
      info: (_o, msg) => void lines.push({ level: 'info', msg }),
      warn: (_o, msg) => void lines.push({ level: 'warn', msg }),
      error: (_o, msg) => void lines.push({ level: 'error', msg }),
    };
    // caller numbers unique to this target and run: the press window is per number
    const tag = String(process.pid % 1000).padStart(3, '0');
    const num = (i: number) => `137${tag}${target.name === 'sim' ? '1' : '2'}${String(i).padStart(4, '0')}`;

    beforeAll(async () => {
      t = await target.start({
        // Nothing here waits for a scripted duration, so the simulator runs in real time too: its default
        // originate timeout (30 s, scaled) must not end a box call before the hub's maxRingS does.
        timeScale: 1,
        // the simulator dials Local/80000000@from-trunk the way the real dialplan does
        directory: [{ match: OTHER_ENDPOINT, label: 'a DID that is neither line', action: 'call', callTo: OTHER_DID }],
      });
      ari = makeAri(t.url, t.username, t.password);
      release = await t.lockInbound();
    }, 300_000); // includes the wait for the shared app "anxin" (ari-lock)

    afterEach(async () => {
      await Promise.all(boxes.splice(0).map((b) => b.hangup().catch(() => undefined)));
    });

    afterAll(async () => {
      await Promise.all(boxes.splice(0).map((b) => b.hangup().catch(() => undefined)));
      release();
      await t?.stop();
    });

    const options = (inbound: TelephonyOptions['inbound']): TelephonyOptions => ({
      url: t.url,
      username: t.username,
      password: t.password,
      app: t.inboundApp,
      trunkTemplate: t.trunkTemplate,
      agentTemplate: t.agentTemplate,
      redDid: t.lines.red,
      greenDid: t.lines.green,
      ports: m.ports,
      log,
      timeScale: t.timeScale,
      inbound,
    });

    /** The box presses a key; resolves with the line channel (the call record of `number` that is new). */
    async function press(line: 'red' | 'green', from: string, number: string): Promise<{ box: InboundHandle; channelId: string }> {
      const known = new Set([...m.calls.calls.values()].filter((c) => c.number === number).map((c) => c.channelId));
      const box = await t.injectInbound({ line, from });
      boxes.push(box);
      const rec = await waitFor(() => [...m.calls.calls.values()].find((c) => c.number === number && c.line === line && !known.has(c.channelId)), 10_000, `call record of a ${line} press from ${from}`);
      return { box, channelId: rec.channelId };
    }
    const ended = (channelId: string) => waitFor(() => m.calls.calls.get(channelId)?.end, 10_000, `call record of ${channelId} ended`);
    const gone = async (channelId: string) => {
      for (let i = 0; i < 100; i++) {
        if ((await ari('GET', `channels/${encodeURIComponent(channelId)}`)).status === 404) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };

    describe('ring mode (the hub lets it ring)', () => {
      let tel: Telephony;
      const firsts: OneKeyEvent[] = [];
      const repeats: OneKeyEvent[] = [];
      beforeAll(async () => {
        tel = createTelephony(options({ pressWindowS: WINDOW_MS / 1000 / t.timeScale, maxRingS: RING_MS / 1000 / t.timeScale }));
        tel.on('inbound', (e) => firsts.push(e));
        tel.on('inbound_repeat', (e) => repeats.push(e));
        await tel.start();
      });
      afterAll(async () => {
        await tel?.stop();
      });

      it('red line from a known elder (number normalised): one_key_emergency, rings until the box hangs up', async () => {
        const { box, channelId } = await press('red', '62345678', '02162345678');
        const e = await waitFor(() => firsts.find((f) => f.channelIds.includes(channelId)), 5000, 'inbound event');
        expect(e).toMatchObject({
          kind: 'one_key_emergency',
          line: 'red',
          did: t.lines.red,
          callerNumber: '02162345678',
          rawCallerNumber: '62345678',
          elder: { elderId: 'E1', deviceId: 'D1' },
          count: 1,
        });
        expect(m.pressed.filter((p) => p.eventId === e.eventId)).toHaveLength(1);
        expect(m.lookups).toContain('02162345678');

        await new Promise((r) => setTimeout(r, 200));
        await box.hangup();
        const end = await ended(channelId);
        const rec = m.calls.get(channelId);
        expect(rec).toMatchObject({ direction: 'inbound', flow: 'inbound', party: 'elder', elderId: 'E1', number: '02162345678', did: t.lines.red, line: 'red', idempotencyKey: `inbound:${channelId}` });
        expect(rec.answeredAt).toBeUndefined();
        expect(end).toMatchObject({ outcome: 'abandoned', cause: 16, talkMs: 0 });
        expect(end.durationMs).toBe(end.at.getTime() - rec.createdAt.getTime());
        // ended by the box's hang-up (at StasisEnd on a real server), not by the hub's maxRingS backstop
        expect(end.durationMs).toBeLessThan(RING_MS);
        expect(tel.health().liveLegs).toBe(0);
        // the ring indication was accepted (a refused one is logged)
        expect(lines.filter((l) => l.msg?.includes('ring indication failed'))).toEqual([]);
        expect(await gone(box.boxChannelId)).toBe(true);
        if (t.sim) {
          // not answered; ringing indicated; the box hung up
          const sc = t.sim.callLog().find((c) => c.channelId === channelId);
          expect(sc).toMatchObject({ endedBy: 'far_end' });
          expect(sc?.answeredAt).toBeUndefined();
          expect(t.sim.requestLog().some((r) => r.method === 'POST' && r.url.startsWith(`/ari/channels/${encodeURIComponent(channelId)}/ring`) && r.status === 204)).toBe(true);
        }
      });

      it('green line from an unknown number: one_key_service for an unknown caller', async () => {
        const { box, channelId } = await press('green', '+86 139 1234 5678', '13912345678');
        const e = await waitFor(() => firsts.find((f) => f.channelIds.includes(channelId)), 5000, 'inbound event');
        expect(e).toMatchObject({ kind: 'one_key_service', line: 'green', did: t.lines.green, callerNumber: '13912345678', count: 1 });
        expect(e.elder).toBeUndefined();
        await box.hangup();
        const end = await ended(channelId);
        expect(end).toMatchObject({ outcome: 'abandoned' });
        expect(m.calls.get(channelId)).toMatchObject({ party: 'unknown', line: 'green', number: '13912345678' });
        expect(m.calls.get(channelId).elderId).toBeUndefined();
      });

      it('red line from an unknown number is still an emergency', async () => {
        const from = num(1);
        const { box, channelId } = await press('red', from, from);
        const e = await waitFor(() => firsts.find((f) => f.channelIds.includes(channelId)), 5000, 'inbound event');
        expect(e).toMatchObject({ kind: 'one_key_emergency', callerNumber: from });
        expect(e.elder).toBeUndefined();
        await box.hangup();
        await ended(channelId);
      });

      it('several presses within the window are one event with a count; a press after the window is a new event', async () => {
        const from = num(2);
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push((await press('red', from, from)).channelId);
        // the same number on the green line is a different event
        const green = (await press('green', from, from)).channelId;
        await waitFor(() => repeats.filter((r) => r.callerNumber === from).length === 2, 5000, 'two repeats');
        await waitFor(() => firsts.some((f) => f.channelIds.includes(green)), 5000, 'green event');
        const reds = firsts.filter((f) => f.callerNumber === from && f.line === 'red');
        expect(reds).toHaveLength(1);
        const first = reds[0]!;
        expect(first.channelIds).toEqual([ids[0]]);
        const reps = repeats.filter((r) => r.callerNumber === from);
        expect(reps.map((r) => r.eventId)).toEqual([first.eventId, first.eventId]);
        expect(reps.map((r) => r.count)).toEqual([2, 3]);
        expect([...reps[1]!.channelIds].sort()).toEqual([...ids].sort());
        expect(m.pressed.filter((p) => p.callerNumber === from && p.line === 'red')).toHaveLength(1);
        expect(m.repeated.filter((p) => p.eventId === first.eventId).map((p) => p.count)).toEqual([2, 3]);
        // every press still has its own call record
        await Promise.all(boxes.splice(0).map((b) => b.hangup()));
        await Promise.all([...ids, green].map(ended));

        // the window runs from the last press: the next press comes just after it (the clock is moved on, and
        // runs on from there, rather than waited for)
        vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
        try {
          vi.setSystemTime(Math.max(Date.now(), reps[1]!.lastAt.getTime() + WINDOW_MS + 200));
          const { box, channelId: later } = await press('red', from, from);
          const e2 = await waitFor(() => firsts.find((f) => f.channelIds.includes(later)), 5000, 'new event');
          expect(e2.eventId).not.toBe(first.eventId);
          expect(e2.count).toBe(1);
          await box.hangup();
          await ended(later);
        } finally {
          vi.useRealTimers();
        }
      });

      it('a call that never hangs up is hung up by the hub after maxRingS (still unanswered)', async () => {
        const from = num(3);
        const { box, channelId } = await press('red', from, from);
        const end = await ended(channelId);
        expect(end).toMatchObject({ outcome: 'abandoned', talkMs: 0 });
        expect(m.calls.get(channelId).answeredAt).toBeUndefined();
        // a lower bound only: the backstop, not the box, ended it
        expect(end.durationMs).toBeGreaterThanOrEqual(RING_MS - 200);
        // the box's Dial saw the hang-up: its own call ends too
        expect(await gone(box.boxChannelId)).toBe(true);
        expect(tel.health().liveLegs).toBe(0);
        if (t.sim) expect(t.sim.callLog().find((c) => c.channelId === channelId)).toMatchObject({ endedBy: 'app' });
      });

      it('a DID that is neither line is recorded but raises no event', async () => {
        const from = num(4);
        const boxChannelId = `box-other-${process.pid}-${Date.now()}`;
        const res = await ari('POST', 'channels', { query: { endpoint: OTHER_ENDPOINT, context: 'sim-trunk', extension: t.numbers.silent, priority: 1, channelId: boxChannelId, callerId: from } });
        expect(res.status).toBe(200);
        boxes.push({ boxChannelId, hangup: async () => void (await ari('DELETE', `channels/${boxChannelId}`)) });
        const rec = await waitFor(() => [...m.calls.calls.values()].find((c) => c.number === from && c.did === OTHER_DID), 10_000, 'call record on the other DID');
        await boxes.splice(0)[0]!.hangup();
        await ended(rec.channelId);
        expect(m.calls.get(rec.channelId)).toMatchObject({ line: 'other', did: OTHER_DID, party: 'unknown' });
        expect(firsts.some((f) => f.channelIds.includes(rec.channelId))).toBe(false);
        expect(m.pressed.some((p) => p.callerNumber === from)).toBe(false);
      });

      it('nothing was logged above info, and no leg is left', () => {
        expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
        expect(tel.health().liveLegs).toBe(0);
      });
    });

    describe('answer-and-hang-up mode', () => {
      let tel: Telephony;
      beforeAll(async () => {
        tel = createTelephony(options({ mode: 'answer_hangup' }));
        await tel.start();
      });
      afterAll(async () => {
        await tel?.stop();
      });

      it('answers and hangs up at once; the event is the same', async () => {
        const { box, channelId } = await press('red', '62345678', '02162345678');
        const end = await ended(channelId);
        const rec = m.calls.get(channelId);
        expect(rec.answeredAt).toBeInstanceOf(Date);
        expect(end).toMatchObject({ outcome: 'answered', cause: 16 });
        expect(end.talkMs).toBe(end.at.getTime() - rec.answeredAt!.getTime());
        const p = await waitFor(() => m.pressed.find((x) => x.channelIds.includes(channelId)), 5000, 'pressed');
        expect(p).toMatchObject({ kind: 'one_key_emergency', elder: { elderId: 'E1' } });
        // the box heard the answer and the hang-up: its call is over without the test hanging it up
        expect(await gone(box.boxChannelId)).toBe(true);
        expect(tel.health().liveLegs).toBe(0);
        if (t.sim) {
          const sc = t.sim.callLog().find((c) => c.channelId === channelId);
          expect(sc?.answeredAt).toBeDefined();
          expect(sc?.endedBy).toBe('app');
        }
      });
    });
  });
}
