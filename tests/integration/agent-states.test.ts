/**
 * Issue 14, items 2 and 4 through the real gateway: the agent's state drives who gets the next alarm (accepting
 * takes the agent out of the ready pool, wrap-up ends by itself or early, a P1 that finds nobody ready goes at
 * once to wrap-up agents and supervisors), the timeline names whom an alarm was presented to, answered-in-time
 * rates count only decided alarms (explicit clocks), and ID numbers are masked for everyone but admins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import type { DeviceMessage } from '../../protocols/message.js';
import { answerRates } from '../../gateway/store/alarms.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

let app: App;
let admin: { authorization: string };
type Agent = { id: number; auth: { authorization: string }; token: string; name: string };
const agents: Agent[] = [];
let lead: Agent;
let n = 0;
let dev = 0;

const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  app.http.inject({ method: method as 'POST', url, headers, payload: payload as object });

async function user(username: string, role: string, displayName: string): Promise<Agent> {
  const u = await inject('POST', '/api/users', admin, { username, role, password: 'password-123', displayName });
  expect(u.statusCode).toBe(201);
  const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'password-123' } });
  return { id: u.json().id, auth: { authorization: `Bearer ${l.json().token}` }, token: l.json().token, name: displayName };
}

/** A new watch of the elder, so each test raises its own alarms. */
async function newDevice(elderId: number): Promise<string> {
  const id = `88000017${String(++dev).padStart(2, '0')}`;
  expect((await inject('POST', '/api/devices', admin, { identifier: id, protocol: 'watch', elderId })).statusCode).toBe(201);
  return id;
}
const raise = async (deviceId: string, kind: 'sos' | 'fall' = 'sos') => {
  const msg: DeviceMessage = { deviceId, protocol: 'watch', kind: 'alarm', receivedAt: new Date(), deviceTime: new Date(), raw: `agent-states-${++n}`, alarms: [kind] };
  expect((await app.pipeline.handle([msg])).ok).toBe(true);
  return Number((await app.db.query(`SELECT id FROM alarms WHERE source_key = $1 AND kind = $2 ORDER BY id DESC LIMIT 1`, [deviceId, kind])).rows[0].id);
};
const stateOf = async (a: Agent) => (await inject('GET', '/api/agents/me', a.auth)).json() as { state: string; wrapUpUntil: string | null };
const timeline = async (id: number) => (await inject('GET', `/api/alarms/${id}`, admin)).json().timeline as { action: string; detail: Record<string, unknown> }[];
const setState = (a: Agent, state: string) => inject('POST', '/api/agents/me/state', a.auth, { state });

let elderId: number;

beforeAll(async () => {
  // Wrap-up of 2 s keeps the test short; the default is 30 s.
  app = await startTestApp({}, { WRAP_UP_S: '2' });
  admin = await login(app);
  for (const [u, name] of [['zx-a', '坐席甲'], ['zx-b', '坐席乙'], ['zx-c', '坐席丙']] as const) agents.push(await user(u, 'agent', name));
  lead = await user('banzhang', 'supervisor', '班长');
  const e = await inject('POST', '/api/elders', admin, { name: '王秀兰', idNumber: '110101194501091234' });
  elderId = e.json().id;
});
afterAll(async () => app?.stop());

