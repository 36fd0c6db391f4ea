/**
 * Telephony across gateway nodes (issue 24), against the simulator and the real Asterisk (tests/helpers/ari-target.ts):
 * - telephony is a singleton: one node holds the ARI application; the other stands by, says so in /healthz, and
 *   forwards call control (click-to-call, hang-up) to the holder, which answers it;
 * - a hotline caller queued on the holder is offered to an agent who becomes ready on the other node, whose
 *   dashboard there pops;
 * - an escalation's callback that comes due while no node holds telephony (a takeover) waits, and the next holder
 *   places it, once;
 * - the holder dies mid-callback (its lease session ends, as PostgreSQL sees a kill -9): the next holder resumes the
 *   request; nothing is dialled twice (one call record per number: every dial writes one before it originates);
 * - the holder dies mid-cascade: the cascade is not continued (its outcomes died with the holder), nothing is
 *   dialled twice, and the supervisors are told to call the contacts by hand.
 *
 * Two nodes in this process on one PostgreSQL and one real Redis; the test takes the holder's lease from PostgreSQL
 * (pg_terminate_backend) and, to hold a takeover open, queues for the lock itself (pg_advisory_lock waits in line
 * ahead of the nodes' try-locks).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { leaderKey } from '../../gateway/cluster/leader.js';
import { login, startTestApp } from '../helpers/app.js';
import { targets, type AriTargetEnv } from '../helpers/ari-target.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { missingTools } from '../helpers/tools.js';
import { metricValue, until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

const skip = missingTools(['redis-server'], 'redis-server');
const [K1, K2] = leaderKey('telephony');
const QUEUE_DID = '12351';

for (const target of targets()) {
  describe.skipIf(skip)(`telephony on one node of two (${target.name})`, () => {
    let t: AriTargetEnv;
    let release: () => void = () => undefined;
    let redis: TestRedis;
    let admin: pg.Client;
    const apps: App[] = [];
    let hdr: { authorization: string };
    let agent: { authorization: string; token: string };
    let ELDER = '';
    let DAUGHTER = '';

    const env = (node: string) => ({
      REDIS_URL: redis.url, NODE_ID: node, LEADER_TAKEOVER_S: '2',
      TELEPHONY: 'ari', ARI_URL: t.url, ARI_USERNAME: t.username, ARI_PASSWORD: t.password, ARI_APP: t.inboundApp,
      ARI_TRUNK_TEMPLATE: t.trunkTemplate, ARI_AGENT_TEMPLATE: t.agentTemplate, RED_LINE_DID: t.lines.red, GREEN_LINE_DID: t.lines.green,
      HOTLINE_DIDS: QUEUE_DID, RING_TIMEOUT_S: '10', QUEUE_MAX_WAIT_S: '60', QUEUE_OVERFLOW: 'voicemail', WRAP_UP_S: '0',
    });
    /** the singleton's gauge on the node's /metrics: 1 while it holds telephony */
    const telephonyLeading = async (a: App) => (await metricValue(a.metrics.registry, 'anxin_singleton_leader', 'singleton="telephony"')) === 1;
    const holder = async () => {
      for (const a of apps) if (await telephonyLeading(a)) return a;
      return undefined;
    };
    const telephonyOf = async (a: App) => (await a.http.inject({ url: '/healthz' })).json().parts.telephony as { state: string; mode: string; detail?: string };
    /** the backend of the session holding the telephony lease (the holder's, or the test's) */
    const leaseBackend = async () =>
      (await admin.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid AND objsubid = 2 AND granted`, [K1, String(K2 >>> 0)])).rows[0]?.pid as number | undefined;

    beforeAll(async () => {
      t = await target.start({ timeScale: 0.2 });
      ELDER = t.numbers.answer;
      DAUGHTER = t.numbers.press1;
      release = await t.lockInbound();
      redis = await startRedis();
      const a = await startTestApp({}, env('node-a'));
      apps.push(a);
      apps.push(await startTestApp({ databaseUrl: a.databaseUrl }, env('node-b')));
      admin = new pg.Client({ connectionString: a.databaseUrl });
      await admin.connect();
      hdr = await login(a);
      const u = await a.http.inject({ method: 'POST', url: '/api/users', headers: hdr, payload: { username: 'zuoxi24', role: 'agent', password: 'password-123' } });
      expect(u.statusCode).toBe(201);
      const l = await a.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'zuoxi24', password: 'password-123' } });
      agent = { authorization: `Bearer ${l.json().token}`, token: l.json().token };
      await until(async () => (await telephonyOf(a)).state === 'up', 30_000);
      // both nodes hear each other (the standby finds the holder's address in its heartbeats)
      await until(() => apps.every((x) => x.cluster.presence.members().length === 2 && x.cluster.presence.members().some((m) => m.telephony && m.url)), 15_000);
    }, 300_000); // includes the wait for the shared app "anxin" on the real server (ari-lock)

    afterAll(async () => {
      for (const a of apps.splice(0).reverse()) await a.stop().catch(() => undefined);
      await admin?.end().catch(() => undefined);
      await redis?.destroy();
      release();
      await t?.stop();
    });

    async function elder(name: string) {
      const e = await apps[0]!.http.inject({
        method: 'POST', url: '/api/elders', headers: hdr,
        payload: {
          name, phone: ELDER, contacts: [{ name: '李芳', relation: '女儿', phone: DAUGHTER }],
          // nobody is ready to be presented to; the callback step runs at +1 s
          responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 1, action: 'callback_and_cascade' }], cascade: { rounds: 1, ringTimeoutS: 20, acceptDigit: '1' }, callbackElder: true },
        },
      });
      expect(e.statusCode, e.body).toBe(201);
      return e.json().id as number;
    }
    const raise = async (elderId: number) => {
      const r = await apps[1]!.http.inject({ method: 'POST', url: '/api/alarms', headers: hdr, payload: { elderId, kind: 'sos', note: 'cluster test' } });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().id as number;
    };
    const request = async (alarmId: number) => (await admin.query(`SELECT started_by, runs, done_at, outcome FROM alarm_callbacks WHERE alarm_id = $1`, [alarmId])).rows[0];
    const dialsPerNumber = async (alarmId: number) =>
      Object.fromEntries((await admin.query(`SELECT number, count(*)::int AS n FROM calls WHERE alarm_id = $1 GROUP BY number`, [alarmId])).rows.map((r) => [r.number, r.n]));
    const events = async (alarmId: number) => (await admin.query(`SELECT action, detail FROM alarm_events WHERE alarm_id = $1 ORDER BY id`, [alarmId])).rows as { action: string; detail: Record<string, unknown> }[];

    it('one node holds telephony; the other stands by and forwards call control to it', async () => {
      const [a, b] = apps as [App, App];
      expect([await telephonyLeading(a), await telephonyLeading(b)]).toEqual([true, false]);
      expect(await telephonyOf(b)).toMatchObject({ state: 'up', mode: 'standby', detail: expect.stringContaining('node-a') });
      const elderId = await elder('周桂英');
      expect((await b.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: agent, payload: { extension: t.agents.answer } })).statusCode).toBe(200);
      // click-to-call through node B: answered by node A, which dials
      const r = await b.http.inject({ method: 'POST', url: '/api/calls', headers: agent, payload: { elderId } });
      expect(r.statusCode, r.body).toBe(202);
      expect(r.headers['x-anxin-telephony-node']).toBe('node-a');
      const callId = r.json().call.id as string;
      await until(async () => (await admin.query(`SELECT 1 FROM calls WHERE flow_id = $1 AND party = 'elder' AND answered_at IS NOT NULL`, [callId])).rowCount === 1, 30_000);
      // a second click while the call is up: node A's 409, forwarded back unchanged
      const again = await b.http.inject({ method: 'POST', url: '/api/calls', headers: agent, payload: { elderId } });
      expect(again.statusCode).toBe(409);
      expect(again.json().error).toBe('call_in_progress');
      // hang up through node B
      const h = await b.http.inject({ method: 'POST', url: `/api/calls/${callId}/hangup`, headers: agent });
      expect(h.statusCode, h.body).toBe(200);
      await until(async () => (await admin.query(`SELECT 1 FROM calls WHERE flow_id = $1 AND ended_at IS NULL`, [callId])).rowCount === 0, 30_000);
      // node A audited the click and the hang-up once each
      const audit = (await admin.query(`SELECT action FROM audit_log WHERE action IN ('call_start', 'call_hangup') ORDER BY id`)).rows.map((x) => x.action);
      expect(audit).toEqual(['call_start', 'call_hangup']);
      // what needs no telephony is answered where it is asked
      const list = await b.http.inject({ url: `/api/calls?flowId=${encodeURIComponent(callId)}`, headers: agent });
      expect(list.statusCode).toBe(200);
      expect(list.headers['x-anxin-telephony-node']).toBeUndefined();
    }, 120_000);

    it('a hotline caller waiting on the holder rings the agent who becomes ready on the other node, with the pop there', async () => {
      const [, b] = apps as [App, App];
      const ws = await WsClient.open(b.httpPort, agent.token);
      try {
        await ws.waitFor((m) => m.type === 'snapshot');
        expect((await b.http.inject({ method: 'POST', url: '/api/agents/me/state', headers: agent, payload: { state: 'not_ready' } })).statusCode).toBe(200);
        const c = await t.injectCall({ did: QUEUE_DID, from: '13912340024' });
        try {
          // queued on node A's telephony: nobody is ready
          await until(async () => (await admin.query(`SELECT 1 FROM calls WHERE channel_id = $1`, [c.hubChannelId])).rowCount === 1, 20_000);
          await new Promise((res) => setTimeout(res, 1000));
          expect(ws.messages.filter((m) => m.type === 'incoming_call' && m.entryId === c.hubChannelId)).toEqual([]);
          expect((await b.http.inject({ method: 'POST', url: '/api/agents/me/state', headers: agent, payload: { state: 'ready' } })).statusCode).toBe(200);
          await ws.waitFor((m) => m.type === 'incoming_call' && m.entryId === c.hubChannelId, 20_000);
          await ws.waitFor((m) => m.type === 'hotline_answered' && m.entryId === c.hubChannelId, 30_000);
        } finally {
          await c.close();
        }
        await ws.waitFor((m) => m.type === 'hotline_done' && m.entryId === c.hubChannelId, 30_000);
        await b.http.inject({ method: 'POST', url: '/api/agents/me/state', headers: agent, payload: { state: 'not_ready' } });
      } finally {
        ws.close();
      }
    }, 120_000);

    it('a callback due while no node holds telephony waits for the next holder, and is placed once', async () => {
      const elderId = await elder('吴淑珍');
      // the test queues for the lease, then the holder's session ends: the lease passes to the test, so no node has it
      const hold = new pg.Client({ connectionString: apps[0]!.databaseUrl });
      await hold.connect();
      try {
        const queued = hold.query('SELECT pg_advisory_lock($1::int, $2::int)', [K1, K2]);
        const pid = await leaseBackend();
        expect(pid).toBeDefined();
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await queued;
        await until(async () => (await Promise.all(apps.map(telephonyLeading))).every((x) => !x), 10_000);
        expect(await telephonyOf(apps[1]!)).toMatchObject({ state: 'degraded', detail: expect.stringContaining('telephony_moving') });
        // call control meanwhile: a clear 503, not a hang
        const r = await apps[1]!.http.inject({ method: 'POST', url: '/api/calls', headers: agent, payload: { elderId } });
        expect(r.statusCode).toBe(503);
        expect(r.json().error).toBe('telephony_moving');

        const alarmId = await raise(elderId);
        await until(async () => (await request(alarmId)) !== undefined, 15_000);
        await new Promise((res) => setTimeout(res, 2000));
        expect(await request(alarmId)).toMatchObject({ started_by: null, runs: 0, done_at: null });
        expect(await dialsPerNumber(alarmId)).toEqual({});
        await hold.query('SELECT pg_advisory_unlock($1::int, $2::int)', [K1, K2]);
        // a node takes telephony over and runs the waiting request: the elder, then the daughter who presses 1
        await until(async () => (await holder()) !== undefined, 15_000);
        const done = await until(async () => {
          const q = await request(alarmId);
          return q?.done_at ? q : undefined;
        }, 90_000);
        expect(done).toMatchObject({ runs: 1, outcome: 'cascade_accepted' });
        expect(await dialsPerNumber(alarmId)).toEqual({ [ELDER]: 1, [DAUGHTER]: 1 });
      } finally {
        await hold.end().catch(() => undefined);
      }
    }, 180_000);

    it('the holder dies mid-callback: the next holder resumes it, and nothing is dialled twice', async () => {
      const elderId = await elder('郑玉兰');
      await until(async () => (await holder()) !== undefined, 15_000);
      const first = (await holder())!;
      const alarmId = await raise(elderId);
      // the elder's callback is being dialled by the holder
      await until(async () => (await events(alarmId)).some((e) => e.action === 'callback_started'), 30_000);
      expect((await request(alarmId)).started_by).toBe(first.cluster.nodeId);
      await admin.query('SELECT pg_terminate_backend($1)', [await leaseBackend()]);
      const done = await until(async () => {
        const q = await request(alarmId);
        return q?.done_at ? q : undefined;
      }, 120_000);
      expect(done.runs).toBe(2);
      const ev = await events(alarmId);
      expect(ev.filter((e) => e.action === 'callback_resumed')).toHaveLength(1);
      // the second run found the elder's call placed already (duplicate) and went on with the cascade
      expect(ev.filter((e) => e.action === 'callback_started').map((e) => e.detail.duplicate)).toEqual([false, true]);
      expect(await dialsPerNumber(alarmId)).toEqual({ [ELDER]: 1, [DAUGHTER]: 1 });
      expect(done.outcome).toBe('cascade_accepted');
    }, 180_000);

    it('the holder dies mid-cascade: not continued, nothing dialled twice, and the supervisor is told', async () => {
      const ws = await WsClient.open(apps[1]!.httpPort, hdr.authorization.slice('Bearer '.length));
      try {
        await ws.waitFor((m) => m.type === 'snapshot');
        // no callback to the elder; the one contact answers and never presses, so the cascade waits on her
        const e = await apps[0]!.http.inject({
          method: 'POST', url: '/api/elders', headers: hdr,
          payload: {
            name: '冯秀梅', phone: ELDER, contacts: [{ name: '冯丽', relation: '女儿', phone: t.numbers.silent }],
            responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 1, action: 'callback_and_cascade' }], cascade: { rounds: 1, ringTimeoutS: 20, acceptDigit: '1' }, callbackElder: false },
          },
        });
        expect(e.statusCode, e.body).toBe(201);
        await until(async () => (await holder()) !== undefined, 15_000);
        const alarmId = await raise(e.json().id);
        await until(async () => (await events(alarmId)).some((x) => x.action === 'cascade_started'), 30_000);
        await admin.query('SELECT pg_terminate_backend($1)', [await leaseBackend()]);
        const done = await until(async () => {
          const q = await request(alarmId);
          return q?.done_at ? q : undefined;
        }, 120_000);
        expect(done).toMatchObject({ runs: 2, outcome: 'cascade_duplicate' });
        expect((await events(alarmId)).filter((x) => x.action === 'cascade_started').map((x) => x.detail.duplicate)).toEqual([false, true]);
        expect(await dialsPerNumber(alarmId)).toEqual({ [t.numbers.silent]: 1 });
        // (its first alert was "nobody ready" at the pop)
        const alert = await ws.waitFor((m) => m.type === 'supervisor_alert' && (m.alarm as { id: number }).id === alarmId && m.reason === 'cascade_interrupted', 15_000);
        expect(alert).toBeTruthy();
      } finally {
        ws.close();
      }
    }, 180_000);
  });
}
