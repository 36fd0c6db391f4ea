/**
 * The GSM modem transport (sms/modem/) against the simulated modem (simulators/modem/) over a real pty pair
 * (socat): init, concatenated UCS2 sends reassembled by the modem, +CDS status reports (and +CDSI stored ones, ST 00,
 * 46, 62), +CMTI → +CMGR inbound,
 * CMS errors and silence reported as failures, URCs around the prompt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ModemSender, type ModemOptions } from '../../sms/modem/modem.ts';
import type { SmsInbound, SmsReceipt } from '../../sms/port.ts';
import { createPtyPair, findSocat, type PtyPair } from '../../simulators/alarm-receiver/pty.ts';
import { SimulatedModem, type SimModemOptions } from '../../simulators/modem/modem.ts';
import { until } from '../helpers/until.ts';

const socat = findSocat();
const inCI = process.env.CI === 'true';
const skip = socat === null && !inCI;
if (skip) console.warn('skipping SMS modem tests: socat is not installed (apt-get install socat)');

const LONG = '老人跌倒报警请立即处理'.repeat(14).slice(0, 150);

let pty: PtyPair | undefined;
let sim: SimulatedModem | undefined;
let sender: ModemSender | undefined;

afterEach(async () => {
  await sender?.stop();
  await sim?.close();
  await pty?.close();
  sender = sim = pty = undefined;
});

async function setup(s: Partial<SimModemOptions> = {}, m: Partial<ModemOptions> = {}) {
  pty = await createPtyPair();
  sim = new SimulatedModem({ path: pty.a, ...s });
  await sim.open();
  sender = new ModemSender({ path: pty.b, reconnectFirstMs: 100, reconnectMaxMs: 500, ...m });
  const receipts: SmsReceipt[] = [];
  const inbound: SmsInbound[] = [];
  sender.onReceipt((r) => receipts.push(r));
  sender.onInbound((x) => inbound.push(x));
  await sender.start();
  await sender.whenUp(10_000);
  return { sim, sender, receipts, inbound };
}

describe.skipIf(skip)('GSM modem transport through the simulated modem', () => {
  it('initialises in PDU mode with +CMTI/+CDS routing', async () => {
    const { sim } = await setup();
    expect(sim.cmgf).toBe(0);
    expect(sim.cnmiMt).toBe(1);
    expect(sim.cnmiDs).toBe(1);
    expect(sim.echo).toBe(false);
  });

  it('a 150-character Chinese text goes as 3 parts, the modem reassembles it, and +CDS reports deliver the ref', async () => {
    const { sim, sender, receipts } = await setup();
    const r = await sender.send({ to: '13800138000', text: LONG, ref: 'msg-1' });
    expect(r.parts).toBe(3);
    const m = await until(() => sim.messages[0]);
    expect(m).toMatchObject({ to: '+8613800138000', text: LONG, parts: 3 });
    expect(sim.submits.every((s) => s.dcs === 8 && s.statusReport && s.firstOctet === 0x71)).toBe(true);
    await until(() => receipts.length === 3);
    expect(receipts.every((x) => x.ref === 'msg-1' && x.state === 'delivered')).toBe(true);
    expect(receipts.at(-1)!.messageState).toBe('delivered');
  });

  it('an expired report (TP-ST 0x46) marks the ref expired', async () => {
    const { sender, receipts } = await setup({ reportStatus: 0x46 });
    await sender.send({ to: '+8613800138000', text: '你好', ref: 'msg-2' });
    await until(() => receipts.length === 1);
    expect(receipts[0]).toMatchObject({ ref: 'msg-2', state: 'expired', final: true, error: 'st-0x46' });
  });

  it('a module that cannot push reports (CNMI ds=1 refused): reports stored, announced by +CDSI, read and deleted', async () => {
    const { sim, sender, receipts } = await setup({ storedReports: true, reportStatus: 0x00 });
    expect(sim.cnmiDs).toBe(2); // the fallback mode
    await sender.send({ to: '13800138000', text: '已派护士上门', ref: 'msg-cdsi' });
    await until(() => receipts.length === 1);
    expect(receipts[0]).toMatchObject({ ref: 'msg-cdsi', state: 'delivered', final: true });
    await until(() => sim.stored === 0); // read with AT+CMGR, then deleted
    expect(sim.commands.some((c) => /^AT\+CMGR=\d+$/.test(c))).toBe(true);
  });

  it('a report that fails in the network (TP-ST 0x62, the SC stopped trying) is final', async () => {
    const { sender, receipts } = await setup({ reportStatus: 0x62 });
    await sender.send({ to: '13800138000', text: '你好', ref: 'msg-62' });
    await until(() => receipts.length === 1);
    expect(receipts[0]).toMatchObject({ ref: 'msg-62', final: true });
    expect(receipts[0]!.state).not.toBe('delivered');
  });

  it('an inbound "1" and a concatenated reply (out of order, one part repeated) reach the callback; stored copies are deleted', async () => {
    const { sim, inbound } = await setup();
    sim.injectInbound('+8613912345678', '1');
    await until(() => inbound.length === 1);
    expect(inbound[0]).toMatchObject({ from: '+8613912345678', text: '1' });
    sim.injectInbound('+8613912345678', LONG, { reverse: true, duplicate: true });
    await until(() => inbound.length === 2);
    expect(inbound[1]).toMatchObject({ from: '+8613912345678', text: LONG });
    await until(() => sim.stored === 0);
    expect(inbound).toHaveLength(2);
  });

  it('messages stored while the gateway was away are swept at init', async () => {
    pty = await createPtyPair();
    sim = new SimulatedModem({ path: pty.a });
    await sim.open();
    sim.injectInbound('13912345678', '2'); // no +CMTI yet: CNMI not set
    sender = new ModemSender({ path: pty.b });
    const inbound: SmsInbound[] = [];
    sender.onInbound((x) => inbound.push(x));
    await sender.start();
    await until(() => inbound.length === 1);
    expect(inbound[0]).toMatchObject({ from: '+8613912345678', text: '2' });
  });

  it('+CMS ERROR and ERROR are failures (final for CMS 21, not for 500, 38, 41, 42 or ERROR), and the next send works', async () => {
    const { sim, sender } = await setup();
    sim.failNextSends(1, 500);
    await expect(sender.send({ to: '13800138000', text: '失败', ref: 'a' })).rejects.toMatchObject({ code: 'cms-500', final: false });
    sim.failNextSends(1, 21);
    await expect(sender.send({ to: '13800138000', text: '失败', ref: 'b' })).rejects.toMatchObject({ code: 'cms-21', final: true });
    sim.failNextSends(1, 'ERROR');
    await expect(sender.send({ to: '13800138000', text: '失败', ref: 'c' })).rejects.toMatchObject({ code: 'error', final: false });
    // the network's faults (B10: 38 out of order, 41 temporary, 42 congestion) are worth another try
    for (const cms of [38, 41, 42]) {
      sim.failNextSends(1, cms);
      await expect(sender.send({ to: '13800138000', text: '失败', ref: `n${cms}` })).rejects.toMatchObject({ code: `cms-${cms}`, final: false });
    }
    await expect(sender.send({ to: '13800138000', text: '成功', ref: 'd' })).resolves.toMatchObject({ parts: 1 });
  });

  it('no answer after the PDU is a timeout failure, not a hang, and the modem stays usable', async () => {
    const { sim, sender } = await setup({}, { sendTimeoutMs: 500 });
    sim.silenceNextSends(1);
    await expect(sender.send({ to: '13800138000', text: '无应答', ref: 'a' })).rejects.toMatchObject({ code: 'timeout', final: false });
    await expect(sender.send({ to: '13800138000', text: '再试', ref: 'b' })).resolves.toMatchObject({ parts: 1 });
    expect(sim.messages.at(-1)?.text).toBe('再试');
  });

  it('URCs between AT+CMGS and the prompt, and between the prompt and +CMGS:, do not disturb a send', async () => {
    const { sim, sender } = await setup();
    sim.interleaveUrcs();
    await sender.send({ to: '13800138000', text: LONG, ref: 'u' });
    await until(() => sim.messages[0]);
    expect(sim.messages[0]!.text).toBe(LONG);
  });

  it('no SIM: the transport stays down and says why; an empty SMSC address fails sends with CMS 330', async () => {
    pty = await createPtyPair();
    sim = new SimulatedModem({ path: pty.a, sim: 'none' });
    await sim.open();
    sender = new ModemSender({ path: pty.b, reconnectFirstMs: 100, reconnectMaxMs: 200 });
    const reasons: string[] = [];
    sender.onState((st, why) => reasons.push(`${st}:${why}`));
    await sender.start();
    await until(() => reasons.length > 0);
    expect(reasons[0]).toBe('down:init-CME-10');
    expect(sender.state).toBe('down');
    await expect(sender.send({ to: '13800138000', text: 'x', ref: 'a' })).rejects.toMatchObject({ code: 'modem-down', final: false });
    await sender.stop();
    await sim.close();
    await pty.close();

    const s2 = await setup();
    s2.sim.csca = '';
    await expect(s2.sender.send({ to: '13800138000', text: 'x', ref: 'b' })).rejects.toMatchObject({ code: 'cms-330', final: false });
  });

  it('a modem reset (RDY) makes the sender initialise again', async () => {
    const { sim, sender } = await setup();
    const states: string[] = [];
    sender.onState((s) => states.push(s));
    sim.reset();
    await until(() => states.includes('down') && sender.state === 'up');
    expect(sim.cnmiMt).toBe(1);
  });
});