describe('agent state drives the next alarm', () => {
  it('an agent working an SOS is out of the ready pool: the next P1 pops to the idle colleague at once', async () => {
    const [a, b] = agents as [Agent, Agent];
    await inject('POST', '/api/agents/me/sign-in', a.auth, { extension: '8101' });
    await new Promise((r) => setTimeout(r, 20));
    await inject('POST', '/api/agents/me/sign-in', b.auth, { extension: '8102' });
    const wsA = await WsClient.open(app.httpPort, a.token);
    const wsB = await WsClient.open(app.httpPort, b.token);
    const first = await raise(await newDevice(elderId));
    await wsA.waitFor((m) => m.type === 'present' && (m.alarm as { id: number }).id === first);
    expect((await inject('POST', `/api/alarms/${first}/accept`, a.auth)).statusCode).toBe(200);
    expect((await stateOf(a)).state).toBe('handling');
    await wsA.waitFor((m) => m.type === 'agent' && m.userId === a.id && m.state === 'handling');

    // A's state says handling; even if A asks to be ready while holding the alarm, it is refused in plain words.
    const refused = await setState(a, 'ready');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toContain(`#${first}`);

    const second = await raise(await newDevice(elderId));
    const pop = await wsB.waitFor((m) => m.type === 'present' && (m.alarm as { id: number }).id === second);
    expect((pop.alarm as { presentedTo: number[] }).presentedTo).toEqual([b.id]);
    expect(wsA.messages.some((m) => m.type === 'present' && (m.alarm as { id: number }).id === second)).toBe(false);
    const present = (await timeline(second)).find((e) => e.action === 'present')!;
    expect(present.detail).toMatchObject({ to: [b.id], toNames: ['坐席乙'] });

    // Resolve → wrap-up with a deadline → ready again by itself (自动置闲), announced on the WebSocket.
    await inject('POST', `/api/alarms/${first}/resolve`, a.auth, { outcome: 'elder_ok' });
    const wrap = await stateOf(a);
    expect(wrap.state).toBe('wrap_up');
    expect(Date.parse(wrap.wrapUpUntil!) - Date.now()).toBeGreaterThan(500);
    await wsA.waitFor((m) => m.type === 'agent' && m.userId === a.id && m.state === 'wrap_up' && typeof m.wrapUpUntil === 'string');
    await wsA.waitFor((m) => m.type === 'agent' && m.userId === a.id && m.state === 'ready', 6000);
    expect(await stateOf(a)).toMatchObject({ state: 'ready', wrapUpUntil: null });
    // The second alarm is B's; close the day for both.
    await inject('POST', `/api/alarms/${second}/accept`, b.auth);
    await inject('POST', `/api/alarms/${second}/resolve`, b.auth, { outcome: 'accidental_press' });
    expect((await stateOf(b)).state).toBe('wrap_up');
    // An agent can end wrap-up early.
    expect((await setState(b, 'ready')).json()).toMatchObject({ state: 'ready', wrapUpUntil: null });
    wsA.close();
    wsB.close();
  });

  it('a P1 that finds nobody ready goes at once to wrap-up agents and supervisors, not after +30 s', async () => {
    const [a, b, c] = agents as [Agent, Agent, Agent];
    await setState(a, 'not_ready');
    await inject('POST', '/api/agents/me/sign-in', c.auth, { extension: '8103', state: 'not_ready' });
    // B in wrap-up (a long one, so it does not end during the test)
    await app.db.query(`UPDATE agent_status SET state = 'wrap_up', wrap_up_until = now() + interval '5 minutes' WHERE user_id = $1`, [b.id]);
    const wsB = await WsClient.open(app.httpPort, b.token);
    const wsLead = await WsClient.open(app.httpPort, lead.token);
    const wsC = await WsClient.open(app.httpPort, c.token);
    const t0 = Date.now();
    const id = await raise(await newDevice(elderId), 'fall');
    await wsB.waitFor((m) => m.type === 'present' && (m.alarm as { id: number }).id === id, 3000);
    await wsLead.waitFor((m) => m.type === 'present' && (m.alarm as { id: number }).id === id, 3000);
    const alert = await wsLead.waitFor((m) => m.type === 'supervisor_alert' && (m.alarm as { id: number }).id === id, 3000);
    expect(alert.reason).toBe('no_agent_ready');
    expect(Date.now() - t0).toBeLessThan(10_000); // the +30 s step is far away
    expect(wsC.messages.some((m) => m.type === 'present')).toBe(false); // not_ready means not now
    const present = (await timeline(id)).find((e) => e.action === 'present')!;
    expect(present.detail).toMatchObject({ reason: 'no_agent_ready', step: 'present_longest_idle' });
    expect(present.detail.to).toEqual(expect.arrayContaining([b.id, lead.id]));
    expect(present.detail.toNames).toEqual(expect.arrayContaining(['坐席乙', '班长']));

    // C becomes ready: the P1 nobody has accepted reaches C at once.
    await setState(c, 'ready');
    await wsC.waitFor((m) => m.type === 'present' && (m.alarm as { id: number }).id === id, 3000);
    await inject('POST', `/api/alarms/${id}/accept`, c.auth);
    await inject('POST', `/api/alarms/${id}/resolve`, c.auth, { outcome: 'elder_ok' });
    for (const w of [wsB, wsLead, wsC]) w.close();
  });

  it('a P3 that finds nobody ready says so on the timeline ("no agent ready"), not "presented"', async () => {
    const [a, b, c] = agents as [Agent, Agent, Agent];
    for (const x of [a, b, c]) await setState(x, 'not_ready');
    const deviceId = await newDevice(elderId);
    const msg: DeviceMessage = { deviceId, protocol: 'watch', kind: 'alarm', receivedAt: new Date(), deviceTime: new Date(), raw: `agent-states-${++n}`, alarms: ['tamper'] };
    await app.pipeline.handle([msg]);
    const row = (await app.db.query(`SELECT id, state FROM alarms WHERE source_key = $1`, [deviceId])).rows[0];
    const present = await until(async () => (await timeline(Number(row.id))).find((e) => e.action === 'present'));
    expect(present.detail).toMatchObject({ to: [], toNames: [], reason: 'no_agent_ready' });
    expect(row.state).toBe('raised');
  });
});

