/**
 * SCAIP end to end with SIPp as the unit (issue 26; tests/sipp/scaip-unit.xml): a real SIP client sends the
 * Essence alarm message of protocols.md §4 to the gateway's SCAIP port. The alarm is committed, then the SIP 200,
 * then the <mrs> with snu 0 in a MESSAGE of ours that SIPp answers; it pops on an agent's screen, and its callback
 * goes to the unit's own number from `crd`. A resend of the same ref makes no second alarm; a heartbeat is recorded
 * (last seen, no alarm); malformed XML and a missing cid get an error status and no alarm; an unregistered unit
 * gets snu 5 and is listed as awaiting registration. The real messages are read from protocols.md at run time.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { login, startTestApp } from '../helpers/app.js';
import { freeUdpPorts, runSipp, sippInstalled } from '../helpers/sipp.js';
import { metricValue, until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';
import { loadDesignNote } from '../helpers/vectors.js';

const ci = process.env.CI === 'true';
const haveSipp = sippInstalled();
if (ci && !haveSipp) throw new Error('CI=true but `sipp` is not on PATH (Debian package sip-tester)');
const doc = loadDesignNote('protocols.md', 'the SCAIP SIPp tests') ?? '';
const run = haveSipp && doc !== '';
if (!haveSipp) console.warn('skipping the SCAIP SIPp tests: sipp not installed');

/** The verbatim <mrq> of protocols.md §4 whose line starts with `label` (e.g. "Essence alarm"). */
function real(label: string): string {
  const line = doc.split('\n').find((l) => l.includes(`${label}:`) && l.includes('<mrq>'));
  const m = line && /`(<mrq>.*?<\/mrq>)`/.exec(line);
  if (!m) throw new Error(`protocols.md §4 has no "${label}" message`);
  return m[1]!;
}
const tag = (xml: string, t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1];

let app: App;
let admin: { authorization: string };
let agentToken: string;
let elderId: number;
const metric = (name: string, label = '') => metricValue(app.metrics.registry, name, label);

/** One SIPp unit sending `body` as `cid` (with `password`: answering the digest challenge); resolves with its trace once it has finished. */
async function unit(cid: string, body: string, password?: string): Promise<{ code: number | null; trace: string; dir: string }> {
  const port = await freeUdpPorts('127.0.0.1', 40000, 49990);
  const auth = password === undefined ? [] : ['-au', cid, '-ap', password];
  const sipp = await runSipp(password === undefined ? 'scaip-unit.xml' : 'scaip-unit-auth.xml', ['-key', 'cid', cid, '-key', 'body', body, ...auth, '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-timeout', '45'], `127.0.0.1:${app.scaip.port}`);
  const done = await sipp.exited;
  const trace = sipp.messages();
  if (done.code === 0) sipp.removeTraces();
  return { code: done.code, trace: `${trace}\n${sipp.errors()}\n${done.stderr}`, dir: sipp.dir };
}

/** The <mrs> the gateway sent back, from SIPp's trace. */
const mrsOf = (trace: string) => /<mrs>.*?<\/mrs>/s.exec(trace)?.[0];

const alarmsOf = async (sourceKey: string) =>
  (await app.db.query(`SELECT id, kind, count, detail FROM alarms WHERE source_key = $1 ORDER BY id`, [sourceKey])).rows as { id: number; kind: string; count: number; detail: Record<string, unknown> }[];

