/**
 * telephony/ call flows end to end against the simulated Asterisk (scripted endpoints, time-scaled):
 * callback, click-to-call, the contact cascade, no double dialling, and the call records written through the
 * in-memory CallLog port.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAsteriskSim, type AsteriskSim, type EndpointScript } from '../../simulators/asterisk/index.ts';
import { createTelephony, flowIdFor, type CallUpdate, type Telephony } from '../../telephony/index.ts';
import { memoryPorts, waitFor, type MemoryPorts, type StoredCall } from '../helpers/telephony-memory.ts';

const APP = 'anxin-flows';
const SCALE = 0.1;

const ELDER_UP = '13800000001'; // answers after 1 s, stays up until hung up
const ELDER_BUSY = '13800000002';
const ELDER_NOANSWER = '13800000003';
const ELDER_REJECT = '13800000004';
const ELDER_CONGESTION = '13800000005';
const ELDER_UNAVAILABLE = '13800000006'; // originate → 500 Allocation failed
const ELDER_HANGS_UP = '13800000007'; // answers, hangs up 5 s later
const C_BUSY = '13900000001';
const C_NOANSWER = '13900000002';
const C_ACCEPTS = '13900000003'; // answers, presses 1 after 0.5 s
const C_HANGS_UP = '13900000004'; // answers, hangs up 0.3 s later (mid-prompt)
const C_SILENT = '13900000005'; // answers, never presses
const C_WRONG = '13900000006'; // answers, presses 2

const directory: EndpointScript[] = [
  { match: ELDER_UP, action: 'answer', answerAfter: 1 },
  { match: ELDER_BUSY, action: 'busy' },
  { match: ELDER_NOANSWER, action: 'noanswer' },
  { match: ELDER_REJECT, action: 'reject' },
  { match: ELDER_CONGESTION, action: 'congestion' },
  { match: ELDER_UNAVAILABLE, action: 'unavailable' },
  { match: ELDER_HANGS_UP, action: 'answer', answerAfter: 1, hangupAfter: 5 },
  { match: 'PJSIP/8001', action: 'answer', answerAfter: 0.5 },
  { match: 'PJSIP/8002', action: 'noanswer' },
  { match: C_BUSY, action: 'busy' },
  { match: C_NOANSWER, action: 'noanswer' },
  { match: C_ACCEPTS, action: 'answer', answerAfter: 1, dtmf: [{ at: 0.5, digits: '1' }] },
  { match: C_HANGS_UP, action: 'answer', answerAfter: 0.5, hangupAfter: 0.3 },
  { match: C_SILENT, action: 'answer', answerAfter: 0.5 },
  { match: C_WRONG, action: 'answer', answerAfter: 0.5, dtmf: [{ at: 0.3, digits: '2' }] },
];

let sim: AsteriskSim;
let tel: Telephony;
let m: MemoryPorts;
const updates: CallUpdate[] = [];

beforeAll(async () => {
  sim = await startAsteriskSim({ port: 0, timeScale: SCALE, app: APP, directory });
  m = memoryPorts();
  tel = createTelephony({
    url: sim.url,
    username: sim.username,
    password: sim.password,
    app: APP,
    trunkTemplate: 'PJSIP/{number}@trunk',
    agentTemplate: 'PJSIP/{ext}',
    redDid: '96110',
    greenDid: '96120',
    callerId: '"Anxin" <96110>',
    ports: m.ports,
    timeScale: SCALE,
    defaults: { ringTimeoutS: 3, agentRingTimeoutS: 3, dtmfTimeoutS: 3 },
  });
  tel.on('call', (u) => updates.push(u));
  await tel.start();
});

beforeEach(() => {
  sim.reset();
  updates.length = 0;
});

afterAll(async () => {
  await tel?.stop();
  await sim?.stop();
});

const dialled = (number: string) => sim.originateLog().filter((o) => o.dialed && o.endpoint?.includes(number));
const entered = (bridgeId: string) =>
  sim
    .eventLog()
    .filter((e) => e.event.type === 'ChannelEnteredBridge' && (e.event.bridge as { id: string }).id === bridgeId)
    .map((e) => (e.event.channel as { id: string }).id);

function expectTimes(c: StoredCall | undefined, answered: boolean) {
  expect(c?.end).toBeDefined();
  const end = c?.end;
  if (!c || !end) return;
  expect(end.at.getTime()).toBeGreaterThanOrEqual(c.createdAt.getTime());
  expect(end.durationMs).toBe(end.at.getTime() - c.createdAt.getTime());
  if (answered) {
    expect(c.answeredAt).toBeInstanceOf(Date);
    expect(c.answeredAt!.getTime()).toBeGreaterThanOrEqual(c.createdAt.getTime());
    expect(end.talkMs).toBe(end.at.getTime() - c.answeredAt!.getTime());
    expect(end.talkMs).toBeGreaterThan(0);
    expect(end.durationMs).toBeGreaterThan(end.talkMs);
  } else {
    expect(c.answeredAt).toBeUndefined();
    expect(end.talkMs).toBe(0);
  }
}

describe('callback to the elder', () => {
  it('answered: greeting played, hung up, record with times, cause 16 and outcome answered', async () => {
    const t = await tel.callback({ idempotencyKey: 'cb-answer', number: '+86 138-0000-0001', alarmId: 'A1', elderId: 'E1', greeting: ['sound:hello-world'] });
    expect(t.duplicate).toBe(false);
    expect(t.callId).toBe(flowIdFor('cb-answer'));
    const r = await t.done;
    expect(r).toMatchObject({ status: 'completed', bridged: false, elder: { outcome: 'answered', cause: 16, answered: true } });

    const [rec] = m.calls.byFlow(t.callId);
    expect(rec).toMatchObject({
      idempotencyKey: 'cb-answer#elder',
      flow: 'callback',
      direction: 'outbound',
      party: 'elder',
      number: ELDER_UP,
      endpoint: `PJSIP/${ELDER_UP}@trunk`,
      alarmId: 'A1',
      elderId: 'E1',
      end: { cause: 16, causeText: 'Normal Clearing', outcome: 'answered' },
    });
    expectTimes(rec, true);
    const id = rec!.channelId;
    expect(m.calls.ops.filter((o) => o.includes(id) || o.includes('cb-answer'))).toEqual([
      'claim:cb-answer#elder:true',
      `create:${id}`,
      `answered:${id}`,
      `ended:${id}:answered`,
    ]);
    const log = sim.callLog().find((c) => c.channelId === id);
    expect(log).toMatchObject({ playbacks: ['sound:hello-world'], endedBy: 'app', cause: 16 });
    const o = dialled(ELDER_UP)[0];
    expect(o?.params).toMatchObject({ app: APP, channelId: id, callerId: '"Anxin" <96110>', timeout: '3' });
    expect(updates.filter((u) => u.channelId === id).map((u) => u.state)).toEqual(['dialling', 'ringing', 'up', 'ended']);
  });

  it('busy, no answer, rejected, congestion and a refused originate: outcomes and causes', async () => {
    const cases: [string, string, number | null][] = [
      [ELDER_BUSY, 'busy', 17],
      [ELDER_NOANSWER, 'no_answer', 19],
      [ELDER_REJECT, 'rejected', 21],
      [ELDER_CONGESTION, 'congestion', 34],
      [ELDER_UNAVAILABLE, 'failed', null],
    ];
    const tickets = await Promise.all(cases.map(([n]) => tel.callback({ idempotencyKey: `cb-${n}`, number: n })));
    const results = await Promise.all(tickets.map((t) => t.done));
    results.forEach((r, i) => {
      const [, outcome, cause] = cases[i]!;
      expect(r.status).toBe('not_reached');
      expect(r.elder).toMatchObject({ outcome, cause, answered: false });
      const [rec] = m.calls.byFlow(r.callId);
      expect(rec?.end).toMatchObject({ outcome, cause });
      expectTimes(rec, false);
    });
    expect(m.calls.byFlow(results[4]!.callId)[0]?.end?.detail).toMatch(/500 Allocation failed/);
    // no answer: Asterisk's own timeout (3 s) ended it, no Dial NOANSWER, and nothing was played
    const na = sim.callLog().find((c) => c.number === ELDER_NOANSWER);
    expect(na).toMatchObject({ endedBy: 'timeout', cause: 19, playbacks: [] });
  });

  it('with an agent: the elder waits in the bridge, the agent answers, both are bridged; the elder hanging up ends both', async () => {
    const t = await tel.callback({ idempotencyKey: 'cb-agent', number: ELDER_HANGS_UP, alarmId: 'A2', agent: { agentId: 'agent-1', extension: '8001' } });
    const r = await t.done;
    expect(r).toMatchObject({ status: 'completed', bridged: true, elder: { outcome: 'answered' }, agent: { outcome: 'answered', party: 'agent' } });
    const [elder, agent] = [r.elder!.channelId, r.agent!.channelId];
    expect(entered(`${t.callId}-br`)).toEqual([elder, agent]);
    expect(sim.callLog().find((c) => c.channelId === elder)).toMatchObject({ endedBy: 'far_end', cause: 16 });
    expect(sim.callLog().find((c) => c.channelId === agent)).toMatchObject({ endedBy: 'app' });
    expect(sim.bridges()).toEqual([]);
    expect(m.calls.get(agent)).toMatchObject({ party: 'agent', agentId: 'agent-1', number: '8001', endpoint: 'PJSIP/8001', alarmId: 'A2' });
    expect(m.agentChanges.filter((c) => c.channelId === agent || c.extension === '8001').map((c) => [c.agentId, c.state])).toEqual([
      ['agent-1', 'ringing'],
      ['agent-1', 'on_call'],
      ['agent-1', 'idle'],
    ]);
  });

  it('an agent who does not answer: the elder hears the no-agent prompt and is hung up', async () => {
    const t = await tel.callback({ idempotencyKey: 'cb-agent-na', number: ELDER_UP, agent: { agentId: 'agent-2', extension: '8002' }, agentRingTimeoutS: 2 });
    const r = await t.done;
    expect(r).toMatchObject({ status: 'agent_unavailable', bridged: false, elder: { outcome: 'answered' }, agent: { outcome: 'no_answer', cause: 19 } });
    expect(sim.callLog().find((c) => c.channelId === r.elder!.channelId)?.playbacks).toEqual(['sound:anxin-callback-greeting', 'sound:anxin-no-agent']);
  });

  it('a retried request never dials twice: concurrent, after the first call ended, and from a restarted process', async () => {
    const req = { idempotencyKey: 'cb-retry', number: ELDER_BUSY };
    const [a, b] = await Promise.all([tel.callback(req), tel.callback(req)]);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(a.callId).toBe(b.callId);
    await Promise.all([a.done, b.done]);
    expect((await b.done).status === 'duplicate' || (await a.done).status === 'duplicate').toBe(true);

    // the first leg has ended: the simulator (like Asterisk) would accept its channel id again
    const c = await tel.callback(req);
    expect(c.duplicate).toBe(true);
    expect((await c.done).status).toBe('duplicate');

    // a new process (fresh adapter memory, not even connected) sharing the call log: refused by CallLog.claim
    const other = createTelephony({
      url: sim.url,
      username: sim.username,
      password: sim.password,
      app: 'other',
      trunkTemplate: 'PJSIP/{number}@trunk',
      agentTemplate: 'PJSIP/{ext}',
      redDid: '96110',
      greenDid: '96120',
      ports: m.ports,
    });
    const d = await other.callback(req);
    expect(d.duplicate).toBe(true);

    expect(dialled(ELDER_BUSY)).toHaveLength(1);
    expect(m.calls.ops.filter((o) => o.startsWith('claim:cb-retry#elder'))).toEqual(['claim:cb-retry#elder:true', 'claim:cb-retry#elder:false', 'claim:cb-retry#elder:false']);
  });

  it('an invalid number is reported without dialling or claiming', async () => {
    const t = await tel.callback({ idempotencyKey: 'cb-invalid', number: 'not a number' });
    expect((await t.done).status).toBe('invalid_number');
    expect(sim.originateLog()).toEqual([]);
    expect(m.calls.claimed.has('cb-invalid#elder')).toBe(false);
  });
});

describe('agent click-to-call', () => {
  it('agent answers → contact dialled → both enter the bridge → hangup(callId) tears both down', async () => {
    const t = await tel.clickToCall({ idempotencyKey: 'c2c-1', agentId: 'agent-1', extension: '8001', target: { party: 'contact', number: ELDER_UP, contactId: 'K1' }, alarmId: 'A3' });
    const bridgeId = `${t.callId}-br`;
    await waitFor(() => entered(bridgeId).length === 2, 5000, 'both legs in the bridge');
    const agentId = m.calls.byKey('c2c-1#agent')!.channelId;
    const targetId = m.calls.byKey('c2c-1#target')!.channelId;
    expect(entered(bridgeId)).toEqual([agentId, targetId]);
    // the agent's leg was placed (and answered) before the target was dialled
    const order = sim.originateLog().map((o) => o.channelId);
    expect(order).toEqual([agentId, targetId]);

    expect(await tel.hangup(t.callId)).toBe(true);
    const r = await t.done;
    expect(r).toMatchObject({ status: 'completed', bridged: true, agent: { outcome: 'answered' }, target: { outcome: 'answered', party: 'contact' } });
    for (const id of [agentId, targetId]) {
      expect(sim.callLog().find((c) => c.channelId === id)).toMatchObject({ endedBy: 'app', cause: 16 });
      expectTimes(m.calls.get(id), true);
    }
    expect(m.calls.get(targetId)).toMatchObject({ party: 'contact', contactId: 'K1', agentId: 'agent-1', number: ELDER_UP });
    expect(sim.channels()).toEqual([]);
    expect(sim.bridges()).toEqual([]);
    expect(await tel.hangup(t.callId)).toBe(false);
  });

  it('the agent does not answer → the elder is never dialled', async () => {
    const t = await tel.clickToCall({ idempotencyKey: 'c2c-na', agentId: 'agent-2', extension: '8002', target: { party: 'elder', number: ELDER_UP }, agentRingTimeoutS: 2 });
    const r = await t.done;
    expect(r).toMatchObject({ status: 'agent_not_reached', bridged: false, agent: { outcome: 'no_answer', cause: 19 } });
    expect(r.target).toBeUndefined();
    expect(dialled(ELDER_UP)).toHaveLength(0);
    expect(m.calls.byKey('c2c-na#target')).toBeUndefined();
  });

  it('the target is busy → the agent hears a prompt and is hung up', async () => {
    const t = await tel.clickToCall({ idempotencyKey: 'c2c-busy', agentId: 'agent-1', extension: '8001', target: { party: 'elder', number: ELDER_BUSY } });
    const r = await t.done;
    expect(r).toMatchObject({ status: 'target_not_reached', agent: { outcome: 'answered' }, target: { outcome: 'busy', cause: 17 } });
    expect(sim.callLog().find((c) => c.channelId === r.agent!.channelId)?.playbacks).toEqual(['sound:anxin-not-reached']);
  });

  it('the agent hangs up from the dashboard while the target rings → the target is cancelled', async () => {
    const t = await tel.clickToCall({ idempotencyKey: 'c2c-cancel', agentId: 'agent-1', extension: '8001', target: { party: 'elder', number: ELDER_NOANSWER }, ringTimeoutS: 30 });
    await waitFor(() => dialled(ELDER_NOANSWER).length === 1, 3000, 'target dialled');
    await tel.hangup(t.callId);
    const r = await t.done;
    expect(r).toMatchObject({ status: 'cancelled', target: { outcome: 'cancelled', cause: 16 } });
    expect(m.calls.get(r.target!.channelId).end).toMatchObject({ outcome: 'cancelled', cause: 16 });
  });
});

describe('contact cascade', () => {
  it('busy and no answer move on; a 1 is recorded as the acceptance and stops the cascade', async () => {
    const t = await tel.cascade({
      idempotencyKey: 'cas-accept',
      alarmId: 'A4',
      elderId: 'E4',
      contacts: [
        { number: C_BUSY, contactId: 'K1' },
        { number: C_NOANSWER, contactId: 'K2' },
        { number: C_ACCEPTS, contactId: 'K3' },
        { number: C_SILENT, contactId: 'K4' },
      ],
      ringTimeoutS: 2,
    });
    const r = await t.done;
    expect(r.status).toBe('accepted');
    expect(r.acceptedBy).toMatchObject({ round: 1, contactIndex: 2, contactId: 'K3', number: C_ACCEPTS });
    expect(r.attempts.map((a) => a.outcome)).toEqual(['busy', 'no_answer', 'accepted_by_dtmf']);
    const accepted = m.accepted.filter((a) => a.cascadeId === t.callId);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ alarmId: 'A4', elderId: 'E4', contactIndex: 2, round: 1, contactId: 'K3', digit: '1', cascadeId: t.callId });
    expect(m.alerts.filter((a) => a.cascadeId === t.callId)).toEqual([]);
    expect(dialled(C_SILENT)).toHaveLength(0);

    const recs = m.calls.byFlow(t.callId);
    expect(recs.map((c) => [c.idempotencyKey, c.party, c.end?.outcome, c.end?.cause])).toEqual([
      ['cas-accept#r1c0', 'contact', 'busy', 17],
      ['cas-accept#r1c1', 'contact', 'no_answer', 19],
      ['cas-accept#r1c2', 'contact', 'accepted_by_dtmf', 16],
    ]);
    expectTimes(recs[2], true);
    const acc = sim.callLog().find((c) => c.channelId === r.acceptedBy!.channelId);
    expect(acc).toMatchObject({ dtmfReceived: '1', endedBy: 'app' });
    expect(acc?.playbacks[0]).toBe('sound:anxin-alarm-for-elder');
    expect(acc?.playbacks).toContain('sound:anxin-thank-you');
  });

  it('a hang-up mid-prompt, no digit, and a wrong digit move on; after two rounds the supervisor is alerted', async () => {
    const t = await tel.cascade({
      idempotencyKey: 'cas-exhaust',
      alarmId: 'A5',
      contacts: [{ number: C_HANGS_UP }, { number: C_SILENT }, { number: C_WRONG }, { number: 'bogus' }],
      dtmfTimeoutS: 2,
    });
    const r = await t.done;
    expect(r.status).toBe('exhausted');
    expect(r.attempts.map((a) => [a.round, a.contactIndex, a.outcome])).toEqual([
      [1, 0, 'not_accepted'],
      [1, 1, 'not_accepted'],
      [1, 2, 'not_accepted'],
      [1, 3, 'invalid_number'],
      [2, 0, 'not_accepted'],
      [2, 1, 'not_accepted'],
      [2, 2, 'not_accepted'],
      [2, 3, 'invalid_number'],
    ]);
    const alerts = m.alerts.filter((a) => a.cascadeId === t.callId);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ reason: 'cascade_exhausted', alarmId: 'A5', rounds: 2 });
    expect(alerts[0]?.attempts).toHaveLength(8);
    expect(m.accepted.filter((a) => a.cascadeId === t.callId)).toEqual([]);
    // the contact who hung up mid-prompt ended it (far end); the others were hung up by the hub
    const recs = m.calls.byFlow(t.callId);
    expect(recs).toHaveLength(6);
    const hungUp = sim.callLog().filter((c) => c.number === C_HANGS_UP);
    expect(hungUp.map((c) => c.endedBy)).toEqual(['far_end', 'far_end']);
    expect(sim.callLog().filter((c) => c.number === C_WRONG).map((c) => c.dtmfReceived)).toEqual(['2', '2']);
    for (const c of recs) expectTimes(c, true);
  });

  it('hangup(callId) stops the cascade without alerting; the same key again is a duplicate', async () => {
    const t = await tel.cascade({ idempotencyKey: 'cas-cancel', alarmId: 'A6', contacts: [{ number: C_NOANSWER }, { number: C_ACCEPTS }], ringTimeoutS: 30 });
    await waitFor(() => dialled(C_NOANSWER).length === 1, 3000, 'first contact dialled');
    expect(await tel.hangup(t.callId)).toBe(true);
    const r = await t.done;
    expect(r.status).toBe('cancelled');
    expect(r.attempts.map((a) => a.outcome)).toEqual(['cancelled']);
    expect(dialled(C_ACCEPTS)).toHaveLength(0);
    expect(m.alerts.filter((a) => a.cascadeId === t.callId)).toEqual([]);
    const again = await tel.cascade({ idempotencyKey: 'cas-cancel', alarmId: 'A6', contacts: [{ number: C_NOANSWER }] });
    expect(again.duplicate).toBe(true);
    expect(dialled(C_NOANSWER)).toHaveLength(1);
  });
});
