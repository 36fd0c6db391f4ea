/**
 * Issue 19, in the call: hold, mute, DTMF, blind and attended transfer, conference, recording and supervisor
 * snoop on a click-to-call's bridged call, on every ARI target (the simulator, and the real Asterisk of
 * TEST_ARI_URL). Agents answer on Local/8001@sim-agents; far ends are the test numbers (answer / echo).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallAction, CallLog, CallRecording } from '../../telephony/index.ts';
import { targets } from '../helpers/ari-target.ts';
import { startFlowTarget, type FlowTarget } from '../helpers/telephony-flow-target.ts';
import { waitFor } from '../helpers/telephony-memory.ts';

/** Polls an async condition (waitFor only takes synchronous ones). */
async function until(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** RIFF/WAVE header facts: sample rate, channels, bits, data bytes. */
function wav(buf: Buffer): { rate: number; channels: number; bits: number; dataBytes: number } {
  expect(buf.toString('ascii', 0, 4)).toBe('RIFF');
  expect(buf.toString('ascii', 8, 12)).toBe('WAVE');
  let off = 12;
  const out = { rate: 0, channels: 0, bits: 0, dataBytes: 0 };
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') Object.assign(out, { channels: buf.readUInt16LE(off + 10), rate: buf.readUInt32LE(off + 12), bits: buf.readUInt16LE(off + 22) });
    if (id === 'data') out.dataBytes = Math.min(size, buf.length - off - 8);
    off += 8 + size + (size % 2);
  }
  return out;
}

