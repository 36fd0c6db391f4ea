/**
 * Issue 19, "a restart mid-flow": the hub's process dies while hotline callers wait in the holding bridge, an
 * agent's phone rings for one of them, or a caller talks with an agent. Asterisk keeps those channels in Stasis;
 * the next run takes them over (telephony/flows/recover.ts) before it takes new calls.
 *
 * A crash is a telephony/ instance whose ARI connection goes through a proxy (tests/helpers/ari-proxy.ts) that is
 * cut: its WebSocket and HTTP die at once and nothing graceful reaches Asterisk; the instance object is then only
 * stopped in-process. Between runs the memory call log is treated like the gateway's database at start
 * (endOrphanCalls: every live record ended as lost). Both targets; app "anxin" under lockInbound().
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTelephony, type AgentRing, type HotlineAnswered, type HotlineDone, type HotlineQueued, type RecoveryReport, type Telephony } from '../../telephony/index.ts';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';
import { makeAri, openEvents } from '../helpers/ari-raw.ts';
import { startAriProxy, type AriProxy } from '../helpers/ari-proxy.ts';
import { targets, type AriTargetEnv, type CallerHandle } from '../helpers/ari-target.ts';
import { addHotlinePorts, type HotlineMemory } from '../helpers/hotline-memory.ts';
import { memoryPorts, waitFor, type MemoryPorts } from '../helpers/telephony-memory.ts';

const DID = '12351';
const RESUMED = 'resumed after a hub restart';

for (const target of targets()) {
  describe(`hotline restart mid-flow (${target.name})`, () => {
    let t: AriTargetEnv;
    let release: () => void = () => undefined;
    let m: MemoryPorts;
    let h: HotlineMemory;
    let ari: ReturnType<typeof makeAri>;
    const instances: Telephony[] = [];
    const proxies: AriProxy[] = [];
    const callers: CallerHandle[] = [];
    const tag = String(process.pid % 1000).padStart(3, '0');
    let n = 0;
    const num = () => `137${tag}${target.name === 'sim' ? '1' : '2'}${String(++n).padStart(4, '0')}`;

    interface Run {
      tel: Telephony;
      proxy?: AriProxy;
      queued: HotlineQueued[];
      announced: HotlineQueued[];
      ringing: AgentRing[];
      answered: HotlineAnswered[];
      done: HotlineDone[];
      recovered: RecoveryReport[];
    }

    /** A hub run; `crashable`: through a proxy that crash() cuts. `intercept`: a proxy hook from the start. */
    async function run(o: { crashable?: boolean; proxy?: AriProxy } = {}): Promise<Run> {
      const proxy = o.proxy ?? (o.crashable ? await startAriProxy(t.url) : undefined);
      if (proxy) proxies.push(proxy);
      const tel = createTelephony({
        url: proxy?.url ?? t.url,
        username: t.username,
        password: t.password,
        app: t.inboundApp,
        trunkTemplate: t.trunkTemplate,
        agentTemplate: t.agentTemplate,
        redDid: t.lines.red,
        greenDid: t.lines.green,
        ports: m.ports,
        timeScale: t.timeScale,
        hotlines: [{ did: DID, name: 'queue' }],
        // 8002 never answers: a ring timeout long enough that it is still ringing when the hub dies
        queue: { ringTimeoutS: 30, maxWaitS: 240, announceEveryS: 3, agentPollS: 0.5, overflow: { to: 'voicemail', maxS: 2 } },
        ari: { keepalive: { intervalMs: 0 } },
      });
      instances.push(tel);
      const r: Run = { tel, queued: [], announced: [], ringing: [], answered: [], done: [], recovered: [] };
      if (proxy) r.proxy = proxy;
      tel.on('hotline_queued', (e) => r.queued.push(e));
      tel.on('hotline_announced', (e) => r.announced.push(e));
      tel.on('hotline_ringing', (e) => r.ringing.push(e));
      tel.on('hotline_answered', (e) => r.answered.push(e));
      tel.on('hotline_done', (e) => r.done.push(e));
      tel.on('recovered', (e) => r.recovered.push(e));
      await tel.start();
      expect(tel.health().state).toBe('up');
      return r;
    }

    /** The process dies: its connection to Asterisk is gone at once; then the gateway's start ends its records as orphans. */
    async function crash(r: Run): Promise<void> {
      await r.proxy!.cut();
      await r.tel.stop(); // in-process clean-up only: nothing reaches Asterisk any more
      m.calls.endOrphans();
    }

    const call = async (from: string): Promise<CallerHandle> => {
      const c = await t.injectCall({ did: DID, from });
      callers.push(c);
      return c;
    };

    /** Our channels and bridges still on Asterisk. */
    const leftovers = async (channels: string[]) => {
      const ch = ((await ari('GET', 'channels')).json as { id: string }[]).map((c) => c.id);
      const br = (await ari('GET', 'bridges')).json as { id: string; channels: string[] }[];
      return { channels: channels.filter((id) => ch.includes(id)), bridges: br.filter((b) => b.channels.some((id) => channels.includes(id))).map((b) => b.id) };
    };
    const settled = async (channels: string[], ms = 10_000) => {
      const end = Date.now() + ms;
      for (;;) {
        const l = await leftovers(channels);
        if ((l.channels.length === 0 && l.bridges.length === 0) || Date.now() > end) return l;
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    beforeAll(async () => {
      t = await target.start({ timeScale: 1 });
      release = await t.lockInbound();
      ari = makeAri(t.url, t.username, t.password);
      m = memoryPorts();
      h = addHotlinePorts(m);
    }, 300_000); // includes the wait for the shared app "anxin" (ari-lock)

    afterEach(async () => {
      await Promise.all(callers.splice(0).map((c) => c.close().catch(() => undefined)));
      const live = instances[instances.length - 1];
      if (live) await waitFor(() => live.health().liveLegs === 0 && live.hotline.waiting().length === 0, 20_000, 'every leg ended').catch(() => undefined);
      for (const tel of instances.splice(0)) await tel.stop().catch(() => undefined);
      for (const p of proxies.splice(0)) await p.close().catch(() => undefined);
    }, 60_000);

    afterAll(async () => {
      release();
      await t?.stop();
    });

    it('callers waiting, an agent ringing, then a conversation: two restarts, nobody lost, the records end with the calls', async () => {
      // --- run 1: 3 callers queue; the only ready agent (8002) rings for the first and never answers
      h.setAgents([['A2', t.agents.noAnswer, 'ready']]);
      const r1 = await run({ crashable: true });
      const c1 = await call(num());
      await waitFor(() => r1.queued.find((q) => q.call.entryId === c1.hubChannelId), 15_000, 'c1 queued');
      const c2 = await call(num());
      await waitFor(() => r1.queued.find((q) => q.call.entryId === c2.hubChannelId), 15_000, 'c2 queued');
      const c3 = await call(num());
      await waitFor(() => r1.queued.find((q) => q.call.entryId === c3.hubChannelId), 15_000, 'c3 queued');
      const ids = [c1, c2, c3].map((c) => c.hubChannelId);
      const ring1 = await waitFor(() => r1.ringing.find((r) => r.call.entryId === ids[0]), 15_000, 'A2 ringing for c1');
      expect(r1.tel.hotline.waiting().map((w) => w.entryId)).toEqual(ids);
      const firstRecords = ids.map((id) => ({ ...m.calls.get(id) }));

      // --- crash
      await crash(r1);
      expect(ids.every((id) => m.calls.get(id).end?.outcome === 'lost')).toBe(true);
      // Asterisk keeps them: still in the holding bridge, the agent's phone still ringing
      const hb = await ari('GET', `bridges/${t.inboundApp}-hotline-queue`);
      expect(hb.status).toBe(200);
      expect([...(hb.json as { channels: string[] }).channels].sort()).toEqual(expect.arrayContaining([...ids].sort()));
      expect((await ari('GET', `channels/${ring1.channelId}`)).status).toBe(200);
      const appAfter = await ari('GET', `applications/${t.inboundApp}`);
      expect(appAfter.status).toBe(200); // kept by Asterisk (inactive) with its channels
      expect((appAfter.json as { channel_ids: string[] }).channel_ids).toEqual(expect.arrayContaining([...ids, ring1.channelId]));

      // --- run 2: takes them over, in the same order
      const r2 = await run({ crashable: true });
      const rep2 = r2.recovered[0]!;
      expect(rep2.requeued).toEqual(ids);
      expect(rep2.hungUp).toContain(ring1.channelId);
      expect(r2.tel.hotline.waiting().map((w) => w.entryId)).toEqual(ids);
      expect((await settled([ring1.channelId], 5000)).channels).toEqual([]);
      for (const [i, id] of ids.entries()) {
        const rec = m.calls.get(id);
        expect(rec.end).toBeUndefined(); // re-opened, not a second record
        expect(rec.createdAt).toEqual(firstRecords[i]!.createdAt);
      }
      // position announcements go on, MOH stays (still in the holding bridge)
      await waitFor(() => ids.every((id) => r2.announced.some((a) => a.call.entryId === id)), 15_000, 'announcements resumed');
      expect(r2.announced.find((a) => a.call.entryId === ids[2])?.position).toBe(3);
      const hb2 = await ari('GET', `bridges/${t.inboundApp}-hotline-queue`);
      expect([...(hb2.json as { channels: string[] }).channels].sort()).toEqual([...ids].sort());

      // an agent becomes ready: the oldest caller first
      h.setAgents([
        ['A2', t.agents.noAnswer, 'not_ready'],
        ['A1', t.agents.answer, 'ready'],
      ]);
      r2.tel.hotline.agentsChanged();
      const ans = await waitFor(() => r2.answered[0], 20_000, 'A1 answered');
      expect(ans.call.entryId).toBe(ids[0]);
      expect(r2.ringing.map((r) => r.call.entryId)).toEqual([ids[0]]);
      const agentLeg = ans.agentChannelId;
      expect(r2.tel.hotline.waiting().map((w) => w.entryId)).toEqual(ids.slice(1));

      // --- crash again, with c1 talking to A1; meanwhile an empty bridge the old run had made for c2 is left behind
      await crash(r2);
      expect((await ari('POST', `bridges/${ids[1]}-br`, { query: { type: 'mixing', name: ids[1] } })).status).toBe(200);

      // --- run 3: c3 hangs up while the new run reads it
      const p3 = await startAriProxy(t.url);
      let c3Gone = false;
      p3.intercept = async ({ method, url }) => {
        if (!c3Gone && method === 'GET' && url.startsWith(`/ari/channels/${encodeURIComponent(ids[2]!)}`)) {
          c3Gone = true;
          await c3.hangup();
          for (let i = 0; i < 50 && (await ari('GET', `channels/${ids[2]}`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 100));
        }
        return undefined;
      };
      const r3 = await run({ proxy: p3 });
      const rep3 = r3.recovered[0]!;
      expect(c3Gone).toBe(true);
      expect(rep3.conversations).toEqual([{ bridgeId: ans.bridgeId, channels: expect.arrayContaining([ids[0], agentLeg]) }]);
      expect(rep3.requeued).toEqual([ids[1]]);
      expect(rep3.destroyedBridges).toContain(`${ids[1]}-br`);
      expect(r3.tel.hotline.waiting().map((w) => w.entryId)).toEqual([ids[1]]);
      // c3 left while nobody could listen: abandoned, on the call-back list, its record ended
      expect(rep3.vanished).toContain(ids[2]);
      expect(await waitFor(() => h.abandoned.find((a) => a.entryId === ids[2]), 10_000, 'c3 on the call-back list')).toMatchObject({ resumed: true });
      expect(m.calls.get(ids[2]!).end).toMatchObject({ detail: `hung up while the hub was restarting; ${RESUMED}`, queue: { result: 'abandoned' } });
      // the conversation is still up, its records live again
      const br = await ari('GET', `bridges/${ans.bridgeId}`);
      expect((br.json as { channels: string[] }).channels).toEqual(expect.arrayContaining([ids[0], agentLeg]));
      expect((await ari('GET', `bridges/${ids[1]}-br`)).status).toBe(404);
      expect(m.calls.get(ids[0]!).end).toBeUndefined();
      expect(m.calls.get(agentLeg).end).toBeUndefined();

      // c1 hangs up: both records end as answered, not as lost
      await c1.hangup();
      const d1 = await waitFor(() => r3.done.find((d) => d.call.entryId === ids[0]), 20_000, 'c1 done');
      expect(d1.summary).toMatchObject({ result: 'answered', agentId: 'A1', resumed: true });
      const rc1 = m.calls.get(ids[0]!);
      expect(rc1.end).toMatchObject({ outcome: 'answered', detail: RESUMED, queue: { result: 'answered', agentId: 'A1', resumed: true } });
      expect(rc1.answeredAt).toEqual(firstRecords[0]!.answeredAt);
      expect(m.calls.get(agentLeg).end).toMatchObject({ outcome: 'answered', detail: RESUMED });
      expect((await settled([ids[0]!, agentLeg])).bridges).toEqual([]);

      // c2 is served by the new run as usual
      h.ready('A1');
      r3.tel.hotline.agentsChanged();
      const ans2 = await waitFor(() => r3.answered.find((a) => a.call.entryId === ids[1]), 20_000, 'c2 answered');
      await c2.hangup();
      await waitFor(() => r3.done.find((d) => d.call.entryId === ids[1]), 20_000, 'c2 done');
      expect(m.calls.get(ids[1]!).end).toMatchObject({ outcome: 'answered', queue: { result: 'answered', resumed: true } });

      // nothing of ours is left on Asterisk; no record stays live
      const left = await settled([...ids, ring1.channelId, agentLeg, ans2.agentChannelId]);
      expect(left).toEqual({ channels: [], bridges: [] });
      await waitFor(() => [...m.calls.calls.values()].every((c) => c.end), 10_000, 'every record ended');
      expect(r3.tel.health().liveLegs).toBe(0);
    }, 180_000);

    it('what the recovery relies on: a closed app keeps its channels, bridges and ringing legs; a re-add leaves and enters again', async () => {
      const app = `restart-facts-${process.pid}-${Date.now().toString(36)}`;
      const ev = await openEvents(t.url, app, { user: t.username, pass: t.password });
      const a = `${app}-a`;
      const r = `${app}-r`;
      const hb = `${app}-hb`;
      try {
        expect((await ari('POST', 'channels', { query: { endpoint: t.trunk(t.numbers.silent), app, channelId: a, timeout: 10 } })).status).toBe(200);
        await ev.waitFor((e) => e.type === 'StasisStart' && e.channel?.id === a, 10_000);
        expect((await ari('POST', `bridges/${hb}`, { query: { type: 'holding' } })).status).toBe(200);
        expect((await ari('POST', `bridges/${hb}/moh`)).status).toBe(204);
        expect((await ari('POST', `bridges/${hb}/addChannel`, { query: { channel: a } })).status).toBe(204);
        expect((await ari('POST', 'channels', { query: { endpoint: t.agent(t.agents.noAnswer), app, channelId: r, timeout: 30, appArgs: 'anxin,hotline,agent' } })).status).toBe(200);
        await ev.waitFor((e) => e.type === 'Dial' && e.peer?.id === r && e.dialstatus === 'RINGING', 10_000);
        await ev.close();
        await new Promise((res) => setTimeout(res, 300));
        const info = await ari('GET', `applications/${app}`);
        expect(info.status).toBe(200);
        expect(info.json).toMatchObject({ channel_ids: expect.arrayContaining([a, r]), bridge_ids: [hb] });
        expect(((await ari('GET', `bridges/${hb}`)).json as { channels: string[] }).channels).toEqual([a]);
        const ringing = (await ari('GET', `channels/${r}`)).json as { state: string; dialplan: { app_name: string } };
        expect(ringing).toMatchObject({ state: 'Ringing', dialplan: { app_name: 'AppDial2' } });
        const up = (await ari('GET', `channels/${a}`)).json as { state: string; dialplan: { app_name: string; app_data: string } };
        expect(up).toMatchObject({ state: 'Up', dialplan: { app_name: 'Stasis', app_data: app } });
        // a new connection for the app gets nothing replayed; a re-add takes the channel out and puts it back
        const ev2 = await openEvents(t.url, app, { user: t.username, pass: t.password });
        try {
          expect((await ari('POST', `bridges/${hb}/addChannel`, { query: { channel: a } })).status).toBe(204);
          await ev2.waitFor((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === a, 5000);
          expect(ev2.events.filter((e) => e.channel?.id === a).map((e) => e.type)).toEqual(['ChannelLeftBridge', 'ChannelEnteredBridge']);
          expect((await ari('DELETE', `channels/${r}`)).status).toBe(204);
          expect((await ari('DELETE', `channels/${a}`)).status).toBe(204);
          await ev2.waitFor((e) => e.type === 'StasisEnd' && e.channel?.id === a, 5000);
        } finally {
          await ev2.close();
        }
      } finally {
        await ari('DELETE', `channels/${r}`);
        await ari('DELETE', `channels/${a}`);
        await ari('DELETE', `bridges/${hb}`);
        await ev.close();
      }
    }, 60_000);

    it('a caller who cannot be put back in the queue is on the call-back list and hung up, never left with music', async () => {
      h.setAgents([['A1', t.agents.answer, 'not_ready']]);
      const r1 = await run({ crashable: true });
      const c = await call(num());
      const id = c.hubChannelId;
      await waitFor(() => r1.queued.find((q) => q.call.entryId === id), 15_000, 'queued');
      await crash(r1);
      // the holding bridge is lost for good (destroyed by someone else) and cannot be made again
      const p = await startAriProxy(t.url);
      p.intercept = ({ method, url }) => (method === 'POST' && url.includes(`${t.inboundApp}-hotline-queue`) ? { status: 500, body: { error: 'Allocation failed' } } : undefined);
      expect((await ari('DELETE', `bridges/${t.inboundApp}-hotline-queue`)).status).toBe(204);
      const r2 = await run({ proxy: p });
      const rep = r2.recovered[0]!;
      expect(rep.callbacks).toEqual([id]);
      expect(rep.requeued).toEqual([]);
      const ab = await waitFor(() => h.abandoned.find((a) => a.entryId === id), 10_000, 'on the call-back list');
      expect(ab).toMatchObject({ resumed: true, did: DID });
      await waitFor(() => r2.done.find((d) => d.call.entryId === id), 10_000, 'done');
      expect(m.calls.get(id).end).toMatchObject({ detail: RESUMED, queue: { result: 'abandoned', resumed: true } });
      expect(await settled([id])).toEqual({ channels: [], bridges: [] });
    }, 120_000);
  });
}

/**
 * The same through the whole gateway: a caller waits; the gateway stops (its telephony hangs no hotline caller up:
 * the same as a crash for them) and a new one starts on the same database (endOrphanCalls ends the record as lost,
 * then the recovery re-opens it). The caller is back in the queue; when they hang up their one record ends with the
 * queue summary, and they are on the call-back list.
 */
for (const target of targets()) {
  describe(`hotline restart through the gateway (${target.name})`, () => {
    let t: AriTargetEnv;
    let release: () => void = () => undefined;
    const apps: App[] = [];
    const callers: CallerHandle[] = [];
    let databaseUrl: string;
    const env = () => ({
      TELEPHONY: 'ari',
      ARI_URL: t.url,
      ARI_USERNAME: t.username,
      ARI_PASSWORD: t.password,
      ARI_APP: t.inboundApp,
      ARI_TRUNK_TEMPLATE: t.trunkTemplate,
      ARI_AGENT_TEMPLATE: t.agentTemplate,
      RED_LINE_DID: t.lines.red,
      GREEN_LINE_DID: t.lines.green,
      HOTLINE_DIDS: DID,
      RING_TIMEOUT_S: '3',
      QUEUE_MAX_WAIT_S: '120',
      QUEUE_OVERFLOW: 'voicemail',
      WRAP_UP_S: '0',
    });
    const row = async (app: App, sql: string, params: unknown[], ms = 20_000, what = sql) => {
      try {
        return await until(async () => (await app.db.query(sql, params)).rows[0], ms);
      } catch {
        throw new Error(`not found in ${ms} ms: ${what}`);
      }
    };

    beforeAll(async () => {
      t = await target.start({ timeScale: 1 });
      release = await t.lockInbound();
      databaseUrl = await createTestDatabase('restart');
    }, 300_000);

    afterAll(async () => {
      await Promise.all(callers.splice(0).map((c) => c.close().catch(() => undefined)));
      for (const a of apps.splice(0)) await a.stop().catch(() => undefined);
      release();
      await t?.stop();
    });

    it('the waiting caller is taken over by the next gateway; one record, re-opened, ends when they hang up; call-back list', async () => {
      const app1 = await startTestApp({ databaseUrl }, env());
      apps.push(app1);
      await until(() => app1.health.report().then((h) => h.parts.telephony?.state === 'up'), 30_000);
      const admin = await login(app1);
      const u = await app1.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'zuoxi9', role: 'agent', password: 'password-123', extension: t.agents.answer } });
      expect([200, 201], u.body).toContain(u.statusCode);
      const token = (await app1.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'zuoxi9', password: 'password-123' } })).json().token as string;
      const agent = { authorization: `Bearer ${token}` };
      expect((await app1.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: agent, payload: { extension: t.agents.answer, state: 'ready' } })).statusCode).toBe(200);
      expect((await app1.http.inject({ method: 'POST', url: '/api/agents/me/state', headers: agent, payload: { state: 'not_ready' } })).statusCode).toBe(200);

      const from = `136${String(process.pid % 1000).padStart(3, '0')}${target.name === 'sim' ? '1' : '2'}0001`;
      const c = await t.injectCall({ did: DID, from });
      callers.push(c);
      const id = c.hubChannelId;
      const first = await row(app1, `SELECT * FROM calls WHERE channel_id = $1 AND answered_at IS NOT NULL`, [id], 20_000, 'answered by the hub');
      const gw = makeAri(t.url, t.username, t.password);
      const inQueue = async () => ((await gw('GET', `bridges/${t.inboundApp}-hotline-queue`)).json as { channels?: string[] } | undefined)?.channels?.includes(id) === true;
      await until(inQueue, 10_000);

      await app1.stop();
      apps.splice(apps.indexOf(app1), 1);
      expect((await gw('GET', `channels/${id}`)).status).toBe(200);
      expect(await inQueue()).toBe(true);

      const app2 = await startTestApp({ databaseUrl }, env());
      apps.push(app2);
      await until(() => app2.health.report().then((h) => h.parts.telephony?.state === 'up'), 30_000);
      await row(app2, `SELECT 1 FROM calls WHERE channel_id = $1 AND ended_at IS NULL`, [id], 15_000, 'the record re-opened');
      expect(await inQueue()).toBe(true);
      const live = (await app2.db.query(`SELECT * FROM calls WHERE channel_id = $1`, [id])).rows;
      expect(live).toHaveLength(1);
      expect(live[0]).toMatchObject({ id: first.id, ended_at: null, outcome: null });
      expect(live[0].answered_at).toEqual(first.answered_at);

      await new Promise((r) => setTimeout(r, 1000));
      await c.hangup();
      const ended = await row(app2, `SELECT * FROM calls WHERE channel_id = $1 AND ended_at IS NOT NULL`, [id], 20_000, 'caller leg ended');
      expect(ended).toMatchObject({ id: first.id, queue_result: 'abandoned', detail: RESUMED });
      expect(ended.queue).toMatchObject({ resumed: true });
      const cb = await row(app2, `SELECT * FROM callback_requests WHERE entry_id = $1`, [id], 20_000, 'call-back row');
      expect(cb).toMatchObject({ reason: 'abandoned', caller_number: from, did: DID });
    }, 180_000);
  });
}
