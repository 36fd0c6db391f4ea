/**
 * Welfare calls (平安呼叫, issue 22) through the gateway and telephony, on the simulator and (TEST_ARI_URL) the real
 * Asterisk: the elder answers with 1 (the run is ok, no alarm); with 2 (a help_requested P2 alarm, the call and its
 * recording belong to it); no answer, busy and then silent (retries as jobs, then welfare_check_failed with every
 * attempt on its timeline). Each attempt is run the way its job runs it, with the clock given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { targets, type AriTargetEnv } from '../helpers/ari-target.js';
import { until } from '../helpers/until.js';

const FAR = { kind: 'every', n: 1, from: '2027-03-01' };
const T0 = new Date('2027-03-01T00:30:00Z');

for (const target of targets()) {
  describe(`welfare calls through the gateway (${target.name})`, () => {
    let t: AriTargetEnv;
    let release: () => void = () => undefined;
    let app: App;
    let admin: { authorization: string };

    beforeAll(async () => {
      t = await target.start({ timeScale: 0.2 });
      release = await t.lockInbound();
      app = await startTestApp({}, {
        TELEPHONY: 'ari', ARI_URL: t.url, ARI_USERNAME: t.username, ARI_PASSWORD: t.password, ARI_APP: t.inboundApp,
        ARI_TRUNK_TEMPLATE: t.trunkTemplate, ARI_AGENT_TEMPLATE: t.agentTemplate, RED_LINE_DID: t.lines.red, GREEN_LINE_DID: t.lines.green,
        CARE_RING_TIMEOUT_S: '5',
      });
      admin = await login(app);
      await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'), 30_000);
    }, 300_000);

    afterAll(async () => {
      await app?.stop();
      release();
      await t?.stop();
    });

    const q = async (sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).rows;
    /** An elder with this phone and a daily welfare call at 09:00; answers the first run's id. */
    async function runFor(name: string, phone: string, extra: Record<string, unknown> = {}): Promise<{ elderId: number; runId: number }> {
      const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name, phone } });
      const elderId = e.json().id as number;
      const s = await app.http.inject({ method: 'POST', url: `/api/elders/${elderId}/care-schedules`, headers: admin, payload: { kind: 'welfare_call', recurrence: FAR, times: ['09:00'], ...extra } });
      expect(s.statusCode, s.body).toBe(201);
      await app.care.plan(T0);
      const run = (await q(`SELECT id FROM care_runs WHERE schedule_id = $1 ORDER BY due_at LIMIT 1`, [s.json().id]))[0]!;
      return { elderId, runId: run.id as number };
    }
    const run = async (id: number) => (await q(`SELECT state, attempts, alarm_id FROM care_runs WHERE id = $1`, [id]))[0]!;
    const settled = (id: number, states: string[]) => until(async () => states.includes((await run(id)).state) && run(id), 60_000);

    it('1 pressed: the run is ok, the call is on record, no alarm', async () => {
      const { elderId, runId } = await runFor('钱桂英', t.numbers.press1);
      await app.care.attempt({ runId, n: 1 }, new Date('2027-03-01T01:00:01Z'));
      const r = await settled(runId, ['ok', 'failed', 'retry_wait', 'help']);
      expect(r.state).toBe('ok');
      expect(r.attempts).toMatchObject([{ n: 1, outcome: 'ok' }]);
      const calls = await q(`SELECT flow, party, outcome FROM calls WHERE flow_id = $1`, [r.attempts[0].callId]);
      expect(calls).toEqual([{ flow: 'welfare', party: 'elder', outcome: 'accepted_by_dtmf' }]);
      expect(Number((await q(`SELECT count(*) FROM alarms WHERE elder_id = $1`, [elderId]))[0]!.count)).toBe(0);
    }, 90_000);

    it('2 pressed: help_requested (P2) with the call and its recording', async () => {
      const { elderId, runId } = await runFor('孙美兰', t.numbers.press2);
      await app.care.attempt({ runId, n: 1 }, new Date('2027-03-01T01:00:01Z'));
      const r = await settled(runId, ['help', 'ok', 'failed', 'retry_wait']);
      expect(r.state).toBe('help');
      const alarm = (await q(`SELECT id, kind, priority, detail FROM alarms WHERE id = $1`, [r.alarm_id]))[0]!;
      expect(alarm).toMatchObject({ kind: 'help_requested', priority: 2 });
      expect(alarm.detail.careRunId).toBe(runId);
      const calls = await q(`SELECT flow, alarm_id, elder_id FROM calls WHERE flow_id = $1`, [r.attempts[0].callId]);
      expect(calls).toEqual([{ flow: 'welfare', alarm_id: alarm.id, elder_id: elderId }]);
      // what the elder said after the beep is recorded and named on the alarm
      expect(alarm.detail.recording).toBe(`anxin-welfare-${r.attempts[0].callId}`);
      const detail = await app.http.inject({ url: `/api/alarms/${alarm.id}`, headers: admin });
      expect(detail.json().calls.map((c: { flow: string }) => c.flow)).toContain('welfare');
    }, 90_000);

    it('no answer, busy, then no key: retries as jobs, then welfare_check_failed with every attempt on its timeline', async () => {
      const { runId } = await runFor('周玉梅', t.numbers.noAnswer, { retries: 2, retryIntervalMin: 1 });
      const phone = (n: string) => q(`UPDATE elders SET phone = $2 WHERE id = (SELECT elder_id FROM care_runs WHERE id = $1)`, [runId, n]);
      await app.care.attempt({ runId, n: 1 }, new Date('2027-03-01T01:00:01Z'));
      const first = await settled(runId, ['retry_wait', 'failed', 'ok']);
      expect(first.state).toBe('retry_wait');
      expect(first.attempts[0].outcome).toBe('no_answer'); // rang CARE_RING_TIMEOUT_S
      await phone(t.numbers.busy);
      await app.care.attempt({ runId, n: 2 }, new Date('2027-03-01T01:01:30Z'));
      await until(async () => (await run(runId)).attempts.length === 2 && (await run(runId)).state === 'retry_wait', 60_000);
      // the phone is answered now, but nobody presses a key
      await phone(t.numbers.silent);
      await app.care.attempt({ runId, n: 3 }, new Date('2027-03-01T01:03:00Z'));
      const r = await settled(runId, ['failed', 'ok', 'help']);
      expect(r.state).toBe('failed');
      expect(r.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(['no_answer', 'busy', 'no_key']);
      const events = await q(`SELECT detail FROM alarm_events WHERE alarm_id = $1 AND action = 'care_attempt' ORDER BY id`, [r.alarm_id]);
      expect(events.map((e) => e.detail.outcome)).toEqual(['no_answer', 'busy', 'no_key']);
      expect((await q(`SELECT kind FROM alarms WHERE id = $1`, [r.alarm_id]))[0]!.kind).toBe('welfare_check_failed');
    }, 120_000);
  });
}
