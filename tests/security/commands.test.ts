/**
 * Issue 15: device commands must not take over a watch. Raw `custom` text and the commands that take over or
 * silence a watch (MONITOR, IP, APN, FACTORY, PW, POWEROFF) are admin-only and need a reason; MONITOR is refused
 * for everyone unless ALLOW_MONITOR_COMMAND is on. Accepted ones are audited against the device and the elder and
 * shown on GET /api/elders/:id/timeline; refused ones are audited, never queued, and never reach the watch (checked
 * on a real TCP connection of the simulated watch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { watchCommandRisk } from '../../protocols/watch/index.js';
import { loadConfig } from '../../gateway/config.js';
import { SimulatedWatch } from '../../simulators/watch/watch.js';
import { until } from '../helpers/until.js';
import { login, startTestApp } from '../helpers/app.js';

type Auth = { authorization: string };
const ROLES = ['agent', 'supervisor', 'installer', 'admin'] as const;
type Role = (typeof ROLES)[number];

const NORMAL: Record<string, unknown>[] = [{ type: 'FIND' }, { type: 'UPLOAD', seconds: 600 }, { type: 'RESET' }, { type: 'SOS1', number: '13800138000' }];
const DANGEROUS: Record<string, unknown>[] = [
  { type: 'custom', content: 'VERNO' },
  { type: 'custom', content: 'IP,203.0.113.9,5093' },
  { type: 'custom', content: 'APN,cmnet,,,46000' },
  { type: 'custom', content: 'FACTORY' },
  { type: 'custom', content: 'PW,123456' },
  { type: 'POWEROFF' },
];
/** MONITOR in every disguise we could think of: plain, lower case, padded, and hidden behind a `*` or a `,`. */
const MONITORS: Record<string, unknown>[] = [
  { type: 'custom', content: 'MONITOR,13900139000' },
  { type: 'custom', content: 'monitor,13900139000' },
  { type: 'custom', content: ' MONITOR,13900139000' },
  { type: 'custom', content: '0001*MONITOR,13900139000' },
  { type: 'custom', content: 'VERNO,MONITOR,13900139000' },
];
const label = (c: Record<string, unknown>) => (c.type === 'custom' ? `custom ${JSON.stringify(c.content)}` : String(c.type));

interface World {
  app: App;
  auth: Record<Role, Auth>;
  userId: Record<Role, number>;
  elderId: number;
  deviceId: number;
  imei: string;
  watch: SimulatedWatch;
}

async function setUp(app: App, imei: string): Promise<World> {
  const admin = await login(app);
  const auth = { admin } as Record<Role, Auth>;
  const userId = {} as Record<Role, number>;
  userId.admin = (await app.http.inject({ url: '/api/auth/me', headers: admin })).json().user.id;
  for (const role of ROLES.filter((r) => r !== 'admin')) {
    const u = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: `sec-${role}`, displayName: `${role} one`, role, password: 'correct horse battery' } });
    expect(u.statusCode).toBe(201);
    userId[role] = u.json().id;
    auth[role] = await login(app, `sec-${role}`, 'correct horse battery');
  }
  const e = await app.http.inject({ method: 'POST', url: '/api/elders', headers: admin, payload: { name: '王桂兰' } });
  const elderId = e.json().id as number;
  const d = await app.http.inject({ method: 'POST', url: '/api/devices', headers: admin, payload: { identifier: imei, protocol: 'watch', elderId } });
  const deviceId = d.json().id as number;
  const watch = await connectWatch(app, imei);
  return { app, auth, userId, elderId, deviceId, imei, watch };
}

async function connectWatch(app: App, imei: string): Promise<SimulatedWatch> {
  const w = new SimulatedWatch({ host: '127.0.0.1', port: app.watch.port, deviceId: imei, lkOnConnect: true, alarmRetryMs: 150, lkRetryMs: 60_000 });
  w.on('error', () => undefined);
  await w.connect();
  await w.sendLK();
  await until(() => app.watch.sessions.has(imei));
  return w;
}

const send = (w: World, role: Role, command: Record<string, unknown>, reason?: string) =>
  w.app.http.inject({ method: 'POST', url: `/api/devices/${w.deviceId}/commands`, headers: w.auth[role], payload: { ...command, ...(reason === undefined ? {} : { reason }) } });

