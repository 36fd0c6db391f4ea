/**
 * The hotline through the whole gateway (issue 19), against the simulator and, with TEST_ARI_URL, the real
 * Asterisk: an elder's daughter calls while her mother has an open alarm (priority); the longest-idle agent
 * (8002, never answers) rings first with the screen-pop on their WebSocket only, goes 置忙 with the reason
 * no_answer (audited), and 8001 rings and answers; the call record is flow hotline with its queue wait, the
 * call's timeline and recording are linked. A caller who hangs up in the queue lands on the call-back list; with
 * nobody signed in the queue overflows to voicemail (supervisors alerted, the recording on the call-back row);
 * the IVR's emergency digit raises an alarm for the caller's elder. The gateway takes inbound calls with app
 * "anxin": on the real server under lockInbound() for the whole suite.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { makeAri } from '../helpers/ari-raw.js';
import { targets, type AriTargetEnv, type CallerHandle } from '../helpers/ari-target.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

const QUEUE_DID = '12351';
const IVR_DID = '12349';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Agent {
  id: number;
  token: string;
  headers: { authorization: string };
  ws: WsClient;
}

for (const target of targets()) {
  describe(`hotline in the gateway (${target.name})`, () => {
    let t: AriTargetEnv;
    let release: () => void = () => undefined;
    let app: App;
    let admin: { authorization: string };
    let adminWs: WsClient;
    let a1: Agent; // extension 8001: answers
    let a2: Agent; // extension 8002: never answers
    let elderId: number;
    let daughterId: number;
    const callers: CallerHandle[] = [];
    const tag = String(process.pid % 1000).padStart(3, '0');
    let n = 0;
    const num = () => `138${tag}${target.name === 'sim' ? '5' : '6'}${String(++n).padStart(4, '0')}`;
    const ELDER = num();
    const DAUGHTER = num();

    const agentUser = async (username: string, extension: string): Promise<Agent> => {
      const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username, role: 'agent', password: 'password-123', extension } });
      expect([200, 201], u.body).toContain(u.statusCode);
      const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'password-123' } });
      const token = l.json().token as string;
      return { id: u.json().id, token, headers: { authorization: `Bearer ${token}` }, ws: await WsClient.open(app.httpPort, token) };
    };
    const signIn = async (a: Agent, extension: string) => {
      const r = await app.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: a.headers, payload: { extension, state: 'ready' } });
      expect(r.statusCode, r.body).toBe(200);
    };
    const setState = async (a: Agent, state: string) => {
      const r = await app.http.inject({ method: 'POST', url: '/api/agents/me/state', headers: a.headers, payload: { state } });
      expect(r.statusCode, r.body).toBe(200);
    };
    const signOut = (a: Agent) => app.http.inject({ method: 'POST', url: '/api/agents/me/sign-out', headers: a.headers });
    const me = async (a: Agent) => (await app.http.inject({ url: '/api/agents/me', headers: a.headers })).json();
    const call = async (did: string, from: string) => {
      const c = await t.injectCall({ did, from });
      callers.push(c);
      return c;
    };
    const row = async (sql: string, params: unknown[], ms = 30_000, what = sql) => {
      try {
        return await until(async () => (await app.db.query(sql, params)).rows[0], ms);
      } catch {
        throw new Error(`not found in ${ms} ms: ${what}`);
      }
    };
    const incoming = (entryId: string) => (m: Record<string, unknown>) => m.type === 'incoming_call' && m.entryId === entryId;

    beforeAll(async () => {
      t = await target.start({ timeScale: 1 });
      release = await t.lockInbound();
      app = await startTestApp({}, {
        TELEPHONY: 'ari',
        ARI_URL: t.url,
        ARI_USERNAME: t.username,
        ARI_PASSWORD: t.password,
        ARI_APP: t.inboundApp,
        ARI_TRUNK_TEMPLATE: t.trunkTemplate,
        ARI_AGENT_TEMPLATE: t.agentTemplate,
        RED_LINE_DID: t.lines.red,
        GREEN_LINE_DID: t.lines.green,
        HOTLINE_DIDS: `${QUEUE_DID},${IVR_DID}`,
        HOTLINE_IVR: JSON.stringify({ [IVR_DID]: { greeting: { 'zh-CN': ['sound:anxin-hotline-welcome'] }, options: { '1': 'emergency', '2': 'services' }, timeoutS: 5 } }),
        RING_TIMEOUT_S: '3',
        QUEUE_MAX_WAIT_S: '60',
        QUEUE_OVERFLOW: 'voicemail',
        VOICEMAIL_MAX_S: '3',
        WRAP_UP_S: '0',
      });
      admin = await login(app);
      adminWs = await WsClient.open(app.httpPort, (await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: 'test-admin-pass' } })).json().token);
      const e = await app.http.inject({
        method: 'POST', url: '/api/elders', headers: admin,
        // only a screen-pop on an alarm: no automatic callback or cascade dialling the test's made-up numbers
        payload: { name: '张秀英', phone: ELDER, contacts: [{ name: '李芳', relation: '女儿', phone: DAUGHTER }], responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }] } },
      });
      expect(e.statusCode, e.body).toBe(201);
      elderId = e.json().id;
      daughterId = (await app.db.query('SELECT id FROM contacts WHERE elder_id = $1', [elderId])).rows[0].id;
      a2 = await agentUser('zuoxi2', t.agents.noAnswer);
      a1 = await agentUser('zuoxi1', t.agents.answer);
      await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'), 30_000);
    }, 300_000); // includes the wait for the shared app "anxin" (ari-lock)

    afterEach(async () => {
      await Promise.all(callers.splice(0).map((c) => c.close().catch(() => undefined)));
      // every call record of the test ended (the hub hung up what was left)
      await until(async () => (await app.db.query(`SELECT 1 FROM calls WHERE channel_id IS NOT NULL AND ended_at IS NULL`)).rowCount === 0, 30_000).catch(() => undefined);
    }, 40_000);

    afterAll(async () => {
      for (const w of [a1?.ws, a2?.ws, adminWs]) w?.close();
      await app?.stop();
      release();
      await t?.stop();
    });

    it('ACD: a priority caller; 8002 (longest idle) rings with the screen-pop to that agent only, misses, goes 置忙; 8001 answers', async () => {
      // the mother has an open P1 alarm, in hand with the admin (not an agent in the pool)
      const adminId = (await app.db.query(`SELECT id FROM users WHERE username = 'admin'`)).rows[0].id;
      await app.db.query(`INSERT INTO alarms (kind, priority, state, elder_id, source_key, owner_id) VALUES ('fall', 1, 'in_progress', $1, 'test:fall', $2)`, [elderId, adminId]);
      await signIn(a2, t.agents.noAnswer);
      await sleep(50);
      await signIn(a1, t.agents.answer);

      const c = await call(QUEUE_DID, DAUGHTER);
      const id = c.hubChannelId;
      const pop = await a2.ws.waitFor(incoming(id), 20_000);
      expect(pop).toMatchObject({
        type: 'incoming_call', entryId: id, callerNumber: DAUGHTER, did: QUEUE_DID, priority: true, language: 'zh-CN',
        match: { elder: { id: elderId, name: '张秀英' }, contact: { id: daughterId, name: '李芳', relation: '女儿' } },
      });
      expect((pop.openAlarms as { kind: string; priority: number }[]).map((a) => [a.kind, a.priority])).toEqual([['fall', 1]]);
      expect(pop.recentCalls).toEqual([]); // the call itself is not among them
      // 振铃 shown to supervisors
      await adminWs.waitFor((m) => m.type === 'agent' && m.userId === a2.id && m.state === 'ringing', 10_000);
      expect(a1.ws.messages.filter(incoming(id))).toEqual([]);
      expect(adminWs.messages.filter(incoming(id))).toEqual([]);

      // no answer within RING_TIMEOUT_S: 8002 goes 置忙 with the reason, audited; 8001 rings and answers
      await a2.ws.waitFor((m) => m.type === 'hotline_missed' && m.entryId === id, 20_000);
      const pop1 = await a1.ws.waitFor(incoming(id), 20_000);
      expect(pop1).toMatchObject({ priority: true, match: { contact: { id: daughterId } } });
      let st: Record<string, unknown> = {};
      await until(async () => (st = await me(a2)).state === 'not_ready', 10_000).catch(() => {
        throw new Error(`8002 not 置忙: ${JSON.stringify(st)}`);
      });
      expect(st).toMatchObject({ state: 'not_ready', reason: 'no_answer' });
      await row(`SELECT 1 FROM audit_log WHERE action = 'agent_missed_call' AND target = $1 AND detail->>'reason' = 'no_answer'`, [`user:${a2.id}`]);
      const ans = await a1.ws.waitFor((m) => m.type === 'hotline_answered' && m.entryId === id, 20_000);
      expect(ans).toMatchObject({ userId: a1.id });
      await a2.ws.waitFor((m) => m.type === 'hotline_answered' && m.entryId === id, 5000); // closes 8002's pop
      await until(async () => (await me(a1)).state === 'on_call', 10_000);

      await sleep(1000);
      await c.hangup();
      const done = await a1.ws.waitFor((m) => m.type === 'hotline_done' && m.entryId === id, 20_000);
      expect(done).toMatchObject({ result: 'answered', agentId: a1.id });
      await a2.ws.waitFor((m) => m.type === 'hotline_done' && m.entryId === id, 5000);

      const rec = await row(`SELECT * FROM calls WHERE channel_id = $1 AND ended_at IS NOT NULL`, [id], 20_000, 'the caller leg ended');
      expect(rec).toMatchObject({ flow: 'hotline', flow_id: id, direction: 'inbound', party: 'contact', elder_id: elderId, contact_id: daughterId, did: QUEUE_DID, queue_result: 'answered' });
      expect(rec.queue_wait_ms).toBeGreaterThan(2000);
      expect(rec.queue).toMatchObject({ agentId: String(a1.id), missedAgents: [String(a2.id)], priority: true });
      const legs = (await app.db.query(`SELECT agent_id, outcome FROM calls WHERE flow_id = $1 AND party = 'agent' ORDER BY id`, [id])).rows;
      expect(legs).toEqual([{ agent_id: a2.id, outcome: 'no_answer' }, { agent_id: a1.id, outcome: 'answered' }]);
      // the call's timeline and its recording
      await row(`SELECT 1 FROM call_actions WHERE call_id = $1 AND action = 'connected'`, [id], 10_000, 'call_actions connected');
      const recorded = await row(`SELECT recording, recording_state FROM calls WHERE channel_id = $1 AND recording IS NOT NULL`, [id], 30_000, 'recording linked');
      expect(recorded.recording).toBe(`anxin-call-${id}`);
      // 8001 hung up: wrap-up 0 s → ready again
      await until(async () => (await me(a1)).state === 'ready', 10_000);
    }, 120_000);

    it('a caller who hangs up in the queue lands on the call-back list with the wait time', async () => {
      await setState(a1, 'not_ready');
      await setState(a2, 'not_ready');
      const from = num();
      const c = await call(QUEUE_DID, from);
      const id = c.hubChannelId;
      await row(`SELECT 1 FROM calls WHERE channel_id = $1 AND answered_at IS NOT NULL`, [id], 20_000, 'the hub answered');
      await sleep(1500);
      await c.hangup();
      const cb = await row(`SELECT * FROM callback_requests WHERE entry_id = $1`, [id], 20_000, 'call-back row');
      expect(cb).toMatchObject({ reason: 'abandoned', caller_number: from, did: QUEUE_DID, position: 1, elder_id: null, handled_at: null });
      expect(cb.wait_ms).toBeGreaterThanOrEqual(1000);
      await adminWs.waitFor((m) => m.type === 'callback_request' && (m.request as { entryId: string }).entryId === id, 5000);
      const rec = await row(`SELECT queue_result FROM calls WHERE channel_id = $1 AND ended_at IS NOT NULL`, [id], 20_000, 'caller leg ended');
      expect(rec.queue_result).toBe('abandoned');
    }, 60_000);

    it('a caller who hangs up while an agent rings: not the agent\'s miss, they are ready again', async () => {
      await setState(a2, 'ready');
      const c = await call(QUEUE_DID, num());
      const id = c.hubChannelId;
      await a2.ws.waitFor(incoming(id), 20_000);
      await until(async () => (await me(a2)).state === 'ringing', 5000);
      await c.hangup();
      await a2.ws.waitFor((m) => m.type === 'hotline_done' && m.entryId === id, 20_000);
      await until(async () => (await me(a2)).state === 'ready', 10_000);
      expect(a2.ws.messages.filter((m) => m.type === 'hotline_missed' && m.entryId === id)).toEqual([]);
      await row(`SELECT 1 FROM callback_requests WHERE entry_id = $1 AND reason = 'abandoned'`, [id], 10_000, 'call-back row');
      await setState(a2, 'not_ready');
    }, 60_000);

    it('nobody signed in: the supervisors are alerted and voicemail takes the call; the recording is on the call-back row', async () => {
      await signOut(a1);
      await signOut(a2);
      const from = num();
      const c = await call(QUEUE_DID, from);
      const id = c.hubChannelId;
      const alert = await adminWs.waitFor((m) => m.type === 'queue_alert' && m.entryId === id, 20_000);
      expect(alert).toMatchObject({ reason: 'queue_overflow', overflow: 'no_agents', to: 'voicemail', did: QUEUE_DID });
      await row(`SELECT 1 FROM audit_log WHERE action = 'hotline_overflow' AND target = $1`, [`call:${id}`], 10_000, 'overflow audited');
      // the caller stays silent: the recording ends after VOICEMAIL_MAX_S, then thanks and hang-up
      const cb = await row(`SELECT * FROM callback_requests WHERE entry_id = $1 AND reason = 'voicemail'`, [id], 60_000, 'voicemail call-back row');
      expect(cb).toMatchObject({ caller_number: from, did: QUEUE_DID });
      expect(cb.recording).toMatch(/^hotline-/);
      const ari = makeAri(t.url, t.username, t.password);
      expect((await ari('GET', `recordings/stored/${cb.recording}`)).status).toBe(200);
      // the agent plays it through Anxin (never from Asterisk): a WAV, audited; installers may not
      const play = await app.http.inject({ url: `/api/callbacks/${cb.id}/recording`, headers: a1.headers });
      expect(play.statusCode, play.body).toBe(200);
      expect(play.headers['content-type']).toBe('audio/wav');
      expect(play.rawPayload.toString('ascii', 8, 12)).toBe('WAVE');
      await row(`SELECT 1 FROM audit_log WHERE action = 'voicemail_play' AND target = $1 AND actor = $2`, [`callback:${cb.id}`, `user:${a1.id}`], 5000, 'voicemail playback audited');
      expect((await app.http.inject({ url: `/api/callbacks/999999/recording`, headers: a1.headers })).statusCode).toBe(404);
      await ari('DELETE', `recordings/stored/${cb.recording}`);
      expect((await app.http.inject({ url: `/api/callbacks/${cb.id}/recording`, headers: a1.headers })).statusCode).toBe(404);
      const rec = await row(`SELECT queue_result, queue FROM calls WHERE channel_id = $1 AND ended_at IS NOT NULL`, [id], 20_000, 'caller leg ended');
      expect(rec).toMatchObject({ queue_result: 'voicemail', queue: { voicemail: cb.recording } });
    }, 90_000);

    it("the IVR's emergency digit raises an alarm for the caller's elder", async () => {
      const c = await call(IVR_DID, ELDER);
      const id = c.hubChannelId;
      await row(`SELECT 1 FROM calls WHERE channel_id = $1 AND answered_at IS NOT NULL`, [id], 20_000, 'the hub answered');
      await sleep(500);
      await c.dtmf('1');
      const alarm = await row(`SELECT * FROM alarms WHERE kind = 'one_key_emergency' AND detail->>'entryId' = $1`, [id], 20_000, 'the emergency alarm');
      expect(alarm).toMatchObject({ elder_id: elderId, priority: 1 });
      expect(alarm.detail).toMatchObject({ via: 'hotline', did: IVR_DID, caller: 'elder', digit: '1' });
      await row(`SELECT 1 FROM calls WHERE channel_id = $1 AND alarm_id = $2`, [id, alarm.id], 10_000, 'the call record linked to the alarm');
      await c.hangup();
    }, 60_000);
  });
}
