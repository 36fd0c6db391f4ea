/**
 * The callback flow (回拨) end to end, on every ARI target (tests/helpers/ari-target.ts): the simulator, and the
 * real Asterisk of TEST_ARI_URL (with CI=true a missing one fails the run). The elders' phones and agents are
 * the test numbers of ../shared/asterisk/README.md through the target. Call records go through the in-memory
 * CallLog port; the hub's ARI events show the prompts, bridges and hang-ups on both targets, and the
 * simulator's logs add what only it records (`if (t.sim)`).
 *
 * A real Asterisk runs at timeScale 1, so ring timeouts are short and the long Anxin prompts (10–14 s, covered
 * by asterisk-prompts.test.ts) are replaced by short core sounds, except anxin-no-agent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTelephony, flowIdFor } from '../../telephony/index.ts';
import { targets } from '../helpers/ari-target.ts';
import { expectTimes, startFlowTarget, type FlowTarget } from '../helpers/telephony-flow-target.ts';

const GREETING = 'sound:hello-world';
const CONFIGURED_GREETING = 'sound:vm-goodbye';

for (const target of targets()) {
  describe(`callback to the elder (${target.name})`, () => {
    let f: FlowTarget;
    beforeAll(async () => {
      f = await startFlowTarget(target, `anxin-cb-${process.pid}`, {
        // congestion: the real dialplan has no such number, so only the simulator gets one (see the outcomes test)
        start: { directory: [{ match: '13800000005', action: 'congestion' }] },
        telephony: { media: { callbackGreeting: [CONFIGURED_GREETING] } },
      });
    });
    beforeEach(() => f.reset());
    afterAll(async () => {
      await f?.stop();
    });

    it('answered: greeting played, hung up, record with times, cause 16 and outcome answered', async () => {
      const { t, tel, m } = f;
      const key = f.key('cb-answer');
      const tk = await tel.callback({ idempotencyKey: key, number: `+86 ${t.numbers.answer.replace(/^(\d{3})(\d{4})(\d{4})$/, '$1-$2-$3')}`, alarmId: 'A1', elderId: 'E1', greeting: [GREETING] });
      expect(tk.duplicate).toBe(false);
      expect(tk.callId).toBe(flowIdFor(key));
      const r = await tk.done;
      expect(r).toMatchObject({ status: 'completed', bridged: false, elder: { outcome: 'answered', cause: 16, answered: true } });

      const [rec] = m.calls.byFlow(tk.callId);
      expect(rec).toMatchObject({
        idempotencyKey: `${key}#elder`,
        flow: 'callback',
        direction: 'outbound',
        party: 'elder',
        number: t.numbers.answer,
        endpoint: t.trunk(t.numbers.answer),
        alarmId: 'A1',
        elderId: 'E1',
        end: { cause: 16, causeText: 'Normal Clearing', outcome: 'answered' },
      });
      expectTimes(rec, true);
      const id = rec!.channelId;
      expect(m.calls.ops.filter((o) => o.includes(id) || o.includes(key))).toEqual([`claim:${key}#elder:true`, `create:${id}`, `answered:${id}`, `ended:${id}:answered`]);
      expect(f.played(id)).toEqual([GREETING]);
      expect(f.finished(id)).toEqual([`${GREETING} done`]);
      expect(f.hungUpBy(id)).toBe('app');
      expect(f.destroyedCause(id)).toBe(16);
      expect(f.dials(id)).toBe(1);
      expect(f.updates.filter((u) => u.channelId === id).map((u) => u.state)).toEqual(['dialling', 'ringing', 'up', 'ended']);
      if (t.sim) {
        // the originate's parameters and the simulator's view of the call are only in its logs
        expect(t.sim.callLog().find((c) => c.channelId === id)).toMatchObject({ playbacks: [GREETING], endedBy: 'app', cause: 16 });
        const o = t.sim.originateLog().filter((x) => x.dialed && x.endpoint?.includes(t.numbers.answer))[0];
        expect(o?.params).toMatchObject({ app: f.app, channelId: id, callerId: '"Anxin" <96110>', timeout: '3' });
      }
      expect(await f.live({ channels: [id] })).toEqual([]);
      expect(tel.health().liveLegs).toBe(0);
    });

    it('busy, no answer, rejected, congestion and a refused originate: outcomes and causes', async () => {
      const { t, tel, m } = f;
      const cases: [string, string, (number | null)[]][] = [
        [t.numbers.busy, 'busy', [17]],
        [t.numbers.noAnswer, 'no_answer', f.noAnswerCauses],
        [t.numbers.reject, 'rejected', [21]],
      ];
      // Simulator only: the README's dialplan has no congestion number (the mapping of 34 is also a unit test).
      if (t.sim) cases.push(['13800000005', 'congestion', [34]]);
      // A refused originate (HTTP 500 Allocation failed) on both targets: a trunk of a channel technology that
      // does not exist, from a second instance on its own app.
      const refusing = createTelephony(f.options({ app: `anxin-cb-refuse-${process.pid}`, trunkTemplate: 'Nope/{number}' }));
      await refusing.start();
      try {
        const tickets = await Promise.all(cases.map(([n]) => tel.callback({ idempotencyKey: f.key(`cb-${n}`), number: n, ringTimeoutS: 2 })));
        const refused = await refusing.callback({ idempotencyKey: f.key('cb-refused'), number: t.numbers.answer });
        const results = await Promise.all(tickets.map((x) => x.done));
        results.forEach((r, i) => {
          const [n, outcome, causes] = cases[i]!;
          expect(r.status, n).toBe('not_reached');
          expect(r.elder, n).toMatchObject({ outcome, answered: false });
          expect(causes, n).toContain(r.elder!.cause);
          const [rec] = m.calls.byFlow(r.callId);
          expect(rec?.end, n).toMatchObject({ outcome, cause: r.elder!.cause });
          expectTimes(rec, false);
          expect(f.played(rec!.channelId), n).toEqual([]);
          expect(f.dials(rec!.channelId), n).toBe(1);
        });
        const rf = await refused.done;
        expect(rf).toMatchObject({ status: 'not_reached', elder: { outcome: 'failed', cause: null, answered: false } });
        const [rfRec] = m.calls.byFlow(rf.callId);
        expect(rfRec).toMatchObject({ endpoint: `Nope/${t.numbers.answer}`, end: { outcome: 'failed', cause: null } });
        expect(rfRec?.end?.detail).toMatch(/500 Allocation failed/);
        expectTimes(rfRec, false);
        // no answer: the originate's own ring timeout ended it, nobody asked for a hang-up, nothing was played
        const na = m.calls.byFlow(results[1]!.callId)[0]!;
        expect(f.hungUpBy(na.channelId)).toBeUndefined();
        if (t.sim) {
          // the simulator records who ended the call (here its timeout of 2 s)
          expect(t.sim.callLog().find((c) => c.number === t.numbers.noAnswer)).toMatchObject({ endedBy: 'timeout', cause: 19, playbacks: [] });
        }
        expect(tel.health().liveLegs).toBe(0);
      } finally {
        await refusing.stop();
      }
    });

    it('with an agent: the elder waits in the bridge, the agent answers, both are bridged; the elder hanging up ends both', async () => {
      const { t, tel, m } = f;
      // answers at once and hangs up 6 s later (0.6 s on the simulator): after the greeting and the agent's answer
      const elderNumber = t.numbers.hangupAfter(6);
      const tk = await tel.callback({ idempotencyKey: f.key('cb-agent'), number: elderNumber, alarmId: 'A2', greeting: [GREETING], agent: { agentId: 'agent-1', extension: t.agents.answer } });
      const r = await tk.done;
      expect(r).toMatchObject({ status: 'completed', bridged: true, elder: { outcome: 'answered', cause: 16 }, agent: { outcome: 'answered', party: 'agent' } });
      const [elder, agent] = [r.elder!.channelId, r.agent!.channelId];
      const bridgeId = `${tk.callId}-br`;
      expect(f.entered(bridgeId)).toEqual([elder, agent]);
      expect(f.played(elder)).toEqual([GREETING]);
      // the elder hung up (far end); the hub then hung the agent up
      expect(f.hungUpBy(elder)).toBe('far_end');
      expect(f.hungUpBy(agent)).toBe('app');
      const ends = m.calls.ops.filter((o) => o.startsWith('ended:'));
      expect(ends.indexOf(`ended:${elder}:answered`)).toBeLessThan(ends.indexOf(`ended:${agent}:answered`));
      expect(m.calls.get(elder)).toMatchObject({ number: elderNumber, end: { cause: 16, outcome: 'answered' } });
      expect(m.calls.get(agent)).toMatchObject({ party: 'agent', agentId: 'agent-1', number: t.agents.answer, endpoint: t.agent(t.agents.answer), alarmId: 'A2', end: { outcome: 'answered' } });
      expectTimes(m.calls.get(elder), true);
      expectTimes(m.calls.get(agent), true);
      expect(m.agentChanges.filter((c) => c.channelId === agent).map((c) => [c.agentId, c.state])).toEqual([
        ['agent-1', 'ringing'],
        ['agent-1', 'on_call'],
        ['agent-1', 'idle'],
      ]);
      if (t.sim) {
        // the simulator's own record of who ended each call
        expect(t.sim.callLog().find((c) => c.channelId === elder)).toMatchObject({ endedBy: 'far_end', cause: 16 });
        expect(t.sim.callLog().find((c) => c.channelId === agent)).toMatchObject({ endedBy: 'app' });
        expect(t.sim.bridges()).toEqual([]);
      }
      expect(await f.gone({ channels: [elder, agent], bridges: [bridgeId] })).toEqual([]);
      expect(tel.health().liveLegs).toBe(0);
    });

    it('an agent who does not answer: the elder hears the no-agent prompt and is hung up', async () => {
      const { t, tel, m } = f;
      const tk = await tel.callback({ idempotencyKey: f.key('cb-agent-na'), number: t.numbers.answer, agent: { agentId: 'agent-2', extension: t.agents.noAnswer }, agentRingTimeoutS: 2 });
      const r = await tk.done;
      expect(r).toMatchObject({ status: 'agent_unavailable', bridged: false, elder: { outcome: 'answered', cause: 16 }, agent: { outcome: 'no_answer', answered: false } });
      expect(f.noAnswerCauses).toContain(r.agent!.cause);
      const elder = r.elder!.channelId;
      // the configured greeting, then Anxin's own no-agent prompt (installed on the real server: it must play, not fail)
      expect(f.played(elder)).toEqual([CONFIGURED_GREETING, 'sound:anxin-no-agent']);
      expect(f.finished(elder)).toEqual([`${CONFIGURED_GREETING} done`, 'sound:anxin-no-agent done']);
      expect(f.hungUpBy(elder)).toBe('app');
      expect(m.calls.get(r.agent!.channelId)).toMatchObject({ party: 'agent', agentId: 'agent-2', end: { outcome: 'no_answer' } });
      expect(m.agentChanges.filter((c) => c.channelId === r.agent!.channelId).map((c) => c.state)).toEqual(['ringing', 'idle']);
      if (t.sim) expect(t.sim.callLog().find((c) => c.channelId === elder)?.playbacks).toEqual([CONFIGURED_GREETING, 'sound:anxin-no-agent']);
      expect(tel.health()).toMatchObject({ liveLegs: 0, degraded: false });
    }, 40_000);

    it('a retried request never dials twice: concurrent, after the first call ended, and from a restarted process', async () => {
      const { t, tel, m } = f;
      const key = f.key('cb-retry');
      const req = { idempotencyKey: key, number: t.numbers.busy };
      const [a, b] = await Promise.all([tel.callback(req), tel.callback(req)]);
      expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
      expect(a.callId).toBe(b.callId);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      expect([ra.status, rb.status].sort()).toEqual(['duplicate', 'not_reached']);

      // the first leg has ended: Asterisk would accept its channel id again
      const c = await tel.callback(req);
      expect(c.duplicate).toBe(true);
      expect((await c.done).status).toBe('duplicate');

      // a new process (fresh adapter memory, not even connected) sharing the call log: refused by CallLog.claim
      const other = createTelephony(f.options({ app: `anxin-cb-other-${process.pid}` }));
      const d = await other.callback(req);
      expect(d.duplicate).toBe(true);
      expect((await d.done).status).toBe('duplicate');

      const recs = m.calls.byFlow(a.callId);
      expect(recs).toHaveLength(1);
      expect(recs[0]?.end).toMatchObject({ outcome: 'busy', cause: 17 });
      expect(f.dials(recs[0]!.channelId)).toBe(1);
      if (t.sim) expect(t.sim.originateLog().filter((o) => o.dialed && o.endpoint?.includes(t.numbers.busy))).toHaveLength(1);
      expect(m.calls.ops.filter((o) => o.startsWith(`claim:${key}#elder`))).toEqual([`claim:${key}#elder:true`, `claim:${key}#elder:false`, `claim:${key}#elder:false`]);
    });

    it('an invalid number is reported without dialling or claiming', async () => {
      const { t, tel, m } = f;
      const key = f.key('cb-invalid');
      const tk = await tel.callback({ idempotencyKey: key, number: 'not a number' });
      expect((await tk.done).status).toBe('invalid_number');
      expect(m.calls.claimed.has(`${key}#elder`)).toBe(false);
      expect(m.calls.byFlow(tk.callId)).toEqual([]);
      expect(f.updates).toEqual([]);
      expect(f.events.filter((e) => e.type === 'Dial')).toEqual([]);
      if (t.sim) expect(t.sim.originateLog()).toEqual([]);
    });
  });
}
