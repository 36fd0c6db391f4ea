/**
 * Alarm receivers on serial lines against the real server: the simulated receiver writes Contact ID lines into
 * a real pseudo-terminal pair (socat); the gateway's serial transport opens the other end with `serialport`.
 *
 * Three receivers, as RECEIVERS configures them:
 * - desk:  plain link; alarms, restores, tests, NAKs, unknown accounts;
 * - lossy: behind a relay that can swallow an ACK (the receiver retransmits); vendor climax;
 * - night: 1 s heartbeat, for receiver-silent supervision, then unplugged and plugged back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../gateway/app.js';
import { registerDevice } from '../../gateway/store/devices.js';
import { buildContactId } from '../../protocols/contactid/index.js';
import { createPtyPair, findSocat, type PtyPair } from '../../simulators/alarm-receiver/pty.js';
import { SimulatedReceiver, type ReceiverEventInput, type SimRecord } from '../../simulators/alarm-receiver/receiver.js';
import { login, startTestApp } from '../helpers/app.js';
import { SerialRelay } from '../helpers/serial-relay.js';

const socat = findSocat();
const inCI = process.env.CI === 'true';
const skip = socat === null && !inCI;
if (skip) console.warn('skipping alarm receiver transport tests: socat is not installed (apt-get install socat)');

describe('socat for the receiver transport tests', () => {
  it.runIf(inCI)('is installed in CI', () => {
    expect(socat, 'CI=true but socat is missing: the alarm receiver transport tests cannot run').not.toBeNull();
  });
});

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met in time: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)(`alarm receivers on serial lines, end to end${skip ? ' (skipped: socat missing)' : ''}`, () => {
  let app: App;
  let auth: { authorization: string };
  const cleanup: (() => Promise<unknown>)[] = [];
  let deskPty: PtyPair;
  let desk: SimulatedReceiver;
  let lossy: SimulatedReceiver;
  let relay: SerialRelay;
  const nightDir = mkdtempSync(join(tmpdir(), 'anxin-night-'));
  let nightPty: PtyPair;
  let night: SimulatedReceiver;
  const dev: Record<string, number> = {};

  async function metric(name: string, label = ''): Promise<number> {
    const text = await app.metrics.registry.metrics();
    return text
      .split('\n')
      .filter((l) => l.startsWith(name) && l.includes(label))
      .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  }

  async function alarmsOf(sourceKey: string) {
    const r = await app.db.query('SELECT id, kind, priority, count, state, zone, device_id, elder_id FROM alarms WHERE source_key = $1 ORDER BY id', [sourceKey]);
    return r.rows as { id: number; kind: string; priority: number; count: number; state: string; zone: string | null; device_id: number | null; elder_id: number | null }[];
  }

  async function healthOf(part: string): Promise<{ state: string; detail?: string } | undefined> {
    const r = await app.http.inject({ url: '/healthz' });
    return r.json().parts?.[part];
  }

  async function openSim(path: string, opts: Partial<ConstructorParameters<typeof SimulatedReceiver>[0]> = {}) {
    const sim = await SimulatedReceiver.open({ path, heartbeatMs: 0, ackTimeoutMs: 10_000, ...opts });
    cleanup.push(() => sim.close());
    return sim;
  }

  async function register(identifier: string, kind: string, elderId: number | null, meta?: Record<string, unknown>) {
    const d = await registerDevice(app.db, { identifier, protocol: 'contactid', kind: kind as never, elderId, ...(meta ? { meta } : {}) });
    dev[identifier] = d.id;
  }

  beforeAll(async () => {
    deskPty = await createPtyPair();
    const lossyIn = await createPtyPair();
    const lossyOut = await createPtyPair();
    nightPty = await createPtyPair({ dir: nightDir });
    cleanup.push(() => deskPty.close(), () => lossyIn.close(), () => lossyOut.close(), () => nightPty.close());

    app = await startTestApp({}, {
      RECEIVERS: JSON.stringify([
        { name: 'desk', path: deskPty.b, heartbeatS: 600 },
        { name: 'lossy', path: lossyOut.b, heartbeatS: 600, vendor: 'climax', lineWidth: 1 },
        { name: 'night', path: join(nightDir, 'b'), heartbeatS: 1, baudRate: 9600, dataBits: 8, parity: 'none' },
      ]),
    });
    auth = await login(app);

    relay = await SerialRelay.open(lossyIn.b, lossyOut.a);
    cleanup.push(() => relay.close());
    desk = await openSim(deskPty.a);
    lossy = await openSim(lossyIn.a, { ackTimeoutMs: 400 });
    night = await openSim(nightPty.a, { baudRate: 9600, dataBits: 8, parity: 'none' });

    const elder = await app.http.inject({ method: 'POST', url: '/api/elders', headers: auth, payload: { name: '王桂兰' } });
    const tested = await app.http.inject({
      method: 'POST', url: '/api/elders', headers: auth,
      payload: { name: '李建国', rules: { periodicTest: { enabled: true, intervalH: 24, graceH: 1 } } },
    });
    await register('1234', 'pendant', elder.json().id);
    await register('2345', 'one_key_caller', elder.json().id);
    await register('3456', 'panel', elder.json().id, { vendor: 'climax' });
    await register('4567', 'panel', tested.json().id);
    await register('5678', 'panel', elder.json().id);
    await register('7890', 'pendant', elder.json().id);
  });

  afterAll(async () => {
    // the gateway first, so closing the simulators' ends does not look like an unplugged cable to it
    await app?.stop();
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    rmSync(nightDir, { recursive: true, force: true });
  });

  const ev = (account: string, qualifier: 'E' | 'R' | 'P', code: number, zone = 1, group = 1): ReceiverEventInput => ({ account, qualifier, code, group, zone });

  it('every receiver is in /healthz and open', async () => {
    for (const name of ['desk', 'lossy', 'night']) {
      expect(app.receivers.get(name)?.port.state, name).toBe('open');
      expect((await healthOf(`receiver:${name}`))?.state).not.toBe('down');
    }
    expect(app.summary.some((l) => l.includes('desk') && l.includes('19200 7E1'))).toBe(true);
    expect(app.summary.some((l) => l.includes('night') && l.includes('9600 8N1'))).toBe(true);
  });

  it('a pendant alarm becomes an alarm, and the ACK is written only after the commit', async () => {
    const order: string[] = [];
    const off = app.bus.on('alarm.changed', ({ alarm }) => {
      if (alarm.sourceKey === '1234#001') order.push(`committed:${alarm.kind}`);
    });
    const onRecord = (r: SimRecord) => r.type === 'ack' && r.packet === 'event' && order.push('ack');
    desk.on('record', onRecord);
    // Hold a lock on the alarms table: the commit cannot happen until we let go.
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    const frames = await metric('anxin_frames_total', 'protocol="contactid"');
    const sent = desk.sendEvent(ev('1234', 'E', 101));
    await until('the gateway read the line', async () => (await metric('anxin_frames_total', 'protocol="contactid"')) > frames);
    await sleep(300);
    expect(order).toEqual([]); // neither committed nor acknowledged while the table is locked
    await blocker.query('COMMIT');
    await blocker.end();
    const r = await sent;
    off();
    desk.off('record', onRecord);
    expect(order).toEqual(['committed:sos', 'ack']);
    expect(r.attempts).toBe(1);
    const rows = await alarmsOf('1234#001');
    expect(rows).toMatchObject([{ kind: 'sos', priority: 1, count: 1, state: 'raised', zone: '001', device_id: dev['1234'] }]);
    expect(rows[0]!.elder_id).not.toBeNull();
  });

  it('heartbeats are ACKed without the registry', async () => {
    const hb = await desk.sendHeartbeat();
    expect(hb.acked).toBe(true);
    expect(await metric('anxin_receiver_lines_total', 'receiver="desk",line="heartbeat",answer="ack"')).toBeGreaterThanOrEqual(1);
    const list = await app.http.inject({ url: '/api/devices/unregistered', headers: auth });
    expect(list.json().map((x: { identifier: string }) => x.identifier)).not.toContain('receiver:01');
    expect((await healthOf('receiver:desk'))?.detail).toContain('receiver 01');
  });

  it("the device kind picks the alarm: a one-key caller's E101 is one_key_emergency", async () => {
    await desk.sendEvent(ev('2345', 'E', 101));
    expect(await alarmsOf('2345#001')).toMatchObject([{ kind: 'one_key_emergency', priority: 1, state: 'raised' }]);
  });

  it("the device meta's vendor picks the code table: Climax E102 is a fall, plain DC-05 E102 raises nothing", async () => {
    await desk.sendEvent(ev('3456', 'E', 102));
    expect(await alarmsOf('3456#001')).toMatchObject([{ kind: 'fall', priority: 1 }]);
    await desk.sendEvent(ev('5678', 'E', 102));
    expect(await alarmsOf('5678#001')).toEqual([]);
  });

  it('the receiver vendor applies to accounts whose device names none (lossy is climax)', async () => {
    await lossy.sendEvent(ev('5678', 'E', 102, 3));
    expect(await alarmsOf('5678#003')).toMatchObject([{ kind: 'fall' }]);
  });

  it('a restore does not close an operator alarm (sos): restore_received goes on its timeline', async () => {
    const [sos] = await alarmsOf('1234#001');
    await desk.sendEvent(ev('1234', 'R', 101));
    expect(await alarmsOf('1234#001')).toMatchObject([{ id: sos!.id, kind: 'sos', state: 'raised' }]);
    const events = await app.db.query('SELECT action FROM alarm_events WHERE alarm_id = $1 ORDER BY id', [sos!.id]);
    expect(events.rows.map((e) => e.action)).toContain('restore_received');
  });

  it('a restore clears a condition alarm: power cut (301) and low battery (384)', async () => {
    await desk.sendEvent(ev('1234', 'E', 301, 0, 0));
    expect(await alarmsOf('1234#000')).toMatchObject([{ kind: 'power_cut', priority: 3, state: 'raised' }]);
    await desk.sendEvent(ev('1234', 'R', 301, 0, 0));
    expect(await alarmsOf('1234#000')).toMatchObject([{ kind: 'power_cut', state: 'cleared' }]);

    await desk.sendEvent(ev('1234', 'E', 384, 2));
    expect(await alarmsOf('1234#002')).toMatchObject([{ kind: 'low_battery', priority: 4, state: 'raised' }]);
    await desk.sendEvent(ev('1234', 'R', 384, 2));
    expect(await alarmsOf('1234#002')).toMatchObject([{ kind: 'low_battery', state: 'cleared' }]);
  });

  it('a periodic test (E602) feeds the missed-test rule', async () => {
    const before = Date.now();
    await desk.sendEvent(ev('4567', 'E', 602, 0, 0));
    const after = Date.now();
    const H = 3_600_000;
    const missed = async (at: number) => (await app.rules.tick(new Date(at))).find((t) => t.identifier === '4567' && t.outcome.raise.some((x) => x.kind === 'test_missed'));
    // the test is the rule's new reference: nothing is missed until 24 h + 1 h grace after it
    expect(await missed(before + 25 * H - 60_000)).toBeUndefined();
    const t = await missed(after + 25 * H + 60_000);
    expect(t).toBeDefined();
    // commit it as the engine timer would, then the next periodic test clears it
    const raise = t!.outcome.raise.filter((x) => x.kind === 'test_missed');
    await app.alarms.commit(
      { deviceId: '4567', protocol: 'contactid', kind: 'status', receivedAt: new Date(), raw: `rules:test_missed:${Date.now()}` },
      { id: t!.deviceId, identifier: '4567', elderId: t!.elderId, protocol: 'contactid' },
      raise,
      [],
    );
    expect(await alarmsOf('4567')).toMatchObject([{ kind: 'test_missed', priority: 4, state: 'raised' }]);
    await desk.sendEvent(ev('4567', 'E', 602, 0, 0));
    expect(await alarmsOf('4567')).toMatchObject([{ kind: 'test_missed', state: 'cleared' }]);
  });

  it('a bad checksum (bare 16-digit form) and a garbled line get a NAK and raise nothing', async () => {
    const good = buildContactId({ account: '2345', qualifier: 'E', code: 101, group: 1, zone: 9 });
    const badDigit = good.endsWith('1') ? '2' : '1';
    const bad = good.slice(0, 15) + badDigit;
    const before = await metric('anxin_bad_frames_total', 'reason="bad_checksum"');
    expect((await desk.sendRaw(`${bad}\x14`, { corrupted: true })).reply).toBe('nak');
    expect(await metric('anxin_bad_frames_total', 'reason="bad_checksum"')).toBe(before + 1);
    expect((await desk.sendCorrupted(ev('2345', 'E', 101, 9), 'garble')).reply).toBe('nak');
    expect(await alarmsOf('2345#009')).toEqual([]);
    // the same message with its right check digit is accepted
    expect((await desk.sendRaw(`${good}\x14`)).reply).toBe('ack');
    expect(await alarmsOf('2345#009')).toMatchObject([{ kind: 'one_key_emergency', count: 1 }]);
  });

  it('a NAKed line is retransmitted by the receiver and then accepted', async () => {
    const r = await desk.sendEvent(ev('7890', 'E', 101, 4), { corruptFirst: 'noise' });
    expect(r.attempts).toBe(2);
    expect(await alarmsOf('7890#004')).toMatchObject([{ kind: 'sos', count: 1 }]);
  });

  it('a lost ACK: the receiver retransmits, and the retransmission is one alarm, not two', async () => {
    const dups = await metric('anxin_duplicate_messages_total', 'protocol="contactid"');
    relay.dropAcks = 1;
    const r = await lossy.sendEvent(ev('7890', 'E', 101));
    expect(relay.acksDropped).toBe(1);
    expect(r.attempts).toBe(2);
    expect(lossy.transmissions.filter((t) => t.data === '5011 187890E10101001\x14')).toHaveLength(2);
    expect(await alarmsOf('7890#001')).toMatchObject([{ kind: 'sos', count: 1, state: 'raised' }]);
    expect(await metric('anxin_duplicate_messages_total', 'protocol="contactid"')).toBe(dups + 1);
  });

  it('a slow commit: the receiver retransmits meanwhile; only the newest copy is answered, so no stray ACK', async () => {
    const stale = await metric('anxin_receiver_lines_total', 'receiver="lossy",line="event",answer="stale"');
    const line = '5011 187890E10101006\x14';
    const copies = () => lossy.transmissions.filter((t) => t.data === line).length;
    const blocker = new pg.Client({ connectionString: app.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE alarms IN EXCLUSIVE MODE');
    let sent: ReturnType<typeof lossy.sendEvent>;
    try {
      sent = lossy.sendEvent(ev('7890', 'E', 101, 6));
      // the receiver's 400 ms ACK timeout passes while the first copy waits for the lock
      await until('the receiver retransmitted', () => copies() >= 2);
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }
    const r = await sent;
    expect(r.attempts).toBeGreaterThanOrEqual(2);
    expect(await alarmsOf('7890#006')).toMatchObject([{ kind: 'sos', count: 1 }]);
    // every copy but the last went unanswered; an answer to an older copy would have reached the receiver as a
    // stray byte (or, worse, as the ACK of its next line)
    expect(await metric('anxin_receiver_lines_total', 'receiver="lossy",line="event",answer="stale"')).toBe(stale + r.attempts - 1);
    const hb = await lossy.sendHeartbeat();
    expect(hb).toMatchObject({ acked: true, attempts: 1 });
    expect(lossy.records.filter((x) => x.type === 'rx')).toEqual([]);
  });

  it('an unknown account is ACKed (never retransmitted forever), counted and listed as awaiting registration', async () => {
    const before = await metric('anxin_unknown_device_frames_total', 'protocol="contactid"');
    const r = await desk.sendEvent(ev('9999', 'E', 101));
    expect(r.attempts).toBe(1);
    expect(await metric('anxin_unknown_device_frames_total', 'protocol="contactid"')).toBe(before + 1);
    expect(await metric('anxin_receiver_lines_total', 'receiver="desk",line="unknown_account",answer="ack"')).toBe(1);
    const list = await app.http.inject({ url: '/api/devices/unregistered', headers: auth });
    expect(list.json()).toEqual(expect.arrayContaining([expect.objectContaining({ identifier: '9999', protocol: 'contactid', remote: 'serial:desk' })]));
    expect(await alarmsOf('9999#001')).toEqual([]);
  });

  it('an account registered under another protocol is ACKed and ignored, never raised on that device', async () => {
    await registerDevice(app.db, { identifier: '8888', protocol: 'watch' });
    const before = await metric('anxin_bad_frames_total', 'reason="wrong_protocol"');
    const r = await desk.sendEvent(ev('8888', 'E', 101));
    expect(r.attempts).toBe(1);
    expect(await metric('anxin_bad_frames_total', 'reason="wrong_protocol"')).toBe(before + 1);
    expect(await alarmsOf('8888#001')).toEqual([]);
    expect(await alarmsOf('8888')).toEqual([]);
  });

  it('receiver-silent supervision: two heartbeat periods without a line raise receiver_silent (P4); a line clears it', async () => {
    let beating = true;
    const beat = async () => {
      while (beating) {
        await night.sendHeartbeat().catch(() => undefined);
        await sleep(250);
      }
    };
    const open = async () => (await alarmsOf('receiver:night')).filter((a) => a.state !== 'cleared' && a.state !== 'closed');
    // silent since the app started: heartbeats clear that
    let loop = beat();
    await until('night is up', async () => (await healthOf('receiver:night'))?.state === 'up' && (await open()).length === 0);

    beating = false;
    await loop;
    const [raised] = await until('receiver_silent raised', async () => {
      const a = await open();
      return a.length ? a : undefined;
    });
    expect(raised).toMatchObject({ kind: 'receiver_silent', priority: 4, device_id: null, elder_id: null });
    expect(await healthOf('receiver:night')).toMatchObject({ state: 'degraded' });
    expect((await app.http.inject({ url: '/healthz' })).json().parts['receiver:night'].detail).toContain('silent');

    beating = true;
    loop = beat();
    await until('receiver_silent cleared', async () => (await alarmsOf('receiver:night')).find((a) => a.id === raised!.id && a.state === 'cleared'));
    expect(await open()).toEqual([]);
    await until('night is up again', async () => (await healthOf('receiver:night'))?.state === 'up');
    beating = false;
    await loop;
  });

  it('the port disappears and comes back: the transport reopens it by itself', async () => {
    const r = app.receivers.get('night')!;
    const lostBefore = await metric('anxin_receiver_port_events_total', 'receiver="night",event="lost"');
    // unplug: the receiver side goes away, then socat and its links
    await night.close();
    await nightPty.close();
    await until('the port is seen gone', () => r.port.state !== 'open');
    expect((await healthOf('receiver:night'))?.state).toBe('down');
    expect(await metric('anxin_receiver_port_events_total', 'receiver="night",event="lost"')).toBe(lostBefore + 1);

    // plug back in at the same path
    nightPty = await createPtyPair({ dir: nightDir });
    cleanup.push(() => nightPty.close());
    await until('the port is reopened', () => r.port.state === 'open', 40_000);
    night = await openSim(nightPty.a, { baudRate: 9600, dataBits: 8, parity: 'none' });
    const sent = await night.sendEvent(ev('1234', 'E', 101, 5));
    expect(sent.attempts).toBe(1);
    expect(await alarmsOf('1234#005')).toMatchObject([{ kind: 'sos', state: 'raised' }]);
    await until('night is up after the replug', async () => (await healthOf('receiver:night'))?.state === 'up');
  });
});