for (const target of targets()) {
  describe(`in-call controls (${target.name})`, () => {
    let f: FlowTarget;
    const actions: CallAction[] = [];
    const portActions: CallAction[] = [];
    const recordings: CallRecording[] = [];
    beforeAll(async () => {
      f = await startFlowTarget(target, `anxin-controls-${process.pid}`, { telephony: { defaults: { ringTimeoutS: 10, agentRingTimeoutS: 10 } } });
      const calls = f.m.ports.calls as CallLog;
      calls.action = async (a) => void portActions.push(a);
      calls.recorded = async (r) => void recordings.push(r);
      f.tel.on('call_action', (a) => actions.push(a));
    });
    beforeEach(() => {
      f.reset();
      actions.length = 0;
      portActions.length = 0;
    });
    afterAll(async () => {
      await f?.stop();
    });

    const members = async (bridgeId: string): Promise<string[]> => ((await f.ari('GET', `bridges/${bridgeId}`)).json?.channels ?? []).sort();
    const did = (callId: string, action: string) => actions.filter((a) => a.callId === callId && a.action === action);

    /** A click-to-call from agent 8001 to `number`, handed over to the controls. */
    async function call(name: string, number = f.t.numbers.answer) {
      const key = f.key(name);
      const tk = await f.tel.clickToCall({ idempotencyKey: key, agentId: 'agent-1', extension: f.t.agents.answer, target: { party: 'elder', number, elderId: 'E1' } });
      await waitFor(() => did(tk.callId, 'connected').length, 20_000, 'the call is connected');
      const agent = f.m.calls.byKey(`${key}#agent`)!.channelId;
      const far = f.m.calls.byKey(`${key}#target`)!.channelId;
      return { key, tk, id: tk.callId, agent, far, br: `${tk.callId}-br` };
    }

    async function hangUpAndCheck(c: Awaited<ReturnType<typeof call>>) {
      await f.tel.hangup(c.id);
      const r = await c.tk.done;
      expect(r.status).toBe('completed');
      await waitFor(() => did(c.id, 'ended').length, 10_000, 'ended reported');
      expect(f.tel.controls.get(c.id)).toBeUndefined();
      expect(f.tel.health().liveLegs).toBe(0);
      const side = [`${c.id}-hold`, `${c.id}-br`];
      // DELETE /bridges returns before Asterisk has finished taking the bridge down: GET may list it a moment longer
      await until(async () => (await f.live({ bridges: side })).length === 0, 5000, 'side bridges gone');
      return r;
    }

    it('hold and unhold (holding bridge with MOH), mute, DTMF into an echo', async () => {
      const c = await call('ctl-hold', f.t.numbers.echo);
      expect(await members(c.br)).toEqual([c.agent, c.far].sort());
      await f.tel.controls.hold(c.id, { by: 'u1' });
      expect(await members(`${c.id}-hold`)).toEqual([c.far]);
      expect(await members(c.br)).toEqual([c.agent]);
      expect(f.tel.controls.get(c.id)?.parties.find((p) => p.channelId === c.far)?.held).toBe(true);
      await f.tel.controls.unhold(c.id, { by: 'u1' });
      expect(await members(c.br)).toEqual([c.agent, c.far].sort());
      await f.tel.controls.mute(c.id, { by: 'u1' });
      await f.tel.controls.unmute(c.id, { by: 'u1', who: 'agent' });
      await f.tel.controls.sendDtmf(c.id, '12', { by: 'u1' });
      await waitFor(() => f.dtmf(c.far) === '12', 10_000, 'the echo sends the digits back');
      await expect(f.tel.controls.sendDtmf(c.id, 'x', { by: 'u1' })).rejects.toMatchObject({ code: 'invalid' });
      await hangUpAndCheck(c);
      expect(actions.filter((a) => a.callId === c.id).map((a) => a.action)).toEqual(['connected', 'recording_started', 'hold', 'unhold', 'mute', 'unmute', 'dtmf', 'recording_stopped', 'ended']);
      expect(did(c.id, 'hold')[0]).toMatchObject({ by: 'u1', channelId: c.far });
      expect(did(c.id, 'mute')[0]).toMatchObject({ channelId: c.agent, detail: { direction: 'in' } });
      expect(did(c.id, 'dtmf')[0]).toMatchObject({ channelId: c.far, detail: { digits: '12' } });
      await waitFor(() => portActions.filter((a) => a.callId === c.id).length === 9, 5000, 'CallLog.action for each');
      await expect(f.tel.controls.hold(c.id, { by: 'u1' })).rejects.toMatchObject({ code: 'no_call' });
    });

    for (const [what, to] of [
      ['another agent', { extension: '8001', agentId: 'agent-2' }],
      ['an outside number', { number: '13800000001', party: 'contact' as const }],
    ] as const) {
      it(`blind transfer to ${what}: the agent leaves, the far party talks to the target`, async () => {
        const c = await call(`ctl-blind-${'extension' in to ? 'agent' : 'number'}`);
        const r = await f.tel.controls.transferBlind(c.id, to, { by: 'u1' });
        expect(r.status).toBe('transferred');
        await waitFor(() => f.m.calls.get(c.agent).end, 10_000, 'the agent leg ended');
        expect(await members(c.br)).toEqual([c.far, r.channelId].sort());
        expect(f.m.calls.get(r.channelId)).toMatchObject({ flowId: c.id, flow: 'click_to_call', party: 'extension' in to ? 'agent' : 'contact', elderId: 'E1' });
        expect(f.tel.controls.get(c.id)?.parties.map((p) => p.role).sort()).toEqual(['far', 'third']);
        await hangUpAndCheck(c);
        expect(f.m.calls.get(r.channelId).end).toMatchObject({ outcome: 'answered' });
        expect(did(c.id, 'transfer_blind')[0]).toMatchObject({ by: 'u1', detail: 'extension' in to ? { extension: '8001' } : { number: '13800000001' } });
      });
    }

    it('attended transfer: consult in a separate bridge, then complete', async () => {
      const c = await call('ctl-att-ok');
      const r = await f.tel.controls.consult(c.id, { extension: '8001' }, { by: 'u1' });
      expect(r.status).toBe('consulting');
      const consult = f.tel.controls.get(c.id)!.consulting!;
      expect(await members(consult.bridgeId)).toEqual([c.agent, r.channelId].sort());
      expect(await members(`${c.id}-hold`)).toEqual([c.far]);
      await f.tel.controls.completeTransfer(c.id, { by: 'u1' });
      await waitFor(() => f.m.calls.get(c.agent).end, 10_000, 'the agent leg ended');
      expect(await members(c.br)).toEqual([c.far, r.channelId].sort());
      expect(await f.live({ bridges: [consult.bridgeId] })).toEqual([]);
      await hangUpAndCheck(c);
      expect(actions.filter((a) => a.callId === c.id).map((a) => a.action)).toEqual(expect.arrayContaining(['consult', 'transfer_complete']));
    });

    it('attended transfer: consult, then cancel back to the far party', async () => {
      const c = await call('ctl-att-cancel');
      const r = await f.tel.controls.consult(c.id, { number: '13800000001' }, { by: 'u1' });
      expect(r.status).toBe('consulting');
      await f.tel.controls.cancelTransfer(c.id, { by: 'u1' });
      await waitFor(() => f.m.calls.get(r.channelId).end, 10_000, 'the target leg ended');
      expect(await members(c.br)).toEqual([c.agent, c.far].sort());
      expect(f.tel.controls.get(c.id)?.consulting).toBeUndefined();
      await hangUpAndCheck(c);
      expect(did(c.id, 'transfer_cancel')).toHaveLength(1);
    });

    it('three-way conference: a family member joins; the agent leaves; the last two talk until one leaves', async () => {
      const c = await call('ctl-conf');
      const r = await f.tel.controls.addParty(c.id, { number: '13800000001', party: 'contact', contactId: 'K9' }, { by: 'u1' });
      expect(r.status).toBe('transferred');
      expect(await members(c.br)).toEqual([c.agent, c.far, r.channelId].sort());
      await f.tel.controls.removeParty(c.id, { by: 'u1', who: 'agent' });
      await waitFor(() => f.m.calls.get(c.agent).end, 10_000, 'the agent leg ended');
      expect(await members(c.br)).toEqual([c.far, r.channelId].sort());
      expect(f.tel.controls.get(c.id)).toBeDefined();
      await f.tel.controls.removeParty(c.id, { by: 'u1', who: r.channelId });
      const done = await c.tk.done;
      expect(done.status).toBe('completed');
      expect(f.m.calls.get(c.far).end).toMatchObject({ outcome: 'answered' });
      expect(f.m.calls.get(r.channelId)).toMatchObject({ contactId: 'K9' });
      expect(did(c.id, 'party_left').map((a) => a.channelId)).toEqual([c.agent, r.channelId]);
    });

    it('records the bridged call; the stored WAV is fetched and deleted', async () => {
      const c = await call('ctl-rec', f.t.numbers.echo);
      await new Promise((res) => setTimeout(res, 2500));
      await hangUpAndCheck(c);
      const rec = await waitFor(() => recordings.find((x) => x.callId === c.id), 10_000, 'CallLog.recorded');
      expect(rec).toMatchObject({ name: f.tel.recordings.nameFor(c.id), format: 'wav', state: 'done' });
      expect(rec.durationS).toBeGreaterThanOrEqual(1);
      expect(await f.tel.recordings.get(rec.name)).toEqual({ name: rec.name, format: 'wav' });
      const bytes = await f.tel.recordings.file(rec.name);
      const w = wav(bytes!);
      expect(w).toMatchObject({ rate: 8000, channels: 1, bits: 16 });
      expect(w.dataBytes).toBeGreaterThan(8000); // more than half a second of audio
      expect(await f.tel.recordings.delete(rec.name)).toBe(true);
      expect(await f.tel.recordings.get(rec.name)).toBeUndefined();
      expect(await f.tel.recordings.file(rec.name)).toBeUndefined();
      expect(await f.tel.recordings.delete(rec.name)).toBe(false);
    });

    it('supervisor: listen, whisper (snoop channels) and barge', async () => {
      const c = await call('ctl-sup');
      const s = await f.tel.controls.listen(c.id, { extension: '8001', agentId: 'sup-1' }, { by: 'sup-1' });
      expect(s.status).toBe('connected');
      const snoops = async () => ((await f.ari('GET', 'channels')).json as { id: string; name: string }[]).filter((ch) => ch.id.startsWith(`${c.id}-snoop`));
      const first = await snoops();
      expect(first).toHaveLength(1);
      expect(first[0]!.name).toMatch(new RegExp(`^Snoop/${c.agent}-`));
      const supBridge = (await f.ari('GET', 'bridges')).json.find((b: { id: string }) => b.id.startsWith(`${c.id}-sup`));
      expect([...supBridge.channels].sort()).toEqual([first[0]!.id, s.sessionId].sort());
      expect(await members(c.br)).toEqual([c.agent, c.far].sort());
      await f.tel.controls.changeSupervisorMode(c.id, s.sessionId, 'whisper', { by: 'sup-1' });
      // the old snoop channel's hang-up completes asynchronously on a real Asterisk: wait for exactly the new one
      await until(async () => {
        const now = (await snoops()).map((x) => x.id);
        return now.length === 1 && now[0] !== first[0]!.id;
      }, 5000, 'one new snoop channel');
      await f.tel.controls.changeSupervisorMode(c.id, s.sessionId, 'barge', { by: 'sup-1' });
      expect(await members(c.br)).toEqual([c.agent, c.far, s.sessionId].sort());
      await until(async () => (await snoops()).length === 0, 5000, 'no snoop left');
      await f.tel.controls.endSupervision(c.id, s.sessionId);
      await waitFor(() => f.m.calls.get(s.sessionId).end, 10_000, 'the supervisor leg ended');
      expect(f.tel.controls.get(c.id)?.parties.map((p) => p.role).sort()).toEqual(['agent', 'far']);
      await hangUpAndCheck(c);
      expect(actions.filter((a) => a.callId === c.id && ['listen', 'whisper', 'barge', 'supervisor_left'].includes(a.action)).map((a) => a.action)).toEqual(['listen', 'whisper', 'barge', 'supervisor_left']);
      expect(f.m.calls.get(s.sessionId)).toMatchObject({ party: 'agent', agentId: 'sup-1', flowId: c.id });
    });
  });
}
