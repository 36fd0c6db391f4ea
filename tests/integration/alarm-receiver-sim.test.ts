/**
 * The simulated alarm receiver over a real pty pair (socat), with this test playing the automation software:
 * it opens the other end with `serialport`, frames lines on DC4, and answers ACK / NAK / nothing.
 */
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { ReceiverFramer, parseReceiverLine, type ReceiverLine } from '../../protocols/contactid/index.ts';
import { createPtyPair, findSocat, type PtyPair } from '../../simulators/alarm-receiver/pty.ts';
import { SimulatedReceiver, type SimRecord, type SimulatedReceiverOptions } from '../../simulators/alarm-receiver/receiver.ts';
import { until } from '../helpers/until.ts';

const socat = findSocat();
const inCI = process.env.CI === 'true';
const skip = socat === null && !inCI;
if (skip) console.warn('skipping alarm-receiver simulator tests: socat is not installed (apt-get install socat)');

type Reply = 'ack' | 'nak' | 'silent';

interface SeenLine {
  at: number;
  text: string;
  parsed: ReceiverLine;
  reply: Reply;
}

/** The automation computer's side of the serial link. */
class Automation {
  readonly lines: SeenLine[] = [];
  readonly framer = new ReceiverFramer();
  policy: (l: SeenLine, index: number) => Reply = () => 'ack';
  private waiters: { n: number; pred: (l: SeenLine) => boolean; resolve: () => void }[] = [];