const commandRows = async (w: World) => Number((await w.app.db.query('SELECT count(*) FROM device_commands WHERE device_id = $1', [w.deviceId])).rows[0].count);
const commandsReceived = (w: World) => w.watch.received.filter((f) => f.role === 'command').map((f) => f.content);

/**
 * Sends FIND as the admin and waits for it: TCP keeps order, so any frame written before it has arrived by then.
 * Returns the command frames the watch received before the marker.
 */
async function drain(w: World): Promise<string[]> {
  const before = commandsReceived(w).length;
  const res = await send(w, 'admin', { type: 'FIND' });
  expect(res.statusCode).toBe(202);
  await until(() => commandsReceived(w).length > before && commandsReceived(w).at(-1) === 'FIND');
  return commandsReceived(w).slice(0, -1);
}

describe('the risk of a watch command', () => {
  it('custom is always dangerous; typed commands only when they take over or silence the watch', () => {
    for (const c of [...DANGEROUS, ...MONITORS]) expect(watchCommandRisk(c).dangerous, label(c)).toBe(true);
    for (const c of NORMAL) expect(watchCommandRisk(c)).toEqual({ dangerous: false, monitor: false });
    for (const c of MONITORS) expect(watchCommandRisk(c).monitor, label(c)).toBe(true);
    for (const c of DANGEROUS) expect(watchCommandRisk(c).monitor, label(c)).toBe(false);
    expect(watchCommandRisk({ type: 'custom', content: 'IP,203.0.113.9,5093' }).why).toMatch(/another server/);
    expect(watchCommandRisk({ type: 'custom', content: 'WORK,6-9' }).why).toMatch(/raw protocol text/);
  });
});

