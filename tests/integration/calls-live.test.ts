/**
 * Issue 14, item 3 on the server, against the simulated Asterisk: calls tell the truth. A live call is restored
 * from the server (GET /api/calls/live) after a reload or a new login; call records carry their live state; an
 * agent cannot place two concurrent calls (409 in plain words, even when both presses arrive at once); resolving
 * an alarm while its call is live is recorded on the timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

let sim: AsteriskSim;
let app: App;
let admin: { authorization: string };
let agent: { authorization: string };
let elderId: number;
const ELDER = '13900000001';

const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, payload: payload as object });

beforeAll(async () => {
  sim = await startAsteriskSim({
    port: 0,
    timeScale: 0.2,
    app: 'anxin',
    directory: [
      { match: ELDER, action: 'answer', answerAfter: 1, hangupAfter: 600 },
      { match: 'PJSIP/8201', action: 'answer', answerAfter: 0.5 },
    ],
  });
  app = await startTestApp({}, { TELEPHONY: 'ari', ARI_URL: sim.url, ARI_USERNAME: sim.username, ARI_PASSWORD: sim.password, ARI_APP: 'anxin' });
  admin = await login(app);
  await inject('POST', '/api/users', admin, { username: 'zx-call', role: 'agent', password: 'password-123' });
  agent = await login(app, 'zx-call', 'password-123');
  elderId = (await inject('POST', '/api/elders', admin, { name: '赵桂芳', phone: ELDER })).json().id;
  await inject('POST', '/api/devices', admin, { identifier: '8800000301', protocol: 'watch', elderId });
  await inject('POST', '/api/agents/me/sign-in', agent, { extension: '8201' });
  await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'));
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await sim?.stop();
});

describe('live calls', () => {
  it('one call at a time per agent; the live call is restored from the server; records carry their live state', async () => {
    await app.pipeline.handle([{ deviceId: '8800000301', protocol: 'watch', kind: 'alarm', receivedAt: new Date(), deviceTime: new Date(), raw: 'calls-live-1', alarms: ['sos'] }]);
    const alarmId = Number((await app.db.query(`SELECT id FROM alarms WHERE source_key = '8800000301'`)).rows[0].id);
    expect((await inject('POST', `/api/alarms/${alarmId}/accept`, agent)).statusCode).toBe(200);

    // Pressing C twice at once: exactly one call is placed, the other press gets 409 with a plain message.
    const [r1, r2] = await Promise.all([inject('POST', '/api/calls', agent, { alarmId }), inject('POST', '/api/calls', agent, { alarmId })]);
    const codes = [r1.statusCode, r2.statusCode].sort();
    expect(codes).toEqual([202, 409]);
    const refused = r1.statusCode === 409 ? r1 : r2;
    expect(refused.json()).toMatchObject({ error: 'call_in_progress' });
    expect(refused.json().message).toMatch(/hang up first/);
    const callId = (r1.statusCode === 202 ? r1 : r2).json().call.id as string;

    // Once connected, a reload (a new login, even) finds the call with its state and times.
    const other = await login(app, 'zx-call', 'password-123');
    const live = await until(async () => {
      const l = (await inject('GET', '/api/calls/live', other)).json() as { id: string; state: string; startedAt: string }[];
      return l[0]?.state === 'connected' ? l : undefined;
    }, 15_000);
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ id: callId, alarmId, party: 'elder', liveState: 'up' });
    expect(Date.parse(live[0]!.startedAt)).toBeLessThanOrEqual(Date.now());
    const records = (await inject('GET', `/api/calls?flowId=${encodeURIComponent(callId)}`, other)).json() as { party: string; liveState: string }[];
    expect(records.map((r) => r.liveState).sort()).toEqual(['up', 'up']);
    // A later press while the call is up is still refused.
    expect((await inject('POST', '/api/calls', agent, { alarmId })).statusCode).toBe(409);

    // Resolving during the call is allowed, and said on the timeline.
    expect((await inject('POST', `/api/alarms/${alarmId}/resolve`, agent, { outcome: 'elder_ok' })).statusCode).toBe(200);
    const tl = (await inject('GET', `/api/alarms/${alarmId}`, agent)).json().timeline as { action: string; detail: Record<string, unknown> }[];
    expect(tl.find((e) => e.action === 'resolve')!.detail).toMatchObject({ duringCall: true });

    // Hang up: nothing is live any more, and a new call may be placed.
    expect((await inject('POST', `/api/calls/${encodeURIComponent(callId)}/hangup`, agent)).statusCode).toBe(200);
    await until(async () => ((await inject('GET', '/api/calls/live', agent)).json() as unknown[]).length === 0, 15_000);
    const ended = (await inject('GET', `/api/calls?flowId=${encodeURIComponent(callId)}`, agent)).json() as { liveState: string }[];
    expect(ended.every((r) => r.liveState === 'ended')).toBe(true);
    const again = await inject('POST', '/api/calls', agent, { elderId });
    expect(again.statusCode).toBe(202);
    await inject('POST', `/api/calls/${encodeURIComponent(again.json().call.id)}/hangup`, agent);
  });
});