describe.skipIf(!run)('SCAIP over SIP with SIPp units', () => {
  beforeAll(async () => {
    app = await startTestApp();
    admin = await login(app);
    await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'scaip-agent', role: 'agent', password: 'password-123' } });
    const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'scaip-agent', password: 'password-123' } });
    agentToken = l.json().token;
    await app.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: { authorization: `Bearer ${agentToken}` }, payload: { extension: '8103' } });
    const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '赵淑珍', phone: '13800138000' } });
    elderId = e.json().id;
    for (const [cid, vendor] of [[tag(real('Essence alarm'), 'cid')!, 'essence'], [tag(real('Telealarm heartbeat'), 'cid')!, 'telealarm']]) {
      const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: cid, protocol: 'scaip', elderId, meta: { vendor, supervisionS: 3600 } } });
      expect(r.statusCode, r.body).toBe(201);
    }
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('an alarm message: committed, then 200 and <mrs> snu 0; it pops; its callback goes to the unit; a resend of the ref raises nothing more', async () => {
    const body = real('Essence alarm');
    const cid = tag(body, 'cid')!;
    const ws = await WsClient.open(app.httpPort, agentToken);
    // hold the commit: SIPp's retransmissions meanwhile are absorbed, and its 200 waits for the commit
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    const before = await metric('anxin_scaip_sip_responses_total', 'status="200"');
    const sent = unit(cid, body);
    await until(async () => (await app.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n > 0, 20_000);
    await new Promise((r) => setTimeout(r, 1200)); // SIPp resends at 500 ms, 1 s
    expect(await metric('anxin_scaip_sip_responses_total', 'status="200"')).toBe(before);
    await blocker.query('COMMIT');
    await blocker.end();
    const u = await sent;
    expect(u.code, u.trace).toBe(0);
    expect(await metric('anxin_scaip_sip_responses_total', 'status="200"')).toBe(before + 1); // one answer for the retransmissions
    const mrs = mrsOf(u.trace);
    expect(mrs).toBe(`<mrs><ref>${tag(body, 'ref')}</ref><snu>0</snu></mrs>`);
    const rows = await alarmsOf(`${cid}#00`);
    expect(rows).toHaveLength(1);
    // dty 02 (Essence's local unit) → sos; crd gsm:+37284463906 → the unit's own number for the callback
    expect(rows[0]).toMatchObject({ kind: 'sos', count: 1, detail: expect.objectContaining({ protocol: 'scaip', callbackNumber: tag(body, 'crd')!.replace(/^gsm:/, '') }) });
    const pop = await ws.waitFor((m) => m.type === 'present' && (m.alarm as { kind: string }).kind === 'sos');
    expect(pop.alarm).toMatchObject({ kind: 'sos', priority: 1 });
    ws.close();

    const again = await unit(cid, body);
    expect(again.code, again.trace).toBe(0);
    expect(mrsOf(again.trace)).toContain('<snu>0</snu>');
    expect((await alarmsOf(`${cid}#00`)).map((r) => r.count)).toEqual([1]);
  }, 90_000);

  it('a fall detector (dty 0005) raises a fall; a heartbeat is recorded and raises nothing', async () => {
    const cid = tag(real('Telealarm heartbeat'), 'cid')!;
    const fall = `<mrq><ref>fall-1</ref><cid>${cid}</cid><dty>0005</dty><mty>ME</mty><stc>0010</stc><crd>gsm:</crd></mrq>`;
    const u = await unit(cid, fall);
    expect(u.code, u.trace).toBe(0);
    expect(mrsOf(u.trace)).toContain('<snu>0</snu>');
    expect((await alarmsOf(cid)).map((r) => r.kind)).toEqual(['fall']);

    const { rows: [d] } = await app.db.query(`SELECT id FROM devices WHERE identifier = $1`, [cid]);
    await app.db.query('UPDATE devices SET last_seen = NULL WHERE id = $1', [d.id]);
    const hb = await unit(cid, real('Telealarm heartbeat'));
    expect(hb.code, hb.trace).toBe(0);
    expect(mrsOf(hb.trace)).toBe(`<mrs><ref>${tag(real('Telealarm heartbeat'), 'ref')}</ref><snu>0</snu></mrs>`);
    await until(async () => (await app.db.query('SELECT last_seen FROM devices WHERE id = $1', [d.id])).rows[0].last_seen !== null, 10_000);
    expect((await alarmsOf(cid)).map((r) => r.kind)).toEqual(['fall']);
  }, 90_000);

  it("a unit with a SIP password: SIPp's digest answer to our 401 gets its alarm through", async () => {
    const cid = '10149471';
    const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: cid, protocol: 'scaip', elderId, key: 'possum-sip-pw' } });
    expect(r.statusCode, r.body).toBe(201);
    const u = await unit(cid, `<mrq><mty>ME</mty><ref>pa-1</ref><cid>${cid}</cid><dty>0005</dty></mrq>`, 'possum-sip-pw');
    expect(u.code, u.trace).toBe(0);
    expect(u.trace).toMatch(/SIP\/2\.0 401 Unauthorized/);
    expect(u.trace).toMatch(/Authorization: Digest username="10149471"/);
    expect(mrsOf(u.trace)).toBe('<mrs><ref>pa-1</ref><snu>0</snu></mrs>');
    expect((await alarmsOf(cid)).map((a) => a.kind)).toEqual(['fall']);
  }, 90_000);

  it('malformed XML and a missing cid get an error status and no alarm; an unknown unit gets snu 5 and waits for registration', async () => {
    const cid = tag(real('Essence alarm'), 'cid')!;
    const broken = await unit(cid, `<mrq><ref>bad-1</ref><cid>${cid}</cid><dty>02<mty>ME</mrq>`);
    expect(broken.code, broken.trace).toBe(0);
    expect(mrsOf(broken.trace)).toMatch(/<snu>99<\/snu>/);
    const missing = await unit(cid, '<mrq><ref>bad-2</ref><dty>02</dty><mty>ME</mty><stc>010</stc></mrq>');
    expect(missing.code, missing.trace).toBe(0);
    expect(mrsOf(missing.trace)).toMatch(/^<mrs><ref>bad-2<\/ref><snu>7<\/snu>/);
    expect((await alarmsOf(`${cid}#00`)).map((r) => r.count)).toEqual([1]); // only the first test's

    const stranger = await unit('7777777', '<mrq><ref>s-1</ref><mty>ME</mty><cid>7777777</cid><dty>0004</dty><stc>0010</stc></mrq>');
    expect(stranger.code, stranger.trace).toBe(0);
    expect(mrsOf(stranger.trace)).toMatch(/<snu>5<\/snu>/);
    const list = await app.http.inject({ url: '/api/devices/unregistered', headers: admin });
    expect(list.json()).toContainEqual(expect.objectContaining({ identifier: '7777777', protocol: 'scaip' }));
    expect(await alarmsOf('7777777')).toEqual([]);
  }, 90_000);
});
