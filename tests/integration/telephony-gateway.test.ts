/**
 * Telephony through the whole gateway (TELEPHONY=ari), against the simulator and, when TEST_ARI_URL is set,
 * against the real Asterisk (issue 17; with CI=true a missing one fails the run): one-key callers on the red and
 * green lines become alarms (presses fold into one), escalation reaches the callback and the contact cascade
 * (press 1 to accept), click-to-call bridges an agent and the elder with live state on the WebSocket, call
 * records land in PostgreSQL, a prompt that fails to play makes telephony degraded in /healthz (HTTP 200) while
 * the call goes on with the built-in fallback, and while Asterisk is unreachable alarms still pop and calls
 * resume after it returns.
 *
 * Elders, contacts and agents are the test numbers both targets share (tests/helpers/ari-target.ts). The
 * gateway reaches the target through tests/helpers/ari-proxy.ts, which can make a prompt a sound the server
 * does not have, and cut the connection (a shared real Asterisk cannot be stopped by one test file; the
 * simulator is also stopped and restarted behind it, losing its state). The gateway takes inbound calls, so it
 * uses the dialplan's app "anxin": on the real server under `lockInbound()`, for the whole suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { startAriProxy, type AriProxy } from '../helpers/ari-proxy.js';
import { makeAri } from '../helpers/ari-raw.js';
import { targets, type AriTargetEnv, type InboundHandle } from '../helpers/ari-target.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

const MISSING = 'sound:anxin-not-installed-anywhere';
const NOT_REACHED = 'sound:anxin-not-reached';

for (const target of targets()) {
  describe(`telephony in the gateway (${target.name})`, () => {
    let t: AriTargetEnv;
    let release: () => void = () => undefined;
    let proxy: AriProxy;
    let ari: ReturnType<typeof makeAri>;
    let app: App;
    let admin: { authorization: string };
    let agent: { authorization: string; token: string; id: number };
    let elderId: number;
    const boxes: InboundHandle[] = [];
    // set in beforeAll from the target's numbers
    let ELDER = '';
    let BUSY_SON = '';
    let DAUGHTER = '';

    beforeAll(async () => {
      t = await target.start({ timeScale: 0.2 });
      // The elder answers after 1 s and stays on (the callback hangs up after its greeting; the agent ends the
      // click-to-call); the son is busy; the daughter answers and presses 1.
      ELDER = t.numbers.answer;
      BUSY_SON = t.numbers.busy;
      DAUGHTER = t.numbers.press1;
      release = await t.lockInbound();
      proxy = await startAriProxy(t.url);
      ari = makeAri(t.url, t.username, t.password);
      app = await startTestApp({}, {
        TELEPHONY: 'ari',
        ARI_URL: proxy.url,
        ARI_USERNAME: t.username,
        ARI_PASSWORD: t.password,
        ARI_APP: t.inboundApp,
        ARI_TRUNK_TEMPLATE: t.trunkTemplate,
        ARI_AGENT_TEMPLATE: t.agentTemplate,
        RED_LINE_DID: t.lines.red,
        GREEN_LINE_DID: t.lines.green,
      });
      admin = await login(app);
      const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'zuoxi1', role: 'agent', password: 'password-123' } });
      const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'zuoxi1', password: 'password-123' } });
      agent = { authorization: `Bearer ${l.json().token}`, token: l.json().token, id: u.json().id };
      const e = await app.http.inject({
        method: 'POST', url: '/api/elders', headers: admin,
        payload: {
          name: '张秀英', phone: ELDER,
          contacts: [{ name: '李明', relation: '儿子', phone: BUSY_SON }, { name: '李芳', relation: '女儿', phone: DAUGHTER }],
          responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }, { atS: 1, action: 'callback_and_cascade' }], cascade: { rounds: 2, ringTimeoutS: 20, acceptDigit: '1' }, callbackElder: true },
        },
      });
      elderId = e.json().id;
      await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: '02162180001', protocol: 'phone', elderId } });
      await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'));
    }, 300_000); // includes the wait for the shared app "anxin" (ari-lock)

    afterAll(async () => {
      await Promise.all(boxes.splice(0).map((b) => b.hangup().catch(() => undefined)));
      await app?.stop();
      await proxy?.close();
      release();
      await t?.stop();
    });

    const alarmsOf = (kind: string) => app.db.query(`SELECT id, kind, count, elder_id, detail, state FROM alarms WHERE kind = $1 ORDER BY id`, [kind]).then((r) => r.rows);
    const press = async (line: 'red' | 'green', from: string) => {
      const b = await t.injectInbound({ line, from });
      boxes.push(b);
      return b;
    };
    const healthz = async () => {
      const r = await app.http.inject({ url: '/healthz' });
      return { status: r.statusCode, telephony: r.json().parts.telephony as { state: string; detail?: string } };
    };
    const healthIs = async (state: string, ms: number) => {
      let last: Awaited<ReturnType<typeof healthz>> | undefined;
      try {
        await until(async () => (last = await healthz()).telephony.state === state, ms);
      } catch {
        throw new Error(`telephony not ${state} within ${ms} ms; last /healthz: ${JSON.stringify(last)}`);
      }
    };
    /**
     * Click-to-call by the agent. The previous flow's last step (its call records are written, its bridge
     * destroyed) may still be finishing a few ms after the test saw it over: "call in progress" is asked again.
     */
    const postCall = async (payload: Record<string, unknown>) => {
      for (let i = 0; ; i++) {
        const r = await app.http.inject({ method: 'POST', url: '/api/calls', headers: agent, payload });
        if (r.statusCode !== 409 || r.json().error !== 'call_in_progress' || i >= 20) return r;
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    /**
     * The legs of a flow once every one has ended and the flow is over: its bridge is destroyed after the legs
     * end, and until then the agent still has "a call in progress" (POST /api/calls answers 409).
     */
    const endedLegs = async (flowId: string, n: number) => {
      let last: unknown;
      const rows = await until(async () => {
        const r = (await app.db.query(`SELECT party, number, outcome, answered_at IS NOT NULL AS answered, ended_at IS NOT NULL AS ended FROM calls WHERE flow_id = $1 ORDER BY id`, [flowId])).rows;
        last = r;
        return r.length === n && r.every((x) => x.ended) ? r : undefined;
      }, 30_000).catch(() => {
        throw new Error(`flow ${flowId}: not ${n} ended legs within 30 s: ${JSON.stringify(last)}`);
      });
      await until(async () => (await ari('GET', `bridges/${encodeURIComponent(`${flowId}-br`)}`)).status === 404);
      return rows;
    };

    it('red-line calls from an elder become one one_key_emergency alarm with a count; escalation calls back and runs the cascade', async () => {
      const b1 = await press('red', '021-6218 0001');
      const [a] = await until(async () => {
        const rows = await alarmsOf('one_key_emergency');
        return rows.length ? rows : undefined;
      });
      expect(a).toMatchObject({ elder_id: elderId, count: 1 });
      await b1.hangup();
      const b2 = await press('red', '02162180001');
      await until(async () => (await alarmsOf('one_key_emergency'))[0]?.count === 2);
      expect(await alarmsOf('one_key_emergency')).toHaveLength(1);
      await b2.hangup();

      // Escalation step at +1 s: callback to the elder, then the son (busy), then the daughter presses 1.
      const id = a.id;
      const accepted = await until(async () => {
        const r = await app.db.query(`SELECT detail FROM alarm_events WHERE alarm_id = $1 AND action = 'contact_accepted'`, [id]);
        return r.rows[0];
      }, 60_000);
      expect(accepted.detail).toMatchObject({ position: 2 });
      const calls = await until(async () => {
        const r = await app.db.query(`SELECT flow, party, number, outcome, cause FROM calls WHERE alarm_id = $1 AND ended_at IS NOT NULL ORDER BY id`, [id]);
        return r.rows.length >= 3 ? r.rows : undefined;
      }, 30_000);
      expect(calls).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ flow: 'callback', party: 'elder', number: ELDER, outcome: 'answered' }),
          expect.objectContaining({ flow: 'cascade', party: 'contact', number: BUSY_SON, outcome: 'busy', cause: 17 }),
          expect.objectContaining({ flow: 'cascade', party: 'contact', number: DAUGHTER, outcome: 'accepted_by_dtmf' }),
        ]),
      );
      // The presses' own call records: inbound, on the red line, ended when the box hung up.
      const inbound = (await app.db.query(`SELECT line, outcome, ended_at IS NOT NULL AS ended FROM calls WHERE flow = 'inbound' ORDER BY id`)).rows;
      expect(inbound).toEqual([
        { line: 'red', outcome: 'abandoned', ended: true },
        { line: 'red', outcome: 'abandoned', ended: true },
      ]);
      // A retried escalation never dials twice: one call (one originate) per number.
      const perNumber = (await app.db.query(`SELECT number, count(*)::int AS n FROM calls WHERE alarm_id = $1 GROUP BY number`, [id])).rows;
      expect(perNumber.find((r) => r.number === DAUGHTER)?.n).toBe(1);
      expect(perNumber.find((r) => r.number === ELDER)?.n).toBe(1);
      if (t.sim) {
        const dialled = t.sim.originateLog().map((o) => JSON.stringify(o.params ?? o.query));
        expect(dialled.filter((d) => d.includes(DAUGHTER))).toHaveLength(1);
      }
    }, 120_000);

    it('a green-line call from an unknown number still pops, as an unknown caller', async () => {
      const b = await press('green', '13912345678');
      const [a] = await until(async () => {
        const rows = await alarmsOf('one_key_service');
        return rows.length ? rows : undefined;
      });
      expect(a.elder_id).toBeNull();
      expect(a.detail).toMatchObject({ caller: 'unknown_caller' });
      await b.hangup();
    });

    it('click-to-call rings the agent first, then bridges the elder; state is pushed live and the agent can hang up', async () => {
      await app.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: agent, payload: { extension: t.agents.answer } });
      const ws = await WsClient.open(app.httpPort, agent.token);
      try {
        const r = await postCall({ elderId });
        expect(r.statusCode, r.body).toBe(202);
        const callId = r.json().call.id as string;
        await ws.waitFor((m) => m.type === 'call' && (m.call as { id: string; state: string }).id === callId && (m.call as { state: string }).state === 'connected', 15_000);
        await until(async () => (await app.http.inject({ url: '/api/agents/me', headers: agent })).json().state === 'on_call');
        const h = await app.http.inject({ method: 'POST', url: `/api/calls/${callId}/hangup`, headers: agent });
        expect(h.statusCode).toBe(200);
        await ws.waitFor((m) => m.type === 'call' && (m.call as { id: string; party: string; state: string }).id === callId && (m.call as { party: string }).party === 'elder' && (m.call as { state: string }).state === 'ended', 15_000);
        await until(async () => (await app.http.inject({ url: '/api/agents/me', headers: agent })).json().state === 'wrap_up');
        // The call record's end is written by the port right after the event is pushed: wait for it.
        const legs = await endedLegs(callId, 2);
        expect(legs.map(({ party, answered, ended }) => ({ party, answered, ended }))).toEqual([{ party: 'agent', answered: true, ended: true }, { party: 'elder', answered: true, ended: true }]);
      } finally {
        ws.close();
      }
    }, 60_000);

    it('a prompt that fails to play: /healthz stays 200 with telephony degraded, the call goes on with the built-in fallback; played again, it is up', async () => {
      // not degraded before (every prompt so far played)
      expect(await healthz()).toMatchObject({ status: 200, telephony: { state: 'up' } });
      // The agent's "not reached" prompt becomes a sound the server does not have (as if it were not installed).
      proxy.rewriteMedia = (m) => (m === NOT_REACHED ? MISSING : m);
      try {
        const r = await postCall({ number: BUSY_SON });
        expect(r.statusCode, r.body).toBe(202);
        const callId = r.json().call.id as string;
        const legs = await endedLegs(callId, 2);
        expect(legs).toEqual([
          expect.objectContaining({ party: 'agent', answered: true, ended: true }),
          expect.objectContaining({ party: 'contact', number: BUSY_SON, outcome: 'busy', answered: false, ended: true }),
        ]);
        const h = await healthz();
        expect(h.status).toBe(200);
        expect(h.telephony.state).toBe('degraded');
        expect(h.telephony.detail).toContain(NOT_REACHED);
        // one failure only, of that prompt alone: the fallback itself played
        expect(h.telephony.detail).toBe(`prompts failing to play (built-in fallback used): ${NOT_REACHED}; 1 failures, last ${NOT_REACHED}`);
        if (t.sim) {
          const agentLeg = (await app.db.query(`SELECT channel_id FROM calls WHERE flow_id = $1 AND party = 'agent'`, [callId])).rows[0];
          const log = t.sim.callLog().find((c) => c.channelId === agentLeg.channel_id);
          expect(log?.playbacks).toEqual([MISSING, 'sound:please-try-call-later']);
        }
      } finally {
        proxy.rewriteMedia = undefined;
      }
      await until(async () => (await app.http.inject({ url: '/api/agents/me', headers: agent })).json().state !== 'on_call');
      // The prompt plays again (installed, say): no longer degraded.
      const r = await postCall({ number: BUSY_SON });
      expect(r.statusCode, r.body).toBe(202);
      await endedLegs(r.json().call.id as string, 2);
      expect(await healthz()).toMatchObject({ status: 200, telephony: { state: 'up' } });
    }, 60_000);

    it('with Asterisk unreachable: telephony_down in /healthz, alarms still pop, and calls resume when it returns', async () => {
      await proxy.cut();
      if (t.sim) await t.sim.stop();
      await healthIs('down', 20_000);
      const h = await healthz();
      expect(h.telephony.detail).toContain('telephony_down');
      const refused = await postCall({ elderId });
      expect(refused.statusCode, refused.body).toBe(503);
      await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: '8800000099', protocol: 'watch', elderId } });
      const r = await app.pipeline.handle([{ deviceId: '8800000099', protocol: 'watch', kind: 'alarm', alarms: ['sos'], receivedAt: new Date(), raw: 'sos-while-down' }]);
      expect(r.ok).toBe(true);
      expect((await alarmsOf('sos')).length).toBe(1);

      if (t.sim) await t.sim.restart();
      await proxy.restore();
      await healthIs('up', 30_000);
      const again = await postCall({ elderId });
      expect(again.statusCode, again.body).toBe(202);
      const callId = again.json().call.id as string;
      // both legs up (the agent's, then the elder's), then the agent hangs up
      await until(async () => (await app.db.query(`SELECT 1 FROM calls WHERE flow_id = $1 AND answered_at IS NOT NULL`, [callId])).rows.length === 2, 15_000);
      expect((await app.http.inject({ method: 'POST', url: `/api/calls/${callId}/hangup`, headers: agent })).statusCode).toBe(200);
      await endedLegs(callId, 2);
    }, 90_000);
  });
}