describe('answered-in-time rates count an alarm once it is decided', () => {
  it('an alarm waiting 36 s is neither a hit nor a miss for the 60 s rate; one waiting 70 s is a miss', async () => {
    const now = new Date('2030-01-01T10:00:00Z');
    const since = new Date('2030-01-01T00:00:00Z');
    const at = (s: number) => new Date(now.getTime() - s * 1000);
    const ins = (firstAgoS: number, acceptedAfterS: number | null) =>
      app.db.query(`INSERT INTO alarms (kind, priority, source_key, first_at, last_at, accepted_at, state) VALUES ('sos', 1, $1, $2, $2, $3, $4)`, [
        `kpi-${++n}`, at(firstAgoS), acceptedAfterS === null ? null : new Date(at(firstAgoS).getTime() + acceptedAfterS * 1000), acceptedAfterS === null ? 'presented' : 'accepted',
      ]);
    await ins(600, 20); // answered in 20 s: hit for both
    await ins(600, 100); // answered in 100 s: miss for 60, hit for 180
    await ins(36, null); // waiting 36 s: undecided for both
    await ins(70, null); // waiting 70 s: miss for 60, undecided for 180
    const r = await answerRates(app.db, since, now);
    expect(r).toMatchObject({ total: 4, decided60: 3, within60: 1, decided180: 2, within180: 2 });
    // The same alarms one hour later: every window has passed.
    const later = await answerRates(app.db, since, new Date(now.getTime() + 3_600_000));
    expect(later).toMatchObject({ decided60: 4, within60: 1, decided180: 4, within180: 2 });
    // The API divides by the decided count (today's alarms only; those above are in 2030, so not today's).
    const stats = (await inject('GET', '/api/alarms/stats', lead.auth)).json();
    expect(stats.rate60 === null || (stats.rate60 >= 0 && stats.rate60 <= 1)).toBe(true);
    expect(stats).toHaveProperty('decided60');
  });
});

describe('ID numbers', () => {
  it('are masked to the last 4 digits for agents and supervisors; admins see the full number', async () => {
    const full = '110101194501091234';
    expect((await inject('GET', `/api/elders/${elderId}`, admin)).json().idNumber).toBe(full);
    for (const who of [agents[0]!, lead]) {
      const one = (await inject('GET', `/api/elders/${elderId}`, who.auth)).json();
      expect(one.idNumber).toBe('**************1234');
      const list = (await inject('GET', '/api/elders', who.auth)).json();
      expect(JSON.stringify(list)).not.toContain(full);
    }
    const id = await raise(await newDevice(elderId));
    const file = (await inject('GET', `/api/alarms/${id}`, agents[0]!.auth)).json();
    expect(file.elder.idNumber).toBe('**************1234');
  });
});
