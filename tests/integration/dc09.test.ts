/**
 * The SIA DC-09 receiver end to end (issue 26): the simulated panel (simulators/dc09, its own bytes) against the
 * real gateway over TCP and UDP. A panic becomes an alarm, then the commit, then the ACK, then the screen-pop; a
 * resend (byte for byte, or re-encrypted with a new pad) makes no second alarm; a stale encrypted timestamp gets a
 * NAK and the corrected resend one alarm; a CRC error gets no reply; an unknown account DUH and a place on the
 * "awaiting registration" list; a keyed account's clear message DUH; a database that is down no reply (the resend
 * is ACKed once it is back, one alarm); NULL polling that stops raises device_silent.
 * Keys are given at registration, stored sealed and never returned.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { Dc09Transmitter, type Dc09TransmitterOptions } from '../../simulators/dc09/transmitter.js';
import { cidData, siaData } from '../../simulators/dc09/wire.js';
import { login, startTestApp } from '../helpers/app.js';
import { metricValue, until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws.js';

const KEY_HEX = '000102030405060708090A0B0C0D0E0F';
const KEY = Buffer.from(KEY_HEX, 'hex');
let app: App;
let admin: { authorization: string };
let agent: { token: string };
let elderId: number;
const panels: Dc09Transmitter[] = [];
const metric = (name: string, label = '') => metricValue(app.metrics.registry, name, label);

function panel(o: Partial<Dc09TransmitterOptions> & { account: string }): Dc09Transmitter {
  const udp = o.transport === 'udp';
  const p = new Dc09Transmitter({ host: '127.0.0.1', port: udp ? app.dc09.udpPort : app.dc09.tcpPort, replyTimeoutMs: 1500, maxTries: 6, ...o });
  p.on('error', () => undefined);
  panels.push(p);
  return p;
}

async function register(identifier: string, extra: Record<string, unknown> = {}) {
  const r = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier, protocol: 'dc09', elderId, ...extra } });
  expect(r.statusCode, r.body).toBe(201);
  return r.json() as { id: number; identifier: string; hasKey: boolean; kind: string };
}

const alarmsOf = async (sourceKey: string, kind?: string) =>
  (await app.db.query(`SELECT id, kind, state, count FROM alarms WHERE source_key = $1 ${kind ? 'AND kind = $2' : ''} ORDER BY id`, kind ? [sourceKey, kind] : [sourceKey])).rows as { id: number; kind: string; state: string; count: number }[];

beforeAll(async () => {
  app = await startTestApp();
  admin = await login(app);
  await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'dc09-agent', role: 'agent', password: 'password-123' } });
  const l = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'dc09-agent', password: 'password-123' } });
  agent = { token: l.json().token };
  await app.http.inject({ method: 'POST', url: '/api/agents/me/sign-in', headers: { authorization: `Bearer ${agent.token}` }, payload: { extension: '8102' } });
  const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '陈桂英' } });
  elderId = e.json().id;
});

afterAll(async () => {
  for (const p of panels) await p.close().catch(() => undefined);
  await app?.stop();
});

describe('DC-09 accounts: registration and keys', () => {
  it('a key is checked, stored sealed, never returned, and audited as set', async () => {
    const bad = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: 'B001', protocol: 'dc09', key: '0011' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].field).toBe('body/key');
    const ascii = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: 'B001', protocol: 'dc09', key: 'ABCDEFGHIJKLMNOP', keyEncoding: 'ascii' } });
    expect(ascii.statusCode, ascii.body).toBe(201);
    expect(ascii.json()).toMatchObject({ identifier: 'B001', kind: 'panel', hasKey: true });
    expect(ascii.body).not.toContain('ABCDEFGHIJKLMNOP');
    const watchKey = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: '8800000001', protocol: 'watch', key: KEY_HEX } });
    expect(watchKey.statusCode).toBe(400);
    expect(watchKey.json().message).toMatch(/take no key/);
    const badMeta = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: 'B002', protocol: 'dc09', meta: { prefix: 'XYZ' } } });
    expect(badMeta.statusCode).toBe(400);
    expect(badMeta.json().fields[0].field).toBe('body/meta/prefix');

    const d = await register('b003', { key: KEY_HEX });
    expect(d).toMatchObject({ identifier: 'B003', hasKey: true }); // stored upper case
    const row = (await app.db.query('SELECT key_sealed, meta::text AS meta FROM devices WHERE id = $1', [d.id])).rows[0];
    expect(row.key_sealed).toMatch(/^v1\./);
    expect(row.key_sealed.toUpperCase()).not.toContain(KEY_HEX);
    expect(row.meta.toUpperCase()).not.toContain(KEY_HEX);
    expect(app.pipeline).toBeDefined();
    const got = await app.http.inject({ url: `/api/devices/${d.id}`, headers: admin });
    expect(got.json().hasKey).toBe(true);
    expect(JSON.stringify(got.json())).not.toContain('key_sealed');
    const audit = (await app.db.query(`SELECT detail FROM audit_log WHERE action = 'device_register' AND target = $1`, [`device:${d.id}`])).rows[0];
    expect(audit.detail).toMatchObject({ key: 'set' });
    expect(JSON.stringify(audit.detail)).not.toContain(KEY_HEX);
    // removed, then set again
    const off = await app.http.inject({ method: 'PATCH', url: `/api/devices/${d.id}`, headers: admin, payload: { key: null } });
    expect(off.json().hasKey).toBe(false);
    const on = await app.http.inject({ method: 'PATCH', url: `/api/devices/${d.id}`, headers: admin, payload: { key: KEY_HEX, meta: { supervisionS: 120 } } });
    expect(on.json()).toMatchObject({ hasKey: true, meta: { supervisionS: 120 } });
  });

  it('the key file is made once with mode 0600 and opens what it sealed', async () => {
    const file = join(app.cfg.dataDir, 'device-keys.key');
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    const { statSync } = await import('node:fs');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('DC-09 over TCP and UDP, end to end', () => {
  it('TCP panic: the ACK leaves only after the commit, and the alarm pops on screen', async () => {
    await register('1234', { meta: { prefix: '0' } });
    const ws = await WsClient.open(app.httpPort, agent.token);
    const p = panel({ account: '1234' });
    await p.connect();
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    const sent = p.send({ token: 'ADM-CID', data: cidData('1234', 1, 120, 1, 3) });
    await until(async () => (await app.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await metric('anxin_dc09_replies_total', 'reply="ack",reason="event"')).toBe(0); // not while uncommitted
    const committedAt = Date.now();
    await blocker.query('COMMIT');
    await blocker.end();
    const out = await sent;
    expect(out.reply).toBe('ACK');
    expect(Date.now()).toBeGreaterThanOrEqual(committedAt);
    expect(await alarmsOf('1234#003', 'sos')).toEqual([expect.objectContaining({ count: 1 })]);
    const pop = await ws.waitFor((m) => m.type === 'present' && (m.alarm as { kind: string; sourceKey?: string }).kind === 'sos');
    expect(pop.alarm).toMatchObject({ kind: 'sos', priority: 1 });
    ws.close();

    // the same frame again (the ACK was lost): ACKed, no second alarm
    const again = await p.sendRaw(out.raw, 800);
    expect(again.map((r) => r.token)).toEqual(['ACK']);
    // several messages on the one connection: a restore of the panic, in order
    const restore = await p.send({ token: 'ADM-CID', data: cidData('1234', 3, 120, 1, 3) });
    expect(restore.reply).toBe('ACK');
    const rows = await alarmsOf('1234#003', 'sos');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.count).toBe(1);
  });

  it('UDP medical alarm (SIA-DCS): one alarm however often it is resent, hostile text kept as text', async () => {
    await register('2345');
    const p = panel({ account: '2345', transport: 'udp' });
    const out = await p.send({ token: 'SIA-DCS', data: `${siaData('2345', 'MA', '05')}^<img src=x onerror=alert(1)>^` });
    expect(out.reply).toBe('ACK');
    for (let i = 0; i < 3; i++) expect((await p.sendRaw(out.raw, 800)).map((r) => r.token)).toEqual(['ACK']);
    const rows = await alarmsOf('2345#05', 'medical');
    expect(rows).toEqual([expect.objectContaining({ count: 1 })]);
    const detail = (await app.db.query(`SELECT detail FROM alarm_events WHERE alarm_id = $1 ORDER BY id LIMIT 1`, [rows[0]!.id])).rows[0];
    expect(JSON.stringify(detail)).toContain('<img src=x onerror=alert(1)>');
  });

  it("a NUL in the panel's text still commits the alarm (PostgreSQL cannot store U+0000) and is ACKed", async () => {
    await register('2346');
    const p = panel({ account: '2346', transport: 'udp' });
    const out = await p.send({ token: 'SIA-DCS', data: `${siaData('2346', 'PA', '01')}^A\u0000B^`, extra: ['Iroom\u0000'] });
    expect(out.reply).toBe('ACK');
    const rows = await alarmsOf('2346#01', 'sos');
    expect(rows).toHaveLength(1);
    const detail = (await app.db.query('SELECT detail FROM alarms WHERE id = $1', [rows[0]!.id])).rows[0].detail;
    expect(detail.raw).toContain('^A\uFFFDB^');
  });

  it('encrypted (AES-128): *ACK; a resend re-encrypted with a new pad is the same message; a clear message for the keyed account gets DUH', async () => {
    await register('3456', { key: KEY_HEX });
    const p = panel({ account: '3456', transport: 'udp', key: KEY });
    const out = await p.send({ token: 'ADM-CID', data: cidData('3456', 1, 101, 1, 7) });
    expect(out.reply).toBe('ACK');
    expect(out.answer).toMatchObject({ token: 'ACK', encrypted: true });
    const again = await p.resend(out); // same seq, new pad and timestamp: other bytes
    expect(again.reply).toBe('ACK');
    expect(again.frames.at(-1)!.equals(out.frames.at(-1)!)).toBe(false);
    expect(await alarmsOf('3456#007', 'sos')).toEqual([expect.objectContaining({ count: 1 })]);

    const clear = panel({ account: '3456', transport: 'udp' });
    const spoof = await clear.send({ token: 'ADM-CID', data: cidData('3456', 1, 100, 1, 8) });
    expect(spoof.reply).toBe('DUH');
    expect(await alarmsOf('3456#008')).toEqual([]);
    expect(await metric('anxin_dc09_replies_total', 'reply="duh",reason="clear_with_key"')).toBeGreaterThanOrEqual(1);
  });

  it('a stale encrypted timestamp gets a NAK; the panel corrects its clock and its resend makes one alarm', async () => {
    await register('4567', { key: KEY_HEX });
    const p = panel({ account: '4567', key: KEY, clockSkewS: -120 });
    const naks = await metric('anxin_dc09_replies_total', 'reply="nak",reason="time_window"');
    const out = await p.send({ token: 'SIA-DCS', data: siaData('4567', 'FA', '02') });
    expect(out.naks).toBe(1);
    expect(out.reply).toBe('ACK');
    expect(Math.abs(p.clockSkewS)).toBeLessThan(3);
    expect(await metric('anxin_dc09_replies_total', 'reply="nak",reason="time_window"')).toBe(naks + 1);
    expect(await alarmsOf('4567#02', 'fire')).toEqual([expect.objectContaining({ count: 1 })]);
  });

  it('a CRC error gets no reply and raises nothing; an unknown account gets DUH and is listed awaiting registration', async () => {
    await register('5678');
    const p = panel({ account: '5678', transport: 'udp' });
    const good = await p.send({ token: 'SIA-DCS', data: siaData('5678', 'PA', '01') });
    expect(good.reply).toBe('ACK');
    // the §9 V7 case: one character changed after the CRC was computed
    const garbled = Buffer.from(good.raw);
    const at = garbled.indexOf('PA01');
    garbled.write('PA09', at, 'latin1');
    const bad = await metric('anxin_bad_frames_total', 'protocol="dc09",reason="bad_crc"');
    expect(await p.sendRaw(garbled, 800)).toEqual([]);
    expect(await metric('anxin_bad_frames_total', 'protocol="dc09",reason="bad_crc"')).toBe(bad + 1);
    expect(await alarmsOf('5678#09')).toEqual([]);

    const stranger = panel({ account: 'FEED', transport: 'udp', prefix: '2' });
    const duh = await stranger.send({ token: 'ADM-CID', data: cidData('FEED', 1, 120, 1, 1) });
    expect(duh.reply).toBe('DUH');
    const list = await app.http.inject({ url: '/api/devices/unregistered', headers: admin });
    expect(list.json()).toContainEqual(expect.objectContaining({ identifier: 'FEED', protocol: 'dc09' }));
    // an account registered under another line prefix is not this one
    await register('6789', { meta: { prefix: '1' } });
    const otherLine = panel({ account: '6789', transport: 'udp', prefix: '0' });
    expect((await otherLine.send({ token: 'ADM-CID', data: cidData('6789', 1, 120, 1, 1) })).reply).toBe('DUH');
    expect(await alarmsOf('6789#001')).toEqual([]);
  });

  it('the database down: no reply, so the panel resends; once it is back the resend is ACKed and raises once', async () => {
    await register('8901');
    const p = panel({ account: '8901', transport: 'udp', maxTries: 1, replyTimeoutMs: 1500 });
    // the alarms table renamed away: the commit fails as it does when the database is lost
    await app.db.query('ALTER TABLE alarms RENAME TO alarms_away');
    let first;
    try {
      first = await p.send({ token: 'ADM-CID', data: cidData('8901', 1, 101, 1, 2) });
    } finally {
      await app.db.query('ALTER TABLE alarms_away RENAME TO alarms');
    }
    expect(first.reply).toBe('none');
    const again = await p.sendRaw(first.raw, 1500);
    expect(again.map((r) => r.token)).toEqual(['ACK']);
    await until(async () => (await alarmsOf('8901#002', 'sos')).length === 1, 20_000);
    await new Promise((r) => setTimeout(r, 1500)); // the journal's replay of the failed attempt adds nothing
    expect((await alarmsOf('8901#002', 'sos')).map((r) => r.count)).toEqual([1]);
  });

  it('a TCP connection sending only garbage is closed after BAD_FRAME_LIMIT bad frames in a row', async () => {
    const s = connect(app.dc09.tcpPort, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    const closed = new Promise((r) => s.once('close', r));
    s.write('\njunk'.repeat(app.cfg.badFrameLimit + 2));
    await closed;
    expect(await metric('anxin_connections_closed_total', 'protocol="dc09",reason="bad_frames"')).toBeGreaterThanOrEqual(1);
  });

  it('NULL polling refreshes the account; when it stops, device_silent is raised, and the next poll clears it', async () => {
    const d = await register('7890', { meta: { supervisionS: 60 } });
    const p = panel({ account: '7890' });
    expect((await p.nullPoll()).reply).toBe('ACK');
    p.startPolling(200);
    await until(async () => (await metric('anxin_dc09_replies_total', 'reply="ack",reason="poll"')) >= 4);
    p.stopPolling();
    // the engine's passes judge the silence as if 25 minutes had passed (60 s interval + the default 600 s grace)
    const tick = app.rules.tick.bind(app.rules);
    app.rules.tick = (now, yieldEvery) => tick(new Date(now.getTime() + 25 * 60_000), yieldEvery);
    try {
      await until(async () => (await alarmsOf('7890', 'device_silent')).length > 0, 30_000);
    } finally {
      app.rules.tick = tick;
    }
    expect((await app.db.query('SELECT last_seen FROM devices WHERE id = $1', [d.id])).rows[0].last_seen).not.toBeNull();
    expect((await p.nullPoll()).reply).toBe('ACK');
    await until(async () => (await alarmsOf('7890', 'device_silent'))[0]?.state === 'cleared', 30_000);
  });
});