  private constructor(readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static async open(path: string, settings: Partial<{ baudRate: number; dataBits: 7 | 8; parity: 'none' | 'even'; stopBits: 1 | 2 }> = {}): Promise<Automation> {
    const port = new SerialPort({ path, baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1, ...settings, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new Automation(port);
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.framer.push(chunk)) {
      if (!('frame' in ev)) continue;
      const text = ev.frame.toString('latin1');
      const l: SeenLine = { at: Date.now(), text, parsed: parseReceiverLine(ev.frame), reply: 'silent' };
      l.reply = this.policy(l, this.lines.length);
      this.lines.push(l);
      if (l.reply === 'ack') this.port.write(Buffer.from([0x06]));
      if (l.reply === 'nak') this.port.write(Buffer.from([0x15]));
      this.check();
    }
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.lines.filter(w.pred).length >= w.n) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /** resolves once `n` lines matching `pred` have arrived */
  waitFor(n: number, pred: (l: SeenLine) => boolean = () => true, timeoutMs = 5000): Promise<SeenLine[]> {
    return new Promise<SeenLine[]>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} line(s); got ${JSON.stringify(this.lines.map((l) => l.text))}`)), timeoutMs);
      this.waiters.push({
        n,
        pred,
        resolve: () => {
          clearTimeout(t);
          resolve(this.lines.filter(pred));
        },
      });
      this.check();
    });
  }

  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

const isEvent = (l: SeenLine) => l.parsed.type === 'event' || (l.parsed.type === 'invalid' && l.text.startsWith('5'));
const isHeartbeat = (l: SeenLine) => l.parsed.type === 'heartbeat';

describe('socat for the pty tests', () => {
  it.runIf(inCI)('is installed in CI', () => {
    expect(socat, 'CI=true but socat is missing: the alarm-receiver simulator tests cannot run').not.toBeNull();
  });
});

describe.skipIf(skip)(`simulated alarm receiver over a pty pair${skip ? ' (skipped: socat missing)' : ''}`, () => {
  const cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  async function setup(simOpts: Omit<SimulatedReceiverOptions, 'path'> = {}, autoSettings?: Parameters<typeof Automation.open>[1]) {
    const pty: PtyPair = await createPtyPair();
    cleanup.push(() => pty.close());
    const auto = await Automation.open(pty.b, autoSettings);
    cleanup.push(() => auto.close());
    const sim = await SimulatedReceiver.open({ path: pty.a, heartbeatMs: 0, ...simOpts });
    cleanup.push(() => sim.close());
    return { pty, auto, sim };
  }

  it('a pendant alarm line arrives in the MLR2 form and is ACKed', async () => {
    const { auto, sim } = await setup();
    const r = await sim.sendEvent({ account: '1234', qualifier: 'E', code: 101, group: 1, zone: 1 });
    expect(r.attempts).toBe(1);
    expect(r.line).toBe('5011 181234E10101001\x14');
    expect(r.ackedAt.getTime()).toBeGreaterThanOrEqual(r.sentAt.getTime());
    expect(auto.lines.map((l) => l.text)).toEqual(['5011 181234E10101001']);
    expect(auto.lines[0]!.parsed).toMatchObject({ type: 'event', form: 'mlr2', receiver: '01', line: '1', account: '1234', qualifier: 'E', code: '101', group: '01', zone: '001' });
    expect(sim.records.map((x) => x.type)).toEqual(['open', 'tx', 'ack']);
  });

  it('the SG form with a 3-digit line', async () => {
    const { auto, sim } = await setup({ form: 'sg', line: '100' });
    await sim.sendEvent({ account: '1234', qualifier: 'R', code: '101', group: '01', zone: '001' });
    await sim.sendHeartbeat();
    expect(auto.lines.map((l) => l.text)).toEqual(['501100 181234R10101001', '101000           @    ']);
    expect(parseReceiverLine(auto.lines[0]!.text, { lineWidth: 3 })).toMatchObject({ type: 'event', form: 'sg', line: '100', qualifier: 'R' });
    expect(auto.lines[1]!.parsed).toMatchObject({ type: 'heartbeat', receiver: '01', line: '000' });
  });

  it('no ACK: retransmitted 3 more times, then buffered; resumes at the first ACKed heartbeat', async () => {
    const { auto, sim } = await setup({ ackTimeoutMs: 200, heartbeatMs: 300 });
    let answering = false;
    auto.policy = () => (answering ? 'ack' : 'silent');
    const offline = new Promise<void>((resolve) => sim.on('record', (r: SimRecord) => r.type === 'offline' && resolve()));

    const pending = sim.sendEvent({ account: '1234', qualifier: 'E', code: '101' });
    const tries = await auto.waitFor(4, isEvent, 3000);
    await offline;
    expect(sim.online).toBe(false);
    expect(sim.buffered).toBe(1);
    // the four transmissions are the same line, about ackTimeoutMs apart
    expect(new Set(tries.map((l) => l.text))).toEqual(new Set(['5011 181234E10101001']));
    for (let i = 1; i < 4; i++) expect(tries[i]!.at - tries[i - 1]!.at).toBeGreaterThanOrEqual(150);

    // nothing more is sent for the buffered event while offline: only heartbeats (the first one is the
    // receiver's next transmission after it went offline)
    await auto.waitFor(1, isHeartbeat, 3000);
    expect(auto.lines.filter(isEvent)).toHaveLength(4);
    expect(auto.lines.filter(isHeartbeat).length).toBeGreaterThanOrEqual(1);

    answering = true;
    const r = await pending;
    expect(sim.online).toBe(true);
    expect(r.attempts).toBe(5);
    const texts = auto.lines.map((l) => (isHeartbeat(l) ? 'HB' : l.text));
    // the event's 5th transmission follows the first ACKed heartbeat
    const firstAckedHb = auto.lines.findIndex((l) => isHeartbeat(l) && l.reply === 'ack');
    expect(firstAckedHb).toBeGreaterThan(3);
    expect(texts[firstAckedHb + 1]).toBe('5011 181234E10101001');
    expect(sim.records.filter((x) => x.type === 'gave_up' && x.packet === 'event')).toHaveLength(1);
    expect(sim.records.some((x) => x.type === 'online')).toBe(true);
  });

  it('a heartbeat with no ACK is also retried, then the link goes offline', async () => {
    const { auto, sim } = await setup({ ackTimeoutMs: 100 });
    auto.policy = () => 'silent';
    const hb = await sim.sendHeartbeat();
    expect(hb).toMatchObject({ acked: false, attempts: 4 });
    expect(auto.lines.filter(isHeartbeat)).toHaveLength(4);
    expect(sim.online).toBe(false);
  });

  it('NAK triggers a retransmission at once', async () => {
    // With a 60 s ACK timeout, finishing at all proves the NAK (not the timeout) caused the retransmission.
    const { auto, sim } = await setup({ ackTimeoutMs: 60_000 });
    auto.policy = (_l, i) => (i === 0 ? 'nak' : 'ack');
    const r = await sim.sendEvent({ account: '5678', qualifier: 'E', code: '100', group: '01', zone: '002' });
    expect(r.attempts).toBe(2);
    expect(auto.lines.map((l) => l.text)).toEqual(['5011 185678E10001002', '5011 185678E10001002']);
    expect(sim.records.map((x) => x.type)).toEqual(['open', 'tx', 'nak', 'tx', 'ack']);
  });

  it('four NAKs in a row: the event is buffered', async () => {
    const { auto, sim } = await setup({ ackTimeoutMs: 3000 });
    auto.policy = () => 'nak';
    const offline = new Promise<void>((resolve) => sim.on('record', (r: SimRecord) => r.type === 'offline' && resolve()));
    void sim.sendEvent({ account: '5678', qualifier: 'E', code: '100' }).catch(() => undefined);
    await auto.waitFor(4, isEvent);
    // the fourth NAK ends the round: the receiver goes offline and buffers the event instead of a fifth copy
    await offline;
    expect(auto.lines).toHaveLength(4);
    expect(sim.online).toBe(false);
    expect(sim.buffered).toBe(1);
  });

  it('heartbeat cadence', async () => {
    const { auto, sim } = await setup({ heartbeatMs: 150 });
    await auto.waitFor(3, isHeartbeat, 5000);
    // every heartbeat seen so far has been acknowledged (the receiver has recorded the ACK of the last one)
    const acked = () => sim.records.filter((x) => x.type === 'ack' && x.packet === 'heartbeat').length;
    await until(() => acked() === auto.lines.filter(isHeartbeat).length);
    const hbs = auto.lines.filter(isHeartbeat);
    // Counts, not timings: a loaded CI machine may stretch the gaps.
    expect(hbs.length).toBeGreaterThanOrEqual(3);
    for (const h of hbs) expect(h.text).toBe('1011           @    ');
    expect(sim.records.filter((x) => x.type === 'ack' && x.packet === 'heartbeat')).toHaveLength(hbs.length);
  });

  it('corrupted line injection: the automation side NAKs it and gets the clean retransmission', async () => {
    const { auto, sim } = await setup({ ackTimeoutMs: 2000 });
    auto.policy = (l) => (l.parsed.type === 'invalid' ? 'nak' : 'ack');
    for (const how of ['garble', 'truncate', 'noise'] as const) {
      const before = auto.lines.length;
      const r = await sim.sendEvent({ account: '1234', qualifier: 'E', code: '101' }, { corruptFirst: how });
      expect(r.attempts, how).toBe(2);
      const [bad, good] = auto.lines.slice(before);
      expect(bad!.parsed.type, `${how}: ${JSON.stringify(bad!.text)}`).toBe('invalid');
      expect(good!.text).toBe('5011 181234E10101001');
    }
    const raw = await sim.sendCorrupted({ account: '1234', qualifier: 'E', code: '101' }, 'garble');
    expect(raw.reply).toBe('nak');
    expect(sim.transmissions.filter((t) => t.corrupted)).toHaveLength(4);
    // a corrupted line sent with sendRaw is not retransmitted
    expect(auto.lines).toHaveLength(7);
  });

  it('a line that loses its DC4 runs into the next one; the automation side NAKs the merged line', async () => {
    const { auto, sim } = await setup({ ackTimeoutMs: 300 });
    auto.policy = (l) => (l.parsed.type === 'invalid' ? 'nak' : 'ack');
    const r = await sim.sendEvent({ account: '1234', qualifier: 'E', code: '101' }, { corruptFirst: 'no-terminator' });
    // first copy has no DC4: nothing framed, so no answer → timeout → the clean copy is glued to it → NAK → clean again
    expect(r.attempts).toBe(3);
    expect(auto.lines.map((l) => l.reply)).toEqual(['nak', 'ack']);
  });

  it('serialport accepts receiver serial settings on a pty (7E1 19200, 8N1 9600) and bytes pass unchanged', async () => {
    const { auto, sim } = await setup({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }, { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    await sim.sendEvent({ account: 'B2C4', qualifier: 'P', code: '602', group: '00', zone: '000' });
    expect(auto.lines[0]!.text).toBe('5011 18B2C4P60200000');
    await new Promise<void>((resolve, reject) => auto.port.update({ baudRate: 19200 }, (err) => (err ? reject(err) : resolve())));
    await sim.sendHeartbeat();
    expect(auto.lines).toHaveLength(2);

    const pty = await createPtyPair();
    cleanup.push(() => pty.close());
    for (const path of [pty.a, pty.b]) {
      const p = new SerialPort({ path, baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1, autoOpen: false });
      await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
      cleanup.push(() => new Promise<void>((resolve) => p.close(() => resolve())));
      expect(p.isOpen).toBe(true);
      expect(p.settings).toMatchObject({ baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1 });
    }
  });
});
