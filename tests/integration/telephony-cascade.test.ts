/**
 * The contact cascade (press 1 to accept) end to end, on every ARI target (tests/helpers/ari-target.ts): the
 * simulator, and the real Asterisk of TEST_ARI_URL (with CI=true a missing one fails the run). Contacts are the
 * test numbers of ../shared/asterisk/README.md through the target (press 1, press 2, silent, busy, no answer,
 * hang up after N s); acceptances and alerts go through the in-memory ports; the hub's ARI events show the
 * prompts, DTMF and hang-ups on both targets, and the simulator's logs add what only it records (`if (t.sim)`).
 *
 * A real Asterisk runs at timeScale 1: the acceptance test plays Anxin's own prompts (the contact presses 1
 * during the first one); the exhaustion test, 6 answered calls, plays a short core sound instead.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { targets } from '../helpers/ari-target.ts';
import { expectTimes, startFlowTarget, type FlowTarget } from '../helpers/telephony-flow-target.ts';
import { waitFor } from '../helpers/telephony-memory.ts';

const SHORT_PROMPT = 'sound:vm-goodbye';

for (const target of targets()) {
  describe(`contact cascade (${target.name})`, () => {
    let f: FlowTarget;
    beforeAll(async () => {
      f = await startFlowTarget(target, `anxin-cas-${process.pid}`);
    });
    beforeEach(() => f.reset());
    afterAll(async () => {
      await f?.stop();
    });

    it('busy and no answer move on; a 1 is recorded as the acceptance and stops the cascade', async () => {
      const { t, tel, m } = f;
      const key = f.key('cas-accept');
      const tk = await tel.cascade({
        idempotencyKey: key,
        alarmId: 'A4',
        elderId: 'E4',
        contacts: [
          { number: t.numbers.busy, contactId: 'K1' },
          { number: t.numbers.noAnswer, contactId: 'K2' },
          { number: t.numbers.press1, contactId: 'K3' },
          { number: t.numbers.silent, contactId: 'K4' },
        ],
        ringTimeoutS: 2,
      });
      const r = await tk.done;
      expect(r.status).toBe('accepted');
      expect(r.acceptedBy).toMatchObject({ round: 1, contactIndex: 2, contactId: 'K3', number: t.numbers.press1 });
      expect(r.attempts.map((a) => a.outcome)).toEqual(['busy', 'no_answer', 'accepted_by_dtmf']);
      const accepted = m.accepted.filter((a) => a.cascadeId === tk.callId);
      expect(accepted).toHaveLength(1);
      expect(accepted[0]).toMatchObject({ alarmId: 'A4', elderId: 'E4', contactIndex: 2, round: 1, contactId: 'K3', digit: '1', cascadeId: tk.callId, channelId: r.acceptedBy!.channelId });
      expect(m.alerts.filter((a) => a.cascadeId === tk.callId)).toEqual([]);
      // the fourth contact was never dialled
      expect(m.calls.claimed.has(`${key}#r1c3`)).toBe(false);
      if (t.sim) expect(t.sim.originateLog().filter((o) => o.dialed && o.endpoint?.includes(t.numbers.silent))).toHaveLength(0);

      const recs = m.calls.byFlow(tk.callId);
      expect(recs.map((c) => [c.idempotencyKey, c.party, c.end?.outcome])).toEqual([
        [`${key}#r1c0`, 'contact', 'busy'],
        [`${key}#r1c1`, 'contact', 'no_answer'],
        [`${key}#r1c2`, 'contact', 'accepted_by_dtmf'],
      ]);
      expect(recs.map((c) => c.end?.cause)).toEqual([17, expect.any(Number), 16]);
      expect(f.noAnswerCauses).toContain(recs[1]?.end?.cause);
      expect(recs.map((c) => c.number)).toEqual([t.numbers.busy, t.numbers.noAnswer, t.numbers.press1]);
      expectTimes(recs[0], false);
      expectTimes(recs[1], false);
      expectTimes(recs[2], true);
      // each contact's record was written in order (claim, create, answered, ended), the contacts one after another
      const legOps = (c: (typeof recs)[number]) => m.calls.ops.filter((o) => o.includes(c.channelId) || o.startsWith(`claim:${c.idempotencyKey}:`));
      expect(recs.map(legOps)).toEqual(
        recs.map((c, i) => [`claim:${c.idempotencyKey}:true`, `create:${c.channelId}`, ...(i === 2 ? [`answered:${c.channelId}`] : []), `ended:${c.channelId}:${c.end?.outcome}`]),
      );
      const claims = m.calls.ops.filter((o) => o.startsWith(`claim:${key}#`));
      expect(claims).toEqual([`claim:${key}#r1c0:true`, `claim:${key}#r1c1:true`, `claim:${key}#r1c2:true`]);

      const acc = r.acceptedBy!.channelId;
      expect(f.dtmf(acc)).toBe('1');
      expect(f.hungUpBy(acc)).toBe('app');
      // Anxin's prompt (installed on the real server: it must play, not fail); the 1 came during its first
      // item, which was stopped; the thank-you played to its end
      const played = f.played(acc);
      expect(played[0]).toBe('sound:anxin-alarm-for-elder');
      expect(played.at(-1)).toBe('sound:anxin-thank-you');
      expect(f.finished(acc).at(-1)).toBe('sound:anxin-thank-you done');
      expect(f.finished(acc).filter((x) => x.endsWith(' failed'))).toEqual([]);
      if (t.sim) {
        const log = t.sim.callLog().find((c) => c.channelId === acc);
        expect(log).toMatchObject({ dtmfReceived: '1', endedBy: 'app' });
        expect(log?.playbacks[0]).toBe('sound:anxin-alarm-for-elder');
        expect(log?.playbacks).toContain('sound:anxin-thank-you');
      }
      expect(tel.health()).toMatchObject({ liveLegs: 0, degraded: false });
    }, 40_000);

    it('a hang-up mid-prompt, no digit, and a wrong digit move on; after two rounds the supervisor is alerted', async () => {
      const { t, tel, m } = f;
      // answers at once and hangs up 1 s later (0.1 s on the simulator), while the prompt plays
      const hangsUp = t.numbers.hangupAfter(1);
      const tk = await tel.cascade({
        idempotencyKey: f.key('cas-exhaust'),
        alarmId: 'A5',
        contacts: [{ number: hangsUp }, { number: t.numbers.silent }, { number: t.numbers.press2 }, { number: 'bogus' }],
        // the prompt must outlast the hang-up after 1 s, and the wrong digit (2 at 1.5 s) must come before the
        // DTMF wait (prompt + 2 s) is over
        prompt: ['sound:silence/2', SHORT_PROMPT],
        dtmfTimeoutS: 2,
      });
      const r = await tk.done;
      expect(r.status).toBe('exhausted');
      expect(r.attempts.map((a) => [a.round, a.contactIndex, a.outcome])).toEqual([
        [1, 0, 'not_accepted'],
        [1, 1, 'not_accepted'],
        [1, 2, 'not_accepted'],
        [1, 3, 'invalid_number'],
        [2, 0, 'not_accepted'],
        [2, 1, 'not_accepted'],
        [2, 2, 'not_accepted'],
        [2, 3, 'invalid_number'],
      ]);
      const alerts = m.alerts.filter((a) => a.cascadeId === tk.callId);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ reason: 'cascade_exhausted', alarmId: 'A5', rounds: 2 });
      expect(alerts[0]?.attempts).toHaveLength(8);
      expect(m.accepted.filter((a) => a.cascadeId === tk.callId)).toEqual([]);

      const recs = m.calls.byFlow(tk.callId);
      expect(recs).toHaveLength(6);
      expect(recs.map((c) => [c.number, c.end?.outcome])).toEqual(
        [1, 2].flatMap(() => [
          [hangsUp, 'not_accepted'],
          [t.numbers.silent, 'not_accepted'],
          [t.numbers.press2, 'not_accepted'],
        ]),
      );
      for (const c of recs) expectTimes(c, true);
      // the contact who hung up mid-prompt ended it (far end); the others were hung up by the hub
      expect(recs.map((c) => f.hungUpBy(c.channelId))).toEqual(['far_end', 'app', 'app', 'far_end', 'app', 'app']);
      expect(recs.map((c) => f.dtmf(c.channelId))).toEqual(['', '', '2', '', '', '2']);
      for (const c of recs) expect(f.played(c.channelId)[0], c.number).toBe('sound:silence/2');
      if (t.sim) {
        expect(t.sim.callLog().filter((c) => c.number === hangsUp).map((c) => c.endedBy)).toEqual(['far_end', 'far_end']);
        expect(t.sim.callLog().filter((c) => c.number === t.numbers.press2).map((c) => c.dtmfReceived)).toEqual(['2', '2']);
      }
      expect(tel.health().liveLegs).toBe(0);
    }, 60_000);

    it('hangup(callId) stops the cascade without alerting; the same key again is a duplicate', async () => {
      const { t, tel, m } = f;
      const key = f.key('cas-cancel');
      const tk = await tel.cascade({ idempotencyKey: key, alarmId: 'A6', contacts: [{ number: t.numbers.noAnswer }, { number: t.numbers.press1 }], ringTimeoutS: 30 });
      const first = await waitFor(() => m.calls.byKey(`${key}#r1c0`), 10_000, 'first contact dialled');
      await waitFor(() => f.updates.some((u) => u.channelId === first.channelId && u.state === 'ringing'), 10_000, 'first contact ringing');
      expect(await tel.hangup(tk.callId)).toBe(true);
      const r = await tk.done;
      expect(r.status).toBe('cancelled');
      expect(r.attempts.map((a) => a.outcome)).toEqual(['cancelled']);
      expect(m.calls.get(first.channelId).end).toMatchObject({ outcome: 'cancelled', cause: 16 });
      expect(f.hungUpBy(first.channelId)).toBe('app');
      expect(m.calls.claimed.has(`${key}#r1c1`)).toBe(false);
      if (t.sim) expect(t.sim.originateLog().filter((o) => o.dialed && o.endpoint?.includes(t.numbers.press1))).toHaveLength(0);
      expect(m.alerts.filter((a) => a.cascadeId === tk.callId)).toEqual([]);

      const again = await tel.cascade({ idempotencyKey: key, alarmId: 'A6', contacts: [{ number: t.numbers.noAnswer }] });
      expect(again.duplicate).toBe(true);
      expect((await again.done).status).toBe('duplicate');
      expect(m.calls.byFlow(tk.callId)).toHaveLength(1);
      expect(f.dials(first.channelId)).toBe(1);
      if (t.sim) expect(t.sim.originateLog().filter((o) => o.dialed && o.endpoint?.includes(t.numbers.noAnswer))).toHaveLength(1);
      expect(await f.live({ channels: [first.channelId] })).toEqual([]);
      expect(tel.health().liveLegs).toBe(0);
    });
  });
}
