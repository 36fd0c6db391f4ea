/**
 * SCAIP flows SIPp cannot express (issue 26), with the scripted unit (simulators/scaip/unit.ts) against the real
 * gateway and the ARI simulator: the alarm's automatic callback dials the unit's own number from `crd`, not the
 * elder's phone; a unit that never answers our <mrs> MESSAGE gets it again (T1 doubling); a second alarm of the same
 * kind after the first is resolved is a new alarm; heartbeats that stop raise device_silent; a unit with a SIP
 * password must pass the digest challenge; a database that is down gets 503 and no <mrs>, and the unit's
 * retry with the same ref, once it is back, makes exactly one alarm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { startAsteriskSim, type AsteriskSim } from '../../simulators/asterisk/index.js';
import { ScaipUnit } from '../../simulators/scaip/unit.js';
import { login, startTestApp } from '../helpers/app.js';
import { until } from '../helpers/until.js';

const CID = '555001';
const ELDER_PHONE = '13900000011';
const UNIT_NUMBER = '+37284463906';
let sim: AsteriskSim;
let app: App;
let admin: { authorization: string };
const units: ScaipUnit[] = [];

function unit(o: Partial<ConstructorParameters<typeof ScaipUnit>[0]> = {}): ScaipUnit {
  const u = new ScaipUnit({ host: '127.0.0.1', port: app.scaip.port, cid: CID, ...o });
  units.push(u);
  return u;
}
const alarm = (ref: string, dty = '0003') => `<mrq><ref>${ref}</ref><cid>${CID}</cid><dty>${dty}</dty><mty>ME</mty><stc>10</stc><crd>gsm:${UNIT_NUMBER}</crd><cha>1</cha></mrq>`;
const alarmsOf = async (kind: string) => (await app.db.query(`SELECT id, state, count FROM alarms WHERE source_key = $1 AND kind = $2 ORDER BY id`, [CID, kind])).rows as { id: number; state: string; count: number }[];

beforeAll(async () => {
  sim = await startAsteriskSim({ port: 0, timeScale: 0.2, app: 'anxin', directory: [{ match: '84463906', action: 'answer', answerAfter: 1, hangupAfter: 3 }, { match: ELDER_PHONE, action: 'answer', answerAfter: 1, hangupAfter: 3 }] });
  app = await startTestApp({}, { TELEPHONY: 'ari', ARI_URL: sim.url, ARI_USERNAME: sim.username, ARI_PASSWORD: sim.password, ARI_APP: 'anxin' });
  admin = await login(app);
  const e = await app.http.inject({
    method: 'POST', url: '/api/elders', headers: admin,
    payload: { name: '孙玉兰', phone: ELDER_PHONE, responsePlan: { steps: [{ atS: 0, action: 'callback_and_cascade' }], cascade: { rounds: 1, ringTimeoutS: 20, acceptDigit: '1' }, callbackElder: true } },
  });
  expect(e.statusCode, e.body).toBe(201);
  const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: CID, protocol: 'scaip', elderId: e.json().id } });
  expect(d.statusCode, d.body).toBe(201);
  await until(() => app.health.report().then((h) => h.parts.telephony?.state === 'up'));
}, 60_000);

afterAll(async () => {
  for (const u of units) await u.close();
  await app?.stop();
  await sim?.stop();
});

describe('SCAIP with a scripted unit', () => {
  it("the automatic callback dials the unit's own number from crd, not the elder's phone", async () => {
    const u = unit();
    const out = await u.send(alarm('cb-1'));
    expect(out).toMatchObject({ status: 200, mrs: '<mrs><ref>cb-1</ref><snu>0</snu></mrs>' });
    const [a] = await alarmsOf('sos');
    expect(a).toBeDefined();
    const events = async () => (await app.db.query(`SELECT action, detail FROM alarm_events WHERE alarm_id = $1 ORDER BY id`, [a!.id])).rows as { action: string; detail: Record<string, unknown> }[];
    await until(async () => (await events()).some((e) => e.action === 'callback_started'), 20_000);
    expect((await events()).find((e) => e.action === 'callback_started')!.detail).toMatchObject({ to: 'unit' });
    const dialled = sim.originateLog().map((o) => JSON.stringify(o.params ?? o.query));
    expect(dialled.some((x) => x.includes(UNIT_NUMBER))).toBe(true);
    expect(dialled.some((x) => x.includes(ELDER_PHONE))).toBe(false);
  }, 60_000);

  it('a unit that does not answer our <mrs> MESSAGE gets it again, T1 doubling', async () => {
    const u = unit({ answerMrs: false });
    const out = await u.send('<mrq><ref>quiet-1</ref><cid>555001</cid><dty>0002</dty><mty>PI</mty></mrq>');
    expect(out.status).toBe(200);
    await until(() => u.mrsReceived.length >= 3, 5000); // at 0, 0.5 and 1.5 s
    expect(new Set(u.mrsReceived)).toEqual(new Set(['<mrs><ref>quiet-1</ref><snu>0</snu></mrs>']));
    expect(app.scaip.pending).toBeGreaterThanOrEqual(1);
  });

  it('the second alarm of the same kind after the first was resolved is a new alarm', async () => {
    const [first] = await alarmsOf('sos');
    await app.db.query(`UPDATE alarms SET state = 'resolved', resolved_at = now() WHERE id = $1`, [first!.id]);
    const out = await unit().send(alarm('cb-2'));
    expect(out.status).toBe(200);
    const rows = await alarmsOf('sos');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ count: 1 });
  });

  it("heartbeats feed the silent-device rule: a unit whose heartbeats stop raises device_silent, the next one clears it", async () => {
    const cid = '555002';
    const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: ` ${cid}`, protocol: 'scaip', meta: { vendor: 'doro', supervisionS: 300 } } });
    expect(d.statusCode, d.body).toBe(201);
    expect(d.json().identifier).toBe(cid); // Doro's padded cid, trimmed
    const u = unit({ cid });
    const hb = (ref: string) => `<mrq><mty>PI</mty><ref>${ref}</ref><cid> ${cid}</cid><dty>0002</dty></mrq>`;
    expect((await u.send(hb('hb-1'))).mrs).toBe('<mrs><ref>hb-1</ref><snu>0</snu></mrs>');
    const silent = async () => (await app.db.query(`SELECT state FROM alarms WHERE source_key = $1 AND kind = 'device_silent'`, [cid])).rows as { state: string }[];
    // the engine's passes judge as if 30 minutes had passed (300 s interval + the default 600 s grace)
    const tick = app.rules.tick.bind(app.rules);
    app.rules.tick = (now, yieldEvery) => tick(new Date(now.getTime() + 30 * 60_000), yieldEvery);
    try {
      await until(async () => (await silent()).length > 0, 30_000);
    } finally {
      app.rules.tick = tick;
    }
    expect((await u.send(hb('hb-2'))).status).toBe(200);
    await until(async () => (await silent())[0]?.state === 'cleared', 30_000);
  }, 60_000);

  it("a NUL in the unit's text still commits the alarm and gets snu 0; a cid no unit can have gets snu 5", async () => {
    const u = unit();
    const out = await u.send(`<mrq><ref>nul-1</ref><cid>${CID}</cid><dty>0007</dty><mty>ME</mty><dte>a\u0000b</dte><lco>\u0000</lco></mrq>`);
    expect(out).toMatchObject({ status: 200, mrs: '<mrs><ref>nul-1</ref><snu>0</snu></mrs>' });
    const bad = await unit({ cid: 'x\u0000y' }).send('<mrq><ref>nul-2</ref><cid>x\u0000y</cid><dty>0007</dty><mty>ME</mty></mrq>');
    expect(bad.status).toBe(200);
    expect(bad.mrs).toMatch(/<snu>5<\/snu>/);
  });

  it('a unit registered with a SIP password must authenticate: 401 with a digest challenge, then its alarm; a wrong password raises nothing', async () => {
    const cid = '555003';
    const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: cid, protocol: 'scaip', key: 'carephone-pw-1' } });
    expect(d.statusCode, d.body).toBe(201);
    expect(d.json().hasKey).toBe(true);
    const encoded = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: '555004', protocol: 'scaip', key: 'carephone-pw-1', keyEncoding: 'hex' } });
    expect(encoded.statusCode).toBe(400);
    expect(encoded.json().fields[0].field).toBe('body/keyEncoding');
    const mrq = (ref: string) => `<mrq><ref>${ref}</ref><cid>${cid}</cid><dty>0007</dty><mty>ME</mty></mrq>`;
    const anonymous = await unit({ cid }).send(mrq('auth-0'));
    expect(anonymous.status).toBe(401);
    const wrong = await unit({ cid, password: 'not-the-password' }).send(mrq('auth-1'));
    expect(wrong).toMatchObject({ status: 401, challenged: true });
    const rows = async () => (await app.db.query(`SELECT kind FROM alarms WHERE source_key = $1`, [cid])).rows;
    expect(await rows()).toEqual([]);
    const right = await unit({ cid, password: 'carephone-pw-1' }).send(mrq('auth-2'));
    expect(right).toMatchObject({ status: 200, challenged: true, mrs: '<mrs><ref>auth-2</ref><snu>0</snu></mrs>' });
    expect(await rows()).toEqual([{ kind: 'sos' }]);
  });

  it('the database down: 503 and no <mrs>; the retry with the same ref once it is back makes one alarm', async () => {
    const u = unit();
    // a fall detector; the alarms table is renamed away so the commit fails the way a lost database does
    await app.db.query('ALTER TABLE alarms RENAME TO alarms_away');
    let out;
    try {
      out = await u.send(alarm('down-1', '0005'), 1000);
    } finally {
      await app.db.query('ALTER TABLE alarms_away RENAME TO alarms');
    }
    expect(out.status).toBe(503);
    expect(out.mrs).toBeUndefined();
    const again = await u.send(alarm('down-1', '0005'));
    expect(again).toMatchObject({ status: 200, mrs: '<mrs><ref>down-1</ref><snu>0</snu></mrs>' });
    await until(async () => (await alarmsOf('fall')).length === 1, 20_000);
    // the journal's replay of the failed attempt and the retry are one message: one alarm, counted once
    await new Promise((r) => setTimeout(r, 1500));
    expect((await alarmsOf('fall')).map((r) => r.count)).toEqual([1]);
  }, 60_000);
});
