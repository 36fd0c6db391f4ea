/**
 * Issue 19 over HTTP, against the whole gateway with TELEPHONY=simulated (the built-in Asterisk simulator: every
 * number and extension answers after 1 s and stays up): the in-call controls on the agent's own click-to-call,
 * the dial pad, supervisor listen/whisper/barge, recording playback through Anxin, the call log, the call-back
 * list, forcing an agent's state and reassigning an alarm. Each action is asserted in audit_log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { byteRange } from '../../gateway/http/recordings.js';
import { RecordingRetention } from '../../gateway/recording-retention.js';
import { freePort } from '../../testkit/free-port.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

type H = { authorization: string };
const ELDER = '13800000001';
const DAUGHTER = '13900000003';
const DOCTOR = '13900000005';

let app: App;
let admin: H;
const users = {} as Record<'agent' | 'agent2' | 'lead' | 'installer', H & { id: number }>;
let elderId: number;
/** the call transferred to agent2 (attended, by extension) */
let transferred = '';

const post = (h: H, url: string, payload?: unknown) => app.http.inject({ method: 'POST', url, headers: h, ...(payload === undefined ? {} : { payload: payload as object }) });
const get = (h: H, url: string, headers: Record<string, string> = {}) => app.http.inject({ method: 'GET', url, headers: { ...h, ...headers } });
const audits = async (target: string) => (await app.db.query(`SELECT actor, action, detail FROM audit_log WHERE target = $1 ORDER BY id`, [target])).rows as { actor: string; action: string; detail: Record<string, unknown> }[];

