/**
 * Agent click-to-call end to end, on every ARI target (tests/helpers/ari-target.ts): the simulator, and the
 * real Asterisk of TEST_ARI_URL (with CI=true a missing one fails the run). Agents and targets are the test
 * numbers of ../shared/asterisk/README.md through the target; call records go through the in-memory CallLog
 * port; the hub's ARI events show bridges, prompts and hang-ups on both targets, and the simulator's logs add
 * what only it records (`if (t.sim)`).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { targets } from '../helpers/ari-target.ts';
import { expectTimes, startFlowTarget, type FlowTarget } from '../helpers/telephony-flow-target.ts';
import { waitFor } from '../helpers/telephony-memory.ts';

for (const target of targets()) {
  describe(`agent click-to-call (${target.name})`, () => {
    let f: FlowTarget;
    beforeAll(async () => {
      f = await startFlowTarget(target, `anxin-c2c-${process.pid}`);
    });
    beforeEach(() => f.reset());
    afterAll(async () => {
      await f?.stop();
    });

    const dialled = (number: string) => f.t.sim?.originateLog().filter((o) => o.dialed && o.endpoint?.includes(number)) ?? [];

    it('agent answers → contact dialled → both enter the bridge → hangup(callId) tears both down', async () => {
      const { t, tel, m } = f;
      const key = f.key('c2c-1');
      const tk = await tel.clickToCall({ idempotencyKey: key, agentId: 'agent-1', extension: t.agents.answer, target: { party: 'contact', number: t.numbers.answer, contactId: 'K1' }, alarmId: 'A3' });
      const bridgeId = `${tk.callId}-br`;
      await waitFor(() => f.entered(bridgeId).length === 2, 10_000, 'both legs in the bridge');
      const agentId = m.calls.byKey(`${key}#agent`)!.channelId;
      const targetId = m.calls.byKey(`${key}#target`)!.channelId;
      expect(f.entered(bridgeId)).toEqual([agentId, targetId]);
      // the agent's leg was placed and answered before the target was dialled
      const creates = m.calls.ops.filter((o) => o.startsWith('create:'));
      expect(creates).toEqual([`create:${agentId}`, `create:${targetId}`]);
      expect(m.calls.get(agentId).answeredAt!.getTime()).toBeLessThanOrEqual(m.calls.get(targetId).createdAt.getTime());
      expect(f.events.flatMap((e) => (e.type === 'Dial' && e.dialstatus === '' ? [e.peer.id] : []))).toEqual([agentId, targetId]);
      if (t.sim) expect(t.sim.originateLog().map((o) => o.channelId)).toEqual([agentId, targetId]);
      expect((await f.ari('GET', `bridges/${bridgeId}`)).json).toMatchObject({ channels: expect.arrayContaining([agentId, targetId]) });

      expect(await tel.hangup(tk.callId)).toBe(true);
      const r = await tk.done;
      expect(r).toMatchObject({ status: 'completed', bridged: true, agent: { outcome: 'answered', cause: 16 }, target: { outcome: 'answered', party: 'contact', cause: 16 } });
      for (const id of [agentId, targetId]) {
        expect(f.hungUpBy(id), id).toBe('app');
        expect(f.destroyedCause(id), id).toBe(16);
        expect(f.dials(id), id).toBe(1);
        expect(m.calls.get(id).end, id).toMatchObject({ outcome: 'answered', cause: 16 });
        expectTimes(m.calls.get(id), true);
        if (t.sim) expect(t.sim.callLog().find((c) => c.channelId === id)).toMatchObject({ endedBy: 'app', cause: 16 });
      }
      expect(m.calls.get(agentId)).toMatchObject({ flow: 'click_to_call', party: 'agent', agentId: 'agent-1', number: t.agents.answer, endpoint: t.agent(t.agents.answer), alarmId: 'A3' });
      expect(m.calls.get(targetId)).toMatchObject({ flow: 'click_to_call', party: 'contact', contactId: 'K1', agentId: 'agent-1', number: t.numbers.answer, endpoint: t.trunk(t.numbers.answer) });
      expect(m.agentChanges.filter((c) => c.channelId === agentId).map((c) => c.state)).toEqual(['ringing', 'on_call', 'idle']);
      if (t.sim) {
        expect(t.sim.channels()).toEqual([]);
        expect(t.sim.bridges()).toEqual([]);
      }
      expect(await f.gone({ channels: [agentId, targetId], bridges: [bridgeId] })).toEqual([]);
      expect(await tel.hangup(tk.callId)).toBe(false);
      expect(tel.health().liveLegs).toBe(0);
    });

    it('the agent does not answer → the elder is never dialled', async () => {
      const { t, tel, m } = f;
      const key = f.key('c2c-na');
      const tk = await tel.clickToCall({ idempotencyKey: key, agentId: 'agent-2', extension: t.agents.noAnswer, target: { party: 'elder', number: t.numbers.answer }, agentRingTimeoutS: 2 });
      const r = await tk.done;
      expect(r).toMatchObject({ status: 'agent_not_reached', bridged: false, agent: { outcome: 'no_answer', answered: false } });
      expect(f.noAnswerCauses).toContain(r.agent!.cause);
      expect(r.target).toBeUndefined();
      expect(m.calls.byKey(`${key}#target`)).toBeUndefined();
      expect(m.calls.claimed.has(`${key}#target`)).toBe(false);
      expect(m.calls.byFlow(tk.callId).map((c) => [c.party, c.end?.outcome])).toEqual([['agent', 'no_answer']]);
      // one Dial in all: the agent's
      expect(f.events.flatMap((e) => (e.type === 'Dial' && e.dialstatus === '' ? [e.peer.id] : []))).toEqual([r.agent!.channelId]);
      expect(f.hungUpBy(r.agent!.channelId)).toBeUndefined();
      if (t.sim) expect(dialled(t.numbers.answer)).toHaveLength(0);
      expect(tel.health().liveLegs).toBe(0);
    });

    it('the target is busy → the agent hears a prompt and is hung up', async () => {
      const { t, tel, m } = f;
      const tk = await tel.clickToCall({ idempotencyKey: f.key('c2c-busy'), agentId: 'agent-1', extension: t.agents.answer, target: { party: 'elder', number: t.numbers.busy } });
      const r = await tk.done;
      expect(r).toMatchObject({ status: 'target_not_reached', bridged: false, agent: { outcome: 'answered', cause: 16 }, target: { outcome: 'busy', cause: 17 } });
      const agentId = r.agent!.channelId;
      // Anxin's own prompt (installed on the real server: it must play, not fail)
      expect(f.played(agentId)).toEqual(['sound:anxin-not-reached']);
      expect(f.finished(agentId)).toEqual(['sound:anxin-not-reached done']);
      expect(f.hungUpBy(agentId)).toBe('app');
      expect(m.calls.get(r.target!.channelId)).toMatchObject({ party: 'elder', number: t.numbers.busy, end: { outcome: 'busy', cause: 17 } });
      expectTimes(m.calls.get(r.target!.channelId), false);
      expectTimes(m.calls.get(agentId), true);
      if (t.sim) expect(t.sim.callLog().find((c) => c.channelId === agentId)?.playbacks).toEqual(['sound:anxin-not-reached']);
      expect(tel.health()).toMatchObject({ liveLegs: 0, degraded: false });
    }, 30_000);

    it('the agent hangs up from the dashboard while the target rings → the target is cancelled', async () => {
      const { t, tel, m } = f;
      const key = f.key('c2c-cancel');
      const tk = await tel.clickToCall({ idempotencyKey: key, agentId: 'agent-1', extension: t.agents.answer, target: { party: 'elder', number: t.numbers.noAnswer }, ringTimeoutS: 30 });
      const targetRinging = () => {
        const rec = m.calls.byKey(`${key}#target`);
        return rec && f.updates.some((u) => u.channelId === rec.channelId && u.state === 'ringing');
      };
      await waitFor(targetRinging, 10_000, 'target ringing');
      expect(await tel.hangup(tk.callId)).toBe(true);
      const r = await tk.done;
      expect(r).toMatchObject({ status: 'cancelled', bridged: false, agent: { outcome: 'answered' }, target: { outcome: 'cancelled', cause: 16, answered: false } });
      expect(m.calls.get(r.target!.channelId).end).toMatchObject({ outcome: 'cancelled', cause: 16 });
      expectTimes(m.calls.get(r.target!.channelId), false);
      expect(f.hungUpBy(r.target!.channelId)).toBe('app');
      expect(f.hungUpBy(r.agent!.channelId)).toBe('app');
      if (t.sim) expect(t.sim.callLog().find((c) => c.channelId === r.target!.channelId)).toMatchObject({ endedBy: 'app' });
      expect(await f.live({ channels: [r.agent!.channelId, r.target!.channelId] })).toEqual([]);
      expect(tel.health().liveLegs).toBe(0);
    });
  });
}
