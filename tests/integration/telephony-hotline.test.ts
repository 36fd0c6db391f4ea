/**
 * Hotline calls (issue 19): queue in a holding bridge with MOH and position announcements, ACD with a
 * no-answer to the next agent (8002 never answers, 8001 answers after 0.5 s), priority jump, abandon, overflow
 * to the night number and to voicemail, the IVR's emergency digit. Against the simulator and, with
 * TEST_ARI_URL, the real Asterisk: a caller is `Local/<did>@from-trunk` (from-trunk's `_X.` → Stasis(anxin))
 * whose ;1 half the test drives (ari-target.ts injectCall). The hub uses app "anxin": the suite holds
 * lockInbound() throughout. Timings are loose (2-core machine, real time on both targets).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTelephony, type HotlineAnswered, type HotlineDone, type HotlineQueued, type AgentRing, type HotlineOverflow, type HotlineAbandon, type Telephony } from '../../telephony/index.ts';
import { makeAri } from '../helpers/ari-raw.ts';
import { targets, type AriTargetEnv, type CallerHandle } from '../helpers/ari-target.ts';
import { addHotlinePorts, type HotlineMemory } from '../helpers/hotline-memory.ts';
import { memoryPorts, waitFor, type MemoryPorts } from '../helpers/telephony-memory.ts';

const QUEUE_DID = '12351';
const IVR_DID = '12349';
const NIGHT_DID = '12350';
const NIGHT = '13800000001';

for (const target of targets()) {
  describe(`hotline (${target.name})`, () => {
    let t: AriTargetEnv;
    let tel: Telephony;
    let release: () => void = () => undefined;
    let m: MemoryPorts;
    let h: HotlineMemory;
    const callers: CallerHandle[] = [];
    const ev = { queued: [] as HotlineQueued[], announced: [] as HotlineQueued[], ringing: [] as AgentRing[], answered: [] as HotlineAnswered[], done: [] as HotlineDone[], overflow: [] as HotlineOverflow[], abandoned: [] as HotlineAbandon[] };
    const tag = String(process.pid % 1000).padStart(3, '0');
    let n = 0;
    const num = () => `139${tag}${target.name === 'sim' ? '1' : '2'}${String(++n).padStart(4, '0')}`;

    beforeAll(async () => {
      t = await target.start({ timeScale: 1 });
      release = await t.lockInbound();
      m = memoryPorts();
      h = addHotlinePorts(m);
      tel = createTelephony({
        url: t.url,
        username: t.username,
        password: t.password,
        app: t.inboundApp,
        trunkTemplate: t.trunkTemplate,
        agentTemplate: t.agentTemplate,
        redDid: t.lines.red,
        greenDid: t.lines.green,
        ports: m.ports,
        timeScale: t.timeScale,
        hotlines: [
          { did: QUEUE_DID, name: 'queue' },
          {
            did: IVR_DID,
            name: '12349',
            ivr: { greeting: { 'zh-CN': ['sound:anxin-hotline-welcome'], en: ['sound:anxin-hotline-welcome'] }, options: { '1': 'emergency', '2': 'services' }, timeoutS: 5 },
          },
          { did: NIGHT_DID, name: 'night', queueMaxWaitS: 3, overflow: { to: 'night', number: NIGHT, ringTimeoutS: 10 } },
        ],
        queue: { ringTimeoutS: 2, maxWaitS: 60, announceEveryS: 3, agentPollS: 0.5, overflow: { to: 'voicemail', maxS: 2 } },
      });
      tel.on('hotline_queued', (e) => ev.queued.push(e));
      tel.on('hotline_announced', (e) => ev.announced.push(e));
      tel.on('hotline_ringing', (e) => ev.ringing.push(e));
      tel.on('hotline_answered', (e) => ev.answered.push(e));
      tel.on('hotline_done', (e) => ev.done.push(e));
      tel.on('hotline_overflow', (e) => ev.overflow.push(e));
      tel.on('hotline_abandoned', (e) => ev.abandoned.push(e));
      await tel.start();
      expect(await tel.waitUntilUp(10_000)).toBe(true);
    }, 300_000); // includes the wait for the shared app "anxin" (ari-lock)

    afterEach(async () => {
      await Promise.all(callers.splice(0).map((c) => c.close().catch(() => undefined)));
      await waitFor(() => tel.health().liveLegs === 0 && tel.hotline.waiting().length === 0, 20_000, 'every leg ended');
    }, 30_000);

    afterAll(async () => {
      await tel?.stop();
      release();
      await t?.stop();
    });

    const call = async (did: string, from: string): Promise<CallerHandle> => {
      const c = await t.injectCall({ did, from });
      callers.push(c);
      return c;
    };
    const done = (id: string) => waitFor(() => ev.done.find((d) => d.call.entryId === id), 20_000, `hotline_done of ${id}`);

    it('queue and ACD: the longest-idle agent (8002) does not answer, the next (8001) does; screen-pop while it rings', async () => {
      h.setAgents([
        ['A2', t.agents.noAnswer, 'ready'],
        ['A1', t.agents.answer, 'ready'],
      ]);
      const from = num();
      h.callers.set(from, { elder: { elderId: 'E1', name: 'Wang' }, contact: { contactId: 'C1', relation: 'daughter' }, alarmIds: [] });
      const c = await call(QUEUE_DID, from);
      const id = c.hubChannelId;

      const first = await waitFor(() => ev.ringing.find((r) => r.call.entryId === id), 15_000, 'first agent ringing');
      expect(first).toMatchObject({ userId: 'A2', extension: t.agents.noAnswer, call: { entryId: id, callerNumber: from, did: QUEUE_DID, match: { elder: { elderId: 'E1' }, contact: { contactId: 'C1' } } } });
      expect(h.ringing.map((r) => r.userId)).toContain('A2');

      const ans = await waitFor(() => ev.answered.find((a) => a.call.entryId === id), 30_000, 'agent answered');
      expect(ans.userId).toBe('A1');
      expect(ev.ringing.filter((r) => r.call.entryId === id).map((r) => r.userId)).toEqual(['A2', 'A1']);
      expect(h.missed).toContainEqual({ userId: 'A2', reason: 'no_answer' });
      expect(h.agents.get('A2')?.state).toBe('not_ready');
      // the caller is in the mixing bridge with the agent, out of the holding bridge
      const br = await makeAri(t.url, t.username, t.password)('GET', `bridges/${ans.bridgeId}`);
      expect((br.json as { channels: string[] }).channels.sort()).toEqual([id, ans.agentChannelId].sort());

      await c.hangup();
      const d = await done(id);
      expect(d.summary).toMatchObject({ entryId: id, result: 'answered', agentId: 'A1', missedAgents: ['A2'], priority: false });
      const legs = m.calls.byFlow(id);
      const caller = m.calls.get(id);
      expect(caller).toMatchObject({ flow: 'hotline', direction: 'inbound', party: 'contact', elderId: 'E1', contactId: 'C1', did: QUEUE_DID, number: from });
      expect(caller.end?.queue).toMatchObject({ result: 'answered', agentId: 'A1' });
      const agents = legs.filter((l) => l.party === 'agent');
      expect(agents.map((a) => [a.agentId, a.end?.outcome])).toEqual([
        ['A2', 'no_answer'],
        ['A1', 'answered'],
      ]);
      expect(agents.every((a) => a.flow === 'hotline' && a.direction === 'outbound')).toBe(true);
      expect(tel.hotline.stats()).toMatchObject({ answered: 1 });
    }, 90_000);

    it('announces positions; a caller whose elder has an open P1/P2 alarm jumps the queue', async () => {
      h.setAgents([['A1', t.agents.answer, 'not_ready']]); // signed in, nobody ready
      const x = await call(QUEUE_DID, num());
      await waitFor(() => ev.announced.find((a) => a.call.entryId === x.hubChannelId), 15_000, 'first announcement');
      expect(ev.announced.find((a) => a.call.entryId === x.hubChannelId)?.position).toBe(1);

      const fromY = num();
      h.callers.set(fromY, { elder: { elderId: 'E2' }, priority: true });
      const y = await call(QUEUE_DID, fromY);
      const ay = await waitFor(() => ev.announced.find((a) => a.call.entryId === y.hubChannelId), 15_000, 'announcement to the priority caller');
      expect(ay.position).toBe(1);
      expect(tel.hotline.waiting().map((w) => w.entryId)).toEqual([y.hubChannelId, x.hubChannelId]);
      // x hears the new position at the next announcement
      await waitFor(() => ev.announced.find((a) => a.call.entryId === x.hubChannelId && a.position === 2), 20_000, 'x announced as number 2');
      expect(tel.health().failingPrompts.filter((p) => p.startsWith('sound:anxin-queue'))).toEqual([]);

      h.ready('A1');
      tel.hotline.agentsChanged();
      const ring = await waitFor(() => ev.ringing.find((r) => r.userId === 'A1' && [x.hubChannelId, y.hubChannelId].includes(r.call.entryId)), 15_000, 'A1 ringing');
      expect(ring.call).toMatchObject({ entryId: y.hubChannelId, priority: true });
      await waitFor(() => ev.answered.find((a) => a.call.entryId === y.hubChannelId), 15_000, 'y answered');
    }, 90_000);

    it('a caller who hangs up in the queue is abandoned with the wait time', async () => {
      h.setAgents([['A1', t.agents.answer, 'not_ready']]);
      const before = tel.hotline.stats().abandoned;
      const c = await call(QUEUE_DID, num());
      await waitFor(() => ev.queued.find((q) => q.call.entryId === c.hubChannelId), 15_000, 'queued');
      await new Promise((r) => setTimeout(r, 1500));
      await c.hangup();
      const ab = await waitFor(() => h.abandoned.find((a) => a.entryId === c.hubChannelId), 10_000, 'abandoned port call');
      expect(ab.waitMs).toBeGreaterThanOrEqual(1000);
      expect(ab.position).toBe(1);
      expect(ev.abandoned.map((a) => a.entryId)).toContain(c.hubChannelId);
      const d = await done(c.hubChannelId);
      expect(d.summary).toMatchObject({ result: 'abandoned' });
      expect(m.calls.get(c.hubChannelId).end?.queue?.result).toBe('abandoned');
      expect(tel.hotline.stats().abandoned).toBe(before + 1);
    }, 60_000);

    it('overflow past the maximum wait: the supervisors are alerted and the night number takes the call', async () => {
      h.setAgents([['A1', t.agents.answer, 'not_ready']]);
      const c = await call(NIGHT_DID, num());
      const id = c.hubChannelId;
      const ov = await waitFor(() => h.overflows.find((o) => o.entryId === id), 20_000, 'overflow alert');
      expect(ov).toMatchObject({ reason: 'max_wait', to: 'night', did: NIGHT_DID });
      expect(ov.waitMs).toBeGreaterThanOrEqual(2500);
      const night = await waitFor(() => m.calls.byKey(`hotline:${id}#night`)?.answeredAt && m.calls.byKey(`hotline:${id}#night`), 20_000, 'night number answered');
      expect(night).toMatchObject({ flow: 'hotline', flowId: id, number: NIGHT, party: 'unknown' });
      await c.hangup();
      const d = await done(id);
      expect(d.summary).toMatchObject({ result: 'night' });
      expect(m.calls.get(night.channelId).end?.outcome).toBe('answered');
    }, 60_000);

    it('nobody signed in: overflow at once to voicemail, stored as a recording', async () => {
      h.setAgents([]);
      const c = await call(QUEUE_DID, num());
      const id = c.hubChannelId;
      const ov = await waitFor(() => h.overflows.find((o) => o.entryId === id), 15_000, 'overflow alert');
      expect(ov).toMatchObject({ reason: 'no_agents', to: 'voicemail' });
      const vm = await waitFor(() => h.voicemails.find((v) => v.entryId === id), 40_000, 'voicemail stored');
      const d = await done(id);
      expect(d.summary).toMatchObject({ result: 'voicemail', voicemail: vm.recording });
      const ari = makeAri(t.url, t.username, t.password);
      expect((await ari('GET', `recordings/stored/${vm.recording}`)).status).toBe(200);
      expect((await ari('DELETE', `recordings/stored/${vm.recording}`)).status).toBe(204);
    }, 60_000);

    it('IVR: the emergency digit raises the port call for the caller\'s elder and gives priority', async () => {
      h.setAgents([['A1', t.agents.answer, 'not_ready']]);
      const from = num();
      h.callers.set(from, { elder: { elderId: 'E3', name: 'Li' }, language: 'en' });
      const c = await call(IVR_DID, from);
      const id = c.hubChannelId;
      await waitFor(() => m.calls.calls.get(id)?.answeredAt, 15_000, 'answered by the hub');
      await new Promise((r) => setTimeout(r, 500));
      await c.dtmf('1');
      const e = await waitFor(() => h.emergencies.find((x) => x.entryId === id), 15_000, 'emergency port call');
      expect(e).toMatchObject({ digit: '1', callerNumber: from, did: IVR_DID, match: { elder: { elderId: 'E3' } }, language: 'en', priority: true, ivrChoice: 'emergency' });
      const q = await waitFor(() => ev.queued.find((x) => x.call.entryId === id), 20_000, 'queued after the IVR');
      expect(q.call).toMatchObject({ priority: true, ivrChoice: 'emergency' });
      expect(tel.hotline.stats().emergencies).toBeGreaterThanOrEqual(1);
      await c.hangup();
      const d = await done(id);
      expect(d.summary).toMatchObject({ result: 'abandoned', ivrChoice: 'emergency', priority: true });
    }, 60_000);
  });
}