/** Click-to-call by the agent; the previous call may still be finishing (409 call_in_progress is asked again). */
async function callElder(h: H): Promise<string> {
  for (let i = 0; ; i++) {
    const r = await post(h, '/api/calls', { elderId });
    if (r.statusCode === 202) return r.json().call.id as string;
    if (r.statusCode !== 409 || i > 100) {
      const live = await app.db.query(`SELECT id, flow_id, party, number, agent_id, answered_at, ended_at FROM calls WHERE ended_at IS NULL AND channel_id IS NOT NULL`);
      throw new Error(`click-to-call: ${r.statusCode} ${r.body}; live legs: ${JSON.stringify(live.rows)}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** The call is bridged and under control: a first control succeeds (it is retried while the call is not yet handed over). */
async function whenControlled(h: H, callId: string, path = 'hold', body?: unknown) {
  return until(async () => {
    const r = await post(h, `/api/calls/${callId}/${path}`, body);
    if (r.statusCode === 404) return undefined;
    return r;
  }, 20_000);
}

async function hangup(h: H, callId: string) {
  await post(h, `/api/calls/${callId}/hangup`);
  await until(async () => (await app.db.query(`SELECT bool_and(ended_at IS NOT NULL) AS done FROM calls WHERE flow_id = $1`, [callId])).rows[0].done === true, 20_000);
}

beforeAll(async () => {
  const port = await freePort();
  app = await startTestApp({}, { TELEPHONY: 'simulated', SIM_ASTERISK_PORT: String(port), LOGIN_RATE_PER_MIN: '1000', WRAP_UP_S: '0' });
  admin = await login(app);
  const mk = async (username: string, role: string) => {
    const u = await post(admin, '/api/users', { username, role, password: 'password-123' });
    expect(u.statusCode, u.body).toBe(201);
    const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'password-123' } });
    return { authorization: `Bearer ${l.json().token}`, id: u.json().id as number };
  };
  users.agent = await mk('cc-agent', 'agent');
  users.agent2 = await mk('cc-agent2', 'agent');
  users.lead = await mk('cc-lead', 'supervisor');
  users.installer = await mk('cc-installer', 'installer');
  for (const [who, ext] of [['agent', '8001'], ['agent2', '8002'], ['lead', '8003']] as const) {
    const s = await post(users[who], '/api/agents/me/sign-in', { extension: ext });
    expect(s.statusCode, s.body).toBe(200);
  }
  const e = await post(admin, '/api/elders', {
    name: '王桂兰', phone: ELDER, contacts: [{ name: '王芳', relation: '女儿', phone: DAUGHTER }],
    // present only: no automatic callback dialling into the agents' calls
    responsePlan: { steps: [{ atS: 0, action: 'present_longest_idle' }] },
  });
  expect(e.statusCode, e.body).toBe(201);
  elderId = e.json().id;
  await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'), 30_000);
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

describe('in-call controls (issue 19)', () => {
  it('hold, unhold, mute, unmute, DTMF, conference add and remove, attended transfer cancel and complete, each audited', async () => {
    const callId = await callElder(users.agent);
    const first = await whenControlled(users.agent, callId);
    expect(first.statusCode, first.body).toBe(200);
    for (const path of ['unhold', 'mute', 'unmute']) {
      const r = await post(users.agent, `/api/calls/${callId}/${path}`);
      expect(r.statusCode, `${path}: ${r.body}`).toBe(200);
    }
    expect((await post(users.agent, `/api/calls/${callId}/dtmf`, { digits: '12#' })).statusCode).toBe(200);

    // another agent may not touch it; an installer may not either; a supervisor may
    const other = await post(users.agent2, `/api/calls/${callId}/hold`);
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toBe('not_your_call');
    expect((await post(users.installer, `/api/calls/${callId}/hold`)).statusCode).toBe(403);
    expect((await post(users.lead, `/api/calls/${callId}/mute`)).statusCode).toBe(200);
    expect((await post(users.lead, `/api/calls/${callId}/unmute`)).statusCode).toBe(200);

    // hostile bodies: 400, never a 500 or a call
    expect((await post(users.agent, `/api/calls/${callId}/dtmf`, { digits: '<script>alert(1)</script>' })).statusCode).toBe(400);
    expect((await post(users.agent, `/api/calls/${callId}/dtmf`, { digits: '1\u00002' })).statusCode).toBe(400);
    expect((await post(users.agent, `/api/calls/${callId}/transfer`, { mode: 'blind', target: { number: 'abc' } })).statusCode).toBe(400);
    expect((await post(users.agent, `/api/calls/${callId}/transfer`, { mode: 'blind', target: { extension: '1' } })).statusCode).toBe(400);
    expect((await post(users.agent, `/api/calls/${callId}/transfer`, { mode: 'sideways', target: { extension: '8002' } })).statusCode).toBe(400);
    // nothing to complete yet
    const early = await post(users.agent, `/api/calls/${callId}/transfer/complete`);
    expect(early.statusCode, early.body).toBe(409);

    const consult = await post(users.agent, `/api/calls/${callId}/transfer`, { mode: 'attended', target: { number: DOCTOR } });
    expect(consult.statusCode, consult.body).toBe(200);
    expect(consult.json().status).toBe('consulting');
    expect((await post(users.agent, `/api/calls/${callId}/transfer/cancel`)).statusCode).toBe(200);
    const conf = await post(users.agent, `/api/calls/${callId}/conference`, { target: { number: DAUGHTER } });
    expect(conf.statusCode, conf.body).toBe(200);
    expect(conf.json().status).toBe('transferred');
    const rm = await post(users.agent, `/api/calls/${callId}/conference/remove`, { party: conf.json().channelId });
    expect(rm.statusCode, rm.body).toBe(200);

    const again = await post(users.agent, `/api/calls/${callId}/transfer`, { mode: 'attended', target: { extension: '8002' } });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().status).toBe('consulting');
    const done = await post(users.agent, `/api/calls/${callId}/transfer/complete`);
    transferred = callId;
    expect(done.statusCode, done.body).toBe(200);

    const rows = await audits(`call:${callId}`);
    const actions = rows.map((r) => r.action);
    for (const a of ['call_hold', 'call_unhold', 'call_mute', 'call_unmute', 'call_dtmf', 'call_conference_add', 'call_conference_remove', 'call_consult', 'call_transfer_cancel', 'call_transfer_complete']) expect(actions, a).toContain(a);
    expect(rows.find((r) => r.action === 'call_hold')!.actor).toBe(`user:${users.agent.id}`);
    expect(rows.find((r) => r.action === 'call_mute' && r.actor === `user:${users.lead.id}`)).toBeTruthy();
    expect(rows.find((r) => r.action === 'call_consult' && r.detail.extension === '8002')).toBeTruthy();
    // a private number is kept as its last 4 digits only; DTMF digits not at all
    expect(JSON.stringify(rows)).not.toContain(DOCTOR);
    expect(rows.find((r) => r.action === 'call_dtmf')!.detail).toEqual({ digits: 3 });
    await hangup(users.agent, callId);
  }, 120_000);

  it('blind transfer to an outside number; unknown calls answer 404', async () => {
    const callId = await callElder(users.agent);
    await whenControlled(users.agent, callId, 'mute');
    const r = await post(users.agent, `/api/calls/${callId}/transfer`, { mode: 'blind', target: { number: '120' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().status).toBe('transferred');
    expect((await audits(`call:${callId}`)).find((a) => a.action === 'call_transfer_blind')!.detail).toMatchObject({ number: '120' });
    await hangup(users.agent, callId);
    expect((await post(users.agent, '/api/calls/no-such-call/hold')).statusCode).toBe(404);
  }, 60_000);

  it('dial pad: a number not in the file, with the click-to-call claim rules', async () => {
    const bad = await post(users.agent, '/api/calls/dial-pad', { number: '12<b>3' });
    expect(bad.statusCode).toBe(400);
    let r = await post(users.agent, '/api/calls/dial-pad', { number: DOCTOR });
    for (let i = 0; r.statusCode === 409 && r.json().error === 'call_in_progress' && i < 100; i++) {
      await new Promise((res) => setTimeout(res, 200));
      r = await post(users.agent, '/api/calls/dial-pad', { number: DOCTOR });
    }
    expect(r.statusCode, r.body).toBe(202);
    const callId = r.json().call.id as string;
    expect(r.json().call.party).toBe('unknown');
    // a second originate while the first is live: refused
    const second = await post(users.agent, '/api/calls/dial-pad', { number: DAUGHTER });
    expect(second.statusCode).toBe(409);
    expect(second.json().error).toBe('call_in_progress');
    await whenControlled(users.agent, callId, 'mute');
    expect((await audits(`call:${callId}`)).map((a) => a.action)).toContain('call_dial_pad');
    await hangup(users.agent, callId);
  }, 60_000);
});

describe('supervisor and recording (issue 19)', () => {
  let callId = '';

  it('listen, whisper and barge (supervisors only), each session ended, audited', async () => {
    callId = await callElder(users.agent);
    await whenControlled(users.agent, callId, 'unmute');
    expect((await post(users.agent, `/api/calls/${callId}/listen`, {})).statusCode).toBe(403);
    expect((await post(users.agent2, `/api/calls/${callId}/barge`, {})).statusCode).toBe(403);
    for (const mode of ['listen', 'whisper', 'barge'] as const) {
      const r = await post(users.lead, `/api/calls/${callId}/${mode}`, mode === 'whisper' ? { extension: '8004' } : undefined);
      expect(r.statusCode, `${mode}: ${r.body}`).toBe(200);
      expect(r.json().status).toBe('connected');
      // the supervisor's listen-in leg is not their own call: a reload must not offer them 挂机 on it
      expect(((await get(users.lead, '/api/calls/live')).json() as { id: string }[]).map((c) => c.id)).not.toContain(callId);
      const end = await post(users.lead, `/api/calls/${callId}/supervision/${encodeURIComponent(r.json().sessionId)}/end`);
      expect(end.statusCode, end.body).toBe(200);
    }
    const rows = await audits(`call:${callId}`);
    expect(rows.filter((r) => ['call_listen', 'call_whisper', 'call_barge'].includes(r.action)).map((r) => [r.action, r.detail.extension])).toEqual([
      ['call_listen', '8003'],
      ['call_whisper', '8004'],
      ['call_barge', '8003'],
    ]);
    expect(rows.filter((r) => r.action === 'call_supervision_end')).toHaveLength(3);
    // one session switched listen → whisper → barge without ringing the supervisor again
    const s = await post(users.lead, `/api/calls/${callId}/listen`, undefined);
    expect(s.statusCode, s.body).toBe(200);
    const sid = encodeURIComponent(s.json().sessionId);
    expect((await post(users.agent, `/api/calls/${callId}/supervision/${sid}/mode`, { mode: 'whisper' })).statusCode).toBe(403);
    expect((await post(users.lead, `/api/calls/${callId}/supervision/${sid}/mode`, { mode: 'shout' })).statusCode).toBe(400);
    for (const mode of ['whisper', 'barge'] as const) {
      const m = await post(users.lead, `/api/calls/${callId}/supervision/${sid}/mode`, { mode });
      expect(m.statusCode, `${mode}: ${m.body}`).toBe(200);
    }
    expect((await post(users.lead, `/api/calls/${callId}/supervision/no-such-session/mode`, { mode: 'listen' })).statusCode).toBeGreaterThanOrEqual(400);
    expect((await post(users.lead, `/api/calls/${callId}/supervision/${sid}/end`)).statusCode).toBe(200);
    const switched = (await audits(`call:${callId}`)).filter((r) => r.detail.switched === true).map((r) => r.action);
    expect(switched).toEqual(['call_whisper', 'call_barge']);
    await hangup(users.agent, callId);
  }, 90_000);

  it('the recording plays through Anxin as a RIFF WAV, with Range; each playback is audited; installers get 403', async () => {
    const r = await until(async () => {
      const x = await get(users.agent2, `/api/calls/${callId}/recording`);
      return x.statusCode === 200 ? x : undefined;
    }, 30_000);
    expect(r.headers['content-type']).toBe('audio/wav');
    const wav = r.rawPayload;
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.toString('ascii', 8, 12)).toBe('WAVE');
    const part = await get(users.lead, `/api/calls/${callId}/recording`, { range: 'bytes=0-11' });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload.toString('ascii', 8, 12)).toBe('WAVE');
    expect(part.headers['content-range']).toBe(`bytes 0-11/${wav.length}`);
    expect((await get(users.installer, `/api/calls/${callId}/recording`)).statusCode).toBe(403);
    expect((await get(users.agent, '/api/calls/never-was/recording')).statusCode).toBe(404);
    const plays = (await audits(`call:${callId}`)).filter((a) => a.action === 'recording_play');
    expect(plays.map((p) => p.actor)).toEqual([`user:${users.agent2.id}`, `user:${users.lead.id}`]);
    expect(plays[0]!.detail).toMatchObject({ elderId });
  }, 60_000);

  it('the call log: filters, names, paging; installers get 403', async () => {
    const all = await get(users.agent, `/api/call-log?elderId=${elderId}`);
    expect(all.statusCode, all.body).toBe(200);
    const items = all.json().items as { id: number; elderId: number; elderName: string; party: string; direction: string; agentId: number; agentName: string; flowId: string; hasRecording: boolean }[];
    expect(items.length).toBeGreaterThan(2);
    expect(items.every((i) => i.elderId === elderId && i.elderName === '王桂兰' && i.party !== 'agent')).toBe(true);
    expect(items.map((i) => i.id)).toEqual([...items.map((i) => i.id)].sort((a, b) => b - a));
    const mine = items.find((i) => i.flowId === callId)!;
    expect(mine).toMatchObject({ agentId: users.agent.id, agentName: 'cc-agent', direction: 'outbound' });
    expect((await get(users.agent, `/api/call-log?direction=inbound&elderId=${elderId}`)).json().items).toEqual([]);
    const byNumber = (await get(users.lead, `/api/call-log?number=${DOCTOR.slice(-6)}`)).json().items as { number: string }[];
    expect(byNumber.length).toBeGreaterThan(0);
    expect(byNumber.every((i) => i.number.includes(DOCTOR.slice(-6)))).toBe(true);
    // an agent's calls: those they took part in (agent2 was consulted and took the transfer), every leg of them
    const ag2 = ((await get(users.agent, `/api/call-log?agentId=${users.agent2.id}`)).json().items as { flowId: string }[]).map((i) => i.flowId);
    expect(ag2).toContain(transferred);
    expect(ag2).not.toContain(callId);
    const p1 = (await get(users.agent, '/api/call-log?limit=1')).json();
    expect(p1.items).toHaveLength(1);
    const p2 = (await get(users.agent, `/api/call-log?limit=1&cursor=${p1.nextCursor}`)).json();
    expect(p2.items[0].id).toBeLessThan(p1.items[0].id);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await get(users.agent, `/api/call-log?from=${encodeURIComponent(future)}`)).json().items).toEqual([]);
    expect((await get(users.agent, '/api/call-log?number=%3Cscript%3E')).statusCode).toBe(400);
    expect((await get(users.installer, '/api/call-log')).statusCode).toBe(403);
  });

  it("one call's detail: its legs (the agent's too) and its timeline in order, with who did what", async () => {
    const d = await get(users.agent2, `/api/call-log/${encodeURIComponent(callId)}`);
    expect(d.statusCode, d.body).toBe(200);
    const body = d.json() as { flowId: string; legs: { party: string; id: number }[]; actions: { action: string; byUser: string; byName: string | null; at: string }[]; hasRecording: boolean };
    expect(body.flowId).toBe(callId);
    expect(body.legs.map((l) => l.party)).toContain('agent');
    expect(body.legs.map((l) => l.id)).toEqual([...body.legs.map((l) => l.id)].sort((a, b) => a - b));
    const acts = body.actions.map((a) => a.action);
    // the listen-in session of the test above, on the call's own timeline, after it was connected
    expect(acts.indexOf('connected')).toBeGreaterThanOrEqual(0);
    for (const a of ['listen', 'whisper', 'barge', 'ended']) expect(acts, a).toContain(a);
    expect(acts.indexOf('listen')).toBeGreaterThan(acts.indexOf('connected'));
    expect(body.actions.find((a) => a.action === 'listen')).toMatchObject({ byUser: String(users.lead.id), byName: expect.any(String) });
    expect(body.actions.map((a) => a.at)).toEqual([...body.actions.map((a) => a.at)].sort());
    expect(body.hasRecording).toBe(true);
    expect((await get(users.agent, '/api/call-log/never-was')).statusCode).toBe(404);
    expect((await get(users.installer, `/api/call-log/${encodeURIComponent(callId)}`)).statusCode).toBe(403);
  });

  it('the call-back list: listed, marked done once (audited)', async () => {
    const ins = await app.db.query(`INSERT INTO callback_requests (reason, entry_id, caller_number, did, elder_id, wait_ms) VALUES ('abandoned', 'entry-1', $1, '12349', $2, 42000) RETURNING id`, [ELDER, elderId]);
    const id = Number(ins.rows[0].id);
    const list = await get(users.agent, '/api/callbacks');
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json()).toEqual([expect.objectContaining({ id, reason: 'abandoned', callerNumber: ELDER, waitMs: 42000, handledAt: null })]);
    expect((await post(users.agent, `/api/callbacks/${id}/done`)).statusCode).toBe(200);
    expect((await post(users.agent, `/api/callbacks/${id}/done`)).statusCode).toBe(404);
    expect((await get(users.agent, '/api/callbacks')).json()).toEqual([]);
    expect((await audits(`callback:${id}`)).map((a) => a.action)).toEqual(['callback_done']);
  });
});

describe('supervisor: agent states and alarms (issue 19)', () => {
  it("forces an agent's state with a reason (audited); hostile text is stored as text or refused", async () => {
    expect((await post(users.agent, `/api/agents/${users.agent2.id}/state`, { state: 'not_ready', reason: 'training' })).statusCode).toBe(403);
    const reason = '<script>alert(1)</script> 培训';
    const r = await post(users.lead, `/api/agents/${users.agent2.id}/state`, { state: 'not_ready', reason });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().state).toBe('not_ready');
    expect((await get(users.agent2, '/api/agents/me')).json().state).toBe('not_ready');
    const row = (await audits(`user:${users.agent2.id}`)).find((a) => a.action === 'agent_state_forced')!;
    expect(row).toMatchObject({ actor: `user:${users.lead.id}`, detail: { state: 'not_ready', reason } });
    expect((await post(users.lead, `/api/agents/${users.agent2.id}/state`, { state: 'ready', reason: 'x\u0000y' })).statusCode).toBe(400);
    expect((await post(users.lead, `/api/agents/${users.agent2.id}/state`, { state: 'on_call', reason: 'nope' })).statusCode).toBe(400);
    expect((await post(users.lead, `/api/agents/${users.installer.id}/state`, { state: 'ready', reason: 'never signed in' })).statusCode).toBe(404);
  });

  it('reassigns an accepted alarm to another agent (owner, timeline, audit); agents may not', async () => {
    await post(admin, '/api/devices', { identifier: '8800000077', protocol: 'watch', elderId });
    await app.pipeline.handle([{ deviceId: '8800000077', protocol: 'watch', kind: 'alarm', alarms: ['sos'], receivedAt: new Date(), raw: 'cc-sos' } as never]);
    const alarmId = await until(async () => (await app.db.query(`SELECT id FROM alarms WHERE elder_id = $1 ORDER BY id DESC LIMIT 1`, [elderId])).rows[0]?.id as number | undefined);
    const acc = await post(users.agent, `/api/alarms/${alarmId}/accept`, {});
    expect(acc.statusCode, acc.body).toBe(200);
    expect((await post(users.agent, `/api/alarms/${alarmId}/reassign`, { userId: users.agent2.id })).statusCode).toBe(403);
    expect((await post(users.lead, `/api/alarms/${alarmId}/reassign`, { userId: users.installer.id })).statusCode).toBe(400);
    const r = await post(users.lead, `/api/alarms/${alarmId}/reassign`, { userId: users.agent2.id, reason: '坐席交班 shift change' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().ownerId).toBe(users.agent2.id);
    expect((await post(users.lead, `/api/alarms/${alarmId}/reassign`, { userId: users.agent2.id })).statusCode).toBe(409);
    const detail = (await get(users.lead, `/api/alarms/${alarmId}`)).json();
    expect(detail.timeline.find((e: { action: string }) => e.action === 'reassign')).toMatchObject({ actor: `user:${users.lead.id}`, detail: { from: users.agent.id, to: users.agent2.id } });
    expect((await audits(`alarm:${alarmId}`)).map((a) => a.action)).toContain('alarm_reassign');
    // the new owner holds it now: they may resolve it, the old one may not
    expect((await post(users.agent, `/api/alarms/${alarmId}/resolve`, { outcome: 'test' })).statusCode).toBe(403);
  });
});

describe('recording retention (RECORDING_RETENTION_DAYS)', () => {
  it('deletes recordings of calls that ended before the cut-off through the telephony, marks them deleted, audits; newer ones stay', async () => {
    const old = new Date(Date.now() - 91 * 24 * 3600_000);
    const ins = (key: string, ended: Date) =>
      app.db.query(`INSERT INTO calls (idempotency_key, channel_id, flow, flow_id, direction, party, number, created_at, answered_at, ended_at, recording, recording_state)
                    VALUES ($1, $1, 'click_to_call', $2, 'outbound', 'elder', $3, $4, $4, $4, $5, 'done')`, [`${key}#elder`, key, ELDER, ended, `anxin-call-${key}`]);
    await ins('ret-old', old);
    await ins('ret-new', new Date());
    await app.db.query(`INSERT INTO callback_requests (reason, entry_id, caller_number, did, recording, created_at) VALUES ('voicemail', 'ret-vm', $1, '12349', 'hotline-ret-vm', $2)`, [ELDER, old]);
    const deleted: string[] = [];
    const recordings = { nameFor: (id: string) => `anxin-call-${id}`, get: async () => undefined, file: async () => undefined, delete: async (name: string) => (deleted.push(name), true) };
    const r = new RecordingRetention({ db: app.db, recordings: () => recordings, days: 90, log: app.log });
    expect(await r.sweep()).toBe(2);
    expect(deleted.sort()).toEqual(['anxin-call-ret-old', 'hotline-ret-vm']);
    const rows = (await app.db.query(`SELECT flow_id, recording_state FROM calls WHERE flow_id LIKE 'ret-%' ORDER BY flow_id`)).rows;
    expect(rows).toEqual([{ flow_id: 'ret-new', recording_state: 'done' }, { flow_id: 'ret-old', recording_state: 'deleted' }]);
    expect((await audits('call:ret-old')).map((a) => a.action)).toEqual(['recording_deleted']);
    // gone from the log's playback, and not tried again
    expect((await get(users.agent, '/api/call-log?number=' + ELDER)).json().items.find((i: { flowId: string }) => i.flowId === 'ret-old')).toMatchObject({ hasRecording: false });
    expect(await r.sweep()).toBe(0);
  });

  it('parses Range headers', () => {
    expect(byteRange(undefined, 100)).toBeUndefined();
    expect(byteRange('bytes=0-9', 100)).toEqual([0, 9]);
    expect(byteRange('bytes=90-', 100)).toEqual([90, 99]);
    expect(byteRange('bytes=-10', 100)).toEqual([90, 99]);
    expect(byteRange('bytes=0-1000', 100)).toEqual([0, 99]);
    expect(byteRange('bytes=100-', 100)).toBe('bad');
    expect(byteRange('items=0-1', 100)).toBe('bad');
  });
});