describe('device commands with ALLOW_MONITOR_COMMAND off (the default)', () => {
  let w: World;
  beforeAll(async () => {
    expect(loadConfig({}).allowMonitorCommand).toBe(false);
    const app = await startTestApp();
    w = await setUp(app, '8800000101');
  });
  afterAll(async () => {
    await w?.watch.close().catch(() => undefined);
    await w?.app.stop();
  });

  it.each(ROLES)('%s may send normal commands, without a reason', async (role) => {
    for (const c of NORMAL) {
      const res = await send(w, role, c);
      expect(res.statusCode, `${role} ${label(c)}`).toBe(202);
      expect(res.json().command.dangerous).toBe(false);
    }
  });

  it.each(['agent', 'supervisor', 'installer'] as const)('%s may not send raw or dangerous commands, even with a reason: 403, not queued, not delivered, audited', async (role) => {
    await drain(w); // commands an earlier test queued may still be on their way to the watch
    const rowsBefore = await commandRows(w);
    const receivedBefore = commandsReceived(w).length;
    const auditBefore = Number((await w.app.db.query(`SELECT count(*) FROM audit_log WHERE action = 'device_command_refused' AND actor = $1`, [`user:${w.userId[role]}`])).rows[0].count);
    for (const c of [...DANGEROUS, ...MONITORS]) {
      for (const reason of [undefined, 'the family asked for it']) {
        const res = await send(w, role, c, reason);
        expect(res.statusCode, `${role} ${label(c)}`).toBe(403);
        expect(res.json().error).toBe('forbidden');
        expect(res.json().message).toMatch(/only an admin/);
      }
    }
    expect(await commandRows(w)).toBe(rowsBefore);
    const received = await drain(w);
    expect(received.slice(receivedBefore)).toEqual([]);
    const refused = await w.app.db.query(`SELECT target, detail FROM audit_log WHERE action = 'device_command_refused' AND actor = $1 ORDER BY id`, [`user:${w.userId[role]}`]);
    expect(refused.rows.length - auditBefore).toBe((DANGEROUS.length + MONITORS.length) * 2);
    expect(refused.rows.at(-1)).toMatchObject({ target: `device:${w.deviceId}`, detail: { refusal: 'forbidden', role } });
  });

  it('an admin must give a reason: 400 naming body/reason, and nothing is queued', async () => {
    const rowsBefore = await commandRows(w);
    for (const c of DANGEROUS) {
      for (const reason of [undefined, '', 'ok', '   ab   ']) {
        const res = await send(w, 'admin', c, reason);
        expect(res.statusCode, `${label(c)} reason ${JSON.stringify(reason)}`).toBe(400);
        expect(res.json().fields).toEqual([{ field: 'body/reason', message: expect.stringMatching(/reason of at least 4 characters/) }]);
        expect(res.json().message).toMatch(/^body\/reason: /);
      }
    }
    expect(await commandRows(w)).toBe(rowsBefore);
  });

  it('MONITOR is refused even for an admin with a reason: 403, not queued, not delivered, audited', async () => {
    await drain(w); // commands an earlier test queued may still be on their way to the watch
    const rowsBefore = await commandRows(w);
    const receivedBefore = commandsReceived(w).length;
    for (const c of MONITORS) {
      const res = await send(w, 'admin', c, 'daughter cannot reach her');
      expect(res.statusCode, label(c)).toBe(403);
      expect(res.json()).toMatchObject({ error: 'monitor_disabled', message: expect.stringMatching(/switched off.*ALLOW_MONITOR_COMMAND=true/) });
    }
    expect(await commandRows(w)).toBe(rowsBefore);
    expect((await drain(w)).slice(receivedBefore)).toEqual([]);
    const refused = await w.app.db.query(`SELECT detail FROM audit_log WHERE action = 'device_command_refused' AND actor = $1 AND detail->>'refusal' = 'monitor_disabled'`, [`user:${w.userId.admin}`]);
    expect(refused.rows).toHaveLength(MONITORS.length);
  });

  it('an admin with a reason sends a dangerous command: delivered, stored with the reason, audited against device and elder', async () => {
    const reason = '  设备迁移到新服务器 (ticket 4711)  ';
    const res = await send(w, 'admin', { type: 'custom', content: 'IP,203.0.113.9,5093' }, reason);
    expect(res.statusCode).toBe(202);
    expect(res.json().delivery).toBe('sent');
    const id = res.json().command.id as number;
    expect(res.json().command).toMatchObject({ dangerous: true, reason: reason.trim(), elderId: w.elderId, createdBy: w.userId.admin });
    await until(() => commandsReceived(w).includes('IP,203.0.113.9,5093'));

    const audits = await w.app.db.query(`SELECT actor, target, detail FROM audit_log WHERE action = 'device_command' AND (detail->>'commandId')::bigint = $1 ORDER BY target`, [id]);
    expect(audits.rows).toEqual([
      { actor: `user:${w.userId.admin}`, target: `device:${w.deviceId}`, detail: expect.objectContaining({ commandId: id, type: 'custom', keyword: 'IP', dangerous: true, reason: reason.trim(), elderId: w.elderId }) },
      { actor: `user:${w.userId.admin}`, target: `elder:${w.elderId}`, detail: expect.objectContaining({ commandId: id, dangerous: true, reason: reason.trim() }) },
    ]);

    // An agent sees it on the elder's timeline and in the device's command list, with who and why.
    const tl = await w.app.http.inject({ url: `/api/elders/${w.elderId}/timeline`, headers: w.auth.agent });
    expect(tl.statusCode).toBe(200);
    const entry = tl.json().entries.find((x: { kind: string; command?: { id: number } }) => x.kind === 'command' && x.command?.id === id);
    expect(entry).toMatchObject({ kind: 'command', deviceIdentifier: w.imei, command: { dangerous: true, reason: reason.trim(), createdByName: expect.any(String), keyword: 'IP' } });
    const list = await w.app.http.inject({ url: `/api/devices/${w.deviceId}/commands`, headers: w.auth.agent });
    expect(list.json().find((c: { id: number }) => c.id === id)).toMatchObject({ dangerous: true, reason: reason.trim() });
  });

  it('POWEROFF by an admin with a reason goes through (the watch switches off)', async () => {
    const off = new Promise<void>((r) => w.watch.once('poweroff', () => r()));
    const res = await send(w, 'admin', { type: 'POWEROFF' }, 'battery swelling, collected by installer');
    expect(res.statusCode).toBe(202);
    await off;
    await until(() => !w.app.watch.sessions.has(w.imei));
    w.watch = await connectWatch(w.app, w.imei);
  });

  it('normal commands are audited against the device only; a reason given is kept', async () => {
    const res = await send(w, 'agent', { type: 'FIND' }, 'elder cannot find the watch');
    expect(res.statusCode).toBe(202);
    const id = res.json().command.id as number;
    expect(res.json().command).toMatchObject({ dangerous: false, reason: 'elder cannot find the watch' });
    const audits = await w.app.db.query(`SELECT target FROM audit_log WHERE action = 'device_command' AND (detail->>'commandId')::bigint = $1`, [id]);
    expect(audits.rows).toEqual([{ target: `device:${w.deviceId}` }]);
  });

  it('a MONITOR queued while it was allowed is not sent once it is switched off', async () => {
    const imei = '8800000102';
    const d = await w.app.http.inject({ method: 'POST', url: '/api/devices', headers: w.auth.admin, payload: { identifier: imei, protocol: 'watch', elderId: w.elderId } });
    const deviceId = d.json().id as number;
    const q = await w.app.db.query(
      `INSERT INTO device_commands (device_id, command, keyword, expires_at, dangerous, reason) VALUES ($1, $2, 'MONITOR', now() + interval '1 hour', true, 'queued before') RETURNING id`,
      [deviceId, JSON.stringify({ type: 'custom', content: 'MONITOR,13900139000' })],
    );
    const other = await connectWatch(w.app, imei);
    try {
      const row = await until(async () => {
        const r = (await w.app.db.query('SELECT state, result FROM device_commands WHERE id = $1', [q.rows[0].id])).rows[0];
        return r.state === 'failed' ? r : undefined;
      });
      expect(row.result).toMatch(/switched off/);
      const find = await w.app.http.inject({ method: 'POST', url: `/api/devices/${deviceId}/commands`, headers: w.auth.admin, payload: { type: 'FIND' } });
      expect(find.statusCode).toBe(202);
      await until(() => other.received.some((f) => f.role === 'command' && f.content === 'FIND'));
      expect(other.received.filter((f) => f.role === 'command').map((f) => f.content)).toEqual(['FIND']);
    } finally {
      await other.close().catch(() => undefined);
    }
  });
});

