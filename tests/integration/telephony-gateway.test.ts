/**
 * Telephony through the whole gateway against the simulated Asterisk: one-key callers on the red and green
 * lines become alarms (presses fold into one), escalation reaches the callback and the contact cascade (press 1
 * to accept), click-to-call bridges an agent and the elder with live state on the WebSocket, call records land
 * in PostgreSQL, and while Asterisk is down alarms still pop and calls resume after it returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

let sim: AsteriskSim;
let app: App;
let admin: { authorization: string };
let agent: { authorization: string; token: string; id: number };
let elderId: number;

const ELDER = '13800000001';
const BUSY_SON = '13800000002';
const DAUGHTER = '13800000003';

beforeAll(async () => {
  sim = await startAsteriskSim({
    port: 0,
    timeScale: 0.2,
    app: 'anxin',
    directory: [
      { match: ELDER, action: 'answer', answerAfter: 1, hangupAfter: 4 },
      { match: BUSY_SON, action: 'busy', after: 0.5 },
      { match: DAUGHTER, action: 'answer', answerAfter: 1, dtmf: [{ at: 2, digits: '1' }] },
      { match: 'PJSIP/8001', action: 'answer', answerAfter: 0.5 },
    ],
  });
  app = await startTestApp({}, { TELEPHONY: 'ari', ARI_URL: sim.url, ARI_USERNAME: sim.username, ARI_PASSWORD: sim.password, ARI_APP: 'anxin', RED_LINE_DID: '96110', GREEN_LINE_DID: '96120' });
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
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await sim?.stop();
});

const alarmsOf = (kind: string) => app.db.query(`SELECT id, kind, count, elder_id, detail, state FROM alarms WHERE kind = $1 ORDER BY id`, [kind]).then((r) => r.rows);

describe('telephony in the gateway', () => {
  it('red-line calls from an elder become one one_key_emergency alarm with a count; escalation calls back and runs the cascade', async () => {
    sim.injectCall({ from: '021-6218 0001', to: '96110', hangupAfter: 1 });
    const [a] = await until(async () => {
      const rows = await alarmsOf('one_key_emergency');
      return rows.length ? rows : undefined;
    });
    expect(a).toMatchObject({ elder_id: elderId, count: 1 });
    sim.injectCall({ from: '02162180001', to: '96110', hangupAfter: 1 });
    await until(async () => (await alarmsOf('one_key_emergency'))[0]?.count === 2);
    expect(await alarmsOf('one_key_emergency')).toHaveLength(1);

    // Escalation step at +1 s: callback to the elder, then the son (busy), then the daughter presses 1.
    const id = a.id;
    const accepted = await until(async () => {
      const r = await app.db.query(`SELECT detail FROM alarm_events WHERE alarm_id = $1 AND action = 'contact_accepted'`, [id]);
      return r.rows[0];
    }, 30_000);
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
    // A retried escalation never dials twice: one originate per number.
    const dialled = sim.originateLog().map((o) => JSON.stringify(o.params ?? o.query));
    expect(dialled.filter((d) => d.includes(DAUGHTER))).toHaveLength(1);
  }, 60_000);

  it('a green-line call from an unknown number still pops, as an unknown caller', async () => {
    sim.injectCall({ from: '13912345678', to: '96120', hangupAfter: 1 });
    const [a] = await until(async () => {
      const rows = await alarmsOf('one_key_service');
      return rows.length ? rows : undefined;
    });
    expect(a.elder_id).toBeNull();
    expect(a.detail).toMatchObject({ caller: 'unknown_caller' });
  });

  it('click-to-call rings the agent first, then bridges the elder; state is pushed live and the agent can hang up', async () => {
    await app.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: agent, payload: { extension: '8001' } });
    const ws = await WsClient.open(app.httpPort, agent.token);
    const r = await app.http.inject({ method: 'POST', url: '/api/calls', headers: agent, payload: { elderId } });
    expect(r.statusCode).toBe(202);
    const callId = r.json().call.id as string;
    await ws.waitFor((m) => m.type === 'call' && (m.call as { id: string; state: string }).id === callId && (m.call as { state: string }).state === 'connected', 15_000);
    await until(async () => (await app.http.inject({ url: '/api/agents/me', headers: agent })).json().state === 'on_call');
    const h = await app.http.inject({ method: 'POST', url: `/api/calls/${callId}/hangup`, headers: agent });
    expect(h.statusCode).toBe(200);
    await ws.waitFor((m) => m.type === 'call' && (m.call as { id: string; party: string; state: string }).id === callId && (m.call as { party: string }).party === 'elder' && (m.call as { state: string }).state === 'ended', 15_000);
    await until(async () => (await app.http.inject({ url: '/api/agents/me', headers: agent })).json().state === 'wrap_up');
    // The call record's end is written by the port right after the event is pushed: wait for it.
    const legs = await until(async () => {
      const rows = (await app.db.query(`SELECT party, answered_at IS NOT NULL AS answered, ended_at IS NOT NULL AS ended FROM calls WHERE flow_id = $1 ORDER BY id`, [callId])).rows;
      return rows.length === 2 && rows.every((r) => r.ended) ? rows : undefined;
    });
    expect(legs).toEqual([{ party: 'agent', answered: true, ended: true }, { party: 'elder', answered: true, ended: true }]);
    ws.close();
  }, 30_000);

  it('with Asterisk down: telephony_down in /healthz, alarms still pop, and calls resume when it returns', async () => {
    await sim.stop();
    await until(async () => (await app.http.inject({ url: '/healthz' })).json().parts.telephony.state === 'down', 20_000);
    const h = (await app.http.inject({ url: '/healthz' })).json();
    expect(h.parts.telephony.detail).toContain('telephony_down');
    const refused = await app.http.inject({ method: 'POST', url: '/api/calls', headers: agent, payload: { elderId } });
    expect(refused.statusCode).toBe(503);
    await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: '8800000099', protocol: 'watch', elderId } });
    const r = await app.pipeline.handle([{ deviceId: '8800000099', protocol: 'watch', kind: 'alarm', alarms: ['sos'], receivedAt: new Date(), raw: 'sos-while-down' }]);
    expect(r.ok).toBe(true);
    expect((await alarmsOf('sos')).length).toBe(1);

    await sim.restart();
    await until(async () => (await app.http.inject({ url: '/healthz' })).json().parts.telephony.state === 'up', 30_000);
    const again = await app.http.inject({ method: 'POST', url: '/api/calls', headers: agent, payload: { elderId } });
    expect(again.statusCode).toBe(202);
    await app.http.inject({ method: 'POST', url: `/api/calls/${again.json().call.id}/hangup`, headers: agent });
  }, 60_000);
});