describe('device commands with ALLOW_MONITOR_COMMAND=true', () => {
  let w: World;
  beforeAll(async () => {
    w = await setUp(await startTestApp({}, { ALLOW_MONITOR_COMMAND: 'true' }), '8800000103');
  });
  afterAll(async () => {
    await w?.watch.close().catch(() => undefined);
    await w?.app.stop();
  });

  it('an admin with a reason may send MONITOR: delivered and audited', async () => {
    const res = await send(w, 'admin', { type: 'custom', content: 'MONITOR,13900139000' }, 'welfare check, no answer for 2 h');
    expect(res.statusCode).toBe(202);
    const id = res.json().command.id as number;
    await until(() => commandsReceived(w).includes('MONITOR,13900139000'));
    const audits = await w.app.db.query(`SELECT target, detail->>'reason' AS reason FROM audit_log WHERE action = 'device_command' AND (detail->>'commandId')::bigint = $1 ORDER BY target`, [id]);
    expect(audits.rows).toEqual([
      { target: `device:${w.deviceId}`, reason: 'welfare check, no answer for 2 h' },
      { target: `elder:${w.elderId}`, reason: 'welfare check, no answer for 2 h' },
    ]);
  });

  it('still needs a reason, and is still admin-only', async () => {
    await drain(w); // commands an earlier test queued may still be on their way to the watch
    const rowsBefore = await commandRows(w);
    const receivedBefore = commandsReceived(w).length;
    const noReason = await send(w, 'admin', { type: 'custom', content: 'MONITOR,13900139000' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().fields[0].field).toBe('body/reason');
    for (const role of ['agent', 'supervisor', 'installer'] as const) {
      const res = await send(w, role, { type: 'custom', content: 'MONITOR,13900139000' }, 'welfare check');
      expect(res.statusCode, role).toBe(403);
      expect(res.json().error).toBe('forbidden');
    }
    expect(await commandRows(w)).toBe(rowsBefore);
    expect((await drain(w)).slice(receivedBefore)).toEqual([]);
  });
});
